/**
 * `@herald/testing`: isolated registries, a notification recorder, a test container and Jest
 * matchers for code built on Herald. Importing it registers the matchers with the test runner's
 * global `expect`, when there is one (`@herald/testing/jest` does it with `@jest/globals`).
 *
 * @example
 * ```ts
 * import { isolateDefaultRegistry, recordNotifications } from '@herald/testing';
 * using isolated = isolateDefaultRegistry();
 * const recorder = recordNotifications(isolated.registry);
 * await createRouter();
 * recorder.trace(); // ['router before_create', 'router precommit_create', 'router after_create']
 * ```
 * @module @herald/testing
 */

import { heraldMatchers } from './matchers.js';

export * from './isolation.js';
export * from './recorder.js';
export * from './matchers.js';
export * from './container.js';

// Jest (with its default injectGlobals) and Vitest put `expect` on the global object.
const globalExpect = (globalThis as { expect?: { extend?: unknown } }).expect;
if (typeof globalExpect?.extend === 'function') (globalExpect as { extend(m: object): void }).extend(heraldMatchers);
