/**
 * A callback subscribed, unsubscribed and subscribed again, by hand or through handles kept from
 * before: each handle acts on its own subscription only, ids stay unique, rounds keep their
 * subscribers (rule 4 in docs/concepts.md).
 */
import { describe, expect, it } from '@jest/globals';
import {
  AFTER_CREATE,
  AFTER_DELETE,
  BEFORE_CREATE,
  BEFORE_DELETE,
  CallbackFailure,
  CallbackRegistry,
  PORT,
  ROUTER,
  type Subscription,
} from '@herald/core';
import { nextTurn, quietRegistry } from './support.js';

/** A registry and a callback that counts its calls by event. */
function setUp() {
  const registry = new CallbackRegistry();
  const calls: string[] = [];
  function onPort(_payload: unknown, n: { event: string }) {
    calls.push(n.event);
  }
  return { registry, calls, onPort };
}

describe('a handle whose subscription is gone', () => {
  it('does nothing once the callback is subscribed again to the same event', () => {
    const { registry, calls, onPort } = setUp();
    const first = registry.subscribe(onPort, PORT, AFTER_CREATE);
    first.unsubscribe();
    const second = registry.subscribe(onPort, PORT, AFTER_CREATE);
    first.unsubscribe();
    first[Symbol.dispose]();
    registry.notifySync(PORT, AFTER_CREATE, 'test');
    expect(calls).toEqual([AFTER_CREATE]);
    second.unsubscribe();
    registry.notifySync(PORT, AFTER_CREATE, 'test');
    expect(calls).toEqual([AFTER_CREATE]);
    expect(registry.hasSubscribers(PORT, AFTER_CREATE)).toBe(false);
  });

  it('does nothing once the callback is subscribed to another event', () => {
    const { registry, calls, onPort } = setUp();
    const first = registry.subscribe(onPort, PORT, AFTER_CREATE);
    registry.unsubscribe(onPort, PORT, AFTER_CREATE);
    registry.subscribe(onPort, PORT, AFTER_DELETE);
    first.unsubscribe();
    registry.unsubscribe(onPort, PORT, AFTER_CREATE); // by name, too
    registry.notifySync(PORT, AFTER_DELETE, 'test');
    expect(calls).toEqual([AFTER_DELETE]);
    expect(registry.subscriptions().map((s) => `${s.resource}.${s.event}`)).toEqual(['port.after_delete']);
  });

  it('keeps its own id, and every subscription gets a new one', () => {
    const { registry, onPort } = setUp();
    const ids: string[] = [];
    const handles: Subscription[] = [];
    for (let i = 0; i < 4; i++) {
      const sub = registry.subscribe(onPort, PORT, i % 2 === 0 ? AFTER_CREATE : AFTER_DELETE);
      ids.push(sub.id);
      handles.push(sub);
      sub.unsubscribe();
    }
    expect(new Set(ids).size).toBe(4);
    expect(ids.every((id) => /^onPort#\d+$/.test(id))).toBe(true);
    expect(handles.map((h) => h.id)).toEqual(ids);
    const live = registry.subscribe(onPort, PORT, AFTER_CREATE);
    expect(registry.subscriptions().map((s) => s.id)).toEqual([live.id]);
    expect(ids).not.toContain(live.id);
    expect(handles.map((h) => h.id)).toEqual(ids);
  });

  it('does nothing to a later subscription whose id was read, or replaced by a custom one', () => {
    const { registry, calls, onPort } = setUp();
    const first = registry.subscribe(onPort, PORT, AFTER_CREATE);
    first.unsubscribe();
    const second = registry.subscribe(onPort, PORT, AFTER_CREATE);
    expect(registry.subscriptions()[0]!.id).toBe(second.id); // the id is made and kept
    first.unsubscribe();
    expect(registry.hasSubscribers(PORT, AFTER_CREATE)).toBe(true);
    const again = registry.subscribe(onPort, PORT, AFTER_CREATE, { id: 'port-audit' });
    expect(again.id).toBe('port-audit');
    expect(second.id).toBe('port-audit');
    first.unsubscribe();
    registry.notifySync(PORT, AFTER_CREATE, 'test');
    expect(calls).toEqual([AFTER_CREATE]);
    second.unsubscribe();
    expect(registry.hasSubscribers(PORT, AFTER_CREATE)).toBe(false);
    expect(first.id).not.toBe('port-audit');
  });

  it('does nothing to the others once unsubscribeAll took its subscription', () => {
    const { registry, calls, onPort } = setUp();
    const others: string[] = [];
    registry.subscribe(() => void others.push('first'), PORT, AFTER_CREATE);
    const sub = registry.subscribe(onPort, PORT, AFTER_CREATE);
    registry.subscribe(() => void others.push('last'), PORT, AFTER_CREATE);
    registry.unsubscribeAll(onPort);
    sub.unsubscribe();
    registry.notifySync(PORT, AFTER_CREATE, 'test');
    expect(others).toEqual(['first', 'last']);
    expect(calls).toEqual([]);
  });

  it('does nothing after clear(), and leaves later subscriptions alone', () => {
    const { registry, calls, onPort } = setUp();
    const before = registry.subscribe(onPort, PORT, AFTER_CREATE);
    registry.clear();
    const after = registry.subscribe(onPort, PORT, AFTER_CREATE);
    before.unsubscribe();
    registry.notifySync(PORT, AFTER_CREATE, 'test');
    expect(calls).toEqual([AFTER_CREATE]);
    after.unsubscribe();
    expect(registry.hasSubscribers(PORT, AFTER_CREATE)).toBe(false);
  });
});

describe('a repeated subscribe', () => {
  it('hands out handles that all unsubscribe the one subscription, and none of the next', () => {
    const { registry, calls, onPort } = setUp();
    const a = registry.subscribe(onPort, PORT, AFTER_CREATE);
    const b = registry.subscribe(onPort, PORT, AFTER_CREATE);
    expect(b.id).toBe(a.id);
    expect(registry.subscriptions()).toHaveLength(1);
    b.unsubscribe();
    expect(registry.hasSubscribers(PORT, AFTER_CREATE)).toBe(false);
    registry.subscribe(onPort, PORT, AFTER_CREATE);
    a.unsubscribe();
    b.unsubscribe();
    registry.notifySync(PORT, AFTER_CREATE, 'test');
    expect(calls).toEqual([AFTER_CREATE]);
  });
});

describe('unsubscribe by name', () => {
  it('finds a subscription far from the end of a large bucket', () => {
    const { registry, calls, onPort } = setUp();
    registry.subscribe(onPort, PORT, AFTER_CREATE);
    const others = Array.from({ length: 40 }, () => () => undefined);
    for (const other of others) registry.subscribe(other, PORT, AFTER_CREATE);
    registry.unsubscribe(onPort, PORT, AFTER_CREATE);
    registry.notifySync(PORT, AFTER_CREATE, 'test');
    expect(calls).toEqual([]);
    expect(registry.subscriptions()).toHaveLength(40);
    registry.unsubscribe(() => undefined, PORT, AFTER_CREATE); // never subscribed
    expect(registry.subscriptions()).toHaveLength(40);
    registry.subscribe(onPort, PORT, AFTER_CREATE);
    registry.notifySync(PORT, AFTER_CREATE, 'test');
    expect(calls).toEqual([AFTER_CREATE]);
  });

  it("takes out the owner-less subscription near the end, not an owner's", () => {
    const { registry, onPort } = setUp();
    const owner = {};
    registry.subscribe(onPort, PORT, AFTER_CREATE);
    registry.subscribe(onPort, PORT, AFTER_CREATE, { owner });
    registry.unsubscribe(onPort, PORT, AFTER_CREATE);
    expect(registry.subscriptions().map((s) => s.owner)).toEqual([owner]);
    registry.unsubscribe(onPort, PORT, AFTER_CREATE);
    expect(registry.subscriptions().map((s) => s.owner)).toEqual([owner]);
    registry.unsubscribe(onPort, PORT, AFTER_CREATE, owner);
    expect(registry.subscriptions()).toEqual([]);
  });
});

describe('the callback-wide unsubscribes after a reuse', () => {
  it('unsubscribeAll and unsubscribeByResource see live subscriptions only', () => {
    const { registry, calls, onPort } = setUp();
    const owner = {};
    registry.subscribe(onPort, PORT, AFTER_CREATE);
    registry.subscribe(onPort, ROUTER, AFTER_CREATE);
    registry.unsubscribe(onPort, PORT, AFTER_CREATE);
    registry.unsubscribe(onPort, ROUTER, AFTER_CREATE);
    registry.subscribe(onPort, PORT, AFTER_DELETE, { owner });
    registry.subscribe(onPort, ROUTER, AFTER_DELETE);
    registry.subscribe(onPort, PORT, BEFORE_DELETE);
    expect(registry.subscriptions().map((s) => `${s.resource}.${s.event}`)).toEqual([
      'port.after_delete',
      'port.before_delete',
      'router.after_delete',
    ]);
    registry.unsubscribeByResource(onPort, PORT);
    expect(registry.subscriptions().map((s) => `${s.resource}.${s.event}`)).toEqual([
      'port.after_delete',
      'router.after_delete',
    ]);
    registry.unsubscribeAll(onPort);
    expect(registry.subscriptions().map((s) => s.owner)).toEqual([owner]);
    registry.unsubscribeAll(onPort, owner);
    expect(registry.subscriptions()).toEqual([]);
    registry.subscribe(onPort, PORT, AFTER_CREATE);
    registry.notifySync(PORT, AFTER_CREATE, 'test');
    expect(calls).toEqual([AFTER_CREATE]);
  });
});

describe('a round that started before the unsubscribe', () => {
  it('still calls the callback, and names it by its own id when it fails', async () => {
    const { registry } = quietRegistry();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    registry.subscribe(() => gate, PORT, BEFORE_CREATE, 1);
    function refuse() {
      throw new Error('no');
    }
    const sub = registry.subscribe(refuse, PORT, BEFORE_CREATE);
    const round = registry.notify(PORT, BEFORE_CREATE, 'test');
    await nextTurn();
    registry.unsubscribe(refuse, PORT, BEFORE_CREATE);
    const next = registry.subscribe(refuse, ROUTER, BEFORE_CREATE); // may not take the round's record
    release();
    const failure = await round.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(CallbackFailure);
    expect((failure as CallbackFailure).errors.map((e) => e.callbackId)).toEqual([sub.id]);
    expect(next.id).not.toBe(sub.id);
    expect(registry.subscriptions().map((s) => `${s.resource}.${s.event}`)).toEqual([
      'port.before_create',
      'router.before_create',
    ]);
  });

  it('is not affected by a subscription made and taken out while it runs', async () => {
    const { registry } = quietRegistry();
    const calls: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    registry.subscribe(() => gate, PORT, BEFORE_CREATE, 1);
    function late() {
      calls.push('late');
    }
    const round = registry.notify(PORT, BEFORE_CREATE, 'test');
    await nextTurn();
    registry.subscribe(late, PORT, BEFORE_CREATE).unsubscribe();
    registry.subscribe(late, PORT, AFTER_CREATE);
    release();
    await round;
    expect(calls).toEqual([]);
    registry.notifySync(PORT, AFTER_CREATE, 'test');
    await registry.notify(PORT, BEFORE_CREATE, 'test');
    expect(calls).toEqual(['late']);
  });
});
