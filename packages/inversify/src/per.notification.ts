/**
 * How a transient or request-scoped subscriber reaches its instance: the container resolves it
 * for each notification, once, and every handler of that subscriber in that notification gets the
 * same instance.
 * @module
 */

import { HeraldError, type Notification } from '@herald/core';
import type { Container, ServiceIdentifier } from 'inversify';
import { resolvableBindingsOf } from './bindings.reader.js';

/** What {@link PerNotification.instanceFor} answers when the subscriber's binding is gone. */
export const GONE: unique symbol = Symbol('binding gone');

/** One resolution of a service, for one notification. */
interface Resolution {
  /** The bindings it was made for, in the order of `values`. */
  readonly ids: readonly number[];
  readonly values?: readonly unknown[];
  readonly pending?: Promise<readonly unknown[]>;
  readonly failed?: boolean;
  readonly error?: unknown;
}

/**
 * Resolves one service of a container for the subscribers bound under it that are resolved per
 * notification. It resolves the service at most once per notification (the registry hands every
 * callback of one notification the same `notification` object), so the handlers of one subscriber
 * share one instance, and a request scope spans the notification. A service bound several times is
 * resolved with `getAll`, and each binding takes its own value: the values come in the order of
 * the bindings.
 */
export class PerNotification {
  readonly #resolutions = new WeakMap<Notification, Resolution>();
  /** The subscribed bindings that only `getAsync` can resolve. */
  readonly #async = new Set<number>();

  constructor(
    readonly container: Container,
    readonly serviceId: ServiceIdentifier,
  ) {}

  /** Resolve for binding `bindingId` too; with `getAsync` when `async`. */
  add(bindingId: number, async: boolean): void {
    if (async) this.#async.add(bindingId);
    else this.#async.delete(bindingId);
  }

  /** Stop resolving for binding `bindingId`. */
  forget(bindingId: number): void {
    this.#async.delete(bindingId);
  }

  /**
   * The instance the binding `bindingId` resolves to for `notification` (a promise of it when the
   * service needs asynchronous resolution), or {@link GONE} when that binding is no longer bound.
   * @throws the container's error when the service cannot be resolved
   */
  instanceFor(notification: Notification, bindingId: number): unknown {
    let resolution = this.#resolutions.get(notification);
    if (resolution === undefined) {
      const ids = resolvableBindingsOf(this.container, this.serviceId).map((binding) => binding.id);
      if (!ids.includes(bindingId)) return GONE;
      resolution = this.#resolve(ids);
      this.#resolutions.set(notification, resolution);
    }
    const { ids } = resolution;
    const index = ids.indexOf(bindingId);
    if (index < 0) return GONE;
    if (resolution.pending !== undefined) return resolution.pending.then((values) => this.#pick(values, ids, index));
    if (resolution.failed === true) throw resolution.error;
    return this.#pick(resolution.values!, ids, index);
  }

  #resolve(ids: readonly number[]): Resolution {
    const { container, serviceId } = this;
    const several = ids.length > 1;
    if (this.#async.size > 0) {
      return {
        ids,
        pending: several ? container.getAllAsync(serviceId) : container.getAsync(serviceId).then((value) => [value]),
      };
    }
    try {
      return { ids, values: several ? container.getAll(serviceId) : [container.get(serviceId)] };
    } catch (error) {
      return { ids, failed: true, error };
    }
  }

  #pick(values: readonly unknown[], ids: readonly number[], index: number): unknown {
    if (values.length !== ids.length) throw unmatchedValues(this.serviceId, values.length, ids.length);
    return values[index];
  }
}

/** `getAll` gave more values than the service has bindings: a redirection among them was expanded. */
export function unmatchedValues(serviceId: ServiceIdentifier, values: number, bindings: number): HeraldError {
  return new HeraldError(
    `${describeService(serviceId)} resolved to ${values} values for its ${bindings} bindings: a redirection ` +
      `(toService) to a service bound several times hides which subscriber each value comes from; ` +
      `bind each subscriber under an identifier of its own.`,
  );
}

/** `L3Service`, `Symbol(L3Agent)`, `"l3"`: a service identifier for a message. */
export function describeService(serviceId: ServiceIdentifier): string {
  return typeof serviceId === 'function' ? serviceId.name || '(anonymous class)' : String(serviceId);
}
