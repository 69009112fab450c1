/**
 * The type-checking budget, a check of `npm test`: one more call site (`notify`, `notifySync`,
 * `subscribe` and `@OnResource` in the proportions of `npm run bench:types`) costs at most BUDGET
 * instantiations, and exactly as many with 100 declared resources as with 2. Instantiation counts
 * are exact (unlike times), so this cannot flake; a type change that makes call sites cost more,
 * or makes their cost grow with the resources, fails it. `npm run bench:types` measures whole
 * programs and their times.
 */
import { measure } from './measure.js';
import { writeProgram } from './program.js';
import { workDir } from './workdir.js';

/** Instantiations one more call site may cost (measured: 14.5 in this mix; see bench/RESULTS-types.md). */
export const BUDGET = 20;
const SIZES = [2, 100] as const;
/** Call sites of the smaller program; the larger has twice as many of each kind. */
const SITES = { notify: 20, notifySync: 20, subscribe: 20, decorated: 10 };
const added = Object.values(SITES).reduce((a, b) => a + b, 0);

/** Instantiations per call site added, with `n` resources declared and the sites on two of them. */
function perCallSite(n: number, work: ReturnType<typeof workDir>): number {
  const twice = Object.fromEntries(Object.entries(SITES).map(([kind, count]) => [kind, count * 2])) as typeof SITES;
  // Both programs meet every (resource, event) the sites use: the difference is call sites alone.
  const [few, many] = [SITES, twice].map((sites, i) => {
    const run = measure(writeProgram(work.dir(`${n}-${i}`), 'herald', { resources: n, spread: 2, ...sites }));
    if (run.errors !== '') throw new Error(`a generated program does not compile:\n${run.errors}`);
    return run.instantiations;
  }) as [number, number];
  return (many - few) / added;
}

const work = workDir('budget');
let costs: number[];
try {
  costs = SIZES.map((n) => perCallSite(n, work));
} finally {
  work.remove();
}
const [small, large] = costs as [number, number];
const ok = large <= BUDGET && large === small;
console.log(
  `${ok ? 'ok' : 'FAIL'}: ${small.toFixed(1)} instantiations per call site with ${SIZES[0]} resources declared, ${large.toFixed(1)} with ` +
    `${SIZES[1]} (budget: at most ${BUDGET}, the same for any number of resources)`,
);
process.exit(ok ? 0 : 1);
