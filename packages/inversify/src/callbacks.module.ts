/**
 * `callbacksModule()`: the container module that gives a container its own callback registry.
 * @module
 */

import { CallbackRegistry, type RegistryOptions } from '@herald/core';
import { ContainerModule } from 'inversify';
import { forgetBootState } from './boot.state.js';
import { ContainerCallbackRegistry } from './container.registry.js';

/**
 * A container module that binds `CallbackRegistry` (the class is the service identifier) to a
 * registry of the container's own, as a singleton, with `options` (logger, isRetriable, name). The
 * registry refuses to notify until {@link bootCallbacks} has finished. Unloading the module (or
 * unbinding the registry) clears it.
 *
 * @throws InvalidError at once when `options` are not valid registry options
 * @example
 * ```ts
 * const container = new Container();
 * container.load(callbacksModule({ logger: pino(), isRetriable: (e) => e instanceof DeadlockError }));
 * container.bind(L3Service).toSelf().inSingletonScope();
 * await bootCallbacks(container);
 * ```
 */
export function callbacksModule(options: RegistryOptions = {}): ContainerModule {
  // Validate now, where the mistake was made, rather than at the first resolution.
  new ContainerCallbackRegistry(options);
  const settings: RegistryOptions = { name: 'container', ...options };
  return new ContainerModule(({ bind }) => {
    bind(CallbackRegistry)
      .toResolvedValue((): CallbackRegistry => new ContainerCallbackRegistry(settings))
      .inSingletonScope()
      .onDeactivation((registry) => {
        // The container lets go of its registry: so must everything it held.
        registry.clear();
        forgetBootState(registry);
      });
  });
}
