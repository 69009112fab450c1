/**
 * Case (d) in a fresh process started with `--expose-gc`: `node --expose-gc heap.js <row name>`
 * creates 100,000 handler functions, collects garbage, subscribes them all, collects again and
 * prints `{ "bytes": <heap bytes per subscription> }`. It publishes once only afterwards, to check
 * that every handler is subscribed (publishing may build caches of its own).
 * @module
 */

import { HEAP_SUBSCRIPTIONS, heapRows, payload } from './cases.js';
import { makeClosures } from './handlers.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const rowName = process.argv[2] ?? '';
const row = heapRows.find((r) => r.name === rowName);
if (row === undefined) throw new Error(`no heap row '${rowName}'`);

function settledHeap(): number {
  for (let i = 0; i < 3; i++) gc!();
  return process.memoryUsage().heapUsed;
}

const handlers = makeClosures(HEAP_SUBSCRIPTIONS, payload);
const before = settledHeap();
const publish = row.subscribe(handlers.fns);
const after = settledHeap();
handlers.reset();
await publish();
handlers.verify(row.name);
process.stdout.write(`${JSON.stringify({ bytes: (after - before) / HEAP_SUBSCRIPTIONS })}\n`);
