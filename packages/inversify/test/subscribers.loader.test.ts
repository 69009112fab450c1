import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import {
  AFTER_CREATE,
  AFTER_DELETE,
  BEFORE_CREATE,
  CallbackRegistry,
  DBEventPayload,
  InvalidError,
  OnResource,
  PRIORITY_DEFAULT,
  ROUTER,
  subscribeInstance,
  type EventOf,
} from '@herald/core';
import { Container, ContainerModule, inject, injectable, type ServiceIdentifier } from 'inversify';
import { bindSubscriber, bootCallbacks, callbacksModule, SubscriberBootError } from '../src/index.js';
import type { Router } from './fixtures/network.js';

const router: Router = { id: 'r1', name: 'edge' };
const payload = () => new DBEventPayload({}, { desiredState: router });

/** Every router event it sees, in order. */
@injectable()
class RouterAudit {
  readonly seen: string[] = [];

  @OnResource(ROUTER, [AFTER_CREATE, AFTER_DELETE])
  record(_payload: DBEventPayload<Router>, { event }: { event: EventOf<'router'> }): void {
    this.seen.push(event);
  }
}

/** Decorated but never bound in these tests. */
@injectable()
class NeverBound {
  @OnResource(ROUTER, AFTER_CREATE)
  onCreate(): void {
    throw new Error('never bound, never called');
  }
}

interface RouterQuota {
  readonly checked: string[];
}
const ROUTER_QUOTA: ServiceIdentifier<RouterQuota> = Symbol('RouterQuota');

@injectable()
class QuotaService implements RouterQuota {
  readonly checked: string[] = [];

  @OnResource(ROUTER, BEFORE_CREATE, { priority: 10 })
  checkQuota(payload: DBEventPayload<Router>): void {
    this.checked.push(payload.latestState!.id);
  }
}

/** A second subscriber that implements RouterQuota, after QuotaService. */
@injectable()
class FirewallQuota implements RouterQuota {
  static made = 0;
  readonly checked: string[] = [];

  constructor() {
    FirewallQuota.made++;
  }

  @OnResource(ROUTER, BEFORE_CREATE, { priority: 20 })
  checkQuota(payload: DBEventPayload<Router>): void {
    this.checked.push(payload.latestState!.id);
  }
}

async function booted(bind: (container: Container) => void) {
  const container = new Container();
  container.load(callbacksModule());
  bind(container);
  const boot = await bootCallbacks(container);
  return { container, boot, registry: container.get(CallbackRegistry) };
}

describe('bootCallbacks: discovery', () => {
  it('subscribes the decorated classes bound as themselves, and returns what it subscribed', async () => {
    const { container, boot, registry } = await booted((c) => c.bind(RouterAudit).toSelf().inSingletonScope());
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    await registry.notify(ROUTER, AFTER_DELETE, 'test', payload());
    expect(container.get(RouterAudit).seen).toEqual([AFTER_CREATE, AFTER_DELETE]);
    expect(boot.registry).toBe(registry);
    expect(boot.subscriptions.map((s) => s.id)).toEqual([
      expect.stringMatching(/^RouterAudit\.record#\d+$/),
      expect.stringMatching(/^RouterAudit\.record#\d+$/),
    ]);
    expect(registry.subscriptions().map((s) => s.id)).toEqual(boot.subscriptions.map((s) => s.id));
  });

  it('ignores decorated classes that are not bound in the container', async () => {
    const { registry, boot } = await booted(() => undefined);
    expect(boot.subscriptions).toEqual([]);
    expect(registry.hasSubscribers(ROUTER, AFTER_CREATE)).toBe(false);
    await registry.notify(ROUTER, AFTER_CREATE, NeverBound, payload());
  });

  it('subscribes a class bound under an interface token with bindSubscriber, with its priority', async () => {
    const { container, registry } = await booted((c) => {
      bindSubscriber(c, ROUTER_QUOTA, QuotaService).inSingletonScope();
    });
    await registry.notify(ROUTER, BEFORE_CREATE, 'test', payload());
    expect(container.get<RouterQuota>(ROUTER_QUOTA).checked).toEqual(['r1']);
    expect(registry.subscriptions()).toEqual([
      expect.objectContaining({ priority: 10, owner: container.get<RouterQuota>(ROUTER_QUOTA) }),
    ]);
  });

  it('takes bindSubscriber contributions from a container module, and drops them when it is unloaded', async () => {
    const quotas = new ContainerModule((options) => {
      bindSubscriber(options, ROUTER_QUOTA, QuotaService).inSingletonScope();
    });
    const { container, registry } = await booted((c) => c.load(quotas));
    expect(registry.hasSubscribers(ROUTER, BEFORE_CREATE)).toBe(true);
    container.unload(quotas);
    expect(registry.hasSubscribers(ROUTER, BEFORE_CREATE)).toBe(false);
    const again = await bootCallbacks(container);
    expect(again.subscriptions).toEqual([]);
  });

  it('subscribes nothing twice when booted twice', async () => {
    const { container, registry } = await booted((c) => {
      c.bind(RouterAudit).toSelf().inSingletonScope();
      bindSubscriber(c, ROUTER_QUOTA, QuotaService);
    });
    const second = await bootCallbacks(container);
    expect(second.subscriptions).toEqual([]);
    expect(registry.subscriptions()).toHaveLength(3);
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    expect(container.get(RouterAudit).seen).toEqual([AFTER_CREATE]);
  });

  it('leaves subscribers bound after boot unsubscribed until bootCallbacks runs again', async () => {
    const { container, registry } = await booted(() => undefined);
    container.bind(RouterAudit).toSelf().inSingletonScope();
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    expect(container.get(RouterAudit).seen).toEqual([]);
    const later = await bootCallbacks(container);
    expect(later.subscriptions).toHaveLength(2);
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    expect(container.get(RouterAudit).seen).toEqual([AFTER_CREATE]);
  });

  it('disposes what it subscribed and nothing else', async () => {
    const { container, boot, registry } = await booted((c) => c.bind(RouterAudit).toSelf().inSingletonScope());
    const byHand = registry.subscribe(() => undefined, ROUTER, AFTER_CREATE);
    boot.dispose();
    expect(registry.subscriptions().map((s) => s.id)).toEqual([byHand.id]);
    boot[Symbol.dispose]();
    expect(registry.subscriptions().map((s) => s.id)).toEqual([byHand.id]);
    // The registry stays booted, and booting again subscribes the subscriber again.
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    expect((await bootCallbacks(container)).subscriptions).toHaveLength(2);
  });

  it('does not claim handlers that were subscribed by hand before boot', async () => {
    const container = new Container();
    container.load(callbacksModule());
    container.bind(RouterAudit).toSelf().inSingletonScope();
    const registry = container.get(CallbackRegistry);
    const audit = container.get(RouterAudit);
    subscribeInstance(registry, audit);
    const boot = await bootCallbacks(container);
    expect(boot.subscriptions).toEqual([]);
    boot.dispose();
    expect(registry.subscriptions()).toHaveLength(2);
  });

  it('finds a subclass that only inherits its handlers when it is contributed with bindSubscriber', async () => {
    @injectable()
    class QuietAudit extends RouterAudit {}
    const { container, registry } = await booted((c) => bindSubscriber(c, QuietAudit, QuietAudit).inSingletonScope());
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    expect(container.get(QuietAudit).seen).toEqual([AFTER_CREATE]);
  });

  it('finds a subclass that only inherits its handlers, bound as itself', async () => {
    @injectable()
    class InheritingAudit extends RouterAudit {}
    const { container, registry, boot } = await booted((c) => c.bind(InheritingAudit).toSelf().inSingletonScope());
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    expect(container.get(InheritingAudit).seen).toEqual([AFTER_CREATE]);
    expect(boot.subscriptions.map((s) => s.id)).toEqual([
      expect.stringMatching(/^InheritingAudit\.record#\d+$/),
      expect.stringMatching(/^InheritingAudit\.record#\d+$/),
    ]);
  });

  it('finds a decorated class bound under a token with plain bind().to()', async () => {
    const { container, registry } = await booted((c) => c.bind(ROUTER_QUOTA).to(QuotaService).inSingletonScope());
    await registry.notify(ROUTER, BEFORE_CREATE, 'test', payload());
    expect(container.get<RouterQuota>(ROUTER_QUOTA).checked).toEqual(['r1']);
    expect(registry.subscriptions()).toEqual([expect.objectContaining({ priority: 10 })]);
  });

  it('unsubscribes such a subscriber when its token is unbound', async () => {
    const { container, registry } = await booted((c) => c.bind(ROUTER_QUOTA).to(QuotaService).inSingletonScope());
    expect(registry.hasSubscribers(ROUTER, BEFORE_CREATE)).toBe(true);
    container.unbind(ROUTER_QUOTA);
    expect(registry.hasSubscribers(ROUTER, BEFORE_CREATE)).toBe(false);
  });

  it('leaves out a token it cannot resolve without a name or tag, instead of failing the boot', async () => {
    const { registry, boot } = await booted((c) => {
      c.bind(ROUTER_QUOTA).to(QuotaService).inSingletonScope().whenNamed('edge');
    });
    expect(boot.subscriptions).toEqual([]);
    expect(registry.hasSubscribers(ROUTER, BEFORE_CREATE)).toBe(false);
  });

  it('subscribes every class bound under one token with plain bind().to(), each bound to its own instance', async () => {
    const { container, registry, boot } = await booted((c) => {
      c.bind(ROUTER_QUOTA).to(QuotaService).inSingletonScope();
      c.bind(ROUTER_QUOTA).to(FirewallQuota).inSingletonScope();
    });
    await registry.notify(ROUTER, BEFORE_CREATE, 'test', payload());
    const [quota, firewall] = container.getAll<RouterQuota>(ROUTER_QUOTA);
    expect(quota).toBeInstanceOf(QuotaService);
    expect(firewall).toBeInstanceOf(FirewallQuota);
    expect([quota!.checked, firewall!.checked]).toEqual([['r1'], ['r1']]);
    expect(registry.subscriptions()).toEqual([
      expect.objectContaining({ owner: quota, priority: 10 }),
      expect.objectContaining({ owner: firewall, priority: 20 }),
    ]);
    expect(boot.subscriptions).toHaveLength(2);
  });

  it('subscribes every class contributed under one token with bindSubscriber', async () => {
    const { container, registry } = await booted((c) => {
      bindSubscriber(c, ROUTER_QUOTA, QuotaService).inSingletonScope();
      bindSubscriber(c, ROUTER_QUOTA, FirewallQuota).inSingletonScope();
    });
    await registry.notify(ROUTER, BEFORE_CREATE, 'test', payload());
    expect(container.getAll<RouterQuota>(ROUTER_QUOTA).map((q) => q.checked)).toEqual([['r1'], ['r1']]);
    expect((await bootCallbacks(container)).subscriptions).toEqual([]);
    expect(registry.subscriptions()).toHaveLength(2);
  });

  it('subscribes each binding of a class bound twice under one token, and the unconstrained ones only', async () => {
    const { container, registry } = await booted((c) => {
      c.bind('audits').to(RouterAudit).inSingletonScope();
      c.bind('audits').to(RouterAudit).inSingletonScope();
      c.bind('audits').to(RouterAudit).inSingletonScope().whenNamed('edge');
    });
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    const audits = container.getAll<RouterAudit>('audits');
    expect(audits).toHaveLength(2);
    expect(audits.map((a) => a.seen)).toEqual([[AFTER_CREATE], [AFTER_CREATE]]);
    // Two events each; the binding that needs a name is not resolved, so not subscribed.
    expect(registry.subscriptions().map((s) => s.owner)).toEqual([audits[0], audits[0], audits[1], audits[1]]);
  });

  it('gives each subscriber under one token its own scope', async () => {
    const { container, registry } = await booted((c) => {
      c.bind(ROUTER_QUOTA).to(QuotaService).inSingletonScope();
      c.bind(ROUTER_QUOTA).to(FirewallQuota); // transient
    });
    const [quota] = container.getAll<RouterQuota>(ROUTER_QUOTA);
    FirewallQuota.made = 0;
    await registry.notify(ROUTER, BEFORE_CREATE, 'test', payload());
    await registry.notify(ROUTER, BEFORE_CREATE, 'test', payload());
    expect(quota!.checked).toEqual(['r1', 'r1']);
    expect(FirewallQuota.made).toBe(2); // resolved for each notification
    expect(registry.subscriptions()).toEqual([
      expect.objectContaining({ owner: quota }),
      expect.objectContaining({ id: expect.stringMatching(/^FirewallQuota\.checkQuota#\d+$/) }),
    ]);
  });

  it('counts inherited handlers of a class bound under a decorated base class', async () => {
    @injectable()
    class LoudAudit extends RouterAudit {}
    const { container, registry } = await booted((c) => c.bind(RouterAudit).to(LoudAudit).inSingletonScope());
    await registry.notify(ROUTER, AFTER_DELETE, 'test', payload());
    expect(container.get(RouterAudit)).toBeInstanceOf(LoudAudit);
    expect(container.get(RouterAudit).seen).toEqual([AFTER_DELETE]);
  });
});

describe('bootCallbacks: misconfiguration', () => {
  interface Inventory {
    count(): number;
  }
  const INVENTORY: ServiceIdentifier<Inventory> = Symbol('Inventory');

  @injectable()
  class RouterLimiter {
    constructor(@inject(INVENTORY) private readonly inventory: Inventory) {}

    @OnResource(ROUTER, BEFORE_CREATE)
    limitRouters(): void {
      if (this.inventory.count() > 10) throw new Error('too many routers');
    }
  }

  it('fails when a bound subscriber cannot be resolved, naming its class and methods, and subscribes nothing', async () => {
    const container = new Container();
    container.load(callbacksModule());
    container.bind(RouterAudit).toSelf().inSingletonScope();
    container.bind(RouterLimiter).toSelf().inSingletonScope();
    const failure = await bootCallbacks(container).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SubscriberBootError);
    expect((failure as SubscriberBootError).subscriber).toBe('RouterLimiter (handlers: limitRouters)');
    expect((failure as Error).message).toMatch(/RouterLimiter \(handlers: limitRouters\) could not be resolved/);
    expect((failure as Error).message).toMatch(/Inventory/);
    const registry = container.get(CallbackRegistry);
    expect(registry.subscriptions()).toEqual([]);
    // Still not booted: notifications are refused, not dropped.
    await expect(registry.notify(ROUTER, AFTER_CREATE, 'test', payload())).rejects.toThrow(/bootCallbacks/);
  });

  it('names each handler that cannot be subscribed as Class.method', async () => {
    const container = new Container();
    container.load(callbacksModule());
    container.bind(RouterLimiter).toSelf().inSingletonScope();
    const failure = await bootCallbacks(container).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SubscriberBootError);
    expect((failure as SubscriberBootError).handlers).toEqual(['RouterLimiter.limitRouters']);
    expect((failure as Error).message).toContain(
      'RouterLimiter (handlers: limitRouters) could not be resolved from the container (failing handlers: RouterLimiter.limitRouters); ' +
        'bind what it depends on',
    );
  });

  it('names the token and every class bound under it when that token cannot be resolved', async () => {
    const container = new Container();
    container.load(callbacksModule());
    container.bind(ROUTER_QUOTA).to(QuotaService).inSingletonScope();
    container.bind(ROUTER_QUOTA).to(RouterLimiter as never);
    const failure = await bootCallbacks(container).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SubscriberBootError);
    expect((failure as SubscriberBootError).subscriber).toBe(
      'Symbol(RouterQuota) → QuotaService (handlers: checkQuota), RouterLimiter (handlers: limitRouters)',
    );
    expect((failure as SubscriberBootError).handlers).toEqual([
      'QuotaService.checkQuota',
      'RouterLimiter.limitRouters',
    ]);
    expect((failure as Error).message).toMatch(/Inventory/);
    expect(container.get(CallbackRegistry).subscriptions()).toEqual([]);
  });

  it('fails when an instance hides a decorated method, naming the class and method', async () => {
    @injectable()
    class Shadowed {
      constructor() {
        Object.defineProperty(this, 'onCreate', { value: 'not a method' });
      }

      @OnResource(ROUTER, AFTER_CREATE)
      onCreate(): void {}
    }
    const container = new Container();
    container.load(callbacksModule());
    container.bind(Shadowed).toSelf().inSingletonScope();
    await expect(bootCallbacks(container)).rejects.toThrow(
      /Shadowed \(handlers: onCreate\) could not be subscribed.*Shadowed\.onCreate/,
    );
    await expect(bootCallbacks(container)).rejects.toMatchObject({ handlers: ['Shadowed.onCreate'] });
    expect(container.get(CallbackRegistry).subscriptions()).toEqual([]);
  });

  it('names the token and the class of a subscriber bound with bindSubscriber', async () => {
    const container = new Container();
    container.load(callbacksModule());
    bindSubscriber(container, 'limiter', RouterLimiter);
    await expect(bootCallbacks(container)).rejects.toThrow(/limiter → RouterLimiter \(handlers: limitRouters\)/);
  });

  it('fails when callbacksModule was not loaded', async () => {
    const container = new Container();
    container.bind(RouterAudit).toSelf();
    await expect(bootCallbacks(container)).rejects.toThrow(InvalidError);
    await expect(bootCallbacks(container)).rejects.toThrow(/callbacksModule\(\)/);
  });

  it('fails for something that is not a container', async () => {
    await expect(bootCallbacks({} as Container)).rejects.toThrow(InvalidError);
    await expect(bootCallbacks({} as Container)).rejects.toThrow(/pass the inversify Container/);
  });

  it('names the copy of inversify it uses when the container comes from a second copy', async () => {
    // What a Container of another installed copy of inversify looks like from here: same name and
    // methods, another class. The consumer test (scripts/consumer-test.mjs) does it with a real copy.
    const fromAnotherCopy = new (class Container {
      bind(): void {}
      get(): void {}
      getAsync(): void {}
      load(): void {}
      isBound(): void {}
    })();
    const boot = bootCallbacks(fromAnotherCopy as unknown as Container);
    await expect(boot).rejects.toThrow(InvalidError);
    await expect(boot).rejects.toThrow(
      /another copy of inversify .*\(inversify 8\.\d+\.\d+ at \/.*inversify\).*npm ls inversify/,
    );
  });

  it('refuses bindSubscriber for a class without @OnResource methods, or a bad token', () => {
    class Plain {}
    const container = new Container();
    expect(() => bindSubscriber(container, 'plain', Plain)).toThrow(/bindSubscriber.*@OnResource/);
    expect(() => bindSubscriber(container, '' as string, QuotaService)).toThrow(InvalidError);
    expect(() => bindSubscriber({} as Container, ROUTER_QUOTA, QuotaService)).toThrow(/ContainerModule/);
    expect(container.isBound('plain')).toBe(false);
  });

  it('rejects @OnResource on something that is not a method, naming the class and member', () => {
    const decorate = () => {
      class Broken {
        @(OnResource(ROUTER, AFTER_CREATE) as unknown as PropertyDecorator)
        handler = () => undefined;
      }
      return Broken;
    };
    expect(decorate).toThrow(InvalidError);
    expect(decorate).toThrow(/Broken\.prototype\.handler/);
  });

  it('rejects @OnResource with an invalid resource or event, naming the class and method', () => {
    expect(() => {
      class BadResource {
        @OnResource('' as 'router', AFTER_CREATE)
        onCreate(): void {}
      }
      return BadResource;
    }).toThrow(/resource.*BadResource\.prototype\.onCreate/);
    expect(() => {
      class BadEvent {
        @OnResource(ROUTER, [] as EventOf<'router'>[])
        onNothing(): void {}
      }
      return BadEvent;
    }).toThrow(/event.*BadEvent\.prototype\.onNothing/);
  });

  it('keeps the default priority for handlers that declare none', async () => {
    const { registry } = await booted((c) => c.bind(RouterAudit).toSelf().inSingletonScope());
    expect(registry.subscriptions().every((s) => s.priority === PRIORITY_DEFAULT)).toBe(true);
  });
});
