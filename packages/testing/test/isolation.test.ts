import { describe, expect, it } from '@jest/globals';
import { AFTER_CREATE, CallbackRegistry, EventPayload, InvalidError, registry, ROUTER } from '@herald/core';
import { createTestRegistry, isolateDefaultRegistry } from '@herald/testing';

describe('isolateDefaultRegistry', () => {
  it('makes a fresh registry the default registry until restored', () => {
    const before = registry;
    const isolated = isolateDefaultRegistry({ name: 'mine' });
    expect(registry).toBe(isolated.registry);
    expect(registry).not.toBe(before);
    expect(registry.name).toBe('mine');
    isolated.restore();
    expect(registry).toBe(before);
  });

  it('keeps subscriptions made during the test out of the previous registry', async () => {
    const before = registry;
    const heard: string[] = [];
    {
      using _isolated = isolateDefaultRegistry();
      registry.subscribe(() => void heard.push('isolated'), ROUTER, AFTER_CREATE);
    }
    expect(registry).toBe(before);
    expect(before.hasSubscribers(ROUTER, AFTER_CREATE)).toBe(false);
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    expect(heard).toEqual([]);
  });

  it('restores only once, so a late second restore cannot undo a later isolation', () => {
    const before = registry;
    const first = isolateDefaultRegistry();
    first.restore();
    const second = isolateDefaultRegistry();
    first.restore();
    expect(registry).toBe(second.registry);
    second.restore();
    expect(registry).toBe(before);
  });
});

describe('createTestRegistry', () => {
  it('keeps what the registry logs, such as a swallowed after_create failure', async () => {
    const { registry: r, logger } = createTestRegistry();
    r.subscribe(
      function audit() {
        throw new Error('audit store down');
      },
      ROUTER,
      AFTER_CREATE,
    );
    await r.notify(ROUTER, AFTER_CREATE, 'test', new EventPayload(null));
    expect(logger.errors()).toHaveLength(1);
    expect(logger.errors()[0]!.message).toContain('audit#1');
    expect(logger.errors()[0]!.meta).toEqual([new Error('audit store down')]);
  });

  it('gives each call its own registry', () => {
    expect(createTestRegistry().registry).not.toBe(createTestRegistry().registry);
    expect(createTestRegistry().registry).toBeInstanceOf(CallbackRegistry);
  });

  it('refuses a logger or options that are not an object, naming what to pass', () => {
    expect(() => createTestRegistry({ logger: console } as object)).toThrow(InvalidError);
    expect(() => createTestRegistry({ logger: console } as object)).toThrow(/read logger\.lines/);
    expect(() => isolateDefaultRegistry(42 as unknown as object)).toThrow(/The value 42 for options/);
  });
});
