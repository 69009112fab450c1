import { describe, expect, it } from '@jest/globals';
import {
  AFTER_CREATE,
  BEFORE_CREATE,
  BEFORE_DELETE,
  CallbackRegistry,
  InvalidError,
  NETWORK,
  PORT,
  PRIORITY_DEFAULT,
  PRIORITY_ROUTER_CONTROLLER,
  PRIORITY_ROUTER_DEFAULT,
  PRIORITY_ROUTER_DRIVER,
  PRIORITY_ROUTER_EXTENDED_ATTRIBUTE,
  ROUTER,
  type Notification,
  type SubscribeOptions,
} from '@herald/core';
import { quietRegistry, untyped } from './support.js';

/** Calls each callback of (`resource`, `event`) would get, as the names it pushes into `order`. */
async function callOrder(registry: CallbackRegistry, resource: string, event: string, order: string[]) {
  order.length = 0;
  await untyped(registry).notify(resource, event, 'test');
  return [...order];
}

/** One callback per name, each pushing its name into `order` when called. */
function named(order: string[], ...names: string[]): (() => void)[] {
  return names.map((name) => () => void order.push(name));
}

describe('subscribe', () => {
  it('returns a subscription that subscriptions() lists with its resource, event, priority and flag', () => {
    const registry = new CallbackRegistry();
    const onCreate = () => undefined;
    const sub = registry.subscribe(onCreate, ROUTER, BEFORE_CREATE, { priority: 10, cancellable: true });
    expect(registry.subscriptions()).toEqual([
      { id: sub.id, resource: ROUTER, event: BEFORE_CREATE, priority: 10, cancellable: true },
    ]);
    expect(registry.hasSubscribers(ROUTER, BEFORE_CREATE)).toBe(true);
    expect(registry.hasSubscribers(ROUTER, AFTER_CREATE)).toBe(false);
    expect(registry.hasSubscribers(PORT, BEFORE_CREATE)).toBe(false);
  });

  it('subscribes at PRIORITY_DEFAULT, not cancellable, when no options are given', () => {
    const registry = new CallbackRegistry();
    registry.subscribe(() => undefined, ROUTER, BEFORE_CREATE);
    expect(registry.subscriptions()).toMatchObject([{ priority: PRIORITY_DEFAULT, cancellable: false }]);
    expect(registry.subscriptions()[0]).not.toHaveProperty('owner');
  });

  it('takes a number as the priority', () => {
    const registry = new CallbackRegistry();
    registry.subscribe(() => undefined, ROUTER, BEFORE_CREATE, 42);
    expect(registry.subscriptions()).toMatchObject([{ priority: 42, cancellable: false }]);
  });

  it('accepts resources and events that Neutron does not know', async () => {
    const registry = new CallbackRegistry();
    const calls: string[] = [];
    untyped(registry).subscribe(
      (_p: unknown, n: Notification) => void calls.push(`${n.resource} ${n.event}`),
      'my_resource',
      'my-event',
    );
    await untyped(registry).notify('my_resource', 'my-event', 'test');
    expect(calls).toEqual(['my_resource my-event']);
  });

  it('lists the owner of an owned subscription', () => {
    const registry = new CallbackRegistry();
    const owner = { name: 'l3' };
    registry.subscribe(() => undefined, ROUTER, BEFORE_CREATE, { owner });
    expect(registry.subscriptions()[0]!.owner).toBe(owner);
  });
});

describe('identity: (callback, owner, resource, event)', () => {
  it('registers the same callback on the same (resource, event) once and calls it once', async () => {
    const registry = new CallbackRegistry();
    let calls = 0;
    const callback = () => void calls++;
    const first = registry.subscribe(callback, ROUTER, BEFORE_CREATE);
    const second = registry.subscribe(callback, ROUTER, BEFORE_CREATE);
    expect(second.id).toBe(first.id);
    expect(registry.subscriptions()).toHaveLength(1);
    await registry.notify(ROUTER, BEFORE_CREATE, 'test');
    expect(calls).toBe(1);
  });

  it('counts the same callback on another event or another resource as another subscription', async () => {
    const registry = new CallbackRegistry();
    const seen: string[] = [];
    const callback = (_p: unknown, n: { resource: string; event: string }) =>
      void seen.push(`${n.resource}.${n.event}`);
    registry.subscribe(callback, ROUTER, BEFORE_CREATE);
    registry.subscribe(callback, ROUTER, AFTER_CREATE);
    registry.subscribe(callback, PORT, BEFORE_CREATE);
    expect(registry.subscriptions()).toHaveLength(3);
    await registry.notify(ROUTER, BEFORE_CREATE, 'test');
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    await registry.notify(PORT, BEFORE_CREATE, 'test');
    expect(seen).toEqual(['router.before_create', 'router.after_create', 'port.before_create']);
  });

  it('calls one method once per owner, with that owner as this', async () => {
    class L3Service {
      counter = 0;
      onCreate(this: L3Service) {
        this.counter++;
      }
    }
    const registry = new CallbackRegistry();
    const a = new L3Service();
    const b = new L3Service();
    for (const owner of [a, b, a]) registry.subscribe(L3Service.prototype.onCreate, ROUTER, AFTER_CREATE, { owner });
    expect(registry.subscriptions()).toHaveLength(2);
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    expect([a.counter, b.counter]).toEqual([1, 1]);
  });

  it('keeps an owner-less and an owned subscription of one callback apart', async () => {
    const registry = new CallbackRegistry();
    const selves: unknown[] = [];
    function callback(this: unknown) {
      selves.push(this);
    }
    const owner = {};
    registry.subscribe(callback, ROUTER, AFTER_CREATE);
    registry.subscribe(callback, ROUTER, AFTER_CREATE, { owner });
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    expect(selves).toEqual([undefined, owner]);
  });

  it('updates the cancellable flag when subscribed again with another one', () => {
    // Neutron keeps the flag of the first subscription; in Herald the flag belongs to the
    // subscription and the last subscribe sets it.
    const registry = new CallbackRegistry();
    const callback = () => undefined;
    registry.subscribe(callback, PORT, BEFORE_CREATE, { cancellable: true });
    registry.subscribe(callback, PORT, BEFORE_CREATE, { cancellable: false });
    expect(registry.subscriptions()).toMatchObject([{ cancellable: false }]);
    registry.subscribe(callback, PORT, BEFORE_CREATE, { cancellable: true });
    expect(registry.subscriptions()).toMatchObject([{ cancellable: true }]);
  });

  it('keeps one registration when subscribed again at another priority', async () => {
    // Neutron quirk fixed: Neutron would keep the callback at both priorities and call it twice.
    const registry = new CallbackRegistry();
    let calls = 0;
    const callback = () => void calls++;
    const first = registry.subscribe(callback, PORT, BEFORE_CREATE, 10);
    const second = registry.subscribe(callback, PORT, BEFORE_CREATE, 20);
    expect(second.id).toBe(first.id);
    expect(registry.subscriptions()).toMatchObject([{ id: first.id, priority: 20 }]);
    await registry.notify(PORT, BEFORE_CREATE, 'test');
    expect(calls).toBe(1);
  });

  it('keeps the cancellable flag of each subscription, even at one priority', async () => {
    // Neutron quirk fixed: Neutron stores the flag per priority bucket, so the first callback
    // subscribed at a priority decides for every later one.
    const { registry } = quietRegistry();
    registry.subscribe(() => undefined, PORT, AFTER_CREATE, { priority: 5, cancellable: true });
    registry.subscribe(
      function failing() {
        throw new Error('no');
      },
      PORT,
      AFTER_CREATE,
      { priority: 5, cancellable: false },
    );
    expect(registry.subscriptions().map((s) => s.cancellable)).toEqual([true, false]);
    await expect(registry.notify(PORT, AFTER_CREATE, 'test')).resolves.toBeUndefined();
  });
});

describe('order', () => {
  it('calls subscribers by ascending priority, ties in first-subscription order', async () => {
    const registry = new CallbackRegistry();
    const order: string[] = [];
    const [a, b, c, d, e] = named(order, 'a', 'b', 'c', 'd', 'e');
    registry.subscribe(a, ROUTER, BEFORE_CREATE, 30);
    registry.subscribe(b, ROUTER, BEFORE_CREATE, 10);
    registry.subscribe(c, ROUTER, BEFORE_CREATE, 30);
    registry.subscribe(d, ROUTER, BEFORE_CREATE, -5);
    registry.subscribe(e, ROUTER, BEFORE_CREATE, 10);
    expect(await callOrder(registry, ROUTER, BEFORE_CREATE, order)).toEqual(['d', 'b', 'e', 'a', 'c']);
    expect(registry.subscriptions().map((s) => s.priority)).toEqual([-5, 10, 10, 30, 30]);
  });

  it("orders Neutron's router priorities: extended attributes, default, controller, driver", async () => {
    const registry = new CallbackRegistry();
    const order: string[] = [];
    const [driver, controller, routerDefault, extended] = named(order, 'driver', 'controller', 'default', 'extended');
    registry.subscribe(driver, ROUTER, AFTER_CREATE, PRIORITY_ROUTER_DRIVER);
    registry.subscribe(controller, ROUTER, AFTER_CREATE, PRIORITY_ROUTER_CONTROLLER);
    registry.subscribe(routerDefault, ROUTER, AFTER_CREATE, PRIORITY_ROUTER_DEFAULT);
    registry.subscribe(extended, ROUTER, AFTER_CREATE, PRIORITY_ROUTER_EXTENDED_ATTRIBUTE);
    expect(await callOrder(registry, ROUTER, AFTER_CREATE, order)).toEqual([
      'extended',
      'default',
      'controller',
      'driver',
    ]);
  });

  it('moves a callback to the end of its priority when unsubscribed and subscribed again', async () => {
    const registry = new CallbackRegistry();
    const order: string[] = [];
    const [a, b, c] = named(order, 'a', 'b', 'c');
    for (const cb of [a, b, c]) registry.subscribe(cb, ROUTER, BEFORE_CREATE);
    registry.unsubscribe(a, ROUTER, BEFORE_CREATE);
    registry.subscribe(a, ROUTER, BEFORE_CREATE);
    expect(await callOrder(registry, ROUTER, BEFORE_CREATE, order)).toEqual(['b', 'c', 'a']);
  });

  it('moves a re-subscription at a new priority to the end of the callbacks of that priority', async () => {
    const registry = new CallbackRegistry();
    const order: string[] = [];
    const [a, b, c, d] = named(order, 'a', 'b', 'c', 'd');
    registry.subscribe(a, ROUTER, BEFORE_CREATE, 1);
    registry.subscribe(b, ROUTER, BEFORE_CREATE, 2);
    registry.subscribe(c, ROUTER, BEFORE_CREATE, 2);
    registry.subscribe(d, ROUTER, BEFORE_CREATE, 3);
    registry.subscribe(a, ROUTER, BEFORE_CREATE, 2);
    expect(await callOrder(registry, ROUTER, BEFORE_CREATE, order)).toEqual(['b', 'c', 'a', 'd']);
  });

  it('keeps the place of a re-subscription at the same priority', async () => {
    const registry = new CallbackRegistry();
    const order: string[] = [];
    const [a, b, c] = named(order, 'a', 'b', 'c');
    for (const cb of [a, b, c]) registry.subscribe(cb, ROUTER, BEFORE_CREATE, 7);
    registry.subscribe(a, ROUTER, BEFORE_CREATE, { priority: 7, cancellable: true });
    expect(await callOrder(registry, ROUTER, BEFORE_CREATE, order)).toEqual(['a', 'b', 'c']);
  });
});

describe('validation at subscribe time', () => {
  const callback = () => undefined;
  type Args = [callback: unknown, resource: unknown, event: unknown, options?: unknown];
  const cases: [what: string, args: Args, element: string, value: unknown][] = [
    ['a callback that is not a function', ['callback', ROUTER, BEFORE_CREATE], 'callback', 'callback'],
    ['an undefined callback', [undefined, ROUTER, BEFORE_CREATE], 'callback', undefined],
    ['an empty resource', [callback, '', BEFORE_CREATE], 'resource', ''],
    ['a resource that is not a string', [callback, 7, BEFORE_CREATE], 'resource', 7],
    ['an empty event', [callback, ROUTER, ''], 'event', ''],
    ['a null event', [callback, ROUTER, null], 'event', null],
    ['a NaN priority', [callback, ROUTER, BEFORE_CREATE, NaN], 'priority', NaN],
    ['an infinite priority', [callback, ROUTER, BEFORE_CREATE, { priority: Infinity }], 'priority', Infinity],
    ['a string priority', [callback, ROUTER, BEFORE_CREATE, { priority: '5' }], 'priority', '5'],
    ['a string priority by position', [callback, ROUTER, BEFORE_CREATE, '5'], 'priority', '5'],
    ['a boolean priority by position', [callback, ROUTER, BEFORE_CREATE, true], 'priority', true],
    ['a bigint priority by position', [callback, ROUTER, BEFORE_CREATE, 5n], 'priority', 5n],
    [
      'a cancellable flag that is not a boolean',
      [callback, ROUTER, BEFORE_CREATE, { cancellable: 1 }],
      'cancellable',
      1,
    ],
    ['an owner that is not an object', [callback, ROUTER, BEFORE_CREATE, { owner: 'me' }], 'owner', 'me'],
    ['null options', [callback, ROUTER, BEFORE_CREATE, null], 'options', null],
    ['an empty id', [callback, ROUTER, BEFORE_CREATE, { id: '' }], 'id', ''],
    ['an id with the reserved #<digits> ending', [callback, ROUTER, BEFORE_CREATE, { id: 'mine#2' }], 'id', 'mine#2'],
  ];

  it.each(cases)('rejects %s with an InvalidError naming it, and changes nothing', (_what, args, element, value) => {
    const registry = new CallbackRegistry();
    const existing = () => undefined;
    registry.subscribe(existing, ROUTER, BEFORE_CREATE, { priority: 3, cancellable: true });
    const before = registry.subscriptions();
    let thrown: unknown;
    try {
      untyped(registry).subscribe(...args);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidError);
    expect(thrown).toMatchObject({ element, name: 'InvalidError' });
    expect(Object.is((thrown as InvalidError).value, value)).toBe(true);
    expect((thrown as Error).message).toContain(element);
    expect(registry.subscriptions()).toEqual(before);
  });

  it('leaves an existing subscription as it was when subscribing it again with a bad priority', () => {
    // Neutron quirk fixed: a bad priority fails at subscribe time, not at the next notify.
    const registry = new CallbackRegistry();
    const callback = () => undefined;
    registry.subscribe(callback, ROUTER, BEFORE_CREATE, { priority: 3, cancellable: true });
    expect(() => registry.subscribe(callback, ROUTER, BEFORE_CREATE, Number.NaN)).toThrow(InvalidError);
    expect(registry.subscriptions()).toMatchObject([{ priority: 3, cancellable: true }]);
  });
});

describe('ids', () => {
  class L3Service {
    preventPortDelete() {}
  }

  it("derives the id from the owner's class, the method's name and a #n suffix", () => {
    const registry = new CallbackRegistry();
    const sub = registry.subscribe(L3Service.prototype.preventPortDelete, PORT, BEFORE_DELETE, {
      owner: new L3Service(),
    });
    expect(sub.id).toMatch(/^L3Service\.preventPortDelete#\d+$/);
  });

  it("derives the id from the function's name alone without an owner", () => {
    const registry = new CallbackRegistry();
    function notifyRouters() {}
    expect(registry.subscribe(notifyRouters, PORT, BEFORE_DELETE).id).toMatch(/^notifyRouters#\d+$/);
    expect(registry.subscribe(notifyRouters.bind(null), PORT, BEFORE_DELETE).id).toMatch(/^notifyRouters#\d+$/);
    const [anonymous] = [() => undefined];
    expect(anonymous.name).toBe('');
    expect(registry.subscribe(anonymous, PORT, BEFORE_DELETE).id).toMatch(/^anonymous#\d+$/);
  });

  it('gives distinct ids to distinct subscriptions of same-named callbacks', () => {
    const registry = new CallbackRegistry();
    const make = () => function handler() {};
    const ids = [
      registry.subscribe(make(), PORT, BEFORE_DELETE).id,
      registry.subscribe(make(), PORT, BEFORE_DELETE).id,
      registry.subscribe(make(), PORT, AFTER_CREATE).id,
      registry.subscribe(L3Service.prototype.preventPortDelete, PORT, BEFORE_DELETE, { owner: new L3Service() }).id,
      registry.subscribe(L3Service.prototype.preventPortDelete, PORT, BEFORE_DELETE, { owner: new L3Service() }).id,
    ];
    expect(new Set(ids).size).toBe(ids.length);
    expect(registry.subscriptions().map((s) => s.id)).toEqual(expect.arrayContaining(ids));
  });

  it('uses the same id for Subscription.id, SubscriptionInfo.id and NotificationError.callbackId', async () => {
    const { registry } = quietRegistry();
    const sub = registry.subscribe(
      function veto() {
        throw new Error('no');
      },
      PORT,
      BEFORE_DELETE,
    );
    expect(registry.subscriptions()[0]!.id).toBe(sub.id);
    await expect(registry.notify(PORT, BEFORE_DELETE, 'test')).rejects.toMatchObject({
      errors: [{ callbackId: sub.id }],
    });
  });

  it('uses a custom id as given, everywhere', async () => {
    const { registry } = quietRegistry();
    const sub = registry.subscribe(
      () => {
        throw new Error('no');
      },
      PORT,
      BEFORE_DELETE,
      { id: 'port-guard' },
    );
    expect(sub.id).toBe('port-guard');
    expect(registry.subscriptions()[0]!.id).toBe('port-guard');
    await expect(registry.notify(PORT, BEFORE_DELETE, 'test')).rejects.toMatchObject({
      errors: [{ callbackId: 'port-guard' }],
    });
  });

  it('refuses a custom id held by another subscription, and changes nothing', () => {
    const registry = new CallbackRegistry();
    registry.subscribe(() => undefined, PORT, BEFORE_DELETE, { id: 'guard' });
    const before = registry.subscriptions();
    const other = () => undefined;
    expect(() => registry.subscribe(other, NETWORK, AFTER_CREATE, { id: 'guard' })).toThrow(
      expect.objectContaining({ name: 'InvalidError', element: 'id', value: 'guard' }),
    );
    expect(registry.subscriptions()).toEqual(before);
  });

  it('accepts the same custom id when the same subscription is subscribed again', () => {
    const registry = new CallbackRegistry();
    const callback = () => undefined;
    registry.subscribe(callback, PORT, BEFORE_DELETE, { id: 'guard' });
    const again = registry.subscribe(callback, PORT, BEFORE_DELETE, { id: 'guard', priority: 1 });
    expect(again.id).toBe('guard');
    expect(registry.subscriptions()).toMatchObject([{ id: 'guard', priority: 1 }]);
  });

  it('renames a subscription subscribed again with a new custom id, and frees the old one', () => {
    const registry = new CallbackRegistry();
    const callback = () => undefined;
    registry.subscribe(callback, PORT, BEFORE_DELETE, { id: 'old' });
    expect(registry.subscribe(callback, PORT, BEFORE_DELETE, { id: 'new' }).id).toBe('new');
    expect(registry.subscriptions().map((s) => s.id)).toEqual(['new']);
    expect(registry.subscribe(() => undefined, PORT, AFTER_CREATE, { id: 'old' }).id).toBe('old');
  });

  it('keeps a custom id when subscribed again without one', () => {
    const registry = new CallbackRegistry();
    const callback = () => undefined;
    registry.subscribe(callback, PORT, BEFORE_DELETE, { id: 'guard' });
    expect(registry.subscribe(callback, PORT, BEFORE_DELETE).id).toBe('guard');
  });

  it('frees a custom id when its subscription is unsubscribed', () => {
    const registry = new CallbackRegistry();
    registry.subscribe(() => undefined, PORT, BEFORE_DELETE, { id: 'guard' }).unsubscribe();
    expect(registry.subscribe(() => undefined, PORT, BEFORE_DELETE, { id: 'guard' }).id).toBe('guard');
  });

  it('frees every custom id on clear()', () => {
    const registry = new CallbackRegistry();
    registry.subscribe(() => undefined, PORT, BEFORE_DELETE, { id: 'guard' });
    registry.clear();
    expect(registry.subscribe(() => undefined, PORT, BEFORE_DELETE, { id: 'guard' }).id).toBe('guard');
  });

  it('never derives an id equal to a custom one', () => {
    const registry = new CallbackRegistry();
    const options: SubscribeOptions = { id: 'handler' };
    const ids = [registry.subscribe(function handler() {}, PORT, BEFORE_DELETE, options).id];
    for (let i = 0; i < 5; i++) ids.push(registry.subscribe(function handler() {}, PORT, BEFORE_DELETE).id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps ids unique per registry, not across registries', () => {
    const a = new CallbackRegistry();
    const b = new CallbackRegistry();
    a.subscribe(() => undefined, PORT, BEFORE_DELETE, { id: 'guard' });
    expect(b.subscribe(() => undefined, PORT, BEFORE_DELETE, { id: 'guard' }).id).toBe('guard');
  });
});
