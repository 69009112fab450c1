/**
 * One measurement in a fresh process: `node worker.js <case id> <row name> <ms>` prepares the row,
 * checks it, times it with mitata and prints `{ "ns": <median ns per operation> }`.
 * @module
 */

import { measure } from 'mitata';
import { findRow } from './catalog.js';

const [caseId = '', rowName = '', ms = '250'] = process.argv.slice(2);
const row = await findRow(caseId, rowName);
const prepared = await row.prepare();
await prepared.check();
const stats = await measure(prepared.op, { min_cpu_time: Number(ms) * 1e6 });
await prepared.close?.();
process.stdout.write(`${JSON.stringify({ ns: stats.p50 })}\n`);
