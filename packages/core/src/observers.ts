/**
 * Observers: functions that see every completed notification, for tracing, testing and
 * bridging. They cannot veto, and their own failures are only logged.
 * @module
 */

import type { CallbackFailure, NotificationError, RetryRequest } from './errors.js';
import type { EventPayload } from './payloads.js';
import type { Handle } from './subscriptions.js';

/** Where the registry reports the failures it does not throw. `console` and pino fit. */
export interface Logger {
  error(message: string, ...meta: unknown[]): void;
  warn?(message: string, ...meta: unknown[]): void;
  info?(message: string, ...meta: unknown[]): void;
  debug?(message: string, ...meta: unknown[]): void;
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
export type Observer = { observe(record: NotificationRecord): unknown }['observe'];

/** The observers of one registry. */
export class Observers {
  /** Replaced, never changed, so that telling them while one leaves is safe. */
  #list: readonly Observer[] = [];
  #serial = 0;

  constructor(readonly logger: Logger) {}

  /** Whether any observer is registered: rounds time themselves and report only then. */
  get any(): boolean {
    return this.#list.length > 0;
  }

  add(observer: Observer): Handle {
    this.#list = [...this.#list, observer];
    const id = `observer#${++this.#serial}`;
    const stop = () => {
      this.#list = this.#list.filter((o) => o !== observer);
    };
    return { id, unsubscribe: stop, [Symbol.dispose]: stop };
  }

  /** Tells every observer; a failure, thrown or rejected, is logged. */
  tell(record: NotificationRecord): void {
    for (const observer of this.#list) {
      const fail = (error: unknown) =>
        this.logger.error(
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
}

export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}
