import { describe, expect, it } from '@jest/globals';
import {
  ABORT_DELETE,
  AFTER_DELETE,
  BEFORE_DELETE,
  CallbackFailure,
  EventPayload,
  InvalidError,
  PORT,
  registry,
  type CallbackRegistry,
} from '@herald/core';
import { createTestRegistry, isolateDefaultRegistry, NotificationRecorder, recordNotifications } from '@herald/testing';

function vetoingRegistry(): CallbackRegistry {
  const { registry: r } = createTestRegistry();
  r.subscribe(
    function preventPortDelete() {
      throw new Error('port is a router interface');
    },
    PORT,
    BEFORE_DELETE,
  );
  r.subscribe(function restorePort() {}, PORT, ABORT_DELETE);
  return r;
}

describe('NotificationRecorder', () => {
  it('records each notification with its payload, subscribers and outcome, abort round first', async () => {
    const r = vetoingRegistry();
    const recorder = recordNotifications(r);
    const payload = new EventPayload(null, { resourceId: 'p1' });
    await expect(r.notify(PORT, BEFORE_DELETE, 'ports', payload)).rejects.toThrow(CallbackFailure);
    await r.notify(PORT, AFTER_DELETE, 'ports', payload);

    expect(recorder.trace()).toEqual(['port abort_delete', 'port before_delete', 'port after_delete']);
    const [abort, before, after] = recorder.records;
    expect(before).toMatchObject({ payload, outcome: 'vetoed', callbacks: ['preventPortDelete#1'] });
    expect(before!.failure).toBeInstanceOf(CallbackFailure);
    expect(abort).toMatchObject({ abortOf: BEFORE_DELETE, outcome: 'ok', callbacks: ['restorePort#2'] });
    expect(after).toMatchObject({ outcome: 'ok', callbacks: [], errors: [] });
  });

  it('finds records by resource and event', async () => {
    const r = vetoingRegistry();
    const recorder = recordNotifications(r);
    await r.notify(PORT, AFTER_DELETE, 'ports');
    await r.notify(PORT, AFTER_DELETE, 'ports');
    expect(recorder.find(PORT, AFTER_DELETE)).toHaveLength(2);
    expect(recorder.find(PORT)).toHaveLength(2);
    expect(recorder.find('router')).toEqual([]);
  });

  it('formats one numbered line per notification', async () => {
    const r = vetoingRegistry();
    const recorder = recordNotifications(r);
    await r.notify(PORT, BEFORE_DELETE, 'ports').catch(() => undefined);
    expect(recorder.format({ time: false }).split('\n')).toEqual([
      '1. port abort_delete (after before_delete was vetoed) by ports → restorePort#2 · ok',
      '2. port before_delete by ports → preventPortDelete#1 ✗ · vetoed: port is a router interface',
    ]);
  });

  it('forgets on clear() and stops recording on stop() or dispose', async () => {
    const r = vetoingRegistry();
    const recorder = recordNotifications(r);
    await r.notify(PORT, AFTER_DELETE, 'ports');
    recorder.clear();
    expect(recorder.records).toEqual([]);
    await r.notify(PORT, AFTER_DELETE, 'ports');
    recorder.stop();
    await r.notify(PORT, AFTER_DELETE, 'ports');
    expect(recorder.records).toHaveLength(1);
    {
      using disposed = recordNotifications(r);
      await r.notify(PORT, AFTER_DELETE, 'ports');
      expect(disposed.records).toHaveLength(1);
    }
  });

  it('records the default registry when none is given', async () => {
    using isolated = isolateDefaultRegistry();
    const recorder = recordNotifications();
    expect(recorder.registry).toBe(isolated.registry);
    await registry.notify(PORT, AFTER_DELETE, 'ports');
    expect(recorder.trace()).toEqual(['port after_delete']);
  });

  it('refuses something that is not a registry', () => {
    expect(() => new NotificationRecorder({} as CallbackRegistry)).toThrow(InvalidError);
    expect(() => recordNotifications(null as unknown as CallbackRegistry)).toThrow(/null for registry/);
  });
});
