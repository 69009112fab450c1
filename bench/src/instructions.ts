/**
 * `npm run bench:instructions [-- --only b1,a10 --ops 100000]`: machine instructions per operation
 * for each row of the chosen cases, counted by valgrind's callgrind. Unlike times on a small shared
 * machine, these counts repeat within about 1 % from run to run, so they settle small differences
 * that the timed bench reads as noise. They do not see memory stalls or write barriers' cache
 * misses: use them beside `npm run bench`, never instead of it.
 * @module
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { allCases } from './catalog.js';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string', default: 'b1' },
    ops: { type: 'string', default: '100000' },
  },
});
const ops = Number(args.ops);
if (!Number.isInteger(ops) || ops < 1000)
  throw new Error(`--ops ${args.ops} is not a whole number of at least 1000: pass e.g. --ops 100000`);

try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
} catch {
  console.error('valgrind is not installed: install it (apt-get install valgrind) to count instructions.');
  process.exit(1);
}

const counter = fileURLToPath(new URL('./count.js', import.meta.url));

/** Instructions callgrind counts for one run of count.js. */
function count(caseId: string, rowName: string, times: number): number {
  const run = spawnSync(
    'valgrind',
    [
      '--tool=callgrind',
      '--callgrind-out-file=/dev/null',
      process.execPath,
      // One thread, no concurrent compilation or GC helpers: the same work in the same order each run.
      '--single-threaded',
      '--predictable',
      counter,
      caseId,
      rowName,
      String(times),
    ],
    { encoding: 'utf8' },
  );
  const collected = /Collected : (\d+)/.exec(run.stderr);
  if (run.status !== 0 || collected === null)
    throw new Error(`counting ${caseId} '${rowName}' failed (exit ${run.status}):\n${run.stderr.slice(-2000)}`);
  return Number(collected[1]);
}

const only = args.only.split(',');
const chosen = (await allCases()).filter((c) => only.includes(c.id));
if (chosen.length === 0) throw new Error(`--only ${args.only} names no case: pass ids such as b1,a10,c`);

for (const c of chosen) {
  console.log(`\n### ${c.title}: instructions per operation (${ops.toLocaleString('en')} operations)\n`);
  console.log('| row | instructions | ÷ limit |\n| --- | ---: | ---: |');
  let limit: number | undefined;
  for (const row of c.rows) {
    const perOp = (count(c.id, row.name, ops) - count(c.id, row.name, 0)) / ops;
    if (row.kind === 'limit') limit ??= perOp;
    const ratio = limit === undefined ? '—' : `${(perOp / limit).toFixed(2)}×`;
    console.log(`| ${row.name} | ${Math.round(perOp).toLocaleString('en')} | ${ratio} |`);
  }
}
