/**
 * A topic whose subscribers stay the same is called, after its first hundred rounds, by a caller compiled
 * for it (packages/core/src/callers.ts) instead of the loop. Every rule must hold the same way in
 * both: each scenario here runs for many rounds, and every round must come out as the first did
 * (the first rounds use the loop). Changes between rounds must reach the next round, however
 * long the topic was steady, and lists on either side of the longest compiled length must behave
 * alike.
 */
import { describe, expect, it } from '@jest/globals';
import {
  ABORT_CREATE,
  AFTER_CREATE,
  BEFORE_CREATE,
  CallbackFailure,
  CallbackRegistry,
  EventPayload,
  PRECOMMIT_CREATE,
  RetryRequest,
  ROUTER,
} from '@herald/core';
import { STEADY_ROUNDS } from '../src/callers.js';
import { quietRegistry, untyped } from './support.js';

/** Rounds per scenario: past the rounds after which a steady list is compiled. */
const ROUNDS = STEADY_ROUNDS + 24;
const payload = new EventPayload({ user: 'test' }, { resourceId: 'r1' });

type Method = 'notifySync' | 'notify';

/** What one round showed: the calls in order, what the trigger got, and the log. */
async function round(
  registry: CallbackRegistry,
  calls: string[],
  lines: { level: string; message: string }[],
  method: Method,
  event: string,
  trigger: unknown,
): Promise<string> {
  calls.length = 0;
  lines.length = 0;
  let outcome = 'ok';
  try {
    if (method === 'notifySync') untyped(registry).notifySync(ROUTER, event, trigger, payload);
    else await untyped(registry).notify(ROUTER, event, trigger, payload);
  } catch (error) {
    const failure = error instanceof RetryRequest ? error.cause : error;
    outcome =
      failure instanceof CallbackFailure
        ? `${error instanceof RetryRequest ? 'retry' : 'failure'}: ${failure.errors
            .map((e) => `${e.callbackId}=${String((e.error as Error).message ?? e.error)}/${e.cancellable}`)
            .join(', ')}`
        : `other: ${String(error)}`;
  }
  return JSON.stringify({ calls, outcome, log: lines.map((l) => `${l.level}: ${l.message}`) });
}

interface Scenario {
  readonly name: string;
  readonly event: string;
  /** Subscribes the scenario's callbacks, each recording into `calls`. */
  readonly setUp: (registry: CallbackRegistry, calls: string[]) => void;
  readonly isRetriable?: (error: unknown) => boolean;
}

class Service {
  constructor(readonly name: string) {}
  record(this: Service, calls: string[], p: unknown, n: { resource: string; event: string; trigger: unknown }): void {
    calls.push(`${this.name}:${n.resource}/${n.event}/${String(n.trigger)}:${p === payload}`);
  }
}

const scenarios: Scenario[] = [
  {
    name: 'a before_* veto in the middle, the others still called, then the abort round',
    event: BEFORE_CREATE,
    setUp(registry, calls) {
      const owner = new Service('l3');
      const r = untyped(registry);
      r.subscribe((p: unknown, n: never) => owner.record(calls, p, n), ROUTER, BEFORE_CREATE, 10);
      r.subscribe(
        () => {
          calls.push('veto');
          throw new Error('no');
        },
        ROUTER,
        BEFORE_CREATE,
        { priority: 20, id: 'veto' },
      );
      r.subscribe(
        function (this: Service, p: unknown, n: never) {
          this.record(calls, p, n);
        },
        ROUTER,
        BEFORE_CREATE,
        { priority: 30, owner: new Service('dhcp') },
      );
      r.subscribe(() => void calls.push('abort'), ROUTER, ABORT_CREATE);
    },
  },
  {
    name: 'a precommit failure: no abort round, the trigger gets it',
    event: PRECOMMIT_CREATE,
    setUp(registry, calls) {
      const r = untyped(registry);
      r.subscribe(() => void calls.push('one'), ROUTER, PRECOMMIT_CREATE);
      r.subscribe(
        () => {
          calls.push('two');
          throw new Error('db');
        },
        ROUTER,
        PRECOMMIT_CREATE,
        { id: 'two' },
      );
      r.subscribe(() => void calls.push('three'), ROUTER, PRECOMMIT_CREATE);
    },
  },
  {
    name: 'after_* failures logged and swallowed, a cancellable one given to the trigger',
    event: AFTER_CREATE,
    setUp(registry, calls) {
      const r = untyped(registry);
      r.subscribe(
        () => {
          calls.push('logged');
          throw new Error('quiet');
        },
        ROUTER,
        AFTER_CREATE,
        { id: 'logged' },
      );
      r.subscribe(
        () => {
          calls.push('cancellable');
          throw new Error('loud');
        },
        ROUTER,
        AFTER_CREATE,
        { id: 'cancellable', cancellable: true },
      );
      r.subscribe(() => void calls.push('last'), ROUTER, AFTER_CREATE);
    },
  },
  {
    name: 'a retriable failure',
    event: PRECOMMIT_CREATE,
    isRetriable: (error) => (error as Error).message === 'deadlock',
    setUp(registry, calls) {
      untyped(registry).subscribe(
        () => {
          calls.push('deadlocked');
          throw new Error('deadlock');
        },
        ROUTER,
        PRECOMMIT_CREATE,
        { id: 'deadlocked' },
      );
    },
  },
  {
    name: 'callbacks that return values, thenables and promises',
    event: BEFORE_CREATE,
    setUp(registry, calls) {
      const r = untyped(registry);
      r.subscribe(() => (calls.push('value'), 42), ROUTER, BEFORE_CREATE, { id: 'value' });
      r.subscribe(() => (calls.push('not a thenable'), { then: 1 }), ROUTER, BEFORE_CREATE, { id: 'plain' });
      r.subscribe(
        async () => {
          calls.push('async start');
          await null;
          calls.push('async end');
        },
        ROUTER,
        BEFORE_CREATE,
        { id: 'async' },
      );
      r.subscribe(
        () => {
          calls.push('throwing then');
          return {
            get then(): never {
              throw new Error('then');
            },
          };
        },
        ROUTER,
        BEFORE_CREATE,
        { id: 'bad-then' },
      );
      r.subscribe(() => void calls.push('last'), ROUTER, BEFORE_CREATE, { id: 'last' });
    },
  },
  {
    name: 'an asynchronous failure after an await, and the callbacks after it',
    event: BEFORE_CREATE,
    setUp(registry, calls) {
      const r = untyped(registry);
      r.subscribe(() => void calls.push('sync'), ROUTER, BEFORE_CREATE, { id: 'sync' });
      r.subscribe(
        async () => {
          calls.push('waits');
          await null;
          throw new Error('late');
        },
        ROUTER,
        BEFORE_CREATE,
        { id: 'late' },
      );
      r.subscribe(() => void calls.push('after'), ROUTER, BEFORE_CREATE, { id: 'after' });
      r.subscribe(() => void calls.push('abort'), ROUTER, ABORT_CREATE);
    },
  },
];

describe.each(['notifySync', 'notify'] as const)('%s, round after round', (method) => {
  it.each(scenarios.map((s) => [s.name, s] as const))('%s: every round as the first', async (_, scenario) => {
    const { registry, logger } = quietRegistry({ isRetriable: scenario.isRetriable });
    const calls: string[] = [];
    scenario.setUp(registry, calls);
    const first = await round(registry, calls, logger.lines, method, scenario.event, 'plugin');
    expect(first).not.toBe(JSON.stringify({ calls: [], outcome: 'ok', log: [] }));
    for (let i = 1; i < ROUNDS; i++)
      expect(await round(registry, calls, logger.lines, method, scenario.event, 'plugin')).toBe(first);
  });

  it.each([1, 2, 31, 32, 33, 64])(
    'calls %i subscribers in order, each with its owner, round after round',
    async (count) => {
      const { registry, logger } = quietRegistry();
      const calls: string[] = [];
      const owners = Array.from({ length: count }, (_, i) => new Service(`s${i}`));
      // Priorities in reverse of subscription order: the order is the registry's, not the list's.
      owners.forEach((owner, i) =>
        untyped(registry).subscribe(Service.prototype.record.bind(owner, calls), ROUTER, AFTER_CREATE, count - i),
      );
      const expected = owners.map((o) => `${o.name}:${ROUTER}/${AFTER_CREATE}/t:true`).reverse();
      for (let i = 0; i < ROUNDS; i++) {
        expect(await round(registry, calls, logger.lines, method, AFTER_CREATE, 't')).toBe(
          JSON.stringify({ calls: expected, outcome: 'ok', log: [] }),
        );
      }
    },
  );

  it('gives every round its own notification, with its own trigger', async () => {
    const { registry } = quietRegistry();
    const seen: unknown[] = [];
    untyped(registry).subscribe((_p: unknown, n: unknown) => void seen.push(n), ROUTER, AFTER_CREATE);
    for (let i = 0; i < ROUNDS; i++) {
      if (method === 'notifySync') untyped(registry).notifySync(ROUTER, AFTER_CREATE, i);
      else await untyped(registry).notify(ROUTER, AFTER_CREATE, i);
    }
    expect(seen).toEqual(
      Array.from({ length: ROUNDS }, (_, i) => ({ resource: ROUTER, event: AFTER_CREATE, trigger: i })),
    );
    expect(new Set(seen).size).toBe(ROUNDS);
  });
});

describe.each(['notifySync', 'notify'] as const)('%s after a steady run, then a change', (method) => {
  async function publish(registry: CallbackRegistry): Promise<void> {
    if (method === 'notifySync') untyped(registry).notifySync(ROUTER, AFTER_CREATE, 't');
    else await untyped(registry).notify(ROUTER, AFTER_CREATE, 't');
  }

  it('calls a subscriber added, leaves out one taken out, and follows a new priority, at once', async () => {
    const { registry } = quietRegistry();
    const calls: string[] = [];
    const a = () => void calls.push('a');
    const b = () => void calls.push('b');
    const c = () => void calls.push('c');
    registry.subscribe(a, ROUTER, AFTER_CREATE, 10);
    registry.subscribe(b, ROUTER, AFTER_CREATE, 20);
    const steady = async (expected: string[]) => {
      for (let i = 0; i < ROUNDS; i++) {
        calls.length = 0;
        await publish(registry);
        expect(calls).toEqual(expected);
      }
    };
    await steady(['a', 'b']);
    const handle = registry.subscribe(c, ROUTER, AFTER_CREATE, 15);
    await steady(['a', 'c', 'b']);
    registry.unsubscribe(a, ROUTER, AFTER_CREATE);
    await steady(['c', 'b']);
    registry.subscribe(b, ROUTER, AFTER_CREATE, 1);
    await steady(['b', 'c']);
    handle.unsubscribe();
    await steady(['b']);
    registry.clear();
    await steady([]);
    registry.subscribe(c, ROUTER, AFTER_CREATE);
    await steady(['c']);
  });

  it('changes no round that is running, however long the list was steady (rule 4)', async () => {
    const { registry } = quietRegistry();
    const calls: string[] = [];
    const late = () => void calls.push('late');
    const second = () => void calls.push('second');
    let change = false;
    registry.subscribe(
      () => {
        calls.push('first');
        if (!change) return;
        registry.subscribe(late, ROUTER, AFTER_CREATE);
        registry.unsubscribe(second, ROUTER, AFTER_CREATE);
      },
      ROUTER,
      AFTER_CREATE,
    );
    for (let i = 0; i < ROUNDS; i++) {
      registry.subscribe(second, ROUTER, AFTER_CREATE);
      registry.unsubscribe(late, ROUTER, AFTER_CREATE);
      change = false;
      // Steady for none, one or many rounds: the change comes to the loop and to a compiled caller.
      const steady = [0, 1, STEADY_ROUNDS + 1][i % 3]!;
      for (let k = 0; k < steady; k++) await publish(registry);
      change = true;
      calls.length = 0;
      await publish(registry);
      expect(calls).toEqual(['first', 'second']);
      change = false;
      calls.length = 0;
      await publish(registry);
      expect(calls).toEqual(['first', 'late']);
    }
  });

  it('stays right for a list that changes between every two rounds', async () => {
    const { registry } = quietRegistry();
    const calls: string[] = [];
    const fixed = () => void calls.push('fixed');
    registry.subscribe(fixed, ROUTER, AFTER_CREATE);
    for (let i = 0; i < 200; i++) {
      const coming = () => void calls.push(`coming ${i}`);
      registry.subscribe(coming, ROUTER, AFTER_CREATE);
      for (let k = 0; k < 2; k++) {
        calls.length = 0;
        await publish(registry);
        expect(calls).toEqual(['fixed', `coming ${i}`]);
      }
      registry.unsubscribe(coming, ROUTER, AFTER_CREATE);
    }
    calls.length = 0;
    await publish(registry);
    expect(calls).toEqual(['fixed']);
  });
});
