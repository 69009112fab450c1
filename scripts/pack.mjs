#!/usr/bin/env node
// `npm run pack`: build every package from scratch and pack each into `packed/`, the tarballs an
// application installs before the packages are on the registry (docs/guide/getting-started.md).
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { packAll, root } from './packages.mjs';

const tsc = join(root, 'node_modules', '.bin', 'tsc');
for (const args of [['-b', '--clean'], ['-b']]) {
  if (spawnSync(tsc, args, { cwd: root, stdio: 'inherit' }).status !== 0) process.exit(1);
}
const destination = join(root, 'packed');
mkdirSync(destination, { recursive: true });
for (const { name, tarball } of packAll(destination)) console.log(`${name}: ${relative(process.cwd(), tarball)}`);
