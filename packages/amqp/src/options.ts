/**
 * What an {@link AmqpTransport} is configured with: its public options and their defaults, and
 * the checked settings its parts share. Checking happens once, here, when the transport is made,
 * so that every part can read a setting without checking it again.
 * @module
 */

import { InvalidError, type Logger } from '@herald/core';
import {
  checkDeduplicationWindow,
  checkDeliveryLimit,
  checkLogger,
  checkMaxQueueLength,
  checkRetryBackoff,
  DEFAULT_DEDUPLICATION_WINDOW,
  DEFAULT_DELIVERY_LIMIT,
  MAX_TIMER_MS,
  type RetryBackoff,
} from '@herald/messaging';
import { Topology, userOfUrl } from './topology.js';

/**
 * The default {@link AmqpTransportOptions.url}: a broker on this machine, as guest.
 *
 * @example
 * ```ts
 * const transport = await AmqpTransport.connect({ url: process.env.HERALD_AMQP_URL ?? DEFAULT_AMQP_URL });
 * ```
 */
export const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

/**
 * The default {@link AmqpTransportOptions.connectTimeoutMs}.
 *
 * @example
 * ```ts
 * await AmqpTransport.connect({ url, connectTimeoutMs: 3 * DEFAULT_CONNECT_TIMEOUT_MS }); // a slow broker
 * ```
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * The default {@link AmqpTransportOptions.maxMessageBytes}: 16 MiB, RabbitMQ 4's default
 * `max_message_size` (3.8 to 3.13 allow 128 MiB).
 *
 * @example
 * ```ts
 * await AmqpTransport.connect({ url, maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES / 4 }); // a broker set to 4 MiB
 * ```
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * The kinds of durable queue the transport declares (see {@link AmqpTransportOptions.queueType}).
 *
 * @example
 * ```ts
 * const queueType: QueueType = 'classic'; // a single-node broker
 * await AmqpTransport.connect({ url, queueType });
 * ```
 */
export type QueueType = 'quorum' | 'classic';

/**
 * Options of an {@link AmqpTransport}.
 *
 * @example
 * ```ts
 * const transport = await AmqpTransport.connect({
 *   url: 'amqp://guest:guest@127.0.0.1:5672',
 *   namespace: 'billing',
 *   connectTimeoutMs: 30_000,
 *   logger: console,
 * });
 * ```
 */
export interface AmqpTransportOptions {
  /** The broker, as an AMQP URL. Default {@link DEFAULT_AMQP_URL}. */
  readonly url?: string;
  /**
   * The prefix of the exchange and queue names (see the table in `topology.ts`): applications
   * that share a broker but must not see each other's messages use different namespaces.
   * Non-empty, no whitespace. Default `herald`.
   */
  readonly namespace?: string;
  /** The delivery limit of consumers that set none. Default {@link DEFAULT_DELIVERY_LIMIT}. */
  readonly deliveryLimit?: number;
  /**
   * The retry backoff of consumers that set none. A failed delivery then waits in the broker: it
   * is published to a delay queue (`<namespace>.retry.<delay>ms`, one per distinct delay, of
   * `queueType`, with that delay as its message TTL), which dead-letters it back to the back of
   * its queue; its attempt count travels with it, so a consumer that crashes meanwhile loses
   * nothing. Default: none (a failed delivery goes to the back of its queue at once).
   */
  readonly retryBackoff?: RetryBackoff;
  /**
   * How many acknowledged ids each queue's consumers in this process remember, to drop a
   * duplicate. A duplicate that reaches one of them while another is handling its id waits,
   * unacknowledged, for that delivery: dropped if it succeeds, handled if it fails. 0 turns
   * deduplication off. Default {@link DEFAULT_DEDUPLICATION_WINDOW}.
   */
  readonly deduplicationWindow?: number;
  /**
   * How long an operation waits for the broker when it is unreachable (connecting, or
   * reconnecting after a loss) before it rejects with `TransportError`. Default
   * {@link DEFAULT_CONNECT_TIMEOUT_MS}.
   */
  readonly connectTimeoutMs?: number;
  /**
   * Delete group and server queues the broker has seen unused (no consumer, no declaration) for
   * this long (RabbitMQ's `x-expires`). Default: never. Every process sharing a queue must pass
   * the same value, since RabbitMQ refuses to declare a queue again with other arguments.
   */
  readonly queueExpiresMs?: number;
  /** Where dead letters, reconnections and refused messages are reported. */
  readonly logger?: Logger;
  /** The connection's name in the broker's management tools. Default `herald`. */
  readonly connectionName?: string;
  /**
   * How many unacknowledged messages the broker may send each consumer ahead (AMQP's `basic.qos`).
   * A consumer still handles one at a time (or up to its `concurrency`, which raises its own
   * prefetch to at least that); more ahead saves a round trip per message, but a consumer that
   * holds messages keeps them from the other consumers of its group until it is done with them.
   * Default 1.
   */
  readonly prefetch?: number;
  /**
   * The most messages a queue holds (RabbitMQ's `x-max-length`, dropping the oldest). Keeps a topic
   * nobody consumes from growing without end. Like `queueExpiresMs`, every process sharing a queue
   * must pass the same value. Default: no limit.
   */
  readonly maxQueueLength?: number;
  /**
   * The kind of the durable queues (group, server and dead-letter queues). `quorum` (the default):
   * the broker counts the deliveries of each message, also those whose consumer crashed before it
   * settled them, so a message that kills its consumer is dead-lettered after the delivery limit
   * instead of looping forever (`x-delivery-limit`); they need RabbitMQ 3.8 or later. `classic`:
   * faster on one node, but a delivery whose consumer crashed is counted as its second, at most,
   * however often it crashes. Every process sharing a queue must pass the same value (RabbitMQ
   * refuses to declare a queue again as another kind).
   */
  readonly queueType?: QueueType;
  /**
   * The largest message (its body as JSON, in UTF-8 bytes) that `publish` and `request` send; a
   * larger one is refused with `MessageTooLargeError`, and only that one. Keep it at or below the
   * broker's `max_message_size`: above it, the broker closes the publishing channel (the transport
   * then sends the other messages again). Default {@link DEFAULT_MAX_MESSAGE_BYTES}.
   */
  readonly maxMessageBytes?: number;
  /**
   * Topics whose consumers all use a group, such as the `<topic>.<priority>` topics of
   * notification listeners that all have a pool: a publish to one of them does not declare the
   * topic's default queue, which nobody would consume and which would grow without end. Each
   * message goes to the group queues that exist (a group's queue is durable: it keeps messages
   * from the first time a consumer of the group started); when there is none yet, the broker
   * returns it and the transport logs it as dropped. A consumer without a group still declares
   * the default queue when it starts, and gets what is published from then on; a request still
   * declares it (its server consumes there). An entry is a topic (`notifications.info`), or a
   * prefix ending in `*` (`notifications.*`). Default: none: a publish to a topic declares its
   * default queue, so that a consumer without a group that starts later gets what it missed, as
   * oslo.messaging's notifier does.
   *
   * @example
   * ```ts
   * // Every NotificationListener on `notifications` has a pool (audit, billing…).
   * const transport = await AmqpTransport.connect({ url, pooledTopics: ['notifications.*'] });
   * ```
   */
  readonly pooledTopics?: readonly string[];
}

/** The options of a transport, checked, with their defaults filled in. */
export interface Settings {
  readonly url: string;
  readonly topology: Topology;
  readonly deliveryLimit: number;
  readonly retryBackoff: Required<RetryBackoff> | undefined;
  readonly deduplicationWindow: number;
  readonly connectTimeoutMs: number;
  readonly queueExpiresMs: number | undefined;
  readonly logger: Logger | undefined;
  readonly connectionName: string;
  readonly prefetch: number;
  readonly maxQueueLength: number;
  readonly queueType: QueueType;
  readonly maxMessageBytes: number;
  /** Whether a topic is one of `pooledTopics`. */
  readonly isPooled: (topic: string) => boolean;
  /** The user the connection logs in as: the `user_id` of what it publishes. */
  readonly user: string | undefined;
}

/**
 * The settings of `options`.
 *
 * @throws InvalidError for options that are not an object, a bad URL, namespace, limit, window,
 *   timeout or logger
 */
export function settingsOf(options: AmqpTransportOptions): Settings {
  if (options === null || typeof options !== 'object') {
    throw new InvalidError('options', options, 'pass { url, namespace, deliveryLimit, … } or nothing.');
  }
  const {
    url = DEFAULT_AMQP_URL,
    namespace = 'herald',
    deliveryLimit = DEFAULT_DELIVERY_LIMIT,
    deduplicationWindow = DEFAULT_DEDUPLICATION_WINDOW,
    connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS,
    queueExpiresMs,
    logger,
    connectionName = 'herald',
    prefetch = 1,
    maxQueueLength = Infinity,
    queueType = 'quorum',
    maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
    retryBackoff,
    pooledTopics = [],
  } = options;
  if (typeof url !== 'string' || !/^amqps?:\/\//.test(url)) {
    // The value is named without its password.
    const shown = typeof url === 'string' ? redact(url) : url;
    throw new InvalidError('options.url', shown, "pass an AMQP URL such as 'amqp://guest:guest@127.0.0.1:5672'.");
  }
  if (typeof namespace !== 'string' || namespace === '' || /\s/.test(namespace) || namespace.length > 100) {
    throw new InvalidError(
      'options.namespace',
      namespace,
      'pass a non-empty string without whitespace, up to 100 characters.',
    );
  }
  checkDeliveryLimit('options.deliveryLimit', deliveryLimit);
  const checkedBackoff =
    retryBackoff === undefined ? undefined : checkRetryBackoff('options.retryBackoff', retryBackoff);
  checkDeduplicationWindow('options.deduplicationWindow', deduplicationWindow);
  checkMilliseconds('options.connectTimeoutMs', connectTimeoutMs);
  if (queueExpiresMs !== undefined) checkMilliseconds('options.queueExpiresMs', queueExpiresMs);
  checkLogger('options.logger', logger);
  checkMaxQueueLength('options.maxQueueLength', maxQueueLength);
  if (!Number.isSafeInteger(prefetch) || prefetch < 1 || prefetch > 65_535) {
    throw new InvalidError('options.prefetch', prefetch, 'pass a whole number of messages from 1 to 65535.');
  }
  if (queueType !== 'quorum' && queueType !== 'classic') {
    throw new InvalidError('options.queueType', queueType, "pass 'quorum' (the default) or 'classic'.");
  }
  if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < 1) {
    throw new InvalidError(
      'options.maxMessageBytes',
      maxMessageBytes,
      "pass a whole number of bytes, 1 or more, at most the broker's max_message_size.",
    );
  }
  if (typeof connectionName !== 'string') {
    throw new InvalidError('options.connectionName', connectionName, 'pass a string, or leave it out.');
  }
  const isPooled = topicMatcher('options.pooledTopics', pooledTopics);
  let user: string | undefined;
  try {
    user = userOfUrl(url);
  } catch {
    throw new InvalidError('options.url', redact(url), "pass an AMQP URL such as 'amqp://guest:guest@127.0.0.1:5672'.");
  }
  return Object.freeze({
    url,
    topology: new Topology(namespace),
    deliveryLimit,
    retryBackoff: checkedBackoff,
    deduplicationWindow,
    connectTimeoutMs,
    queueExpiresMs,
    logger,
    connectionName,
    prefetch,
    maxQueueLength,
    queueType,
    maxMessageBytes,
    isPooled,
    user,
  });
}

/**
 * Whether a topic is one of `patterns` (a topic, or a prefix ending in `*`).
 *
 * @throws InvalidError naming `element[i]` for an entry that is not a topic or such a prefix
 */
function topicMatcher(element: string, patterns: unknown): (topic: string) => boolean {
  if (!Array.isArray(patterns)) {
    throw new InvalidError(
      element,
      patterns,
      "pass an array of topics or prefixes ending in '*', e.g. ['notifications.*'].",
    );
  }
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const [index, pattern] of (patterns as unknown[]).entries()) {
    if (
      typeof pattern !== 'string' ||
      pattern === '' ||
      /\s/.test(pattern) ||
      (pattern.includes('*') && pattern.indexOf('*') !== pattern.length - 1)
    ) {
      throw new InvalidError(
        `${element}[${index}]`,
        pattern,
        "pass a topic without whitespace ('notifications.info'), or a prefix ending in '*' ('notifications.*').",
      );
    }
    if (pattern.endsWith('*')) prefixes.push(pattern.slice(0, -1));
    else exact.add(pattern);
  }
  return (topic) => exact.has(topic) || prefixes.some((prefix) => topic.startsWith(prefix));
}

function checkMilliseconds(element: string, value: unknown): void {
  if (typeof value !== 'number' || !(value > 0) || value > MAX_TIMER_MS) {
    throw new InvalidError(element, value, `pass a number of milliseconds above 0, up to ${MAX_TIMER_MS}.`);
  }
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}
