/**
 * The RabbitMQ transport: the `@herald/messaging` {@link @herald/messaging!Transport} contract on a broker, through
 * amqplib. What it adds to oslo.messaging's RabbitMQ driver:
 *
 * - `publish` resolves once the broker confirmed the message (publisher confirms) and rejects
 *   with `TransportError` when the broker stays unreachable for `connectTimeoutMs`;
 * - a delivery is acknowledged after its handler ran (at-least-once; several in one frame where
 *   that is safe, see `acknowledger.ts`); a failed one is published again, to the back of its
 *   queue (after its retry backoff, in a delay queue of the broker), with its attempt counted in
 *   a header, and after the consumer's delivery limit it goes to the namespace's dead-letter queue;
 * - each queue's consumers in this process drop a message id they already acknowledged, and
 *   hold a copy of an id that one of them is handling until that delivery settles (dropped if it
 *   succeeded, handled if it failed);
 * - the connection is re-opened after it is lost (a broker restart), with backoff, and the
 *   exchange, queues and consumers are declared again; a publish waiting for its confirm is
 *   sent again on the new connection (its id lets consumers drop the duplicate);
 * - `close` lets the deliveries in progress finish before it closes the connection;
 * - what it publishes carries AMQP's `user_id` (its URL's user), which the broker checks, and
 *   consumers get as `Delivery.brokerUser`.
 *
 * Names and routing keys are in `topology.ts`.
 * @module
 */

import { randomUUID } from 'node:crypto';
import { errorText, InvalidError, type Logger } from '@herald/core';
import {
  checkCloseOptions,
  checkConsumeOptions,
  checkDeduplicationWindow,
  checkDeliveryLimit,
  checkLogger,
  checkMaxQueueLength,
  checkMessage,
  checkReplayOptions,
  checkRequest,
  checkRetryBackoff,
  checkTarget,
  DeadLetterError,
  DEFAULT_DEDUPLICATION_WINDOW,
  DEFAULT_DELIVERY_LIMIT,
  describeTarget,
  IdWindow,
  PendingReply,
  MAX_TIMER_MS,
  RemoteError,
  backoffDelayMs,
  replyOf,
  retryDelaysMs,
  timeLimited,
  TransportError,
  warn,
  type CheckedMessage,
  type CloseOptions,
  type ConsumeOptions,
  type Consumer,
  type DeadLetter,
  type Delivery,
  type DeliveryHandler,
  type IdleTransport,
  type OutgoingMessage,
  type Outcome,
  type ReplayOptions,
  type RequestOptions,
  type RetryBackoff,
  type Target,
} from '@herald/messaging';
import {
  connect,
  type Channel,
  type ChannelModel,
  type ConsumeMessage,
  type GetMessage,
  type Message,
  type Options,
} from 'amqplib';
import { Acknowledger, type TrackedDelivery } from './acknowledger.js';
import { MessageTooLargeError, QueueUnavailableError } from './errors.js';
import { Publisher } from './publisher.js';
import {
  ATTEMPT_HEADER,
  boundedErrorText,
  brokerUserOf,
  checkUserHeaders,
  DEAD_ERROR_HEADER,
  DEAD_GROUP_HEADER,
  DEAD_QUEUE_HEADER,
  DEAD_TRUNCATED_HEADER,
  decodeTarget,
  DELIVERY_COUNT_HEADER,
  encodeTarget,
  headersOfCopy,
  REPLY_HEADER,
  TARGET_HEADER,
  Topology,
  USER_HEADER,
  userHeaders,
  userOfUrl,
} from './topology.js';

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

/** RabbitMQ's queue for direct reply-to: replies come straight back on the requesting channel. */
const REPLY_TO = 'amq.rabbitmq.reply-to';

/** How many routing keys' targets a consumer remembers (see `#deliveryOf`). */
const MAX_CACHED_TARGETS = 64;

/** Reconnection backoff: the first delay, doubled up to the last. */
const FIRST_RETRY_MS = 100;
const LAST_RETRY_MS = 5_000;

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

/** One connection to the broker and its channels; replaced when the connection is lost. */
interface Link {
  readonly model: ChannelModel;
  /** Publishes with confirms (messages, retries, dead letters). */
  readonly publisher: Publisher;
  /** Sends requests and receives their replies (direct reply-to). */
  readonly requester: Channel;
  /** Declares the default group queues that publishes to a topic need (opened when first needed). */
  admin: Promise<Channel> | undefined;
  /** Per topic, the declaration of its default group queue on this connection. */
  readonly declared: Map<string, Promise<void>>;
  /** The topics whose declaration there has succeeded. */
  readonly ready: Set<string>;
  lost: boolean;
  /** Resolves once the connection is lost or closed. */
  readonly gone: Promise<void>;
}

/** A request waiting for its reply, with the id the reply's delivery gets. */
class PendingRequest extends PendingReply {
  /** Whether it was handed to the broker; until then a timeout means the broker was unreachable. */
  sent = false;

  constructor(
    readonly id: string,
    target: Target,
    timeoutMs: number,
    settled: () => void,
    private readonly unreachable: () => TransportError,
  ) {
    super(target, timeoutMs, settled);
  }

  protected override timeoutError(timeoutMs: number): Error {
    return this.sent ? super.timeoutError(timeoutMs) : this.unreachable();
  }
}

/**
 * The {@link @herald/messaging!Transport} on RabbitMQ. Create it with {@link AmqpTransport.connect}, which resolves
 * once the broker accepted the connection.
 *
 * @example
 * ```ts
 * const transport = await AmqpTransport.connect({ url: 'amqp://guest:guest@rabbit:5672', logger: console });
 * const agent = new RpcServer(transport, { topic: 'dhcp_agent', server: 'host-1' }, [endpoint]);
 * await agent.start();
 * // …
 * await transport.close({ drainMs: 10_000 });
 * ```
 */
export class AmqpTransport implements IdleTransport {
  readonly #url: string;
  readonly #topology: Topology;
  readonly #deliveryLimit: number;
  readonly #retryBackoff: Required<RetryBackoff> | undefined;
  readonly #window: number;
  readonly #connectTimeoutMs: number;
  readonly #queueExpiresMs: number | undefined;
  readonly #logger: Logger | undefined;
  readonly #connectionName: string;
  readonly #prefetch: number;
  readonly #maxQueueLength: number;
  readonly #queueType: QueueType;
  readonly #maxMessageBytes: number;
  readonly #pooledTopics: (topic: string) => boolean;
  /** The user the connection logs in as: the `user_id` of what it publishes. */
  readonly #user: string | undefined;

  #link: Link | undefined = undefined;
  /** Waiting for the next link (or the broker's refusal of the credentials). */
  #linkWaiters: ((next: Link | TransportError) => void)[] = [];
  /** The broker refused the credentials at the last attempt: operations fail at once meanwhile. */
  #refused: TransportError | undefined = undefined;
  #lastError: unknown = undefined;
  readonly #consumers = new Set<AmqpConsumer>();
  /** Per queue, the ids its consumers here acknowledged, and those they are handling. */
  readonly #seen = new Map<string, Seen>();
  readonly #requests = new Map<string, PendingRequest>();
  /** The deliveries whose handler (and settlement) is running. */
  readonly #running = new Map<Ahead, Promise<void>>();
  /** The publishes waiting for the broker's confirm. */
  readonly #publishing = new Set<Promise<void>>();
  #closing: Promise<void> | undefined = undefined;
  #retryTimer: NodeJS.Timeout | undefined = undefined;
  #wakeRetry: (() => void) | undefined = undefined;

  /**
   * Connects to the broker, retrying with backoff for up to `connectTimeoutMs`.
   *
   * @throws InvalidError for bad options; TransportError when the broker stays unreachable
   * @example
   * ```ts
   * const transport = await AmqpTransport.connect({ url: process.env.AMQP_URL });
   * ```
   */
  static async connect(options: AmqpTransportOptions = {}): Promise<AmqpTransport> {
    const transport = new AmqpTransport(options);
    try {
      await transport.#whenLinked(Date.now() + transport.#connectTimeoutMs, 'connect');
    } catch (error) {
      await transport.close({ drainMs: 0 });
      throw error;
    }
    return transport;
  }

  /**
   * Starts connecting in the background; operations wait for the connection (up to
   * `connectTimeoutMs`). {@link AmqpTransport.connect} also waits for it.
   *
   * @throws InvalidError for options that are not an object, a bad URL, namespace, limit,
   *   window, timeout or logger
   */
  constructor(options: AmqpTransportOptions = {}) {
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
    this.#retryBackoff =
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
    this.#url = url;
    this.#topology = new Topology(namespace);
    this.#deliveryLimit = deliveryLimit;
    this.#window = deduplicationWindow;
    this.#connectTimeoutMs = connectTimeoutMs;
    this.#queueExpiresMs = queueExpiresMs;
    this.#logger = logger;
    this.#connectionName = connectionName;
    this.#prefetch = prefetch;
    this.#maxQueueLength = maxQueueLength;
    this.#queueType = queueType;
    this.#maxMessageBytes = maxMessageBytes;
    this.#pooledTopics = topicMatcher('options.pooledTopics', pooledTopics);
    try {
      this.#user = userOfUrl(url);
    } catch {
      throw new InvalidError(
        'options.url',
        redact(url),
        "pass an AMQP URL such as 'amqp://guest:guest@127.0.0.1:5672'.",
      );
    }
    void this.#maintain();
  }

  /** The queue where messages that failed on every delivery go. */
  get deadLetterQueue(): string {
    return this.#topology.deadLetterQueue;
  }

  /**
   * Send `message` to `target` (see {@link @herald/messaging!Transport.publish}). Resolves once the broker confirmed
   * it. Messages to a topic or a server are persistent: they survive a broker restart.
   *
   * @throws InvalidError for a bad target or message (also a header starting with `x-herald-`,
   *   or a name too long for AMQP): nothing is sent; MessageTooLargeError (an InvalidError) for a
   *   body above `maxMessageBytes`; TransportError once closing, when the broker refused this
   *   message, stayed unreachable for `connectTimeoutMs`, or did not confirm it within
   *   `connectTimeoutMs` while connected (a quorum queue without a leader; it may still arrive)
   * @example
   * ```ts
   * await transport.publish({ topic: 'dhcp_agent', server: 'host-1' }, { body: { method: 'port_create_end' } });
   * ```
   */
  async publish(target: Target, message: OutgoingMessage): Promise<void> {
    const address = checkTarget(target);
    const checked = checkMessage(message);
    checkUserHeaders(checked.headers);
    this.#topology.checkFits(address);
    const body = this.#bodyOf(checked);
    this.#checkOpen('publish');
    const topic = address.server === undefined && address.fanout !== true;
    const pooled = topic && this.#pooledTopics(address.topic);
    const properties: Options.Publish = {
      messageId: checked.id,
      userId: this.#user,
      // The routing key says where it went: no header to encode unless the publisher set some.
      ...(hasKeys(checked.headers) && { headers: checked.headers }),
      persistent: address.fanout !== true,
      // A cast to a server nobody serves, or a message to a pooled topic no group consumes yet,
      // comes back, to be reported (see the publisher's onReturn).
      mandatory: address.server !== undefined || pooled,
      contentType: 'application/json',
    };
    const routingKey = this.#topology.routingKey(address);
    const send = (link: Link): Promise<void> => confirmed(link, this.#topology.exchange, routingKey, body, properties);
    const publishing = this.#withLink(Date.now() + this.#connectTimeoutMs, (link) =>
      // A broker that is connected but does not answer (a quorum queue without a leader holds the
      // confirm for a minute or more) must not hold the publish for ever.
      within(
        this.#connectTimeoutMs,
        () => this.#unconfirmed(address, checked.id),
        () =>
          // Once the topic's queue is declared on this connection, no wait for it (the usual case).
          !topic || pooled || link.ready.has(address.topic)
            ? send(link)
            : this.#declareDefaultQueue(link, address.topic).then(() => send(link)),
      ),
    );
    this.#publishing.add(publishing);
    try {
      await publishing;
    } finally {
      this.#publishing.delete(publishing);
    }
  }

  #unconfirmed(target: Target, id: string): TransportError {
    return new TransportError(
      `The broker did not confirm message ${id} to ${describeTarget(target)} within ${this.#connectTimeoutMs} ms (connectTimeoutMs), though connected: a queue it goes to is not answering (a quorum queue without a leader?). It may still arrive: publishing it again is safe, its consumers drop the duplicate by id.`,
    );
  }

  /** The body of `message` as bytes; refuses one above `maxMessageBytes`. */
  #bodyOf(message: CheckedMessage): Buffer {
    const body = Buffer.from(message.json);
    if (body.length > this.#maxMessageBytes) throw new MessageTooLargeError(body.length, this.#maxMessageBytes);
    return body;
  }

  /**
   * Start consuming `target` (see {@link @herald/messaging!Transport.consume}); resolves once the broker registered
   * the consumer. Each consumer has its own channel and takes one delivery at a time (or up to
   * its `concurrency`); the delay queues its retry backoff needs are declared first.
   *
   * @throws InvalidError for a bad target, handler or options; TransportError once closing, when
   *   the broker refused the queue (declared before with other arguments), or stayed unreachable;
   *   QueueUnavailableError (a TransportError) naming the queue when the broker did not answer its
   *   declaration or the consumer's registration within `connectTimeoutMs` (a quorum queue
   *   without a leader)
   * @example
   * ```ts
   * const consumer = await transport.consume({ topic: 'notifications.info' }, onEvent, { group: 'audit' });
   * ```
   */
  async consume(target: Target, handler: DeliveryHandler, options: ConsumeOptions = {}): Promise<Consumer> {
    const address = checkTarget(target);
    if (typeof handler !== 'function') {
      throw new InvalidError('handler', handler, 'pass a function (delivery) => unknown.');
    }
    const { group, deliveryLimit, handlerTimeoutMs, retryBackoff, concurrency } = checkConsumeOptions(
      options,
      address,
      { deliveryLimit: this.#deliveryLimit, retryBackoff: this.#retryBackoff },
    );
    const kind = address.server !== undefined ? 'server' : address.fanout === true ? 'fanout' : 'group';
    this.#topology.checkFits(address, kind === 'group' ? group : undefined);
    this.#checkOpen('consume');
    const queue =
      kind === 'server'
        ? this.#topology.serverQueue(address.topic, address.server!)
        : kind === 'group'
          ? this.#topology.groupQueue(address.topic, group)
          : undefined;
    const consumer = new AmqpConsumer(
      address,
      kind === 'group' ? group : undefined,
      queue,
      timeLimited(handler, address, handlerTimeoutMs),
      deliveryLimit,
      retryBackoff,
      concurrency,
      (c) => this.#closeConsumer(c),
    );
    await this.#withLink(Date.now() + this.#connectTimeoutMs, (link) => this.#attachWithin(consumer, link));
    if (this.#closing !== undefined) {
      await this.#closeConsumer(consumer);
      throw new TransportError('Cannot consume: the transport closed while the consumer started.');
    }
    this.#consumers.add(consumer);
    return consumer;
  }

  /**
   * Send `message` to one consumer of `target` and resolve with what its handler returned (see
   * {@link @herald/messaging!Transport.request}). A `{ topic }` request goes to the topic's default group. The
   * reply comes back through RabbitMQ's direct reply-to; the request expires in the queue after
   * `timeoutMs`, so no server takes it once the caller stopped waiting.
   *
   * @throws InvalidError for a fanout or bad target, a bad message or timeout (nothing is sent);
   *   TransportError once closing, when the connection is lost or closes before the reply
   * @example
   * ```ts
   * const reply = await transport.request({ topic: 'l3_agent', server: 'host-1' }, { body: { method: 'sync' } }, { timeoutMs: 5000 });
   * ```
   */
  async request(target: Target, message: OutgoingMessage, options: RequestOptions): Promise<Delivery> {
    const { target: address, message: checked, timeoutMs } = checkRequest(target, message, options);
    checkUserHeaders(checked.headers);
    this.#topology.checkFits(address);
    const body = this.#bodyOf(checked);
    this.#checkOpen('request');
    const correlationId = randomUUID();
    const pending = new PendingRequest(
      checked.id,
      address,
      timeoutMs,
      () => this.#requests.delete(correlationId),
      () => this.#unreachable('send the request', timeoutMs),
    );
    this.#requests.set(correlationId, pending);
    this.#sendRequest(address, checked, body, correlationId, timeoutMs).catch((error: unknown) =>
      pending.reject(error instanceof Error ? error : new TransportError(errorText(error))),
    );
    return pending.promise;
  }

  /**
   * Refuse new messages, stop every consumer taking deliveries, let the deliveries in progress
   * finish (up to `drainMs`), reject every pending request with `TransportError`, then close the
   * connection. A handler still running after `drainMs` is left to finish, but its delivery is
   * not acknowledged: the broker gives it to another consumer. Calling it again returns the same
   * promise.
   *
   * @throws InvalidError for a `drainMs` that is not a non-negative number (nothing is closed)
   * @example
   * ```ts
   * process.once('SIGTERM', () => void transport.close({ drainMs: 10_000 }));
   * ```
   */
  async close(options: CloseOptions = {}): Promise<void> {
    const drainMs = checkCloseOptions(options);
    this.#closing ??= this.#shutDown(drainMs);
    return this.#closing;
  }

  /**
   * The messages in the dead-letter queue, oldest first, read without taking them off it.
   *
   * @throws TransportError once closing, or when the broker is unreachable
   * @example
   * ```ts
   * for (const letter of await transport.deadLetters()) console.warn(letter.delivery.id, letter.error);
   * ```
   */
  async deadLetters(): Promise<readonly DeadLetter[]> {
    this.#checkOpen('read dead letters');
    return this.#withDeadLetters(async (_, channel) => {
      const letters: DeadLetter[] = [];
      // Unacknowledged gets return to the queue, in order, when the channel closes.
      for (let message = await channel.get(this.#topology.deadLetterQueue); message !== false;) {
        letters.push(this.#deadLetterOf(message));
        message = await channel.get(this.#topology.deadLetterQueue);
      }
      return letters;
    });
  }

  /**
   * Sends dead letters back to the queue they failed in (their group's or server's queue; a
   * fanout one to the fanout consumers listening now), as new messages (attempt 1, same id and
   * headers), and takes them off the dead-letter queue once the broker confirmed the copy;
   * resolves to how many. All of them, or only those whose delivery id is `options.id`. A letter
   * whose queue no longer exists stays where it is.
   *
   * @throws InvalidError for a bad `id`; TransportError once closing, or when the broker is unreachable
   * @example
   * ```ts
   * await transport.replayDeadLetters({ id: 'port-42-created' }); // or () for all of them
   * ```
   */
  async replayDeadLetters(options: ReplayOptions = {}): Promise<number> {
    const id = checkReplayOptions(options);
    this.#checkOpen('replay dead letters');
    return this.#withDeadLetters(async (link, channel) => {
      let replayed = 0;
      // What is taken and not acknowledged goes back to the queue, in order, when the channel closes.
      for (let message = await channel.get(this.#topology.deadLetterQueue); message !== false;) {
        const letter = this.#deadLetterOf(message);
        const queue =
          id === undefined || letter.delivery.id === id ? await this.#replayQueue(link, message, letter) : undefined;
        if (queue !== undefined) {
          const { target, delivery } = letter;
          const properties: Options.Publish = {
            messageId: delivery.id,
            userId: this.#user,
            contentType: 'application/json',
            persistent: target.fanout !== true,
            headers: {
              ...delivery.headers,
              [TARGET_HEADER]: encodeTarget(target),
              ...(delivery.brokerUser !== undefined && { [USER_HEADER]: delivery.brokerUser }),
            },
          };
          if (target.fanout === true) {
            await confirmed(
              link,
              this.#topology.exchange,
              this.#topology.routingKey(target),
              message.content,
              properties,
            );
          } else await confirmed(link, '', queue, message.content, properties);
          channel.ack(message);
          replayed++;
        }
        message = await channel.get(this.#topology.deadLetterQueue);
      }
      return replayed;
    });
  }

  /**
   * Drops every dead letter; resolves to how many there were.
   *
   * @throws TransportError once closing, or when the broker is unreachable
   * @example
   * ```ts
   * const dropped = await transport.purgeDeadLetters();
   * ```
   */
  async purgeDeadLetters(): Promise<number> {
    this.#checkOpen('purge dead letters');
    return this.#withDeadLetters(async (_, channel) => {
      const { messageCount } = await channel.purgeQueue(this.#topology.deadLetterQueue);
      return messageCount;
    });
  }

  /** Runs `work` with a channel of its own on which the dead-letter queue is declared. */
  #withDeadLetters<T>(work: (link: Link, channel: Channel) => Promise<T>): Promise<T> {
    return this.#withLink(Date.now() + this.#connectTimeoutMs, async (link) => {
      const channel = await link.model.createChannel();
      channel.on('error', () => undefined);
      try {
        await channel.assertQueue(this.#topology.deadLetterQueue, this.#deadLetterQueueOptions());
        return await work(link, channel);
      } finally {
        await channel.close().catch(() => undefined);
      }
    });
  }

  /** The queue a dead letter goes back to, if it still exists (`''` for fanout: the exchange routes it). */
  async #replayQueue(link: Link, message: GetMessage, letter: DeadLetter): Promise<string | undefined> {
    if (letter.target.fanout === true) return '';
    const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
    const queue =
      typeof headers[DEAD_QUEUE_HEADER] === 'string' ? headers[DEAD_QUEUE_HEADER] : brokerDeath(headers)?.queue;
    if (queue === undefined || queue === '') return undefined;
    try {
      await (await this.#admin(link)).checkQueue(queue);
      return queue;
    } catch {
      // Gone (expired, deleted): the broker closed the admin channel; the next use opens another.
      return undefined;
    }
  }

  /**
   * A message of the dead-letter queue as a {@link DeadLetter}: buried by a consumer (its headers
   * say where and why), or by the broker (its `x-death` record says where and why).
   */
  #deadLetterOf(message: GetMessage): DeadLetter {
    const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
    const death = brokerDeath(headers);
    const published =
      death !== undefined && death.exchange === this.#topology.exchange
        ? this.#topology.targetOf(death.routingKey)
        : undefined;
    let delivery = this.#deliveryOf(message, published, true);
    const queue = typeof headers[DEAD_QUEUE_HEADER] === 'string' ? headers[DEAD_QUEUE_HEADER] : death?.queue;
    const group = headers[DEAD_GROUP_HEADER] ?? (queue === undefined ? undefined : this.#topology.groupOf(queue));
    let error = headers[DEAD_ERROR_HEADER];
    if (typeof error !== 'string' && death !== undefined) {
      if (death.reason === 'delivery_limit') {
        // The broker delivered this copy once more than its limit.
        delivery = Object.freeze({ ...delivery, attempt: delivery.attempt + this.#deliveryLimit });
        error = neverSettled(delivery.attempt, this.#deliveryLimit);
      } else error = `The broker dead-lettered it (${death.reason}) from ${death.queue}.`;
    }
    return Object.freeze({
      target: delivery.target,
      group: typeof group === 'string' && delivery.target.server === undefined ? group : undefined,
      delivery,
      error: String(error ?? ''),
    });
  }

  /**
   * Resolves once this transport is quiet: no publish waiting for its confirm, no handler running,
   * and every queue its consumers take from empty, twice in a row 10 ms apart. Best effort, for
   * tests and demos whose consumers all run in this process (a broker cannot tell what other
   * processes are doing, or what is on the wire); never resolves while a handler hangs.
   *
   * @throws TransportError once closing, or when the broker is unreachable
   * @example
   * ```ts
   * await transport.publish({ topic: 'dhcp_agent' }, { body: 1 });
   * await transport.idle();
   * expect(handled).toEqual([1]);
   * ```
   */
  async idle(): Promise<void> {
    let quiet = 0;
    while (quiet < 2) {
      this.#checkOpen('wait for idle');
      await Promise.allSettled([...this.#publishing, ...this.#running.values()]);
      // A retry waiting in a delay queue is still to be handled.
      const queues = [...this.#consumers].flatMap((c) => [
        ...(c.liveQueue === undefined ? [] : [c.liveQueue]),
        ...retryDelaysMs(c.retryBackoff, c.deliveryLimit).map((delayMs) => this.#topology.retryQueue(delayMs)),
      ]);
      const waiting = await this.#withLink(Date.now() + this.#connectTimeoutMs, async (link) => {
        const admin = await this.#admin(link);
        const counts = await Promise.all(
          [...new Set(queues)].map((queue) =>
            // A queue gone meanwhile (its consumer closed) holds nothing.
            admin.checkQueue(queue).catch(() => ({ messageCount: 0 })),
          ),
        );
        return counts.reduce((sum, { messageCount }) => sum + messageCount, 0);
      });
      const ahead = [...this.#consumers].some((c) => c.backlog.length > 0);
      const busy = waiting > 0 || ahead || this.#publishing.size > 0 || this.#running.size > 0;
      quiet = busy ? 0 : quiet + 1;
      await new Promise((resolve) => setTimeout(resolve, busy ? 2 : 10));
    }
  }

  #checkOpen(operation: string): void {
    if (this.#closing !== undefined) {
      throw new TransportError(`Cannot ${operation}: the transport is closed (or closing).`);
    }
  }

  // ---- connection -------------------------------------------------------------------------

  /** Keeps a connection open until the transport closes: connect, wait for its loss, again. */
  async #maintain(): Promise<void> {
    let delay = FIRST_RETRY_MS;
    while (this.#closing === undefined) {
      let link: Link;
      try {
        link = await this.#open();
      } catch (error) {
        this.#lastError = error;
        if (/ACCESS.REFUSED/.test(errorText(error))) this.#refuse(error);
        await this.#sleep(delay);
        delay = Math.min(delay * 2, LAST_RETRY_MS);
        continue;
      }
      if (this.#closing !== undefined) {
        await link.model.close().catch(() => undefined);
        return;
      }
      delay = FIRST_RETRY_MS;
      this.#refused = undefined;
      this.#link = link;
      // Operations wait for the consumers to be back, but not for one the broker does not answer
      // for (a quorum queue without a leader): that one keeps trying on its own.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...this.#consumers].map((consumer) => this.#reattach(consumer, link))),
        new Promise((resolve) => (timer = setTimeout(resolve, this.#connectTimeoutMs))),
      ]);
      clearTimeout(timer);
      const waiters = this.#linkWaiters;
      this.#linkWaiters = [];
      for (const wake of waiters) wake(link);
      await link.gone;
      if (this.#link === link) this.#link = undefined;
      if (this.#closing === undefined) {
        warn(this.#logger, `Lost the connection to the AMQP broker (${errorText(this.#lastError)}); reconnecting.`);
      }
    }
  }

  async #open(): Promise<Link> {
    const model = await connect(this.#url, {
      noDelay: true,
      timeout: this.#connectTimeoutMs,
      clientProperties: { connection_name: this.#connectionName },
    });
    let markGone!: () => void;
    const gone = new Promise<void>((resolve) => (markGone = resolve));
    let link: Link | undefined = undefined;
    const lose = (error?: unknown): void => {
      if (error !== undefined) this.#lastError = error;
      if (link !== undefined) {
        if (link.lost) return;
        link.lost = true;
        // Direct reply-to replies come back on the lost channel: nothing will answer these.
        for (const request of [...this.#requests.values()]) {
          request.reject(
            new TransportError(
              `The connection to the broker was lost before ${describeTarget(request.target)} replied.`,
            ),
          );
        }
      }
      markGone();
    };
    model.on('error', (error: Error) => (this.#lastError = error));
    model.on('close', (error?: Error) => lose(error ?? new Error('connection closed')));
    try {
      // Until the link exists, a loss is the connection's: nothing to send again on it.
      const publisher = await Publisher.open(
        model,
        () => link?.lost ?? true,
        gone,
        (returned) => warn(this.#logger, droppedMessage(returned)),
      );
      await publisher.channel.assertExchange(this.#topology.exchange, 'direct', { durable: true });
      await publisher.channel.assertQueue(this.#topology.deadLetterQueue, this.#deadLetterQueueOptions());
      const requester = await model.createChannel();
      requester.on('error', (error: Error) => (this.#lastError = error));
      requester.on('close', () => void model.close().catch(() => undefined));
      await requester.consume(REPLY_TO, (message) => this.#onReply(message), { noAck: true });
      link = {
        model,
        publisher,
        requester,
        admin: undefined,
        declared: new Map(),
        ready: new Set(),
        lost: false,
        gone,
      };
      return link;
    } catch (error) {
      await model.close().catch(() => undefined);
      throw error;
    }
  }

  /**
   * The broker refused the credentials: waiting longer will not help, so what waits for a
   * connection fails now, with the broker's words (the transport keeps trying, in case they change).
   */
  #refuse(error: unknown): void {
    this.#refused = new TransportError(
      `The AMQP broker at ${redact(this.#url)} refused the credentials: ${errorText(error)}. Check the user name and password in the URL, and the user's permissions on the vhost.`,
    );
    const waiters = this.#linkWaiters;
    this.#linkWaiters = [];
    for (const wake of waiters) wake(this.#refused);
  }

  /** Sleeps `ms` unless the transport closes first; the timer does not keep the process alive. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wakeRetry = resolve;
      // Not unref'd: an open transport keeps the process alive, connected or not (as its socket does).
      this.#retryTimer = setTimeout(resolve, ms);
    });
  }

  /** The open link, or the next one; rejects with TransportError at `deadline`. */
  #whenLinked(deadline: number, operation: string): Promise<Link> {
    const link = this.#link;
    if (link !== undefined && !link.lost) return Promise.resolve(link);
    if (this.#refused !== undefined) return Promise.reject(this.#refused);
    return new Promise<Link>((resolve, reject) => {
      const wake = (next: Link | TransportError): void => {
        clearTimeout(timer);
        if (next instanceof TransportError) reject(next);
        else resolve(next);
      };
      const timer = setTimeout(
        () => {
          this.#linkWaiters = this.#linkWaiters.filter((w) => w !== wake);
          reject(this.#unreachable(operation));
        },
        Math.max(0, deadline - Date.now()),
      );
      this.#linkWaiters.push(wake);
    });
  }

  #unreachable(operation: string, waitedMs = this.#connectTimeoutMs): TransportError {
    const cause = this.#lastError === undefined ? '' : ` (last error: ${errorText(this.#lastError)})`;
    return new TransportError(
      `Cannot ${operation}: the AMQP broker at ${redact(this.#url)} was unreachable for ${waitedMs} ms${cause}. Check that it runs and that the URL is right, or raise connectTimeoutMs.`,
    );
  }

  /**
   * Runs `operation` on the open link; when the link is lost under it, runs it again on the next
   * one, until `deadline`. A failure on a live link is the broker's answer: it is not retried.
   */
  #withLink<T>(deadline: number, operation: (link: Link) => Promise<T>): Promise<T> {
    const link = this.#link;
    if (link === undefined || link.lost || this.#closing !== undefined) return this.#withNextLink(deadline, operation);
    // Connected (the usual case): no wait for the link.
    return operation(link).catch((error: unknown) => {
      if (!link.lost) throw asTransportError(error);
      if (Date.now() >= deadline) throw this.#unreachable('reach the broker');
      return this.#withNextLink(deadline, operation);
    });
  }

  /** {@link #withLink} once the link is lost or not open yet: waits for the next one. */
  async #withNextLink<T>(deadline: number, operation: (link: Link) => Promise<T>): Promise<T> {
    for (;;) {
      const link = await this.#whenLinked(deadline, 'reach the broker');
      if (this.#closing !== undefined || link === closedLink) {
        throw new TransportError('The transport closed before the broker answered.');
      }
      try {
        return await operation(link);
      } catch (error) {
        if (!link.lost) throw asTransportError(error);
        if (Date.now() >= deadline) throw this.#unreachable('reach the broker');
      }
    }
  }

  /**
   * Declares the default group queue of `topic`, so that a publish is kept: once per connection,
   * and once for all the publishes that ask at the same time (a failure lets the next one retry).
   */
  #declareDefaultQueue(link: Link, topic: string): Promise<void> {
    let declaring = link.declared.get(topic);
    if (declaring === undefined) {
      const started = this.#admin(link).then(async (admin) => {
        await this.#declareGroupQueue(admin, topic, topic);
        link.ready.add(topic);
      });
      declaring = started;
      link.declared.set(topic, started);
      started.catch(() => {
        if (link.declared.get(topic) === started) link.declared.delete(topic);
      });
    }
    return declaring;
  }

  /** The link's channel for declarations, opened again after the broker closed it (an error). */
  #admin(link: Link): Promise<Channel> {
    if (link.admin === undefined) {
      const opening: Promise<Channel> = link.model.createChannel().then((admin) => {
        admin.on('error', () => undefined);
        admin.on('close', () => {
          if (link.admin === opening) link.admin = undefined;
        });
        return admin;
      });
      link.admin = opening;
      opening.catch(() => {
        if (link.admin === opening) link.admin = undefined;
      });
    }
    return link.admin;
  }

  async #declareGroupQueue(channel: Channel, topic: string, group: string): Promise<string> {
    const queue = this.#topology.groupQueue(topic, group);
    await channel.assertQueue(queue, this.#queueOptions());
    await channel.bindQueue(queue, this.#topology.exchange, this.#topology.routingKey({ topic }));
    return queue;
  }

  /**
   * The arguments of a group or server queue: its kind, and the dead letters as where the broker
   * puts a message it gives up on (past the delivery limit of a quorum queue, or rejected by a
   * consumer that could not settle it otherwise).
   */
  #queueOptions(): Options.AssertQueue {
    return {
      durable: true,
      ...(this.#queueExpiresMs !== undefined && { expires: this.#queueExpiresMs }),
      ...(this.#maxQueueLength !== Infinity && { maxLength: this.#maxQueueLength }),
      deadLetterExchange: '',
      deadLetterRoutingKey: this.#topology.deadLetterQueue,
      arguments: {
        'x-queue-type': this.#queueType,
        // The broker's own limit only stops a message that never reaches a live handler to be
        // buried with its reason (see #deliver): each crash adds one to its count.
        ...(this.#queueType === 'quorum' && { 'x-delivery-limit': this.#deliveryLimit }),
      },
    };
  }

  /**
   * Declares the delay queue of `delayMs` and its exchange (idempotent). Its messages expire after
   * `delayMs` into the default exchange, which routes them by their routing key: the queue they
   * failed in. It follows `queueType`: a quorum queue dead-letters at-least-once (it keeps a
   * message until the queue it goes back to has confirmed it), a classic one at-most-once.
   */
  async #declareRetryQueue(channel: Channel, delayMs: number): Promise<string> {
    const name = this.#topology.retryQueue(delayMs);
    const quorum = this.#queueType === 'quorum';
    await channel.assertExchange(name, 'fanout', { durable: true });
    await channel.assertQueue(name, {
      durable: true,
      messageTtl: delayMs,
      deadLetterExchange: '',
      // Declared again before each retry it takes, so it cannot expire under a waiting message.
      ...(this.#queueExpiresMs !== undefined && { expires: Math.max(this.#queueExpiresMs, 2 * delayMs) }),
      arguments: {
        'x-queue-type': this.#queueType,
        ...(quorum && { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' }),
      },
    });
    await channel.bindQueue(name, name, '');
    return name;
  }

  #deadLetterQueueOptions(): Options.AssertQueue {
    return { durable: true, arguments: { 'x-queue-type': this.#queueType } };
  }

  // ---- consumers --------------------------------------------------------------------------

  /** Opens the consumer's channel on `link`, declares its queue and starts consuming. */
  async #attach(consumer: AmqpConsumer, link: Link): Promise<void> {
    const channel = await link.model.createChannel();
    channel.on('error', (error: Error) => (this.#lastError = error));
    try {
      const prefetch = Math.max(this.#prefetch, consumer.concurrency);
      await channel.prefetch(prefetch);
      const { target } = consumer;
      for (const delayMs of retryDelaysMs(consumer.retryBackoff, consumer.deliveryLimit)) {
        await this.#declareRetryQueue(channel, delayMs);
      }
      let queue: string;
      if (target.server !== undefined) {
        queue = consumer.queue!;
        await channel.assertQueue(queue, this.#queueOptions());
        await channel.bindQueue(queue, this.#topology.exchange, this.#topology.routingKey(target));
      } else if (target.fanout === true) {
        // Its own queue, gone with the consumer: a fanout consumer only gets later messages.
        // Classic: quorum queues cannot be exclusive.
        const maxLength = this.#maxQueueLength === Infinity ? undefined : this.#maxQueueLength;
        ({ queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false, maxLength }));
        await channel.bindQueue(queue, this.#topology.exchange, this.#topology.routingKey(target));
      } else {
        queue = await this.#declareGroupQueue(channel, target.topic, consumer.group!);
      }
      if (!this.#seen.has(queue)) this.#seen.set(queue, { acked: new IdWindow(this.#window), inFlight: new Map() });
      const seen = this.#seen.get(queue)!;
      const acks = new Acknowledger(channel, prefetch);
      consumer.channel = channel;
      consumer.acks = acks;
      consumer.liveQueue = queue;
      const { consumerTag } = await channel.consume(queue, (message) => {
        if (message === null) {
          // The broker cancelled the consumer (its queue was deleted): start it again.
          if (consumer.closed || link.lost) return;
          warn(this.#logger, `The broker cancelled the consumer of ${describeTarget(target)}; consuming again.`);
          void this.#reattach(consumer, link);
          return;
        }
        consumer.backlog.push(acks.track({ channel, acks, link, queue, seen, message, state: 'open' }));
        this.#pump(consumer);
      });
      consumer.tag = consumerTag;
      if (consumer.closed) {
        // Closed while this attach was on its way (a reconnection): give back what it took.
        await channel.close().catch(() => undefined);
        return;
      }
      channel.on('close', () => {
        // Channels close before their connection reports its loss: look once that has happened.
        setImmediate(() => {
          // Closed by the broker (a channel error), not by us or with the connection: start again.
          if (consumer.closed || link.lost || this.#closing !== undefined || consumer.channel !== channel) return;
          warn(this.#logger, `The channel of the consumer of ${describeTarget(target)} closed; consuming again.`);
          void this.#reattach(consumer, link);
        });
      });
    } catch (error) {
      await channel.close().catch(() => undefined);
      throw error;
    }
  }

  /**
   * {@link #attach} for a new consumer, given up after `connectTimeoutMs` with a
   * QueueUnavailableError naming the queue: RabbitMQ holds a declaration or a `basic.consume` on a
   * quorum queue without a leader for a minute or more. The consumer is marked closed then, so
   * that an attach the broker completes later gives its channel back at once.
   */
  async #attachWithin(consumer: AmqpConsumer, link: Link): Promise<void> {
    const attaching = this.#attach(consumer, link);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        consumer.closed = true;
        reject(new QueueUnavailableError(consumer.queue ?? describeTarget(consumer.target), this.#connectTimeoutMs));
      }, this.#connectTimeoutMs);
    });
    attaching.catch(() => undefined);
    try {
      await Promise.race([attaching, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Starts `consumer` again on `link`, after a reconnection or after the broker closed its channel
   * or cancelled it. A failure (the broker refused the queue for a while) is tried again with
   * backoff for as long as the link lives and the consumer is open: a consumer is never left
   * stopped on a live connection. A lost connection needs no retry: the next one attaches every
   * consumer.
   */
  #reattach(consumer: AmqpConsumer, link: Link, delay = FIRST_RETRY_MS): Promise<void> {
    return this.#attach(consumer, link).catch((error: unknown) => {
      if (link.lost || consumer.closed || this.#closing !== undefined) return;
      warn(
        this.#logger,
        `Could not consume ${describeTarget(consumer.target)} again (${errorText(error)}); trying again in ${delay} ms.`,
      );
      const timer = setTimeout(() => {
        if (link.lost || consumer.closed || this.#closing !== undefined) return;
        void this.#reattach(consumer, link, Math.min(delay * 2, LAST_RETRY_MS));
      }, delay);
      timer.unref();
    });
  }

  /**
   * Starts the next deliveries the broker sent `consumer` ahead, up to its concurrency (one at a
   * time, in order, by default). Messages of an earlier channel are skipped (the broker gives them
   * again), and a closed consumer starts nothing (its channel's close gives them back).
   */
  #pump(consumer: AmqpConsumer): void {
    while (consumer.running.size < consumer.concurrency && !consumer.closed) {
      const next = consumer.backlog.shift();
      if (next === undefined) return;
      if (next.channel !== consumer.channel) continue;
      this.#deliver(consumer, next);
    }
  }

  /**
   * Runs the handler on one message and settles it; counts it in `consumer.running` unless it was
   * a duplicate (acknowledged at once) or waits for another delivery of its id (see
   * {@link Seen.inFlight}).
   */
  #deliver(consumer: AmqpConsumer, ahead: Ahead): void {
    const { seen, message } = ahead;
    const { properties } = message;
    const request = typeof properties.replyTo === 'string' && properties.replyTo !== '';
    const id = !request && typeof properties.messageId === 'string' ? properties.messageId : undefined;
    if (id !== undefined && seen.acked.has(id)) {
      // Already handled by a consumer of this queue here: acknowledged again, without the handler.
      acknowledge(ahead);
      return;
    }
    if (id !== undefined && seen.acked.size > 0) {
      if (seen.inFlight.has(id)) {
        // Another consumer here is handling it: held, unacknowledged, until that one settles.
        const waiting = seen.inFlight.get(id) ?? [];
        waiting.push({ consumer, ahead });
        seen.inFlight.set(id, waiting);
        return;
      }
      // No copy waits for it yet (the usual case): no list until one does.
      seen.inFlight.set(id, undefined);
    }
    const running = this.#handle(consumer, ahead, request, id);
    consumer.running.set(ahead, running);
    this.#running.set(ahead, running);
  }

  /**
   * Runs the handler on `ahead`'s message (a microtask later, once the delivery is counted as
   * running: a handler that closes its own consumer at once still has `close()` wait for it),
   * then acknowledges it, replies, retries or dead-letters it. Never rejects.
   */
  async #handle(consumer: AmqpConsumer, ahead: Ahead, request: boolean, id: string | undefined): Promise<void> {
    const { channel, link, queue, seen, message } = ahead;
    await undefined;
    let delivery: Delivery | undefined;
    try {
      let outcome: Outcome;
      try {
        delivery = this.#deliveryOf(message, consumer.target, false, consumer.targets);
        if (!request && delivery.attempt > consumer.deliveryLimit) {
          // Its earlier deliveries never settled: each crashed its consumer (or lost its channel).
          throw new DeadLetterError(neverSettled(delivery.attempt - 1, consumer.deliveryLimit));
        }
        const value: unknown = consumer.handler(delivery);
        outcome = { ok: true, value: isThenable(value) ? await value : value };
      } catch (error) {
        outcome = { ok: false, error };
      }
      if (request) {
        this.#reply(channel, message, outcome);
        acknowledge(ahead);
      } else if (outcome.ok) {
        seen.acked.add(delivery!.id);
        ahead.acks.handled(ahead);
      } else {
        await this.#retryOrBury(consumer, link, queue, message, delivery, outcome.error, () => acknowledge(ahead));
      }
    } catch (error) {
      // On a lost connection the broker delivers it again. Otherwise (the copy could not be
      // encoded or was refused), the broker dead-letters the original itself: never left
      // unsettled, which would stall the consumer for good.
      if (!link.lost) {
        warn(
          this.#logger,
          `Could not settle a delivery from ${queue} (${errorText(error)}); ${request ? 'dropped' : 'rejected to the dead letters'}.`,
        );
        if (request) acknowledge(ahead);
        else reject(ahead);
      }
    } finally {
      if (id !== undefined) this.#release(seen, id);
      consumer.running.delete(ahead);
      this.#running.delete(ahead);
      this.#pump(consumer);
      // Nothing else at hand: no reason to wait with the acknowledgements.
      if (consumer.running.size === 0) ahead.acks.flush();
    }
  }

  /**
   * After a delivery of `id` settled: the copies that waited for it are acknowledged without the
   * handler when it was handled, and given back to their consumers (in order, first in line)
   * when it failed.
   */
  #release(seen: Seen, id: string): void {
    const waiting = seen.inFlight.get(id);
    seen.inFlight.delete(id);
    if (waiting === undefined) return;
    if (seen.acked.has(id)) {
      for (const { ahead } of waiting) acknowledge(ahead);
      return;
    }
    for (let i = waiting.length - 1; i >= 0; i--) waiting[i]!.consumer.backlog.unshift(waiting[i]!.ahead);
    for (const consumer of new Set(waiting.map((w) => w.consumer))) this.#pump(consumer);
  }

  /**
   * A delivery as handlers see it; throws when the body is not JSON. `targets` keeps the target
   * of each routing key already seen, so that a consumer decodes each once.
   */
  #deliveryOf(
    message: ConsumeMessage | GetMessage,
    fallback: Target | undefined,
    deadLetter: boolean,
    targets?: Map<string, Target | undefined>,
  ): Delivery {
    const { properties, fields } = message;
    const headers = (properties.headers ?? {}) as Record<string, unknown>;
    let routed: Target | undefined;
    if (fields.exchange === this.#topology.exchange) {
      routed = targets?.get(fields.routingKey);
      if (routed === undefined) {
        routed = this.#topology.targetOf(fields.routingKey);
        if (targets !== undefined && targets.size < MAX_CACHED_TARGETS) targets.set(fields.routingKey, routed);
      }
    }
    const target =
      decodeTarget(headers[TARGET_HEADER]) ?? routed ?? fallback ?? Object.freeze({ topic: fields.routingKey });
    const recorded = Number(headers[ATTEMPT_HEADER]);
    // A quorum queue counts this copy's earlier deliveries (crashes included); a classic one only
    // says that there was one.
    const count = Number(headers[DELIVERY_COUNT_HEADER]);
    const earlier = Number.isSafeInteger(count) && count > 0 ? count : fields.redelivered ? 1 : 0;
    const attempt = (Number.isSafeInteger(recorded) && recorded > 0 ? recorded : 1) + (deadLetter ? 0 : earlier);
    let body: unknown;
    try {
      body = JSON.parse(message.content.toString('utf8'));
    } catch (error) {
      // A dead letter may be one that was buried for not being JSON: show its text.
      if (deadLetter) body = message.content.toString('utf8');
      else
        throw new InvalidError(
          'message.body',
          message.content.toString('utf8').slice(0, 80),
          `publish JSON: ${errorText(error)}`,
        );
    }
    const brokerUser = brokerUserOf(properties.userId, headers, this.#user);
    return Object.freeze({
      id: typeof properties.messageId === 'string' && properties.messageId !== '' ? properties.messageId : randomUUID(),
      target,
      headers: userHeaders(headers),
      body,
      attempt,
      ...(brokerUser !== undefined && { brokerUser }),
    });
  }

  /**
   * After a failure: the message goes to the back of its queue with its attempt counted, or,
   * at the consumer's limit, to the dead letters. The original is acknowledged only once the
   * broker confirmed the copy, so a crash in between duplicates it rather than losing it.
   */
  async #retryOrBury(
    consumer: AmqpConsumer,
    link: Link,
    queue: string,
    message: ConsumeMessage,
    delivery: Delivery | undefined,
    error: unknown,
    ack: () => void,
  ): Promise<void> {
    const attempt = delivery?.attempt ?? 1;
    const dead = error instanceof DeadLetterError;
    // The copy does not go through the namespace's exchange: it carries its target. Without the
    // broker's headers, so that its queue counts its deliveries afresh.
    const headers: Record<string, unknown> = {
      ...headersOfCopy(message.properties.userId, message.properties.headers, this.#user),
      [TARGET_HEADER]: encodeTarget(delivery?.target ?? consumer.target),
      [ATTEMPT_HEADER]: attempt + 1,
    };
    const properties: Options.Publish = {
      messageId: message.properties.messageId as string | undefined,
      userId: this.#user,
      contentType: 'application/json',
      persistent: true,
      headers,
    };
    if (delivery !== undefined && !dead && attempt < consumer.deliveryLimit) {
      const delayMs = backoffDelayMs(consumer.retryBackoff, attempt);
      if (delayMs === 0) {
        // Through the default exchange, whose routing key is the queue.
        await confirmed(link, '', queue, message.content, properties);
      } else {
        // To the delay queue, with the queue it goes back to as its routing key (see topology.ts).
        const delayQueue = await this.#declareRetryQueue(await this.#admin(link), delayMs);
        await confirmed(link, delayQueue, queue, message.content, properties);
      }
      ack();
      return;
    }
    const { text, truncated } = boundedErrorText(dead ? error.reason : errorText(error));
    headers[ATTEMPT_HEADER] = attempt;
    headers[DEAD_QUEUE_HEADER] = queue;
    if (consumer.group !== undefined) headers[DEAD_GROUP_HEADER] = consumer.group;
    headers[DEAD_ERROR_HEADER] = text;
    if (truncated) headers[DEAD_TRUNCATED_HEADER] = errorText(error).length;
    await confirmed(link, '', this.#topology.deadLetterQueue, message.content, properties);
    ack();
    warn(
      this.#logger,
      `Message ${delivery?.id ?? '(unreadable)'} to ${describeTarget(consumer.target)}${consumer.group === undefined ? '' : ` (group ${consumer.group})`} dead-lettered after ${attempt} deliveries: ${text.slice(0, 500)}`,
    );
  }

  #reply(channel: Channel, message: ConsumeMessage, outcome: Outcome): void {
    let reply = replyOf(outcome);
    if ('json' in reply && Buffer.byteLength(reply.json) > this.#maxMessageBytes) {
      const tooLarge = new MessageTooLargeError(Buffer.byteLength(reply.json), this.#maxMessageBytes);
      reply = { name: tooLarge.name, text: `The reply: ${tooLarge.message}` };
    }
    const ok = 'json' in reply;
    const json =
      'json' in reply ? reply.json : JSON.stringify({ name: reply.name, message: boundedErrorText(reply.text).text });
    channel.publish('', message.properties.replyTo as string, Buffer.from(json), {
      correlationId: message.properties.correlationId as string | undefined,
      contentType: 'application/json',
      headers: { [REPLY_HEADER]: ok ? 'ok' : 'error' },
    });
  }

  #onReply(message: ConsumeMessage | null): void {
    if (message === null) return;
    const pending = this.#requests.get(message.properties.correlationId as string);
    // A reply after the timeout (or to a request of an earlier connection) is ignored.
    if (pending === undefined) return;
    let body: unknown;
    try {
      body = JSON.parse(message.content.toString('utf8'));
    } catch (error) {
      pending.reject(
        new TransportError(`The reply from ${describeTarget(pending.target)} is not JSON: ${errorText(error)}`),
      );
      return;
    }
    if (message.properties.headers?.[REPLY_HEADER] === 'error') {
      const { name, message: text } = (body ?? {}) as { name?: unknown; message?: unknown };
      pending.reject(new RemoteError(String(name ?? 'Error'), String(text ?? '')));
      return;
    }
    pending.resolve(
      Object.freeze({ id: pending.id, target: pending.target, headers: Object.freeze({}), body, attempt: 1 }),
    );
  }

  async #sendRequest(
    target: Target,
    checked: CheckedMessage,
    body: Buffer,
    correlationId: string,
    timeoutMs: number,
  ): Promise<void> {
    await this.#withLink(Date.now() + Math.min(timeoutMs, this.#connectTimeoutMs), async (link) => {
      let queue: string;
      if (target.server !== undefined) {
        queue = this.#topology.serverQueue(target.topic, target.server);
      } else {
        await this.#declareDefaultQueue(link, target.topic);
        queue = this.#topology.groupQueue(target.topic, target.topic);
      }
      const pending = this.#requests.get(correlationId);
      if (pending === undefined) return;
      pending.sent = true;
      // Straight to the one queue (not through the exchange, which would copy it to every group).
      link.requester.sendToQueue(queue, body, {
        messageId: checked.id,
        userId: this.#user,
        correlationId,
        replyTo: REPLY_TO,
        expiration: String(Math.ceil(timeoutMs)),
        contentType: 'application/json',
        headers: { ...checked.headers, [TARGET_HEADER]: encodeTarget(target) },
      });
    });
  }

  async #closeConsumer(consumer: AmqpConsumer): Promise<void> {
    this.#consumers.delete(consumer);
    const { channel, tag } = consumer;
    if (channel !== undefined && tag !== undefined) await channel.cancel(tag).catch(() => undefined);
    await Promise.all([...consumer.running.values()]);
    consumer.acks?.flush();
    if (channel !== undefined) await channel.close().catch(() => undefined);
  }

  async #shutDown(drainMs: number): Promise<void> {
    clearTimeout(this.#retryTimer);
    this.#wakeRetry?.();
    const consumers = [...this.#consumers];
    for (const consumer of consumers) consumer.closed = true;
    // No new deliveries from here on.
    await Promise.all(
      consumers.map(({ channel, tag }) =>
        channel !== undefined && tag !== undefined ? channel.cancel(tag).catch(() => undefined) : undefined,
      ),
    );
    if (this.#running.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, drainMs);
        timer.unref();
      });
      await Promise.race([Promise.allSettled([...this.#running.values()]), timeout]);
      clearTimeout(timer);
    }
    // What was handled is acknowledged before the connection goes (else it would come again).
    for (const consumer of consumers) consumer.acks?.flush();
    this.#consumers.clear();
    for (const request of [...this.#requests.values()]) {
      request.reject(new TransportError(`The transport closed before ${describeTarget(request.target)} replied.`));
    }
    const waiters = this.#linkWaiters;
    this.#linkWaiters = [];
    const link = this.#link;
    this.#link = undefined;
    if (link !== undefined) await link.model.close().catch(() => undefined);
    // Operations waiting for a connection learn that there will be none.
    for (const wake of waiters) wake(closedLink);
  }
}

/** A message the broker sent a consumer ahead, with where it came from. */
interface Ahead extends TrackedDelivery {
  readonly channel: Channel;
  /** Its channel's acknowledgements (it is tracked there). */
  readonly acks: Acknowledger;
  readonly link: Link;
  readonly queue: string;
  readonly seen: Seen;
  readonly message: ConsumeMessage;
}

/** What the consumers of one queue in this process know of its message ids. */
interface Seen {
  /** The ids they acknowledged after handling them. */
  readonly acked: IdWindow;
  /**
   * The ids one of them is handling (with deduplication on), each with the copies that reached
   * the others meanwhile: those wait, unacknowledged, for the delivery in progress.
   */
  readonly inFlight: Map<string, { readonly consumer: AmqpConsumer; readonly ahead: Ahead }[] | undefined>;
}

/** Acknowledges a message now, alone; a channel that is gone gives it back to the broker. */
function acknowledge(ahead: Ahead): void {
  ahead.acks.ack(ahead);
}

/**
 * Rejects a message without requeueing it: the broker sends it to the queue's dead-letter
 * exchange (the dead letters). A channel that is gone gives it back to the broker instead.
 */
function reject(ahead: Ahead): void {
  ahead.acks.reject(ahead);
}

/** Why a delivery is dead-lettered without its handler: the earlier ones never settled. */
function neverSettled(deliveries: number, limit: number): string {
  return (
    `Delivered ${deliveries} times without being settled: its consumer crashed, or lost its ` +
    `connection, while handling it (delivery limit ${limit}).`
  );
}

/** A consumer of an {@link AmqpTransport}. */
class AmqpConsumer implements Consumer {
  /** The settlements of the deliveries in progress: at most `concurrency`. */
  readonly running = new Map<Ahead, Promise<void>>();
  /** The targets of the routing keys it has seen (a queue gets few of them). */
  readonly targets = new Map<string, Target | undefined>();
  /** What the broker sent ahead (up to the prefetch), waiting for a delivery to finish. */
  readonly backlog: Ahead[] = [];
  closed = false;
  channel: Channel | undefined = undefined;
  /** The acknowledgements of `channel`. */
  acks: Acknowledger | undefined = undefined;
  tag: string | undefined = undefined;
  /** The queue it consumes on the current connection (a fanout queue's name changes with it). */
  liveQueue: string | undefined = undefined;
  #closing: Promise<void> | undefined = undefined;

  constructor(
    readonly target: Target,
    /** The group of a `{ topic }` consumer. */
    readonly group: string | undefined,
    /** The durable queue it takes from (`undefined` for fanout: the broker names it). */
    readonly queue: string | undefined,
    readonly handler: DeliveryHandler,
    readonly deliveryLimit: number,
    readonly retryBackoff: Required<RetryBackoff> | undefined,
    readonly concurrency: number,
    readonly onClose: (consumer: AmqpConsumer) => Promise<void>,
  ) {}

  close(): Promise<void> {
    this.closed = true;
    this.#closing ??= this.onClose(this);
    return this.#closing;
  }
}

/** A link that is already lost: what operations waiting for a connection get once closing. */
const closedLink: Link = Object.freeze({
  model: undefined as unknown as ChannelModel,
  publisher: undefined as unknown as Publisher,
  requester: undefined as unknown as Channel,
  admin: undefined,
  declared: new Map<string, Promise<void>>(),
  ready: new Set<string>(),
  lost: true,
  gone: Promise.resolve(),
});

/** Publishes on the link's confirm channel; resolves once the broker confirmed. */
function confirmed(
  link: Link,
  exchange: string,
  routingKey: string,
  content: Buffer,
  properties: Options.Publish,
): Promise<void> {
  if (link.lost) return Promise.reject(new TransportError('The connection to the broker was lost.'));
  return link.publisher.send(exchange, routingKey, content, properties);
}

/** The broker's record of why it dead-lettered a message (its first `x-death` entry), if it did. */
function brokerDeath(
  headers: Record<string, unknown>,
): { queue: string; reason: string; exchange: string; routingKey: string } | undefined {
  const deaths = headers['x-death'];
  if (!Array.isArray(deaths) || deaths.length === 0) return undefined;
  const last = deaths[0] as Record<string, unknown>;
  const keys = last['routing-keys'];
  return {
    queue: String(last.queue ?? ''),
    reason: String(last.reason ?? ''),
    exchange: String(last.exchange ?? ''),
    routingKey: Array.isArray(keys) && keys.length > 0 ? String(keys[0]) : '',
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * What the log says of a message the broker returned (published `mandatory`, no queue bound): a
 * cast to a server nobody has ever consumed as, or a message to a pooled topic no group consumes.
 */
function droppedMessage(returned: Message): string {
  const { routingKey } = returned.fields;
  const id = String(returned.properties.messageId);
  if (routingKey.startsWith('topic.')) {
    return `No group consumes ${routingKey.slice('topic.'.length)}: message ${id} was dropped (a pooled topic: no default queue keeps it, and no consumer of a group has started yet).`;
  }
  return `Nobody serves ${routingKey.replace(/^server\./, '').replace(' ', '.')}: message ${id} was dropped (no consumer has listened as that server).`;
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

/** What `work()` resolves to, or the error `timedOut()` makes if it has not settled within `ms`. */
async function within<T>(ms: number, timedOut: () => Error, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const running = work();
  try {
    return await Promise.race([
      running,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(timedOut()), ms))),
    ]);
  } finally {
    clearTimeout(timer);
    running.catch(() => undefined);
  }
}

function asTransportError(error: unknown): Error {
  if (error instanceof TransportError || error instanceof InvalidError) return error;
  return new TransportError(`The AMQP broker refused the operation: ${errorText(error)}`);
}

function checkMilliseconds(element: string, value: unknown): void {
  if (typeof value !== 'number' || !(value > 0) || value > MAX_TIMER_MS) {
    throw new InvalidError(element, value, `pass a number of milliseconds above 0, up to ${MAX_TIMER_MS}.`);
  }
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}

function hasKeys(record: object): boolean {
  for (const _ in record) return true;
  return false;
}
