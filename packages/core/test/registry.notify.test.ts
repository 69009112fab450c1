import { describe, expect, it } from '@jest/globals';
import {
  APIEventPayload,
  AFTER_CREATE,
  AFTER_DELETE,
  AFTER_UPDATE,
  BEFORE_CREATE,
  CallbackRegistry,
  DBEventPayload,
  EventPayload,
  InvalidError,
  NETWORK,
  PORT,
  ROUTER,
  type Notification,
} from '@herald/core';
import { quietRegistry, untyped } from './support.js';

describe('notify', () => {
  it('calls each subscriber with the payload and { resource, event, trigger }', async () => {
    const registry = new CallbackRegistry();
    const payload = new DBEventPayload({ user: 'admin' }, { resourceId: 'r1' });
    const trigger = { service: 'l3' };
    const seen: [unknown, Notification][] = [];
    registry.subscribe((p, n) => void seen.push([p, n]), ROUTER, AFTER_CREATE);
    await registry.notify(ROUTER, AFTER_CREATE, trigger, payload);
    expect(seen).toHaveLength(1);
    expect(seen[0]![0]).toBe(payload);
    expect(seen[0]![1]).toEqual({ resource: ROUTER, event: AFTER_CREATE, trigger });
    expect(seen[0]![1].trigger).toBe(trigger);
  });

  it('passes undefined when no payload is given', async () => {
    const registry = new CallbackRegistry();
    const payloads: unknown[] = [];
    registry.subscribe((p) => void payloads.push(p), ROUTER, AFTER_CREATE);
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    expect(payloads).toEqual([undefined]);
  });

  it('hands every subscriber the same payload object, never a copy', async () => {
    const registry = new CallbackRegistry();
    const state = { id: 'r1' };
    const payload = new EventPayload(undefined, { states: [state] });
    const received: unknown[] = [];
    registry.subscribe((p) => void received.push(p?.latestState), ROUTER, AFTER_CREATE);
    registry.subscribe((p) => void received.push(p), ROUTER, AFTER_CREATE);
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload);
    expect(received[0]).toBe(state);
    expect(received[1]).toBe(payload);
  });

  it("calls each callback with its subscription's owner as this, and undefined without one", async () => {
    const registry = new CallbackRegistry();
    const selves: unknown[] = [];
    function callback(this: unknown) {
      selves.push(this);
    }
    const owner = { name: 'dhcp' };
    registry.subscribe(callback, NETWORK, AFTER_CREATE, { owner });
    registry.subscribe(callback, NETWORK, AFTER_CREATE);
    await registry.notify(NETWORK, AFTER_CREATE, 'test');
    registry.notifySync(NETWORK, AFTER_CREATE, 'test');
    expect(selves).toEqual([owner, undefined, owner, undefined]);
  });

  it('resolves when nobody subscribed', async () => {
    const registry = new CallbackRegistry();
    await expect(registry.notify(PORT, BEFORE_CREATE, 'test', new EventPayload(undefined))).resolves.toBeUndefined();
  });

  it('is the same method as publish', async () => {
    const registry = new CallbackRegistry();
    expect(registry.publish).toBe(registry.notify);
    expect(CallbackRegistry.prototype.publish).toBe(CallbackRegistry.prototype.notify);
    const calls: string[] = [];
    registry.subscribe((_p, n) => void calls.push(n.event), ROUTER, AFTER_UPDATE);
    await registry.publish(ROUTER, AFTER_UPDATE, 'test');
    expect(calls).toEqual([AFTER_UPDATE]);
  });
});

describe('every callback runs, in order, each awaited', () => {
  it('awaits a callback that returns a promise before calling the next', async () => {
    const registry = new CallbackRegistry();
    const log: string[] = [];
    registry.subscribe(
      async () => {
        log.push('first starts');
        for (let i = 0; i < 5; i++) await Promise.resolve();
        await new Promise((resolve) => setTimeout(resolve, 5));
        log.push('first ends');
      },
      ROUTER,
      AFTER_CREATE,
    );
    registry.subscribe(() => void log.push('second'), ROUTER, AFTER_CREATE);
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    expect(log).toEqual(['first starts', 'first ends', 'second']);
  });

  it('awaits a thenable that is not a Promise', async () => {
    const registry = new CallbackRegistry();
    const log: string[] = [];
    registry.subscribe(
      () => ({
        then(resolve: () => void) {
          setImmediate(() => {
            log.push('thenable settled');
            resolve();
          });
        },
      }),
      ROUTER,
      AFTER_CREATE,
    );
    registry.subscribe(() => void log.push('next'), ROUTER, AFTER_CREATE);
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    expect(log).toEqual(['thenable settled', 'next']);
  });

  it('calls the next callback after one throws or rejects, and records both', async () => {
    const { registry, logger } = quietRegistry();
    const log: string[] = [];
    const thrown = new Error('thrown');
    const rejected = new Error('rejected');
    registry.subscribe(
      function throws() {
        log.push('throws');
        throw thrown;
      },
      ROUTER,
      AFTER_DELETE,
    );
    registry.subscribe(
      async function rejects() {
        log.push('rejects');
        await Promise.resolve();
        throw rejected;
      },
      ROUTER,
      AFTER_DELETE,
    );
    registry.subscribe(() => void log.push('last'), ROUTER, AFTER_DELETE);
    await registry.notify(ROUTER, AFTER_DELETE, 'test');
    expect(log).toEqual(['throws', 'rejects', 'last']);
    expect(logger.lines.filter((l) => l.level === 'error').map((l) => l.meta[0])).toEqual([thrown, rejected]);
  });

  it('records a rejection with a non-Error value as it is', async () => {
    const registry = new CallbackRegistry();
    registry.subscribe(() => Promise.reject('just a string'), ROUTER, BEFORE_CREATE);
    await expect(registry.notify(ROUTER, BEFORE_CREATE, 'test')).rejects.toMatchObject({
      innerErrors: ['just a string'],
    });
  });
});

describe('validation at notify time', () => {
  const payload = new EventPayload(undefined);
  const cases: [what: string, args: unknown[], element: string][] = [
    ['an empty resource', ['', AFTER_CREATE, 'test', payload], 'resource'],
    ['a resource that is not a string', [{}, AFTER_CREATE, 'test', payload], 'resource'],
    ['an empty event', [ROUTER, '', 'test', payload], 'event'],
    ['an event that is not a string', [ROUTER, 5, 'test', payload], 'event'],
    ['a null payload', [ROUTER, AFTER_CREATE, 'test', null], 'payload'],
    ['a plain-object payload', [ROUTER, AFTER_CREATE, 'test', { states: [] }], 'payload'],
    // Neutron quirk fixed: Neutron lets falsy non-payloads through as "no payload".
    ['a false payload', [ROUTER, AFTER_CREATE, 'test', false], 'payload'],
    ['a zero payload', [ROUTER, AFTER_CREATE, 'test', 0], 'payload'],
    ['an empty-string payload', [ROUTER, AFTER_CREATE, 'test', ''], 'payload'],
  ];

  it.each(cases)('rejects %s with an InvalidError, never a synchronous throw', async (_what, args, element) => {
    const registry = new CallbackRegistry();
    let calls = 0;
    registry.subscribe(() => void calls++, ROUTER, AFTER_CREATE);
    const [resource, event, trigger, p] = args;
    let result: Promise<void> | undefined;
    expect(() => {
      result = untyped(registry).notify(resource, event, trigger, p);
    }).not.toThrow();
    await expect(result).rejects.toBeInstanceOf(InvalidError);
    await expect(result).rejects.toMatchObject({ element });
    expect(calls).toBe(0);
  });

  it.each(cases)('throws InvalidError from notifySync for %s', (_what, args, element) => {
    const registry = new CallbackRegistry();
    const [resource, event, trigger, p] = args;
    expect(() => untyped(registry).notifySync(resource, event, trigger, p)).toThrow(
      expect.objectContaining({ name: 'InvalidError', element }),
    );
  });

  it('says to pass undefined or an EventPayload, and keeps the offending value', async () => {
    const registry = new CallbackRegistry();
    const bad = { foo: 'bar' };
    const error = await untyped(registry)
      .notify(ROUTER, AFTER_CREATE, 'test', bad)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidError);
    expect((error as InvalidError).value).toBe(bad);
    expect((error as Error).message).toMatch(/undefined or an EventPayload/);
  });

  it('accepts every kind of EventPayload, and delivers each one', async () => {
    const registry = new CallbackRegistry();
    const received: unknown[] = [];
    registry.subscribe((payload) => void received.push(payload), ROUTER, AFTER_CREATE);
    class RouterPayload extends EventPayload<{ id: string }> {}
    const payloads = [
      new EventPayload(undefined),
      new DBEventPayload(undefined),
      new APIEventPayload(undefined, { methodName: 'create_router', action: 'create' }),
      new RouterPayload(undefined),
    ];
    for (const payload of payloads) await registry.notify(ROUTER, AFTER_CREATE, 'test', payload);
    expect(received).toHaveLength(payloads.length);
    received.forEach((payload, i) => expect(payload).toBe(payloads[i]));
  });
});

describe('snapshot: a notification calls the subscribers present when it started', () => {
  it('does not call a callback subscribed during dispatch, but does in the next round', async () => {
    const registry = new CallbackRegistry();
    const log: string[] = [];
    const late = () => void log.push('late');
    registry.subscribe(
      () => {
        log.push('first');
        registry.subscribe(late, ROUTER, AFTER_CREATE, -1);
      },
      ROUTER,
      AFTER_CREATE,
    );
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    expect(log).toEqual(['first']);
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    expect(log).toEqual(['first', 'late', 'first']);
  });

  it('still calls a callback unsubscribed during dispatch in this round, and not in the next', async () => {
    const registry = new CallbackRegistry();
    const log: string[] = [];
    const second = () => void log.push('second');
    registry.subscribe(
      () => {
        log.push('first');
        registry.unsubscribe(second, ROUTER, AFTER_CREATE);
      },
      ROUTER,
      AFTER_CREATE,
    );
    registry.subscribe(second, ROUTER, AFTER_CREATE);
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    expect(log).toEqual(['first', 'second', 'first']);
  });

  it('still calls a callback that unsubscribes itself in this round', async () => {
    const registry = new CallbackRegistry();
    let calls = 0;
    const once = () => {
      calls++;
      registry.unsubscribe(once, PORT, BEFORE_CREATE);
    };
    registry.subscribe(once, PORT, BEFORE_CREATE);
    await registry.notify(PORT, BEFORE_CREATE, 'test');
    await registry.notify(PORT, BEFORE_CREATE, 'test');
    expect(calls).toBe(1);
    expect(registry.subscriptions()).toEqual([]);
  });

  it('finishes the round when clear() is called during dispatch', async () => {
    const registry = new CallbackRegistry();
    const log: string[] = [];
    registry.subscribe(() => void (log.push('first'), registry.clear()), ROUTER, AFTER_CREATE);
    registry.subscribe(() => void log.push('second'), ROUTER, AFTER_CREATE);
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    expect(log).toEqual(['first', 'second']);
  });

  it('calls a callback once in a round even if it is moved to another priority during it', async () => {
    const registry = new CallbackRegistry();
    const log: string[] = [];
    const mover = () => void log.push('mover');
    registry.subscribe(
      () => {
        log.push('first');
        registry.subscribe(mover, ROUTER, AFTER_CREATE, 100);
      },
      ROUTER,
      AFTER_CREATE,
      1,
    );
    registry.subscribe(mover, ROUTER, AFTER_CREATE, 2);
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    expect(log).toEqual(['first', 'mover']);
  });

  it('keeps the snapshot while an async notify is suspended and others change the registry', async () => {
    const registry = new CallbackRegistry();
    const log: string[] = [];
    let resume!: () => void;
    const paused = new Promise<void>((resolve) => (resume = resolve));
    const second = () => void log.push('second');
    registry.subscribe(
      async () => {
        log.push('first waits');
        await paused;
      },
      ROUTER,
      AFTER_CREATE,
    );
    registry.subscribe(second, ROUTER, AFTER_CREATE);
    const running = registry.notify(ROUTER, AFTER_CREATE, 'test');
    await Promise.resolve();
    registry.unsubscribe(second, ROUTER, AFTER_CREATE);
    registry.subscribe(() => void log.push('added meanwhile'), ROUTER, AFTER_CREATE, -1);
    registry.clear();
    registry.subscribe(() => void log.push('after clear'), ROUTER, AFTER_CREATE);
    resume();
    await running;
    expect(log).toEqual(['first waits', 'second']);
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    expect(log).toEqual(['first waits', 'second', 'after clear']);
  });

  it('gives two interleaved async notifications their own snapshots', async () => {
    const registry = new CallbackRegistry();
    const log: string[] = [];
    const gates: (() => void)[] = [];
    registry.subscribe(
      async (_p, n) => {
        log.push(`slow ${String(n.trigger)}`);
        await new Promise<void>((resolve) => gates.push(resolve));
      },
      ROUTER,
      AFTER_CREATE,
    );
    const first = registry.notify(ROUTER, AFTER_CREATE, 'one');
    registry.subscribe((_p, n) => void log.push(`late ${String(n.trigger)}`), ROUTER, AFTER_CREATE);
    const second = registry.notify(ROUTER, AFTER_CREATE, 'two');
    await Promise.resolve();
    gates.forEach((open) => open());
    await Promise.all([first, second]);
    expect(log.filter((l) => l.startsWith('late'))).toEqual(['late two']);
    expect(log).toHaveLength(3);
  });
});

describe('nested notifications', () => {
  it('runs a notification sent from inside a callback to completion within it', async () => {
    const registry = new CallbackRegistry();
    const log: string[] = [];
    registry.subscribe(
      async () => {
        log.push('router created');
        await registry.notify(PORT, AFTER_CREATE, 'l3');
        log.push('ports notified');
      },
      ROUTER,
      AFTER_CREATE,
    );
    registry.subscribe(() => void log.push('port created'), PORT, AFTER_CREATE);
    registry.subscribe(() => void log.push('router: second subscriber'), ROUTER, AFTER_CREATE);
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    expect(log).toEqual(['router created', 'port created', 'ports notified', 'router: second subscriber']);
  });

  it('lets a callback notify its own event again, with the same snapshot rules', async () => {
    const registry = new CallbackRegistry();
    const depths: number[] = [];
    let depth = 0;
    registry.subscribe(
      async () => {
        depths.push(depth);
        if (depth < 2) {
          depth++;
          await registry.notify(ROUTER, AFTER_CREATE, 'again');
          depth--;
        }
      },
      ROUTER,
      AFTER_CREATE,
    );
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    expect(depths).toEqual([0, 1, 2]);
  });

  it('keeps a nested veto inside the callback that caught it', async () => {
    const { registry } = quietRegistry();
    const caught: unknown[] = [];
    registry.subscribe(
      () => {
        throw new Error('port in use');
      },
      PORT,
      BEFORE_CREATE,
    );
    registry.subscribe(
      async () => {
        await registry.notify(PORT, BEFORE_CREATE, 'nested').catch((e: unknown) => void caught.push(e));
      },
      ROUTER,
      BEFORE_CREATE,
    );
    await expect(registry.notify(ROUTER, BEFORE_CREATE, 'test')).resolves.toBeUndefined();
    expect(caught).toEqual([expect.objectContaining({ name: 'CallbackFailure', resource: PORT })]);
  });

  it('works the same inside notifySync', () => {
    const registry = new CallbackRegistry();
    const log: string[] = [];
    registry.subscribe(
      () => {
        log.push('outer');
        registry.notifySync(PORT, AFTER_CREATE, 'nested');
        log.push('outer done');
      },
      ROUTER,
      AFTER_CREATE,
    );
    registry.subscribe(() => void log.push('inner'), PORT, AFTER_CREATE);
    registry.notifySync(ROUTER, AFTER_CREATE, 'test');
    expect(log).toEqual(['outer', 'inner', 'outer done']);
  });
});
