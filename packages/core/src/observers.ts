/**
 * Observers: functions that see every completed notification, for tracing, testing and
 * bridging. They cannot veto, and their own failures are only logged.
 * @module
 */

import type { CallbackFailure, NotificationError, RetryRequest } from './errors.js';
import type { EventPayload } from './payloads.js';
import type { Handle } from './subscriptions.js';

/**
 * Where the registry reports the failures it does not throw. `console` and pino fit.
 *
 * @example
 * ```ts
 * const logger: Logger = { error: (message, ...meta) => process.stderr.write(`${message} ${meta.join(' ')}\n`) };
 * const quiet = new CallbackRegistry({ logger });
 * ```
 */
export interface Logger {
  /** Logs a failure nobody else hears of: a callback's that is not thrown, an observer's. */
  error(message: string, ...meta: unknown[]): void;
  /** Logs a warning, when the logger has this level. */
  warn?(message: string, ...meta: unknown[]): void;
  /** Logs information. */
  info?(message: string, ...meta: unknown[]): void;
  /** Logs the failures that veto by design (a `before_*` event's, a cancellable subscription's); without it, they are not logged. */
  debug?(message: string, ...meta: unknown[]): void;
}

/**
 * What an observer sees of each completed notification.
 *
 * @example
 * ```ts
 * registry.observe((record: NotificationRecord) => {
 *   if (record.failure) console.warn(`${record.resource} ${record.event} vetoed by`, record.errors.map((e) => e.callbackId));
 * });
 * ```
 */
export interface NotificationRecord {
  /** The resource notified about. */
  readonly resource: string;
  /** The event notified. */
  readonly event: string;
  /** Who notified: the `trigger` argument of `notify`. */
  readonly trigger: unknown;
  /** The payload the callbacks received, if any. */
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
 * const count: Observer = () => void metrics.increment('herald.notifications');
 * registry.observe(count);
 * ```
 */
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
