/**
 * The callback registry: the small facade applications call. Its parts each have a module of
 * their own: the subscriptions and their indexes (subscriptions.ts), the round and its rules
 * (round.ts), the callers compiled for steady lists (callers.ts), observers (observers.ts) and the
 * checks of arguments (checks.ts). The rules it keeps
 * are numbered in docs/concepts.md.
 * @module
 */

import { checkCallback, checkName, checkOwner, termsOf, type SubscribeOptions } from './checks.js';
import { InvalidError } from './errors.js';
import { Observers, type Logger, type Observer } from './observers.js';
import type { EventPayload } from './payloads.js';
import { Rounds } from './round.js';
import { DEFAULT_TERMS, Subscriptions } from './subscriptions.js';
import type {
  AnyCallback,
  ByEvent,
  CallbackFor,
  EventOf,
  PayloadArgs,
  PayloadOf,
  RecordObserver,
  Resource,
} from './types.js';

export type { SubscribeOptions } from './checks.js';
export type { Logger, NotificationRecord, Observer } from './observers.js';

/**
 * Options of a {@link CallbackRegistry}.
 *
 * @example
 * ```ts
 * const options: RegistryOptions = { name: 'l3', logger: console, isRetriable: (e) => (e as { code?: string }).code === '40P01' };
 * const l3Registry = new CallbackRegistry(options);
 * ```
 */
export interface RegistryOptions {
  /**
   * Where callback failures are logged, as neutron-lib logs them: at debug for a `before_*` or
   * `precommit_*` event or a cancellable subscription, at error otherwise. Any object or function
   * with an `error(message, ...meta)` method. Default: `console.error` only.
   */
  logger?: Logger;
  /**
   * Asked about each callback error of a failure about to be thrown; if it holds (returns a
   * truthy value, as in Neutron) for one, a {@link RetryRequest} is thrown instead of the
   * {@link CallbackFailure}.
   */
  isRetriable?: (error: unknown) => boolean;
  /** A name for logs and diagnostics. */
  name?: string;
}

/**
 * A live subscription. Unsubscribing twice, or after `clear()`, does nothing.
 *
 * @example
 * ```ts
 * using sub = registry.subscribe(onCreate, ROUTER, AFTER_CREATE);
 * // … unsubscribed at the end of the block
 * ```
 */
export interface Subscription {
  /** Unique within the registry; also `NotificationError.callbackId`. */
  readonly id: string;
  /** Stop receiving notifications. */
  unsubscribe(): void;
  /** Same as `unsubscribe()`, for `using`. */
  [Symbol.dispose](): void;
}

/**
 * A read-only view of one subscription, as `subscriptions()` lists them.
 *
 * @example
 * ```ts
 * const info: SubscriptionInfo | undefined = registry.subscriptions().find((s) => s.id === sub.id);
 * console.log(info?.resource, info?.event, info?.priority);
 * ```
 */
export interface SubscriptionInfo {
  /** The subscription's id, as {@link Subscription.id}. */
  readonly id: string;
  /** The resource it is subscribed to. */
  readonly resource: string;
  /** The event it is subscribed to. */
  readonly event: string;
  /** Its priority: lower runs first. */
  readonly priority: number;
  /** Whether its failure vetoes whatever the event (see {@link SubscribeOptions.cancellable}). */
  readonly cancellable: boolean;
  /** The `this` its callback is called with; absent when it has none. */
  readonly owner?: object;
}

const consoleLogger: Logger = {
  error: (message, ...meta) => console.error(message, ...meta),
};

/**
 * A registry of callbacks keyed by (resource, event), with Neutron's rules: priorities, veto of
 * `before_*` events answered by `abort_*`, `precommit_*` failures, cancellable subscriptions.
 *
 * @example
 * ```ts
 * const registry = new CallbackRegistry();
 * registry.subscribe((payload) => audit(payload.latestState), ROUTER, AFTER_CREATE);
 * registry.subscribe(() => { throw new Error('in use'); }, ROUTER, BEFORE_DELETE);
 * await registry.notify(ROUTER, BEFORE_DELETE, this, new DBEventPayload(ctx, { resourceId: id }));
 * // → abort_delete subscribers run, then CallbackFailure is thrown
 * ```
 */
export class CallbackRegistry {
  /** A name for logs and diagnostics. */
  readonly name: string;
  /**
   * The same method as {@link CallbackRegistry.notify}, under Neutron's name.
   *
   * @example
   * ```ts
   * await registry.publish(ROUTER, AFTER_DELETE, this, payload);
   * ```
   */
  declare publish: CallbackRegistry['notify'];
  readonly #subscriptions = new Subscriptions();
  readonly #observers: Observers;
  readonly #rounds: Rounds;

  constructor(options: RegistryOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new InvalidError('options', options, 'pass { logger, isRetriable, name } or nothing.');
    }
    const { logger = consoleLogger, isRetriable, name = 'registry' } = options;
    if (typeof name !== 'string') throw new InvalidError('name', name, 'pass a string to name the registry in logs.');
    // Duck-typed: any object or function with an error method (a logger may be a callable).
    if (
      logger === null ||
      (typeof logger !== 'object' && typeof logger !== 'function') ||
      typeof logger.error !== 'function'
    ) {
      throw new InvalidError(
        'logger',
        logger,
        'pass an object with an error(message, ...meta) method, such as console.',
      );
    }
    if (isRetriable !== undefined && typeof isRetriable !== 'function') {
      throw new InvalidError('isRetriable', isRetriable, 'pass a function (error) => boolean, or leave it out.');
    }
    this.name = name;
    this.#observers = new Observers(logger);
    this.#rounds = new Rounds(this.#subscriptions, this.#observers, logger, isRetriable);
  }

  /**
   * Subscribe `callback` to (`resource`, `event`). Subscribing the same (callback, owner,
   * resource, event) again changes nothing but its priority and cancellable flag.
   *
   * @param options a priority, or `{ priority, cancellable, owner, id }`
   * @returns the subscription, to unsubscribe it (also with `using`)
   * @throws InvalidError for a non-function callback, an empty resource or event, a priority that
   *   is not a finite number; the registry is then unchanged
   * @example
   * ```ts
   * registry.subscribe(preventPortDelete, PORT, BEFORE_DELETE, { owner: l3, priority: 10 });
   * ```
   */
  subscribe<R extends Resource, E extends EventOf<R>>(
    callback: CallbackFor<R, E>,
    resource: R,
    event: E,
    options?: number | SubscribeOptions,
  ): Subscription;
  subscribe(callback: Function, resource: string, event: string, options?: number | SubscribeOptions): Subscription {
    checkCallback(callback);
    checkName('resource', resource);
    checkName('event', event);
    const terms = options === undefined ? DEFAULT_TERMS : termsOf(options);
    const owner = typeof options === 'object' ? options.owner : undefined; // checked by termsOf
    const subscriptions = this.#subscriptions;
    return subscriptions.handleOf(subscriptions.subscribe(callback, owner, resource, event, terms));
  }

  /**
   * Unsubscribe `callback` from (`resource`, `event`): its owner-less subscription, or `owner`'s.
   * Unknown callbacks, resources and events are a no-op.
   *
   * @example
   * ```ts
   * registry.unsubscribe(preventPortDelete, PORT, BEFORE_DELETE, l3);
   * ```
   */
  unsubscribe<R extends Resource>(callback: AnyCallback, resource: R, event: EventOf<R>, owner?: object): void;
  unsubscribe(callback: Function, resource: string, event: string, owner?: object): void {
    checkCallback(callback);
    checkName('resource', resource);
    checkName('event', event);
    checkOwner(owner);
    this.#subscriptions.unsubscribe(callback, owner, resource, event);
  }

  /**
   * Unsubscribe `callback` (owner-less, or `owner`'s) from every event of `resource`.
   *
   * @example
   * ```ts
   * registry.unsubscribeByResource(onRouterChange, ROUTER);
   * ```
   */
  unsubscribeByResource<R extends Resource>(callback: AnyCallback, resource: R, owner?: object): void;
  unsubscribeByResource(callback: Function, resource: string, owner?: object): void {
    checkCallback(callback);
    checkName('resource', resource);
    checkOwner(owner);
    for (const registration of this.#subscriptions.ofCallback(callback))
      if (registration.owner === owner && registration.topic!.resource === resource)
        this.#subscriptions.remove(registration);
  }

  /**
   * Unsubscribe `callback` (owner-less, or `owner`'s) from everything.
   *
   * @example
   * ```ts
   * registry.unsubscribeAll(onAnything);
   * ```
   */
  unsubscribeAll(callback: AnyCallback, owner?: object): void;
  unsubscribeAll(callback: Function, owner?: object): void {
    checkCallback(callback);
    checkOwner(owner);
    for (const registration of this.#subscriptions.ofCallback(callback))
      if (registration.owner === owner) this.#subscriptions.remove(registration);
  }

  /**
   * Remove every subscription (observers stay). Notifications already running still call the
   * subscribers they started with.
   *
   * @example
   * ```ts
   * afterEach(() => registry.clear());
   * ```
   */
  clear(): void {
    this.#subscriptions.clear();
  }

  /**
   * Notify the subscribers of (`resource`, `event`) in order, awaiting each one that returns a
   * promise. Also available as `publish`, Neutron's name.
   *
   * @returns a promise that rejects with `CallbackFailure` (or `RetryRequest`) when the
   *   notification was vetoed, and with `InvalidError` for bad arguments — never a sync throw
   * @example
   * ```ts
   * await registry.notify(ROUTER, AFTER_CREATE, this, new DBEventPayload(ctx, { states: [router], resourceId: router.id }));
   * ```
   */
  notify<R extends Resource, E extends EventOf<R>>(
    resource: R,
    event: E,
    trigger: unknown,
    ...payload: PayloadArgs<PayloadOf<R, E>>
  ): Promise<void>;
  notify(resource: string, event: string, trigger: unknown, payload?: EventPayload): Promise<void> {
    return this.#rounds.async(resource, event, trigger, payload);
  }

  /**
   * The synchronous {@link CallbackRegistry.notify}: the same rules, but a callback that returns
   * a promise is a failure (its rejection is handled, never left unhandled).
   *
   * @throws CallbackFailure, RetryRequest or InvalidError, as `notify` rejects
   * @example
   * ```ts
   * registry.notifySync(PROCESS, BEFORE_SPAWN, this);
   * ```
   */
  notifySync<R extends Resource, E extends EventOf<R>>(
    resource: R,
    event: E,
    trigger: unknown,
    ...payload: PayloadArgs<PayloadOf<R, E>>
  ): void;
  notifySync(resource: string, event: string, trigger: unknown, payload?: EventPayload): void {
    const failure = this.#rounds.sync(resource, event, trigger, payload);
    if (failure !== undefined) throw failure;
  }

  /**
   * Whether (`resource`, `event`) has any subscriber.
   *
   * @example
   * ```ts
   * if (registry.hasSubscribers(ROUTER, AFTER_UPDATE)) await registry.notify(ROUTER, AFTER_UPDATE, this, payload);
   * ```
   */
  hasSubscribers<R extends Resource, E extends EventOf<R>>(resource: R, event: E): boolean;
  hasSubscribers(resource: string, event: string): boolean {
    return this.#subscriptions.topic(resource, event) !== undefined;
  }

  /**
   * Every subscription, grouped by (resource, event) and in call order within each.
   *
   * @example
   * ```ts
   * for (const s of registry.subscriptions()) console.log(s.resource, s.event, s.id);
   * ```
   */
  subscriptions(): ByEvent<SubscriptionInfo>[];
  subscriptions(): SubscriptionInfo[] {
    const list: SubscriptionInfo[] = [];
    for (const topic of this.#subscriptions.topics()) {
      for (const registration of topic.registrations) {
        const { id, priority, cancellable, owner } = registration;
        const info: SubscriptionInfo = { id, resource: topic.resource, event: topic.event, priority, cancellable };
        list.push(owner === undefined ? info : { ...info, owner });
      }
    }
    return list;
  }

  /**
   * Call `observer` after every notification completes — including those that reached nobody,
   * vetoed ones, and the abort round (a record of its own). For tracing, testing and bridging.
   *
   * @example
   * ```ts
   * const tap = registry.observe((r) => console.log(r.resource, r.event, r.errors.length));
   * tap.unsubscribe();
   * ```
   */
  observe(observer: RecordObserver): Subscription;
  observe(observer: RecordObserver | Observer): Subscription {
    if (typeof observer !== 'function') {
      throw new InvalidError('observer', observer, 'pass a function (record) => void.');
    }
    return this.#observers.add(observer);
  }
}

CallbackRegistry.prototype.publish = CallbackRegistry.prototype.notify;

/**
 * The process-wide default registry, for Neutron-style code (`registry.subscribe(…)`). It is a
 * live binding: {@link setDefaultRegistry} swaps it (tests do, through `@herald/testing`).
 *
 * @example
 * ```ts
 * import { registry, resources, events } from '@herald/core';
 * registry.subscribe(callback2, resources.ROUTER, events.BEFORE_CREATE);
 * ```
 */
export let registry: CallbackRegistry = new CallbackRegistry({ name: 'default' });

/**
 * Make `next` the default {@link registry}; returns a function that restores the previous one.
 *
 * @example
 * ```ts
 * const restore = setDefaultRegistry(new CallbackRegistry());
 * try { runTest(); } finally { restore(); }
 * ```
 */
export function setDefaultRegistry(next: CallbackRegistry): () => void {
  if (!(next instanceof CallbackRegistry)) {
    throw new InvalidError('registry', next, 'pass a CallbackRegistry.');
  }
  const previous = registry;
  registry = next;
  return () => {
    registry = previous;
  };
}
