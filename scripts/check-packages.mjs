#!/usr/bin/env node
// Check each published package as the registry would receive it: pack it (after `tsc -b`), then
// on the tarball: the LICENSE is in it and is the repository's, `publint --strict` (package.json
// against the files: exports, types, files, sideEffects…) and `attw` (Are the Types Wrong?: every
// entry point resolves to types under node16 and bundler resolution; ESM-only, so `esm-only`).
// Exits non-zero on the first kind of problem in any package, naming it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packAll, root } from './packages.mjs';

const bin = (name) => join(root, 'node_modules', '.bin', name);
const destination = mkdtempSync(join(tmpdir(), 'herald-pack-'));
let problems = 0;

function run(label, command, args) {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8' });
  if (result.status === 0) return;
  problems++;
  console.error(`✘ ${label}\n${result.stdout}${result.stderr}`);
}

try {
  const license = readFileSync(join(root, 'LICENSE'), 'utf8');
  for (const pkg of packAll(destination)) {
    console.log(`${pkg.name}: ${pkg.files.length} files`);
    const ownLicense = join(pkg.dir, 'LICENSE');
    if (!pkg.files.includes('LICENSE') || readFileSync(ownLicense, 'utf8') !== license) {
      problems++;
      console.error(
        `✘ ${pkg.name}: its tarball needs the repository's LICENSE: cp LICENSE ${ownLicense.slice(root.length)}`,
      );
    }
    run(`${pkg.name}: publint`, bin('publint'), ['run', pkg.tarball, '--strict', '--level', 'warning']);
    run(`${pkg.name}: attw`, bin('attw'), [pkg.tarball, '--profile', 'esm-only', '--format', 'ascii', '--no-color']);
  }
} finally {
  rmSync(destination, { recursive: true, force: true });
}
if (problems > 0) {
  console.error(`${problems} packaging problem(s)`);
  process.exit(1);
}
console.log('every package passes publint and attw');
