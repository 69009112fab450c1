/**
 * `createTestContainer(...modules)`: an Inversify container for one test, with Herald's callbacks
 * booted and every notification recorded from the start.
 * @module
 */

import { CallbackRegistry, InvalidError } from '@herald/core';
import { bootCallbacks, callbacksModule, type CallbacksBoot } from '@herald/inversify';
import { Container, ContainerModule } from 'inversify';
import { MemoryLogger } from './isolation.js';
import { NotificationRecorder } from './recorder.js';

interface Booted {
  readonly registry: CallbackRegistry;
  readonly recorder: NotificationRecorder;
  readonly boot: CallbacksBoot;
}

/** What createTestContainer booted, per container (kept off the public surface). */
const booted = new WeakMap<TestContainer, Booted>();

/**
 * An Inversify `Container` whose callbacks are booted, with what a test needs at hand. Built by
 * {@link createTestContainer}; `dispose()` (or `using`) tears it down.
 *
 * @example
 * ```ts
 * using container = await createTestContainer(billingModule);
 * await container.get(Billing).close(invoice);
 * expect(container.recorder).toHaveNotified('invoice', AFTER_UPDATE);
 * expect(container.logger.errors()).toEqual([]);
 * ```
 */
export class TestContainer extends Container implements Disposable {
  /** What the registry logged, when `createTestContainer` loaded `callbacksModule()` itself. */
  readonly logger = new MemoryLogger();
  #disposed = false;

  /** The container's registry (the one trigger services get injected). */
  get registry(): CallbackRegistry {
    return this.#state().registry;
  }

  /** Every notification of `registry` since before boot. */
  get recorder(): NotificationRecorder {
    return this.#state().recorder;
  }

  /** What `bootCallbacks` subscribed. */
  get boot(): CallbacksBoot {
    return this.#state().boot;
  }

  /** Stop recording, unsubscribe what boot subscribed, unbind everything. Again does nothing. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    booted.get(this)?.recorder.stop();
    booted.get(this)?.boot.dispose();
    this.unbindAll();
  }

  /** The same as `dispose()`, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #state(): Booted {
    const state = booted.get(this);
    if (state === undefined) {
      throw new InvalidError('container', this, 'build it with await createTestContainer(...modules).');
    }
    return state;
  }
}

/**
 * A booted container for a test: loads the modules (given one by one or in arrays, and
 * `callbacksModule()` unless one of them binds `CallbackRegistry`), starts recording, and boots
 * the callbacks.
 *
 * @throws InvalidError when an argument is not a `ContainerModule`; whatever `bootCallbacks` throws
 *   for a subscriber that cannot be resolved
 * @example
 * ```ts
 * using container = await createTestContainer(networkModule, l3Module);
 * await container.get(PortService).delete(ctx, routerPortId).catch(() => undefined);
 * expect(container.recorder).toHaveVetoed(PORT, BEFORE_DELETE);
 * ```
 */
export async function createTestContainer(
  ...given: (ContainerModule | readonly ContainerModule[])[]
): Promise<TestContainer> {
  const modules: unknown[] = given.flat(); // modules one by one, or in arrays
  modules.forEach((module, index) => {
    if (!(module instanceof ContainerModule)) {
      throw new InvalidError(
        `module #${index + 1}`,
        module,
        'pass inversify ContainerModule instances, e.g. createTestContainer(appModule(), l3Module()).',
      );
    }
  });
  const container = new TestContainer();
  try {
    await container.loadAsync(...(modules as ContainerModule[]));
    if (!container.isBound(CallbackRegistry)) {
      await container.loadAsync(callbacksModule({ name: 'test container', logger: container.logger }));
    }
    const registry = await container.getAsync(CallbackRegistry);
    const recorder = new NotificationRecorder(registry);
    try {
      booted.set(container, { registry, recorder, boot: await bootCallbacks(container) });
    } catch (error) {
      recorder.stop();
      throw error;
    }
  } catch (error) {
    container.unbindAll();
    throw error;
  }
  return container;
}
