/**
 * `@herald/core`: Neutron-style resource-lifecycle callbacks for TypeScript.
 *
 * @example
 * ```ts
 * import { registry, ROUTER, BEFORE_CREATE, DBEventPayload } from '@herald/core';
 * registry.subscribe((payload) => check(payload.latestState), ROUTER, BEFORE_CREATE);
 * await registry.notify(ROUTER, BEFORE_CREATE, 'my-service', new DBEventPayload(ctx, { desiredState: router }));
 * ```
 * @module @herald/core
 */

export * from './events.js';
export * from './resources.js';
export * from './priorities.js';
export * from './payloads.js';
export * from './errors.js';
export * from './types.js';
export * from './registry.js';
export * from './decorators.js';
export * from './wiring.js';
