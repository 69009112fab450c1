import { describe, expect, it } from '@jest/globals';
import {
  ABORT_CREATE,
  AFTER_CREATE,
  AFTER_DELETE,
  BEFORE_CREATE,
  CallbackFailure,
  CallbackRegistry,
  EventPayload,
  InvalidError,
  PORT,
  PRECOMMIT_CREATE,
  RetryRequest,
  ROUTER,
  type NotificationRecord,
} from '@herald/core';
import { nextTurn, quietRegistry, untyped } from './support.js';

/** A registry with an observer that keeps every record. */
function observed(options: { isRetriable?: (e: unknown) => boolean } = {}) {
  const { registry, logger } = quietRegistry(options);
  const records: NotificationRecord[] = [];
  const observation = registry.observe((record) => void records.push(record));
  return { registry, logger, records, observation };
}

describe('observe', () => {
  it('records a notification that reached nobody', async () => {
    const { registry, records } = observed();
    const payload = new EventPayload(undefined);
    const trigger = {};
    await registry.notify(PORT, AFTER_DELETE, trigger, payload);
    expect(records).toEqual([
      {
        resource: PORT,
        event: AFTER_DELETE,
        trigger,
        payload,
        errors: [],
        callbacks: [],
        failure: undefined,
        abortOf: undefined,
        sync: false,
        durationMs: expect.any(Number),
      },
    ]);
    expect(records[0]!.trigger).toBe(trigger);
    expect(records[0]!.payload).toBe(payload);
    expect(records[0]!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('records the callbacks called, in call order', async () => {
    const { registry, records } = observed();
    const b = registry.subscribe(() => undefined, ROUTER, AFTER_CREATE, 2);
    const a = registry.subscribe(() => undefined, ROUTER, AFTER_CREATE, 1);
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    expect(records.map((r) => r.callbacks)).toEqual([[a.id, b.id]]);
  });

  it('records synchronous notifications with sync: true', () => {
    const { registry, records } = observed();
    registry.subscribe(() => undefined, ROUTER, AFTER_CREATE);
    registry.notifySync(ROUTER, AFTER_CREATE, 'test');
    registry.notifySync(PORT, AFTER_CREATE, 'test');
    expect(records.map((r) => [r.resource, r.sync, r.callbacks.length])).toEqual([
      [ROUTER, true, 1],
      [PORT, true, 0],
    ]);
  });

  it('records a swallowed failure with its errors and no failure', async () => {
    const { registry, records } = observed();
    const error = new Error('down');
    const sub = registry.subscribe(
      () => {
        throw error;
      },
      PORT,
      AFTER_DELETE,
    );
    await registry.notify(PORT, AFTER_DELETE, 'test');
    expect(records).toHaveLength(1);
    expect(records[0]!.errors).toEqual([expect.objectContaining({ callbackId: sub.id, error })]);
    expect(records[0]!.failure).toBeUndefined();
  });

  it('records a vetoed notification with the CallbackFailure the trigger got', async () => {
    const { registry, records } = observed();
    registry.subscribe(
      () => {
        throw new Error('constraint');
      },
      PORT,
      PRECOMMIT_CREATE,
    );
    const thrown = await registry.notify(PORT, PRECOMMIT_CREATE, 'test').catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(CallbackFailure);
    expect(records).toHaveLength(1);
    expect(records[0]!.failure).toBe(thrown);
    expect(records[0]!.errors).toBe((thrown as CallbackFailure).errors);
  });

  it('records a retry request as the failure', async () => {
    const { registry, records } = observed({ isRetriable: () => true });
    registry.subscribe(
      () => {
        throw new Error('deadlock');
      },
      PORT,
      PRECOMMIT_CREATE,
    );
    const thrown = await registry.notify(PORT, PRECOMMIT_CREATE, 'test').catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(RetryRequest);
    expect(records[0]!.failure).toBe(thrown);
  });

  it('records the abort round as a record of its own, before the failed before_ round', async () => {
    const { registry, records } = observed();
    const payload = new EventPayload(undefined);
    const veto = registry.subscribe(
      () => {
        throw new Error('no');
      },
      ROUTER,
      BEFORE_CREATE,
    );
    const cleanup = registry.subscribe(() => undefined, ROUTER, ABORT_CREATE);
    await registry.notify(ROUTER, BEFORE_CREATE, 'trigger', payload).catch(() => undefined);
    expect(records.map((r) => [r.event, r.abortOf, r.callbacks, r.failure?.name])).toEqual([
      [ABORT_CREATE, BEFORE_CREATE, [cleanup.id], undefined],
      [BEFORE_CREATE, undefined, [veto.id], 'CallbackFailure'],
    ]);
    expect(records[0]!.payload).toBe(payload);
    expect(records[0]!.trigger).toBe('trigger');
  });

  it('records the abort round even when nobody listens to it', () => {
    const { registry, records } = observed();
    registry.subscribe(
      () => {
        throw new Error('no');
      },
      ROUTER,
      BEFORE_CREATE,
    );
    expect(() => registry.notifySync(ROUTER, BEFORE_CREATE, 'test')).toThrow(CallbackFailure);
    expect(records.map((r) => [r.event, r.abortOf, r.callbacks.length, r.sync])).toEqual([
      [ABORT_CREATE, BEFORE_CREATE, 0, true],
      [BEFORE_CREATE, undefined, 1, true],
    ]);
  });

  it('lists the callbacks of the round even when the abort round changes the before_ subscribers', async () => {
    const { registry, records } = observed();
    const late = () => undefined;
    const veto = registry.subscribe(
      () => {
        throw new Error('no');
      },
      ROUTER,
      BEFORE_CREATE,
    );
    registry.subscribe(
      () => {
        registry.subscribe(late, ROUTER, BEFORE_CREATE);
        veto.unsubscribe();
      },
      ROUTER,
      ABORT_CREATE,
    );
    await registry.notify(ROUTER, BEFORE_CREATE, 'test').catch(() => undefined);
    expect(records.find((r) => r.event === BEFORE_CREATE)!.callbacks).toEqual([veto.id]);
  });

  it('logs an observer that throws or rejects, never throws it, and still tells the other observers', async () => {
    const { registry, logger, records } = observed();
    const thrown = new Error('observer broke');
    const rejected = new Error('observer rejected');
    registry.observe(function throwing() {
      throw thrown;
    });
    registry.observe(async function rejecting() {
      throw rejected;
    });
    const after: NotificationRecord[] = [];
    registry.observe((r) => void after.push(r));
    await expect(registry.notify(ROUTER, AFTER_CREATE, 'test')).resolves.toBeUndefined();
    expect(() => registry.notifySync(ROUTER, AFTER_CREATE, 'test')).not.toThrow();
    await nextTurn();
    expect(records).toHaveLength(2);
    expect(after).toHaveLength(2);
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors.map((l) => l.meta[0])).toEqual([thrown, rejected, thrown, rejected]);
    expect(errors[0]!.message).toContain('throwing');
  });

  it('cannot veto: a failing observer of a failed before_ round leaves the CallbackFailure as it is', async () => {
    const { registry } = observed();
    registry.observe(() => {
      throw new Error('observer');
    });
    registry.subscribe(
      () => {
        throw new Error('veto');
      },
      ROUTER,
      BEFORE_CREATE,
    );
    await expect(registry.notify(ROUTER, BEFORE_CREATE, 'test')).rejects.toMatchObject({
      name: 'CallbackFailure',
      innerErrors: [expect.objectContaining({ message: 'veto' })],
    });
  });

  it('stops when its subscription is unsubscribed, also with using', async () => {
    const { registry, records, observation } = observed();
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    observation.unsubscribe();
    observation.unsubscribe();
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    const scoped: NotificationRecord[] = [];
    {
      using tap = registry.observe((r) => void scoped.push(r));
      expect(tap.id).toEqual(expect.any(String));
      registry.notifySync(ROUTER, AFTER_CREATE, 'test');
    }
    registry.notifySync(ROUTER, AFTER_CREATE, 'test');
    expect(records).toHaveLength(1);
    expect(scoped).toHaveLength(1);
  });

  it('survives clear()', async () => {
    const { registry, records } = observed();
    registry.clear();
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    expect(records).toHaveLength(1);
  });

  it('takes no number from the ids of subscriptions', () => {
    const registry = new CallbackRegistry();
    const tap = registry.observe(() => undefined);
    function audit(): void {}
    expect(registry.subscribe(audit, ROUTER, AFTER_CREATE).id).toBe('audit#1');
    expect(registry.observe(() => undefined).id).not.toBe(tap.id);
  });

  it('refuses an observer that is not a function', () => {
    const registry = new CallbackRegistry();
    expect(() => registry.observe('log' as never)).toThrow(InvalidError);
  });

  it('records nested notifications, the inner one first', async () => {
    const { registry, records } = observed();
    registry.subscribe(() => untyped(registry).notify(PORT, AFTER_CREATE, 'nested'), ROUTER, AFTER_CREATE);
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    expect(records.map((r) => `${r.resource} ${String(r.trigger)}`)).toEqual(['port nested', 'router test']);
  });
});
