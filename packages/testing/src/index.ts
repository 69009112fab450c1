/**
 * `@herald/testing`: isolated registries, a notification recorder and (in `@herald/testing/jest`)
 * Jest matchers for code built on Herald.
 *
 * @example
 * ```ts
 * import { isolateDefaultRegistry, recordNotifications } from '@herald/testing';
 * using isolated = isolateDefaultRegistry();
 * const recorder = recordNotifications(isolated.registry);
 * await createRouter();
 * recorder.trace(); // ['router before_create', 'router precommit_create', 'router after_create']
 * ```
 * @module
 */

export * from './isolation.js';
export * from './recorder.js';
export * from './matchers.js';
export * from './container.js';
