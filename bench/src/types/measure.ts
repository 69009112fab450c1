/** Type-checks a generated program with `tsc --extendedDiagnostics` and reads its counters. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** What `tsc --extendedDiagnostics` reports for one program. */
export interface TypeCost {
  readonly instantiations: number;
  readonly types: number;
  readonly checkSeconds: number;
  readonly totalSeconds: number;
  readonly memoryKB: number;
  /** The compiler's errors, if the program did not compile (it must). */
  readonly errors: string;
}

const root = new URL('../../..', import.meta.url).pathname;
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

function counter(output: string, label: string): number {
  const line = new RegExp(`^${label}:\\s+([\\d.]+)(K|s)?`, 'm').exec(output);
  if (line === null) throw new Error(`tsc --extendedDiagnostics printed no "${label}":\n${output}`);
  return Number(line[1]);
}

/** Checks the program in `dir` (a `tsconfig.json` there); throws if tsc fails to run. */
export function measure(dir: string): TypeCost {
  const run = spawnSync(process.execPath, [tsc, '-p', dir, '--extendedDiagnostics'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const output = run.stdout + run.stderr;
  const errors = output
    .split('\n')
    .filter((l) => /error TS\d+/.test(l))
    .join('\n');
  return {
    instantiations: counter(output, 'Instantiations'),
    types: counter(output, 'Types'),
    checkSeconds: counter(output, 'Check time'),
    totalSeconds: counter(output, 'Total time'),
    memoryKB: counter(output, 'Memory used'),
    errors,
  };
}
