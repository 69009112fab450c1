/**
 * The callback registry: subscriptions keyed by (resource, event), and the notification loop
 * with Neutron's veto rules. "What happens on notify" is `#roundSync` / `#round` and `#settle`
 * below; `notifySync` and `notify` start with a fast path for the common case.
 *
 * The fast path is small on purpose. V8 inlines the functions an optimised function calls only
 * up to a total bytecode size (920 bytes in Node 20): `notifySync`, the bucket's compiled run and
 * the subscribers' callbacks share that budget where an application publishes. Each byte spent
 * in the registry is a callback less inlined, and a callback that is not inlined costs a real
 * call and keeps the notification object from being optimised away.
 * @module
 */

import { callLetterOf } from './callee.js';
import { abortEventFor, BEFORE, isCancellableEvent } from './events.js';
import { CallbackFailure, errorText, HeraldError, InvalidError, NotificationError, RetryRequest } from './errors.js';
import { EventPayload } from './payloads.js';
import { PRIORITY_DEFAULT } from './priorities.js';
import type { AnyCallback, CallbackFor, EventOf, Notification, PayloadArgs, PayloadOf, Resource } from './types.js';

/**
 * Where the registry reports the failures it does not throw. `console` and pino fit.
 *
 * @example
 * ```ts
 * const registry = new CallbackRegistry({ logger: pino() }); // or console
 * ```
 */
export interface Logger {
  /** A failure the registry swallowed (an `after_*` subscriber that threw, an observer that failed). */
  error(message: string, ...meta: unknown[]): void;
  /** Something the registry worked around. */
  warn?(message: string, ...meta: unknown[]): void;
  /** Information about the registry's work. */
  info?(message: string, ...meta: unknown[]): void;
  /** Details: vetoes, as they happen. */
  debug?(message: string, ...meta: unknown[]): void;
}

/**
 * Options of a {@link CallbackRegistry}.
 *
 * @example
 * ```ts
 * const registry = new CallbackRegistry({ name: 'neutron-server', logger: console, isRetriable: (e) => e instanceof DeadlockError });
 * ```
 */
export interface RegistryOptions {
  /** Where swallowed failures (error level) and vetoes (debug level) go. Default: `console.error` only. */
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
 * Options of one subscription. A number is the priority.
 *
 * @example
 * ```ts
 * registry.subscribe(checkQuota, ROUTER, BEFORE_CREATE, { priority: PRIORITY_DEFAULT - 100, id: 'quota.check' });
 * ```
 */
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

/**
 * A read-only view of one subscription, as `subscriptions()` lists them.
 *
 * @example
 * ```ts
 * for (const info of registry.subscriptions()) console.log(info.id, info.resource, info.event, info.priority);
 * ```
 */
export interface SubscriptionInfo {
  /** The subscription's id, e.g. `L3Service.preventPortDelete#3`. */
  readonly id: string;
  /** The resource it is subscribed to. */
  readonly resource: string;
  /** The event it is subscribed to. */
  readonly event: string;
  /** Its priority: lower runs first. */
  readonly priority: number;
  /** Whether its failure vetoes whatever the event. */
  readonly cancellable: boolean;
  /** The `this` its callback is called with, when it has one. */
  readonly owner?: object;
}

/**
 * What an observer sees of each completed notification.
 *
 * @example
 * ```ts
 * registry.observe((record) => console.log(record.resource, record.event, record.callbacks, record.errors.length));
 * ```
 */
export interface NotificationRecord {
  /** The resource of the notification. */
  readonly resource: string;
  /** The event of the notification. */
  readonly event: string;
  /** Who sent it. */
  readonly trigger: unknown;
  /** The payload it carried. */
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

/**
 * Sees every completed notification; cannot veto, and its own failure is only logged.
 *
 * @example
 * ```ts
 * const log: Observer = (record) => console.log(`${record.resource} ${record.event}: ${record.durationMs} ms`);
 * registry.observe(log);
 * ```
 */
export type Observer = (record: NotificationRecord) => unknown;

/** Ids ending like this are the registry's own. */
const RESERVED_ID = /#\d+$/;

const consoleLogger: Logger = {
  error: (message, ...meta) => console.error(message, ...meta),
};

const EMPTY: readonly Entry[] = Object.freeze([]);

const EMPTY_OBSERVERS: readonly Observer[] = [];

/** The subscriptions of one (resource, event), in call order. */
class Bucket {
  /** Sorted by priority, then by first subscription; changed in place (rounds call `snapshot`). */
  subs: Entry[] = [];
  /**
   * What rounds call: a copy of `subs`, so that the bucket can change while a round runs and
   * every round keeps the subscribers it started with (rule 4); made with `run`, which calls it,
   * on the first round after a change (see {@link prepare}).
   */
  snapshot: readonly Entry[] = EMPTY;
  run: Run | undefined = undefined;
  /**
   * How a round of `snapshot` goes on once it has met a promise or an error (see {@link Tail}):
   * made on the first such round after a change, `null` where it cannot be compiled.
   */
  tail: Tail | null | undefined = undefined;
  /** The object of the registry's index of runs that has this bucket's name, once it was prepared. */
  runs: Writable<Run> | undefined = undefined;
  /**
   * The registry's last serial when a snapshot of `subs` was last taken: an entry with a higher
   * serial has never been in a snapshot, so no round can reach it (see {@link VACANT}).
   */
  sealed = 0;

  constructor(
    readonly registry: CallbackRegistry,
    readonly resource: string,
    readonly event: string,
  ) {}

  /** `subs` is about to change: the next round needs a new snapshot, and a new run. */
  changed(): void {
    if (this.run !== undefined) {
      this.runs![this.event] = undefined; // out of the index (see CallbackRegistry.#runs)
      this.run = undefined;
    }
    this.tail = undefined;
    this.snapshot = EMPTY; // keeps no unsubscribed owner alive (rule 12)
  }
}

/**
 * Names → values as the properties of a plain object without a prototype, so that no name
 * (`constructor`, `__proto__`, `toString`) finds anything it was not given. The registry keeps
 * two, each resource → event → value: {@link CallbackRegistry.#live} (buckets, for `subscribe`)
 * and {@link CallbackRegistry.#runs} (runs, for the fast paths). Made by {@link newIndex} and {@link newRuns}.
 */
type Index<T> = { readonly [name: string]: T | undefined };

/** An {@link Index} the registry writes to. */
type Writable<T> = { [name: string]: T | undefined };

/**
 * How many names an object of {@link CallbackRegistry.#runs} keeps in the engine's fast layout
 * at most; one more, and it becomes a hash table (see {@link withName}). Where a call site has
 * published one key only, the engine folds a lookup in the fast layout into a constant, as it
 * folds tseep's one. Where it has seen several keys, as in any application, it looks each name
 * up: in the fast layout by searching the names, one by one up to 8 (the engine's limit for that)
 * and by bisection past it; in a hash table, with a probe or two: as cheap at 2 names, cheaper
 * from 8 on, and far cheaper at 50 (docs/performance.md, "The index of runs").
 */
const LINEAR = 8;

/**
 * An empty {@link Index} in the fast layout. Made from a literal, not with `Object.create(null)`,
 * which the engine makes a hash table from the start.
 */
function newIndex<T>(): Index<T> {
  return Object.setPrototypeOf({}, null) as Index<T>;
}

/** The objects of {@link CallbackRegistry.#runs} in the fast layout, with how many names each holds. */
const fastSizes = new WeakMap<object, number>();

/** An empty object of {@link CallbackRegistry.#runs}, in the fast layout until {@link withName} moves it. */
function newRuns<T>(): Index<T> {
  const index = newIndex<T>();
  fastSizes.set(index, 0);
  return index;
}

/**
 * Sets `name` in `index` to `value`, and returns the index to keep: `index` itself, or, when it
 * outgrows {@link LINEAR} names, a hash table with all of them (`Object.create(null)`, which the
 * engine never turns back). In the fast layout, a name is defined, not assigned: assigned under
 * computed names, properties turn an object into a hash table too, but at a count of the
 * engine's choosing.
 */
function withName<T>(index: Index<T>, name: string, value: T | undefined): Index<T> {
  const size = fastSizes.get(index);
  if (size === undefined || Object.hasOwn(index, name)) {
    (index as Writable<T>)[name] = value;
    return index;
  }
  if (size < LINEAR) {
    define(index, name, value);
    fastSizes.set(index, size + 1);
    return index;
  }
  const table = Object.create(null) as Writable<T>;
  for (const key of Object.keys(index)) table[key] = index[key];
  table[name] = value;
  return table;
}

/**
 * Adds `name` to `index`, keeping it in the fast layout whatever its size (up to about a
 * thousand names): for {@link CallbackRegistry.#live}, which `subscribe` reads where the names
 * are most often constant, and the small objects of {@link CallbackRegistry.#runs}.
 */
function define<T>(index: Index<T>, name: string, value: T | undefined): void {
  Object.defineProperty(index, name, { value, writable: true, enumerable: true, configurable: true });
}

/** The index while an observer is registered: every round takes the slow path, which reports. */
const UNINDEXED: Index<Index<Run>> = Object.freeze(newIndex<Index<Run>>());

/** What a subscription with an owner, a priority or the cancellable flag keeps (see {@link Entry}). */
class Options {
  /** The handle `subscribe` returned, when the subscription has an owner (see {@link OwnerHandle}). */
  handle: OwnerHandle | undefined = undefined;
  /** The serial of a subscription made without options, once a custom id has replaced its label (see {@link serialOf}). */
  serial: number | undefined = undefined;

  constructor(
    readonly owner: object | undefined,
    public priority: number,
    public cancellable: boolean,
    public label: string | number,
  ) {}
}

/**
 * The handle `subscribe` returns for a subscription with an owner. The subscription itself (its
 * {@link Entry}) keeps the owner for as long as a round may call it, and rounds that started
 * before an unsubscribe still call it (rule 4); this handle lets go of the entry when it is
 * unsubscribed, so that a caller who keeps the handle does not keep the owner (rule 12). Without
 * an owner, the handle is a {@link PlainHandle} or the entry itself (see {@link handleOf}).
 */
class OwnerHandle implements Subscription {
  constructor(
    public entry: Entry | undefined,
    /** The id, once `entry` is gone. */
    public retiredId = '',
  ) {}

  get id(): string {
    return this.entry === undefined ? this.retiredId : this.entry.id;
  }

  unsubscribe(): void {
    if (this.entry !== undefined) removeEntry(this.entry);
  }

  [Symbol.dispose](): void {
    this.unsubscribe();
  }
}

/**
 * The handle `subscribe` returns for a subscription made without options. Its entry may be
 * vacated and reused by a later subscription of the same callback (see {@link VACANT}), so the
 * handle knows its subscription by serial: it acts only while the entry is still in that one.
 */
class PlainHandle implements Subscription {
  constructor(
    readonly entry: Entry,
    readonly serial: number,
  ) {}

  get id(): string {
    const entry = this.entry;
    return serialOf(entry.data) === this.serial ? entry.id : deriveId(undefined, entry.callback, this.serial);
  }

  unsubscribe(): void {
    const entry = this.entry;
    if (serialOf(entry.data) === this.serial) releaseEntry(entry);
  }

  [Symbol.dispose](): void {
    this.unsubscribe();
  }
}

/** What `subscribe` hands out for `entry`. */
function handleOf(entry: Entry): Subscription {
  const data = entry.data;
  if (typeof data === 'number') return new PlainHandle(entry, data);
  return typeof data === 'object' && data.handle !== undefined ? data.handle : entry;
}

/**
 * `Entry.data` of a vacated entry: its subscription was made without options, never reached
 * a snapshot, and was unsubscribed without touching `#byCallback`, where the entry stays and
 * counts for nothing until the callback's next such subscription takes it again.
 *
 * This keeps a subscribe + unsubscribe free of a `WeakMap` lookup on the way out, and free of
 * storing a new object into old ones on the way in, which the engine records for its garbage
 * collector through a slow path (docs/performance.md, "Vacant entries").
 */
const VACANT = 0;

/**
 * The serial of the subscription an entry holds, for {@link PlainHandle}: its numeric label, the
 * number ending a derived id, or what the options kept when a custom id replaced either.
 * `undefined` for a subscription made with a custom id; {@link VACANT} for a vacated entry.
 */
function serialOf(data: string | number | Options): number | undefined {
  if (typeof data === 'number') return data;
  if (typeof data === 'object') return data.serial ?? serialOfLabel(data.label);
  return serialOfLabel(data);
}

function serialOfLabel(label: string | number): number | undefined {
  if (typeof label === 'number') return label;
  const derived = RESERVED_ID.exec(label); // custom ids never end so
  return derived === null ? undefined : Number(derived[0].slice(1));
}

/** `entry` was unsubscribed: its handle, if it has one of its own, lets go of it. */
function retire(entry: Entry): void {
  const handle = (entry.data as Options).handle;
  if (handle === undefined) return;
  handle.retiredId = entry.id;
  handle.entry = undefined;
  (entry.data as Options).handle = undefined;
}

/**
 * One subscription. Most subscriptions have no owner and the default options: for them `data`
 * is the label alone, and the entry is three fields (48 bytes on 64-bit Node) instead of six;
 * the others keep an {@link Options} object there. The caller's handle is a {@link PlainHandle}
 * while the label is the serial, an {@link OwnerHandle} with an owner, and else the entry itself.
 */
class Entry implements Subscription {
  constructor(
    public bucket: Bucket,
    readonly callback: Function,
    /** The label (a custom id, the derived id once computed, or the serial to derive it from), or the options with it. */
    public data: string | number | Options,
  ) {}

  get owner(): object | undefined {
    const data = this.data;
    return typeof data === 'object' ? data.owner : undefined;
  }

  get priority(): number {
    const data = this.data;
    return typeof data === 'object' ? data.priority : PRIORITY_DEFAULT;
  }

  get cancellable(): boolean {
    const data = this.data;
    return typeof data === 'object' ? data.cancellable : false;
  }

  get label(): string | number {
    const data = this.data;
    return typeof data === 'object' ? data.label : data;
  }

  set label(label: string | number) {
    if (typeof this.data === 'object') this.data.label = label;
    else this.data = label;
  }

  /** Sets the priority and the flag (a repeated subscribe), making the options object if needed. */
  setOptions(priority: number, cancellable: boolean): void {
    const data = this.data;
    if (typeof data === 'object') {
      data.priority = priority;
      data.cancellable = cancellable;
    } else if (priority !== PRIORITY_DEFAULT || cancellable) {
      this.data = new Options(undefined, priority, cancellable, data);
    }
  }

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
let releaseEntry: (entry: Entry) => void;

/** The entry of (owner, resource, event) among a callback's entries (see {@link Held}). */
function findIn(
  same: Entry | Entry[] | undefined,
  owner: object | undefined,
  resource: string,
  event: string,
): Entry | undefined {
  // Written as one expression: subscribe and unsubscribe inline it (a call here cost about 40
  // instructions each in case (c) of the benchmark); the loop is in findInList.
  return same === undefined
    ? undefined
    : Array.isArray(same)
      ? findInList(same, owner, resource, event)
      : isOf(same, owner, resource, event)
        ? same
        : undefined;
}

function findInList(same: Entry[], owner: object | undefined, resource: string, event: string): Entry | undefined {
  for (const entry of same) if (isOf(entry, owner, resource, event)) return entry;
  return undefined;
}

/**
 * What `#byCallback` keeps for a callback whose subscriptions have all gone once: from then on
 * they change in `entries`, and the map is not written again (a `WeakMap` write costs about 140
 * instructions, a field write a few). Made only then, so that a callback subscribed once costs
 * no more than its {@link Entry}.
 */
class Slot {
  constructor(public entries: Entry | Entry[] | undefined) {}
}

/** What `#byCallback` holds for a callback: its one entry, its entries, or a {@link Slot}. */
type Held = Entry | Entry[] | Slot;

/** The entries in what `#byCallback` holds. */
function entriesIn(held: Held | undefined): Entry | Entry[] | undefined {
  return held instanceof Slot ? held.entries : held;
}

function isOf(entry: Entry, owner: object | undefined, resource: string, event: string): boolean {
  return (
    entry.data !== VACANT && entry.owner === owner && entry.bucket.event === event && entry.bucket.resource === resource
  );
}

/** A vacated entry among a callback's entries, to take again (see {@link VACANT}). */
function vacantIn(same: Entry | Entry[] | undefined): Entry | undefined {
  if (same === undefined) return undefined;
  if (!Array.isArray(same)) return same.data === VACANT ? same : undefined;
  for (const entry of same) if (entry.data === VACANT) return entry;
  return undefined;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

/**
 * Calls the callbacks of one round in order until one of them throws or returns something.
 * Returns 0 when all returned `undefined`; otherwise `i + 1` when callback `i` returned a value
 * (a compiled run stops on any value, {@link runFrom} only on a thenable), `-(i + 1)` when it
 * threw, with the value or the error left in {@link incident}. The round handles that callback
 * (a value that is not a thenable is ignored) and goes on with {@link runFrom} from `i + 1`.
 *
 * A run makes the round's notification itself, from its bucket's names and `trigger`, and only
 * where one of its callbacks takes it: where the run is not inlined into the publisher (100
 * callbacks), a notification passed to it would be allocated on every round even when nobody
 * reads it (4 % of such a round). When it stops, it leaves in {@link incident} the notification
 * its callbacks saw ({@link takeNotification}; a round whose callbacks take none makes one then),
 * the entries it was made from and its bucket ({@link takeEntries}), for the round to go on with:
 * the publisher, which finds the run itself in the index, need not read the bucket at all.
 */
type Run = (payload: EventPayload | undefined, trigger: unknown) => number;

/**
 * Where a {@link Run} leaves what it stopped on; the round takes it at once (nothing runs in
 * between). `at` is where a {@link Tail} starts (the run's result), set just before it is called.
 */
const incident: {
  value: unknown;
  at: number;
  notification: Notification | undefined;
  entries: readonly Entry[];
  bucket: Bucket | undefined;
} = {
  value: undefined,
  at: 0,
  notification: undefined,
  entries: EMPTY,
  bucket: undefined,
};

function takeIncident(): unknown {
  const value = incident.value;
  incident.value = undefined; // never keep a caller's error or promise alive
  return value;
}

/**
 * The entries of the {@link Run} that stopped, and its bucket (taken at once, as the incident):
 * the round goes on with the entries the run was made from, whatever happened to the bucket.
 */
function takeEntries(): readonly Entry[] {
  const entries = incident.entries;
  incident.entries = EMPTY; // never keep an unsubscribed owner alive
  incident.bucket = undefined;
  return entries;
}

/** The bucket of the {@link Run} that stopped; {@link takeEntries} must follow (it lets go of it). */
function stoppedBucket(): Bucket {
  return incident.bucket!;
}

/** The notification a stopped {@link Run} made, if it made one (taken at once, as the incident). */
function takeNotification(): Notification | undefined {
  const notification = incident.notification;
  incident.notification = undefined; // never keep a caller's trigger alive
  return notification;
}

/** The generic {@link Run}: entries[from…], one call site for all of them. */
function runFrom(
  entries: readonly Entry[],
  from: number,
  payload: EventPayload | undefined,
  notification: Notification,
): number {
  for (let i = from; i < entries.length; i++) {
    const entry = entries[i]!;
    try {
      const result = entry.callback.call(entry.owner, payload, notification);
      if (isPromiseLike(result)) {
        incident.value = result;
        return i + 1;
      }
    } catch (error) {
      incident.value = error;
      return -i - 1;
    }
  }
  return 0;
}

/** How many buckets that left the index may stay in it at least (see {@link CallbackRegistry.#live}). */
const STALE_MIN = 64;

/**
 * How many subscriptions from the end of its bucket `unsubscribe` looks at for the one to take
 * out, before it asks the callback's entries: a callback that is not subscribed costs no more
 * than that, however many subscribers the bucket has.
 */
const NEAR_END = 8;

/** Buckets with more callbacks are called by the loop ({@link runFrom}). */
const MAX_COMPILED = 256;
/** Whether `new Function` works here (false under a CSP or `--disallow-code-generation-from-strings`). */
let canCompile = true;
const bind = Function.prototype.bind;

/**
 * Takes the snapshot of `bucket`'s subscribers and makes its `run`: compiled, or else the loop.
 * The registry then puts it in its index (see `CallbackRegistry.#prepare`).
 */
function prepare(bucket: Bucket): Run {
  const entries = (bucket.snapshot = bucket.subs.slice());
  const { resource, event } = bucket;
  return (bucket.run =
    compile(entries, bucket) ??
    ((payload, trigger) => {
      const notification: Notification = { resource, event, trigger };
      const at = runFrom(entries, 0, payload, notification);
      if (at !== 0) {
        incident.notification = notification;
        incident.entries = entries;
        incident.bucket = bucket;
      }
      return at;
    }));
}

/**
 * What generated code is made from: how each callback is called (its `CallLetter` in
 * `shape`) and the function to call. Code is generated once per shape and per kind
 * ({@link generate}, {@link generateTail}), and shared by every bucket of that shape.
 */
type Make<T> = (shape: string, functions: readonly Function[]) => T;

/**
 * Runs `make` for `entries`, or returns `undefined` where the bucket is called by the loops instead:
 * too many callbacks, code generation refused, or a callback that cannot be bound (a revoked proxy).
 * A callback with an owner is called through `bind` (the same `this`, and unlike `.call` the
 * engine inlines it). How each one is called, with the payload alone or not, its result looked
 * at or not, is read from its source once (see callee.ts).
 */
function compiled<T>(entries: readonly Entry[], make: Make<T>): T | undefined {
  if (!canCompile || entries.length > MAX_COMPILED) return undefined;
  try {
    let shape = '';
    for (const entry of entries) shape += callLetterOf(entry.callback);
    const functions = entries.map((e) => (e.owner === undefined ? e.callback : bind.call(e.callback, e.owner)));
    return make(shape, functions);
  } catch (error) {
    if (error instanceof EvalError) canCompile = false;
    return undefined;
  }
}

/** The factory of `shape` in `cache`, generated on first use. */
function factoryOf<F>(cache: Map<string, F>, shape: string, generate: (shape: string) => F): F {
  let factory = cache.get(shape);
  if (factory === undefined) cache.set(shape, (factory = generate(shape)));
  return factory;
}

/** Makes a compiled {@link Run} from the functions to call, then `incident`, the bucket's names, its entries and itself. */
type Factory = (...functionsThenSlot: unknown[]) => Run;

const factories = new Map<string, Factory>();

/**
 * A {@link Run} for `entries` as straight-line code with one call site per callback — the way
 * tseep bakes its listeners. A loop has one call site for every callback, which the engine cannot
 * inline once it has seen a few different functions; here each site sees one function, so small
 * callbacks are inlined. The generated source holds nothing but digits and fixed text.
 */
function compile(entries: readonly Entry[], bucket: Bucket): Run | undefined {
  return compiled(entries, (shape, functions) =>
    factoryOf(factories, shape, generate)(...functions, incident, bucket.resource, bucket.event, entries, bucket),
  );
}

/** How the generated code calls callback `i` of `shape` (see `CallLetter` in callee.ts). */
function callOf(shape: string, i: number): string {
  return `c${i}(${shape[i] === 'p' || shape[i] === 'P' ? 'p' : 'p, n'})`;
}

/** Whether callback `i` of `shape` returns nothing, so that its result is not looked at. */
function returnsNothing(shape: string, i: number): boolean {
  return shape[i] === 'P' || shape[i] === 'N';
}

/**
 * The factory for callbacks called as `shape` says (see {@link Make}). Every byte of the run
 * counts against the inlining budget (see the top of the file), so each call is as small as it can
 * be: set `i` (which call threw, for the one shared `catch`), call, and go on only while the result
 * is `undefined`; the round then looks at any other result (see {@link Run}). A callback that
 * returns nothing is called without looking at its result at all. The callbacks are the factory's
 * parameters, not constants: reading a closure's `const` costs a check that it was initialised.
 */
function generate(shape: string): Factory {
  const names: string[] = [];
  let body = '';
  let open = 0;
  for (let i = 0; i < shape.length; i++) {
    names.push(`c${i}`);
    const set = i ? `i = ${i}; ` : '';
    if (returnsNothing(shape, i)) body += `${set}${callOf(shape, i)};\n`;
    else {
      body += `${set}if ((r = ${callOf(shape, i)}) === undefined) {\n`;
      open++;
    }
  }
  // The notification, only where a callback takes it (see Run); R and E are the bucket's names.
  const wanted = /[nN]/.test(shape);
  const make = wanted ? 'const n = { resource: R, event: E, trigger: t };\n' : '';
  const leave = wanted ? '\ns.entries = Q; s.bucket = B; s.notification = n;' : '\ns.entries = Q; s.bucket = B;';
  const source = `'use strict';\nreturn function compiledRound(p, t) {\n${make}let i = 0, r;\ntry {\n${body}return 0;\n${'}'.repeat(open)}\n} catch (x) {\ns.value = x;${leave}\nreturn -i - 1;\n}\ns.value = r;${leave}\nreturn i + 1;\n};`;
  return new Function(...names, 's', 'R', 'E', 'Q', 'B', source) as Factory;
}

/**
 * The rest of an unobserved asynchronous round of a compiled bucket, once its {@link Run} stopped
 * on a callback: where it stopped (what the run returned) comes in `incident.at`, and what that
 * callback returned or threw in `incident.value`. It awaits that callback's promise (or records
 * its error), then calls and awaits each later callback in turn, and resolves when the round is
 * over; with errors, through the round's end ({@link CallbackRegistry.#conclude}), which rejects
 * with the failure.
 *
 * Generated, like the run, as straight-line code with one call site per callback: a `switch`
 * enters it after the callback the run stopped on. What it keeps across each `await` is what
 * that `await` costs beyond a bare `for … await` loop: the engine saves every parameter of an
 * async function at each `await`, with a write barrier, and the locals still live. So the tail
 * takes two parameters, and its start and first result come through `incident`; the bucket's
 * entries, the registry and the callbacks are in the closure. 10 async callbacks: 1.09× the loop
 * in executed instructions, where the generic loop ({@link CallbackRegistry.#finishAsync}) is 1.20×.
 */
type Tail = (payload: EventPayload | undefined, notification: Notification) => Promise<void>;

/** Makes a {@link Tail} from the functions to call, then `isPromiseLike`, a {@link Failed}, an {@link End} and `incident`. */
type TailFactory = (...functionsThenHelpers: unknown[]) => Tail;

const tailFactories = new Map<string, TailFactory>();

/** `errors` (made if there are none yet) with the failure of `entry` added. */
function withFailure(errors: NotificationError[] | undefined, entry: Entry, error: unknown): NotificationError[] {
  (errors ??= []).push(new NotificationError(entry.id, error, entry.cancellable));
  return errors;
}

/** Records the error of callback `at` of a tail's bucket; returns the errors so far. */
type Failed = (errors: NotificationError[] | undefined, at: number, error: unknown) => NotificationError[];

/** The end of a tail's round that had errors (see {@link CallbackRegistry.#conclude}). */
type End = (
  payload: EventPayload | undefined,
  notification: Notification,
  errors: NotificationError[],
) => Promise<void>;

/** A tail's way into the registry's private `#conclude` (set in the class's static block). */
let concludeRound: (
  registry: CallbackRegistry,
  notification: Notification,
  payload: EventPayload | undefined,
  entries: readonly Entry[],
  errors: NotificationError[],
) => Promise<void>;

/** `bucket`'s {@link Tail}, made on the first round that needs it since the bucket last changed. */
function tailOf(bucket: Bucket): Tail | null {
  if (bucket.tail !== undefined) return bucket.tail;
  const entries = bucket.snapshot;
  const registry = bucket.registry;
  const failed: Failed = (errors, at, error) => withFailure(errors, entries[at]!, error);
  const end: End = (payload, notification, errors) => concludeRound(registry, notification, payload, entries, errors);
  // The tail looks at every result (which costs little beside an `await`): one factory serves a
  // shape whatever its callbacks return.
  const make: Make<Tail> = (shape, functions) =>
    factoryOf(tailFactories, shape.toLowerCase(), generateTail)(...functions, isPromiseLike, failed, end, incident);
  return (bucket.tail = compiled(entries, make) ?? null);
}

/**
 * The tail factory for `shape`. `case i` is entered with `r`, the result of callback `i - 1`:
 * await it if it is a thenable (any other value is ignored, as in the loop), then call callback
 * `i`; a throw or a rejection is recorded and the round goes on.
 */
function generateTail(shape: string): TailFactory {
  const names: string[] = [];
  let cases = '';
  const settle = (i: number) => `try { if (r !== undefined && t(r)) await r; } catch (x) { e = f(e, ${i}, x); }\n`;
  for (let i = 0; i < shape.length; i++) {
    names.push(`c${i}`);
    if (i > 0)
      cases += `case ${i}:\n${settle(i - 1)}try { r = ${callOf(shape, i)}; } catch (x) { r = undefined; e = f(e, ${i}, x); }\n`;
  }
  cases += `case ${shape.length}:\n${settle(shape.length - 1)}`;
  const start = `let r = z.value, s = z.at, e;\nz.value = undefined;\nif (s < 0) {\ns = -s;\ne = f(e, s - 1, r);\nr = undefined;\n}\n`;
  const source = `'use strict';\nreturn async function compiledTail(p, n) {\n${start}switch (s) {\n${cases}}\nreturn e === undefined ? undefined : d(p, n, e);\n};`;
  return new Function(...names, 't', 'f', 'd', 'z', source) as TailFactory;
}

/** `started` of a round no observer watches (an observed one has its `performance.now()`). */
const UNOBSERVED = -1;

/** What an observed round or an abort round adds to {@link CallbackRegistry.#finishAsync}. */
interface RareRound {
  readonly started: number;
  readonly abortOf: string | undefined;
}

/** Throws the failure of a synchronous round, if any. */
function raise(failure: CallbackFailure | RetryRequest | undefined): void {
  if (failure !== undefined) throw failure;
}

/** What `notify` returns when every callback returned at once and nothing failed. */
const RESOLVED: Promise<void> = Promise.resolve();

/**
 * `EventPayload`, held in a constant of this module: the engine reads an imported binding from
 * its module cell and checks that it is initialised on every publish, where a constant of the
 * module's own compiles to nothing in the fast path.
 */
const Payload = EventPayload;

// The checks below are on every subscribe and unsubscribe: each is a few bytes of bytecode, and
// builds its error in a function of its own, so that they leave room in the inlining budget (see
// the top of the file) for the rest of the caller.

function checkName(element: 'resource' | 'event', value: unknown): asserts value is string {
  if (typeof value !== 'string' || value === '') throw badName(element, value);
}

function badName(element: 'resource' | 'event', value: unknown): InvalidError {
  return new InvalidError(
    element,
    value,
    `pass the ${element} name as a non-empty string, e.g. ${element === 'resource' ? "'router'" : "'before_create'"}.`,
  );
}

function checkNames(resource: unknown, event: unknown): void {
  checkName('resource', resource);
  checkName('event', event);
}

function checkCallback(callback: unknown): asserts callback is Function {
  if (typeof callback !== 'function') throw badCallback(callback);
}

function badCallback(callback: unknown): InvalidError {
  return new InvalidError('callback', callback, 'pass a function (payload, notification) => void | Promise<void>.');
}

function checkOwner(owner: unknown): asserts owner is object | undefined {
  if (owner !== undefined && (owner === null || (typeof owner !== 'object' && typeof owner !== 'function')))
    throw badOwner(owner);
}

function badOwner(owner: unknown): InvalidError {
  return new InvalidError(
    'owner',
    owner,
    'pass the object the callback is called with (a service instance), or leave it out.',
  );
}

/** The error for a payload that is neither `undefined` nor an {@link EventPayload}. */
function badPayload(payload: unknown): InvalidError {
  return new InvalidError(
    'payload',
    payload,
    'pass undefined or an EventPayload (EventPayload, DBEventPayload, APIEventPayload).',
  );
}

interface ResolvedOptions {
  priority: number;
  cancellable: boolean;
  owner: object | undefined;
  id: string | undefined;
}

/** The options of a subscription made without any: shared, since nothing changes them. */
const DEFAULT_OPTIONS: Readonly<ResolvedOptions> = Object.freeze({
  priority: PRIORITY_DEFAULT,
  cancellable: false,
  owner: undefined,
  id: undefined,
});

/** The options given to `subscribe` (which takes `undefined` as {@link DEFAULT_OPTIONS} itself, without a call). */
function resolveOptions(options: number | SubscribeOptions): Readonly<ResolvedOptions> {
  if (typeof options === 'number') {
    if (!Number.isFinite(options))
      throw new InvalidError('priority', options, 'pass a finite number (lower runs first).');
    return { priority: options, cancellable: false, owner: undefined, id: undefined };
  }
  if (options === null || typeof options === 'function') {
    throw new InvalidError('options', options, 'pass a priority number or { priority, cancellable, owner, id }.');
  }
  if (typeof options !== 'object') {
    // A string, a boolean or a bigint where Neutron-style code passes the priority.
    throw new InvalidError('priority', options, 'pass a finite number (lower runs first).');
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
  /**
   * The buckets of {@link #buckets} again, found by property lookups instead of map lookups, for
   * `subscribe`: where a call site subscribes under constant names, the engine folds both lookups
   * into a constant. A bucket stays here after it leaves `#buckets` (removing a property would
   * turn the object into a hash table); {@link #bucketOf} passes over it. {@link #stale} counts
   * these, and both indexes are rebuilt when they outnumber the live ones.
   */
  #live = newIndex<Index<Bucket>>();
  /**
   * The runs of the prepared buckets, by resource and event, for the fast paths of `notify` and
   * `notifySync`: a bucket's run is put here when it is prepared ({@link #prepare}), and taken out
   * when its subscribers change ({@link Bucket.changed}). The fast path calls what it finds and
   * reads nothing else of the registry's: with 1,000 keys in turn, the bucket it read before was
   * one more object to fetch from memory per publish (see docs/performance.md, "The index of
   * runs"). A name stays here after its bucket leaves, as in {@link #live}; objects past
   * {@link LINEAR} names are hash tables.
   */
  #runs = newRuns<Index<Run>>();
  /** What the fast paths read: {@link #runs}, or {@link UNINDEXED} while an observer is registered. */
  #index = this.#runs;
  /** How many buckets {@link #buckets} holds. */
  #bucketCount = 0;
  /** How many buckets {@link #live} holds that {@link #buckets} no longer does. */
  #stale = 0;
  /**
   * Every subscription of each callback, whatever its owner, resource and event (see
   * {@link Held}). Weak, so that keeping a callback's key here does not keep the callback alive
   * (rule 12); and the key stays, with an empty {@link Slot}, when the last subscription goes,
   * because a callback that comes and goes would otherwise be deleted and inserted again each
   * time, which costs far more in a WeakMap (and in a Map leaves a chain of deleted slots that
   * every later lookup walks).
   */
  #byCallback = new WeakMap<Function, Held>();
  #customIds = new Map<string, Entry>();
  #serial = 0;
  /** Numbers the observers' handles, apart from the subscriptions' ids. */
  #observerSerial = 0;
  /** `undefined` while none is registered: one check on the fast path. */
  #observers: readonly Observer[] | undefined = undefined;

  constructor(options: RegistryOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new InvalidError('options', options, 'pass { logger, isRetriable, name } or nothing.');
    }
    const { logger = consoleLogger, isRetriable, name = 'registry' } = options;
    if (typeof name !== 'string') throw new InvalidError('name', name, 'pass a string to name the registry in logs.');
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
    const { priority, cancellable, owner, id } = options === undefined ? DEFAULT_OPTIONS : resolveOptions(options);
    const held = this.#byCallback.get(callback);
    const same = entriesIn(held);
    const existing = findIn(same, owner, resource, event);
    // Ids and repeated subscriptions are rarer, and handled out of line (see #remove).
    if (id !== undefined) this.#checkId(id, existing);
    if (existing !== undefined) return this.#update(existing, priority, cancellable, id);
    const bucket = this.#bucketOf(resource, event) ?? this.#newBucket(resource, event);
    const plain = owner === undefined && priority === PRIORITY_DEFAULT && !cancellable;
    if (plain && id === undefined) {
      const serial = ++this.#serial;
      let entry = vacantIn(same);
      if (entry !== undefined) {
        // Taken again: it is among the callback's entries already (see VACANT).
        entry.bucket = bucket;
        entry.data = serial;
        insert(bucket, entry);
      } else {
        entry = new Entry(bucket, callback, serial);
        insert(bucket, entry);
        this.#keep(callback, held, same, entry);
      }
      return new PlainHandle(entry, serial);
    }
    const label = id ?? ++this.#serial;
    const data = plain ? undefined : new Options(owner, priority, cancellable, label);
    const entry = new Entry(bucket, callback, data ?? label);
    insert(bucket, entry);
    this.#keep(callback, held, same, entry);
    if (id !== undefined) this.#customIds.set(id, entry);
    if (owner === undefined) return entry;
    return (data!.handle = new OwnerHandle(entry));
  }

  /** Adds `entry` to the callback's entries (`same`, in `held`). */
  #keep(callback: Function, held: Held | undefined, same: Entry | Entry[] | undefined, entry: Entry): void {
    if (Array.isArray(same)) same.push(entry);
    else this.#hold(callback, held, same === undefined ? entry : [same, entry]);
  }

  /** Throws if `id` belongs to a subscription other than `existing`. */
  #checkId(id: string, existing: Entry | undefined): void {
    const holder = this.#customIds.get(id);
    if (holder !== undefined && holder !== existing) {
      throw new InvalidError('id', id, 'that id is taken by another subscription; pass a unique id or leave it out.');
    }
  }

  /** A repeated subscribe: new options, and a new place if the priority changed (§3.8). */
  #update(existing: Entry, priority: number, cancellable: boolean, id: string | undefined): Subscription {
    const moves = existing.priority !== priority; // to the end of its new priority
    if (moves) detach(existing);
    existing.setOptions(priority, cancellable);
    if (moves) insert(existing.bucket, existing);
    if (id !== undefined && existing.label !== id) this.#relabel(existing, id);
    return handleOf(existing);
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
    // The latest subscriptions are found at the end of their bucket, as node:events finds its
    // listeners, without the callback's entries (a WeakMap lookup); the others through them.
    const bucket = this.#bucketOf(resource, event);
    if (bucket === undefined) return;
    const subs = bucket.subs;
    const last = subs.length - 1;
    for (let at = last; at >= 0 && at > last - NEAR_END; at--) {
      const entry = subs[at]!;
      if (entry.callback === callback && entry.owner === owner) return this.#release(entry, at);
    }
    if (last < NEAR_END) return;
    const held = this.#byCallback.get(callback);
    const entry = findIn(entriesIn(held), owner, resource, event);
    if (entry !== undefined) this.#remove(entry, held);
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
    for (const events of this.#buckets.values())
      for (const bucket of events.values())
        for (const entry of bucket.subs) if (typeof entry.data === 'object') retire(entry);
    this.#buckets = new Map();
    this.#reindex();
    this.#byCallback = new WeakMap();
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
    // The fast path (see the top of the file): a run found in #index (which finds none while an
    // observer is registered), and a valid payload. The rest, and every check, is in #round.
    // Written as a block left by `break`, not as one condition, on purpose: a value that comes
    // out of `?.` or `? :` joins two paths, and the engine then neither folds the lookups nor
    // drops the checks of the index's layout (see "Reading the optimised code" in
    // docs/performance.md).
    fast: {
      if (typeof resource !== 'string' || typeof event !== 'string') break fast; // never converted
      const events = this.#index[resource];
      if (events === undefined) break fast;
      const run = events[event];
      if (run === undefined || (payload !== undefined && !(payload instanceof Payload))) break fast;
      const at = run(payload, trigger);
      return at === 0 ? RESOLVED : this.#goOn(resource, event, trigger, payload, at);
    }
    return this.#round(resource, event, trigger, payload);
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
    // The fast path, as in notify; the rest, and every check, is in #roundSync. It is written out
    // in both methods on purpose: a shared helper that returned the bucket would join its
    // returns, which is what the block avoids (see notify); its bytecode would count against the
    // inlining budget too; and the last such helper took 12.5 ns instead of 6.7 ns per round of
    // 10 callbacks in a scratch benchmark.
    fast: {
      if (typeof resource !== 'string' || typeof event !== 'string') break fast; // never converted
      const events = this.#index[resource];
      if (events === undefined) break fast;
      const run = events[event];
      if (run === undefined || (payload !== undefined && !(payload instanceof Payload))) break fast;
      const at = run(payload, trigger);
      if (at !== 0) this.#stoppedSync(resource, event, trigger, payload, at);
      return;
    }
    this.#slowSync(resource, event, trigger, payload);
  }

  // What notifySync calls off its fast path, each in one call: the fewer bytes notifySync has,
  // the more of the publisher's code the engine inlines along with it (see the top of the file).

  /** Throws the failure, if any, of a round whose run stopped at `at` (see {@link Run}). */
  #stoppedSync(resource: string, event: string, trigger: unknown, payload: EventPayload | undefined, at: number): void {
    const entries = takeEntries(); // the run's own: the bucket may have changed during it
    raise(this.#concludeSync(takeNotification() ?? { resource, event, trigger }, payload, entries, at));
  }

  /** {@link #roundSync}, throwing its failure. */
  #slowSync(resource: string, event: string, trigger: unknown, payload: EventPayload | undefined): void {
    raise(this.#roundSync(resource, event, trigger, payload));
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
    this.#observers = [...(this.#observers ?? []), observer];
    this.#index = UNINDEXED; // observed rounds take the slow path, which reports them
    const id = `observer#${++this.#observerSerial}`;
    const stop = () => {
      const rest = this.#observers?.filter((o) => o !== observer) ?? [];
      this.#observers = rest.length === 0 ? undefined : rest;
      if (rest.length === 0) this.#index = this.#runs;
    };
    return { id, unsubscribe: stop, [Symbol.dispose]: stop };
  }

  #newBucket(resource: string, event: string): Bucket {
    let events = this.#buckets.get(resource);
    if (events === undefined) this.#buckets.set(resource, (events = new Map()));
    const bucket = new Bucket(this, resource, event);
    events.set(event, bucket);
    this.#bucketCount++;
    let indexed = this.#live[resource];
    if (indexed === undefined) define(this.#live, resource, (indexed = newIndex<Bucket>()));
    else if (indexed[event] !== undefined) this.#stale--; // a bucket that left #buckets is replaced
    define(indexed, event, bucket);
    return bucket;
  }

  /** {@link prepare}, and the run in {@link #runs}. */
  #prepare(bucket: Bucket): Run {
    const run = prepare(bucket);
    bucket.sealed = this.#serial; // every entry now in its subs may be in a round (see VACANT)
    this.#putRun(bucket);
    return run;
  }

  /**
   * Puts the run of `bucket` in {@link #runs}, which may become a new object (see
   * {@link withName}), and tells the bucket which object holds its name. Stores
   * into the registry's fields only when the object did change: the engine folds a field that
   * has only ever been given one value, and storing that same value again ended that (the
   * benchmark's publish then read three fields it had folded before).
   */
  #putRun(bucket: Bucket): void {
    const { resource, event, run } = bucket;
    const indexed = this.#runs[resource];
    const grown = withName(indexed ?? newRuns<Run>(), event, run);
    bucket.runs = grown as Writable<Run>;
    if (grown === indexed) return;
    // A bucket takes its run out of the object it was put in: when that object is replaced by a
    // hash table, every bucket of the resource is told.
    if (indexed !== undefined) for (const other of this.#buckets.get(resource)!.values()) other.runs = bucket.runs;
    const runs = withName(this.#runs, resource, grown);
    if (runs === this.#runs) return;
    this.#runs = runs;
    if (this.#observers === undefined) this.#index = runs;
  }

  #entriesOf(callback: Function): Entry[] {
    const same = entriesIn(this.#byCallback.get(callback));
    return same === undefined ? [] : Array.isArray(same) ? [...same] : [same];
  }

  /**
   * Unsubscribes `entry`, found at `at` in its bucket if the caller knows where. An entry that
   * was subscribed without options and never reached a snapshot is vacated: out of its bucket,
   * but left among its callback's entries (see {@link VACANT}); any other goes through {@link #remove}.
   */
  #release(entry: Entry, at?: number): void {
    const data = entry.data;
    const bucket = entry.bucket;
    if (typeof data !== 'number' || data <= bucket.sealed) return this.#remove(entry); // VACANT too
    if (!detach(entry, at)) return; // already unsubscribed through #remove
    entry.data = VACANT;
    if (bucket.subs.length === 0) this.#forgetBucket(bucket);
  }

  /** `held`: what `#byCallback` holds for the entry's callback, when the caller has it already. */
  #remove(entry: Entry, held = this.#byCallback.get(entry.callback)): void {
    // The common case is written here and the rest in methods of their own, to keep this one
    // small enough to be inlined into unsubscribe (see the top of the file).
    const same = entriesIn(held);
    if (same === entry) this.#hold(entry.callback, held, undefined);
    else if (!this.#removeFrom(same, entry, held)) return; // already unsubscribed, or cleared
    if (typeof entry.label === 'string') this.#forgetId(entry);
    detach(entry);
    if (typeof entry.data === 'object') retire(entry);
    if (entry.bucket.subs.length === 0) this.#forgetBucket(entry.bucket);
  }

  /** Takes `entry` out of `same`, a callback's entries; false if it is not there. */
  #removeFrom(same: Entry | Entry[] | undefined, entry: Entry, held: Held | undefined): boolean {
    if (!Array.isArray(same) || !same.includes(entry)) return false;
    const rest = same.filter((e) => e !== entry);
    this.#hold(entry.callback, held, rest.length === 1 ? rest[0]! : rest);
    return true;
  }

  #forgetId(entry: Entry): void {
    if (this.#customIds.get(entry.label as string) === entry) this.#customIds.delete(entry.label as string);
  }

  /** `bucket` has no subscription left: it leaves `#buckets` (unless `clear()` replaced them). */
  #forgetBucket(bucket: Bucket): void {
    const events = this.#buckets.get(bucket.resource);
    if (events?.get(bucket.event) !== bucket) return;
    events.delete(bucket.event);
    if (events.size === 0) this.#buckets.delete(bucket.resource);
    this.#bucketCount--;
    if (++this.#stale > Math.max(STALE_MIN, this.#bucketCount)) this.#reindex();
  }

  /** Makes `entries` the callback's, in its {@link Slot} if it has one (`held`: what the map holds now). */
  #hold(callback: Function, held: Held | undefined, entries: Entry | Entry[] | undefined): void {
    if (held instanceof Slot) held.entries = entries;
    else this.#byCallback.set(callback, entries === undefined ? new Slot(undefined) : entries);
  }

  #relabel(entry: Entry, id: string): void {
    if (typeof entry.label === 'string') this.#forgetId(entry);
    const data = entry.data;
    const options =
      typeof data === 'object' ? data : (entry.data = new Options(undefined, PRIORITY_DEFAULT, false, data));
    options.serial ??= serialOf(data); // for the PlainHandle of a subscription made without options
    options.label = id;
    this.#customIds.set(id, entry);
  }

  static {
    removeEntry = (entry) => entry.bucket.registry.#remove(entry);
    releaseEntry = (entry) => entry.bucket.registry.#release(entry);
    concludeRound = (registry, notification, payload, entries, errors) =>
      registry.#conclude(notification, payload, entries, errors, undefined);
  }

  /** The bucket of (resource, event) for `subscribe`, which has checked the names. */
  #bucketOf(resource: string, event: string): Bucket | undefined {
    const bucket = this.#live[resource]?.[event];
    return bucket !== undefined && bucket.subs.length > 0 ? bucket : undefined; // none: it left #buckets
  }

  /** The bucket of (resource, event), if any; checks the names when there is none. */
  #lookUp(resource: string, event: string): Bucket | undefined {
    const bucket = this.#buckets.get(resource)?.get(event);
    if (bucket === undefined) checkNames(resource, event);
    return bucket;
  }

  /** Makes {@link #live} and {@link #runs} again from {@link #buckets}, without the buckets that left. */
  #reindex(): void {
    const live = newIndex<Index<Bucket>>();
    this.#runs = newRuns<Index<Run>>();
    let count = 0;
    for (const [resource, events] of this.#buckets) {
      const indexed = newIndex<Bucket>();
      define(live, resource, indexed);
      for (const [event, bucket] of events) {
        define(indexed, event, bucket);
        if (bucket.run !== undefined) this.#putRun(bucket);
        count++;
      }
    }
    this.#live = live;
    this.#bucketCount = count;
    this.#stale = 0;
    if (this.#observers === undefined) this.#index = this.#runs;
  }

  /**
   * One synchronous round, from the names: every check, observers, a bucket to prepare, or none.
   * Returns the failure to throw, if any.
   */
  #roundSync(
    resource: string,
    event: string,
    trigger: unknown,
    payload: EventPayload | undefined,
    abortOf?: string,
  ): CallbackFailure | RetryRequest | undefined {
    const bucket = this.#lookUp(resource, event); // checks the names when it has no bucket for them
    if (payload !== undefined && !(payload instanceof Payload)) throw badPayload(payload);
    const started = this.#observers !== undefined ? performance.now() : UNOBSERVED;
    let notification: Notification = { resource, event, trigger };
    if (bucket === undefined) {
      if (started === UNOBSERVED) return undefined;
      return this.#concludeSync(notification, payload, EMPTY, 0, started, abortOf);
    }
    const run = bucket.run ?? this.#prepare(bucket);
    const entries = bucket.snapshot;
    const at = run(payload, trigger);
    if (at === 0 && started === UNOBSERVED) return undefined;
    if (at !== 0) {
      takeEntries(); // the same as `entries`
      notification = takeNotification() ?? notification; // the one the callbacks saw
    }
    return this.#concludeSync(notification, payload, entries, at, started, abortOf);
  }

  /**
   * The end of a synchronous round that stopped on a callback (see {@link Run}) or is observed:
   * the rest of the callbacks, the abort round, then {@link #settle}.
   */
  #concludeSync(
    notification: Notification,
    payload: EventPayload | undefined,
    entries: readonly Entry[],
    at: number,
    started = UNOBSERVED,
    abortOf?: string,
  ): CallbackFailure | RetryRequest | undefined {
    const { resource, event, trigger } = notification;
    const errors = at === 0 ? undefined : this.#finishSync(entries, at, payload, notification);
    if (errors !== undefined && abortOf === undefined && event.startsWith(BEFORE)) {
      const abort = abortEventFor(event)!;
      this.#roundSync(resource, abort, trigger, payload, event);
    }
    return this.#settle(resource, event, trigger, payload, abortOf, entries, errors, started, true);
  }

  /** The rest of a synchronous round after `run` stopped at `at` (see {@link Run}): its errors. */
  #finishSync(
    entries: readonly Entry[],
    at: number,
    payload: EventPayload | undefined,
    notification: Notification,
  ): NotificationError[] | undefined {
    let errors: NotificationError[] | undefined;
    while (at !== 0) {
      const i = at > 0 ? at - 1 : -at - 1;
      const entry = entries[i]!;
      const value = takeIncident();
      if (at < 0) errors = withFailure(errors, entry, value);
      else {
        const error = this.#returnedInSync(entry, value);
        if (error !== undefined) (errors ??= []).push(error);
      }
      at = runFrom(entries, i + 1, payload, notification); // any other value is ignored
    }
    return errors;
  }

  /**
   * One asynchronous round, as {@link #roundSync}; rejects with the failure, if any (never for an
   * abort round). Not `async` itself: a round whose callbacks all returned without a promise or
   * an error, with no observer to tell, is done before it returns and needs no promise of its own.
   */
  #round(
    resource: string,
    event: string,
    trigger: unknown,
    payload: EventPayload | undefined,
    abortOf?: string,
  ): Promise<void> {
    let bucket: Bucket | undefined;
    try {
      bucket = this.#lookUp(resource, event); // checks the names when it has no bucket for them
      if (payload !== undefined && !(payload instanceof Payload)) throw badPayload(payload);
    } catch (error) {
      return Promise.reject(error);
    }
    const started = this.#observers !== undefined ? performance.now() : UNOBSERVED;
    let notification: Notification = { resource, event, trigger };
    let entries = EMPTY;
    let at = 0;
    if (bucket !== undefined) {
      const run = bucket.run ?? this.#prepare(bucket);
      entries = bucket.snapshot;
      at = run(payload, trigger);
      if (at !== 0) {
        takeEntries(); // the same as `entries`
        notification = takeNotification() ?? notification; // the one the callbacks saw
      }
    }
    if (at === 0 && started === UNOBSERVED) return RESOLVED;
    // `at` is not 0 here only when a bucket ran; an observed or abort round takes the loop.
    if (started === UNOBSERVED && abortOf === undefined)
      return this.#goOnWith(bucket!, notification, payload, entries, at);
    return this.#finishAsync(notification, payload, entries, at, { started, abortOf });
  }

  /**
   * The rest of an unobserved round after a run stopped at `at` (see {@link Run}):
   * its bucket's {@link Tail}, or the loop where it has none or changed during the run.
   */
  #goOn(
    resource: string,
    event: string,
    trigger: unknown,
    payload: EventPayload | undefined,
    at: number,
  ): Promise<void> {
    const bucket = stoppedBucket();
    const entries = takeEntries(); // the run's own: the bucket may have changed during it
    return this.#goOnWith(bucket, takeNotification() ?? { resource, event, trigger }, payload, entries, at);
  }

  /** {@link #goOn} with the notification the run's callbacks saw, or a new one. */
  #goOnWith(
    bucket: Bucket,
    notification: Notification,
    payload: EventPayload | undefined,
    entries: readonly Entry[],
    at: number,
  ): Promise<void> {
    const tail = bucket.snapshot === entries ? tailOf(bucket) : null;
    if (tail === null) return this.#finishAsync(notification, payload, entries, at);
    incident.at = at;
    return tail(payload, notification);
  }

  /**
   * The rest of an asynchronous round after `run` stopped at `at` (see {@link Run}), for the
   * rounds a {@link Tail} does not take (observed ones, abort rounds, buckets called by the loop):
   * awaits what it stopped on and each later callback in turn, then {@link #conclude}.
   * `rare` is set only for an observed round or an abort round.
   */
  async #finishAsync(
    notification: Notification,
    payload: EventPayload | undefined,
    entries: readonly Entry[],
    at: number,
    rare?: RareRound,
  ): Promise<void> {
    // Every `await` stores the values still needed after it into the async function's state, with
    // a write barrier each, and loads them back; a parameter with a default would add a copy of
    // every parameter. That, not the calls, is most of what this loop costs beyond a bare
    // `for … await` loop. So: no defaults, `at` itself walks the entries (the index after the
    // callback that returned `result`), the rare settings (observer, abort round) come in one
    // optional argument, and the values of the end are read only after the loop. 10 async
    // callbacks: 1.18× the loop in executed instructions, 1.30× before; the compiled Tail, 1.09×.
    let errors: NotificationError[] | undefined;
    let result = at === 0 ? undefined : takeIncident();
    if (at < 0) {
      at = -at; // callback at - 1 threw: recorded, nothing to await
      errors = withFailure(undefined, entries[at - 1]!, result);
      result = undefined;
    } else if (at === 0) at = entries.length; // an observed round that ran through
    for (;;) {
      try {
        if (isPromiseLike(result)) await result; // any other value a callback returns is ignored
      } catch (error) {
        errors = withFailure(errors, entries[at - 1]!, error);
      }
      if (at === entries.length) break;
      const entry = entries[at]!;
      try {
        result = entry.callback.call(entry.owner, payload, notification);
      } catch (error) {
        result = undefined;
        errors = withFailure(errors, entry, error);
      }
      at++;
    }
    if (errors === undefined && rare === undefined) return;
    return this.#conclude(notification, payload, entries, errors, rare);
  }

  /** The end of an asynchronous round: the abort round, if any, and {@link #settle}; rejects with the failure. */
  async #conclude(
    notification: Notification,
    payload: EventPayload | undefined,
    entries: readonly Entry[],
    errors: NotificationError[] | undefined,
    rare: RareRound | undefined,
  ): Promise<void> {
    const { resource, event, trigger } = notification;
    const abortOf = rare?.abortOf;
    if (errors !== undefined && abortOf === undefined && event.startsWith(BEFORE))
      await this.#round(resource, abortEventFor(event)!, trigger, payload, event);
    const started = rare?.started ?? UNOBSERVED;
    const failure = this.#settle(resource, event, trigger, payload, abortOf, entries, errors, started, false);
    if (failure !== undefined) throw failure;
  }

  /**
   * After a round (and its abort round): decide what the trigger gets, log what is swallowed,
   * tell the observers (when `started` is not {@link UNOBSERVED}).
   */
  #settle(
    resource: string,
    event: string,
    trigger: unknown,
    payload: EventPayload | undefined,
    abortOf: string | undefined,
    subs: readonly Entry[],
    errors: NotificationError[] | undefined,
    started: number,
    sync: boolean,
  ): CallbackFailure | RetryRequest | undefined {
    let failure: CallbackFailure | RetryRequest | undefined;
    if (errors !== undefined) {
      Object.freeze(errors); // the failure and the observers' record share it, read-only
      const vetoes = abortOf === undefined && (isCancellableEvent(event) || errors.some((e) => e.cancellable));
      for (const e of errors) {
        if (vetoes)
          this.#logger.debug?.(`Callback ${e.callbackId} raised ${errorText(e.error)} (${resource} ${event})`);
        else this.#logger.error(`Error during notification for ${e.callbackId} ${resource}, ${event}`, e.error);
      }
      if (vetoes) failure = this.#failureFor(resource, event, errors);
    }
    if (started !== UNOBSERVED) {
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
      for (const observer of this.#observers ?? EMPTY_OBSERVERS) this.#tell(observer, record);
    }
    return failure;
  }

  #failureFor(resource: string, event: string, errors: NotificationError[]): CallbackFailure | RetryRequest {
    const failure = new CallbackFailure(resource, event, errors);
    const isRetriable = this.#isRetriable;
    if (isRetriable === undefined) return failure;
    const retriable = errors.some((e) => {
      try {
        return Boolean(isRetriable(e.error)); // a truthy answer, as Neutron's `if is_retriable(e)`
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

  /**
   * What a callback's return value means in `notifySync`: nothing, unless it is a thenable (a
   * failure), or reading its `then` throws (that error is the callback's failure, as in `notify`).
   */
  #returnedInSync(entry: Entry, value: unknown): NotificationError | undefined {
    let thenable: boolean;
    try {
      thenable = isPromiseLike(value);
    } catch (error) {
      return new NotificationError(entry.id, error, entry.cancellable);
    }
    return thenable ? this.#promiseInSync(entry, value as PromiseLike<unknown>) : undefined;
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
  const subs = bucket.subs;
  bucket.changed();
  let at = subs.length;
  while (at > 0 && subs[at - 1]!.priority > entry.priority) at--;
  if (at === subs.length) subs.push(entry);
  else subs.splice(at, 0, entry);
}

/** Takes `entry` out of its bucket's subs, from `at` if the caller found it there; false if it is not there. */
function detach(entry: Entry, at?: number): boolean {
  const bucket = entry.bucket;
  const subs = bucket.subs;
  if (at === undefined) {
    at = subs.length - 1;
    while (at >= 0 && subs[at] !== entry) at--; // from the end: the latest subscription goes first
    if (at < 0) return false;
  }
  bucket.changed();
  if (at === subs.length - 1) subs.pop();
  else subs.splice(at, 1);
  return true;
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
