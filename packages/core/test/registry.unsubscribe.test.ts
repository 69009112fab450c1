import { describe, expect, it } from '@jest/globals';
import {
  AFTER_CREATE,
  AFTER_DELETE,
  BEFORE_CREATE,
  BEFORE_DELETE,
  CallbackRegistry,
  InvalidError,
  NETWORK,
  PORT,
  ROUTER,
} from '@herald/core';
import { untyped } from './support.js';

/** The (resource, event) pairs `registry` lists, as `resource.event` strings. */
function pairs(registry: CallbackRegistry): string[] {
  return registry.subscriptions().map((s) => `${s.resource}.${s.event}`);
}

describe('unsubscribe', () => {
  it('stops the callback from being called', async () => {
    const registry = new CallbackRegistry();
    let calls = 0;
    const callback = () => void calls++;
    registry.subscribe(callback, PORT, BEFORE_CREATE);
    registry.unsubscribe(callback, PORT, BEFORE_CREATE);
    await registry.notify(PORT, BEFORE_CREATE, 'test');
    expect(calls).toBe(0);
    expect(registry.hasSubscribers(PORT, BEFORE_CREATE)).toBe(false);
    expect(registry.subscriptions()).toEqual([]);
  });

  it('removes only the named (resource, event)', () => {
    const registry = new CallbackRegistry();
    const callback = () => undefined;
    registry.subscribe(callback, PORT, BEFORE_CREATE);
    registry.subscribe(callback, PORT, AFTER_CREATE);
    registry.subscribe(callback, ROUTER, BEFORE_CREATE);
    registry.unsubscribe(callback, PORT, BEFORE_CREATE);
    expect(pairs(registry)).toEqual(['port.after_create', 'router.before_create']);
  });

  it("names the owner-less subscription without an owner, and that owner's with one", () => {
    const registry = new CallbackRegistry();
    const callback = () => undefined;
    const [a, b] = [{}, {}];
    registry.subscribe(callback, PORT, BEFORE_CREATE);
    registry.subscribe(callback, PORT, BEFORE_CREATE, { owner: a });
    registry.subscribe(callback, PORT, BEFORE_CREATE, { owner: b });
    registry.unsubscribe(callback, PORT, BEFORE_CREATE);
    expect(registry.subscriptions().map((s) => s.owner)).toEqual([a, b]);
    registry.unsubscribe(callback, PORT, BEFORE_CREATE, b);
    expect(registry.subscriptions().map((s) => s.owner)).toEqual([a]);
  });

  it('is a no-op for a callback that was never subscribed', () => {
    const registry = new CallbackRegistry();
    const subscribed = () => undefined;
    registry.subscribe(subscribed, PORT, BEFORE_CREATE);
    const before = registry.subscriptions();
    registry.unsubscribe(() => undefined, PORT, BEFORE_CREATE);
    registry.unsubscribe(subscribed, PORT, BEFORE_CREATE, {});
    expect(registry.subscriptions()).toEqual(before);
  });

  it('is a no-op for an unknown resource or event', () => {
    // Neutron quirk fixed: Neutron raises for an event nobody subscribed to.
    const registry = new CallbackRegistry();
    const callback = () => undefined;
    registry.subscribe(callback, PORT, BEFORE_CREATE);
    expect(() => untyped(registry).unsubscribe(callback, 'no-such-resource', BEFORE_CREATE)).not.toThrow();
    expect(() => untyped(registry).unsubscribe(callback, PORT, 'no-such-event')).not.toThrow();
    expect(pairs(registry)).toEqual(['port.before_create']);
  });

  it('is a no-op the second time', () => {
    const registry = new CallbackRegistry();
    const callback = () => undefined;
    const keep = () => undefined;
    registry.subscribe(callback, PORT, BEFORE_CREATE);
    registry.subscribe(keep, PORT, BEFORE_CREATE);
    registry.unsubscribe(callback, PORT, BEFORE_CREATE);
    registry.unsubscribe(callback, PORT, BEFORE_CREATE);
    expect(registry.subscriptions()).toHaveLength(1);
  });

  const malformed: [what: string, args: unknown[], element: string][] = [
    ['a callback that is not a function', ['cb', PORT, BEFORE_CREATE], 'callback'],
    ['an empty resource', [() => undefined, '', BEFORE_CREATE], 'resource'],
    ['a null resource', [() => undefined, null, BEFORE_CREATE], 'resource'],
    ['an empty event', [() => undefined, PORT, ''], 'event'],
    ['an undefined event', [() => undefined, PORT, undefined], 'event'],
    ['an owner that is not an object', [() => undefined, PORT, BEFORE_CREATE, 3], 'owner'],
  ];
  it.each(malformed)('rejects %s with an InvalidError', (_what, args, element) => {
    const registry = new CallbackRegistry();
    registry.subscribe(() => undefined, PORT, BEFORE_CREATE);
    const before = registry.subscriptions();
    const [callback, resource, event, owner] = args;
    expect(() => untyped(registry).unsubscribe(callback, resource, event, owner)).toThrow(
      expect.objectContaining({ name: 'InvalidError', element }),
    );
    expect(registry.subscriptions()).toEqual(before);
  });
});

describe('unsubscribeByResource', () => {
  it('removes the callback from every event of the resource, and nothing else', () => {
    const registry = new CallbackRegistry();
    const callback = () => undefined;
    const other = () => undefined;
    registry.subscribe(callback, PORT, BEFORE_CREATE);
    registry.subscribe(callback, PORT, BEFORE_DELETE);
    registry.subscribe(other, PORT, BEFORE_DELETE);
    registry.subscribe(callback, ROUTER, BEFORE_DELETE);
    registry.unsubscribeByResource(callback, PORT);
    expect(pairs(registry)).toEqual(['port.before_delete', 'router.before_delete']);
    expect(registry.hasSubscribers(PORT, BEFORE_CREATE)).toBe(false);
  });

  it('removes only the subscriptions of the given owner (or the owner-less ones)', () => {
    const registry = new CallbackRegistry();
    const callback = () => undefined;
    const owner = {};
    registry.subscribe(callback, PORT, BEFORE_CREATE);
    registry.subscribe(callback, PORT, BEFORE_DELETE, { owner });
    registry.unsubscribeByResource(callback, PORT);
    expect(registry.subscriptions()).toMatchObject([{ event: BEFORE_DELETE, owner }]);
    registry.unsubscribeByResource(callback, PORT, owner);
    expect(registry.subscriptions()).toEqual([]);
  });

  it('is a no-op for an unknown callback or resource, and an InvalidError for a malformed one', () => {
    const registry = new CallbackRegistry();
    const callback = () => undefined;
    registry.subscribe(callback, PORT, BEFORE_CREATE);
    registry.unsubscribeByResource(() => undefined, PORT);
    untyped(registry).unsubscribeByResource(callback, 'no-such-resource');
    expect(pairs(registry)).toEqual(['port.before_create']);
    expect(() => untyped(registry).unsubscribeByResource(callback, '')).toThrow(InvalidError);
    expect(() => untyped(registry).unsubscribeByResource(undefined, PORT)).toThrow(InvalidError);
  });
});

describe('unsubscribeAll', () => {
  it('removes the callback from every resource and event', async () => {
    const registry = new CallbackRegistry();
    let calls = 0;
    const callback = () => void calls++;
    const other = () => undefined;
    registry.subscribe(callback, PORT, BEFORE_CREATE);
    registry.subscribe(callback, PORT, BEFORE_DELETE);
    registry.subscribe(callback, ROUTER, BEFORE_CREATE);
    registry.subscribe(other, NETWORK, AFTER_DELETE);
    registry.unsubscribeAll(callback);
    expect(pairs(registry)).toEqual(['network.after_delete']);
    await registry.notify(ROUTER, BEFORE_CREATE, 'test');
    expect(calls).toBe(0);
  });

  it("removes only the given owner's subscriptions", () => {
    const registry = new CallbackRegistry();
    const callback = () => undefined;
    const [a, b] = [{}, {}];
    registry.subscribe(callback, PORT, BEFORE_CREATE, { owner: a });
    registry.subscribe(callback, ROUTER, BEFORE_CREATE, { owner: a });
    registry.subscribe(callback, ROUTER, BEFORE_CREATE, { owner: b });
    registry.subscribe(callback, ROUTER, BEFORE_CREATE);
    registry.unsubscribeAll(callback, a);
    expect(registry.subscriptions().map((s) => s.owner)).toEqual([b, undefined]);
  });

  it('is a no-op for an unknown callback and an InvalidError for a non-function', () => {
    const registry = new CallbackRegistry();
    registry.subscribe(() => undefined, PORT, BEFORE_CREATE);
    registry.unsubscribeAll(() => undefined);
    expect(registry.subscriptions()).toHaveLength(1);
    expect(() => untyped(registry).unsubscribeAll(42)).toThrow(expect.objectContaining({ element: 'callback' }));
  });
});

describe('the Subscription handle', () => {
  it('unsubscribes with unsubscribe(), and again does nothing', () => {
    const registry = new CallbackRegistry();
    const sub = registry.subscribe(() => undefined, PORT, BEFORE_CREATE);
    const keep = registry.subscribe(() => undefined, PORT, BEFORE_CREATE);
    sub.unsubscribe();
    sub.unsubscribe();
    expect(registry.subscriptions().map((s) => s.id)).toEqual([keep.id]);
  });

  it('unsubscribes at the end of a `using` block', async () => {
    const registry = new CallbackRegistry();
    let calls = 0;
    {
      using sub = registry.subscribe(() => void calls++, PORT, AFTER_CREATE);
      expect(sub.id).toEqual(expect.any(String));
      await registry.notify(PORT, AFTER_CREATE, 'test');
    }
    await registry.notify(PORT, AFTER_CREATE, 'test');
    expect(calls).toBe(1);
    expect(registry.subscriptions()).toEqual([]);
  });

  it('unsubscribes with [Symbol.dispose]()', () => {
    const registry = new CallbackRegistry();
    registry.subscribe(() => undefined, PORT, AFTER_CREATE)[Symbol.dispose]();
    expect(registry.subscriptions()).toEqual([]);
  });

  it('does nothing after clear(), even when the same callback was subscribed again', () => {
    const registry = new CallbackRegistry();
    const callback = () => undefined;
    const old = registry.subscribe(callback, PORT, AFTER_CREATE);
    registry.clear();
    const fresh = registry.subscribe(callback, PORT, AFTER_CREATE);
    old.unsubscribe();
    expect(registry.subscriptions().map((s) => s.id)).toEqual([fresh.id]);
  });

  it('of a re-subscription is the one subscription', () => {
    const registry = new CallbackRegistry();
    const callback = () => undefined;
    registry.subscribe(callback, PORT, AFTER_CREATE);
    registry.subscribe(callback, PORT, AFTER_CREATE, 3).unsubscribe();
    expect(registry.subscriptions()).toEqual([]);
  });
});

describe('clear', () => {
  it('removes every subscription', async () => {
    const registry = new CallbackRegistry();
    let calls = 0;
    registry.subscribe(() => void calls++, PORT, BEFORE_CREATE);
    registry.subscribe(() => void calls++, ROUTER, AFTER_CREATE, { owner: {} });
    registry.clear();
    expect(registry.subscriptions()).toEqual([]);
    expect(registry.hasSubscribers(PORT, BEFORE_CREATE)).toBe(false);
    await registry.notify(PORT, BEFORE_CREATE, 'test');
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    expect(calls).toBe(0);
  });

  it('lets the same callbacks subscribe again afterwards', () => {
    const registry = new CallbackRegistry();
    const callback = () => undefined;
    registry.subscribe(callback, PORT, BEFORE_CREATE);
    registry.clear();
    registry.subscribe(callback, PORT, BEFORE_CREATE);
    expect(pairs(registry)).toEqual(['port.before_create']);
  });
});
