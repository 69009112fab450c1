/**
 * `@herald/testing/jest`: registers Herald's matchers with Jest's `expect` and declares their
 * types; `useIsolatedRegistry()` gives each test its own default registry and recorder.
 *
 * Add it to Jest's `setupFilesAfterEnv`, or import it at the top of a test file (the import also
 * brings the matchers' types into the test's program).
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
 * @module
 */

import { afterEach, beforeEach, expect } from '@jest/globals';
import { HeraldError, type CallbackRegistry, type EventOf, type PayloadOf, type Resource } from '@herald/core';
import type { AsymmetricMatchers } from 'expect';
import {
  isolateDefaultRegistry,
  type IsolatedDefaultRegistry,
  type MemoryLogger,
  type TestRegistryOptions,
} from './isolation.js';
import { heraldMatchers } from './matchers.js';
import { recordNotifications, type NotificationRecorder } from './recorder.js';

expect.extend(heraldMatchers);

/** What an asymmetric matcher such as `expect.objectContaining(…)` is. */
type AnyAsymmetricMatcher = ReturnType<AsymmetricMatchers['anything']>;

declare module 'expect' {
  // Merging needs the exact type parameters of expect's own `Matchers`, `T` included.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface Matchers<R extends void | Promise<void>, T = unknown> {
    /**
     * The recorder saw a notification of (`resource`, `event`), with a payload equal to `payload`
     * when given (asymmetric matchers work).
     *
     * @example
     * ```ts
     * expect(recorder).toHaveNotified(ROUTER, AFTER_CREATE, expect.objectContaining({ resourceId: 'r-1' }));
     * ```
     */
    toHaveNotified<Res extends Resource, E extends EventOf<Res>>(
      resource: Res,
      event: E,
      payload?: PayloadOf<Res, E> | AnyAsymmetricMatcher,
    ): R;
    /**
     * The recorder saw a vetoed notification of (`resource`, `event`): its trigger got a `CallbackFailure`.
     *
     * @example
     * ```ts
     * expect(recorder).toHaveVetoed(PORT, BEFORE_DELETE);
     * ```
     */
    toHaveVetoed<Res extends Resource>(resource: Res, event: EventOf<Res>): R;
  }
}

/** The per-test state `useIsolatedRegistry()` hands out; read it inside tests only. */
export interface IsolatedTestRegistry {
  /** This test's default registry. */
  readonly registry: CallbackRegistry;
  /** Records every notification of `registry` during this test. */
  readonly recorder: NotificationRecorder;
  /** What `registry` logged during this test. */
  readonly logger: MemoryLogger;
}

/**
 * Give every test of the enclosing `describe` (or file) a fresh default `registry` and a recorder
 * of it, and put the previous default registry back after each test.
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
  let current: { isolated: IsolatedDefaultRegistry; recorder: NotificationRecorder } | undefined;
  beforeEach(() => {
    const isolated = isolateDefaultRegistry(options);
    current = { isolated, recorder: recordNotifications(isolated.registry) };
  });
  afterEach(() => {
    current?.recorder.stop();
    current?.isolated.restore();
    current = undefined;
  });
  const now = () => {
    if (current === undefined) {
      throw new HeraldError(
        'useIsolatedRegistry(): registry, recorder and logger belong to the running test; read them inside a test or its beforeEach/afterEach.',
      );
    }
    return current;
  };
  return {
    get registry() {
      return now().isolated.registry;
    },
    get recorder() {
      return now().recorder;
    },
    get logger() {
      return now().isolated.logger;
    },
  };
}
