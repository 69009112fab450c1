import { describe, expect, it, jest } from '@jest/globals';
import {
  ABORT_CREATE,
  ABORT_UPDATE,
  AFTER_CREATE,
  AFTER_DELETE,
  AFTER_INIT,
  BEFORE_CREATE,
  BEFORE_DELETE,
  BEFORE_UPDATE,
  CallbackFailure,
  CallbackRegistry,
  EventPayload,
  HeraldError,
  NotificationError,
  PORT,
  PRECOMMIT_CREATE,
  PRECOMMIT_UPDATE,
  RetryRequest,
  ROUTER,
  type Notification,
} from '@herald/core';
import { quietRegistry, untyped } from './support.js';

class Deadlock extends Error {}

/** A named callback that fails with `error`, logging its name into `log` first. */
function failing(name: string, error: unknown, log: string[] = []) {
  return {
    [name]() {
      log.push(name);
      throw error;
    },
  }[name]!;
}

/** The rejection of `promise` (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('before_* events', () => {
  it('runs abort_create subscribers once after a failed before_create, with the same trigger and payload', async () => {
    const { registry } = quietRegistry();
    const payload = new EventPayload({ user: 'admin' });
    const trigger = { name: 'router-service' };
    const aborts: [unknown, Notification][] = [];
    registry.subscribe(failing('veto', new Error('no')), ROUTER, BEFORE_CREATE);
    registry.subscribe(failing('veto2', new Error('no either')), ROUTER, BEFORE_CREATE);
    registry.subscribe((p, n) => void aborts.push([p, n]), ROUTER, ABORT_CREATE);
    await expect(registry.notify(ROUTER, BEFORE_CREATE, trigger, payload)).rejects.toBeInstanceOf(CallbackFailure);
    expect(aborts).toHaveLength(1);
    expect(aborts[0]![0]).toBe(payload);
    expect(aborts[0]![1]).toEqual({ resource: ROUTER, event: ABORT_CREATE, trigger });
    expect(aborts[0]![1].trigger).toBe(trigger);
  });

  it('runs every before_ subscriber first, then the abort round, then rejects', async () => {
    const { registry } = quietRegistry();
    const log: string[] = [];
    registry.subscribe(failing('veto', new Error('no'), log), ROUTER, BEFORE_CREATE, 1);
    registry.subscribe(() => void log.push('after veto'), ROUTER, BEFORE_CREATE, 2);
    registry.subscribe(() => void log.push('abort'), ROUTER, ABORT_CREATE);
    await registry.notify(ROUTER, BEFORE_CREATE, 'test').catch(() => log.push('rejected'));
    expect(log).toEqual(['veto', 'after veto', 'abort', 'rejected']);
  });

  it('throws a CallbackFailure with the before_ errors only, in call order', async () => {
    const { registry } = quietRegistry();
    const [first, second, inAbort] = [new Error('first'), new Error('second'), new Error('abort failed')];
    const a = registry.subscribe(failing('a', first), ROUTER, BEFORE_CREATE, 1);
    registry.subscribe(() => undefined, ROUTER, BEFORE_CREATE, 2);
    const b = registry.subscribe(failing('b', second), ROUTER, BEFORE_CREATE, 3);
    registry.subscribe(failing('c', inAbort), ROUTER, ABORT_CREATE);
    const failure = (await rejection(registry.notify(ROUTER, BEFORE_CREATE, 'test'))) as CallbackFailure;
    expect(failure).toBeInstanceOf(CallbackFailure);
    expect(failure.resource).toBe(ROUTER);
    expect(failure.event).toBe(BEFORE_CREATE);
    expect(failure.errors.map((e) => e.callbackId)).toEqual([a.id, b.id]);
    expect(failure.innerErrors).toEqual([first, second]);
    expect(failure.errors.every((e) => e instanceof NotificationError)).toBe(true);
    expect(failure.message).toContain(a.id);
    expect(failure.message).toContain('second');
  });

  it("logs an abort subscriber's failure at error level, a cancellable one's at debug, and throws neither", async () => {
    const { registry, logger } = quietRegistry();
    const inAbort = new Error('abort failed');
    const inCancellable = new Error('cancellable abort failed');
    registry.subscribe(failing('veto', new Error('no')), ROUTER, BEFORE_DELETE);
    const abort = registry.subscribe(failing('cleanup', inAbort), ROUTER, 'abort_delete');
    const cancellable = registry.subscribe(failing('undo', inCancellable), ROUTER, 'abort_delete', {
      cancellable: true,
    });
    const failure = (await rejection(registry.notify(ROUTER, BEFORE_DELETE, 'test'))) as CallbackFailure;
    expect(failure.innerErrors).not.toContain(inAbort);
    expect(failure.innerErrors).not.toContain(inCancellable);
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain(abort.id);
    expect(errors[0]!.meta).toEqual([inAbort]);
    // A cancellable subscription's failure is logged at debug, as neutron-lib (3.10 and later) does.
    expect(
      logger.lines
        .filter((l) => l.level === 'debug')
        .map((l) => l.message)
        .join('\n'),
    ).toContain(cancellable.id);
  });

  it('logs at error an ordinary failure of an after_ event next to a cancellable one, as neutron-lib does', async () => {
    const { registry, logger } = quietRegistry();
    const ordinary = registry.subscribe(failing('audit', new Error('audit down')), ROUTER, AFTER_DELETE);
    const strict = registry.subscribe(failing('quota', new Error('over quota')), ROUTER, AFTER_DELETE, {
      cancellable: true,
    });
    await rejection(registry.notify(ROUTER, AFTER_DELETE, 'test'));
    const errors = logger.lines.filter((l) => l.level === 'error').map((l) => l.message);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(ordinary.id);
    expect(
      logger.lines
        .filter((l) => l.level === 'debug')
        .map((l) => l.message)
        .join('\n'),
    ).toContain(strict.id);
  });

  it('sends no abort event when every before_ subscriber succeeds', async () => {
    const registry = new CallbackRegistry();
    const aborts: string[] = [];
    registry.subscribe(() => undefined, ROUTER, BEFORE_UPDATE);
    registry.subscribe(() => void aborts.push('abort'), ROUTER, ABORT_UPDATE);
    await registry.notify(ROUTER, BEFORE_UPDATE, 'test');
    expect(aborts).toEqual([]);
  });

  it('rejects even when nobody listens to the abort event', async () => {
    const { registry } = quietRegistry();
    registry.subscribe(failing('veto', new Error('no')), PORT, BEFORE_DELETE);
    await expect(registry.notify(PORT, BEFORE_DELETE, 'test')).rejects.toBeInstanceOf(CallbackFailure);
  });

  it('rewrites only the before_ prefix into abort_', async () => {
    // Neutron quirk fixed: Neutron replaces every 'before_' in the name.
    const { registry } = quietRegistry();
    const aborts: string[] = [];
    untyped(registry).subscribe(failing('veto', new Error('no')), ROUTER, 'before_before_update');
    untyped(registry).subscribe(
      (_p: unknown, n: Notification) => void aborts.push(n.event),
      ROUTER,
      'abort_before_update',
    );
    untyped(registry).subscribe(() => void aborts.push('wrong'), ROUTER, 'abort_abort_update');
    await expect(untyped(registry).notify(ROUTER, 'before_before_update', 'test')).rejects.toBeInstanceOf(
      CallbackFailure,
    );
    expect(aborts).toEqual(['abort_before_update']);
  });

  it('sends the abort event once per failed round, not once per failure', async () => {
    const { registry } = quietRegistry();
    let aborts = 0;
    for (const name of ['a', 'b', 'c']) registry.subscribe(failing(name, new Error(name)), ROUTER, BEFORE_CREATE);
    registry.subscribe(() => void aborts++, ROUTER, ABORT_CREATE);
    await registry.notify(ROUTER, BEFORE_CREATE, 'test').catch(() => undefined);
    expect(aborts).toBe(1);
  });
});

describe('precommit_* events', () => {
  it('throws a CallbackFailure without sending an abort event', async () => {
    const { registry } = quietRegistry();
    const aborts: string[] = [];
    const error = new Error('constraint');
    registry.subscribe(failing('check', error), ROUTER, PRECOMMIT_UPDATE);
    registry.subscribe(() => void aborts.push('abort'), ROUTER, ABORT_UPDATE);
    const failure = (await rejection(registry.notify(ROUTER, PRECOMMIT_UPDATE, 'test'))) as CallbackFailure;
    expect(failure).toBeInstanceOf(CallbackFailure);
    expect(failure.event).toBe(PRECOMMIT_UPDATE);
    expect(failure.innerErrors).toEqual([error]);
    expect(aborts).toEqual([]);
  });

  it('still calls the later precommit_ subscribers before throwing', async () => {
    const { registry } = quietRegistry();
    const log: string[] = [];
    registry.subscribe(failing('check', new Error('no'), log), PORT, PRECOMMIT_CREATE, 1);
    registry.subscribe(() => void log.push('later'), PORT, PRECOMMIT_CREATE, 2);
    await expect(registry.notify(PORT, PRECOMMIT_CREATE, 'test')).rejects.toBeInstanceOf(CallbackFailure);
    expect(log).toEqual(['check', 'later']);
  });
});

describe('other events', () => {
  it('logs a failure at error level, with the callback id and the error, and resolves', async () => {
    const { registry, logger } = quietRegistry();
    const error = new Error('notifier down');
    const sub = registry.subscribe(failing('notifyAgents', error), ROUTER, AFTER_CREATE);
    await expect(registry.notify(ROUTER, AFTER_CREATE, 'test')).resolves.toBeUndefined();
    expect(logger.lines).toEqual([{ level: 'error', message: expect.stringContaining(sub.id), meta: [error] }]);
    expect(logger.lines[0]!.message).toContain(ROUTER);
    expect(logger.lines[0]!.message).toContain(AFTER_CREATE);
  });

  it('rejects with every error when a failing subscription is cancellable', async () => {
    const { registry } = quietRegistry();
    const [plain, guarded] = [new Error('plain'), new Error('guarded')];
    // Neutron's test: AFTER_INIT is neither a before_ nor a precommit_ event.
    const a = untyped(registry).subscribe(failing('plain', plain), PORT, AFTER_INIT, 1);
    const b = untyped(registry).subscribe(failing('guarded', guarded), PORT, AFTER_INIT, {
      priority: 2,
      cancellable: true,
    });
    const failure = (await rejection(untyped(registry).notify(PORT, AFTER_INIT, 'test'))) as CallbackFailure;
    expect(failure).toBeInstanceOf(CallbackFailure);
    expect(failure.errors).toEqual([
      expect.objectContaining({ callbackId: a.id, error: plain, cancellable: false }),
      expect.objectContaining({ callbackId: b.id, error: guarded, cancellable: true }),
    ]);
  });

  it('does not veto when the cancellable subscription succeeds and another fails', async () => {
    const { registry, logger } = quietRegistry();
    registry.subscribe(() => undefined, ROUTER, AFTER_DELETE, { cancellable: true });
    registry.subscribe(failing('plain', new Error('plain')), ROUTER, AFTER_DELETE);
    await expect(registry.notify(ROUTER, AFTER_DELETE, 'test')).resolves.toBeUndefined();
    expect(logger.at('error')).toHaveLength(1);
  });

  it('treats a directly notified abort_ event as any other event', async () => {
    const { registry } = quietRegistry();
    registry.subscribe(failing('cleanup', new Error('no')), ROUTER, ABORT_CREATE, { cancellable: true });
    await expect(registry.notify(ROUTER, ABORT_CREATE, 'test')).rejects.toBeInstanceOf(CallbackFailure);
  });
});

describe('retry', () => {
  it('throws a RetryRequest instead of the CallbackFailure when isRetriable holds for an inner error', async () => {
    const { registry } = quietRegistry({ isRetriable: (e) => e instanceof Deadlock });
    const deadlock = new Deadlock('deadlock');
    registry.subscribe(failing('plain', new Error('plain')), PORT, BEFORE_CREATE);
    registry.subscribe(failing('db', deadlock), PORT, BEFORE_CREATE);
    const error = await rejection(registry.notify(PORT, BEFORE_CREATE, 'test'));
    expect(error).toBeInstanceOf(RetryRequest);
    expect(error).toBeInstanceOf(HeraldError);
    expect(error).not.toBeInstanceOf(CallbackFailure);
    const cause = (error as RetryRequest).cause;
    expect(cause).toBeInstanceOf(CallbackFailure);
    expect(cause.innerErrors).toEqual([expect.any(Error), deadlock]);
    expect((error as Error).message).toContain('deadlock');
  });

  it.each([1, 'yes', {}])('takes a truthy answer (%p) of isRetriable as retriable, as Neutron does', async (answer) => {
    const { registry } = quietRegistry({ isRetriable: (() => answer) as unknown as (e: unknown) => boolean });
    registry.subscribe(failing('db', new Deadlock('deadlock')), PORT, BEFORE_CREATE);
    await expect(registry.notify(PORT, BEFORE_CREATE, 'test')).rejects.toBeInstanceOf(RetryRequest);
    expect(() => registry.notifySync(PORT, BEFORE_CREATE, 'test')).toThrow(RetryRequest);
  });

  it('still runs the abort round before a retry request', async () => {
    const { registry } = quietRegistry({ isRetriable: () => true });
    const log: string[] = [];
    registry.subscribe(failing('db', new Deadlock('deadlock'), log), PORT, BEFORE_CREATE);
    registry.subscribe(() => void log.push('abort'), PORT, ABORT_CREATE);
    await expect(registry.notify(PORT, BEFORE_CREATE, 'test')).rejects.toBeInstanceOf(RetryRequest);
    expect(log).toEqual(['db', 'abort']);
  });

  it('throws the CallbackFailure when no inner error is retriable', async () => {
    const { registry } = quietRegistry({ isRetriable: (e) => e instanceof Deadlock });
    registry.subscribe(failing('plain', new Error('plain')), PORT, PRECOMMIT_CREATE);
    await expect(registry.notify(PORT, PRECOMMIT_CREATE, 'test')).rejects.toBeInstanceOf(CallbackFailure);
  });

  it('asks isRetriable about the callback errors only, each as thrown', async () => {
    const asked: unknown[] = [];
    const { registry } = quietRegistry({
      isRetriable: (e) => {
        asked.push(e);
        return false;
      },
    });
    const [first, second, inAbort] = [new Error('first'), 'second', new Error('abort')];
    registry.subscribe(failing('a', first), PORT, BEFORE_CREATE);
    registry.subscribe(failing('b', second), PORT, BEFORE_CREATE);
    registry.subscribe(failing('c', inAbort), PORT, ABORT_CREATE);
    await expect(registry.notify(PORT, BEFORE_CREATE, 'test')).rejects.toBeInstanceOf(CallbackFailure);
    expect(asked).toEqual([first, second]);
  });

  it('does not ask isRetriable when nothing is thrown', async () => {
    const isRetriable = jest.fn(() => true);
    const { registry } = quietRegistry({ isRetriable });
    registry.subscribe(failing('plain', new Deadlock('x')), PORT, AFTER_CREATE);
    await registry.notify(PORT, AFTER_CREATE, 'test');
    expect(isRetriable).not.toHaveBeenCalled();
  });

  it('turns a cancellable failure on any event into a retry request', async () => {
    const { registry } = quietRegistry({ isRetriable: (e) => e instanceof Deadlock });
    registry.subscribe(failing('db', new Deadlock('x')), PORT, AFTER_CREATE, { cancellable: true });
    await expect(registry.notify(PORT, AFTER_CREATE, 'test')).rejects.toBeInstanceOf(RetryRequest);
  });

  it('logs an isRetriable hook that throws and treats the error as not retriable', async () => {
    const hookError = new Error('hook broke');
    const { registry, logger } = quietRegistry({
      isRetriable: () => {
        throw hookError;
      },
    });
    registry.subscribe(failing('a', new Error('a')), PORT, BEFORE_CREATE);
    await expect(registry.notify(PORT, BEFORE_CREATE, 'test')).rejects.toBeInstanceOf(CallbackFailure);
    expect(logger.lines.filter((l) => l.level === 'error').map((l) => l.meta[0])).toEqual([hookError]);
  });
});

describe('logging', () => {
  it('logs failures that will be thrown at debug level, and nothing at error level', async () => {
    const { registry, logger } = quietRegistry();
    registry.subscribe(failing('veto', new Error('in use')), PORT, BEFORE_DELETE);
    registry.subscribe(failing('check', new Error('constraint')), PORT, PRECOMMIT_CREATE);
    await registry.notify(PORT, BEFORE_DELETE, 'test').catch(() => undefined);
    await registry.notify(PORT, PRECOMMIT_CREATE, 'test').catch(() => undefined);
    expect(logger.at('error')).toEqual([]);
    expect(logger.at('debug')).toEqual([expect.stringContaining('in use'), expect.stringContaining('constraint')]);
  });

  it('works with a logger that has only error()', async () => {
    const errors: unknown[] = [];
    const registry = new CallbackRegistry({ logger: { error: (...args) => void errors.push(args) } });
    registry.subscribe(failing('veto', new Error('in use')), PORT, BEFORE_DELETE);
    registry.subscribe(failing('notify', new Error('down')), PORT, AFTER_DELETE);
    await expect(registry.notify(PORT, BEFORE_DELETE, 'test')).rejects.toBeInstanceOf(CallbackFailure);
    await registry.notify(PORT, AFTER_DELETE, 'test');
    expect(errors).toHaveLength(1);
  });

  it('writes swallowed failures to console.error by default', async () => {
    const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const registry = new CallbackRegistry();
      const error = new Error('down');
      registry.subscribe(failing('notify', error), PORT, AFTER_DELETE);
      await registry.notify(PORT, AFTER_DELETE, 'test');
      expect(spy).toHaveBeenCalledTimes(1);
      expect(spy.mock.calls[0]).toContain(error);
    } finally {
      spy.mockRestore();
    }
  });

  it('takes a logger that is a function with an error() method, as a callable logger is', async () => {
    const messages: string[] = [];
    const logger = Object.assign(() => undefined, { error: (message: string) => void messages.push(message) });
    const registry = new CallbackRegistry({ logger });
    const sub = registry.subscribe(failing('notify', new Error('down')), PORT, AFTER_DELETE);
    await registry.notify(PORT, AFTER_DELETE, 'test');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(sub.id);
    expect(() => new CallbackRegistry({ logger: (() => undefined) as never })).toThrow(
      expect.objectContaining({ name: 'InvalidError', element: 'logger' }),
    );
  });

  it('rejects a logger without error() when the registry is made', () => {
    expect(() => new CallbackRegistry({ logger: {} as never })).toThrow(
      expect.objectContaining({ name: 'InvalidError', element: 'logger' }),
    );
    expect(() => new CallbackRegistry({ isRetriable: 'yes' as never })).toThrow(
      expect.objectContaining({ name: 'InvalidError', element: 'isRetriable' }),
    );
    expect(() => new CallbackRegistry({ name: 5 as never })).toThrow(
      expect.objectContaining({ name: 'InvalidError', element: 'name', value: 5 }),
    );
  });
});

describe('the Neutron event names', () => {
  it('vetoes BEFORE_CREATE, BEFORE_DELETE and PRECOMMIT_* but not AFTER_*', async () => {
    const { registry } = quietRegistry();
    const outcome = async (event: string) => {
      untyped(registry).subscribe(failing(`on_${event}`, new Error(event)), PORT, event);
      return untyped(registry)
        .notify(PORT, event, 'test')
        .then(
          () => 'resolved',
          (e: unknown) => (e as Error).name,
        );
    };
    expect(await outcome(BEFORE_CREATE)).toBe('CallbackFailure');
    expect(await outcome(BEFORE_DELETE)).toBe('CallbackFailure');
    expect(await outcome(PRECOMMIT_CREATE)).toBe('CallbackFailure');
    expect(await outcome(AFTER_CREATE)).toBe('resolved');
    expect(await outcome(AFTER_DELETE)).toBe('resolved');
  });
});
