/**
 * One instruction count, run under callgrind by instructions.ts:
 * `node count.js <case id> <row name> <ops>` prepares the row, checks it, runs it `WARM_UP` times,
 * then `ops` more times through the same loop. Two counts with different `ops` differ by exactly
 * the measured operations: start-up, preparation, warm-up and compilation cancel out.
 * @module
 */

import { findRow } from './catalog.js';

/** Enough for the engine to settle on optimised code for the row and for `repeat` itself. */
export const WARM_UP = 20_000;

/** Calls `op` `times` times, awaiting the promises it returns (the same loop for every row). */
async function repeat(op: () => unknown, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const result = op();
    if (result instanceof Promise) await result;
  }
}

const [caseId = '', rowName = '', ops = '0'] = process.argv.slice(2);
const row = await findRow(caseId, rowName);
const prepared = await row.prepare();
await prepared.check();
await repeat(prepared.op, WARM_UP);
await repeat(prepared.op, Number(ops));
await prepared.close?.();
