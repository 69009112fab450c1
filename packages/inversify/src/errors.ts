/**
 * The errors `@herald/inversify` adds to core's: both extend `HeraldError`, so one `instanceof`
 * still tells Herald's errors from the rest.
 * @module
 */

import { errorText, HeraldError } from '@herald/core';

/**
 * A container's registry was asked to notify before `bootCallbacks(container)` finished. Herald
 * refuses rather than drop the notification: the subscribers it should reach are not subscribed
 * yet.
 *
 * @example
 * ```ts
 * container.load(callbacksModule());
 * await container.get(CallbackRegistry).notify(ROUTER, AFTER_CREATE, this, payload);
 * // rejects with CallbacksNotBootedError: await bootCallbacks(container) first
 * ```
 */
export class CallbacksNotBootedError extends HeraldError {
  /** The resource of the refused notification. */
  readonly resource: unknown;
  /** The event of the refused notification. */
  readonly event: unknown;

  constructor(registryName: string, method: string, resource: unknown, event: unknown) {
    super(
      `CallbackRegistry '${registryName}' was asked to ${method}(${String(resource)}, ${String(event)}) before ` +
        `bootCallbacks(container) finished, so the container's subscribers are not subscribed yet: ` +
        `await bootCallbacks(container) after loading callbacksModule() and binding the subscribers, ` +
        `then send notifications.`,
    );
    this.resource = resource;
    this.event = event;
  }
}

/**
 * `bootCallbacks` could not set up a subscriber: it could not be resolved from the container, or
 * its handlers could not be subscribed. `subscriber` names the service and its handler methods,
 * `handlers` the handlers that fail, as `Class.method`; the message names both. `cause` is the
 * container's or the registry's own error. Nothing that boot run subscribed is left subscribed,
 * and the registry is not marked booted.
 *
 * @example
 * ```ts
 * try {
 *   await bootCallbacks(container);
 * } catch (e) {
 *   if (e instanceof SubscriberBootError) console.error(e.subscriber, e.handlers, e.cause);
 *   // 'RouterLimiter (handlers: limitRouters)' ['RouterLimiter.limitRouters'] Error: No bindings found…
 *   throw e;
 * }
 * ```
 */
export class SubscriberBootError extends HeraldError {
  /** The service that failed and its handlers, e.g. `L3Service (handlers: preventPortDelete)`. */
  readonly subscriber: string;
  /** The handlers that could not be subscribed, as `Class.method`, e.g. `['L3Service.preventPortDelete']`. */
  readonly handlers: readonly string[];

  constructor(subscriber: string, problem: string, hint: string, cause: unknown, handlers: readonly string[] = []) {
    const failing = handlers.length === 0 ? '' : ` (failing handlers: ${handlers.join(', ')})`;
    super(`bootCallbacks(container): ${subscriber} ${problem}${failing}; ${hint}. Cause: ${errorText(cause)}`, {
      cause,
    });
    this.subscriber = subscriber;
    this.handlers = Object.freeze([...handlers]);
  }
}
