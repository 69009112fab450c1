/**
 * How a registry bridge retries a publish that failed: a bounded number of attempts, with a delay
 * that grows between them, so that a broker that is restarting is given time and a broker that
 * is gone is not hammered.
 * @module
 */

import { InvalidError } from '@herald/core';
import { backoffDelayMs, MAX_TIMER_MS } from './transport.kit.js';

/**
 * When a failed publish of a bridged event is tried again: up to `attempts` publishes in all, the
 * first retry after `initialDelayMs`, each next delay `multiplier` times the previous one, never
 * more than `maxDelayMs`.
 *
 * @example
 * ```ts
 * // 1 publish + 7 retries after 0.2, 0.4, 0.8, 1.6, 3.2, 5, 5 s: about 20 s of broker trouble survived
 * const retry: ForwardRetry = { attempts: 8, initialDelayMs: 200, multiplier: 2, maxDelayMs: 5_000 };
 * bridge.forward(registry, { resources: [ROUTER], groups: ['l3-agent'], retry });
 * ```
 */
export interface ForwardRetry {
  /** Publishes in all, the first one included: 1 means no retry. A whole number, 1 or more. */
  readonly attempts: number;
  /** The delay before the first retry, in milliseconds: 0 or more. */
  readonly initialDelayMs: number;
  /** What each delay is multiplied by for the next one: 1 or more. */
  readonly multiplier: number;
  /** The longest delay, in milliseconds: at least `initialDelayMs`. */
  readonly maxDelayMs: number;
}

/**
 * The default {@link ForwardRetry}: 6 publishes, the retries after 0.1, 0.2, 0.4, 0.8 and 1.6 s
 * (about 3 s of broker trouble, on top of the transport's own reconnection wait).
 *
 * @example
 * ```ts
 * bridge.forward(registry, { resources: [ROUTER], retry: { ...DEFAULT_FORWARD_RETRY, attempts: 10 } });
 * ```
 */
export const DEFAULT_FORWARD_RETRY: ForwardRetry = Object.freeze({
  attempts: 6,
  initialDelayMs: 100,
  multiplier: 2,
  maxDelayMs: 5_000,
});

/**
 * `retry` checked, with the defaults of {@link DEFAULT_FORWARD_RETRY} for what it leaves out.
 *
 * @throws InvalidError naming `options.retry.<field>` for a value out of its range
 * @example
 * ```ts
 * checkForwardRetry({ attempts: 3 }); // { attempts: 3, initialDelayMs: 100, multiplier: 2, maxDelayMs: 5000 }
 * ```
 */
export function checkForwardRetry(retry: Partial<ForwardRetry> | undefined): ForwardRetry {
  if (retry === undefined) return DEFAULT_FORWARD_RETRY;
  if (retry === null || typeof retry !== 'object') {
    throw new InvalidError('options.retry', retry, 'pass { attempts?, initialDelayMs?, multiplier?, maxDelayMs? }.');
  }
  const policy = { ...DEFAULT_FORWARD_RETRY, ...retry };
  const { attempts, initialDelayMs, multiplier, maxDelayMs } = policy;
  if (!Number.isSafeInteger(attempts) || attempts < 1) {
    throw new InvalidError(
      'options.retry.attempts',
      attempts,
      'pass a whole number of publishes, 1 (no retry) or more.',
    );
  }
  if (typeof initialDelayMs !== 'number' || !(initialDelayMs >= 0 && initialDelayMs <= MAX_TIMER_MS)) {
    throw new InvalidError('options.retry.initialDelayMs', initialDelayMs, `pass 0 to ${MAX_TIMER_MS} milliseconds.`);
  }
  if (typeof multiplier !== 'number' || !(multiplier >= 1 && Number.isFinite(multiplier))) {
    throw new InvalidError('options.retry.multiplier', multiplier, 'pass a finite number, 1 (constant delay) or more.');
  }
  if (typeof maxDelayMs !== 'number' || !(maxDelayMs >= initialDelayMs && maxDelayMs <= MAX_TIMER_MS)) {
    throw new InvalidError(
      'options.retry.maxDelayMs',
      maxDelayMs,
      `pass at least initialDelayMs (${initialDelayMs}) and at most ${MAX_TIMER_MS} milliseconds.`,
    );
  }
  return Object.freeze(policy);
}

/**
 * The delay before publish number `attempt + 1`, after publish number `attempt` failed.
 *
 * @example
 * ```ts
 * retryDelayMs(DEFAULT_FORWARD_RETRY, 1); // 100
 * retryDelayMs(DEFAULT_FORWARD_RETRY, 3); // 400
 * ```
 */
export function retryDelayMs(policy: ForwardRetry, attempt: number): number {
  return backoffDelayMs(policy, attempt);
}
