/**
 * Where generated programs are written: under `node_modules/.cache`, so that `@herald/core` and
 * emittery resolve as they do for an application, and lint, format and git never see them. One
 * folder per process, removed when done, so concurrent runs do not meet.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../../..', import.meta.url).pathname;

/** A fresh folder for this process's programs, and a function that removes it. */
export function workDir(label: string): { dir: (name: string) => string; remove: () => void } {
  const base = join(root, 'node_modules', '.cache', 'herald-bench-types', `${label}-${process.pid}`);
  return { dir: (name) => join(base, name), remove: () => rmSync(base, { recursive: true, force: true }) };
}
