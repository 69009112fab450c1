/**
 * Decorated classes bound as values rather than as classes: docs/guide/inversify.md promises that
 * a subscriber bound with `toConstantValue` or `toDynamicValue` under its decorated class is found
 * at boot, and a class with no `@OnResource` method is refused when it is bound.
 */
import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { AFTER_CREATE, CallbackRegistry, DBEventPayload, InvalidError, OnResource, ROUTER } from '@herald/core';
import { Container, injectable } from 'inversify';
import { bindSubscriber, bootCallbacks, callbacksModule } from '../src/index.js';

@injectable()
class RouterLog {
  readonly seen: unknown[] = [];

  constructor(readonly name: string) {}

  @OnResource(ROUTER, AFTER_CREATE)
  onCreate(payload: DBEventPayload): void {
    this.seen.push(payload.resourceId);
  }
}

async function bootWith(bind: (container: Container) => void) {
  const container = new Container();
  container.load(callbacksModule());
  bind(container);
  const boot = await bootCallbacks(container);
  return { container, boot, registry: container.get(CallbackRegistry) };
}

describe('bootCallbacks: a decorated class bound as a value', () => {
  it('subscribes the instance bound with toConstantValue, with that instance as this', async () => {
    const log = new RouterLog('constant');
    const { boot, registry } = await bootWith((c) => c.bind(RouterLog).toConstantValue(log));
    await registry.notify(ROUTER, AFTER_CREATE, 'test', new DBEventPayload({}, { resourceId: 'r1' }));
    expect(log.seen).toEqual(['r1']);
    expect(registry.subscriptions().map((s) => s.owner)).toEqual([log]);
    boot.dispose();
    await registry.notify(ROUTER, AFTER_CREATE, 'test', new DBEventPayload({}, { resourceId: 'r2' }));
    expect(log.seen).toEqual(['r1']);
  });

  it('subscribes what toDynamicValue makes, once, as a singleton', async () => {
    const made: RouterLog[] = [];
    const { registry } = await bootWith((c) =>
      c
        .bind(RouterLog)
        .toDynamicValue(() => {
          const log = new RouterLog('dynamic');
          made.push(log);
          return log;
        })
        .inSingletonScope(),
    );
    await registry.notify(ROUTER, AFTER_CREATE, 'test', new DBEventPayload({}, { resourceId: 'r1' }));
    await registry.notify(ROUTER, AFTER_CREATE, 'test', new DBEventPayload({}, { resourceId: 'r2' }));
    expect(made).toHaveLength(1);
    expect(made[0]!.seen).toEqual(['r1', 'r2']);
  });
});

/** Decorated; bound below only as a redirection to its subclass. */
@injectable()
class RouterCounter {
  readonly seen: unknown[] = [];

  @OnResource(ROUTER, AFTER_CREATE)
  onCreate(payload: DBEventPayload): void {
    this.seen.push(payload.resourceId);
  }
}

@injectable()
class AuditedRouterCounter extends RouterCounter {}

describe('bootCallbacks: a decorated class redirected (toService) to a singleton', () => {
  it('subscribes the one instance once, as a singleton', async () => {
    const { container, registry } = await bootWith((c) => {
      c.bind(AuditedRouterCounter).toSelf().inSingletonScope();
      c.bind(RouterCounter).toService(AuditedRouterCounter);
    });
    const counter = container.get(AuditedRouterCounter);
    expect(container.get(RouterCounter)).toBe(counter);
    await registry.notify(ROUTER, AFTER_CREATE, 'test', new DBEventPayload({}, { resourceId: 'r1' }));
    expect(counter.seen).toEqual(['r1']);
    expect(registry.subscriptions().map((s) => s.owner)).toEqual([counter]);
  });
});

describe('bindSubscriber', () => {
  it('refuses a class with no @OnResource method when it is bound, naming the class', () => {
    @injectable()
    class PlainService {
      handle(): void {}
    }
    const container = new Container();
    expect(() => bindSubscriber(container, PlainService, PlainService)).toThrow(InvalidError);
    expect(() => bindSubscriber(container, PlainService, PlainService)).toThrow(/PlainService.*@OnResource/);
    expect(container.isBound(PlainService)).toBe(false);
  });
});
