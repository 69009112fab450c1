/**
 * `bootCallbacks`: find the `@OnResource` subscribers bound in a container and subscribe them to
 * the container's registry. "What happens at boot" is {@link bootCallbacks} and the `Boot` class
 * below.
 * @module
 */

import {
  CallbackRegistry,
  decoratedClasses,
  handlersOf,
  InvalidError,
  subscribeInstance,
  type EventPayload,
  type HandlerInfo,
  type Notification,
  type SubscribeOptions,
  type Subscription,
} from '@herald/core';
import { Container, type ServiceIdentifier } from 'inversify';
import { classBindingsIn } from './bindings.reader.js';
import { bootStateOf, Claim, type BootState } from './boot.state.js';
import { isUnbooted, markBooted } from './container.registry.js';
import { SubscriberBootError } from './errors.js';
import { contributionsIn } from './subscriber.binding.js';

/**
 * What one `bootCallbacks` run did, and how to undo it.
 *
 * @example
 * ```ts
 * const boot = await bootCallbacks(container);
 * console.log(boot.subscriptions.map((s) => s.id)); // ['L3Service.preventPortDelete#1', …]
 * boot.dispose(); // or: using boot = await bootCallbacks(container);
 * ```
 */
export interface CallbacksBoot extends Disposable {
  /** The registry the subscribers were subscribed to: the one the container resolves. */
  readonly registry: CallbackRegistry;
  /** The subscriptions this run made, one per (handler, event); empty when it found nothing new. */
  readonly subscriptions: readonly Subscription[];
  /**
   * Unsubscribe what this run subscribed, and nothing else (the registry stays booted; bindings
   * stay bound). Calling it again does nothing.
   */
  dispose(): void;
}

/** A subscriber found in the container: its service identifier and the class it was declared as. */
interface Found {
  readonly serviceId: ServiceIdentifier;
  readonly declared: Function;
}

type UntypedCallback = (payload: EventPayload | undefined, notification: Notification) => unknown;
type UntypedSubscribe = (
  callback: UntypedCallback,
  resource: string,
  event: string,
  options: SubscribeOptions,
) => Subscription;

/**
 * Subscribe every `@OnResource` subscriber bound in `container` to the container's registry, then
 * let the registry notify. Found are the decorated classes bound as themselves in this container,
 * and the subscribers bound with {@link bindSubscriber}. Each is resolved once here, so that a
 * misconfigured one fails now:
 *
 * - a singleton's handlers are subscribed bound to its instance (`this` = the instance, as
 *   `subscribeInstance` does: a notification costs what a hand-made subscription costs); unbinding
 *   it, or unloading its module, unsubscribes them;
 * - a transient or request-scoped subscriber is resolved for each notification (with `getAsync`
 *   when it has asynchronous dependencies, so those handlers need `notify`, not `notifySync`).
 *
 * Booting again subscribes only what is new (subscribers bound since). A child container boots on
 * its own: it subscribes what is bound in the child, to the registry the child resolves (its
 * parent's, which must have booted first, unless the child loaded `callbacksModule` itself).
 *
 * @returns the subscriptions made, and `dispose()` to undo them
 * @throws SubscriberBootError naming the class and its handlers when a subscriber cannot be
 *   resolved or subscribed (nothing of this run stays subscribed); InvalidError when `container`
 *   is not a container with `callbacksModule()` loaded
 * @example
 * ```ts
 * container.load(callbacksModule());
 * container.bind(L3Service).toSelf().inSingletonScope();
 * const boot = await bootCallbacks(container);
 * ```
 */
export async function bootCallbacks(container: Container): Promise<CallbacksBoot> {
  if (!(container instanceof Container)) {
    throw new InvalidError('container', container, 'pass the inversify Container to boot: bootCallbacks(container).');
  }
  if (!container.isBound(CallbackRegistry)) {
    throw new InvalidError(
      'container',
      container,
      'no CallbackRegistry is bound in it: container.load(callbacksModule()) before bootCallbacks(container).',
    );
  }
  const registry = await container.getAsync(CallbackRegistry);
  if (isUnbooted(registry) && !container.isCurrentBound(CallbackRegistry)) {
    throw new InvalidError(
      'container',
      container,
      'its CallbackRegistry comes from a parent container that has not booted: await bootCallbacks(parent) first, then boot the child.',
    );
  }
  const boot = new Boot(container, registry, bootStateOf(registry));
  try {
    for (const found of subscribersIn(container)) await boot.add(found);
  } catch (error) {
    boot.undo();
    throw error;
  }
  boot.hookTeardown();
  markBooted(registry);
  return boot.handle();
}

/**
 * The subscribers bound in `container` itself, each service identifier once: decorated classes
 * bound as themselves, contributions of `bindSubscriber`, and any other identifier bound to one
 * class with `@OnResource` methods of its own or inherited (see `classBindingsIn`).
 */
function subscribersIn(container: Container): Found[] {
  const found = new Map<ServiceIdentifier, Found>();
  for (const cls of decoratedClasses()) {
    if (container.isCurrentBound(cls)) found.set(cls, { serviceId: cls, declared: cls });
  }
  for (const { serviceIdentifier, subscriber } of contributionsIn(container)) {
    if (!found.has(serviceIdentifier) && container.isCurrentBound(serviceIdentifier)) {
      found.set(serviceIdentifier, { serviceId: serviceIdentifier, declared: subscriber });
    }
  }
  for (const { serviceId, implementation } of classBindingsIn(container)) {
    if (found.has(serviceId) || !container.isCurrentBound(serviceId)) continue; // e.g. only named or tagged
    if (handlersOf(implementation).length > 0) found.set(serviceId, { serviceId, declared: implementation });
  }
  return [...found.values()];
}

/** Stands for "could not be resolved synchronously". */
const NEEDS_ASYNC = Symbol('needs async resolution');

/** One `bootCallbacks` run. */
class Boot {
  readonly #claims: Claim[] = [];
  readonly #singletonIds: ServiceIdentifier[] = [];
  /** Subscription ids that existed before this run, by owner (boot must not claim those). */
  #preexisting: Map<object, Set<string>> | undefined;

  constructor(
    readonly container: Container,
    readonly registry: CallbackRegistry,
    readonly state: BootState,
  ) {}

  async add({ serviceId, declared }: Found): Promise<void> {
    if (this.state.resolvedIn(this.container).has(serviceId)) return;
    let instance: unknown;
    try {
      instance = await this.container.getAsync(serviceId);
    } catch (error) {
      throw new SubscriberBootError(
        subscriberName(serviceId, declared),
        'could not be resolved from the container',
        'bind what it depends on (in this container or a parent), or unbind it',
        error,
      );
    }
    if (typeof instance !== 'object' || instance === null) return;
    const handlers = handlersOf(instance);
    if (handlers.length === 0) return; // e.g. a decorated class bound to an implementation without handlers
    // A singleton resolves to the same instance again, synchronously, from its cache; anything
    // else is a new instance each time (transient, request scope) and is resolved per notification.
    let again: unknown;
    try {
      again = this.container.get(serviceId);
    } catch {
      again = NEEDS_ASYNC;
    }
    if (again === instance) this.#addSingleton(serviceId, instance, declared);
    else this.#addResolved(serviceId, handlers, again === NEEDS_ASYNC, instance.constructor as Function);
  }

  #addSingleton(serviceId: ServiceIdentifier, instance: object, declared: Function): void {
    const { singletons } = this.state;
    if (!singletons.has(instance)) {
      const before = this.#preexistingOf(instance);
      let group: { readonly subscriptions: readonly Subscription[] };
      try {
        group = subscribeInstance(this.registry, instance);
      } catch (error) {
        throw new SubscriberBootError(
          subscriberName(serviceId, declared),
          'could not be subscribed',
          'keep each @OnResource member a method of the instance',
          error,
        );
      }
      const claim = new Claim(
        group.subscriptions.filter((s) => !before.has(s.id)),
        () => {
          if (singletons.get(instance) === claim) singletons.delete(instance);
        },
      );
      singletons.set(instance, claim);
      this.#claims.push(claim);
    }
    this.#singletonIds.push(serviceId);
  }

  #addResolved(serviceId: ServiceIdentifier, handlers: readonly HandlerInfo[], async: boolean, cls: Function): void {
    const { container } = this;
    const resolved = this.state.resolvedIn(container);
    if (resolved.has(serviceId)) return; // booted meanwhile by a concurrent run
    const subscriptions: Subscription[] = [];
    const claim = new Claim(subscriptions, () => {
      if (resolved.get(serviceId) === claim) resolved.delete(serviceId);
    });
    resolved.set(serviceId, claim);
    this.#claims.push(claim);
    for (const { method, resource, event, priority, cancellable } of handlers) {
      const call = (instance: object, payload: EventPayload | undefined, notification: Notification): unknown =>
        (instance as Record<string | symbol, UntypedCallback>)[method]!(payload, notification);
      const perNotification: UntypedCallback = (payload, notification) => {
        // No deactivation hook fires for a non-singleton: notice here that it was unbound or unloaded.
        if (!container.isCurrentBound(serviceId)) return claim.release();
        if (async)
          return (container.getAsync(serviceId) as Promise<object>).then((i) => call(i, payload, notification));
        return call(container.get(serviceId) as object, payload, notification);
      };
      // Its name makes the subscription's id `L3Service.preventPortDelete#n`, as for a singleton's.
      Object.defineProperty(perNotification, 'name', { value: `${cls.name}.${String(method)}` });
      subscriptions.push(
        (this.registry.subscribe as UntypedSubscribe)(perNotification, resource, event, { priority, cancellable }),
      );
    }
  }

  #preexistingOf(instance: object): Set<string> {
    if (this.#preexisting === undefined) {
      this.#preexisting = new Map();
      for (const { owner, id } of this.registry.subscriptions()) {
        if (owner === undefined) continue;
        let ids = this.#preexisting.get(owner);
        if (ids === undefined) this.#preexisting.set(owner, (ids = new Set()));
        ids.add(id);
      }
    }
    return this.#preexisting.get(instance) ?? new Set();
  }

  hookTeardown(): void {
    for (const serviceId of this.#singletonIds) this.state.hookTeardown(this.container, serviceId);
  }

  undo(): void {
    for (const claim of this.#claims) claim.release();
  }

  handle(): CallbacksBoot {
    const dispose = () => this.undo();
    return {
      registry: this.registry,
      subscriptions: Object.freeze(this.#claims.flatMap((c) => c.subscriptions)),
      dispose,
      [Symbol.dispose]: dispose,
    };
  }
}

/** `L3Service (handlers: preventPortDelete)`, or `Symbol(L3Agent) → L3Service (handlers: …)`. */
function subscriberName(serviceId: ServiceIdentifier, declared: Function): string {
  const methods = [...new Set(handlersOf(declared).map((h) => String(h.method)))].join(', ');
  const name = declared.name || '(anonymous class)';
  const label =
    serviceId === declared ? name : `${String(typeof serviceId === 'function' ? serviceId.name : serviceId)} → ${name}`;
  return `${label} (handlers: ${methods})`;
}
