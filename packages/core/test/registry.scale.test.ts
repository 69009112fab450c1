/**
 * What the registry must keep doing at sizes and in conditions the other tests do not reach:
 * topics of every size around the boundaries a list of subscribers has, memory after names and
 * registries come and go by the hundred thousand, rounds after the last observer leaves, and a
 * `Function.prototype.toString` replaced before Herald loads (as some instrumentation does).
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AFTER_CREATE, CallbackRegistry, PRIORITY_DEFAULT, ROUTER, type NotificationRecord } from '@herald/core';
import { STEADY_ROUNDS } from '../src/callers.js';
import { collectGarbage, quietRegistry, untyped } from './support.js';

/** Sizes around every boundary a list of subscribers may have: empty, one, and powers of two ± 1. */
const SIZES = [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 255, 256, 257];

function subscribers(registry: CallbackRegistry, count: number, calls: number[]) {
  return Array.from({ length: count }, (_, i) => {
    const callback = () => void calls.push(i);
    return { callback, handle: registry.subscribe(callback, ROUTER, AFTER_CREATE) };
  });
}

describe.each(SIZES)('a topic of %i subscribers', (size) => {
  const picks = [...new Set([0, 1, size >> 1, size - 2, size - 1])].filter((i) => i >= 0 && i < size);

  it.each(picks)(
    'takes out subscriber %i by name, by handle and by unsubscribeAll, and keeps the others in order',
    (pick) => {
      for (const remove of ['name', 'handle', 'all'] as const) {
        const { registry } = quietRegistry();
        const calls: number[] = [];
        const subs = subscribers(registry, size, calls);
        registry.notifySync(ROUTER, AFTER_CREATE, 'warm'); // with a snapshot made, as in a running application
        calls.length = 0;
        const { callback, handle } = subs[pick]!;
        if (remove === 'name') registry.unsubscribe(callback, ROUTER, AFTER_CREATE);
        else if (remove === 'handle') handle.unsubscribe();
        else registry.unsubscribeAll(callback);
        registry.notifySync(ROUTER, AFTER_CREATE, 'test');
        const expected = Array.from({ length: size }, (_, i) => i).filter((i) => i !== pick);
        expect(calls).toEqual(expected);
        expect(registry.subscriptions()).toHaveLength(size - 1);
        expect(registry.hasSubscribers(ROUTER, AFTER_CREATE)).toBe(size > 1);
      }
    },
  );

  it('does nothing for a callback that is not subscribed, and takes out each one once', () => {
    const { registry } = quietRegistry();
    const calls: number[] = [];
    const subs = subscribers(registry, size, calls);
    registry.unsubscribe(() => undefined, ROUTER, AFTER_CREATE);
    registry.notifySync(ROUTER, AFTER_CREATE, 'test');
    expect(calls).toHaveLength(size);
    for (const { callback } of subs.reverse()) {
      registry.unsubscribe(callback, ROUTER, AFTER_CREATE);
      registry.unsubscribe(callback, ROUTER, AFTER_CREATE);
    }
    calls.length = 0;
    registry.notifySync(ROUTER, AFTER_CREATE, 'test');
    expect(calls).toEqual([]);
    expect(registry.hasSubscribers(ROUTER, AFTER_CREATE)).toBe(false);
  });

  it('puts a subscription made again at another priority after the others of that priority', () => {
    const { registry } = quietRegistry();
    const calls: number[] = [];
    const subs = subscribers(registry, size, calls);
    registry.subscribe(subs[0]!.callback, ROUTER, AFTER_CREATE, 1);
    registry.subscribe(subs[0]!.callback, ROUTER, AFTER_CREATE, PRIORITY_DEFAULT);
    registry.notifySync(ROUTER, AFTER_CREATE, 'test');
    expect(calls).toEqual([...Array.from({ length: size - 1 }, (_, i) => i + 1), 0]);
  });
});

/** Heap used after a full garbage collection. */
async function heap(): Promise<number> {
  await collectGarbage();
  return process.memoryUsage().heapUsed;
}

const MB = 1024 * 1024;

describe('memory', () => {
  it('keeps nothing of 200,000 resource and event names that came and went', async () => {
    const registry = new CallbackRegistry();
    const loose = untyped(registry);
    const kept = () => undefined;
    loose.subscribe(kept, 'churn', 'steady');
    const before = await heap();
    for (let i = 0; i < 200_000; i++) {
      // New event names of a resource that stays, and new resources.
      const resource = i % 2 === 0 ? 'churn' : `resource_${i}`;
      const callback = () => undefined;
      loose.subscribe(callback, resource, `event_${i}`);
      loose.notifySync(resource, `event_${i}`, 'test');
      loose.unsubscribe(callback, resource, `event_${i}`);
    }
    const after = await heap();
    expect((after - before) / MB).toBeLessThan(8);
    expect(registry.subscriptions().map((s) => s.event)).toEqual(['steady']);
  });

  it('keeps nothing of 8,000 throwaway registries, each with subscribers of its own kinds and count', async () => {
    const before = await heap();
    for (let i = 0; i < 8_000; i++) {
      const registry = new CallbackRegistry({ logger: { error() {} } });
      const owner = { i };
      for (let k = 0; k <= i % 40; k++) {
        const callback =
          (i + k) % 3 === 0
            ? (p: unknown) => p
            : (i + k) % 3 === 1
              ? function (this: object) {}
              : (_p: unknown, n: unknown) => n;
        registry.subscribe(callback, ROUTER, AFTER_CREATE, k % 2 === 0 ? { owner } : undefined);
      }
      registry.notifySync(ROUTER, AFTER_CREATE, 'test');
    }
    const after = await heap();
    expect((after - before) / MB).toBeLessThan(8);
  });

  it('keeps nothing of 3,000 throwaway registries whose topics had compiled callers', async () => {
    const before = await heap();
    for (let i = 0; i < 3_000; i++) {
      const registry = new CallbackRegistry({ logger: { error() {} } });
      for (let k = 0; k <= i % 4; k++)
        registry.subscribe(k % 2 === 0 ? (p: unknown) => p : function (this: object) {}, ROUTER, AFTER_CREATE, k);
      // Rounds enough for the topic's caller to be compiled (callers.ts): it must go with its registry.
      for (let round = 0; round <= STEADY_ROUNDS; round++) registry.notifySync(ROUTER, AFTER_CREATE, 'test');
    }
    const after = await heap();
    expect((after - before) / MB).toBeLessThan(8);
  }, 60_000);
});

describe('after the last observer leaves', () => {
  it('calls every subscriber, tells no observer, and tells a new one', async () => {
    const { registry } = quietRegistry();
    const calls: string[] = [];
    registry.subscribe(() => void calls.push('a'), ROUTER, AFTER_CREATE);
    registry.subscribe(() => void calls.push('b'), ROUTER, AFTER_CREATE);
    const seen: NotificationRecord[] = [];
    const first = registry.observe((r) => void seen.push(r));
    const second = registry.observe((r) => void seen.push(r));
    registry.notifySync(ROUTER, AFTER_CREATE, 'observed');
    expect(seen).toHaveLength(2);
    first.unsubscribe();
    second.unsubscribe();
    for (let i = 0; i < 3; i++) {
      registry.notifySync(ROUTER, AFTER_CREATE, 'unobserved');
      await registry.notify(ROUTER, AFTER_CREATE, 'unobserved');
    }
    expect(seen).toHaveLength(2);
    expect(calls).toEqual(Array.from({ length: 7 }, () => ['a', 'b']).flat());
    const third = registry.observe((r) => void seen.push(r));
    await registry.notify(ROUTER, AFTER_CREATE, 'observed again');
    expect(seen.map((r) => r.trigger)).toEqual(['observed', 'observed', 'observed again']);
    third.unsubscribe();
  });
});

describe('with Function.prototype.toString replaced before Herald loads', () => {
  const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  // Every function reads as `() => {}`: a registry that judged callbacks by their text would take
  // an async veto for a callback that returns nothing.
  const script = `
const unhandled = [];
process.on('unhandledRejection', (reason) => unhandled.push(String(reason)));
Function.prototype.toString = function () { return '() => {}'; };
const { CallbackRegistry, CallbackFailure } = await import(${JSON.stringify(dist)});
const registry = new CallbackRegistry({ logger: { error() {} } });
const aborted = [];
registry.subscribe(async () => { await null; throw new Error('quota exceeded'); }, 'router', 'before_create', { id: 'quota' });
registry.subscribe(() => void aborted.push('abort'), 'router', 'abort_create');
const outcomes = [];
for (let i = 0; i < 5; i++) {
  try { await registry.notify('router', 'before_create', 't'); outcomes.push('allowed'); }
  catch (e) { outcomes.push(e instanceof CallbackFailure ? e.errors.map((x) => x.callbackId + ':' + x.error.message).join() : String(e)); }
}
try { registry.notifySync('router', 'before_create', 't'); outcomes.push('allowed'); }
catch (e) { outcomes.push(e instanceof CallbackFailure ? 'sync veto' : String(e)); }
await new Promise((resolve) => setTimeout(resolve, 20));
console.log(JSON.stringify({ outcomes, aborted: aborted.length, unhandled }));
`;

  it('honours an async before_create veto, and leaves no rejection unhandled', () => {
    if (!existsSync(dist))
      execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-b', 'packages/core'], { cwd: root });
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    const result = JSON.parse(out) as { outcomes: string[]; aborted: number; unhandled: string[] };
    expect(result.outcomes).toEqual([...Array.from({ length: 5 }, () => 'quota:quota exceeded'), 'sync veto']);
    expect(result.aborted).toBe(6);
    expect(result.unhandled).toEqual([]);
  }, 60_000);
});
