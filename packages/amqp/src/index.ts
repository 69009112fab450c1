/**
 * `@herald/amqp`: the `@herald/messaging` {@link @herald/messaging!Transport} on RabbitMQ, through amqplib. Every
 * notifier, RPC client or server and registry bridge runs on it unchanged.
 * @module @herald/amqp
 */

export * from './amqp.transport.js';
export {
  DEFAULT_AMQP_URL,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_MESSAGE_BYTES,
  type AmqpTransportOptions,
  type QueueType,
} from './options.js';
export * from './errors.js';
export { MAX_NAME_BYTES, RESERVED_HEADER_PREFIX } from './topology.js';
