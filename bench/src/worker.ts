/**
 * One measurement in a fresh process: `node worker.js <case id> <row name> <ms>` prepares the row,
 * checks it, times it with mitata and prints `{ "ns": <median ns per operation> }`.
 * @module
 */

import { measure } from 'mitata';
import { findRow } from './catalog.js';

/** Runs `op` for about `ms` first, so that it is measured once the engine has settled on its code. */
async function warmUp(op: () => unknown, ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    for (let i = 0; i < 1000; i++) {
      const result = op();
      if (result instanceof Promise) await result;
    }
  }
}

const [caseId = '', rowName = '', ms = '250'] = process.argv.slice(2);
const row = await findRow(caseId, rowName);
const prepared = await row.prepare();
await prepared.check();
await warmUp(prepared.op, Math.min(50, Number(ms) / 2));
const stats = await measure(prepared.op, { min_cpu_time: Number(ms) * 1e6 });
await prepared.close?.();
process.stdout.write(`${JSON.stringify({ ns: stats.p50 })}\n`);
