/**
 * `npm run bench:types`: what type-checking costs at the size of a real application. For N = 2, 50
 * and 200 resources (ten custom events each) and a fixed set of 700 correct call sites, it checks
 * the Herald program and the same calls against emittery's `Emittery<Map>` with
 * `tsc --extendedDiagnostics`, and prints instantiations, check time and memory, with the ratios
 * the goal is stated in. `--write` records the table in bench/RESULTS-types.md; `--rounds k`
 * takes the median time of k checks (default 3).
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { measure, type TypeCost } from './types/measure.js';
import { ISSUE_CALLS, writeProgram, type ProgramShape } from './types/program.js';
import { workDir } from './types/workdir.js';

const SIZES = [2, 50, 200];
const arg = (name: string) => {
  const at = process.argv.indexOf(name);
  return at < 0 ? undefined : process.argv[at + 1];
};
const rounds = Number(arg('--rounds') ?? 3);
const write = process.argv.includes('--write');

interface Row {
  readonly peer: 'herald' | 'emittery';
  readonly n: number;
  readonly cost: TypeCost;
  /** Instantiations of one more call site, once its resource and event were met (see perCallSite). */
  readonly perCall: number;
}

/**
 * The marginal instantiations of a call site: the program's call sites on two resources, minus
 * half of them, per call site removed. Both halves meet every (resource, event) the sites use, so
 * what is built once (the resources' tables, the union of resources) cancels out, and this is the
 * number the goal is about: it must not grow with N (as `npm test` checks, in budget.ts).
 */
function perCallSite(peer: Row['peer'], n: number, work: ReturnType<typeof workDir>): number {
  const half = {
    notify: ISSUE_CALLS.notify / 2,
    notifySync: ISSUE_CALLS.notifySync / 2,
    subscribe: ISSUE_CALLS.subscribe / 2,
    decorated: ISSUE_CALLS.decorated / 2,
  };
  const all = measure(writeProgram(work.dir(`${peer}-${n}-two`), peer, { resources: n, spread: 2, ...ISSUE_CALLS }));
  const some = measure(writeProgram(work.dir(`${peer}-${n}-half`), peer, { resources: n, spread: 2, ...half }));
  return (all.instantiations - some.instantiations) / (calls / 2);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function run(peer: Row['peer'], n: number, work: ReturnType<typeof workDir>): Row {
  const shape: ProgramShape = { resources: n, spread: n, ...ISSUE_CALLS };
  const full = writeProgram(work.dir(`${peer}-${n}`), peer, shape);
  const costs: TypeCost[] = [];
  for (let i = 0; i < rounds; i++) costs.push(measure(full));
  if (costs[0]!.errors !== '') throw new Error(`the ${peer} program at N=${n} does not compile:\n${costs[0]!.errors}`);
  const cost: TypeCost = {
    ...costs[0]!,
    checkSeconds: median(costs.map((c) => c.checkSeconds)),
    totalSeconds: median(costs.map((c) => c.totalSeconds)),
    memoryKB: median(costs.map((c) => c.memoryKB)),
  };
  return { peer, n, cost, perCall: perCallSite(peer, n, work) };
}

const calls = ISSUE_CALLS.notify + ISSUE_CALLS.notifySync + ISSUE_CALLS.subscribe + ISSUE_CALLS.decorated;
const work = workDir('bench');
const rows: Row[] = [];
try {
  // Interleaved by size, so that a change in the machine's load hits both peers alike.
  for (const n of SIZES) {
    for (const peer of ['herald', 'emittery'] as const) {
      const row = run(peer, n, work);
      rows.push(row);
      console.error(`${peer} N=${n}: ${row.cost.instantiations} instantiations, check ${row.cost.checkSeconds} s`);
    }
  }
} finally {
  work.remove();
}

const fmt = (x: number) => x.toLocaleString('en-US');
const of = (peer: Row['peer'], n: number) => rows.find((r) => r.peer === peer && r.n === n)!;
const lines = [
  `| peer | N | instantiations | per call site | check time | total time | tsc memory | check time ÷ Herald N=2 | total ÷ emittery, same N |`,
  `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
  ...rows.map((r) => {
    const base = of('herald', 2).cost.checkSeconds;
    const peer = of('emittery', r.n).cost.totalSeconds;
    return `| ${r.peer} | ${r.n} | ${fmt(r.cost.instantiations)} | ${r.perCall.toFixed(1)} | ${r.cost.checkSeconds.toFixed(2)} s | ${r.cost.totalSeconds.toFixed(2)} s | ${fmt(Math.round(r.cost.memoryKB / 1024))} MB | ${(r.cost.checkSeconds / base).toFixed(2)}× | ${(r.cost.totalSeconds / peer).toFixed(2)}× |`;
  }),
];
const table = lines.join('\n');
console.log(table);

if (write) {
  const file = new URL('../RESULTS-types.md', import.meta.url);
  writeFileSync(
    file,
    `# Type-checking cost at the size of a real application

Recorded by \`npm run bench:types -- --write\` (${rounds} checks per program, median time; instantiation
counts are exact) on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}.

Each program declares N resources in \`ResourceModels\` with ten custom events each in
\`HeraldEvents\`, and has the same ${calls} correct call sites: ${ISSUE_CALLS.notify} \`notify\`, ${ISSUE_CALLS.notifySync} \`notifySync\`,
${ISSUE_CALLS.subscribe} \`subscribe\` and ${ISSUE_CALLS.decorated} \`@OnResource\` methods, spread round robin over the resources. The
emittery rows are the same calls against \`Emittery<Map>\` whose map has one key per (resource,
event) with the same payload types (\`emit\`, \`emitSerial\` for \`notifySync\`, \`on\`, and \`on\` with a
method for \`@OnResource\`). "Per call site" is the instantiations one more call site adds once
its resource and event were met: the ${calls} sites on two resources, minus half of them, ÷ ${calls / 2}. The programs import \`@herald/core\`'s built \`.d.ts\`, as an application does.

${table}

Goal (issue 21): the cost of a call site does not depend on N; at N=200 the whole program checks
within 1.5× of N=2, and within 1.2× of emittery at the same N. Times come from a machine shared
with other work: compare rows of one run, and read the instantiation counts, which are exact.

Before the flat table (issue 21's measurement of the first design, same programs): 233,099
instantiations at N=2, 4,074,947 at N=50 and 25,198,947 at N=200 (88 s, 1.49 GB); about 434
instantiations per \`notify\` at N=2, 7,311 at N=50 and 17,569 at N=100.
`,
  );
  console.error(`written to ${file.pathname}`);
}
