import 'reflect-metadata';
import { describe, expect, it, jest } from '@jest/globals';
import {
  AFTER_CREATE,
  BEFORE_CREATE,
  CallbackFailure,
  CallbackRegistry,
  DBEventPayload,
  HeraldError,
  InvalidError,
  registry as defaultRegistry,
  RetryRequest,
  ROUTER,
  type Logger,
} from '@herald/core';
import { Container } from 'inversify';
import { bootCallbacks, callbacksModule, CallbacksNotBootedError } from '../src/index.js';
import type { Router } from './fixtures/network.js';

const router: Router = { id: 'r1', name: 'edge' };
const payload = () => new DBEventPayload({}, { desiredState: router });

function containerWith(module = callbacksModule()): Container {
  const container = new Container();
  container.load(module);
  return container;
}

describe('callbacksModule', () => {
  it('binds CallbackRegistry as a singleton that is a CallbackRegistry', () => {
    const container = containerWith();
    const registry = container.get(CallbackRegistry);
    expect(registry).toBeInstanceOf(CallbackRegistry);
    expect(container.get(CallbackRegistry)).toBe(registry);
  });

  it("gives each container a registry of its own, distinct from core's default registry", () => {
    const module = callbacksModule();
    const first = containerWith(module).get(CallbackRegistry);
    const second = containerWith(module).get(CallbackRegistry);
    expect(first).not.toBe(second);
    expect(first).not.toBe(defaultRegistry);
  });

  it('hands its options to the registry: logger, isRetriable and name', async () => {
    const logger: Logger = { error: jest.fn<Logger['error']>() };
    const container = containerWith(callbacksModule({ logger, isRetriable: () => true, name: 'l3' }));
    await bootCallbacks(container);
    const registry = container.get(CallbackRegistry);
    expect(registry.name).toBe('l3');
    registry.subscribe(
      () => {
        throw new Error('deadlock');
      },
      ROUTER,
      BEFORE_CREATE,
    );
    await expect(registry.notify(ROUTER, BEFORE_CREATE, 'test', payload())).rejects.toThrow(RetryRequest);
    registry.subscribe(
      () => {
        throw new Error('swallowed');
      },
      ROUTER,
      AFTER_CREATE,
    );
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    expect(logger.error).toHaveBeenCalledTimes(1);
  });

  it('rejects invalid options when the module is created', () => {
    expect(() => callbacksModule({ logger: 'console' as unknown as Logger })).toThrow(InvalidError);
  });

  it('clears the registry when the module is unloaded', async () => {
    const module = callbacksModule();
    const container = containerWith(module);
    await bootCallbacks(container);
    const registry = container.get(CallbackRegistry);
    registry.subscribe(() => undefined, ROUTER, AFTER_CREATE);
    container.unload(module);
    expect(registry.subscriptions()).toEqual([]);
    expect(container.isBound(CallbackRegistry)).toBe(false);
  });
});

describe('notifying before bootCallbacks finished', () => {
  it('rejects notify with a CallbacksNotBootedError that names bootCallbacks', async () => {
    const registry = containerWith().get(CallbackRegistry);
    const attempt = registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    await expect(attempt).rejects.toThrow(CallbacksNotBootedError);
    await expect(attempt).rejects.toThrow(/notify\(router, after_create\).*bootCallbacks\(container\)/);
    await expect(attempt).rejects.toBeInstanceOf(HeraldError);
  });

  it('throws from notifySync and rejects publish the same way', async () => {
    const registry = containerWith().get(CallbackRegistry);
    expect(() => registry.notifySync(ROUTER, AFTER_CREATE, 'test', payload())).toThrow(CallbacksNotBootedError);
    await expect(registry.publish(ROUTER, AFTER_CREATE, 'test', payload())).rejects.toThrow(CallbacksNotBootedError);
  });

  it('reaches nobody: a subscriber added by hand is not called before boot', async () => {
    const registry = containerWith().get(CallbackRegistry);
    const callback = jest.fn();
    registry.subscribe(callback, ROUTER, AFTER_CREATE);
    await expect(registry.notify(ROUTER, AFTER_CREATE, 'test', payload())).rejects.toThrow(CallbacksNotBootedError);
    expect(callback).not.toHaveBeenCalled();
  });

  it('notifies normally once boot has finished, with the usual veto rules', async () => {
    const container = containerWith();
    await bootCallbacks(container);
    const registry = container.get(CallbackRegistry);
    const seen: unknown[] = [];
    registry.subscribe((p) => void seen.push(p.latestState), ROUTER, AFTER_CREATE);
    registry.subscribe(
      () => {
        throw new Error('no');
      },
      ROUTER,
      BEFORE_CREATE,
    );
    await registry.notify(ROUTER, AFTER_CREATE, 'test', payload());
    registry.notifySync(ROUTER, AFTER_CREATE, 'test', payload());
    await registry.publish(ROUTER, AFTER_CREATE, 'test', payload());
    expect(seen).toEqual([router, router, router]);
    await expect(registry.notify(ROUTER, BEFORE_CREATE, 'test', payload())).rejects.toThrow(CallbackFailure);
  });
});
