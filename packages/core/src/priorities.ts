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

/**
 * The priority of a subscription that names none (Neutron's value). Lower runs first.
 *
 * @example
 * ```ts
 * registry.subscribe(validate, ROUTER, BEFORE_CREATE, PRIORITY_DEFAULT - 1000); // before the rest
 * ```
 */
export const PRIORITY_DEFAULT = 55_550_000;

/**
 * Neutron's priority for a router's extended attributes: just before the default, so they are set
 * when the rest run.
 *
 * @example
 * ```ts
 * registry.subscribe(setFlavor, ROUTER, PRECOMMIT_CREATE, PRIORITY_ROUTER_EXTENDED_ATTRIBUTE);
 * ```
 */
export const PRIORITY_ROUTER_EXTENDED_ATTRIBUTE = PRIORITY_DEFAULT - 100;

/**
 * Neutron's default priority for router subscribers (the same as {@link PRIORITY_DEFAULT}).
 *
 * @example
 * ```ts
 * registry.subscribe(checkRoutes, ROUTER, BEFORE_UPDATE, PRIORITY_ROUTER_DEFAULT);
 * ```
 */
export const PRIORITY_ROUTER_DEFAULT = PRIORITY_DEFAULT;

/**
 * Neutron's priority for the router's flavor controller: after the default router subscribers.
 *
 * @example
 * ```ts
 * registry.subscribe(scheduleRouter, ROUTER, PRECOMMIT_CREATE, PRIORITY_ROUTER_CONTROLLER);
 * ```
 */
export const PRIORITY_ROUTER_CONTROLLER = PRIORITY_DEFAULT + 100;

/**
 * Neutron's priority for router drivers: after the controller, last of the router's subscribers.
 *
 * @example
 * ```ts
 * registry.subscribe(configureBackend, ROUTER, PRECOMMIT_CREATE, PRIORITY_ROUTER_DRIVER);
 * ```
 */
export const PRIORITY_ROUTER_DRIVER = PRIORITY_DEFAULT + 200;
