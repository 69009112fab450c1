/**
 * `@herald/testing` alone, without `@herald/testing/jest`: importing it registers the matchers with
 * Jest's global `expect`, and its `useIsolatedRegistry` uses Jest's global hooks.
 */
import { describe, expect, it } from '@jest/globals';
import { AFTER_CREATE, BEFORE_CREATE, HeraldError, registry, ROUTER } from '@herald/core';
import { heraldMatchers, useIsolatedRegistry } from '@herald/testing';

describe('importing @herald/testing alone', () => {
  const herald = useIsolatedRegistry();

  it('gives the matchers to the global expect', async () => {
    await registry.notify(ROUTER, AFTER_CREATE, 'test');
    expect(herald.recorder).toHaveNotified(ROUTER, AFTER_CREATE);
    expect(herald.recorder).not.toHaveVetoed(ROUTER, AFTER_CREATE);
    expect(herald).toHaveNotified(ROUTER, AFTER_CREATE);
    expect(Object.keys(heraldMatchers)).toEqual(['toHaveNotified', 'toHaveVetoed']);
  });

  it('isolates the default registry per test with the global hooks', () => {
    expect(herald.registry).toBe(registry);
    expect(herald.recorder.records).toEqual([]);
    expect(registry.hasSubscribers(ROUTER, BEFORE_CREATE)).toBe(false);
  });

  it('says what to do when there are no global hooks', () => {
    const g = globalThis as { beforeEach?: unknown };
    const saved = g.beforeEach;
    g.beforeEach = undefined;
    try {
      expect(() => useIsolatedRegistry()).toThrow(HeraldError);
      expect(() => useIsolatedRegistry()).toThrow(/@herald\/testing\/jest/);
    } finally {
      g.beforeEach = saved;
    }
  });

  it('takes hooks given explicitly', () => {
    const hooks: string[] = [];
    const handle = useIsolatedRegistry(
      {},
      { beforeEach: () => hooks.push('before'), afterEach: () => hooks.push('after') },
    );
    expect(hooks).toEqual(['before', 'after']);
    expect(() => handle.registry).toThrow(HeraldError);
  });
});
