import { afterEach, describe, expect, it } from '@jest/globals';
import {
  AFTER_CREATE,
  BEFORE_CREATE,
  CallbackRegistry,
  InvalidError,
  events,
  registry,
  resources,
  setDefaultRegistry,
} from '@herald/core';

describe('the default registry', () => {
  const restores: (() => void)[] = [];
  afterEach(() => {
    while (restores.length > 0) restores.pop()!();
  });

  it('is a CallbackRegistry that Neutron-style code can use as written', async () => {
    expect(registry).toBeInstanceOf(CallbackRegistry);
    const isolated = new CallbackRegistry();
    restores.push(setDefaultRegistry(isolated));
    const calls: string[] = [];
    const callback2 = () => void calls.push('callback2');
    registry.subscribe(callback2, resources.ROUTER, events.BEFORE_CREATE);
    await registry.notify(resources.ROUTER, events.BEFORE_CREATE, 'test');
    expect(calls).toEqual(['callback2']);
    expect(isolated.hasSubscribers(resources.ROUTER, events.BEFORE_CREATE)).toBe(true);
  });

  it('is swapped by setDefaultRegistry and restored by the function it returns', () => {
    const original = registry;
    const isolated = new CallbackRegistry({ name: 'isolated' });
    const restore = setDefaultRegistry(isolated);
    expect(registry).toBe(isolated);
    registry.subscribe(() => undefined, resources.PORT, AFTER_CREATE);
    restore();
    expect(registry).toBe(original);
    expect(original.hasSubscribers(resources.PORT, AFTER_CREATE)).toBe(false);
    expect(isolated.hasSubscribers(resources.PORT, AFTER_CREATE)).toBe(true);
  });

  it('restores nested swaps in reverse order', () => {
    const original = registry;
    const [outer, inner] = [new CallbackRegistry(), new CallbackRegistry()];
    const restoreOuter = setDefaultRegistry(outer);
    const restoreInner = setDefaultRegistry(inner);
    expect(registry).toBe(inner);
    restoreInner();
    expect(registry).toBe(outer);
    restoreOuter();
    expect(registry).toBe(original);
  });

  it('refuses something that is not a CallbackRegistry, and keeps the current one', () => {
    const original = registry;
    expect(() => setDefaultRegistry({ notify: () => undefined } as never)).toThrow(InvalidError);
    expect(registry).toBe(original);
  });

  it('keeps what was subscribed to the original registry while a test swaps it', async () => {
    const calls: string[] = [];
    const callback = () => void calls.push('original');
    using _sub = registry.subscribe(callback, resources.NETWORK, BEFORE_CREATE);
    const restore = setDefaultRegistry(new CallbackRegistry());
    await registry.notify(resources.NETWORK, BEFORE_CREATE, 'test');
    restore();
    await registry.notify(resources.NETWORK, BEFORE_CREATE, 'test');
    expect(calls).toEqual(['original']);
  });
});
