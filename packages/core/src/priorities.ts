/**
 * Subscription priorities, with the values of Neutron's `priority_group`. Lower runs first;
 * callbacks of equal priority run in the order they were first subscribed.
 *
 * @example
 * ```ts
 * registry.subscribe(validate, ROUTER, BEFORE_CREATE, PRIORITY_DEFAULT - 1000); // runs early
 * ```
 * @module
 */

export const PRIORITY_DEFAULT = 55_550_000;

export const PRIORITY_ROUTER_EXTENDED_ATTRIBUTE = PRIORITY_DEFAULT - 100;
export const PRIORITY_ROUTER_DEFAULT = PRIORITY_DEFAULT;
export const PRIORITY_ROUTER_CONTROLLER = PRIORITY_DEFAULT + 100;
export const PRIORITY_ROUTER_DRIVER = PRIORITY_DEFAULT + 200;
