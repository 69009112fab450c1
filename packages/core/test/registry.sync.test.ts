import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  ABORT_CREATE,
  AFTER_CREATE,
  AFTER_DELETE,
  BEFORE_CREATE,
  CallbackFailure,
  EventPayload,
  HeraldError,
  PORT,
  PRECOMMIT_UPDATE,
  RetryRequest,
  ROUTER,
  type CallbackRegistry,
} from '@herald/core';
import { nextTurn, quietRegistry, untyped, watchUnhandledRejections } from './support.js';

class Deadlock extends Error {}

/** What the trigger gets: 'resolved', or the error's name and the failed callbacks' errors. */
function outcomeSync(registry: CallbackRegistry, resource: string, event: string): unknown {
  try {
    untyped(registry).notifySync(resource, event, 'test');
    return 'resolved';
  } catch (e) {
    return describeFailure(e);
  }
}

/** What `act` threw (undefined if it returned). */
function thrownBy(act: () => void): unknown {
  try {
    act();
  } catch (e) {
    return e;
  }
  return undefined;
}

async function outcomeAsync(registry: CallbackRegistry, resource: string, event: string): Promise<unknown> {
  return untyped(registry)
    .notify(resource, event, 'test')
    .then(() => 'resolved', describeFailure);
}

function describeFailure(e: unknown): unknown {
  const failure = e instanceof RetryRequest ? e.cause : e;
  return { name: (e as Error).name, errors: (failure as CallbackFailure).errors?.map((n) => String(n.error)) };
}

/** Subscribes the same scenario of synchronous callbacks to a fresh registry; returns it and its call log. */
function scenario(subscribe: (registry: CallbackRegistry, log: string[]) => void) {
  const { registry } = quietRegistry({ isRetriable: (e) => e instanceof Deadlock });
  const log: string[] = [];
  subscribe(registry, log);
  return { registry, log };
}

/** A named callback that logs its name, then fails with `error` if one is given. */
function cb(log: string[], name: string, error?: unknown) {
  return {
    [name]() {
      log.push(name);
      if (error !== undefined) throw error;
    },
  }[name]!;
}

describe('notifySync applies the same rules as notify, synchronously', () => {
  const scenarios: [
    what: string,
    resource: string,
    event: string,
    setup: (r: CallbackRegistry, l: string[]) => void,
  ][] = [
    [
      'before_ failure with an abort round',
      ROUTER,
      BEFORE_CREATE,
      (r, l) => {
        r.subscribe(cb(l, 'veto', new Error('no')), ROUTER, BEFORE_CREATE, 1);
        r.subscribe(cb(l, 'next'), ROUTER, BEFORE_CREATE, 2);
        r.subscribe(cb(l, 'abort', new Error('abort failed')), ROUTER, ABORT_CREATE);
      },
    ],
    [
      'precommit_ failure, no abort',
      ROUTER,
      PRECOMMIT_UPDATE,
      (r, l) => {
        r.subscribe(cb(l, 'check', new Error('constraint')), ROUTER, PRECOMMIT_UPDATE);
        r.subscribe(cb(l, 'abort'), ROUTER, 'abort_update');
      },
    ],
    [
      'after_ failure, swallowed',
      PORT,
      AFTER_DELETE,
      (r, l) => {
        r.subscribe(cb(l, 'notify', new Error('down')), PORT, AFTER_DELETE);
        r.subscribe(cb(l, 'next'), PORT, AFTER_DELETE);
      },
    ],
    [
      'after_ failure of a cancellable subscription',
      PORT,
      AFTER_CREATE,
      (r, l) => {
        r.subscribe(cb(l, 'plain', new Error('plain')), PORT, AFTER_CREATE);
        r.subscribe(cb(l, 'guard', new Error('guard')), PORT, AFTER_CREATE, { cancellable: true });
      },
    ],
    [
      'retriable failure',
      PORT,
      BEFORE_CREATE,
      (r, l) => {
        r.subscribe(cb(l, 'db', new Deadlock('deadlock')), PORT, BEFORE_CREATE);
      },
    ],
    ['no subscribers', PORT, BEFORE_CREATE, () => undefined],
  ];

  it.each(scenarios)('%s', async (_what, resource, event, setup) => {
    const sync = scenario(setup);
    const async = scenario(setup);
    const syncOutcome = outcomeSync(sync.registry, resource, event);
    const asyncOutcome = await outcomeAsync(async.registry, resource, event);
    expect(syncOutcome).toEqual(asyncOutcome);
    expect(sync.log).toEqual(async.log);
  });

  it('has run every callback by the time it returns', () => {
    const { registry, log } = scenario((r, l) => {
      r.subscribe(cb(l, 'a'), ROUTER, AFTER_CREATE);
      r.subscribe(cb(l, 'b'), ROUTER, AFTER_CREATE);
    });
    registry.notifySync(ROUTER, AFTER_CREATE, 'test', new EventPayload(undefined));
    expect(log).toEqual(['a', 'b']);
  });

  it('keeps its snapshot when callbacks subscribe or unsubscribe during it', () => {
    const { registry } = quietRegistry();
    const log: string[] = [];
    const second = cb(log, 'second');
    registry.subscribe(
      () => {
        log.push('first');
        registry.unsubscribe(second, ROUTER, AFTER_CREATE);
        registry.subscribe(cb(log, 'late'), ROUTER, AFTER_CREATE);
      },
      ROUTER,
      AFTER_CREATE,
    );
    registry.subscribe(second, ROUTER, AFTER_CREATE);
    registry.notifySync(ROUTER, AFTER_CREATE, 'test');
    expect(log).toEqual(['first', 'second']);
  });
});

describe('a callback that returns a promise during notifySync', () => {
  let unhandled: ReturnType<typeof watchUnhandledRejections>;
  beforeEach(() => {
    unhandled = watchUnhandledRejections();
  });
  afterEach(() => unhandled.stop());

  it('is a failure whose error says to use notify, and vetoes a before_ event', () => {
    const { registry } = quietRegistry();
    const sub = registry.subscribe(async () => undefined, ROUTER, BEFORE_CREATE);
    const failure = thrownBy(() => registry.notifySync(ROUTER, BEFORE_CREATE, 'test'));
    expect(failure).toBeInstanceOf(CallbackFailure);
    const [error] = (failure as CallbackFailure).errors;
    expect(error!.callbackId).toBe(sub.id);
    expect(error!.error).toBeInstanceOf(HeraldError);
    expect(String((error!.error as Error).message)).toMatch(/notify/);
  });

  it('records a callback whose result has a throwing then getter as failed, runs the rest and the abort round', () => {
    const { registry } = quietRegistry();
    const log: string[] = [];
    const getterError = new Error('then getter');
    const sub = registry.subscribe(
      () => ({
        get then(): never {
          throw getterError;
        },
      }),
      ROUTER,
      BEFORE_CREATE,
    );
    registry.subscribe(() => void log.push('second'), ROUTER, BEFORE_CREATE);
    registry.subscribe(() => void log.push('abort'), ROUTER, ABORT_CREATE);
    const failure = thrownBy(() => registry.notifySync(ROUTER, BEFORE_CREATE, 'test'));
    expect(failure).toBeInstanceOf(CallbackFailure);
    expect((failure as CallbackFailure).errors.map((e) => [e.callbackId, e.error])).toEqual([[sub.id, getterError]]);
    expect(log).toEqual(['second', 'abort']);
  });

  it('is logged and swallowed on an after_ event, and the next callback still runs', () => {
    const { registry, logger } = quietRegistry();
    const log: string[] = [];
    registry.subscribe(async () => void log.push('async'), ROUTER, AFTER_CREATE);
    registry.subscribe(() => void log.push('next'), ROUTER, AFTER_CREATE);
    expect(() => registry.notifySync(ROUTER, AFTER_CREATE, 'test')).not.toThrow();
    expect(log).toEqual(['async', 'next']);
    expect(logger.at('error')).toHaveLength(1);
  });

  it('leaves no unhandled rejection when that promise rejects', async () => {
    const { registry, logger } = quietRegistry();
    const late = new Error('rejected later');
    registry.subscribe(
      async () => {
        await nextTurn();
        throw late;
      },
      ROUTER,
      BEFORE_CREATE,
    );
    registry.subscribe(() => Promise.reject(new Error('rejected at once')), ROUTER, BEFORE_CREATE);
    expect(() => registry.notifySync(ROUTER, BEFORE_CREATE, 'test')).toThrow(CallbackFailure);
    await nextTurn();
    await nextTurn();
    expect(unhandled.reasons).toEqual([]);
    expect(logger.at('debug').filter((m) => m.includes('rejected'))).toHaveLength(2);
  });

  it('is a failure when it returns a thenable whose then() throws, and notifySync goes on', () => {
    const { registry } = quietRegistry();
    const log: string[] = [];
    registry.subscribe(
      () => ({
        then() {
          throw new Error('bad thenable');
        },
      }),
      ROUTER,
      BEFORE_CREATE,
    );
    registry.subscribe(() => void log.push('next'), ROUTER, BEFORE_CREATE);
    expect(() => registry.notifySync(ROUTER, BEFORE_CREATE, 'test')).toThrow(CallbackFailure);
    expect(log).toEqual(['next']);
  });

  it('counts for the retry hook only through its own error, never the later rejection', async () => {
    const asked: unknown[] = [];
    const { registry } = quietRegistry({
      isRetriable: (e) => {
        asked.push(e);
        return e instanceof Deadlock;
      },
    });
    registry.subscribe(() => Promise.reject(new Deadlock('later')), ROUTER, BEFORE_CREATE);
    expect(() => registry.notifySync(ROUTER, BEFORE_CREATE, 'test')).toThrow(CallbackFailure);
    await nextTurn();
    expect(asked).toEqual([expect.any(HeraldError)]);
    expect(unhandled.reasons).toEqual([]);
  });
});
