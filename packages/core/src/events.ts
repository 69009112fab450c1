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

/**
 * Sent before a resource is created. A subscriber that throws vetoes it: the subscribers of
 * `abort_create` hear of it, then the trigger gets a `CallbackFailure`.
 *
 * @example
 * ```ts
 * registry.subscribe(checkQuota, ROUTER, BEFORE_CREATE); // throw to refuse
 * ```
 */
export const BEFORE_CREATE = 'before_create';

/**
 * Sent before a resource is read. A subscriber that throws vetoes it: the subscribers of
 * `abort_read` hear of it, then the trigger gets a `CallbackFailure`.
 *
 * @example
 * ```ts
 * registry.subscribe(checkQuota, ROUTER, BEFORE_READ); // throw to refuse
 * ```
 */
export const BEFORE_READ = 'before_read';

/**
 * Sent before a resource is updated. A subscriber that throws vetoes it: the subscribers of
 * `abort_update` hear of it, then the trigger gets a `CallbackFailure`.
 *
 * @example
 * ```ts
 * registry.subscribe(checkQuota, ROUTER, BEFORE_UPDATE); // throw to refuse
 * ```
 */
export const BEFORE_UPDATE = 'before_update';

/**
 * Sent before a resource is deleted. A subscriber that throws vetoes it: the subscribers of
 * `abort_delete` hear of it, then the trigger gets a `CallbackFailure`.
 *
 * @example
 * ```ts
 * registry.subscribe(checkQuota, ROUTER, BEFORE_DELETE); // throw to refuse
 * ```
 */
export const BEFORE_DELETE = 'before_delete';

/**
 * Sent inside the database transaction in which a resource is created. A subscriber that throws
 * rolls the transaction back, and the trigger gets a `CallbackFailure`.
 *
 * @example
 * ```ts
 * registry.subscribe(writeRow, ROUTER, PRECOMMIT_CREATE); // runs in the caller's transaction
 * ```
 */
export const PRECOMMIT_CREATE = 'precommit_create';

/**
 * Sent inside the database transaction in which a resource is updated. A subscriber that throws
 * rolls the transaction back, and the trigger gets a `CallbackFailure`.
 *
 * @example
 * ```ts
 * registry.subscribe(writeRow, ROUTER, PRECOMMIT_UPDATE); // runs in the caller's transaction
 * ```
 */
export const PRECOMMIT_UPDATE = 'precommit_update';

/**
 * Sent inside the database transaction in which a resource is deleted. A subscriber that throws
 * rolls the transaction back, and the trigger gets a `CallbackFailure`.
 *
 * @example
 * ```ts
 * registry.subscribe(writeRow, ROUTER, PRECOMMIT_DELETE); // runs in the caller's transaction
 * ```
 */
export const PRECOMMIT_DELETE = 'precommit_delete';

/**
 * Sent inside the transaction that associates a resource with another (Neutron: e.g. a port with a
 * service). A subscriber that throws rolls it back.
 *
 * @example
 * ```ts
 * registry.subscribe(checkAssociation, PORT, PRECOMMIT_ADD_ASSOCIATION);
 * ```
 */
export const PRECOMMIT_ADD_ASSOCIATION = 'precommit_add_association';

/**
 * Sent inside the transaction that removes a resource's associations. A subscriber that throws
 * rolls it back.
 *
 * @example
 * ```ts
 * registry.subscribe(dropAssociations, PORT, PRECOMMIT_DELETE_ASSOCIATIONS);
 * ```
 */
export const PRECOMMIT_DELETE_ASSOCIATIONS = 'precommit_delete_associations';

/**
 * Sent after a resource was created. A subscriber that throws is logged; the trigger is not told.
 *
 * @example
 * ```ts
 * registry.subscribe(notifyAgents, ROUTER, AFTER_CREATE);
 * ```
 */
export const AFTER_CREATE = 'after_create';

/**
 * Sent after a resource was read. A subscriber that throws is logged; the trigger is not told.
 *
 * @example
 * ```ts
 * registry.subscribe(notifyAgents, ROUTER, AFTER_READ);
 * ```
 */
export const AFTER_READ = 'after_read';

/**
 * Sent after a resource was updated. A subscriber that throws is logged; the trigger is not told.
 *
 * @example
 * ```ts
 * registry.subscribe(notifyAgents, ROUTER, AFTER_UPDATE);
 * ```
 */
export const AFTER_UPDATE = 'after_update';

/**
 * Sent after a resource was deleted. A subscriber that throws is logged; the trigger is not told.
 *
 * @example
 * ```ts
 * registry.subscribe(notifyAgents, ROUTER, AFTER_DELETE);
 * ```
 */
export const AFTER_DELETE = 'after_delete';

/**
 * Sent after a resource's status changed (Neutron: a port that became `ACTIVE`). Failures are
 * logged only.
 *
 * @example
 * ```ts
 * registry.subscribe(reportStatus, PORT, AFTER_STATUS_UPDATE);
 * ```
 */
export const AFTER_STATUS_UPDATE = 'after_status_update';

/**
 * Sent by an API layer before it answers a request; the payload is an `APIEventPayload`.
 *
 * @example
 * ```ts
 * registry.subscribe(addLinks, ROUTER, BEFORE_RESPONSE);
 * ```
 */
export const BEFORE_RESPONSE = 'before_response';

/**
 * Sent by an API layer after it handled a request; the payload is an `APIEventPayload`.
 *
 * @example
 * ```ts
 * registry.subscribe(auditRequest, ROUTER, AFTER_REQUEST);
 * ```
 */
export const AFTER_REQUEST = 'after_request';

/**
 * Sent before a process initialises (Neutron: before the plugin and its workers are set up).
 *
 * @example
 * ```ts
 * registry.subscribe(loadConfig, PROCESS, BEFORE_INIT);
 * ```
 */
export const BEFORE_INIT = 'before_init';

/**
 * Sent before a process starts its workers.
 *
 * @example
 * ```ts
 * registry.subscribe(openSockets, PROCESS, BEFORE_SPAWN);
 * ```
 */
export const BEFORE_SPAWN = 'before_spawn';

/**
 * Sent after a process started its workers.
 *
 * @example
 * ```ts
 * registry.subscribe(startPeriodicTasks, PROCESS, AFTER_SPAWN);
 * ```
 */
export const AFTER_SPAWN = 'after_spawn';

/**
 * Sent after a process finished initialising.
 *
 * @example
 * ```ts
 * registry.subscribe(announceReady, PROCESS, AFTER_INIT);
 * ```
 */
export const AFTER_INIT = 'after_init';

/**
 * Sent when a `before_create` round was vetoed, so that the subscribers that prepared something
 * undo it.
 *
 * @example
 * ```ts
 * registry.subscribe(releaseReservation, ROUTER, ABORT_CREATE);
 * ```
 */
export const ABORT_CREATE = 'abort_create';

/**
 * Sent when a `before_read` round was vetoed, so that the subscribers that prepared something undo
 * it.
 *
 * @example
 * ```ts
 * registry.subscribe(releaseReservation, ROUTER, ABORT_READ);
 * ```
 */
export const ABORT_READ = 'abort_read';

/**
 * Sent when a `before_update` round was vetoed, so that the subscribers that prepared something
 * undo it.
 *
 * @example
 * ```ts
 * registry.subscribe(releaseReservation, ROUTER, ABORT_UPDATE);
 * ```
 */
export const ABORT_UPDATE = 'abort_update';

/**
 * Sent when a `before_delete` round was vetoed, so that the subscribers that prepared something
 * undo it.
 *
 * @example
 * ```ts
 * registry.subscribe(releaseReservation, ROUTER, ABORT_DELETE);
 * ```
 */
export const ABORT_DELETE = 'abort_delete';

/**
 * Sent by an Open vSwitch agent after Open vSwitch restarted, so that its flows are set up again.
 *
 * @example
 * ```ts
 * registry.subscribe(resyncFlows, AGENT, OVS_RESTARTED);
 * ```
 */
export const OVS_RESTARTED = 'ovs_restarted';

/**
 * Prefix of the events a failed `before_*` round is answered with.
 *
 * @example
 * ```ts
 * event.startsWith(ABORT); // an abort_* event
 * ```
 */
export const ABORT = 'abort_';

/**
 * Prefix of the events that can be vetoed before anything is done.
 *
 * @example
 * ```ts
 * event.startsWith(BEFORE); // can be vetoed
 * ```
 */
export const BEFORE = 'before_';

/**
 * Prefix of the events sent inside the database transaction; a failure rolls it back.
 *
 * @example
 * ```ts
 * event.startsWith(PRECOMMIT); // runs in the transaction
 * ```
 */
export const PRECOMMIT = 'precommit_';

/**
 * Every event constant as one frozen object, so that Neutron-style code reads the same:
 * `events.BEFORE_CREATE`.
 *
 * @example
 * ```ts
 * registry.subscribe(checkQuota, ROUTER, events.BEFORE_CREATE);
 * ```
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

/**
 * The abort event that answers a `before_*` event, as a type: `before_x` → `abort_x`.
 *
 * @example
 * ```ts
 * type A = AbortEventFor<'before_delete'>; // 'abort_delete'
 * ```
 */
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
