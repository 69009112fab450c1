/**
 * `@herald/messaging`: Herald across processes. A broker-neutral {@link Transport} with an
 * in-memory default, oslo-style notifications and RPC, and a bridge that carries registry events
 * to other processes.
 * @module @herald/messaging
 */

export * from './transport.js';
export * from './errors.js';
export * from './transport.kit.js';
export * from './memory.transport.js';
export * from './notifier.js';
export * from './rpc.js';
export * from './envelope.js';
export * from './codec.js';
export * from './bridge.js';
export * from './outbox.js';
export * from './signing.js';
export * from './forward-retry.js';
