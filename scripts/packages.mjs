// The packages this repository publishes (every `packages/*` folder whose package.json is not
// private), and packing them as npm would for the registry. Shared by `npm run pack`, the package
// checks and the consumer test, so a new package under packages/ is included everywhere at once.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const root = new URL('..', import.meta.url).pathname;

/** `{ name, dir, manifest }` of each published package, in folder order. */
export function publishedPackages() {
  const base = join(root, 'packages');
  return readdirSync(base)
    .map((folder) => join(base, folder))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => !manifest.private)
    .map(({ dir, manifest }) => ({ name: manifest.name, dir, manifest }));
}

/**
 * Pack every published package into `destination` (built beforehand: `tsc -b`) and return
 * `{ name, dir, manifest, tarball }` for each. One `npm pack` for all of them.
 */
export function packAll(destination) {
  const packages = publishedPackages();
  const args = ['pack', '--json', '--ignore-scripts', '--pack-destination', destination];
  for (const { dir } of packages) args.push('--workspace', dir);
  const run = spawnSync('npm', args, { cwd: root, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`npm pack failed:\n${run.stderr}`);
  const packed = JSON.parse(run.stdout);
  return packages.map((pkg) => {
    const entry = packed.find((p) => p.name === pkg.name);
    if (!entry) throw new Error(`npm pack did not pack ${pkg.name}`);
    return { ...pkg, tarball: join(destination, entry.filename), files: entry.files.map((f) => f.path) };
  });
}
