import 'reflect-metadata';
import { describe, expect, it, jest } from '@jest/globals';
import {
  AFTER_CREATE,
  BEFORE_CREATE,
  CallbackFailure,
  CallbackRegistry,
  DBEventPayload,
  OnResource,
  ROUTER,
  type Logger,
} from '@herald/core';
import { Container, inject, injectable, type ServiceIdentifier } from 'inversify';
import { bootCallbacks, callbacksModule } from '../src/index.js';
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
