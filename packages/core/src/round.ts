/**
 * The round: what happens on `notify` and `notifySync`, with Neutron's rules (docs/concepts.md,
 * rules 4–10). As in Neutron's `publish`: take the subscribers present now, call each in order in
 * a plain loop that records every failure, run the abort round of a failed `before_*` event, then
 * decide what the trigger gets, log the rest, and tell the observers. A topic whose subscribers
 * stay the same is called by a caller compiled for it instead of the loop (callers.ts), which
 * does the same with each subscriber and records failures with the same {@link withFailure}.
 * @module
 */

import {
  compileAsync,
  compileSync,
  isCompilable,
  STEADY_ROUNDS,
  Pending,
  withFailure,
  type AsyncCaller,
  type Errors,
  type Returned,
  type SyncCaller,
} from './callers.js';
import { checkName, checkPayload } from './checks.js';
import { CallbackFailure, errorText, HeraldError, RetryRequest, type NotificationError } from './errors.js';
import { abortEventFor, BEFORE, isCancellableEvent } from './events.js';
import { isPromiseLike, type Logger, type NotificationRecord, type Observers } from './observers.js';
import type { EventPayload } from './payloads.js';
import type { Registration, Subscriptions, Topic } from './subscriptions.js';
import type { Notification } from './types.js';

/** What a failed round gives its trigger. */
export type Failure = CallbackFailure | RetryRequest;

/** What `notify` returns when every callback returned at once and nothing failed. */
const RESOLVED: Promise<void> = Promise.resolve();

/**
 * The registrations of a topic that has none. Not frozen, though never changed: a frozen array
 * has another shape than the topics' arrays, and the loop of a round would see two.
 */
const NONE: readonly Registration[] = [];

/** One round past its loop: what its end needs. */
interface Ending {
  readonly notification: Notification;
  readonly payload: EventPayload | undefined;
  readonly registrations: readonly Registration[];
  /** For the abort round of a failed `before_*` event: that event. */
  readonly abortOf: string | undefined;
  /** `performance.now()` at its start, when it is observed. */
  readonly started: number | undefined;
}

/** The rounds of one registry. */
export class Rounds {
  /**
   * What a synchronous round does with a result: a promise is a failure (rule 10). Reading `then`
   * may throw, which is a failure of that callback too: the `try` around the call records it.
   */
  readonly #returnedInSync: Returned = (errors, registration, result) =>
    isPromiseLike(result) ? withFailure(errors, registration, this.#promiseInSync(registration, result)) : errors;

  constructor(
    readonly subscriptions: Subscriptions,
    readonly observers: Observers,
    readonly logger: Logger,
    readonly isRetriable: ((error: unknown) => boolean) | undefined,
  ) {}

  /** A synchronous round: returns the failure to throw, if any. */
  sync(
    resource: string,
    event: string,
    trigger: unknown,
    payload: EventPayload | undefined,
    abortOf?: string,
  ): Failure | undefined {
    const topic = this.#topic(resource, event, payload);
    const registrations = topic === undefined ? NONE : topic.take();
    const started = this.observers.any ? performance.now() : undefined;
    const notification: Notification = { resource, event, trigger };
    // The list is compiled on the round that makes it steady, once (callers.ts).
    const caller =
      topic === undefined
        ? undefined
        : (topic.syncCaller ?? (topic.rounds === STEADY_ROUNDS ? this.#compileSync(topic) : undefined));
    let errors: Errors;
    if (caller !== undefined) errors = caller(payload, notification);
    else {
      for (let i = 0; i < registrations.length; i++) {
        const registration = registrations[i]!;
        try {
          const result = registration.callback.call(registration.owner, payload, notification);
          if (result !== undefined) errors = this.#returnedInSync(errors, registration, result);
        } catch (error) {
          errors = withFailure(errors, registration, error);
        }
      }
    }
    if (errors === undefined && started === undefined) return undefined;
    if (errors !== undefined && abortOf === undefined && event.startsWith(BEFORE))
      this.sync(resource, abortEventFor(event)!, trigger, payload, event);
    return this.#settle({ notification, payload, registrations, abortOf, started }, errors, true);
  }

  /**
   * An asynchronous round: rejects with the failure, if any (never for an abort round), and
   * with an `InvalidError` for bad arguments, never throwing. Its callbacks run synchronously
   * until one returns a promise; from there on {@link #finish} awaits each in turn. A round in
   * which none did, nothing failed and nobody observes is over when this returns.
   */
  async(
    resource: string,
    event: string,
    trigger: unknown,
    payload: EventPayload | undefined,
    abortOf?: string,
  ): Promise<void> {
    let topic: Topic | undefined;
    try {
      topic = this.#topic(resource, event, payload);
    } catch (error) {
      return Promise.reject(error);
    }
    const registrations = topic === undefined ? NONE : topic.take();
    const started = this.observers.any ? performance.now() : undefined;
    const notification: Notification = { resource, event, trigger };
    const caller =
      topic === undefined
        ? undefined
        : (topic.asyncCaller ?? (topic.rounds === STEADY_ROUNDS ? this.#compileAsync(topic) : undefined));
    let errors: Errors;
    if (caller !== undefined) {
      const outcome = caller(payload, notification);
      if (outcome instanceof Pending) {
        const ending = { notification, payload, registrations, abortOf, started };
        return this.#finish(ending, outcome.at, outcome.pending, outcome.errors);
      }
      errors = outcome;
    } else {
      for (let i = 0; i < registrations.length; i++) {
        const registration = registrations[i]!;
        try {
          const result = registration.callback.call(registration.owner, payload, notification);
          if (result !== undefined && isPromiseLike(result)) {
            const ending = { notification, payload, registrations, abortOf, started };
            return this.#finish(ending, i, result, errors);
          }
        } catch (error) {
          errors = withFailure(errors, registration, error);
        }
      }
    }
    if (errors === undefined && started === undefined) return RESOLVED;
    return this.#conclude({ notification, payload, registrations, abortOf, started }, errors);
  }

  /** The topic of (resource, event), if it has subscribers; checks the names when it has none, and the payload. */
  #topic(resource: string, event: string, payload: EventPayload | undefined): Topic | undefined {
    const topic = this.subscriptions.topic(resource, event);
    if (topic === undefined) {
      checkName('resource', resource);
      checkName('event', event);
    }
    checkPayload(payload);
    return topic;
  }

  /** The compiled caller of `topic`'s steady list for synchronous rounds (callers.ts), or `undefined` for the loop. */
  #compileSync(topic: Topic): SyncCaller | undefined {
    if (!isCompilable(topic.registrations.length)) return undefined;
    return (topic.syncCaller = compileSync(topic.registrations, this.#returnedInSync));
  }

  /** The compiled caller of `topic` for asynchronous rounds, as {@link #compileSync}. */
  #compileAsync(topic: Topic): AsyncCaller | undefined {
    if (!isCompilable(topic.registrations.length)) return undefined;
    return (topic.asyncCaller = compileAsync(topic.registrations));
  }

  /** The rest of an asynchronous round, from callback `at`, which returned `pending` (rule 5). */
  async #finish(
    ending: Ending,
    at: number,
    pending: PromiseLike<unknown>,
    errors: NotificationError[] | undefined,
  ): Promise<void> {
    const { registrations, payload, notification } = ending;
    for (let i = at; i < registrations.length; i++) {
      const registration = registrations[i]!;
      try {
        const result = i === at ? pending : registration.callback.call(registration.owner, payload, notification);
        if (result !== undefined && isPromiseLike(result)) await result; // any other value is ignored
      } catch (error) {
        errors = withFailure(errors, registration, error);
      }
    }
    return this.#conclude(ending, errors);
  }

  /** The end of an asynchronous round: the abort round, if any, then {@link #settle}; rejects with the failure. */
  async #conclude(ending: Ending, errors: NotificationError[] | undefined): Promise<void> {
    const { resource, event, trigger } = ending.notification;
    if (errors !== undefined && ending.abortOf === undefined && event.startsWith(BEFORE))
      await this.async(resource, abortEventFor(event)!, trigger, ending.payload, event);
    const failure = this.#settle(ending, errors, false);
    if (failure !== undefined) throw failure;
  }

  /**
   * After a round and its abort round: decide what the trigger gets (rules 6–9), log each
   * failure as Neutron does (debug for a `before_*` or `precommit_*` event or a cancellable
   * subscription, error otherwise), and tell the observers.
   */
  #settle(ending: Ending, errors: NotificationError[] | undefined, sync: boolean): Failure | undefined {
    const { notification, abortOf } = ending;
    const { resource, event } = notification;
    let failure: Failure | undefined;
    if (errors !== undefined) {
      Object.freeze(errors); // the failure and the observers' record share it, read-only
      for (const e of errors) {
        if (isCancellableEvent(event) || e.cancellable)
          this.logger.debug?.(`Callback ${e.callbackId} raised ${errorText(e.error)} (${resource} ${event})`);
        else this.logger.error(`Error during notification for ${e.callbackId} ${resource}, ${event}`, e.error);
      }
      const vetoed = abortOf === undefined && (isCancellableEvent(event) || errors.some((e) => e.cancellable));
      if (vetoed) failure = this.#failureFor(resource, event, errors);
    }
    if (ending.started !== undefined) {
      const record: NotificationRecord = {
        resource,
        event,
        trigger: notification.trigger,
        payload: ending.payload,
        errors: errors ?? [],
        callbacks: ending.registrations.map((r) => r.id),
        failure,
        abortOf,
        sync,
        durationMs: performance.now() - ending.started,
      };
      this.observers.tell(record);
    }
    return failure;
  }

  /** The veto, or the retry request when `isRetriable` holds for one of its errors (rule 9). */
  #failureFor(resource: string, event: string, errors: readonly NotificationError[]): Failure {
    const failure = new CallbackFailure(resource, event, errors);
    const isRetriable = this.isRetriable;
    if (isRetriable === undefined) return failure;
    const retriable = errors.some((e) => {
      try {
        return Boolean(isRetriable(e.error)); // a truthy answer, as Neutron's `if is_retriable(e)`
      } catch (hookError) {
        this.logger.error(
          `isRetriable threw while judging ${e.callbackId}'s error; treating it as not retriable`,
          hookError,
        );
        return false;
      }
    });
    return retriable ? new RetryRequest(failure) : failure;
  }

  /** The error of a callback that returned a promise to `notifySync`, whose rejection is handled (rule 10). */
  #promiseInSync(registration: Registration, result: PromiseLike<unknown>): HeraldError {
    const id = registration.id;
    try {
      result.then(undefined, (rejection: unknown) =>
        this.logger.debug?.(`Callback ${id} rejected after notifySync returned: ${errorText(rejection)}`),
      );
    } catch (thenError) {
      this.logger.debug?.(`Callback ${id} returned a thenable whose then() threw: ${errorText(thenError)}`);
    }
    return new HeraldError(
      `Callback ${id} returned a promise during notifySync; use notify (async) for asynchronous subscribers.`,
    );
  }
}
