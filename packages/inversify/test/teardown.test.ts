import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AFTER_CREATE, BEFORE_CREATE, CallbackRegistry, DBEventPayload, OnResource, ROUTER } from '@herald/core';
import { Container, ContainerModule, injectable, type ServiceIdentifier } from 'inversify';
import { bindSubscriber, bootCallbacks, callbacksModule } from '../src/index.js';
import type { Router } from './fixtures/network.js';

const router: Router = { id: 'r1', name: 'edge' };
const payload = () => new DBEventPayload({}, { desiredState: router });

/** Counts the notifications each instance handled. */
@injectable()
class RouterWatcher {
  static calls = 0;
  handled = 0;

  @OnResource(ROUTER, AFTER_CREATE)
  onCreate(): void {
    this.handled++;
    RouterWatcher.calls++;
  }
}

/** A subscriber bound in child containers. */
@injectable()
class TenantWatcher {
  handled = 0;

  @OnResource(ROUTER, AFTER_CREATE)
  onCreate(): void {
    this.handled++;
  }
}

/** Watches router creation requests; bound under the same token as RouterWatcher in some tests. */
@injectable()
class RouterGate {
  static calls = 0;

  @OnResource(ROUTER, BEFORE_CREATE)
  onCreate(): void {
    RouterGate.calls++;
  }
}

const WATCHERS: ServiceIdentifier<object> = Symbol('Watchers');

async function booted(bind: (container: Container) => void) {
  const container = new Container();
  container.load(callbacksModule());
  bind(container);
  const boot = await bootCallbacks(container);
  return { container, boot, registry: container.get(CallbackRegistry) };
}

const watchers = new ContainerModule(({ bind }) => {
  bind(RouterWatcher).toSelf().inSingletonScope();
});

describe('teardown of a singleton subscriber', () => {
  it('unsubscribes its handlers when it is unbound', async () => {
    const { container, registry } = await booted((c) => c.bind(RouterWatcher).toSelf().inSingletonScope());
    const watcher = container.get(RouterWatcher);
    container.unbind(RouterWatcher);
    expect(registry.subscriptions()).toEqual([]);
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    expect(watcher.handled).toBe(0);
  });

  it('unsubscribes its handlers when it is unbound asynchronously', async () => {
    const { container, registry } = await booted((c) => c.bind(RouterWatcher).toSelf().inSingletonScope());
    await container.unbindAsync(RouterWatcher);
    expect(registry.hasSubscribers(ROUTER, AFTER_CREATE)).toBe(false);
  });

  it('unsubscribes its handlers when the module that bound it is unloaded', async () => {
    const { container, registry } = await booted((c) => c.load(watchers));
    container.unload(watchers);
    expect(registry.hasSubscribers(ROUTER, AFTER_CREATE)).toBe(false);
  });

  it('subscribes the new instance once after its module is unloaded and loaded again, and tears it down again', async () => {
    const { container, registry } = await booted((c) => c.load(watchers));
    container.unload(watchers);
    container.load(watchers);
    await bootCallbacks(container);
    await bootCallbacks(container);
    const watcher = container.get(RouterWatcher);
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    expect(watcher.handled).toBe(1);
    expect(registry.subscriptions()).toEqual([expect.objectContaining({ owner: watcher })]);
    container.unbind(RouterWatcher);
    expect(registry.hasSubscribers(ROUTER, AFTER_CREATE)).toBe(false);
  });

  it('unsubscribes its handlers when the boot handle is disposed, and keeps the binding', async () => {
    const { container, boot, registry } = await booted((c) => c.bind(RouterWatcher).toSelf().inSingletonScope());
    boot.dispose();
    expect(registry.hasSubscribers(ROUTER, AFTER_CREATE)).toBe(false);
    expect(container.isBound(RouterWatcher)).toBe(true);
    container.unbind(RouterWatcher); // its deactivation hook now finds nothing to release
    expect(registry.subscriptions()).toEqual([]);
  });

  it('clears everything on unbindAll', async () => {
    const { container, registry } = await booted((c) => c.bind(RouterWatcher).toSelf().inSingletonScope());
    container.unbindAll();
    expect(registry.subscriptions()).toEqual([]);
  });

  it('keeps no reference to an unbound subscriber', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { container, registry } = await booted((c) => c.bind(RouterWatcher).toSelf().inSingletonScope());
    const watcher = new WeakRef(container.get(RouterWatcher));
    container.unbind(RouterWatcher);
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(watcher.deref()).toBeUndefined();
    expect(registry).toBeInstanceOf(CallbackRegistry); // the registry itself is still alive
  });
});

describe('teardown of a transient subscriber', () => {
  it('stops calling it once it is unbound, and drops its subscription at the next notification', async () => {
    const { container, registry } = await booted((c) => c.bind(RouterWatcher).toSelf());
    RouterWatcher.calls = 0;
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    container.unbind(RouterWatcher);
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    expect(RouterWatcher.calls).toBe(1);
    expect(registry.hasSubscribers(ROUTER, AFTER_CREATE)).toBe(false);
  });

  it('is subscribed again by a boot after it was bound again', async () => {
    const { container, registry } = await booted((c) => c.bind(RouterWatcher).toSelf());
    container.unbind(RouterWatcher);
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    container.bind(RouterWatcher).toSelf();
    expect((await bootCallbacks(container)).subscriptions).toHaveLength(1);
  });
});

describe('teardown of several subscribers bound under one token', () => {
  it('unsubscribes all of them when the token is unbound', async () => {
    const { container, registry } = await booted((c) => {
      c.bind(WATCHERS).to(RouterWatcher).inSingletonScope();
      c.bind(WATCHERS).to(RouterGate).inSingletonScope();
    });
    expect(registry.subscriptions()).toHaveLength(2);
    container.unbind(WATCHERS);
    expect(registry.subscriptions()).toEqual([]);
  });

  it('unsubscribes only the one whose binding is unbound by its identifier', async () => {
    let watcherBinding;
    const { container, registry } = await booted((c) => {
      watcherBinding = c.bind(WATCHERS).to(RouterWatcher).inSingletonScope().getIdentifier();
      c.bind(WATCHERS).to(RouterGate).inSingletonScope();
    });
    const [, gate] = container.getAll(WATCHERS);
    container.unbind(watcherBinding!);
    expect(registry.subscriptions()).toEqual([expect.objectContaining({ owner: gate, event: BEFORE_CREATE })]);
  });

  it('unsubscribes all of them when the module that bound them with bindSubscriber is unloaded', async () => {
    const both = new ContainerModule((options) => {
      bindSubscriber(options, WATCHERS, RouterWatcher).inSingletonScope();
      bindSubscriber(options, WATCHERS, RouterGate).inSingletonScope();
    });
    const { container, registry } = await booted((c) => c.load(both));
    expect(registry.subscriptions()).toHaveLength(2);
    container.unload(both);
    expect(registry.subscriptions()).toEqual([]);
  });

  it('stops calling the transient ones once the token is unbound', async () => {
    const { container, registry } = await booted((c) => {
      c.bind(WATCHERS).to(RouterWatcher).inSingletonScope();
      c.bind(WATCHERS).to(RouterGate);
    });
    RouterGate.calls = 0;
    await registry.notify(ROUTER, BEFORE_CREATE, 'test', payload());
    expect(RouterGate.calls).toBe(1);
    container.unbind(WATCHERS);
    expect(registry.hasSubscribers(ROUTER, AFTER_CREATE)).toBe(false); // the singleton, at once
    RouterGate.calls = 0;
    await registry.notify(ROUTER, BEFORE_CREATE, 'test', payload());
    expect(RouterGate.calls).toBe(0);
    expect(registry.subscriptions()).toEqual([]); // the transient, at its next notification
  });
});

describe('a non-singleton subscriber bound again before any notification', () => {
  it('is subscribed as its new class at the next boot, and the old subscription is gone', async () => {
    const { container, registry } = await booted((c) => c.bind(WATCHERS).to(RouterGate));
    container.unbind(WATCHERS);
    container.bind(WATCHERS).to(RouterWatcher);
    const again = await bootCallbacks(container);
    expect(again.subscriptions.map((s) => s.id)).toEqual([expect.stringMatching(/^RouterWatcher\.onCreate#\d+$/)]);
    expect(registry.subscriptions().map((s) => s.id)).toEqual(again.subscriptions.map((s) => s.id));
    RouterWatcher.calls = 0;
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    await registry.notify(ROUTER, BEFORE_CREATE, 'test', payload());
    expect(RouterWatcher.calls).toBe(1);
  });

  it('is subscribed as a singleton when bound again as one, and unbinding it then unsubscribes it', async () => {
    const { container, registry } = await booted((c) => c.bind(RouterWatcher).toSelf());
    container.unbind(RouterWatcher);
    container.bind(RouterWatcher).toSelf().inSingletonScope();
    await bootCallbacks(container);
    expect(registry.subscriptions()).toEqual([expect.objectContaining({ owner: container.get(RouterWatcher) })]);
    container.unbind(RouterWatcher);
    expect(registry.hasSubscribers(ROUTER, AFTER_CREATE)).toBe(false);
  });

  it('is subscribed again when the same class is bound again', async () => {
    const { container, registry } = await booted((c) => c.bind(RouterWatcher).toSelf());
    container.unbind(RouterWatcher);
    container.bind(RouterWatcher).toSelf().inRequestScope();
    expect((await bootCallbacks(container)).subscriptions).toHaveLength(1);
    expect(registry.subscriptions()).toHaveLength(1);
  });
});

describe('child containers', () => {
  it("boot subscribes the child's own subscribers to the parent's registry, and dispose removes only those", async () => {
    const { container: parent, registry } = await booted((c) => c.bind(RouterWatcher).toSelf().inSingletonScope());
    const child = new Container({ parent });
    child.bind(TenantWatcher).toSelf().inSingletonScope();
    const childBoot = await bootCallbacks(child);
    expect(child.get(CallbackRegistry)).toBe(registry);
    expect(childBoot.subscriptions).toHaveLength(1);
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    expect(parent.get(RouterWatcher).handled).toBe(1);
    expect(child.get(TenantWatcher).handled).toBe(1);
    childBoot.dispose();
    expect(registry.subscriptions()).toEqual([expect.objectContaining({ owner: parent.get(RouterWatcher) })]);
  });

  it("unsubscribes a child's singleton when it is unbound from the child", async () => {
    const { container: parent, registry } = await booted(() => undefined);
    const child = new Container({ parent });
    child.bind(RouterWatcher).toSelf().inSingletonScope();
    await bootCallbacks(child);
    child.unbind(RouterWatcher);
    expect(registry.subscriptions()).toEqual([]);
  });

  it('refuses to boot a child whose registry comes from a parent that has not booted', async () => {
    const parent = new Container();
    parent.load(callbacksModule());
    const child = new Container({ parent });
    await expect(bootCallbacks(child)).rejects.toThrow(/bootCallbacks\(parent\) first/);
  });

  it("gives a child that loads callbacksModule its own registry, with only the child's subscribers", async () => {
    const { container: parent, registry } = await booted((c) => c.bind(RouterWatcher).toSelf().inSingletonScope());
    const child = new Container({ parent });
    child.load(callbacksModule());
    child.bind(TenantWatcher).toSelf().inSingletonScope();
    await bootCallbacks(child);
    const own = child.get(CallbackRegistry);
    expect(own).not.toBe(registry);
    expect(own.subscriptions()).toEqual([expect.objectContaining({ owner: child.get(TenantWatcher) })]);
    expect(registry.subscriptions()).toEqual([expect.objectContaining({ owner: parent.get(RouterWatcher) })]);
  });
});
