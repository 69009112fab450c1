/**
 * Publishing as application code does, for comparing two builds of the core rather than peers:
 * a service keeps its registry in a field and, per call, publishes two different keys in turn,
 * each with a new payload, while 90 other keys are subscribed. Neither the registry nor the
 * payload is a constant there, unlike in the benchmark's cases.
 *
 * `node bench/dist/interleaved.js [path of a core build's dist/index.js] [label]` prints the median
 * of 7 timings of 2,000,000 calls (two publishes each). See bench/README.md for comparing commits.
 * @module
 */

import { pathToFileURL } from 'node:url';
import type * as Core from '@herald/core';

const [path, label = path ?? 'this build'] = process.argv.slice(2);
const core = (await import(path === undefined ? '@herald/core' : pathToFileURL(path).href)) as typeof Core;
const { CallbackRegistry, EventPayload, ROUTER, PORT, AFTER_CREATE, BEFORE_CREATE, AFTER_UPDATE } = core;

const counts = new Int32Array(8);
const handler = (i: number) =>
  new Function('counts', `return function handler${i}(payload) { counts[${i}]++; };`)(counts) as () => void;

const registry = new CallbackRegistry({ name: 'interleaved' });
/** The made-up resources of the other keys are not in the typed map of resources. */
const untyped = registry as unknown as { subscribe(callback: () => void, resource: string, event: string): unknown };
for (let r = 0; r < 30; r++) {
  for (const event of [AFTER_CREATE, BEFORE_CREATE, AFTER_UPDATE])
    untyped.subscribe(() => undefined, `resource${r}`, event);
}
for (let i = 0; i < 5; i++) registry.subscribe(handler(i), ROUTER, AFTER_CREATE);
for (let i = 5; i < 8; i++) registry.subscribe(handler(i), PORT, BEFORE_CREATE);

class RouterService {
  constructor(readonly registry: Core.CallbackRegistry) {}

  create(id: number): void {
    this.registry.notifySync(PORT, BEFORE_CREATE, this, new EventPayload({ id }));
    this.registry.notifySync(ROUTER, AFTER_CREATE, this, new EventPayload({ id }));
  }
}

const services = [new RouterService(registry), new RouterService(registry)];
function calls(n: number): void {
  for (let i = 0; i < n; i++) services[i & 1]!.create(i);
}

const WARM_UP = 50 * 20_000;
for (let k = 0; k < 50; k++) calls(20_000);
const CALLS = 2_000_000;
const timings: number[] = [];
for (let k = 0; k < 7; k++) {
  const start = process.hrtime.bigint();
  calls(CALLS);
  timings.push(Number(process.hrtime.bigint() - start) / CALLS);
}
const expected = WARM_UP + 7 * CALLS; // every call publishes both keys once
if (counts.some((c) => c !== expected))
  throw new Error(`expected ${expected} calls of each handler: ${counts.join(', ')}`);
timings.sort((a, b) => a - b);
process.stdout.write(`${label}: ${timings[3]!.toFixed(1)} ns per call (two publishes)\n`);
