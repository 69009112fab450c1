/**
 * The transport contract: what every transport (the in-memory default, a broker) provides, and
 * what notifications, RPC and the registry bridge are built on. Addresses follow
 * oslo.messaging's `Target`: a topic, optionally one server of it, or all of them (fanout).
 * @module
 */

/**
 * Where a message goes (oslo.messaging's `Target`).
 *
 * - `{ topic }`: the topic's shared queue; each message goes to one consumer of each group.
 * - `{ topic, server }`: only the consumers listening as that server (host).
 * - `{ topic, fanout: true }`: a copy to every consumer listening with `fanout: true` on the topic.
 *
 * @example
 * ```ts
 * const anyDhcpAgent: Target = { topic: 'dhcp_agent' };
 * const oneHost: Target = { topic: 'dhcp_agent', server: 'host-1' };
 * const everyHost: Target = { topic: 'dhcp_agent', fanout: true };
 * ```
 */
export interface Target {
  /** The service the message is for (e.g. `dhcp_agent`, `notifications.info`): non-empty, no whitespace. */
  readonly topic: string;
  /** One server (host) of the topic. Not together with `fanout`. */
  readonly server?: string;
  /** Every server of the topic gets a copy. */
  readonly fanout?: boolean;
}

/**
 * A message to send. Its body must survive a JSON round trip (it is one, even in memory).
 *
 * @example
 * ```ts
 * await transport.publish({ topic: 'billing' }, { id: `invoice-${invoice.id}-paid`, headers: { traceparent }, body: invoice });
 * ```
 */
export interface OutgoingMessage {
  /**
   * A unique id (default: a random UUID). Consumers of one group handle a given id once: a
   * message published again with the same id is acknowledged without being handled again. While
   * a delivery of the id is in progress, another copy waits for it: dropped if it succeeds,
   * delivered if it fails (across processes on a broker, see its transport's documentation).
   */
  readonly id?: string;
  /** String headers (for example CloudEvents' `ce-id`, `ce-type`, and W3C `traceparent`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Any JSON value. */
  readonly body: unknown;
}

/**
 * A message as a consumer receives it.
 *
 * @example
 * ```ts
 * await transport.consume({ topic: 'billing' }, (delivery) => {
 *   if (delivery.attempt > 1) console.warn(`redelivery ${delivery.attempt} of ${delivery.id}`);
 *   return handle(delivery.body);
 * });
 * ```
 */
export interface Delivery {
  /** The message's id, the same on every copy and every redelivery. */
  readonly id: string;
  /** Where it was published. */
  readonly target: Target;
  /** The message's headers (`{}` when it had none). */
  readonly headers: Readonly<Record<string, string>>;
  /** The body, after its JSON round trip. */
  readonly body: unknown;
  /** 1 on the first delivery, 2 on the first redelivery, and so on. */
  readonly attempt: number;
  /**
   * The broker user that published the message, as the broker checked it: on RabbitMQ, AMQP's
   * `user_id`, which the broker refuses unless it is the user the publishing connection logged in
   * as (`AmqpTransport` sets it on everything it publishes). `undefined` when the publisher did not
   * set it (another client), and on transports without users (`InMemoryTransport`). A registry
   * bridge can tie each source to one (`trustedUsers`).
   *
   * @example
   * ```ts
   * await transport.consume({ topic: 'billing' }, (delivery) => {
   *   if (delivery.brokerUser !== 'billing-api') throw new DeadLetterError(`not from billing-api: ${delivery.brokerUser}`);
   * });
   * ```
   */
  readonly brokerUser?: string;
}

/**
 * Handles one delivery. Returning (or resolving) acknowledges it: at-least-once, the message is
 * only gone once its handler has run. Throwing (or rejecting) requeues it, until the consumer's
 * delivery limit; then it goes to the dead letters. For a request, what it returns is the reply.
 *
 * @example
 * ```ts
 * const handler: DeliveryHandler = async ({ body }) => {
 *   await invoices.apply(body); // throw to requeue
 * };
 * await transport.consume({ topic: 'billing' }, handler);
 * ```
 */
export type DeliveryHandler = (delivery: Delivery) => unknown;

/**
 * Options of {@link Transport.consume}.
 *
 * @example
 * ```ts
 * await transport.consume({ topic: 'notifications.info' }, audit, { group: 'audit', deliveryLimit: 3 });
 * await transport.consume({ topic: 'thumbnails' }, render, { concurrency: 8, retryBackoff: { initialDelayMs: 500 } });
 * ```
 */
export interface ConsumeOptions {
  /**
   * For a `{ topic }` target: consumers of one group share the topic's messages (each message to
   * one of them, in turn), and each group gets its own copy. Default: the topic itself, as
   * oslo's one shared queue per topic. Ignored for `server` and `fanout` targets.
   */
  readonly group?: string;
  /** Deliveries of one message before it is dead-lettered. Default {@link DEFAULT_DELIVERY_LIMIT}. */
  readonly deliveryLimit?: number;
  /**
   * How long a handler may take, in milliseconds. A delivery whose handler has not settled by
   * then fails with `HandlerTimeoutError`: it is retried (or dead-lettered at the limit) like any
   * failure, and the consumer takes its next message. The hung handler itself cannot be stopped:
   * it runs on, and what it returns later is ignored. Default: no limit.
   */
  readonly handlerTimeoutMs?: number;
  /**
   * How long a failed delivery waits before its next attempt (its count is `deliveryLimit`).
   * Meanwhile the consumer takes the messages behind it; the retried one comes back behind them.
   * Default: the transport's (`InMemoryTransport`, `AmqpTransport`: none, an immediate retry).
   */
  readonly retryBackoff?: RetryBackoff;
  /**
   * How many deliveries the consumer handles at once, each settled on its own. 1 (the default)
   * keeps the queue's order; more gives it up: a later message can finish before an earlier one.
   * A broker consumer asks for at least this many messages ahead (its prefetch).
   */
  readonly concurrency?: number;
}

/**
 * When a failed delivery is tried again: the first retry after `initialDelayMs`, each next delay
 * `multiplier` times the one before, never more than `maxDelayMs`. The number of deliveries is the
 * consumer's `deliveryLimit`. A broker transport waits in the broker (see its documentation), so a
 * consumer that crashes meanwhile loses nothing, and the attempt count goes on.
 *
 * @example
 * ```ts
 * // deliveries 2, 3, 4 and 5 after 0.1, 0.2, 0.4 and 0.8 s; then the dead letters
 * await transport.consume({ topic: 'billing' }, charge, {
 *   deliveryLimit: 5,
 *   retryBackoff: { initialDelayMs: 100, multiplier: 2, maxDelayMs: 1_000 },
 * });
 * ```
 */
export interface RetryBackoff {
  /** The delay before the first retry, in milliseconds: 0 (no delay at all) or more. */
  readonly initialDelayMs: number;
  /** What each delay is multiplied by for the next one: 1 (a fixed delay) or more. Default 2. */
  readonly multiplier?: number;
  /**
   * The longest delay, in milliseconds: at least `initialDelayMs`. A backoff may have at most
   * `MAX_RETRY_DELAYS` distinct delays before it reaches it (within `deliveryLimit`). Default
   * {@link DEFAULT_MAX_RETRY_DELAY_MS}, or `initialDelayMs` when that is longer.
   */
  readonly maxDelayMs?: number;
}

/**
 * The default {@link RetryBackoff.maxDelayMs}: one minute.
 *
 * @example
 * ```ts
 * const retryBackoff: RetryBackoff = { initialDelayMs: 1_000, maxDelayMs: DEFAULT_MAX_RETRY_DELAY_MS * 5 };
 * ```
 */
export const DEFAULT_MAX_RETRY_DELAY_MS = 60_000;

/**
 * The default {@link ConsumeOptions.deliveryLimit}.
 *
 * @example
 * ```ts
 * await transport.consume({ topic: 'billing' }, handle, { deliveryLimit: DEFAULT_DELIVERY_LIMIT * 2 });
 * ```
 */
export const DEFAULT_DELIVERY_LIMIT = 5;

/**
 * A consumer, as {@link Transport.consume} returns it.
 *
 * @example
 * ```ts
 * const consumer = await transport.consume({ topic: 'billing' }, handle);
 * await consumer.close(); // after the delivery in progress
 * ```
 */
export interface Consumer {
  /** What it consumes. */
  readonly target: Target;
  /** Stops taking messages; resolves once the deliveries in progress (if any) have been settled. */
  close(): Promise<void>;
}

/**
 * Options of {@link Transport.request}.
 *
 * @example
 * ```ts
 * const reply = await transport.request({ topic: 'l3_agent', server: 'host-1' }, { body: { method: 'sync' } }, { timeoutMs: 5_000 });
 * ```
 */
export interface RequestOptions {
  /** How long to wait for the reply, in milliseconds (a positive number). */
  readonly timeoutMs: number;
}

/**
 * Options of {@link Transport.close}.
 *
 * @example
 * ```ts
 * await transport.close({ drainMs: 1_000 });
 * ```
 */
export interface CloseOptions {
  /** How long to wait for deliveries in progress to finish, in milliseconds. Default 5,000. */
  readonly drainMs?: number;
}

/**
 * A message transport. Implementations: `InMemoryTransport` (this package; no server) and, on
 * RabbitMQ, a broker transport with the same semantics. Bad arguments reject with `InvalidError`;
 * a transport that cannot take a message rejects with `TransportError`.
 *
 * @example
 * ```ts
 * const transport = new InMemoryTransport();
 * await transport.consume({ topic: 'dhcp_agent', server: 'host-1' }, (d) => console.log(d.body));
 * await transport.publish({ topic: 'dhcp_agent', server: 'host-1' }, { body: { method: 'port_create_end' } });
 * ```
 */
export interface Transport {
  /**
   * Send a message. Resolves once the transport holds it (a broker: has confirmed it). A `{ topic }`
   * message waits in the topic's queue for a consumer, a `server` or `fanout` message reaches the
   * consumers listening at the time (as with oslo, nobody listening means nobody receives it).
   */
  publish(target: Target, message: OutgoingMessage): Promise<void>;
  /** Start consuming `target`; resolves once the consumer is listening. */
  consume(target: Target, handler: DeliveryHandler, options?: ConsumeOptions): Promise<Consumer>;
  /**
   * Send a message to one consumer of `target` and wait for what its handler returns. Rejects
   * with `CallTimeoutError` when no reply comes within `timeoutMs`, and with `RemoteError` when
   * the handler threw (a request is not requeued: the caller decides whether to retry).
   */
  request(target: Target, message: OutgoingMessage, options: RequestOptions): Promise<Delivery>;
  /**
   * Refuse new messages, let the deliveries in progress finish (up to `drainMs`), then stop every
   * consumer and reject every pending request with `TransportError`.
   */
  close(options?: CloseOptions): Promise<void>;
}

/**
 * A transport that can tell when it is quiet: every message it took has been handled. Tests and
 * demos wait on `idle()` instead of sleeping. `InMemoryTransport` knows exactly; `AmqpTransport`
 * knows for consumers in its own process.
 *
 * @example
 * ```ts
 * async function settle(transport: IdleTransport) { await transport.idle(); }
 * ```
 */
export interface IdleTransport extends Transport {
  /** Resolves once nothing is queued for, or running in, this transport's consumers. */
  idle(): Promise<void>;
}

/**
 * Options of a transport's `replayDeadLetters` (`InMemoryTransport`, `AmqpTransport`).
 *
 * @example
 * ```ts
 * await transport.replayDeadLetters({ id: 'port-42-created' }); // one
 * await transport.replayDeadLetters();                          // all
 * ```
 */
export interface ReplayOptions {
  /** Only the dead letters of this message id. Default: all. */
  readonly id?: string;
}
