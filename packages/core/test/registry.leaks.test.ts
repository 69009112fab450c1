/**
 * Rule 12 (docs/concepts.md, "The rules"): nothing the registry does leaves an unhandled rejection, a retained instance after
 * unsubscribe, or a timer behind. Retention is proven with a real garbage collection.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import {
  ABORT_CREATE,
  AFTER_CREATE,
  AFTER_DELETE,
  BEFORE_CREATE,
  CallbackRegistry,
  EventPayload,
  OnResource,
  PRECOMMIT_CREATE,
  ROUTER,
  subscribeInstance,
  type Subscription,
} from '@herald/core';
import { collectGarbage, nextTurn, quietRegistry, watchUnhandledRejections } from './support.js';

class Service {
  readonly ballast = new Array<number>(1000).fill(7);

  @OnResource(ROUTER, AFTER_CREATE)
  onCreate(): void {}

  @OnResource(ROUTER, BEFORE_CREATE)
  veto(): void {
    throw new Error('no');
  }
}

/**
 * Makes an instance in a separate function (so no local of the test keeps it), lets `use` work
 * with it, and returns only a weak reference.
 */
function weakly<T extends object>(make: () => T, use: (instance: T) => void): WeakRef<T> {
  const instance = make();
  use(instance);
  return new WeakRef(instance);
}

describe('retention', () => {
  it('keeps no owner after its subscription is unsubscribed', async () => {
    const registry = new CallbackRegistry();
    const ref = weakly(
      () => new Service(),
      (service) =>
        registry.subscribe(Service.prototype.onCreate, ROUTER, AFTER_CREATE, { owner: service }).unsubscribe(),
    );
    await collectGarbage();
    expect(ref.deref()).toBeUndefined();
    expect(registry.subscriptions()).toEqual([]);
  });

  it('keeps no owner of a callback that comes and goes, whichever way it goes', async () => {
    const registry = new CallbackRegistry();
    const onCreate = Service.prototype.onCreate; // outlives every owner, as a class method does
    const refs = [1, 2, 3].map((round) =>
      weakly(
        () => new Service(),
        (service) => {
          const first = registry.subscribe(onCreate, ROUTER, AFTER_CREATE, { owner: service });
          registry.subscribe(onCreate, ROUTER, AFTER_DELETE, { owner: service });
          first.unsubscribe();
          if (round === 1) registry.unsubscribe(onCreate, ROUTER, AFTER_DELETE, service);
          else if (round === 2) registry.unsubscribeAll(onCreate, service);
          else registry.unsubscribeByResource(onCreate, ROUTER, service);
        },
      ),
    );
    await collectGarbage();
    expect(refs.map((r) => r.deref())).toEqual([undefined, undefined, undefined]);
    expect(registry.subscriptions()).toEqual([]);
    // The callback's key survives all that: it subscribes and unsubscribes as before.
    const service = new Service();
    const again = registry.subscribe(onCreate, ROUTER, AFTER_CREATE, { owner: service });
    expect(registry.subscriptions().map((s) => s.id)).toEqual([again.id]);
    registry.unsubscribe(onCreate, ROUTER, AFTER_CREATE, service);
    expect(registry.hasSubscribers(ROUTER, AFTER_CREATE)).toBe(false);
  });

  it('keeps no owner of a much-notified subscription once it is unsubscribed', async () => {
    const registry = new CallbackRegistry();
    const other = registry.subscribe(() => undefined, ROUTER, AFTER_CREATE);
    const ref = weakly(
      () => new Service(),
      (service) => {
        const sub = registry.subscribe(Service.prototype.onCreate, ROUTER, AFTER_CREATE, { owner: service });
        for (let i = 0; i < 50; i++) registry.notifySync(ROUTER, AFTER_CREATE, 'test');
        sub.unsubscribe();
      },
    );
    await collectGarbage();
    expect(ref.deref()).toBeUndefined();
    expect(registry.subscriptions().map((s) => s.id)).toEqual([other.id]);
  });

  it('keeps no callback after unsubscribe(), unsubscribeByResource(), unsubscribeAll() or clear()', async () => {
    const registry = new CallbackRegistry();
    const removals: ((cb: () => void) => void)[] = [
      (cb) => registry.unsubscribe(cb, ROUTER, AFTER_CREATE),
      (cb) => registry.unsubscribeByResource(cb, ROUTER),
      (cb) => registry.unsubscribeAll(cb),
      () => registry.clear(),
    ];
    const refs = removals.map((remove) =>
      weakly(
        () => () => undefined,
        (callback) => {
          registry.subscribe(callback, ROUTER, AFTER_CREATE);
          remove(callback);
        },
      ),
    );
    await collectGarbage();
    expect(refs.map((r) => r.deref())).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('keeps no owner through a handle kept after unsubscribe(), registry.unsubscribe() or clear()', async () => {
    const registry = new CallbackRegistry();
    const handles: Subscription[] = [];
    const ids: string[] = [];
    const removals: ((sub: Subscription, service: Service) => void)[] = [
      (sub) => sub.unsubscribe(),
      (_sub, service) => registry.unsubscribe(Service.prototype.onCreate, ROUTER, AFTER_CREATE, service),
      () => registry.clear(),
    ];
    const refs = removals.map((remove) =>
      weakly(
        () => new Service(),
        (service) => {
          const sub = registry.subscribe(Service.prototype.onCreate, ROUTER, AFTER_CREATE, { owner: service });
          ids.push(sub.id);
          remove(sub, service);
          handles.push(sub);
        },
      ),
    );
    await collectGarbage();
    expect(refs.map((r) => r.deref())).toEqual([undefined, undefined, undefined]);
    // The handles still tell their ids, and unsubscribing them again does nothing.
    expect(handles.map((h) => h.id)).toEqual(ids);
    expect(ids[0]).toMatch(/^Service\.onCreate#\d+$/);
    const other = registry.subscribe(Service.prototype.onCreate, ROUTER, AFTER_CREATE, { owner: new Service() });
    for (const h of handles) h.unsubscribe();
    expect(registry.subscriptions().map((s) => s.id)).toEqual([other.id]);
  });

  it('keeps no instance through a subscribeInstance handle that is kept after unsubscribing', async () => {
    const { registry } = quietRegistry();
    const handles: { subscriptions: readonly unknown[] }[] = [];
    const ref = weakly(
      () => new Service(),
      (service) => {
        const handle = subscribeInstance(registry, service);
        expect(handle.subscriptions.length).toBeGreaterThan(0);
        handle.unsubscribe();
        handles.push(handle);
      },
    );
    await collectGarbage();
    expect(ref.deref()).toBeUndefined();
    expect(handles[0]!.subscriptions).toEqual([]);
  });

  it('keeps no instance subscribed with subscribeInstance once its handle is disposed', async () => {
    const { registry } = quietRegistry();
    const ref = weakly(
      () => new Service(),
      (service) => {
        using _handlers = subscribeInstance(registry, service);
      },
    );
    await collectGarbage();
    expect(ref.deref()).toBeUndefined();
  });

  it('keeps no payload, trigger or owner after notifications that failed, vetoed or were observed', async () => {
    const { registry } = quietRegistry();
    const records: unknown[] = [];
    using _tap = registry.observe(() => void records.push(1));
    const refs = [
      weakly(
        () => new Service(),
        (service) => {
          const sub = subscribeInstance(registry, service);
          registry.notifySync(ROUTER, AFTER_CREATE, service, new EventPayload(service));
          expect(() => registry.notifySync(ROUTER, BEFORE_CREATE, service)).toThrow();
          sub.unsubscribe();
        },
      ),
      weakly(
        () => new EventPayload({ big: new Array<number>(1000).fill(1) }),
        (payload) => {
          registry.subscribe(() => Promise.reject(new Error('late')), ROUTER, ABORT_CREATE);
          registry.subscribe(
            () => {
              throw new Error('no');
            },
            ROUTER,
            PRECOMMIT_CREATE,
          );
          void registry.notify(ROUTER, PRECOMMIT_CREATE, 'test', payload).catch(() => undefined);
          registry.clear();
        },
      ),
    ];
    await nextTurn();
    await collectGarbage();
    expect(refs.map((r) => r.deref())).toEqual([undefined, undefined]);
    expect(records.length).toBeGreaterThan(0);
  });
});

describe.each(['notifySync', 'notify'] as const)('retention after the last failed round (%s)', (method) => {
  // Nothing of a failed round may outlive it: no place where a round leaves what it failed on
  // may keep an owner or a trigger until the next failure anywhere in the process.
  it.each([
    ['unobserved', false],
    ['observed', true],
  ])('keeps no owner or trigger of a failed %s round once it is unsubscribed', async (_, observed) => {
    const { registry } = quietRegistry();
    using _tap = observed ? registry.observe(() => undefined) : undefined;
    const ref = weakly(
      () => new Service(),
      (service) => {
        const sub = registry.subscribe(Service.prototype.veto, ROUTER, BEFORE_CREATE, { owner: service });
        // Takes the notification, which holds the trigger: the run makes one and leaves it too.
        const seesTrigger = (_payload: unknown, notification: unknown) => {
          if (notification !== undefined) throw new Error('no');
        };
        registry.subscribe(seesTrigger, ROUTER, BEFORE_CREATE);
        for (let i = 0; i < 3; i++) {
          if (method === 'notifySync') expect(() => registry.notifySync(ROUTER, BEFORE_CREATE, service)).toThrow();
          else void registry.notify(ROUTER, BEFORE_CREATE, service).catch(() => undefined);
        }
        sub.unsubscribe();
        registry.unsubscribe(seesTrigger, ROUTER, BEFORE_CREATE);
      },
    );
    await nextTurn();
    await collectGarbage();
    expect(ref.deref()).toBeUndefined();
  });
});

describe('no unhandled rejection, no timer', () => {
  let unhandled: ReturnType<typeof watchUnhandledRejections>;
  beforeEach(() => {
    unhandled = watchUnhandledRejections();
  });
  afterEach(() => unhandled.stop());

  /**
   * The timers started while `work` runs. Counting the process's active timers instead would
   * also count those of other test files that ran earlier in the same Jest worker (a RabbitMQ
   * client's heartbeat, say), which come and go on their own.
   */
  async function timersStartedBy(work: () => Promise<void>): Promise<number> {
    const spies = [jest.spyOn(globalThis, 'setTimeout'), jest.spyOn(globalThis, 'setInterval')];
    try {
      await work();
      return spies.reduce((sum, spy) => sum + spy.mock.calls.length, 0);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  }

  it('leaves nothing behind after notifications of every kind', async () => {
    const { registry } = quietRegistry({ isRetriable: (e) => e instanceof RangeError });
    registry.observe(async () => {
      throw new Error('observer');
    });
    registry.subscribe(() => Promise.reject(new Error('async veto')), ROUTER, BEFORE_CREATE);
    registry.subscribe(() => Promise.reject(new RangeError('retry')), ROUTER, PRECOMMIT_CREATE);
    registry.subscribe(() => Promise.reject(new Error('abort')), ROUTER, ABORT_CREATE);
    registry.subscribe(() => Promise.reject(new Error('after')), ROUTER, AFTER_CREATE, { cancellable: true });
    await nextTurn();
    let outcomes: PromiseSettledResult<void>[] = [];
    const timers = await timersStartedBy(async () => {
      outcomes = await Promise.allSettled([
        registry.notify(ROUTER, BEFORE_CREATE, 'test'),
        registry.notify(ROUTER, PRECOMMIT_CREATE, 'test'),
        registry.notify(ROUTER, AFTER_CREATE, 'test'),
      ]);
      for (const event of [BEFORE_CREATE, PRECOMMIT_CREATE, AFTER_CREATE] as const) {
        expect(() => registry.notifySync(ROUTER, event, 'test')).toThrow();
      }
      await nextTurn();
      await nextTurn();
    });
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(unhandled.reasons).toEqual([]);
    expect(timers).toBe(0);
  });
});
