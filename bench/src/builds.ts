/**
 * Two builds of Herald, case by case: `node bench/dist/builds.js <root of the other build>
 * [--only a10,c] [--rounds 7] [--time 150]` times every Herald row of the chosen cases, and the
 * node:events row for reference, with this build's worker and with the other build's (a checkout
 * of another commit, built with `tsc -b bench`), alternating processes, and prints the medians and
 * the ratio of this build's time to the other's. Heap case (d) is measured the same way. See
 * bench/README.md for making the other build.
 * @module
 */

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { heapRows } from './cases.js';
import { allCases } from './catalog.js';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    only: { type: 'string', default: 'a1,a10,a100,b1,c,d,e,g' },
    rounds: { type: 'string', default: '7' },
    time: { type: 'string', default: '150' },
  },
});
const [other] = positionals;
if (other === undefined) throw new Error('pass the root of the other build: node bench/dist/builds.js /tmp/old');
const here = fileURLToPath(new URL('.', import.meta.url));
const there = join(other, 'bench', 'dist');

interface Pair {
  readonly caseId: string;
  readonly row: string;
  readonly heap: boolean;
  readonly samples: { here: number[]; there: number[] };
}

const only = args.only.split(',');
const pairs: Pair[] = [];
for (const c of await allCases())
  if (only.includes(c.id))
    for (const r of c.rows)
      if (r.kind === 'herald' || r.name === 'node:events')
        pairs.push({ caseId: c.id, row: r.name, heap: false, samples: { here: [], there: [] } });
if (only.includes('d'))
  for (const r of heapRows)
    if (r.kind === 'herald') pairs.push({ caseId: 'd', row: r.name, heap: true, samples: { here: [], there: [] } });

function measure(dir: string, pair: Pair): number {
  const argv = pair.heap
    ? ['--expose-gc', join(dir, 'heap.js'), pair.row]
    : [join(dir, 'worker.js'), pair.caseId, pair.row, args.time];
  const out = execFileSync(process.execPath, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const answer = JSON.parse(out.trim().split('\n').pop()!) as { ns?: number; bytes?: number };
  return (pair.heap ? answer.bytes : answer.ns)!;
}

for (let round = 0; round < Number(args.rounds); round++) {
  for (const pair of pairs) {
    if (pair.heap && round >= 3) continue; // the heap repeats to the byte
    // Alternate which build goes first, so that neither always follows the other.
    const first = round % 2 === 0;
    if (first) pair.samples.here.push(measure(here, pair));
    pair.samples.there.push(measure(there, pair));
    if (!first) pair.samples.here.push(measure(here, pair));
  }
  process.stderr.write(`round ${round + 1}/${args.rounds}\n`);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

const lines = [`| case | row | this build | other build | this ÷ other |`, `| --- | --- | ---: | ---: | ---: |`];
for (const pair of pairs) {
  const h = median(pair.samples.here);
  const t = median(pair.samples.there);
  const unit = pair.heap ? ' B' : ' ns';
  lines.push(
    `| ${pair.caseId} | ${pair.row} | ${h.toFixed(1)}${unit} | ${t.toFixed(1)}${unit} | ${(h / t).toFixed(2)}× |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
