/**
 * The registry's subscriptions and their indexes: by (resource, event), in call order, and by
 * callback, for the identity of a subscription (rule 1 in docs/concepts.md) and for the
 * callback-wide unsubscribes. Taking a subscription out has one name here: {@link Subscriptions.remove}.
 * @module
 */

import type { AsyncCaller, SyncCaller } from './callers.js';
import { InvalidError } from './errors.js';
import { PRIORITY_DEFAULT } from './priorities.js';

/** Ids ending like this are derived by the registry; a custom id may not end so. */
export const DERIVED_ID = /#\d+$/;

/** What a subscription was given besides its callback, owner and names. */
export interface Terms {
  readonly priority: number;
  readonly cancellable: boolean;
  /** The custom id, if one was given. */
  readonly id: string | undefined;
}

/** The terms of a subscription made without options: shared, since nothing changes them. */
export const DEFAULT_TERMS: Terms = Object.freeze({ priority: PRIORITY_DEFAULT, cancellable: false, id: undefined });

/** The public face of a subscription: what `subscribe` returns. */
export interface Handle {
  readonly id: string;
  unsubscribe(): void;
  [Symbol.dispose](): void;
}

/**
 * One subscription: a callback, the `this` it is called with, and its terms, in one topic.
 * Rounds hold it in the list they took, so it keeps its callback and owner until they are done (rule
 * 4); without an owner it is also the caller's handle. Five fields: most subscriptions are made
 * without options, and share their terms.
 */
export class Registration implements Handle {
  constructor(
    /** Where it is subscribed; `undefined` once taken out. */
    public topic: Topic | undefined,
    readonly callback: Function,
    readonly owner: object | undefined,
    public terms: Terms,
    /** Numbers the subscriptions of a registry: the suffix of a derived id. */
    readonly serial: number,
  ) {}

  get priority(): number {
    return this.terms.priority;
  }

  get cancellable(): boolean {
    return this.terms.cancellable;
  }

  /** The custom id, or `Owner.method#serial` (`function#serial` without an owner). */
  get id(): string {
    const custom = this.terms.id;
    if (custom !== undefined) return custom;
    const name = this.callback.name.replace(/^bound /, '') || 'anonymous';
    const owner = this.owner === undefined ? undefined : (this.owner.constructor as Function | undefined)?.name;
    return `${owner ? `${owner}.` : ''}${name}#${this.serial}`;
  }

  unsubscribe(): void {
    this.topic?.subscriptions.remove(this);
  }

  [Symbol.dispose](): void {
    this.unsubscribe();
  }
}

/**
 * The handle of a subscription with an owner. The registration keeps the owner for as long as a
 * round may call it (rule 4); this handle lets go of the registration when it is taken out, so
 * that a caller who keeps the handle does not keep the owner (rule 12).
 */
export class OwnerHandle implements Handle {
  #registration: Registration | undefined;
  #id = '';

  constructor(registration: Registration) {
    this.#registration = registration;
  }

  get id(): string {
    return this.#registration?.id ?? this.#id;
  }

  /** Called when its registration is taken out. */
  release(): void {
    this.#id = this.#registration!.id;
    this.#registration = undefined;
  }

  unsubscribe(): void {
    this.#registration?.unsubscribe();
  }

  [Symbol.dispose](): void {
    this.unsubscribe();
  }
}

/** The subscriptions of one (resource, event), in call order. */
export class Topic {
  /**
   * Sorted by priority, then by first subscription. A round calls the array it finds here, and
   * from then on that array never changes: the next subscribe or unsubscribe replaces it with a
   * changed copy, so that the topic may change while a round runs without changing that round
   * (rule 4). Until a round has taken it, changes are made in place: a subscription that comes
   * and goes between rounds copies nothing.
   */
  registrations: Registration[] = [];
  /** Whether a round has taken {@link registrations} since it last changed. */
  taken = false;
  /** The rounds that took {@link registrations} since it last changed. */
  rounds = 0;
  /** The compiled callers of {@link registrations}, made by the rounds; dropped when it changes. */
  syncCaller: SyncCaller | undefined = undefined;
  asyncCaller: AsyncCaller | undefined = undefined;

  constructor(
    readonly subscriptions: Subscriptions,
    readonly resource: string,
    readonly event: string,
  ) {}

  /**
   * What a round calls: the registrations, which stay as they are from now on. Rounds read the
   * array itself rather than a copy made for them: one less object to reach on every round.
   */
  take(): readonly Registration[] {
    this.taken = true;
    this.rounds++;
    return this.registrations;
  }

  /** The registrations, to change: a copy, if a round has taken them. Their callers go. */
  #changeable(): Registration[] {
    this.rounds = 0;
    this.syncCaller = undefined;
    this.asyncCaller = undefined;
    if (this.taken) {
      this.registrations = this.registrations.slice();
      this.taken = false;
    }
    return this.registrations;
  }

  /** Inserts at the end of the registrations of its priority. */
  insert(registration: Registration): void {
    const list = this.#changeable();
    let at = list.length;
    while (at > 0 && list[at - 1]!.priority > registration.priority) at--;
    // `push` and `pop` where they do the same: `splice` allocates an array of what it removed.
    if (at === list.length) list.push(registration);
    else list.splice(at, 0, registration);
  }

  /**
   * Takes `registration` out. It is looked for from the end, where the latest subscriptions are:
   * one that comes and goes is found at once and popped, as node:events finds its listeners.
   */
  delete(registration: Registration): void {
    const list = this.#changeable();
    let at = list.length - 1;
    while (at >= 0 && list[at] !== registration) at--;
    if (at === list.length - 1) list.pop();
    else if (at >= 0) list.splice(at, 1);
  }
}

/** A callback's registrations: one, or several (most callbacks have one). */
type Registrations = Registration | Registration[];

/** Every subscription of one registry, and its indexes. */
export class Subscriptions {
  /** Resource → event → topic; a topic leaves when its last subscription does. */
  #topics = new Map<string, Map<string, Topic>>();
  /**
   * Each callback's registrations, whatever their owners and names. Weak, so that it keeps no
   * callback alive (rule 12). A callback's key stays, with an empty list, after its last
   * subscription goes: one that comes and goes then costs no more map writes.
   */
  #byCallback = new WeakMap<Function, Registrations>();
  /** Custom ids, which must be unique. */
  #ids = new Map<string, Registration>();
  /** The handles of the subscriptions with an owner (see {@link OwnerHandle}). */
  #handles = new WeakMap<Registration, OwnerHandle>();
  #serial = 0;

  /** The topic of (resource, event), if it has subscriptions. */
  topic(resource: string, event: string): Topic | undefined {
    return this.#topics.get(resource)?.get(event);
  }

  /**
   * Subscribes `callback`, or gives the subscription of (callback, owner, resource, event) its new
   * terms if there is one (rule 1): a new priority moves it to the end of its new place, and a
   * custom id is kept unless another is given. Throws, changing nothing, if the custom id belongs
   * to another subscription.
   */
  subscribe(
    callback: Function,
    owner: object | undefined,
    resource: string,
    event: string,
    terms: Terms,
  ): Registration {
    const held = this.#byCallback.get(callback);
    const existing = findIn(held, owner, resource, event);
    if (terms.id !== undefined) {
      const holder = this.#ids.get(terms.id);
      if (holder !== undefined && holder !== existing)
        throw new InvalidError(
          'id',
          terms.id,
          'that id is taken by another subscription; pass a unique id or leave it out.',
        );
    }
    if (existing !== undefined) {
      this.#update(
        existing,
        terms.id !== undefined || existing.terms.id === undefined ? terms : { ...terms, id: existing.terms.id },
      );
      return existing;
    }
    const topic = this.#topicFor(resource, event);
    const registration = new Registration(topic, callback, owner, terms, ++this.#serial);
    if (owner !== undefined) this.#handles.set(registration, new OwnerHandle(registration));
    topic.insert(registration);
    if (held === undefined) this.#byCallback.set(callback, registration);
    else if (Array.isArray(held)) held.push(registration);
    else this.#byCallback.set(callback, [held, registration]);
    if (terms.id !== undefined) this.#ids.set(terms.id, registration);
    return registration;
  }

  /** Takes out the subscription of (callback, owner, resource, event), if there is one. */
  unsubscribe(callback: Function, owner: object | undefined, resource: string, event: string): void {
    const held = this.#byCallback.get(callback);
    const registration = findIn(held, owner, resource, event);
    if (registration !== undefined) this.#remove(registration, held!);
  }

  #update(registration: Registration, terms: Terms): void {
    const topic = registration.topic!;
    const moves = registration.priority !== terms.priority;
    if (moves) topic.delete(registration);
    const previousId = registration.terms.id;
    registration.terms = terms;
    if (moves) topic.insert(registration);
    if (previousId !== terms.id) {
      if (previousId !== undefined) this.#ids.delete(previousId);
      if (terms.id !== undefined) this.#ids.set(terms.id, registration);
    }
  }

  /** Takes `registration` out, wherever it is indexed; does nothing if it is out already. */
  remove(registration: Registration): void {
    if (registration.topic !== undefined) this.#remove(registration, this.#byCallback.get(registration.callback)!);
  }

  /** Takes out `registration`, which is in; `held` is what the callback index holds for its callback. */
  #remove(registration: Registration, held: Registrations): void {
    const topic = registration.topic!;
    registration.topic = undefined;
    topic.delete(registration);
    if (topic.registrations.length === 0) this.#forget(topic);
    if (held === registration) this.#byCallback.set(registration.callback, []);
    else if (Array.isArray(held)) {
      // Their order does not matter: the last one takes the place of the one taken out.
      const at = held.indexOf(registration);
      held[at] = held[held.length - 1]!;
      held.pop();
    }
    if (registration.terms.id !== undefined) this.#ids.delete(registration.terms.id);
    if (registration.owner !== undefined) this.#handles.get(registration)!.release();
  }

  /** What `subscribe` hands out for `registration`: its {@link OwnerHandle}, or itself. */
  handleOf(registration: Registration): Handle {
    return (registration.owner !== undefined && this.#handles.get(registration)) || registration;
  }

  /** A copy of the registrations of `callback`, to take some out while walking it. */
  ofCallback(callback: Function): Registration[] {
    const held = this.#byCallback.get(callback);
    return held === undefined ? [] : Array.isArray(held) ? [...held] : [held];
  }

  /** Every topic with subscriptions. */
  *topics(): IterableIterator<Topic> {
    for (const events of this.#topics.values()) yield* events.values();
  }

  /** Takes every subscription out. Rounds already running keep the lists they took (rule 4). */
  clear(): void {
    for (const topic of this.topics())
      for (const registration of topic.registrations) {
        registration.topic = undefined;
        if (registration.owner !== undefined) this.#handles.get(registration)!.release();
      }
    this.#topics = new Map();
    this.#byCallback = new WeakMap();
    this.#ids = new Map();
    this.#handles = new WeakMap();
  }

  #topicFor(resource: string, event: string): Topic {
    let events = this.#topics.get(resource);
    if (events === undefined) this.#topics.set(resource, (events = new Map()));
    let topic = events.get(event);
    if (topic === undefined) events.set(event, (topic = new Topic(this, resource, event)));
    return topic;
  }

  /** `topic` has no subscription left: it leaves the index, so that names that come and go leave nothing. */
  #forget(topic: Topic): void {
    const events = this.#topics.get(topic.resource)!;
    events.delete(topic.event);
    if (events.size === 0) this.#topics.delete(topic.resource);
  }
}

/** The subscription of (owner, resource, event) among a callback's, if there is one. */
function findIn(
  held: Registrations | undefined,
  owner: object | undefined,
  resource: string,
  event: string,
): Registration | undefined {
  if (held === undefined) return undefined;
  if (!Array.isArray(held)) return isOf(held, owner, resource, event) ? held : undefined;
  for (const registration of held) if (isOf(registration, owner, resource, event)) return registration;
  return undefined;
}

function isOf(registration: Registration, owner: object | undefined, resource: string, event: string): boolean {
  const topic = registration.topic!;
  return registration.owner === owner && topic.event === event && topic.resource === resource;
}
