/**
 * Rounds after the first on a (resource, event), which reuse its snapshot, keep every rule of
 * the first. Each test publishes a few rounds first, so that the snapshot is taken before the case
 * starts; many keys published in turn each reach their own subscribers.
 */
import { describe, expect, it } from '@jest/globals';
import {
  AFTER_CREATE,
  AFTER_UPDATE,
  BEFORE_CREATE,
  CallbackFailure,
  EventPayload,
  HeraldError,
  InvalidError,
  ROUTER,
  type NotificationRecord,
} from '@herald/core';
import { quietRegistry, untyped } from './support.js';

const payload = new EventPayload({ user: 'test' }, { resourceId: 'r1' });
const WARM_ROUNDS = 5;

/** Values a callback may return that are not thenables: the round must go on past each. */
const plainResults: readonly unknown[] = [0, 1, '', 'done', false, true, null, {}, [], () => 1, { then: 42 }];

describe.each(['notifySync', 'notify'] as const)('%s on a warm bucket', (method) => {
  async function publish(
    registry: ReturnType<typeof quietRegistry>['registry'],
    resource: string,
    event: string,
    data?: unknown,
  ): Promise<void> {
    const r = untyped(registry);
    if (method === 'notifySync') r.notifySync(resource, event, 'test', data as EventPayload | undefined);
    else await r.notify(resource, event, 'test', data as EventPayload | undefined);
  }

  it.each(plainResults.map((value) => [value]))(
    'goes on past a callback that returns %p, and records no error',
    async (value) => {
      const { registry, logger } = quietRegistry();
      const calls: string[] = [];
      registry.subscribe(() => void calls.push('first'), ROUTER, AFTER_CREATE);
      registry.subscribe(
        () => {
          calls.push('returns');
          return value as undefined;
        },
        ROUTER,
        AFTER_CREATE,
      );
      registry.subscribe(() => void calls.push('last'), ROUTER, AFTER_CREATE);
      for (let i = 0; i < WARM_ROUNDS; i++) await publish(registry, ROUTER, AFTER_CREATE, payload);
      expect(calls).toEqual(Array.from({ length: WARM_ROUNDS }, () => ['first', 'returns', 'last']).flat());
      expect(logger.lines).toEqual([]);
    },
  );

  it('rejects a bad payload on a cached bucket before any callback runs', async () => {
    const { registry } = quietRegistry();
    let calls = 0;
    registry.subscribe(() => void calls++, ROUTER, AFTER_CREATE);
    for (let i = 0; i < WARM_ROUNDS; i++) await publish(registry, ROUTER, AFTER_CREATE, payload);
    for (const bad of [{ states: [] }, 'payload', 42, null]) {
      await expect(publish(registry, ROUTER, AFTER_CREATE, bad)).rejects.toThrow(InvalidError);
    }
    expect(calls).toBe(WARM_ROUNDS);
  });

  it('tells an observer registered after the bucket was cached, and stops when it leaves', async () => {
    const { registry } = quietRegistry();
    registry.subscribe(() => undefined, ROUTER, AFTER_CREATE);
    for (let i = 0; i < WARM_ROUNDS; i++) await publish(registry, ROUTER, AFTER_CREATE, payload);
    const records: NotificationRecord[] = [];
    const observing = registry.observe((record) => void records.push(record));
    await publish(registry, ROUTER, AFTER_CREATE, payload);
    await publish(registry, ROUTER, AFTER_CREATE, payload);
    observing.unsubscribe();
    await publish(registry, ROUTER, AFTER_CREATE, payload);
    expect(records.map((r) => [r.resource, r.event, r.sync])).toEqual([
      [ROUTER, AFTER_CREATE, method === 'notifySync'],
      [ROUTER, AFTER_CREATE, method === 'notifySync'],
    ]);
  });

  it('switches between keys without mixing their subscribers', async () => {
    const { registry } = quietRegistry();
    const calls: string[] = [];
    registry.subscribe(() => void calls.push('create'), ROUTER, AFTER_CREATE);
    registry.subscribe(() => void calls.push('update'), ROUTER, AFTER_UPDATE);
    for (let i = 0; i < WARM_ROUNDS; i++) {
      await publish(registry, ROUTER, AFTER_CREATE, payload);
      await publish(registry, ROUTER, AFTER_CREATE);
      await publish(registry, ROUTER, AFTER_UPDATE, payload);
    }
    expect(calls).toEqual(Array.from({ length: WARM_ROUNDS }, () => ['create', 'create', 'update']).flat());
  });

  it('sees a subscription made between two rounds of a cached bucket', async () => {
    const { registry } = quietRegistry();
    const calls: string[] = [];
    registry.subscribe(() => void calls.push('a'), ROUTER, AFTER_CREATE);
    for (let i = 0; i < WARM_ROUNDS; i++) await publish(registry, ROUTER, AFTER_CREATE, payload);
    const b = registry.subscribe(() => void calls.push('b'), ROUTER, AFTER_CREATE);
    calls.length = 0;
    await publish(registry, ROUTER, AFTER_CREATE, payload);
    b.unsubscribe();
    await publish(registry, ROUTER, AFTER_CREATE, payload);
    expect(calls).toEqual(['a', 'b', 'a']);
  });

  it('still vetoes with the failing callback and runs the abort round', async () => {
    const { registry } = quietRegistry();
    const calls: string[] = [];
    let fail = false;
    registry.subscribe(
      () => {
        calls.push('guard');
        if (fail) throw new Error('in use');
      },
      ROUTER,
      BEFORE_CREATE,
    );
    registry.subscribe(() => void calls.push('after guard'), ROUTER, BEFORE_CREATE);
    registry.subscribe(() => void calls.push('abort'), ROUTER, 'abort_create');
    for (let i = 0; i < WARM_ROUNDS; i++) await publish(registry, ROUTER, BEFORE_CREATE, payload);
    calls.length = 0;
    fail = true;
    const error = await publish(registry, ROUTER, BEFORE_CREATE, payload).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CallbackFailure);
    expect((error as CallbackFailure).errors.map((e) => (e.error as Error).message)).toEqual(['in use']);
    expect(calls).toEqual(['guard', 'after guard', 'abort']);
  });
});

describe('notifySync on a warm bucket', () => {
  it('fails a callback that returns a thenable, and calls the ones after it', () => {
    const { registry, logger } = quietRegistry();
    const calls: string[] = [];
    let thenable = false;
    registry.subscribe(() => (thenable ? Promise.resolve() : undefined), ROUTER, AFTER_CREATE);
    registry.subscribe(() => void calls.push('after'), ROUTER, AFTER_CREATE);
    for (let i = 0; i < WARM_ROUNDS; i++) registry.notifySync(ROUTER, AFTER_CREATE, 'test', payload);
    thenable = true;
    calls.length = 0;
    // after_* events do not veto: the failure is logged, not thrown
    expect(() => registry.notifySync(ROUTER, AFTER_CREATE, 'test', payload)).not.toThrow();
    expect(calls).toEqual(['after']);
    expect(logger.at('error')).toHaveLength(1);
  });

  it('vetoes a before_ event whose callback returns a promise', () => {
    const { registry } = quietRegistry();
    registry.subscribe(() => Promise.resolve(), ROUTER, BEFORE_CREATE);
    let error: unknown;
    try {
      registry.notifySync(ROUTER, BEFORE_CREATE, 'test', payload);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CallbackFailure);
    expect((error as CallbackFailure).errors[0]!.error).toBeInstanceOf(HeraldError);
  });
});

describe('the index', () => {
  it('never lets empty names through, before any bucket, with one indexed, and after it is gone', async () => {
    const { registry } = quietRegistry();
    const r = untyped(registry);
    const expectRefused = async () => {
      for (const [resource, event] of [
        ['', ''],
        ['', AFTER_CREATE],
        [ROUTER, ''],
      ] as const) {
        expect(() => r.notifySync(resource, event, 'test')).toThrow(InvalidError);
        await expect(r.notify(resource, event, 'test')).rejects.toBeInstanceOf(InvalidError);
      }
    };
    await expectRefused();
    const calls: string[] = [];
    const callback = () => void calls.push('called');
    registry.subscribe(callback, ROUTER, AFTER_CREATE);
    for (let i = 0; i < 3; i++) r.notifySync(ROUTER, AFTER_CREATE, 'test', payload);
    await expectRefused();
    registry.unsubscribe(callback, ROUTER, AFTER_CREATE);
    await expectRefused();
    expect(calls).toEqual(['called', 'called', 'called']);
  });

  it('takes each key published in turn to its own subscribers, and a repeated key to its own', () => {
    const { registry } = quietRegistry();
    const r = untyped(registry);
    const calls: string[] = [];
    const keys = [AFTER_CREATE, AFTER_UPDATE, BEFORE_CREATE] as const;
    for (const event of keys) registry.subscribe(() => void calls.push(event), ROUTER, event);
    const order = [0, 1, 2, 0, 0, 0, 1, 1, 2, 0, 2, 2, 2, 1];
    for (const k of order) r.notifySync(ROUTER, keys[k]!, 'test', payload);
    expect(calls).toEqual(order.map((k) => keys[k]));
  });

  it('calls nobody on a key whose last subscriber left, and calls a new subscriber there', async () => {
    const { registry } = quietRegistry();
    const r = untyped(registry);
    const calls: string[] = [];
    const first = () => void calls.push('first');
    const second = () => void calls.push('second');
    registry.subscribe(first, ROUTER, AFTER_CREATE);
    for (let i = 0; i < WARM_ROUNDS; i++) r.notifySync(ROUTER, AFTER_CREATE, 'test', payload);
    registry.unsubscribe(first, ROUTER, AFTER_CREATE);
    r.notifySync(ROUTER, AFTER_CREATE, 'test', payload);
    await r.notify(ROUTER, AFTER_CREATE, 'test', payload);
    expect(registry.hasSubscribers(ROUTER, AFTER_CREATE)).toBe(false);
    registry.subscribe(second, ROUTER, AFTER_CREATE);
    r.notifySync(ROUTER, AFTER_CREATE, 'test', payload);
    await r.notify(ROUTER, AFTER_CREATE, 'test', payload);
    expect(calls).toEqual([...Array.from({ length: WARM_ROUNDS }, () => 'first'), 'second', 'second']);
  });

  it('keeps every live key while hundreds of others come and go', async () => {
    const { registry } = quietRegistry();
    const r = untyped(registry);
    const calls = new Map<string, number>();
    const count = (key: string) => () => void calls.set(key, (calls.get(key) ?? 0) + 1);
    const live = ['port', 'network', 'subnet'].map((resource) => ({
      resource,
      sub: r.subscribe(count(resource), resource, AFTER_CREATE),
    }));
    const gone: string[] = [];
    for (let k = 0; k < 300; k++) {
      const resource = `transient${k}`;
      const sub = r.subscribe(count(resource), resource, k % 2 ? AFTER_CREATE : AFTER_UPDATE);
      r.notifySync(resource, k % 2 ? AFTER_CREATE : AFTER_UPDATE, 'test', payload);
      for (const { resource: name } of live) r.notifySync(name, AFTER_CREATE, 'test', payload);
      sub.unsubscribe();
      r.notifySync(resource, k % 2 ? AFTER_CREATE : AFTER_UPDATE, 'test', payload); // nobody now
      gone.push(resource);
    }
    for (const { resource } of live) expect(calls.get(resource)).toBe(300);
    for (const resource of gone) expect(calls.get(resource)).toBe(1);
    expect(registry.subscriptions().map((s) => s.resource)).toEqual(['port', 'network', 'subnet']);
    // A key that came and went long ago takes a new subscriber like any other.
    r.subscribe(count('again'), gone[0]!, AFTER_UPDATE);
    await r.notify(gone[0]!, AFTER_UPDATE, 'test', payload);
    expect(calls.get('again')).toBe(1);
    live[1]!.sub.unsubscribe();
    r.notifySync('network', AFTER_CREATE, 'test', payload);
    expect(calls.get('network')).toBe(300);
  });

  it('finds no bucket for a number, even where a name is its digits', async () => {
    const { registry } = quietRegistry();
    const r = untyped(registry);
    const calls: string[] = [];
    registry.subscribe(() => void calls.push('called'), '42' as never, '7' as never);
    for (let i = 0; i < WARM_ROUNDS; i++) r.notifySync('42', '7', 'test');
    expect(() => r.notifySync(42, '7', 'test')).toThrow(InvalidError);
    expect(() => r.notifySync('42', 7, 'test')).toThrow(InvalidError);
    await expect(r.notify(42, '7', 'test')).rejects.toBeInstanceOf(InvalidError);
    expect(calls).toHaveLength(WARM_ROUNDS);
  });

  it('calls no subscriber that clear() removed, from a key published before and after', () => {
    const { registry } = quietRegistry();
    const r = untyped(registry);
    const calls: string[] = [];
    registry.subscribe(() => void calls.push('old'), ROUTER, AFTER_CREATE);
    for (let i = 0; i < WARM_ROUNDS; i++) r.notifySync(ROUTER, AFTER_CREATE, 'test', payload);
    registry.clear();
    r.notifySync(ROUTER, AFTER_CREATE, 'test', payload);
    registry.subscribe(() => void calls.push('new'), ROUTER, AFTER_CREATE);
    r.notifySync(ROUTER, AFTER_CREATE, 'test', payload);
    expect(calls).toEqual([...Array.from({ length: WARM_ROUNDS }, () => 'old'), 'new']);
  });
});

describe('many keys of one resource', () => {
  // Keys added one by one while others are published: each key published before must still be
  // found after others are added.
  const resources = Array.from({ length: 12 }, (_, i) => `resource${i}`);
  const events = Array.from({ length: 12 }, (_, i) => `event${i}`);

  it('takes every key, published in turn, to its own subscribers while keys are added one by one', async () => {
    const { registry } = quietRegistry();
    const r = untyped(registry);
    const calls = new Map<string, number>();
    const added: [string, string][] = [];
    for (const resource of resources) {
      for (const event of events) {
        const key = `${resource} ${event}`;
        r.subscribe(() => void calls.set(key, (calls.get(key) ?? 0) + 1), resource, event);
        added.push([resource, event]);
        // Every key so far, the new one last: the ones before are prepared, some in an object
        // that the new name has just moved to a hash table.
        const sync = added.length % 2 === 0;
        for (const [res, ev] of added) {
          if (sync) r.notifySync(res, ev, 'test', payload);
          else await r.notify(res, ev, 'test', payload);
        }
      }
    }
    const total = added.length;
    added.forEach(([resource, event], i) => expect(calls.get(`${resource} ${event}`)).toBe(total - i));
  });

  it('sees subscriptions made and removed after the move, on keys published before it', async () => {
    const { registry } = quietRegistry();
    const r = untyped(registry);
    const calls: string[] = [];
    const early = () => void calls.push('early');
    r.subscribe(early, resources[0], events[0]);
    r.notifySync(resources[0], events[0], 'test', payload); // prepared while its objects are small
    for (const resource of resources) for (const event of events) r.subscribe(() => undefined, resource, event);
    // Publishing every key prepares it, and moves the objects that hold the first key to hash tables.
    for (const resource of resources) for (const event of events) r.notifySync(resource, event, 'test', payload);
    r.subscribe(() => void calls.push('late'), resources[0], events[0]);
    await r.notify(resources[0], events[0], 'test', payload);
    r.unsubscribe(early, resources[0], events[0]);
    r.notifySync(resources[0], events[0], 'test', payload);
    expect(calls).toEqual(['early', 'early', 'early', 'late', 'late']);
  });

  it('goes on with an async round that stopped on a key of a hash table, callback by callback', async () => {
    const { registry } = quietRegistry();
    const r = untyped(registry);
    for (const resource of resources) for (const event of events) r.subscribe(() => undefined, resource, event);
    const calls: string[] = [];
    const key = [resources[11], events[11]] as const;
    r.subscribe(() => void calls.push('first'), ...key);
    r.subscribe(
      async () => {
        await Promise.resolve();
        calls.push('async');
      },
      ...key,
    );
    r.subscribe(() => void calls.push('last'), ...key);
    for (let i = 0; i < WARM_ROUNDS; i++) {
      const round = r.notify(...key, 'test', payload);
      calls.push('returned');
      await round;
    }
    expect(calls).toEqual(Array.from({ length: WARM_ROUNDS }, () => ['first', 'returned', 'async', 'last']).flat());
  });

  it('reports to an observer that came while keys were added, and stops when it leaves', async () => {
    const { registry } = quietRegistry();
    const r = untyped(registry);
    const records: string[] = [];
    const calls: string[] = [];
    r.subscribe(() => void calls.push('called'), resources[0], events[0]);
    r.notifySync(resources[0], events[0], 'test', payload);
    const tap = registry.observe((record) => void records.push(`${record.resource} ${record.event}`));
    for (const resource of resources) for (const event of events) r.subscribe(() => undefined, resource, event);
    r.notifySync(resources[0], events[0], 'test', payload);
    await r.notify(resources[5], events[9], 'test', payload);
    tap.unsubscribe();
    r.notifySync(resources[0], events[0], 'test', payload);
    await r.notify(resources[5], events[9], 'test', payload);
    expect(records).toEqual([`${resources[0]} ${events[0]}`, `${resources[5]} ${events[9]}`]);
    expect(calls).toEqual(['called', 'called', 'called']);
  });

  it.each(['__proto__', 'constructor', 'toString', 'valueOf'])(
    'keeps %p a name like any other in a hash table',
    async (name) => {
      const { registry } = quietRegistry();
      const r = untyped(registry);
      const calls: string[] = [];
      for (const resource of resources) r.subscribe(() => undefined, resource, name);
      for (const event of events) r.subscribe(() => undefined, name, event);
      r.subscribe(() => void calls.push('resource'), name, AFTER_CREATE);
      r.subscribe(() => void calls.push('event'), ROUTER, name);
      for (let i = 0; i < 3; i++) {
        r.notifySync(name, AFTER_CREATE, 'test');
        await r.notify(ROUTER, name, 'test');
        r.notifySync(name, AFTER_UPDATE, 'test'); // nobody
        r.notifySync(ROUTER, AFTER_UPDATE, 'test'); // nobody
      }
      expect(calls).toEqual(Array.from({ length: 3 }, () => ['resource', 'event']).flat());
    },
  );
});

describe.each(['notifySync', 'notify'] as const)('%s: the notification', (method) => {
  async function publish(r: ReturnType<typeof untyped>, trigger: unknown): Promise<unknown> {
    try {
      if (method === 'notifySync') r.notifySync(ROUTER, BEFORE_CREATE, trigger, payload);
      else await r.notify(ROUTER, BEFORE_CREATE, trigger, payload);
    } catch (error) {
      return error;
    }
    return undefined;
  }

  // One notification object per round, whichever callbacks read it and however many there are.
  it.each([
    ['every callback takes it', 3, 0],
    ['only callbacks after the failure take it', 3, 2],
    ['there are 300 callbacks', 300, 0],
  ])('is one object per round, the same before and after a failure, when %s', async (_, count, from) => {
    const { registry } = quietRegistry();
    const r = untyped(registry);
    const seen: unknown[] = [];
    let takers = 0;
    for (let i = 0; i < count; i++) {
      if (i === 1) {
        registry.subscribe(
          () => {
            throw new Error('veto');
          },
          ROUTER,
          BEFORE_CREATE,
        );
      } else if (i >= from) {
        registry.subscribe((_p: unknown, n: unknown) => void seen.push(n), ROUTER, BEFORE_CREATE);
        takers++;
      } else registry.subscribe((_p: unknown) => void seen.push('payload only'), ROUTER, BEFORE_CREATE);
    }
    for (let round = 0; round < WARM_ROUNDS; round++) {
      seen.length = 0;
      const trigger = { round };
      const error = await publish(r, trigger);
      expect(error).toBeInstanceOf(CallbackFailure);
      const notifications = seen.filter((n) => n !== 'payload only');
      expect(notifications).toHaveLength(takers);
      expect(notifications[0]).toEqual({ resource: ROUTER, event: BEFORE_CREATE, trigger });
      for (const n of notifications) expect(n).toBe(notifications[0]);
    }
  });

  it('is a new object each round, which a callback may keep', async () => {
    const { registry } = quietRegistry();
    const r = untyped(registry);
    const kept: unknown[] = [];
    registry.subscribe((_p: unknown, n: unknown) => void kept.push(n), ROUTER, BEFORE_CREATE);
    for (let round = 0; round < WARM_ROUNDS; round++) await publish(r, round);
    expect(kept).toEqual(
      Array.from({ length: WARM_ROUNDS }, (_, round) => ({ resource: ROUTER, event: BEFORE_CREATE, trigger: round })),
    );
    expect(new Set(kept).size).toBe(WARM_ROUNDS);
  });
});

describe('names that objects use themselves', () => {
  // A name must be a key like any other, whatever an object would make of it.
  const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '0', '42', 'length', 'then'];

  it.each(names)('subscribes, notifies, lists, unsubscribes and clears %p as any name', async (name) => {
    const prototypeNames = Object.getOwnPropertyNames(Object.prototype);
    const { registry } = quietRegistry();
    const r = untyped(registry);
    const calls: string[] = [];
    const asResource = () => void calls.push(`resource:${name}`);
    const asEvent = () => void calls.push(`event:${name}`);
    r.subscribe(asResource, name, AFTER_CREATE);
    r.subscribe(asEvent, ROUTER, name);
    for (let i = 0; i < 3; i++) {
      r.notifySync(name, AFTER_CREATE, 'test');
      await r.notify(ROUTER, name, 'test');
    }
    r.notifySync(name, name, 'test'); // a bucket of neither
    expect(calls).toEqual(Array.from({ length: 3 }, () => [`resource:${name}`, `event:${name}`]).flat());
    expect(untyped(registry).hasSubscribers(name, AFTER_CREATE)).toBe(true);
    expect(registry.subscriptions().map((s) => [s.resource, s.event])).toEqual([
      [name, AFTER_CREATE],
      [ROUTER, name],
    ]);
    r.unsubscribe(asResource, name, AFTER_CREATE);
    registry.clear();
    calls.length = 0;
    r.notifySync(name, AFTER_CREATE, 'test');
    await r.notify(ROUTER, name, 'test');
    expect(calls).toEqual([]);
    r.subscribe(asEvent, ROUTER, name);
    await r.notify(ROUTER, name, 'test');
    expect(calls).toEqual([`event:${name}`]);
    expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(prototypeNames); // nothing leaked there
  });

  it('refuses a name that is not a string without converting it, even one that converts to a known name', async () => {
    const { registry } = quietRegistry();
    const r = untyped(registry);
    const calls: string[] = [];
    registry.subscribe(() => void calls.push('called'), ROUTER, AFTER_CREATE);
    for (let i = 0; i < 3; i++) r.notifySync(ROUTER, AFTER_CREATE, 'test');
    let converted = 0;
    const lookalike = {
      toString: () => {
        converted++;
        return ROUTER;
      },
    };
    const eventLookalike = { [Symbol.toPrimitive]: () => (converted++, AFTER_CREATE) };
    expect(() => r.notifySync(lookalike, AFTER_CREATE, 'test')).toThrow(InvalidError);
    expect(() => r.notifySync(ROUTER, eventLookalike, 'test')).toThrow(InvalidError);
    await expect(r.notify(lookalike, AFTER_CREATE, 'test')).rejects.toMatchObject({ element: 'resource' });
    await expect(r.notify(ROUTER, eventLookalike, 'test')).rejects.toMatchObject({ element: 'event' });
    expect(() => r.subscribe(() => undefined, lookalike, AFTER_CREATE)).toThrow(InvalidError);
    expect(converted).toBe(0);
    expect(calls).toEqual(['called', 'called', 'called']);
  });
});
