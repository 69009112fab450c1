/**
 * The CallbackRegistryFixture test of neutron_lib/tests/unit/test_fixture.py, ported to Herald:
 * the fixture is `setDefaultRegistry` (swap before, restore after).
 */
import { describe, expect, it, jest } from '@jest/globals';
import { CallbackRegistry, EventPayload, registry, setDefaultRegistry } from '@herald/core';
import { isolateDefaultRegistry, untyped } from '../support.js';

describe('CallbackRegistryFixtureTestCase', () => {
  const fixture = isolateDefaultRegistry();

  it('test_fixture', async () => {
    const publish = jest.spyOn(fixture.current, 'publish');
    await untyped(registry).publish('a', 'b', 'test', new EventPayload({}));
    expect(publish).toHaveBeenCalled();
  });

  it('restores the previous registry when the fixture is cleaned up', () => {
    const swapped = registry;
    const restore = setDefaultRegistry(new CallbackRegistry());
    expect(registry).not.toBe(swapped);
    restore();
    expect(registry).toBe(swapped);
  });
});
