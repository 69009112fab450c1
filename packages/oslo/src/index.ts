/**
 * `@herald/oslo`: Herald on oslo.messaging's RabbitMQ wire format, so that Herald's notifiers,
 * listeners, RPC clients and servers talk with OpenStack's Python services.
 * @module @herald/oslo
 */

export * from './oslo.transport.js';
export * from './topology.js';
export * from './wire.js';
export * from './failure.js';
