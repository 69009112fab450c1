/**
 * The rest of an asynchronous round: once a callback returned a promise (or threw), `notify`
 * awaits it and calls each later callback in turn. The registry runs that part through code it
 * generates per bucket, entered after whichever callback stopped the synchronous start; these
 * tests hold it to the same rules as the loop it replaces, from every place it can be entered.
 */
import { describe, expect, it } from '@jest/globals';
import {
  ABORT_CREATE,
  AFTER_CREATE,
  BEFORE_CREATE,
  CallbackFailure,
  CallbackRegistry,
  EventPayload,
  ROUTER,
  type Notification,
} from '@herald/core';
import { collectGarbage, nextTurn, quietRegistry, watchUnhandledRejections } from './support.js';

/** What a callback of the tests does when called. */
type Kind = 'sync' | 'async' | 'throws' | 'rejects' | 'value';

/**
 * Subscribes one callback per kind (ids `c0`, `c1`, …) that logs `name` when called and
 * `name:end` when its promise settles; returns the log.
 */
function subscribeKinds(registry: CallbackRegistry, event: typeof AFTER_CREATE | typeof BEFORE_CREATE, kinds: Kind[]) {
  const log: string[] = [];
  kinds.forEach((kind, i) => {
    const name = `c${i}`;
    const callbacks: Record<Kind, () => unknown> = {
      sync: () => void log.push(name),
      value: () => {
        log.push(name);
        return 42; // not a thenable: ignored, and not awaited
      },
      async: async () => {
        log.push(name);
        await nextTurn();
        log.push(`${name}:end`);
      },
      throws: () => {
        log.push(name);
        throw new Error(`${name} failed`);
      },
      rejects: async () => {
        log.push(name);
        await nextTurn();
        log.push(`${name}:end`);
        throw new Error(`${name} failed`);
      },
    };
    registry.subscribe(callbacks[kind], ROUTER, event, { id: name });
  });
  return log;
}

/** The log one round of `kinds` must leave: each callback, and each promise settled before the next call. */
function expectedLog(kinds: Kind[]): string[] {
  return kinds.flatMap((kind, i) => (kind === 'async' || kind === 'rejects' ? [`c${i}`, `c${i}:end`] : [`c${i}`]));
}

const failing = (kinds: Kind[]) => kinds.flatMap((k, i) => (k === 'throws' || k === 'rejects' ? [`c${i}`] : []));

async function failureOf(round: Promise<void>): Promise<CallbackFailure | undefined> {
  try {
    await round;
    return undefined;
  } catch (error) {
    if (error instanceof CallbackFailure) return error;
    throw error;
  }
}

describe('the asynchronous rest of a round', () => {
  const shapes: Kind[][] = [
    ['async', 'sync', 'sync', 'sync'],
    ['sync', 'async', 'sync', 'async'],
    ['sync', 'sync', 'sync', 'async'],
    ['throws', 'async', 'sync', 'rejects'],
    ['sync', 'throws', 'sync', 'async'],
    ['value', 'sync', 'async', 'throws'],
    ['async', 'rejects', 'throws', 'value', 'async'],
    ['rejects'],
    ['throws'],
  ];

  it.each(shapes.map((kinds) => [kinds]))('goes on after whichever callback stops the start: %j', async (kinds) => {
    const { registry, logger } = quietRegistry();
    const log = subscribeKinds(registry, AFTER_CREATE, kinds);
    for (let round = 0; round < 3; round++) {
      log.length = 0;
      await registry.notify(ROUTER, AFTER_CREATE, 'test');
      expect(log).toEqual(expectedLog(kinds));
    }
    const logged = logger.at('error');
    expect(logged).toHaveLength(3 * failing(kinds).length);
    expect(logged.slice(0, failing(kinds).length)).toEqual(
      failing(kinds).map((id) => `Error during notification for ${id} ${ROUTER}, ${AFTER_CREATE}`),
    );
  });

  it.each(shapes.filter((kinds) => failing(kinds).length > 0).map((kinds) => [kinds]))(
    'vetoes a before_ event with every failure in call order, after the abort round: %j',
    async (kinds) => {
      const { registry } = quietRegistry();
      const log = subscribeKinds(registry, BEFORE_CREATE, kinds);
      const aborts: unknown[] = [];
      registry.subscribe((p, n) => void aborts.push([p, n.trigger]), ROUTER, ABORT_CREATE);
      const payload = new EventPayload({ user: 'admin' });
      for (let round = 0; round < 3; round++) {
        log.length = 0;
        aborts.length = 0;
        const failure = await failureOf(registry.notify(ROUTER, BEFORE_CREATE, 'trigger', payload));
        expect(log).toEqual(expectedLog(kinds));
        expect(failure?.errors.map((e) => e.callbackId)).toEqual(failing(kinds));
        expect(failure?.innerErrors.map((e) => (e as Error).message)).toEqual(
          failing(kinds).map((id) => `${id} failed`),
        );
        expect(aborts).toEqual([[payload, 'trigger']]);
      }
    },
  );

  it('calls owners with this and hands the notification to callbacks that take it', async () => {
    const registry = new CallbackRegistry();
    const seen: unknown[] = [];
    const service = {
      name: 'l3',
      async first(this: { name: string }) {
        seen.push(this.name);
        await nextTurn();
      },
      second(this: { name: string }, _p: unknown, n: Notification) {
        seen.push(`${this.name}:${n.event}:${String(n.trigger)}`);
      },
    };
    registry.subscribe(service.first, ROUTER, AFTER_CREATE, { owner: service });
    registry.subscribe(service.second, ROUTER, AFTER_CREATE, { owner: service });
    registry.subscribe((_p, n) => void seen.push(n.resource), ROUTER, AFTER_CREATE);
    await registry.notify(ROUTER, AFTER_CREATE, 'them');
    await registry.notify(ROUTER, AFTER_CREATE, 'them');
    expect(seen).toEqual(['l3', 'l3:after_create:them', ROUTER, 'l3', 'l3:after_create:them', ROUTER]);
  });

  it('records as its failure a thenable whose then cannot be read, returned after an await', async () => {
    const registry = new CallbackRegistry({ logger: { error() {} } });
    const broken = new Error('then is broken');
    registry.subscribe(async () => undefined, ROUTER, BEFORE_CREATE, { id: 'first' });
    registry.subscribe(
      () => ({
        get then(): never {
          throw broken;
        },
      }),
      ROUTER,
      BEFORE_CREATE,
      { id: 'odd' },
    );
    const after: string[] = [];
    registry.subscribe(() => void after.push('after'), ROUTER, BEFORE_CREATE);
    const failure = await failureOf(registry.notify(ROUTER, BEFORE_CREATE, 'test'));
    expect(failure?.errors.map((e) => [e.callbackId, e.error])).toEqual([['odd', broken]]);
    expect(after).toEqual(['after']);
  });

  it('keeps to the round its start saw when a callback of that start changes the bucket', async () => {
    const registry = new CallbackRegistry();
    const log: string[] = [];
    const late = () => void log.push('late');
    registry.subscribe(
      () => {
        log.push('first');
        registry.subscribe(late, ROUTER, AFTER_CREATE); // changes the bucket before the first await
      },
      ROUTER,
      AFTER_CREATE,
    );
    registry.subscribe(
      async () => {
        log.push('async');
        await nextTurn();
        log.push('async:end');
      },
      ROUTER,
      AFTER_CREATE,
    );
    registry.subscribe(() => void log.push('last'), ROUTER, AFTER_CREATE);
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    expect(log).toEqual(['first', 'async', 'async:end', 'last']);
    log.length = 0;
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    expect(log).toEqual(['first', 'async', 'async:end', 'last', 'late']);
  });

  it('runs two rounds of one bucket side by side, each with its own progress and errors', async () => {
    const { registry } = quietRegistry();
    const gates: (() => void)[] = [];
    const log: string[] = [];
    registry.subscribe(
      (p) =>
        new Promise<void>((resolve) => {
          log.push(`wait:${String(p?.metadata.n)}`);
          gates.push(resolve);
        }),
      ROUTER,
      BEFORE_CREATE,
    );
    registry.subscribe(
      (p) => {
        log.push(`check:${String(p?.metadata.n)}`);
        if (p?.metadata.n === 1) throw new Error('one is vetoed');
      },
      ROUTER,
      BEFORE_CREATE,
      { id: 'check' },
    );
    const one = failureOf(
      registry.notify(ROUTER, BEFORE_CREATE, 'a', new EventPayload(undefined, { metadata: { n: 1 } })),
    );
    const two = failureOf(
      registry.notify(ROUTER, BEFORE_CREATE, 'b', new EventPayload(undefined, { metadata: { n: 2 } })),
    );
    expect(log).toEqual(['wait:1', 'wait:2']);
    gates[1]!();
    expect(await two).toBeUndefined();
    gates[0]!();
    expect((await one)?.errors.map((e) => e.callbackId)).toEqual(['check']);
    expect(log).toEqual(['wait:1', 'wait:2', 'check:2', 'check:1']);
  });

  it('awaits in order in a bucket with more callbacks than it compiles', async () => {
    const { registry } = quietRegistry();
    const log: number[] = [];
    for (let i = 0; i < 300; i++) {
      registry.subscribe(
        i % 100 === 7
          ? async () => {
              await nextTurn();
              log.push(i);
            }
          : () => void log.push(i),
        ROUTER,
        AFTER_CREATE,
      );
    }
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    expect(log).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('leaves no unhandled rejection when every callback after the first await rejects', async () => {
    const watch = watchUnhandledRejections();
    try {
      const swallowing = quietRegistry().registry;
      const vetoing = quietRegistry().registry;
      subscribeKinds(swallowing, AFTER_CREATE, ['async', 'rejects', 'rejects', 'throws']);
      subscribeKinds(vetoing, BEFORE_CREATE, ['async', 'rejects', 'rejects', 'throws']);
      for (let round = 0; round < 3; round++) {
        await swallowing.notify(ROUTER, AFTER_CREATE, 'test');
        await expect(vetoing.notify(ROUTER, BEFORE_CREATE, 'test')).rejects.toBeInstanceOf(CallbackFailure);
      }
      await nextTurn();
      expect(watch.reasons).toEqual([]);
    } finally {
      watch.stop();
    }
  });

  it('keeps no owner whose method ran in asynchronous rounds once it is unsubscribed', async () => {
    const registry = new CallbackRegistry();
    class Service {
      readonly ballast = new Array<number>(1000).fill(7);
      async onCreate(): Promise<void> {
        await nextTurn();
      }
    }
    const other = registry.subscribe(async () => undefined, ROUTER, AFTER_CREATE);
    const ref = await (async () => {
      const service = new Service();
      const sub = registry.subscribe(Service.prototype.onCreate, ROUTER, AFTER_CREATE, { owner: service });
      for (let i = 0; i < 5; i++) await registry.notify(ROUTER, AFTER_CREATE, 'test');
      sub.unsubscribe();
      return new WeakRef(service);
    })();
    await collectGarbage();
    expect(ref.deref()).toBeUndefined();
    expect(registry.subscriptions().map((s) => s.id)).toEqual([other.id]);
  });
});
