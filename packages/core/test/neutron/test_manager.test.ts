/**
 * neutron_lib/tests/unit/callbacks/test_manager.py, ported to Herald. Neutron's tests look into
 * the manager's private `_callbacks` and `_index`; these read the same facts through
 * `subscriptions()`, `hasSubscribers()` and observers. Callbacks take the payload first.
 */
import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  AFTER_DELETE,
  AFTER_INIT,
  BEFORE_CREATE,
  BEFORE_DELETE,
  CallbackFailure,
  CallbackRegistry,
  EventPayload,
  InvalidError,
  NotificationError,
  PORT,
  PRECOMMIT_CREATE,
  PRECOMMIT_UPDATE,
  PRIORITY_DEFAULT,
  RetryRequest,
  ROUTER,
  type NotificationRecord,
} from '@herald/core';
import { quietRegistry, untyped, type RecordingLogger } from '../support.js';

const PRI_HIGH = 0;
const PRI_MED = 5000;
const PRI_LOW = 10000;

class ObjectWithCallback {
  counter = 0;
  callback(): void {
    this.counter++;
  }
}

class GloriousObjectWithCallback extends ObjectWithCallback {}

/** oslo.db's DBDeadlock: the error Neutron's registry turns into a RetryRequest. */
class DBDeadlock extends Error {}
/** neutron_lib.exceptions.BadRequest. */
class BadRequest extends Error {}

const counters = { callback_1: 0, callback_2: 0, callback_3: 0 };
function callback_1(): void {
  counters.callback_1++;
}
function callback_2(): void {
  counters.callback_2++;
}
function callback_3(): void {
  counters.callback_3++;
}
function callback_raise(): void {
  throw new BadRequest();
}
function callback_raise_retriable(): void {
  throw new DBDeadlock();
}
function callback_raise_not_retriable(): void {
  throw new BadRequest();
}

describe('CallBacksManagerTestCase', () => {
  let manager: CallbackRegistry;
  let logger: RecordingLogger;
  let records: NotificationRecord[];
  let eventPayload: EventPayload;

  beforeEach(() => {
    // oslo.db's retry decorator is Neutron's isRetriable: DBDeadlock is retriable.
    ({ registry: manager, logger } = quietRegistry({ isRetriable: (e) => e instanceof DBDeadlock }));
    records = [];
    manager.observe((record) => void records.push(record));
    eventPayload = new EventPayload({});
    counters.callback_1 = counters.callback_2 = counters.callback_3 = 0;
  });

  /** The ids subscribed to (resource, event), in call order. */
  const idsOf = (resource: string, event: string) =>
    manager
      .subscriptions()
      .filter((s) => s.resource === resource && s.event === event)
      .map((s) => s.id);

  it.each([
    ['test_subscribe_cancellable', true],
    ['test_subscribe_uncancellable', false],
  ])('%s', (_name, cancellable) => {
    const sub = manager.subscribe(callback_1, PORT, BEFORE_CREATE, { cancellable });
    expect(manager.hasSubscribers(PORT, BEFORE_CREATE)).toBe(true);
    // Neutron's id is `<module>.callback_1-<hash>`; Herald's is `callback_1#<n>`.
    expect(sub.id).toMatch(/^callback_1#\d+$/);
    expect(manager.subscriptions()).toEqual([
      { id: sub.id, resource: PORT, event: BEFORE_CREATE, priority: PRIORITY_DEFAULT, cancellable },
    ]);
  });

  it('test_subscribe_unknown', () => {
    untyped(manager).subscribe(callback_1, 'my_resource', 'my-event');
    expect(idsOf('my_resource', 'my-event')).toEqual([expect.stringMatching(/^callback_1#/)]);
  });

  it('test_subscribe_is_idempotent', () => {
    for (const cancellable of [true, false]) {
      manager.subscribe(callback_1, PORT, BEFORE_CREATE, { cancellable });
      manager.subscribe(callback_1, PORT, BEFORE_CREATE, { cancellable });
    }
    expect(idsOf(PORT, BEFORE_CREATE)).toHaveLength(1);
    // Neutron quirk fixed: Neutron keeps the first flag (True) because it belongs to the priority
    // bucket; in Herald it belongs to the subscription and the last subscribe (False) sets it.
    expect(manager.subscriptions()[0]!.cancellable).toBe(false);
  });

  it('test_subscribe_multiple_callbacks', () => {
    manager.subscribe(callback_1, PORT, BEFORE_CREATE);
    manager.subscribe(callback_2, PORT, BEFORE_CREATE);
    const subs = manager.subscriptions();
    expect(new Set(subs.map((s) => s.id)).size).toBe(2);
    expect(new Set(subs.map((s) => s.priority))).toEqual(new Set([PRIORITY_DEFAULT]));
  });

  it('test_unsubscribe_during_iteration', async () => {
    const unsub = () => manager.unsubscribe(unsub, PORT, BEFORE_CREATE);
    manager.subscribe(unsub, PORT, BEFORE_CREATE);
    await manager.publish(PORT, BEFORE_CREATE, 'trigger', eventPayload);
    expect(manager.subscriptions()).toEqual([]);
  });

  it.each([
    ['test_unsubscribe_cancellable', true],
    ['test_unsubscribe_uncancellable', false],
  ])('%s', (_name, cancellable) => {
    manager.subscribe(callback_1, PORT, BEFORE_CREATE, { cancellable });
    manager.unsubscribe(callback_1, PORT, BEFORE_CREATE);
    expect(idsOf(PORT, BEFORE_CREATE)).toEqual([]);
    expect(manager.subscriptions()).toEqual([]);
  });

  it('test_unsubscribe_unknown_callback', () => {
    manager.subscribe(callback_2, PORT, BEFORE_CREATE);
    // Neutron passes mock.ANY; Herald wants strings, so any unknown ones.
    untyped(manager).unsubscribe(callback_1, 'any-resource', 'any-event');
    expect(manager.subscriptions()).toHaveLength(1);
  });

  it('test_fail_to_unsubscribe', () => {
    manager.subscribe(callback_1, PORT, BEFORE_CREATE);
    expect(() => untyped(manager).unsubscribe(callback_1, PORT, null)).toThrow(InvalidError);
    expect(() => untyped(manager).unsubscribe(callback_1, null, BEFORE_CREATE)).toThrow(InvalidError);
    expect(manager.subscriptions()).toHaveLength(1);
  });

  it.each([
    ['test_unsubscribe_is_idempotent_cancellable', true],
    ['test_unsubscribe_is_idempotent_uncancellable', false],
  ])('%s', (_name, cancellable) => {
    manager.subscribe(callback_1, PORT, BEFORE_CREATE, { cancellable });
    manager.unsubscribe(callback_1, PORT, BEFORE_CREATE);
    manager.unsubscribe(callback_1, PORT, BEFORE_CREATE);
    expect(manager.subscriptions()).toEqual([]);
  });

  it('test_unsubscribe_by_resource', () => {
    manager.subscribe(callback_1, PORT, BEFORE_CREATE);
    manager.subscribe(callback_1, PORT, BEFORE_DELETE);
    const two = manager.subscribe(callback_2, PORT, BEFORE_DELETE);
    manager.unsubscribeByResource(callback_1, PORT);
    expect(idsOf(PORT, BEFORE_CREATE)).toEqual([]);
    expect(idsOf(PORT, BEFORE_DELETE)).toEqual([two.id]);
  });

  it('test_unsubscribe_all', () => {
    manager.subscribe(callback_1, PORT, BEFORE_CREATE);
    manager.subscribe(callback_1, PORT, BEFORE_DELETE);
    manager.subscribe(callback_1, ROUTER, BEFORE_CREATE);
    manager.unsubscribeAll(callback_1);
    expect(manager.subscriptions()).toEqual([]);
  });

  it('test_publish_none', async () => {
    await manager.publish(PORT, BEFORE_CREATE, 'trigger', eventPayload);
    expect(counters.callback_1).toBe(0);
    expect(counters.callback_2).toBe(0);
  });

  it('test_feebly_referenced_callback', async () => {
    // Herald holds its callbacks strongly: an inline function stays subscribed and is called.
    let called = false;
    manager.subscribe(() => void (called = true), PORT, BEFORE_CREATE);
    await manager.publish(PORT, BEFORE_CREATE, 'trigger', eventPayload);
    expect(called).toBe(true);
  });

  it('test_publish_with_exception', async () => {
    // Neutron mocks its notify loop to fail; here a subscriber fails. Both rounds are seen by an
    // observer: before_create, then abort_create, with the same payload.
    manager.subscribe(callback_raise, PORT, BEFORE_CREATE);
    await expect(manager.publish(PORT, BEFORE_CREATE, 'trigger', eventPayload)).rejects.toBeInstanceOf(CallbackFailure);
    expect(records.map((r) => [r.event, r.payload])).toEqual([
      ['abort_create', eventPayload],
      [BEFORE_CREATE, eventPayload],
    ]);
  });

  it('test_publish_with_precommit_exception', async () => {
    untyped(manager).subscribe(callback_raise, PORT, PRECOMMIT_UPDATE);
    await expect(untyped(manager).publish(PORT, PRECOMMIT_UPDATE, 'trigger', eventPayload)).rejects.toBeInstanceOf(
      CallbackFailure,
    );
    expect(records.map((r) => [r.event, r.payload])).toEqual([[PRECOMMIT_UPDATE, eventPayload]]);
  });

  it('test_publish_handle_exception', async () => {
    manager.subscribe(callback_raise, PORT, BEFORE_CREATE);
    const e = (await manager.publish(PORT, BEFORE_CREATE, 'trigger', eventPayload).catch((x: unknown) => x)) as
      CallbackFailure | undefined;
    expect(e).toBeInstanceOf(CallbackFailure);
    expect(e!.errors[0]).toBeInstanceOf(NotificationError);
  });

  it('test_publish_handle_retriable_exception', async () => {
    manager.subscribe(callback_raise_retriable, PORT, BEFORE_CREATE);
    await expect(manager.publish(PORT, BEFORE_CREATE, 'trigger', eventPayload)).rejects.toBeInstanceOf(RetryRequest);
  });

  it('test_publish_handle_not_retriable_exception', async () => {
    manager.subscribe(callback_raise_not_retriable, PORT, BEFORE_CREATE);
    await expect(manager.publish(PORT, BEFORE_CREATE, 'trigger', eventPayload)).rejects.toBeInstanceOf(CallbackFailure);
  });

  it('test_publish_handle_not_retriable_exception_no_cancellable_flag', async () => {
    untyped(manager).subscribe(callback_raise_not_retriable, PORT, AFTER_INIT);
    await expect(untyped(manager).publish(PORT, AFTER_INIT, 'trigger', eventPayload)).resolves.toBeUndefined();
  });

  it('test_publish_handle_not_retriable_exception_cancellable_flag', async () => {
    untyped(manager).subscribe(callback_raise_not_retriable, PORT, AFTER_INIT, { cancellable: true });
    await expect(untyped(manager).publish(PORT, AFTER_INIT, 'trigger', eventPayload)).rejects.toBeInstanceOf(
      CallbackFailure,
    );
  });

  it('test_publish_called_once_with_no_failures', async () => {
    manager.subscribe(callback_1, PORT, BEFORE_CREATE);
    await manager.publish(PORT, BEFORE_CREATE, 'trigger', eventPayload);
    expect(records.map((r) => [r.resource, r.event, r.trigger, r.payload])).toEqual([
      [PORT, BEFORE_CREATE, 'trigger', eventPayload],
    ]);
  });

  it('test__notify_loop_single_event', async () => {
    manager.subscribe(callback_1, PORT, BEFORE_CREATE);
    manager.subscribe(callback_2, PORT, BEFORE_CREATE);
    await manager.notify(PORT, BEFORE_CREATE, 'trigger');
    expect([counters.callback_1, counters.callback_2]).toEqual([1, 1]);
  });

  it('test__notify_loop_multiple_events', async () => {
    manager.subscribe(callback_1, PORT, BEFORE_CREATE);
    manager.subscribe(callback_1, ROUTER, BEFORE_DELETE);
    manager.subscribe(callback_2, PORT, BEFORE_CREATE);
    await manager.notify(PORT, BEFORE_CREATE, 'trigger');
    await manager.notify(ROUTER, BEFORE_DELETE, 'trigger');
    expect([counters.callback_1, counters.callback_2]).toEqual([2, 1]);
  });

  it('test_clearing_subscribers', () => {
    manager.subscribe(callback_1, PORT, BEFORE_CREATE);
    manager.subscribe(callback_2, PORT, 'after_create');
    expect(manager.subscriptions()).toHaveLength(2);
    manager.clear();
    expect(manager.subscriptions()).toEqual([]);
  });

  it('test_callback_priority', () => {
    const priFirst = PRIORITY_DEFAULT - 100;
    const priLast = PRIORITY_DEFAULT + 100;
    untyped(manager).subscribe(callback_1, 'my-resource', 'my-event');
    untyped(manager).subscribe(callback_2, 'my-resource', 'my-event', priLast);
    untyped(manager).subscribe(callback_3, 'my-resource', 'my-event', priFirst);
    expect(manager.subscriptions().map((s) => s.priority)).toEqual([priFirst, PRIORITY_DEFAULT, priLast]);
  });

  it('test_del_callback_called_on_unsubscribe', () => {
    untyped(manager).subscribe(callback_1, 'my-resource', 'my-event');
    expect(idsOf('my-resource', 'my-event')).toHaveLength(1);
    untyped(manager).unsubscribe(callback_1, 'my-resource', 'my-event');
    expect(idsOf('my-resource', 'my-event')).toEqual([]);
    expect(untyped(manager).hasSubscribers('my-resource', 'my-event')).toBe(false);
  });

  it('test_callback_order', async () => {
    const one = untyped(manager).subscribe(callback_1, 'my-resource', 'my-event', PRI_MED);
    const two = untyped(manager).subscribe(callback_2, 'my-resource', 'my-event', PRI_HIGH);
    untyped(manager).subscribe(callback_3, 'my-resource', 'my-event', PRI_LOW);
    expect(idsOf('my-resource', 'my-event')).toHaveLength(3);
    untyped(manager).unsubscribe(callback_3, 'my-resource', 'my-event');
    await untyped(manager).publish('my-resource', 'my-event', 'trigger', eventPayload);
    expect(idsOf('my-resource', 'my-event')).toHaveLength(2);
    expect(counters).toEqual({ callback_1: 1, callback_2: 1, callback_3: 0 });
    // Neutron reads the call order from its debug log; Herald's observers get it.
    expect(records[0]!.callbacks).toEqual([two.id, one.id]);
  });

  it('test__notify_loop_skip_log_errors', async () => {
    manager.subscribe(callback_raise, PORT, BEFORE_CREATE);
    manager.subscribe(callback_raise, PORT, PRECOMMIT_CREATE);
    await manager.notify(PORT, BEFORE_CREATE, 'trigger').catch(() => undefined);
    await manager.notify(PORT, PRECOMMIT_CREATE, 'trigger').catch(() => undefined);
    expect(logger.at('error')).toEqual([]);
    expect(logger.at('debug').length).toBeGreaterThan(0);
  });

  it('test_object_instances_as_subscribers', async () => {
    // Ensures that the registry doesn't think these are equivalent. Neutron subscribes bound
    // methods (`o.callback`); Herald subscribes the method with the instance as owner.
    const a = new GloriousObjectWithCallback();
    const b = new ObjectWithCallback();
    const c = new ObjectWithCallback();
    for (const o of [a, b, c]) {
      manager.subscribe(ObjectWithCallback.prototype.callback, PORT, BEFORE_CREATE, { owner: o });
      // ensure idempotency remains for a single object
      manager.subscribe(ObjectWithCallback.prototype.callback, PORT, BEFORE_CREATE, { owner: o });
    }
    await manager.publish(PORT, BEFORE_CREATE, 'trigger', new EventPayload({}));
    expect([a.counter, b.counter, c.counter]).toEqual([1, 1, 1]);
  });

  it('test_publish_invalid_payload', async () => {
    await expect(untyped(manager).publish(PORT, AFTER_DELETE, 'trigger', {})).rejects.toBeInstanceOf(InvalidError);
  });

  it('test_publish_empty_payload', async () => {
    const notifyPayload: unknown[] = [];
    untyped(manager).subscribe((payload: unknown) => void notifyPayload.push(payload), 'x', 'y');
    await untyped(manager).publish('x', 'y', 'trigger');
    expect(notifyPayload).toEqual([undefined]);
  });

  it('test_publish_payload', async () => {
    const notifyPayload: unknown[] = [];
    untyped(manager).subscribe((payload: unknown) => void notifyPayload.push(payload), 'x', 'y');
    await untyped(manager).publish('x', 'y', 'trigger', eventPayload);
    expect(notifyPayload[0]).toBe(eventPayload);
  });
});
