/**
 * neutron_lib/tests/unit/callbacks/test_registry.py, ported to Herald. Neutron's
 * `@registry.has_registry_receivers` subscribes an instance's `@registry.receives` methods when it
 * is constructed; Herald's core keeps `@OnResource` as metadata and `subscribeInstance` subscribes
 * (the inversify package does it at container boot).
 */
import { describe, expect, it, jest } from '@jest/globals';
import {
  AFTER_CREATE,
  AFTER_DELETE,
  AFTER_UPDATE,
  BEFORE_CREATE,
  EventPayload,
  NETWORK,
  OnResource,
  PORT,
  PRIORITY_DEFAULT,
  handlersOf,
  registry,
  subscribeInstance,
} from '@herald/core';
import { isolateDefaultRegistry, untyped } from '../support.js';

const PRI_CALLBACK = 20;

class ObjectWithDecoratedCallback {
  counter = 0;

  @OnResource(PORT, [AFTER_CREATE, AFTER_UPDATE])
  @OnResource(NETWORK, [AFTER_DELETE])
  callback(): void {
    this.counter++;
  }
}

/** Python's MixinWithNew: a class with construction logic of its own between decorated classes. */
class MixinWithNew extends ObjectWithDecoratedCallback {
  readonly newCalled: boolean;
  constructor() {
    super();
    this.newCalled = true;
  }
}

class AnotherObjectWithDecoratedCallback extends MixinWithNew {
  counter2 = 0;

  @OnResource(NETWORK, [AFTER_DELETE], { priority: PRI_CALLBACK })
  callback2(): void {
    this.counter2++;
  }
}

class CallbackClassWithParameters {
  constructor(readonly dummy: string) {}

  @OnResource(PORT, AFTER_CREATE)
  callback(): void {}
}

function my_callback(): void {}

describe('CallBacksManagerTestCase', () => {
  const fixture = isolateDefaultRegistry();

  it('test_decorated_inst_method_receives', async () => {
    const i1 = subscribed(new ObjectWithDecoratedCallback());
    const eventPayload = new EventPayload({});
    await registry.publish(PORT, BEFORE_CREATE, 'test', eventPayload);
    expect(i1.counter).toBe(0);
    await registry.publish(PORT, AFTER_CREATE, 'test', eventPayload);
    expect(i1.counter).toBe(1);
    await registry.publish(PORT, AFTER_UPDATE, 'test', eventPayload);
    expect(i1.counter).toBe(2);
    await registry.publish(NETWORK, AFTER_UPDATE, 'test', eventPayload);
    expect(i1.counter).toBe(2);
    await registry.publish(NETWORK, AFTER_DELETE, 'test', eventPayload);
    expect(i1.counter).toBe(3);
    const i2 = subscribed(new ObjectWithDecoratedCallback());
    expect(i2.counter).toBe(0);
    await registry.publish(NETWORK, AFTER_DELETE, 'test', eventPayload);
    expect(i1.counter).toBe(4);
    expect(i2.counter).toBe(1);
  });

  it('test_object_inheriting_others_no_double_subscribe', () => {
    const subscribe = jest.spyOn(fixture.current, 'subscribe');
    const callback = subscribed(new AnotherObjectWithDecoratedCallback());
    // there are 2 methods (1 in the parent and 1 in the child): the parent's subscribes to 3
    // events, the child's to 1, so 4 subscribes
    expect(subscribe).toHaveBeenCalledTimes(4);
    expect(subscribe).toHaveBeenCalledWith(callback.callback2, NETWORK, AFTER_DELETE, {
      priority: PRI_CALLBACK,
      cancellable: false,
      owner: callback,
    });
    expect(fixture.current.subscriptions()).toHaveLength(4);
  });

  it('test_new_inheritance_not_broken', () => {
    expect(new AnotherObjectWithDecoratedCallback().newCalled).toBe(true);
  });

  it('test_object_new_not_broken', () => {
    const instance = subscribed(new CallbackClassWithParameters('dummy'));
    expect(instance.dummy).toBe('dummy');
  });

  it('test_no_strings_in_events_arg', () => {
    // Neutron asserts that `events` is a list, since a string would be taken as its characters.
    // Herald takes one event or a list, so a string is one event.
    class Single {
      @OnResource(PORT, AFTER_CREATE)
      callback(): void {}
    }
    expect(handlersOf(Single).map((h) => h.event)).toEqual([AFTER_CREATE]);
  });

  /** What `has_registry_receivers` does at construction: subscribe the instance's handlers. */
  function subscribed<T extends object>(instance: T): T {
    subscribeInstance(registry, instance);
    return instance;
  }
});

describe('TestCallbackRegistryDispatching', () => {
  // Neutron swaps the registry's manager for a mock; Herald swaps the default registry for an
  // isolated one and spies on it.
  const fixture = isolateDefaultRegistry();

  it('test_subscribe', () => {
    untyped(registry).subscribe(my_callback, 'my-resource', 'my-event');
    expect(fixture.current.subscriptions()).toMatchObject([
      { resource: 'my-resource', event: 'my-event', priority: PRIORITY_DEFAULT, cancellable: false },
    ]);
  });

  it('test_subscribe_explicit_priority', () => {
    untyped(registry).subscribe(my_callback, 'my-resource', 'my-event', PRI_CALLBACK);
    expect(fixture.current.subscriptions()).toMatchObject([
      { resource: 'my-resource', event: 'my-event', priority: PRI_CALLBACK, cancellable: false },
    ]);
  });

  it('test_unsubscribe', () => {
    const unsubscribe = jest.spyOn(untyped(fixture.current), 'unsubscribe');
    untyped(registry).unsubscribe(my_callback, 'my-resource', 'my-event');
    expect(unsubscribe).toHaveBeenCalledWith(my_callback, 'my-resource', 'my-event');
  });

  it('test_unsubscribe_by_resource', () => {
    const unsubscribeByResource = jest.spyOn(untyped(fixture.current), 'unsubscribeByResource');
    untyped(registry).unsubscribeByResource(my_callback, 'my-resource');
    expect(unsubscribeByResource).toHaveBeenCalledWith(my_callback, 'my-resource');
  });

  it('test_unsubscribe_all', () => {
    const unsubscribeAll = jest.spyOn(fixture.current, 'unsubscribeAll');
    registry.unsubscribeAll(my_callback);
    expect(unsubscribeAll).toHaveBeenCalledWith(my_callback);
  });

  it('test_clear', () => {
    const clear = jest.spyOn(fixture.current, 'clear');
    registry.clear();
    expect(clear).toHaveBeenCalledWith();
  });

  it('test_publish_payload', async () => {
    const publish = jest.spyOn(untyped(fixture.current), 'publish');
    const eventPayload = new EventPayload({});
    await untyped(registry).publish('x', 'y', 'test', eventPayload);
    expect(publish).toHaveBeenCalledWith('x', 'y', 'test', eventPayload);
  });
});
