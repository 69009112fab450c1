import 'reflect-metadata';
import { describe, expect, it, jest } from '@jest/globals';
import {
  AFTER_CREATE,
  BEFORE_CREATE,
  CallbackFailure,
  CallbackRegistry,
  DBEventPayload,
  InvalidError,
  OnResource,
  ROUTER,
  type Logger,
} from '@herald/core';
import { Container, inject, injectable, type ServiceIdentifier } from 'inversify';
import { bootCallbacks, callbacksModule, SubscriberBootError } from '../src/index.js';
import type { Router } from './fixtures/network.js';

const router: Router = { id: 'r1', name: 'edge' };
const payload = () => new DBEventPayload({}, { desiredState: router });

let created = 0;

/** Counts its instances and remembers which instance handled each notification. */
@injectable()
class RouterCounter {
  readonly serial = ++created;
  static readonly handledBy: number[] = [];

  @OnResource(ROUTER, AFTER_CREATE)
  count(): void {
    RouterCounter.handledBy.push(this.serial);
  }
}

interface Quota {
  readonly limit: number;
}
const QUOTA: ServiceIdentifier<Quota> = Symbol('Quota');

/** Depends on a quota that only an asynchronous factory can provide. */
@injectable()
class QuotaGuard {
  constructor(@inject(QUOTA) readonly quota: Quota) {}

  @OnResource(ROUTER, BEFORE_CREATE)
  enforce(): void {
    if (this.quota.limit === 0) throw new Error('router quota exhausted');
  }
}

/** Two handlers for the same event, which remember the instance that ran them. */
@injectable()
class RouterPair {
  static made = 0;
  static readonly seen: object[] = [];

  constructor() {
    RouterPair.made++;
  }

  @OnResource(ROUTER, AFTER_CREATE)
  first(): void {
    RouterPair.seen.push(this);
  }

  @OnResource(ROUTER, AFTER_CREATE)
  second(): void {
    RouterPair.seen.push(this);
  }
}

/** Another pair, to bind under the same token as RouterPair. */
@injectable()
class OtherPair extends RouterPair {}

/** RouterPair with a dependency that only an asynchronous factory provides. */
@injectable()
class QuotaPair extends RouterPair {
  constructor(@inject(QUOTA) readonly quota: Quota) {
    super();
  }
}

async function booted(bind: (container: Container) => void, logger?: Logger) {
  const container = new Container();
  container.load(callbacksModule(logger === undefined ? {} : { logger }));
  bind(container);
  await bootCallbacks(container);
  return { container, registry: container.get(CallbackRegistry) };
}

function reset(): void {
  created = 0;
  RouterCounter.handledBy.length = 0;
  RouterPair.made = 0;
  RouterPair.seen.length = 0;
}

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('it did not throw');
}

describe('scopes', () => {
  it("subscribes a singleton's prototype methods with its one instance as owner, resolved once at boot", async () => {
    reset();
    const { container, registry } = await booted((c) => c.bind(RouterCounter).toSelf().inSingletonScope());
    const counter = container.get(RouterCounter);
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    registry.notifySync(ROUTER, AFTER_CREATE, 'test', payload());
    expect(created).toBe(1);
    expect(RouterCounter.handledBy).toEqual([1, 1]);
    expect(registry.subscriptions()).toEqual([expect.objectContaining({ owner: counter })]);
    // The same (callback, owner) a hand-made subscribeInstance would have used.
    registry.unsubscribe(RouterCounter.prototype.count, ROUTER, AFTER_CREATE, counter);
    expect(registry.hasSubscribers(ROUTER, AFTER_CREATE)).toBe(false);
  });

  it('resolves a transient subscriber for each notification', async () => {
    reset();
    const { registry } = await booted((c) => c.bind(RouterCounter).toSelf().inTransientScope());
    const atBoot = created;
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    registry.notifySync(ROUTER, AFTER_CREATE, 'test', payload());
    expect(RouterCounter.handledBy).toEqual([atBoot + 1, atBoot + 2]);
    expect(registry.subscriptions()).toEqual([
      expect.objectContaining({ id: expect.stringMatching(/^RouterCounter\.count#\d+$/) }),
    ]);
  });

  it('resolves a request-scoped subscriber for each notification', async () => {
    reset();
    const { registry } = await booted((c) => c.bind(RouterCounter).toSelf().inRequestScope());
    const atBoot = created;
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    expect(RouterCounter.handledBy).toEqual([atBoot + 1, atBoot + 2]);
  });

  it('boots a singleton whose dependency comes from an asynchronous factory', async () => {
    const { registry, container } = await booted((c) => {
      c.bind(QUOTA).toResolvedValue(async () => ({ limit: 0 }));
      c.bind(QuotaGuard).toSelf().inSingletonScope();
    });
    expect(container.get(QuotaGuard).quota.limit).toBe(0);
    await expect(registry.notify(ROUTER, BEFORE_CREATE, 'test', payload())).rejects.toThrow(CallbackFailure);
    // Resolved at boot, so it also answers synchronous notifications.
    expect(() => registry.notifySync(ROUTER, BEFORE_CREATE, 'test', payload())).toThrow(CallbackFailure);
  });

  it('boots a singleton with an asynchronous activation hook', async () => {
    reset();
    const { registry, container } = await booted((c) =>
      c
        .bind(RouterCounter)
        .toSelf()
        .inSingletonScope()
        .onActivation(async (_context, counter) => {
          await Promise.resolve();
          return counter;
        }),
    );
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    expect(RouterCounter.handledBy).toEqual([container.get(RouterCounter).serial]);
  });

  it('resolves a transient subscriber with asynchronous dependencies asynchronously, per notification', async () => {
    let limit = 1;
    const { registry } = await booted((c) => {
      c.bind(QUOTA).toDynamicValue(async () => ({ limit }));
      c.bind(QuotaGuard).toSelf();
    });
    await registry.notify(ROUTER, BEFORE_CREATE, 'test', payload());
    limit = 0;
    const failure = await registry.notify(ROUTER, BEFORE_CREATE, 'test', payload()).catch((e: unknown) => e);
    expect((failure as CallbackFailure).innerErrors).toEqual([new Error('router quota exhausted')]);
  });

  it('reports a subscriber that needs asynchronous resolution as a failure of notifySync, which names notify', async () => {
    const logger: Logger = { error: jest.fn<Logger['error']>(), debug: jest.fn<NonNullable<Logger['debug']>>() };
    const { registry } = await booted((c) => {
      c.bind(QUOTA).toDynamicValue(async () => ({ limit: 1 }));
      c.bind(QuotaGuard).toSelf();
    }, logger);
    const failure = (() => {
      try {
        registry.notifySync(ROUTER, BEFORE_CREATE, 'test', payload());
      } catch (error) {
        return error;
      }
    })();
    expect(failure).toBeInstanceOf(CallbackFailure);
    expect(String((failure as CallbackFailure).innerErrors[0])).toMatch(/use notify/);
  });
});

describe('scopes: one resolution per notification', () => {
  it.each([
    ['transient', (c: Container) => c.bind(RouterPair).toSelf()],
    ['request-scoped', (c: Container) => c.bind(RouterPair).toSelf().inRequestScope()],
  ])('resolves a %s subscriber once per notification, for all its handlers', async (_scope, bind) => {
    const { registry } = await booted(bind);
    reset();
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    registry.notifySync(ROUTER, AFTER_CREATE, 'test', payload());
    expect(RouterPair.made).toBe(2);
    const [a, b, c, d] = RouterPair.seen;
    expect(RouterPair.seen).toHaveLength(4);
    expect(b).toBe(a);
    expect(d).toBe(c);
    expect(c).not.toBe(a);
  });

  it('shares an asynchronously resolved instance among the handlers of one notification', async () => {
    const { registry } = await booted((c) => {
      c.bind(QUOTA).toDynamicValue(async () => ({ limit: 1 }));
      c.bind(QuotaPair).toSelf();
    });
    reset();
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    expect(RouterPair.made).toBe(2);
    const [a, b, c, d] = RouterPair.seen;
    expect([b === a, d === c, c === a]).toEqual([true, true, false]);
    expect(a).toBeInstanceOf(QuotaPair);
  });

  it('tries to resolve once per notification, and reports that failure for each handler', async () => {
    let broken = false;
    const logger: Logger = { error: jest.fn<Logger['error']>(), debug: jest.fn<NonNullable<Logger['debug']>>() };
    const { registry } = await booted(
      (c) =>
        c
          .bind(RouterPair)
          .toSelf()
          .onActivation((_context, pair) => {
            if (broken) throw new Error('cannot activate');
            return pair;
          }),
      logger,
    );
    reset();
    broken = true;
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload()); // after_* events log their failures
    expect(RouterPair.made).toBe(1);
    const logged = jest.mocked(logger.error).mock.calls.map(([, error]) => error);
    expect(logged).toEqual([new Error('cannot activate'), new Error('cannot activate')]);
    expect(logged[1]).toBe(logged[0]);
  });

  it('resolves several transient subscribers under one token together, each handler on its own binding', async () => {
    const PAIRS: ServiceIdentifier<RouterPair> = Symbol('Pairs');
    const { registry } = await booted((c) => {
      c.bind(PAIRS).to(RouterPair);
      c.bind(PAIRS).to(OtherPair);
    });
    reset();
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    expect(RouterPair.made).toBe(2); // one RouterPair, one OtherPair
    const [a, b, c, d] = RouterPair.seen;
    expect(RouterPair.seen).toHaveLength(4);
    expect([a!.constructor, b, c!.constructor, d]).toEqual([RouterPair, a, OtherPair, c]);
  });
});

describe('scopes: an instance that hides a decorated method', () => {
  @injectable()
  class Hider {
    static hide = true;

    constructor() {
      if (Hider.hide) (this as unknown as { check: number }).check = 42;
    }

    @OnResource(ROUTER, BEFORE_CREATE)
    check(): void {}
  }

  it.each([
    ['singleton', (c: Container) => c.bind(Hider).toSelf().inSingletonScope()],
    ['transient', (c: Container) => c.bind(Hider).toSelf()],
    ['request-scoped', (c: Container) => c.bind(Hider).toSelf().inRequestScope()],
  ])('fails the boot of a %s subscriber with the same SubscriberBootError', async (_scope, bind) => {
    Hider.hide = true;
    const container = new Container();
    container.load(callbacksModule());
    bind(container);
    const failure = await bootCallbacks(container).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SubscriberBootError);
    expect((failure as Error).message).toBe(
      "bootCallbacks(container): Hider (handlers: check) could not be subscribed (failing handlers: Hider.check); keep each @OnResource member a method of the instance. Cause: The value 42 for Hider.check is not valid: the instance's 42 hides the decorated method; keep it a method.",
    );
    expect((failure as Error).cause).toBeInstanceOf(InvalidError);
    expect(container.get(CallbackRegistry).subscriptions()).toEqual([]);
  });

  it('names the class and method when an instance resolved for a notification hides its handler', async () => {
    Hider.hide = false;
    const { registry } = await booted((c) => c.bind(Hider).toSelf());
    Hider.hide = true;
    const failure = await registry.notify(ROUTER, BEFORE_CREATE, 'test', payload()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CallbackFailure);
    const [error] = (failure as CallbackFailure).innerErrors;
    expect(error).toBeInstanceOf(InvalidError);
    expect(String(error)).toMatch(/Hider\.check is not valid: the instance's 42 hides the decorated method/);
    const syncFailure = thrownBy(() => registry.notifySync(ROUTER, BEFORE_CREATE, 'test', payload()));
    expect(String((syncFailure as CallbackFailure).innerErrors[0])).toMatch(/Hider\.check/);
  });
});
