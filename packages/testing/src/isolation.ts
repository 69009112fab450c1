/**
 * Isolated registries: a fresh `CallbackRegistry` per test, and the default `registry` swapped
 * for one and put back afterwards, so that no subscription leaks from one test into the next.
 * @module
 */

import {
  CallbackRegistry,
  HeraldError,
  InvalidError,
  setDefaultRegistry,
  type Logger,
  type RegistryOptions,
} from '@herald/core';
import { recordNotifications, type NotificationRecorder } from './recorder.js';

/**
 * One line a registry logged.
 *
 * @example
 * ```ts
 * const [first] = logger.errors();
 * expect(first?.message).toMatch(/after_create/);
 * ```
 */
export interface LoggedLine {
  /** The level it was logged at. */
  readonly level: 'error' | 'warn' | 'info' | 'debug';
  /** The message. */
  readonly message: string;
  /** What was logged with it. */
  readonly meta: readonly unknown[];
}

/**
 * A logger that keeps what it is told instead of printing it, so that the failures a registry
 * swallows (and logs) can be asserted on without filling the test output.
 *
 * @example
 * ```ts
 * const logger = new MemoryLogger();
 * const registry = new CallbackRegistry({ logger });
 * // … a failing after_create subscriber …
 * expect(logger.errors()).toHaveLength(1);
 * ```
 */
export class MemoryLogger implements Logger {
  /** Every line, oldest first. */
  readonly lines: LoggedLine[] = [];

  /** Keeps an error-level line. */
  error(message: string, ...meta: unknown[]): void {
    this.lines.push({ level: 'error', message, meta });
  }
  /** Keeps a warning-level line. */
  warn(message: string, ...meta: unknown[]): void {
    this.lines.push({ level: 'warn', message, meta });
  }
  /** Keeps an info-level line. */
  info(message: string, ...meta: unknown[]): void {
    this.lines.push({ level: 'info', message, meta });
  }
  /** Keeps a debug-level line. */
  debug(message: string, ...meta: unknown[]): void {
    this.lines.push({ level: 'debug', message, meta });
  }

  /** The error-level lines: the failures the registry swallowed. */
  errors(): LoggedLine[] {
    return this.lines.filter((line) => line.level === 'error');
  }
}

/**
 * Options of a test registry: those of a `CallbackRegistry` but the logger, which is a {@link MemoryLogger}.
 *
 * @example
 * ```ts
 * const { registry } = createTestRegistry({ name: 'quota tests', isRetriable: (e) => e instanceof DeadlockError });
 * ```
 */
export type TestRegistryOptions = Omit<RegistryOptions, 'logger'>;

/**
 * A registry made for one test, and where it logs.
 *
 * @example
 * ```ts
 * const { registry, logger }: TestRegistry = createTestRegistry();
 * registry.subscribe(audit, ROUTER, AFTER_CREATE);
 * ```
 */
export interface TestRegistry {
  /** The new registry. */
  readonly registry: CallbackRegistry;
  /** What the registry logged: read `logger.errors()` for the failures it swallowed. */
  readonly logger: MemoryLogger;
}

/**
 * A new registry for one test, logging into a {@link MemoryLogger}.
 *
 * @example
 * ```ts
 * const { registry, logger } = createTestRegistry({ name: 'l3 tests' });
 * ```
 */
export function createTestRegistry(options: TestRegistryOptions = {}): TestRegistry {
  if (options === null || typeof options !== 'object' || 'logger' in options) {
    throw new InvalidError(
      'options',
      options,
      'pass { isRetriable, name } or nothing; a test registry logs into its MemoryLogger (read logger.lines).',
    );
  }
  const logger = new MemoryLogger();
  const registry = new CallbackRegistry({ name: 'test', ...options, logger });
  return { registry, logger };
}

/**
 * The default registry swapped for a test's own; `restore()` (or `using`) puts the previous one back.
 *
 * @example
 * ```ts
 * using isolated = isolateDefaultRegistry();
 * await createRouter(); // Neutron-style code notifies the default registry: isolated.registry
 * ```
 */
export interface IsolatedDefaultRegistry extends TestRegistry, Disposable {
  /** Put the previous default registry back. Calling it again does nothing. */
  restore(): void;
}

/**
 * Make a fresh registry the default `registry` of `@herald/core` (what Neutron-style code that
 * imports `registry` uses) until `restore()` is called.
 *
 * @example
 * ```ts
 * let isolated: IsolatedDefaultRegistry;
 * beforeEach(() => { isolated = isolateDefaultRegistry(); });
 * afterEach(() => isolated.restore());
 * ```
 */
export function isolateDefaultRegistry(options: TestRegistryOptions = {}): IsolatedDefaultRegistry {
  const { registry, logger } = createTestRegistry(options);
  const putBack = setDefaultRegistry(registry);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    putBack();
  };
  return { registry, logger, restore, [Symbol.dispose]: restore };
}

/**
 * The per-test state `useIsolatedRegistry()` hands out; read it inside tests only.
 *
 * @example
 * ```ts
 * const herald: IsolatedTestRegistry = useIsolatedRegistry();
 * it('announces the router', async () => {
 *   await createRouter();
 *   expect(herald.recorder).toHaveNotified(ROUTER, AFTER_CREATE);
 * });
 * ```
 */
export interface IsolatedTestRegistry {
  /** This test's default registry. */
  readonly registry: CallbackRegistry;
  /** Records every notification of `registry` during this test. */
  readonly recorder: NotificationRecorder;
  /** What `registry` logged during this test. */
  readonly logger: MemoryLogger;
}

/**
 * The hooks of a test runner: Jest's, Vitest's, Mocha's (`beforeEach`/`afterEach`).
 *
 * @example
 * ```ts
 * import { afterEach, beforeEach } from 'vitest';
 * const herald = useIsolatedRegistry({}, { beforeEach, afterEach });
 * ```
 */
export interface TestHooks {
  /** Registers `fn` to run before each test. */
  beforeEach(fn: () => void): unknown;
  /** Registers `fn` to run after each test. */
  afterEach(fn: () => void): unknown;
}

/** The runner's global hooks, if it installed them. */
function globalHooks(): TestHooks {
  const g = globalThis as { beforeEach?: unknown; afterEach?: unknown };
  if (typeof g.beforeEach !== 'function' || typeof g.afterEach !== 'function') {
    throw new HeraldError(
      "useIsolatedRegistry() needs the test runner's global beforeEach and afterEach: call it in a test file, " +
        "pass the hooks (useIsolatedRegistry({}, { beforeEach, afterEach })), or import it from '@herald/testing/jest'.",
    );
  }
  return g as TestHooks;
}

/**
 * Give every test of the enclosing `describe` (or file) a fresh default `registry` and a recorder
 * of it, and put the previous default registry back after each test. Uses the test runner's
 * global `beforeEach` and `afterEach` unless `hooks` are given.
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
export function useIsolatedRegistry(
  options: TestRegistryOptions = {},
  hooks: TestHooks = globalHooks(),
): IsolatedTestRegistry {
  let current: { isolated: IsolatedDefaultRegistry; recorder: NotificationRecorder } | undefined;
  hooks.beforeEach(() => {
    const isolated = isolateDefaultRegistry(options);
    current = { isolated, recorder: recordNotifications(isolated.registry) };
  });
  hooks.afterEach(() => {
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
