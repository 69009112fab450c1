/**
 * What `bootCallbacks` has subscribed in each registry, so that booting again subscribes nothing
 * twice and teardown (unbind, unload, dispose) knows what to remove.
 * @module
 */

import type { CallbackRegistry, Subscription } from '@herald/core';
import type { Container, ServiceIdentifier } from 'inversify';
import { PerNotification } from './per.notification.js';

/** The subscriptions boot made for one subscriber; released once, by whichever teardown comes first. */
export class Claim {
  #forget: (() => void) | undefined;

  constructor(
    readonly subscriptions: readonly Subscription[],
    forget: () => void,
  ) {
    this.#forget = forget;
  }

  release(): void {
    const forget = this.#forget;
    if (forget === undefined) return;
    this.#forget = undefined;
    forget();
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }
}

/** One registry's boot bookkeeping. */
export class BootState {
  /** Singleton subscribers, by instance. */
  readonly singletons = new Map<object, Claim>();
  /** Subscribers resolved per notification, by container and binding id (one per binding, not per service). */
  readonly #resolved = new WeakMap<Container, Map<number, Claim>>();
  /** How the subscribers resolved per notification reach their instances, by container and service identifier. */
  readonly #perNotification = new WeakMap<Container, Map<ServiceIdentifier, PerNotification>>();
  /** The deactivation hook registered for each singleton service, by container. */
  readonly #hooks = new WeakMap<Container, Map<ServiceIdentifier, object>>();

  resolvedIn(container: Container): Map<number, Claim> {
    let claims = this.#resolved.get(container);
    if (claims === undefined) this.#resolved.set(container, (claims = new Map()));
    return claims;
  }

  /** The resolver that the per-notification subscribers bound under `serviceId` share. */
  perNotification(container: Container, serviceId: ServiceIdentifier): PerNotification {
    let resolvers = this.#perNotification.get(container);
    if (resolvers === undefined) this.#perNotification.set(container, (resolvers = new Map()));
    let resolver = resolvers.get(serviceId);
    if (resolver === undefined) resolvers.set(serviceId, (resolver = new PerNotification(container, serviceId)));
    return resolver;
  }

  /**
   * Release the claims of the subscribers resolved per notification whose binding is gone. No
   * deactivation hook fires for those: a notification notices it, or, before any notification
   * came, the next boot does here, so that the claim cannot stand in the way of what is bound now.
   */
  releaseStale(container: Container, isBound: (bindingId: number) => boolean): void {
    const claims = this.#resolved.get(container);
    if (claims === undefined) return;
    for (const [bindingId, claim] of claims) if (!isBound(bindingId)) claim.release();
  }

  /**
   * Make unbinding `serviceId` (or unloading the module that bound it) release its singleton's
   * claim. Inversify only offers synchronous deactivation hooks for that (unbind and unload are
   * synchronous), and one per service is enough: it looks the instance up.
   */
  hookTeardown(container: Container, serviceId: ServiceIdentifier): void {
    let hooks = this.#hooks.get(container);
    if (hooks === undefined) this.#hooks.set(container, (hooks = new Map()));
    if (hooks.has(serviceId)) return;
    const token = {};
    hooks.set(serviceId, token);
    container.onDeactivation(serviceId, (instance: unknown) => {
      // Unbinding removes this hook, unloading a module does not: either way the next boot
      // of a rebound service registers a fresh one, and a stale hook only finds nothing to release.
      if (hooks.get(serviceId) === token) hooks.delete(serviceId);
      if (typeof instance === 'object' && instance !== null) this.singletons.get(instance)?.release();
    });
  }

  /** Release everything (the registry itself is going away). */
  releaseAll(): void {
    for (const claim of [...this.singletons.values()]) claim.release();
    this.singletons.clear();
  }
}

const states = new WeakMap<CallbackRegistry, BootState>();

/** The boot bookkeeping of `registry`, created on first use. */
export function bootStateOf(registry: CallbackRegistry): BootState {
  let state = states.get(registry);
  if (state === undefined) states.set(registry, (state = new BootState()));
  return state;
}

/** Drop `registry`'s bookkeeping, so that it keeps no subscriber instance alive. */
export function forgetBootState(registry: CallbackRegistry): void {
  states.get(registry)?.releaseAll();
  states.delete(registry);
}
