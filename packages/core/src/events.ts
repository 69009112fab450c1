/**
 * Event names, with the string values of Neutron's `neutron_lib.callbacks.events`.
 *
 * @example
 * ```ts
 * import { BEFORE_CREATE, events } from '@herald/core';
 * BEFORE_CREATE === events.BEFORE_CREATE; // 'before_create'
 * ```
 * @module
 */

export const BEFORE_CREATE = 'before_create';
export const BEFORE_READ = 'before_read';
export const BEFORE_UPDATE = 'before_update';
export const BEFORE_DELETE = 'before_delete';

export const PRECOMMIT_CREATE = 'precommit_create';
export const PRECOMMIT_UPDATE = 'precommit_update';
export const PRECOMMIT_DELETE = 'precommit_delete';
export const PRECOMMIT_ADD_ASSOCIATION = 'precommit_add_association';
export const PRECOMMIT_DELETE_ASSOCIATIONS = 'precommit_delete_associations';

export const AFTER_CREATE = 'after_create';
export const AFTER_READ = 'after_read';
export const AFTER_UPDATE = 'after_update';
export const AFTER_DELETE = 'after_delete';
export const AFTER_STATUS_UPDATE = 'after_status_update';

export const BEFORE_RESPONSE = 'before_response';
export const AFTER_REQUEST = 'after_request';

export const BEFORE_INIT = 'before_init';
export const BEFORE_SPAWN = 'before_spawn';
export const AFTER_SPAWN = 'after_spawn';
export const AFTER_INIT = 'after_init';

export const ABORT_CREATE = 'abort_create';
export const ABORT_READ = 'abort_read';
export const ABORT_UPDATE = 'abort_update';
export const ABORT_DELETE = 'abort_delete';

export const OVS_RESTARTED = 'ovs_restarted';

/** Prefix of the events a failed `before_*` round is answered with. */
export const ABORT = 'abort_';
/** Prefix of the events that can be vetoed before anything is done. */
export const BEFORE = 'before_';
/** Prefix of the events sent inside the database transaction; a failure rolls it back. */
export const PRECOMMIT = 'precommit_';

/**
 * Every event constant as one frozen object, so that Neutron-style code reads the same:
 * `events.BEFORE_CREATE`.
 */
export const events = Object.freeze({
  BEFORE_CREATE,
  BEFORE_READ,
  BEFORE_UPDATE,
  BEFORE_DELETE,
  PRECOMMIT_CREATE,
  PRECOMMIT_UPDATE,
  PRECOMMIT_DELETE,
  PRECOMMIT_ADD_ASSOCIATION,
  PRECOMMIT_DELETE_ASSOCIATIONS,
  AFTER_CREATE,
  AFTER_READ,
  AFTER_UPDATE,
  AFTER_DELETE,
  AFTER_STATUS_UPDATE,
  BEFORE_RESPONSE,
  AFTER_REQUEST,
  BEFORE_INIT,
  BEFORE_SPAWN,
  AFTER_SPAWN,
  AFTER_INIT,
  ABORT_CREATE,
  ABORT_READ,
  ABORT_UPDATE,
  ABORT_DELETE,
  OVS_RESTARTED,
  ABORT,
  BEFORE,
  PRECOMMIT,
} as const);

/**
 * Whether an event can be vetoed by definition: it starts with `before_` or `precommit_`.
 * A failure in a subscriber of such an event reaches the trigger as a `CallbackFailure`.
 *
 * @example
 * ```ts
 * isCancellableEvent('before_delete'); // true
 * isCancellableEvent('after_delete');  // false
 * ```
 */
export function isCancellableEvent(event: string): boolean {
  // Anything but a string starts with neither prefix (callers in plain JavaScript may pass one).
  return typeof event === 'string' && (event.startsWith(BEFORE) || event.startsWith(PRECOMMIT));
}

/** The abort event that answers a `before_*` event: `before_x` → `abort_x`. */
export type AbortEventFor<E extends string> = E extends `${typeof BEFORE}${infer Action}`
  ? `${typeof ABORT}${Action}`
  : undefined;

/**
 * The event sent to subscribers when a `before_*` round failed: only the `before_` prefix is
 * rewritten (`before_create` → `abort_create`); any other event has no abort event (`undefined`).
 *
 * @example
 * ```ts
 * abortEventFor('before_create');        // 'abort_create'
 * abortEventFor('before_before_update'); // 'abort_before_update' (Neutron would rewrite both)
 * abortEventFor('after_create');         // undefined
 * ```
 */
export function abortEventFor<E extends string>(event: E): AbortEventFor<E> {
  return (
    typeof event === 'string' && event.startsWith(BEFORE) ? ABORT + event.slice(BEFORE.length) : undefined
  ) as AbortEventFor<E>;
}
