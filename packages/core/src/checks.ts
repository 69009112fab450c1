/**
 * The registry's checks of its arguments (rule 3 in docs/concepts.md): each throws an
 * `InvalidError` that names the value and says what to pass, before anything changes.
 * @module
 */

import { InvalidError } from './errors.js';
import { EventPayload } from './payloads.js';
import { PRIORITY_DEFAULT } from './priorities.js';
import { DEFAULT_TERMS, DERIVED_ID, type Terms } from './subscriptions.js';

/**
 * Options of one subscription. A number is the priority.
 *
 * @example
 * ```ts
 * const options: SubscribeOptions = { priority: PRIORITY_DEFAULT - 10, cancellable: true, owner: l3 };
 * registry.subscribe(l3.checkGateway, ROUTER, AFTER_UPDATE, options);
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

export function checkName(element: 'resource' | 'event', value: unknown): asserts value is string {
  if (typeof value !== 'string' || value === '') {
    const example = element === 'resource' ? "'router'" : "'before_create'";
    throw new InvalidError(element, value, `pass the ${element} name as a non-empty string, e.g. ${example}.`);
  }
}

export function checkCallback(callback: unknown): asserts callback is Function {
  if (typeof callback !== 'function')
    throw new InvalidError('callback', callback, 'pass a function (payload, notification) => void | Promise<void>.');
}

export function checkOwner(owner: unknown): asserts owner is object | undefined {
  if (owner !== undefined && (owner === null || (typeof owner !== 'object' && typeof owner !== 'function')))
    throw new InvalidError(
      'owner',
      owner,
      'pass the object the callback is called with (a service instance), or leave it out.',
    );
}

export function checkPayload(payload: unknown): asserts payload is EventPayload | undefined {
  if (payload !== undefined && !(payload instanceof EventPayload))
    throw new InvalidError(
      'payload',
      payload,
      'pass undefined or an EventPayload (EventPayload, DBEventPayload, APIEventPayload).',
    );
}

function checkPriority(priority: unknown): asserts priority is number {
  if (typeof priority !== 'number' || !Number.isFinite(priority))
    throw new InvalidError('priority', priority, 'pass a finite number (lower runs first).');
}

/** The terms that `subscribe`'s options give, after checking every option (the owner too). */
export function termsOf(options: number | SubscribeOptions): Terms {
  if (typeof options === 'number') {
    checkPriority(options);
    return { priority: options, cancellable: false, id: undefined };
  }
  if (options === null || typeof options === 'function')
    throw new InvalidError('options', options, 'pass a priority number or { priority, cancellable, owner, id }.');
  // A string, a boolean or a bigint where Neutron-style code passes the priority.
  if (typeof options !== 'object') checkPriority(options);
  const { priority = PRIORITY_DEFAULT, cancellable = false, owner, id } = options;
  checkPriority(priority);
  if (typeof cancellable !== 'boolean') throw new InvalidError('cancellable', cancellable, 'pass true or false.');
  checkOwner(owner);
  if (id !== undefined && (typeof id !== 'string' || id === '' || DERIVED_ID.test(id)))
    throw new InvalidError(
      'id',
      id,
      "pass a non-empty string that does not end in '#<digits>' (those ids are derived by the registry).",
    );
  const plain = priority === PRIORITY_DEFAULT && !cancellable && id === undefined;
  return plain ? DEFAULT_TERMS : { priority, cancellable, id };
}
