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
 * This module is the facade: the transport's public methods, and the publish path. The rest is
 * one concept per module:
 *
 * - `options.ts`: the options, their defaults, and the checked settings every part reads;
 * - `connection.ts`: the connection to the broker, its reconnection, and running operations on it;
 * - `queues.ts`: what is declared on the broker, with which arguments;
 * - `consumers.ts`: attaching consumers, handling and settling their deliveries (retry or bury),
 *   and `amqp-consumer.ts`: what one consumer holds;
 * - `deliveries.ts`: reading a message as a delivery;
 * - `dead-letters.ts`: listing, replaying and purging the dead letters;
 * - `requests.ts`: requests and their replies;
 * - `publisher.ts` (publishing with confirms), `acknowledger.ts` (acknowledgements), `topology.ts`
 *   (names and routing keys).
 * @module
 */

import { InvalidError } from '@herald/core';
import {
  checkCloseOptions,
  checkConsumeOptions,
  checkMessage,
  checkReplayOptions,
  checkRequest,
  checkTarget,
  describeTarget,
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
  type ReplayOptions,
  type RequestOptions,
  type Target,
} from '@herald/messaging';
import type { Message, Options } from 'amqplib';
import { adminChannel, confirmed, Connection, type Link } from './connection.js';
import { Consumers } from './consumers.js';
import { DeadLetters } from './dead-letters.js';
import { MessageTooLargeError } from './errors.js';
import { settingsOf, type AmqpTransportOptions, type Settings } from './options.js';
import { Queues } from './queues.js';
import { Requests } from './requests.js';
import { checkUserHeaders } from './topology.js';

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
  readonly #settings: Settings;
  readonly #connection: Connection;
  readonly #queues: Queues;
  readonly #consumers: Consumers;
  readonly #requests: Requests;
  readonly #deadLetters: DeadLetters;
  /** The publishes waiting for the broker's confirm. */
  readonly #publishing = new Set<Promise<void>>();
  #closing: Promise<void> | undefined = undefined;

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
      await transport.#connection.whenLinked(Date.now() + transport.#settings.connectTimeoutMs, 'connect');
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
    const settings = settingsOf(options);
    this.#settings = settings;
    this.#queues = new Queues(settings);
    this.#connection = new Connection(settings, {
      prepare: (channel) => this.#queues.declareNamespace(channel),
      reply: (message) => this.#requests.receive(message),
      returned: (message) => warn(settings.logger, droppedMessage(message)),
      linked: (link) => this.#consumers.reattachAll(link),
      // Direct reply-to replies come back on the lost channel: nothing will answer these.
      lost: () =>
        this.#requests.rejectAll((target) => `The connection to the broker was lost before ${target} replied.`),
    });
    this.#consumers = new Consumers(settings, this.#connection, this.#queues);
    this.#requests = new Requests(settings, this.#connection, this.#queues);
    this.#deadLetters = new DeadLetters(settings, this.#connection, this.#queues);
    this.#connection.start();
  }

  /** The queue where messages that failed on every delivery go. */
  get deadLetterQueue(): string {
    return this.#settings.topology.deadLetterQueue;
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
    const settings = this.#settings;
    settings.topology.checkFits(address);
    const body = this.#bodyOf(checked);
    this.#checkOpen('publish');
    const topic = address.server === undefined && address.fanout !== true;
    const pooled = topic && settings.isPooled(address.topic);
    const properties: Options.Publish = {
      messageId: checked.id,
      userId: settings.user,
      // The routing key says where it went: no header to encode unless the publisher set some.
      ...(hasKeys(checked.headers) && { headers: checked.headers }),
      persistent: address.fanout !== true,
      // A cast to a server nobody serves, or a message to a pooled topic no group consumes yet,
      // comes back, to be reported (see the publisher's onReturn).
      mandatory: address.server !== undefined || pooled,
      contentType: 'application/json',
    };
    const routingKey = settings.topology.routingKey(address);
    const send = (link: Link): Promise<void> =>
      confirmed(link, settings.topology.exchange, routingKey, body, properties);
    const publishing = this.#connection.withLink(Date.now() + settings.connectTimeoutMs, (link) =>
      // A broker that is connected but does not answer (a quorum queue without a leader holds the
      // confirm for a minute or more) must not hold the publish for ever.
      within(
        settings.connectTimeoutMs,
        () => this.#unconfirmed(address, checked.id),
        () =>
          // Once the topic's queue is declared on this connection, no wait for it (the usual case).
          !topic || pooled || link.ready.has(address.topic)
            ? send(link)
            : this.#queues.declareDefaultQueue(link, address.topic).then(() => send(link)),
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
      `The broker did not confirm message ${id} to ${describeTarget(target)} within ${this.#settings.connectTimeoutMs} ms (connectTimeoutMs), though connected: a queue it goes to is not answering (a quorum queue without a leader?). It may still arrive: publishing it again is safe, its consumers drop the duplicate by id.`,
    );
  }

  /** The body of `message` as bytes; refuses one above `maxMessageBytes`. */
  #bodyOf(message: CheckedMessage): Buffer {
    const body = Buffer.from(message.json);
    const { maxMessageBytes } = this.#settings;
    if (body.length > maxMessageBytes) throw new MessageTooLargeError(body.length, maxMessageBytes);
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
      { deliveryLimit: this.#settings.deliveryLimit, retryBackoff: this.#settings.retryBackoff },
    );
    const kind = address.server !== undefined ? 'server' : address.fanout === true ? 'fanout' : 'group';
    const { topology } = this.#settings;
    topology.checkFits(address, kind === 'group' ? group : undefined);
    this.#checkOpen('consume');
    const queue =
      kind === 'server'
        ? topology.serverQueue(address.topic, address.server!)
        : kind === 'group'
          ? topology.groupQueue(address.topic, group)
          : undefined;
    return this.#consumers.start(
      address,
      kind === 'group' ? group : undefined,
      queue,
      timeLimited(handler, address, handlerTimeoutMs),
      deliveryLimit,
      retryBackoff,
      concurrency,
    );
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
    this.#settings.topology.checkFits(address);
    const body = this.#bodyOf(checked);
    this.#checkOpen('request');
    return this.#requests.send(address, checked, body, timeoutMs);
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
    return this.#deadLetters.list();
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
    return this.#deadLetters.replay(id);
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
    return this.#deadLetters.purge();
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
      await Promise.allSettled([...this.#publishing, ...this.#consumers.running.values()]);
      // A retry waiting in a delay queue is still to be handled.
      const queues = this.#consumers.waitingQueues();
      const waiting = await this.#connection.withLink(Date.now() + this.#settings.connectTimeoutMs, async (link) => {
        const admin = await adminChannel(link);
        const counts = await Promise.all(
          [...new Set(queues)].map((queue) =>
            // A queue gone meanwhile (its consumer closed) holds nothing.
            admin.checkQueue(queue).catch(() => ({ messageCount: 0 })),
          ),
        );
        return counts.reduce((sum, { messageCount }) => sum + messageCount, 0);
      });
      const busy =
        waiting > 0 || this.#consumers.hasBacklog || this.#publishing.size > 0 || this.#consumers.running.size > 0;
      quiet = busy ? 0 : quiet + 1;
      await new Promise((resolve) => setTimeout(resolve, busy ? 2 : 10));
    }
  }

  #checkOpen(operation: string): void {
    if (this.#closing !== undefined) {
      throw new TransportError(`Cannot ${operation}: the transport is closed (or closing).`);
    }
  }

  async #shutDown(drainMs: number): Promise<void> {
    this.#connection.stopReconnecting();
    await this.#consumers.stop(drainMs);
    this.#requests.rejectAll((target) => `The transport closed before ${target} replied.`);
    await this.#connection.close();
  }
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

function hasKeys(record: object): boolean {
  for (const _ in record) return true;
  return false;
}
