/**
 * `@herald/testing/jest`: registers Herald's matchers with the `expect` of `@jest/globals`;
 * `useIsolatedRegistry()` gives each test its own default registry and recorder. Importing
 * `@herald/testing` does the same with Jest's global `expect`, `beforeEach` and `afterEach`; this
 * entry is for `injectGlobals: false`, and for `setupFilesAfterEnv`.
 *
 * @example
 * ```ts
 * import '@herald/testing/jest';
 * const herald = useIsolatedRegistry();
 * it('announces the router', async () => {
 *   await createRouter();
 *   expect(herald.recorder).toHaveNotified(ROUTER, AFTER_CREATE);
 * });
 * ```
 * @module @herald/testing/jest
 */

import { afterEach, beforeEach, expect } from '@jest/globals';
import {
  useIsolatedRegistry as useIsolatedRegistryWith,
  type IsolatedTestRegistry,
  type TestRegistryOptions,
} from './isolation.js';
import { heraldMatchers } from './matchers.js';

export type { IsolatedTestRegistry } from './isolation.js';

expect.extend(heraldMatchers);

/**
 * Give every test of the enclosing `describe` (or file) a fresh default `registry` and a recorder
 * of it, and put the previous default registry back after each test. The same as
 * `useIsolatedRegistry` of `@herald/testing`, with the hooks of `@jest/globals` (so it also works
 * with `injectGlobals: false`).
 *
 * @returns a handle whose members are this test's; reading them outside a test throws
 * @example
 * ```ts
 * const herald = useIsolatedRegistry();
 * it('vetoes', async () => {
 *   registry.subscribe(refuse, PORT, BEFORE_DELETE);
 *   await expect(deletePort()).rejects.toThrow(CallbackFailure);
 *   expect(herald.recorder).toHaveVetoed(PORT, BEFORE_DELETE);
 * });
 * ```
 */
export function useIsolatedRegistry(options: TestRegistryOptions = {}): IsolatedTestRegistry {
  return useIsolatedRegistryWith(options, { beforeEach, afterEach });
}
