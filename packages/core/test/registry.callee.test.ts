/**
 * Every callback gets the notification as its second argument, however it reads it, and every
 * callback that returns a promise, however it returns it, has it awaited by `notify` and failed
 * by `notifySync`, in every round: whatever a callback's source text looks like.
 */
import { describe, expect, it } from '@jest/globals';
import { AFTER_CREATE, EventPayload, ROUTER, type Notification } from '@herald/core';
import { nextTurn, quietRegistry, untyped } from './support.js';

const payload = new EventPayload({ user: 'test' }, { resourceId: 'r1' });
const ROUNDS = 6; // the first round and the ones after it, which reuse the snapshot

type Seen = (value: unknown) => void;

/** Callbacks that read their second argument in ways `Function.length` does not show. */
const readers: readonly [string, (seen: Seen) => Function][] = [
  [
    'a rest parameter',
    (seen) =>
      (_p: unknown, ...rest: unknown[]) =>
        seen(rest[0]),
  ],
  [
    'a default value',
    (seen) =>
      (_p: unknown, n: unknown = 'default') =>
        seen(n),
  ],
  [
    'arguments, with no parameter',
    (seen) =>
      function () {
        // eslint-disable-next-line prefer-rest-params
        seen(arguments[1]);
      },
  ],
  [
    'arguments, with one parameter',
    (seen) =>
      function (_p: unknown) {
        // eslint-disable-next-line prefer-rest-params
        seen(arguments[1]);
      },
  ],
  [
    'arguments in a sloppy-mode function',
    (seen) => new Function('seen', 'return function (p) { seen(arguments[1]); }')(seen),
  ],
  ['a direct eval', (seen) => new Function('seen', 'return function (p) { eval("seen(argu" + "ments[1])"); }')(seen)],
  ['a unicode escape', (seen) => new Function('seen', 'return function (p) { seen(argument\\u0073[1]); }')(seen)],
  [
    'a destructured parameter with a default',
    (seen) =>
      ({ a }: { a?: number } = {}, n?: unknown) =>
        seen(a ?? n),
  ],
  [
    'a comment in the parameters',
    (seen) => new Function('seen', 'return (p /* one */, ...more) => seen(more[0]);')(seen),
  ],
  ['a bound function', (seen) => ((_p: unknown, ...rest: unknown[]) => seen(rest[0])).bind(null)],
  ['a proxy', (seen) => new Proxy((_p: unknown, ...rest: unknown[]) => seen(rest[0]), {})],
  [
    'a method with a rest parameter',
    (seen) =>
      new (class {
        handle(_p: unknown, ...rest: unknown[]) {
          seen(rest[0]);
        }
      })().handle,
  ],
  [
    'a misleading own toString',
    (seen) => Object.assign((_p: unknown, ...rest: unknown[]) => seen(rest[0]), { toString: () => '(p) => {}' }),
  ],
];

describe.each(['notifySync', 'notify'] as const)('%s passes the notification', (method) => {
  it.each(readers)('to a callback that reads it through %s, in every round', async (_form, make) => {
    const { registry } = quietRegistry();
    const seen: unknown[] = [];
    const payloads: unknown[] = [];
    registry.subscribe((p: unknown) => void payloads.push(p), ROUTER, AFTER_CREATE);
    registry.subscribe(make((value) => seen.push(value)) as (p: unknown) => void, ROUTER, AFTER_CREATE);
    registry.subscribe(() => undefined, ROUTER, AFTER_CREATE);
    for (let i = 0; i < ROUNDS; i++) {
      if (method === 'notifySync') untyped(registry).notifySync(ROUTER, AFTER_CREATE, 'trigger', payload);
      else await untyped(registry).notify(ROUTER, AFTER_CREATE, 'trigger', payload);
    }
    expect(seen).toHaveLength(ROUNDS);
    for (const notification of seen) {
      expect(notification).toEqual({ resource: ROUTER, event: AFTER_CREATE, trigger: 'trigger' });
    }
    expect(payloads).toEqual(Array.from({ length: ROUNDS }, () => payload));
  });

  it('to an owner’s method that reads it, and the payload alone to one that does not', async () => {
    const { registry } = quietRegistry();
    const calls: string[] = [];
    class Service {
      constructor(readonly name: string) {}
      one(p: EventPayload | undefined) {
        calls.push(`${this.name}.one:${String(p?.resourceId)}`);
      }
      two(p: EventPayload | undefined, n: Notification) {
        calls.push(`${this.name}.two:${String(p?.resourceId)}:${n.event}`);
      }
    }
    const a = new Service('a');
    const b = new Service('b');
    registry.subscribe(Service.prototype.one, ROUTER, AFTER_CREATE, { owner: a });
    registry.subscribe(Service.prototype.two, ROUTER, AFTER_CREATE, { owner: b });
    registry.subscribe(Service.prototype.one, ROUTER, AFTER_CREATE, { owner: b });
    for (let i = 0; i < ROUNDS; i++) {
      if (method === 'notifySync') untyped(registry).notifySync(ROUTER, AFTER_CREATE, 'trigger', payload);
      else await untyped(registry).notify(ROUTER, AFTER_CREATE, 'trigger', payload);
    }
    const round = ['a.one:r1', 'b.two:r1:after_create', 'b.one:r1'];
    expect(calls).toEqual(Array.from({ length: ROUNDS }, () => round).flat());
  });
});

/** A promise that settles a turn later, and then calls `settled`. */
function later(settled: () => void): Promise<void> {
  return nextTurn().then(settled);
}

/** Callbacks that return a promise in ways a reader of their source text might miss. */
const returners: readonly [string, (settled: () => void) => Function][] = [
  ['an expression body', (settled) => (_p: unknown) => later(settled)],
  [
    'an async function with no return',
    (settled) =>
      async function (_p: unknown) {
        await later(settled);
      },
  ],
  [
    'an async arrow with a block body',
    (settled) => async (_p: unknown) => {
      await later(settled);
    },
  ],
  [
    'an async method',
    (settled) =>
      new (class {
        async handle(_p: unknown) {
          await later(settled);
        }
      })().handle,
  ],
  [
    'a return deep in a block',
    (settled) =>
      function (_p: unknown) {
        for (;;) {
          if (settled) return later(settled);
        }
      },
  ],
  [
    'a block arrow in a default value, and an expression body',
    (settled) => new Function('later', 'settled', 'return (p = () => {}) => later(settled);')(later, settled),
  ],
  [
    'a function made from source text',
    (settled) => new Function('later', 'settled', 'return function (p) { return later(settled); }')(later, settled),
  ],
  ['a bound function', (settled) => ((_p: unknown) => later(settled)).bind(null)],
  ['a proxy', (settled) => new Proxy((_p: unknown) => later(settled), {})],
  [
    'a misleading own toString',
    (settled) => Object.assign((_p: unknown) => later(settled), { toString: () => '(p) => {}' }),
  ],
];

describe('a round looks at what a callback returns', () => {
  it.each(returners)('notify awaits a promise returned through %s, in every round', async (_form, make) => {
    const { registry } = quietRegistry();
    const log: string[] = [];
    registry.subscribe(() => void log.push('before'), ROUTER, AFTER_CREATE);
    registry.subscribe(make(() => log.push('settled')) as (p: unknown) => void, ROUTER, AFTER_CREATE);
    registry.subscribe(() => void log.push('next'), ROUTER, AFTER_CREATE);
    for (let i = 0; i < ROUNDS; i++) await untyped(registry).notify(ROUTER, AFTER_CREATE, 'trigger', payload);
    expect(log).toEqual(Array.from({ length: ROUNDS }, () => ['before', 'settled', 'next']).flat());
  });

  it.each(returners)('notifySync fails a promise returned through %s, in every round', async (_form, make) => {
    const { registry, logger } = quietRegistry();
    const log: string[] = [];
    registry.subscribe(make(() => log.push('settled')) as (p: unknown) => void, ROUTER, AFTER_CREATE, {
      id: 'returner',
    });
    registry.subscribe(() => void log.push('next'), ROUTER, AFTER_CREATE);
    for (let i = 0; i < ROUNDS; i++) untyped(registry).notifySync(ROUTER, AFTER_CREATE, 'trigger', payload);
    expect(log).toEqual(Array.from({ length: ROUNDS }, () => 'next'));
    expect(logger.lines.filter((l) => l.level === 'error')).toHaveLength(ROUNDS);
    for (const line of logger.lines.filter((l) => l.level === 'error')) {
      expect(line.message).toBe(`Error during notification for returner ${ROUTER}, ${AFTER_CREATE}`);
      expect(String(line.meta[0])).toContain('returned a promise during notifySync; use notify');
    }
    await nextTurn();
  });

  it.each([
    [
      'a block arrow',
      () => (_p: unknown) => {
        throw new Error('no');
      },
    ],
    [
      'a function',
      () =>
        function (_p: unknown) {
          throw new Error('no');
        },
    ],
    [
      'a method',
      () =>
        new (class {
          handle(_p: unknown, _n: unknown) {
            throw new Error('no');
          }
        })().handle,
    ],
  ])('still records what %s that returns nothing throws, in every round', (_form, make) => {
    const { registry, logger } = quietRegistry();
    const log: string[] = [];
    registry.subscribe(make() as (p: unknown) => void, ROUTER, AFTER_CREATE);
    registry.subscribe(() => void log.push('next'), ROUTER, AFTER_CREATE);
    for (let i = 0; i < ROUNDS; i++) untyped(registry).notifySync(ROUTER, AFTER_CREATE, 'trigger', payload);
    expect(log).toHaveLength(ROUNDS);
    expect(logger.at('error')).toHaveLength(ROUNDS);
  });
});
