/**
 * `npm run bench:instructions [-- --only b1,a10 --ops 100000 --write]`: machine instructions per
 * operation for each row of the chosen cases, counted by valgrind's callgrind; `--write` records
 * the tables in bench/RESULTS-instructions.md. Unlike times on a small shared
 * machine, these counts repeat within about 1 % from run to run, so they settle small differences
 * that the timed bench reads as noise. They do not see memory stalls or write barriers' cache
 * misses: use them beside `npm run bench`, never instead of it.
 * @module
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { allCases } from './catalog.js';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string', default: 'b1' },
    ops: { type: 'string', default: '100000' },
    write: { type: 'boolean', default: false },
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

/**
 * Instructions per operation of one row, over `times` operations. A count is off now and then
 * (once in about a hundred rows: node:events at 10 handlers once read -85 where it reads
 * 1,241–1,245), so a result that cannot be right, none or fewer, is counted again; a second one
 * is an error.
 */
function perOperation(caseId: string, rowName: string, times: number): number {
  for (let attempt = 1; ; attempt++) {
    const perOp = (count(caseId, rowName, times) - count(caseId, rowName, 0)) / times;
    if (perOp > 0) return perOp;
    if (attempt === 2)
      throw new Error(`counting ${caseId} '${rowName}' gave ${perOp} instructions per operation twice`);
    console.error(`counting ${caseId} '${rowName}' gave ${perOp} instructions per operation: counting again`);
  }
}

/** The first line of what went wrong, for a footnote. */
function reasonOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const telling = text.split('\n').find((line) => /VG_|valgrind:|Error|error/.test(line)) ?? text.split('\n')[0]!;
  return telling.replace(/^(?:==\d+==|--\d+:\d+:)\s*(?:aspacem\s+)?/, '').trim(); // valgrind's own prefixes
}

const only = args.only.split(',');
const chosen = (await allCases()).filter((c) => only.includes(c.id));
if (chosen.length === 0) throw new Error(`--only ${args.only} names no case: pass ids such as b1,a10,c`);

const lines: string[] = [];
const print = (line: string) => {
  console.log(line);
  lines.push(line);
};
for (const c of chosen) {
  const times = Math.max(ops, c.countAtLeast ?? 0);
  print(`\n## ${c.title}: instructions per operation\n`);
  if (times !== ops)
    print(`Counted over ${times.toLocaleString('en')} operations (see \`countAtLeast\` in src/cases.ts).\n`);
  print('| row | instructions | ÷ limit |\n| --- | ---: | ---: |');
  let limit: number | undefined;
  const failures: string[] = [];
  for (const row of c.rows) {
    if (row.uncounted !== undefined) {
      failures.push(`${row.name}: not counted (${row.uncounted})`);
      print(`| ${row.name} | — [${failures.length}] | — |`);
      continue;
    }
    let perOp: number;
    try {
      perOp = perOperation(c.id, row.name, times);
    } catch (error) {
      // One row that cannot be counted (valgrind refuses the NestJS row at 100 handlers: "VG_N_SEGMENTS
      // is too low") does not cost the others: it is listed, with the reason under the table.
      failures.push(`${row.name}: not counted (${reasonOf(error)})`);
      print(`| ${row.name} | — [${failures.length}] | — |`);
      continue;
    }
    if (row.kind === 'limit') limit ??= perOp;
    const ratio = limit === undefined ? '—' : `${(perOp / limit).toFixed(2)}×`;
    print(`| ${row.name} | ${Math.round(perOp).toLocaleString('en')} | ${ratio} |`);
  }
  if (failures.length > 0) print(`\n${failures.map((f, i) => `- [${i + 1}] ${f}`).join('\n')}`);
}

if (args.write) {
  const command = `npm run bench:instructions -- --only ${args.only} --ops ${ops} --write`;
  const header = [
    '# Herald: instructions per operation',
    '',
    `Recorded ${new Date().toISOString().slice(0, 10)} with \`${command}\`, Node ${process.version},`,
    `${cpus().length} cores, valgrind's callgrind (\`node --single-threaded --predictable\`), ${ops.toLocaleString('en')} operations`,
    'per row minus a run without them. Counts, not times: see [README.md](README.md#instructions-per-operation).',
  ];
  const file = fileURLToPath(new URL('../RESULTS-instructions.md', import.meta.url));
  const markdown = await format(`${[...header, ...lines].join('\n')}\n`, {
    ...(await resolveConfig(file)),
    parser: 'markdown',
  });
  writeFileSync(file, markdown);
  console.log(`\nrecorded in ${file}`);
}
