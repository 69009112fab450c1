/**
 * The callback registry: subscriptions keyed by (resource, event), and the notification loop
 * with Neutron's veto rules. "What happens on notify" is `#dispatchSync` / `#dispatch` and
 * `#settle` below.
 * @module
 */

import { abortEventFor, BEFORE, isCancellableEvent } from './events.js';
import { CallbackFailure, errorText, HeraldError, InvalidError, NotificationError, RetryRequest } from './errors.js';
import { EventPayload } from './payloads.js';
import { PRIORITY_DEFAULT } from './priorities.js';
import type { AnyCallback, CallbackFor, EventOf, Notification, PayloadArgs, PayloadOf, Resource } from './types.js';

/** Where the registry reports the failures it does not throw. `console` and pino fit. */
export interface Logger {
  error(message: string, ...meta: unknown[]): void;
  warn?(message: string, ...meta: unknown[]): void;
  info?(message: string, ...meta: unknown[]): void;
  debug?(message: string, ...meta: unknown[]): void;
}

/** Options of a {@link CallbackRegistry}. */
export interface RegistryOptions {
  /** Where swallowed failures (error level) and vetoes (debug level) go. Default: `console.error` only. */
  logger?: Logger;
  /**
   * Asked about each callback error of a failure about to be thrown; if it holds for one,
   * a {@link RetryRequest} is thrown instead of the {@link CallbackFailure}.
   */
  isRetriable?: (error: unknown) => boolean;
  /** A name for logs and diagnostics. */
  name?: string;
}

/** Options of one subscription. A number is the priority. */
export interface SubscribeOptions {
  /** Lower runs first. Default {@link PRIORITY_DEFAULT}. */
  priority?: number;
  /** If this subscription fails, the trigger gets a `CallbackFailure` whatever the event. */
  cancellable?: boolean;
  /** The `this` the callback is called with; part of the subscription's identity. */
  owner?: object;
  /** The subscription's id (unique in the registry; `#<digits>` endings are reserved). */
  id?: string;
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

/** A read-only view of one subscription, as `subscriptions()` lists them. */
export interface SubscriptionInfo {
  readonly id: string;
  readonly resource: string;
  readonly event: string;
  readonly priority: number;
  readonly cancellable: boolean;
  readonly owner?: object;
}

/** What an observer sees of each completed notification. */
export interface NotificationRecord {
  readonly resource: string;
  readonly event: string;
  readonly trigger: unknown;
  readonly payload: EventPayload | undefined;
  /** The failed callbacks, in call order (empty when all succeeded). */
  readonly errors: readonly NotificationError[];
  /** The ids of the subscriptions called, in call order. */
  readonly callbacks: readonly string[];
  /** What the trigger received: the veto or retry request, or `undefined`. */
  readonly failure: CallbackFailure | RetryRequest | undefined;
  /** For the abort round of a failed `before_*` event: that event. */
  readonly abortOf: string | undefined;
  /** Whether it came from `notifySync`. */
  readonly sync: boolean;
  /** Wall time of the round, in milliseconds. */
  readonly durationMs: number;
}

/** Sees every completed notification; cannot veto, and its own failure is only logged. */
export type Observer = (record: NotificationRecord) => unknown;

/** Ids ending like this are the registry's own. */
const RESERVED_ID = /#\d+$/;

const consoleLogger: Logger = {
  error: (message, ...meta) => console.error(message, ...meta),
};

/** The subscriptions of one (resource, event), in call order. */
class Bucket {
  /**
   * Sorted by priority, then by first subscription. Mutated in place while no dispatch is
   * running on this bucket; replaced by a changed copy while one is, so that every running
   * dispatch keeps the snapshot it started with (rule 4) without copying on the hot path.
   */
  subs: Entry[] = [];
  running = 0;

  constructor(
    readonly registry: CallbackRegistry,
    readonly resource: string,
    readonly event: string,
  ) {}
}

/** One subscription; it is also the {@link Subscription} handle the caller gets. */
class Entry implements Subscription {
  constructor(
    public bucket: Bucket,
    readonly callback: Function,
    readonly owner: object | undefined,
    public priority: number,
    public cancellable: boolean,
    /** A custom id, the derived id once computed, or the serial to derive it from. */
    public label: string | number,
  ) {}

  get id(): string {
    if (typeof this.label === 'number') this.label = deriveId(this.owner, this.callback, this.label);
    return this.label;
  }

  unsubscribe(): void {
    removeEntry(this);
  }

  [Symbol.dispose](): void {
    removeEntry(this);
  }
}

/** `Owner.method#n`, or `function#n` without an owner; stable and unique within a registry. */
function deriveId(owner: object | undefined, callback: Function, serial: number): string {
  const fn = callback.name.replace(/^bound /, '') || 'anonymous';
  const cls = owner === undefined ? undefined : (owner.constructor as Function | undefined)?.name;
  return `${cls ? `${cls}.` : ''}${fn}#${serial}`;
}

let removeEntry: (entry: Entry) => void;

const EMPTY: readonly Entry[] = Object.freeze([]);

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

function checkName(element: 'resource' | 'event', value: unknown): asserts value is string {
  if (typeof value !== 'string' || value === '') {
    throw new InvalidError(
      element,
      value,
      `pass the ${element} name as a non-empty string, e.g. ${element === 'resource' ? "'router'" : "'before_create'"}.`,
    );
  }
}

function checkCallback(callback: unknown): asserts callback is Function {
  if (typeof callback !== 'function') {
    throw new InvalidError('callback', callback, 'pass a function (payload, notification) => void | Promise<void>.');
  }
}

function checkOwner(owner: unknown): asserts owner is object | undefined {
  if (owner !== undefined && (owner === null || (typeof owner !== 'object' && typeof owner !== 'function'))) {
    throw new InvalidError(
      'owner',
      owner,
      'pass the object the callback is called with (a service instance), or leave it out.',
    );
  }
}

function checkPayload(payload: unknown): asserts payload is EventPayload | undefined {
  if (payload !== undefined && !(payload instanceof EventPayload)) {
    throw new InvalidError(
      'payload',
      payload,
      'pass undefined or an EventPayload (EventPayload, DBEventPayload, APIEventPayload).',
    );
  }
}

interface ResolvedOptions {
  priority: number;
  cancellable: boolean;
  owner: object | undefined;
  id: string | undefined;
}

function resolveOptions(options: number | SubscribeOptions | undefined): ResolvedOptions {
  if (options === undefined || typeof options === 'number') {
    const priority = options ?? PRIORITY_DEFAULT;
    if (!Number.isFinite(priority))
      throw new InvalidError('priority', priority, 'pass a finite number (lower runs first).');
    return { priority, cancellable: false, owner: undefined, id: undefined };
  }
  if (options === null || typeof options !== 'object') {
    throw new InvalidError('options', options, 'pass a priority number or { priority, cancellable, owner, id }.');
  }
  const { priority = PRIORITY_DEFAULT, cancellable = false, owner, id } = options;
  if (typeof priority !== 'number' || !Number.isFinite(priority)) {
    throw new InvalidError('priority', priority, 'pass a finite number (lower runs first).');
  }
  if (typeof cancellable !== 'boolean') throw new InvalidError('cancellable', cancellable, 'pass true or false.');
  checkOwner(owner);
  if (id !== undefined && (typeof id !== 'string' || id === '' || RESERVED_ID.test(id))) {
    throw new InvalidError(
      'id',
      id,
      "pass a non-empty string that does not end in '#<digits>' (those ids are derived by the registry).",
    );
  }
  return { priority, cancellable, owner, id };
}

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
  readonly #logger: Logger;
  readonly #isRetriable: ((error: unknown) => boolean) | undefined;
  #buckets = new Map<string, Map<string, Bucket>>();
  /** Every subscription of each callback, whatever its owner, resource and event. */
  #byCallback = new Map<Function, Entry | Entry[]>();
  #customIds = new Map<string, Entry>();
  #serial = 0;
  #observers: readonly Observer[] = [];

  constructor(options: RegistryOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new InvalidError('options', options, 'pass { logger, isRetriable, name } or nothing.');
    }
    const { logger = consoleLogger, isRetriable, name = 'registry' } = options;
    if (logger === null || typeof logger !== 'object' || typeof logger.error !== 'function') {
      throw new InvalidError(
        'logger',
        logger,
        'pass an object with an error(message, ...meta) method, such as console.',
      );
    }
    if (isRetriable !== undefined && typeof isRetriable !== 'function') {
      throw new InvalidError('isRetriable', isRetriable, 'pass a function (error) => boolean, or leave it out.');
    }
    this.#logger = logger;
    this.#isRetriable = isRetriable;
    this.name = name;
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
    const { priority, cancellable, owner, id } = resolveOptions(options);
    const existing = this.#find(callback, owner, resource, event);
    if (id !== undefined) {
      const holder = this.#customIds.get(id);
      if (holder !== undefined && holder !== existing) {
        throw new InvalidError('id', id, 'that id is taken by another subscription; pass a unique id or leave it out.');
      }
    }
    if (existing !== undefined) {
      if (existing.priority !== priority) {
        detach(existing);
        existing.priority = priority;
        insert(existing.bucket, existing);
      }
      existing.cancellable = cancellable;
      if (id !== undefined && existing.label !== id) this.#relabel(existing, id);
      return existing;
    }
    let events = this.#buckets.get(resource);
    if (events === undefined) this.#buckets.set(resource, (events = new Map()));
    let bucket = events.get(event);
    if (bucket === undefined) events.set(event, (bucket = new Bucket(this, resource, event)));
    const entry = new Entry(bucket, callback, owner, priority, cancellable, id ?? ++this.#serial);
    insert(bucket, entry);
    const same = this.#byCallback.get(callback);
    if (same === undefined) this.#byCallback.set(callback, entry);
    else if (Array.isArray(same)) same.push(entry);
    else this.#byCallback.set(callback, [same, entry]);
    if (id !== undefined) this.#customIds.set(id, entry);
    return entry;
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
    const entry = this.#find(callback, owner, resource, event);
    if (entry !== undefined) this.#remove(entry);
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
    for (const entry of this.#entriesOf(callback)) {
      if (entry.owner === owner && entry.bucket.resource === resource) this.#remove(entry);
    }
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
    for (const entry of this.#entriesOf(callback)) {
      if (entry.owner === owner) this.#remove(entry);
    }
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
    this.#buckets = new Map();
    this.#byCallback = new Map();
    this.#customIds = new Map();
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
    try {
      checkName('resource', resource);
      checkName('event', event);
      checkPayload(payload);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#dispatch(resource, event, trigger, payload, undefined);
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
    checkName('resource', resource);
    checkName('event', event);
    checkPayload(payload);
    const failure = this.#dispatchSync(resource, event, trigger, payload, undefined);
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
  hasSubscribers(resource: string, event: string): boolean {
    const bucket = this.#buckets.get(resource)?.get(event);
    return bucket !== undefined && bucket.subs.length > 0;
  }

  /**
   * Every subscription, grouped by (resource, event) and in call order within each.
   *
   * @example
   * ```ts
   * for (const s of registry.subscriptions()) console.log(s.resource, s.event, s.id);
   * ```
   */
  subscriptions(): SubscriptionInfo[] {
    const list: SubscriptionInfo[] = [];
    for (const events of this.#buckets.values()) {
      for (const bucket of events.values()) {
        for (const entry of bucket.subs) {
          const info: SubscriptionInfo = {
            id: entry.id,
            resource: bucket.resource,
            event: bucket.event,
            priority: entry.priority,
            cancellable: entry.cancellable,
          };
          list.push(entry.owner === undefined ? info : { ...info, owner: entry.owner });
        }
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
  observe(observer: Observer): Subscription {
    if (typeof observer !== 'function') {
      throw new InvalidError('observer', observer, 'pass a function (record) => void.');
    }
    this.#observers = [...this.#observers, observer];
    const id = `observer#${++this.#serial}`;
    const stop = () => {
      this.#observers = this.#observers.filter((o) => o !== observer);
    };
    return { id, unsubscribe: stop, [Symbol.dispose]: stop };
  }

  #find(callback: Function, owner: object | undefined, resource: string, event: string): Entry | undefined {
    const same = this.#byCallback.get(callback);
    if (same === undefined) return undefined;
    if (!Array.isArray(same)) {
      return same.owner === owner && same.bucket.event === event && same.bucket.resource === resource
        ? same
        : undefined;
    }
    return same.find((e) => e.owner === owner && e.bucket.event === event && e.bucket.resource === resource);
  }

  #entriesOf(callback: Function): Entry[] {
    const same = this.#byCallback.get(callback);
    return same === undefined ? [] : Array.isArray(same) ? [...same] : [same];
  }

  #remove(entry: Entry): void {
    const same = this.#byCallback.get(entry.callback);
    if (same === entry) {
      this.#byCallback.delete(entry.callback);
    } else if (Array.isArray(same) && same.includes(entry)) {
      const rest = same.filter((e) => e !== entry);
      this.#byCallback.set(entry.callback, rest.length === 1 ? rest[0]! : rest);
    } else {
      return; // already unsubscribed, or cleared
    }
    if (typeof entry.label === 'string' && this.#customIds.get(entry.label) === entry)
      this.#customIds.delete(entry.label);
    detach(entry);
    const { resource, event, subs } = entry.bucket;
    if (subs.length === 0) {
      const events = this.#buckets.get(resource);
      if (events?.get(event) === entry.bucket) {
        events.delete(event);
        if (events.size === 0) this.#buckets.delete(resource);
      }
    }
  }

  #relabel(entry: Entry, id: string): void {
    if (typeof entry.label === 'string' && this.#customIds.get(entry.label) === entry)
      this.#customIds.delete(entry.label);
    entry.label = id;
    this.#customIds.set(id, entry);
  }

  static {
    removeEntry = (entry) => entry.bucket.registry.#remove(entry);
  }

  /** One synchronous round; returns the failure to throw, if any. */
  #dispatchSync(
    resource: string,
    event: string,
    trigger: unknown,
    payload: EventPayload | undefined,
    abortOf: string | undefined,
  ): CallbackFailure | RetryRequest | undefined {
    const bucket = this.#buckets.get(resource)?.get(event);
    const observed = this.#observers.length > 0;
    if (bucket === undefined && !observed) return undefined;
    const started = observed ? performance.now() : 0;
    const subs = bucket === undefined ? EMPTY : bucket.subs;
    let errors: NotificationError[] | undefined;
    if (bucket !== undefined) {
      const notification: Notification = { resource, event, trigger };
      bucket.running++;
      try {
        for (let i = 0; i < subs.length; i++) {
          const entry = subs[i]!;
          try {
            const result = entry.callback.call(entry.owner, payload, notification);
            if (isPromiseLike(result)) (errors ??= []).push(this.#promiseInSync(entry, result));
          } catch (error) {
            (errors ??= []).push(new NotificationError(entry.id, error, entry.cancellable));
          }
        }
      } finally {
        bucket.running--;
      }
    }
    if (errors === undefined && !observed) return undefined;
    if (errors !== undefined && abortOf === undefined && event.startsWith(BEFORE)) {
      this.#dispatchSync(resource, abortEventFor(event)!, trigger, payload, event);
    }
    return this.#settle(resource, event, trigger, payload, abortOf, subs, errors, observed, started, true);
  }

  /** One asynchronous round; rejects with the failure, if any (never for an abort round). */
  async #dispatch(
    resource: string,
    event: string,
    trigger: unknown,
    payload: EventPayload | undefined,
    abortOf: string | undefined,
  ): Promise<void> {
    const bucket = this.#buckets.get(resource)?.get(event);
    const observed = this.#observers.length > 0;
    if (bucket === undefined && !observed) return;
    const started = observed ? performance.now() : 0;
    const subs = bucket === undefined ? EMPTY : bucket.subs;
    let errors: NotificationError[] | undefined;
    if (bucket !== undefined) {
      const notification: Notification = { resource, event, trigger };
      bucket.running++;
      try {
        for (let i = 0; i < subs.length; i++) {
          const entry = subs[i]!;
          try {
            const result = entry.callback.call(entry.owner, payload, notification);
            // Await only what is awaitable: synchronous subscribers cost no promise.
            if (isPromiseLike(result)) await result;
          } catch (error) {
            (errors ??= []).push(new NotificationError(entry.id, error, entry.cancellable));
          }
        }
      } finally {
        bucket.running--;
      }
    }
    if (errors === undefined && !observed) return;
    if (errors !== undefined && abortOf === undefined && event.startsWith(BEFORE)) {
      await this.#dispatch(resource, abortEventFor(event)!, trigger, payload, event);
    }
    const failure = this.#settle(resource, event, trigger, payload, abortOf, subs, errors, observed, started, false);
    if (failure !== undefined) throw failure;
  }

  /**
   * After a round (and its abort round): decide what the trigger gets, log what is swallowed,
   * tell the observers.
   */
  #settle(
    resource: string,
    event: string,
    trigger: unknown,
    payload: EventPayload | undefined,
    abortOf: string | undefined,
    subs: readonly Entry[],
    errors: NotificationError[] | undefined,
    observed: boolean,
    started: number,
    sync: boolean,
  ): CallbackFailure | RetryRequest | undefined {
    let failure: CallbackFailure | RetryRequest | undefined;
    if (errors !== undefined) {
      const vetoes = abortOf === undefined && (isCancellableEvent(event) || errors.some((e) => e.cancellable));
      for (const e of errors) {
        if (vetoes)
          this.#logger.debug?.(`Callback ${e.callbackId} raised ${errorText(e.error)} (${resource} ${event})`);
        else this.#logger.error(`Error during notification for ${e.callbackId} ${resource}, ${event}`, e.error);
      }
      if (vetoes) failure = this.#failureFor(resource, event, errors);
    }
    if (observed) {
      const record: NotificationRecord = {
        resource,
        event,
        trigger,
        payload,
        errors: errors ?? [],
        callbacks: subs.map((e) => e.id),
        failure,
        abortOf,
        sync,
        durationMs: performance.now() - started,
      };
      for (const observer of this.#observers) this.#tell(observer, record);
    }
    return failure;
  }

  #failureFor(resource: string, event: string, errors: NotificationError[]): CallbackFailure | RetryRequest {
    const failure = new CallbackFailure(resource, event, errors);
    const isRetriable = this.#isRetriable;
    if (isRetriable === undefined) return failure;
    const retriable = errors.some((e) => {
      try {
        return isRetriable(e.error) === true;
      } catch (hookError) {
        this.#logger.error(
          `isRetriable threw while judging ${e.callbackId}'s error; treating it as not retriable`,
          hookError,
        );
        return false;
      }
    });
    return retriable ? new RetryRequest(failure) : failure;
  }

  #promiseInSync(entry: Entry, result: PromiseLike<unknown>): NotificationError {
    const id = entry.id;
    const error = new HeraldError(
      `Callback ${id} returned a promise during notifySync; use notify (async) for asynchronous subscribers.`,
    );
    try {
      result.then(undefined, (rejection: unknown) =>
        this.#logger.debug?.(`Callback ${id} rejected after notifySync returned: ${errorText(rejection)}`),
      );
    } catch (thenError) {
      this.#logger.debug?.(`Callback ${id} returned a thenable whose then() threw: ${errorText(thenError)}`);
    }
    return new NotificationError(id, error, entry.cancellable);
  }

  #tell(observer: Observer, record: NotificationRecord): void {
    const fail = (error: unknown) =>
      this.#logger.error(
        `Observer ${observer.name || '(anonymous)'} failed on ${record.resource} ${record.event}`,
        error,
      );
    try {
      const result = observer(record);
      if (isPromiseLike(result)) result.then(undefined, fail);
    } catch (error) {
      fail(error);
    }
  }
}

CallbackRegistry.prototype.publish = CallbackRegistry.prototype.notify;

/** Insert at the end of the entries of its priority. */
function insert(bucket: Bucket, entry: Entry): void {
  const subs = bucket.running > 0 ? (bucket.subs = bucket.subs.slice()) : bucket.subs;
  let at = subs.length;
  while (at > 0 && subs[at - 1]!.priority > entry.priority) at--;
  if (at === subs.length) subs.push(entry);
  else subs.splice(at, 0, entry);
}

function detach(entry: Entry): void {
  const bucket = entry.bucket;
  const at = bucket.subs.lastIndexOf(entry);
  if (at < 0) return;
  if (bucket.running > 0) bucket.subs = bucket.subs.toSpliced(at, 1);
  else bucket.subs.splice(at, 1);
}

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
