/**
 * `npm run bench [-- --rounds 5 --time 150 --only a10,c --write]`: every row of every case, each in
 * a fresh process, round after round (alternating the order), then the medians as Markdown tables
 * and the targets. `--write` also records the run in bench/RESULTS.md.
 * @module
 */

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { heapRows, HEAP_SUBSCRIPTIONS } from './cases.js';
import { allCases } from './catalog.js';
import { caseTable, verdicts, verdictTable, type CaseResult, type RowResult } from './report.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    time: { type: 'string', default: '150' },
    only: { type: 'string' },
    write: { type: 'boolean', default: false },
  },
});
const rounds = Number(args.rounds);
const only = args.only?.split(',');
const selected = (id: string) => only === undefined || only.includes(id);

const worker = fileURLToPath(new URL('./worker.js', import.meta.url));
const heapWorker = fileURLToPath(new URL('./heap.js', import.meta.url));

const results: CaseResult[] = (await allCases())
  .filter((c) => selected(c.id))
  .map((c) => ({
    id: c.id,
    title: c.title,
    unit: 'time',
    rows: c.rows.map((r) => ({ caseId: c.id, name: r.name, kind: r.kind, note: r.note, samples: [] })),
  }));
if (selected('d')) {
  results.splice(
    results.findIndex((c) => c.id === 'e'),
    0,
    {
      id: 'd',
      title: `(d) heap per subscription, ${HEAP_SUBSCRIPTIONS.toLocaleString('en')} subscriptions`,
      unit: 'heap',
      rows: heapRows.map((r) => ({ caseId: 'd', name: r.name, kind: r.kind, samples: [] })),
    },
  );
}

/** Runs one measurement in a child process; returns its JSON answer's number. */
function measure(row: RowResult, heap: boolean): void {
  const argv = heap ? ['--expose-gc', heapWorker, row.name] : [worker, row.caseId, row.name, args.time ?? '150'];
  try {
    const out = execFileSync(process.execPath, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const answer = JSON.parse(out.trim().split('\n').pop()!) as { ns?: number; bytes?: number };
    row.samples.push((heap ? answer.bytes : answer.ns)!);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    const lines = stderr.trim().split('\n');
    row.error = lines.find((l) => /^\w*Error\b/.test(l)) ?? lines[0];
    process.stderr.write(`  ✘ ${row.caseId} ${row.name}: ${row.error}\n`);
  }
}

const started = Date.now();
const rowsPerRound = results.reduce((n, c) => n + c.rows.length, 0);
for (let round = 0; round < rounds; round++) {
  // Alternate the order, so that no row is always measured right after the same neighbour.
  const order = round % 2 ? [...results].reverse() : results;
  for (const c of order) {
    // Heap sizes do not vary between processes: three rounds are plenty.
    if (c.unit === 'heap' && round >= 3) continue;
    for (const row of round % 2 ? [...c.rows].reverse() : c.rows) {
      if (row.error !== undefined) continue;
      measure(row, c.unit === 'heap');
    }
    const done = round * rowsPerRound + results.indexOf(c);
    process.stderr.write(
      `round ${round + 1}/${rounds} ${c.title} (${((Date.now() - started) / 1000).toFixed(0)} s, ${done}/${rowsPerRound * rounds} rows)\n`,
    );
  }
}

const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
const cpu = cpus();
const header = [
  '# Herald benchmark results',
  '',
  `Recorded ${new Date().toISOString().slice(0, 10)} with \`${command}\`: Node ${process.version} (V8 ${process.versions.v8}), ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${process.platform}/${process.arch}.`,
  `Each row ran in a fresh process, ${rounds} rounds of ${args.time} ms after a short warm-up (mitata; heap sizes: ${Math.min(rounds, 3)} rounds); the tables show the median of the rounds, and the spread is half the range between the slowest and the fastest round.`,
  `Ratios above 1× are better than the row compared with: faster, or fewer bytes. Took ${((Date.now() - started) / 1000).toFixed(0)} s.`,
  '',
  'The transports (RabbitMQ, in memory) are measured by `npm run bench:transport`: see [RESULTS-transport.md](RESULTS-transport.md).',
  'Instructions per operation, which repeat where these times do not, are counted by `npm run bench:instructions`: see [RESULTS-instructions.md](RESULTS-instructions.md).',
].join('\n');
const body = results.map(caseTable).join('\n\n');
const targets = `## Targets\n\n${verdictTable(verdicts(results))}`;
const markdown = await format(`${header}\n\n${body}\n\n${targets}\n`, {
  ...(await resolveConfig(fileURLToPath(new URL('../RESULTS.md', import.meta.url)))),
  parser: 'markdown',
});
process.stdout.write(markdown);
if (args.write) writeFileSync(new URL('../RESULTS.md', import.meta.url), markdown);
// Rows that failed leave their case incomplete: say so in the exit code.
process.exitCode = results.some((c) => c.rows.some((r) => r.samples.length === 0)) ? 1 : 0;
