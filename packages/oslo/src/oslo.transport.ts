/**
 * A Herald {@link Transport} that speaks oslo.messaging's rabbit driver on RabbitMQ, so that
 * Herald's `Notifier`, `NotificationListener`, `RpcClient` and `RpcServer` run unchanged beside
 * OpenStack's Python services: the same exchanges and queues (see `topology.ts`), the same
 * messages (see `wire.ts`), the same failures (see `failure.ts`).
 *
 * What Herald keeps of its own, where the Python side cannot see it: publishes wait for the
 * broker's confirm; a consumer acknowledges a message after its handler ran (oslo's RPC server
 * acknowledges before), and a message whose handler keeps failing goes, after the delivery limit,
 * to a dead-letter queue of Herald's own instead of coming back for ever; duplicates (`_unique_id`)
 * are dropped per queue, as oslo's listeners do, over a larger window.
 * @module
 */

import { errorText, InvalidError, type Logger } from '@herald/core';
import {
  checkCloseOptions,
  checkConsumeOptions,
  checkDeduplicationWindow,
  checkDeliveryLimit,
  checkLogger,
  checkMessage,
  checkRequest,
  checkTarget,
  DeadLetterError,
  DEFAULT_DEDUPLICATION_WINDOW,
  DEFAULT_DELIVERY_LIMIT,
  describeTarget,
  IdWindow,
  PendingReply,
  RPC_CAST_HEADERS,
  runHandler,
  TransportError,
  warn,
  type CloseOptions,
  type ConsumeOptions,
  type Consumer,
  type Delivery,
  type DeliveryHandler,
  type OutgoingMessage,
  type RequestOptions,
  type IdleTransport,
  type Target,
} from '@herald/messaging';
import { connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { errorOfFailure, failureFor } from './failure.js';
import {
  hexId,
  OsloTopology,
  type ExchangeDeclaration,
  type OsloQueueSettings,
  type QueueDeclaration,
} from './topology.js';
import { fromOsloMessage, toOsloMessage, unwrapEnvelope, wrapEnvelope, type OsloMessageKeys } from './wire.js';

/**
 * The default {@link OsloTransportOptions.deadLetterQueue}.
 *
 * @example
 * ```ts
 * const letter = await channel.get(DEFAULT_OSLO_DEAD_LETTER_QUEUE); // amqplib: one dead letter, or false
 * ```
 */
export const DEFAULT_OSLO_DEAD_LETTER_QUEUE = 'herald.oslo.dead_letters';

/**
 * Why a message went to the dead letters, in its headers there: `letter.properties.headers['x-herald-reason']`.
 *
 * @example
 * ```ts
 * const letter = await channel.get(DEFAULT_OSLO_DEAD_LETTER_QUEUE);
 * if (letter) console.log(letter.properties.headers?.[DEAD_LETTER_REASON_HEADER]);
 * ```
 */
export const DEAD_LETTER_REASON_HEADER = 'x-herald-reason';
/**
 * The queue a dead letter was taken from, in its headers: `letter.properties.headers['x-herald-queue']`.
 *
 * @example
 * ```ts
 * const letter = await channel.get(DEFAULT_OSLO_DEAD_LETTER_QUEUE);
 * if (letter) console.log(letter.properties.headers?.[DEAD_LETTER_QUEUE_HEADER]); // e.g. 'dhcp_agent'
 * ```
 */
export const DEAD_LETTER_QUEUE_HEADER = 'x-herald-queue';

/** How many messages one consumer takes from the broker ahead of its handler. */
const PREFETCH = 16;

/**
 * Options of {@link OsloTransport.connect}: the connection, the deployment's oslo settings, Herald's own.
 *
 * @example
 * ```ts
 * const options: OsloTransportOptions = {
 *   url: 'rabbit://neutron:secret@rabbit:5672/', controlExchange: 'neutron', quorumQueues: true, logger: console,
 * };
 * ```
 */
export interface OsloTransportOptions extends OsloQueueSettings {
  /**
   * The broker: oslo's `transport_url` (`rabbit://user:pass@host:5672/vhost`) or an `amqp://`
   * URL. One host only.
   */
  readonly url: string;
  /** Deliveries of one message before it goes to the dead letters. Default `DEFAULT_DELIVERY_LIMIT` (5). */
  readonly deliveryLimit?: number;
  /** How many acknowledged `_unique_id`s each queue remembers to drop duplicates. Default 10,000; 0: none. */
  readonly deduplicationWindow?: number;
  /** Where messages go after their delivery limit, or a `DeadLetterError`. Default {@link DEFAULT_OSLO_DEAD_LETTER_QUEUE}. */
  readonly deadLetterQueue?: string;
  /** Where dead letters, dropped messages and failed replies are reported. Default: none. */
  readonly logger?: Logger;
}

/**
 * oslo's URL scheme (`rabbit://`) as amqplib's (`amqp://`), and an oslo vhost path as is.
 *
 * @example
 * ```ts
 * amqpUrlOf('rabbit://guest:guest@127.0.0.1:5672/neutron'); // 'amqp://guest:guest@127.0.0.1:5672/neutron'
 * ```
 */
export function amqpUrlOf(url: string): string {
  if (typeof url !== 'string' || !/^(rabbit|amqps?):\/\/[^,]+$/.test(url)) {
    throw new InvalidError(
      'url',
      url,
      `pass one broker as oslo's transport_url ('rabbit://user:pass@host:5672/vhost') or an amqp:// URL.`,
    );
  }
  return url.replace(/^rabbit:/, 'amqp:');
}

/** One consumer's queue, channel and state. */
class OsloConsumer implements Consumer {
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;
  #closing = false;
  #closed: Promise<void> | undefined;

  constructor(
    readonly target: Target,
    readonly queue: string,
    private readonly channel: Channel,
    private readonly onClosed: (consumer: OsloConsumer) => void,
  ) {}

  /** The broker's consumer tag, once it listens (to cancel it). */
  tag: string | undefined;

  /** Queues `work` after the deliveries before it: one delivery at a time, in order. */
  enqueue(work: () => Promise<void>): void {
    this.#pending++;
    // Once closing, what is left is given back to the broker by closing the channel.
    this.#tail = this.#tail.then(() => (this.#closing ? undefined : work())).finally(() => void this.#pending--);
  }

  /** Whether a delivery is queued in this process or running. */
  get busy(): boolean {
    return this.#pending > 0;
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#closing = true;
    if (this.tag !== undefined) await this.channel.cancel(this.tag).catch(() => undefined);
    await this.#tail;
    // Closing the channel gives the broker back what was prefetched and not handled.
    await this.channel.close().catch(() => undefined);
    this.onClosed(this);
  }
}

/**
 * The oslo.messaging transport (rabbit driver) for Herald. Create it with
 * {@link OsloTransport.connect}; pass it where a `Transport` goes.
 *
 * Addresses: `{ topic }` is oslo's topic queue on the control exchange (shared by a group: the
 * group's name is the queue's, as a listener pool's), `{ topic, server }` the queue `topic.server`,
 * `{ topic, fanout: true }` the exchange `<topic>_fanout`. A message without `_msg_id` is a cast
 * (its delivery carries `RPC_CAST_HEADERS`); a call's reply, or its failure, goes to its `_reply_q`.
 *
 * @example
 * ```ts
 * const transport = await OsloTransport.connect({ url: 'rabbit://guest:guest@rabbit:5672/', controlExchange: 'neutron' });
 * const notifier = new Notifier(transport, { publisherId: 'network.herald-1' });
 * await notifier.info({ request_id: 'req-1' }, 'port.create.end', { port });
 * const dhcp = new RpcClient(transport, { topic: 'dhcp_agent', version: '1.0' });
 * await dhcp.prepare({ server: 'host-1' }).cast({}, 'port_create_end', { payload: { port } });
 * ```
 */
export class OsloTransport implements IdleTransport {
  /** The queues and exchanges it declares. */
  readonly topology: OsloTopology;
  readonly #model: ChannelModel;
  readonly #logger: Logger | undefined;
  readonly #deliveryLimit: number;
  readonly #window: number;
  readonly #deadLetterQueue: string;
  #publisher: Promise<ConfirmChannel> | undefined;
  /**
   * The declarations made (or under way) on the publish channel, by what they declare: a burst of
   * publishes to a new topic waits for one declaration instead of sending one each.
   */
  readonly #declared = new Map<string, Promise<void>>();
  /** Acknowledged ids, by queue (so a group's consumers in this process share them). */
  readonly #seen = new Map<string, IdWindow>();
  /** Deliveries so far of messages that failed, by queue and id. */
  readonly #attempts = new Map<string, number>();
  readonly #consumers = new Set<OsloConsumer>();
  readonly #requests = new Map<string, PendingReply>();
  #replyQueue: Promise<string> | undefined;
  /** Publishes not confirmed yet. */
  readonly #unconfirmed = new Set<Promise<void>>();
  #closed = false;

  private constructor(model: ChannelModel, options: OsloTransportOptions) {
    this.#model = model;
    this.topology = new OsloTopology(options);
    this.#logger = options.logger;
    this.#deliveryLimit = options.deliveryLimit ?? DEFAULT_DELIVERY_LIMIT;
    this.#window = options.deduplicationWindow ?? DEFAULT_DEDUPLICATION_WINDOW;
    this.#deadLetterQueue = options.deadLetterQueue ?? DEFAULT_OSLO_DEAD_LETTER_QUEUE;
    model.on('error', (error: Error) => warn(this.#logger, `oslo transport: connection error: ${error.message}`));
    model.on('close', () => {
      if (this.#closed) return;
      this.#closed = true;
      this.#failRequests('the connection to the broker was lost');
      warn(this.#logger, 'oslo transport: the connection to the broker was lost; create a new transport.');
    });
  }

  /**
   * Connects to the broker. The options are checked before anything is sent.
   *
   * @throws InvalidError for a bad URL or option (see {@link OsloTransportOptions})
   * @throws TransportError when the broker cannot be reached
   * @example
   * ```ts
   * const transport = await OsloTransport.connect({ url: process.env.HERALD_OSLO_URL!, controlExchange: 'neutron' });
   * ```
   */
  static async connect(options: OsloTransportOptions): Promise<OsloTransport> {
    if (options === null || typeof options !== 'object') {
      throw new InvalidError('options', options, `pass { url: 'rabbit://user:pass@host:5672/', controlExchange? }.`);
    }
    const url = amqpUrlOf(options.url);
    new OsloTopology(options);
    if (options.deliveryLimit !== undefined) checkDeliveryLimit('deliveryLimit', options.deliveryLimit);
    if (options.deduplicationWindow !== undefined) {
      checkDeduplicationWindow('deduplicationWindow', options.deduplicationWindow);
    }
    const { deadLetterQueue } = options;
    if (deadLetterQueue !== undefined && (typeof deadLetterQueue !== 'string' || deadLetterQueue === '')) {
      throw new InvalidError('deadLetterQueue', deadLetterQueue, 'pass a queue name, or leave it out.');
    }
    checkLogger('logger', options.logger);
    let model: ChannelModel;
    try {
      model = await connect(url, { noDelay: true, clientProperties: { connection_name: 'herald-oslo' } });
    } catch (error) {
      throw new TransportError(`Cannot connect to the broker at ${redact(url)}: ${errorText(error)}`, {
        cause: error,
      });
    }
    return new OsloTransport(model, options);
  }

  /**
   * Sends a message as oslo does: a `{ topic }` message to the control exchange, with the
   * topic's queue declared so that it waits there (as oslo's notifier); a `{ topic, server }`
   * message to `topic.server`; a fanout message to `<topic>_fanout`. Resolves once the broker
   * confirmed it. The body must be an object (Herald's `Notifier` and `RpcClient` write them).
   *
   * @example
   * ```ts
   * await transport.publish({ topic: 'dhcp_agent', server: 'host-1' }, {
   *   body: { method: 'port_create_end', args: { payload: { port } }, version: '1.0', context: {} },
   * });
   * ```
   */
  async publish(target: Target, message: OutgoingMessage): Promise<void> {
    const address = checkTarget(target);
    const checked = checkMessage(message);
    const wire = toOsloMessage(JSON.parse(checked.json), { uniqueId: checked.id });
    this.#checkOpen();
    const sent = this.#send(address, wire);
    const tracked = sent.catch(() => undefined);
    this.#unconfirmed.add(tracked);
    void tracked.then(() => this.#unconfirmed.delete(tracked));
    await sent;
  }

  /**
   * Resolves once this process is quiet: every publish confirmed, and every consumer of this
   * transport with nothing running, nothing taken ahead, and nothing waiting in its queue on the
   * broker. Messages for consumers in other processes (Python's) are theirs to wait for.
   *
   * @example
   * ```ts
   * await api.createPort(ctx, port);
   * await transport.idle(); // the agents in this process have handled the casts
   * ```
   */
  async idle(): Promise<void> {
    let channel: Channel | undefined;
    try {
      for (;;) {
        await Promise.all(this.#unconfirmed);
        const consumers = [...this.#consumers];
        if (consumers.every((consumer) => !consumer.busy)) {
          channel ??= await this.#model.createChannel();
          channel.on('error', () => undefined);
          let waiting = 0;
          for (const consumer of consumers) waiting += (await channel.checkQueue(consumer.queue)).messageCount;
          if (waiting === 0 && this.#unconfirmed.size === 0 && consumers.every((consumer) => !consumer.busy)) return;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } finally {
      await channel?.close().catch(() => undefined);
    }
  }

  /**
   * Consumes `target` from oslo's queue for it; see the class. Each message is handled once at a
   * time per consumer, acknowledged after the handler returned, requeued when it threw (until the
   * delivery limit, then dead-lettered). A call's reply is sent before the acknowledgement.
   *
   * @example
   * ```ts
   * await transport.consume({ topic: 'notifications.info' }, (delivery) => console.log(delivery.body), { group: 'herald-audit' });
   * ```
   */
  async consume(target: Target, handler: DeliveryHandler, options: ConsumeOptions = {}): Promise<Consumer> {
    const address = checkTarget(target);
    if (typeof handler !== 'function') {
      throw new InvalidError('handler', handler, 'pass a function (delivery) => result.');
    }
    const { group, deliveryLimit, retryBackoff, concurrency } = checkConsumeOptions(options, address, {
      deliveryLimit: this.#deliveryLimit,
    });
    if (retryBackoff !== undefined || concurrency !== 1) {
      throw new InvalidError(
        retryBackoff === undefined ? 'options.concurrency' : 'options.retryBackoff',
        retryBackoff === undefined ? concurrency : options.retryBackoff,
        "leave it out: oslo's queues retry at once and take one message at a time (use AmqpTransport for more).",
      );
    }
    this.#checkOpen();
    const channel = await this.#model.createChannel();
    channel.on('error', (error: Error) => warn(this.#logger, `oslo transport: consumer channel: ${error.message}`));
    try {
      const queue = await this.#bindQueue(channel, address, group);
      await channel.prefetch(PREFETCH);
      const consumer = new OsloConsumer(address, queue, channel, (closed) => this.#consumers.delete(closed));
      const { consumerTag } = await channel.consume(queue, (message) => {
        // `null`: the broker cancelled the consumer (its queue was deleted); nothing more comes.
        if (message === null) return;
        consumer.enqueue(() =>
          this.#deliver(channel, consumer, message, handler, deliveryLimit).catch((error: unknown) =>
            // Only settling can fail here (a closed channel): the broker redelivers the message.
            warn(this.#logger, `oslo transport: could not settle a message of ${queue}: ${errorText(error)}`),
          ),
        );
      });
      consumer.tag = consumerTag;
      this.#consumers.add(consumer);
      return consumer;
    } catch (error) {
      await channel.close().catch(() => undefined);
      throw this.#declarationError(address, error);
    }
  }

  /**
   * Calls, as oslo's `RPCClient.call`: the message carries `_msg_id` and this transport's reply
   * queue (`reply_<uuid hex>`, declared on the first call), expires after `timeoutMs` as oslo's
   * do, and the reply's `result` is the delivery's body. Rejects with `OsloRemoteError` (a
   * `RemoteError`) for a `failure`, and with `CallTimeoutError` after `timeoutMs`.
   *
   * @example
   * ```ts
   * const reply = await transport.request({ topic: 'q-plugin' }, { body: { method: 'get_ports', args: {}, context: {} } }, { timeoutMs: 5_000 });
   * ```
   */
  async request(target: Target, message: OutgoingMessage, options: RequestOptions): Promise<Delivery> {
    const checked = checkRequest(target, message, options);
    this.#checkOpen();
    this.#replyQueue ??= this.#listenForReplies().catch((error: unknown) => {
      // The next call tries again rather than failing on this one's error for ever.
      this.#replyQueue = undefined;
      throw new TransportError(`Cannot listen for replies: ${errorText(error)}`, { cause: error });
    });
    const replyQueue = await this.#replyQueue;
    const msgId = hexId();
    const keys: OsloMessageKeys = { uniqueId: checked.message.id, call: { msgId, replyQueue } };
    const wire = toOsloMessage(JSON.parse(checked.message.json), keys);
    const pending = new PendingReply(checked.target, checked.timeoutMs, () => this.#requests.delete(msgId));
    this.#requests.set(msgId, pending);
    this.#send(checked.target, wire, String(checked.timeoutMs)).catch((error: Error) => pending.reject(error));
    return pending.promise;
  }

  /**
   * Refuses new messages, lets every consumer finish the delivery in progress (up to `drainMs`),
   * rejects the calls still waiting with `TransportError`, and closes the connection. Closing a
   * closed transport does nothing.
   *
   * @example
   * ```ts
   * await transport.close({ drainMs: 2_000 });
   * ```
   */
  async close(options: CloseOptions = {}): Promise<void> {
    const drainMs = checkCloseOptions(options);
    if (this.#closed) return;
    this.#closed = true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs)));
    await Promise.race([Promise.all([...this.#consumers].map((consumer) => consumer.close())), deadline]);
    clearTimeout(timer);
    this.#failRequests('the transport was closed');
    await this.#model.close().catch(() => undefined);
  }

  #checkOpen(): void {
    if (this.#closed) throw new TransportError('The oslo transport is closed: create a new one.');
  }

  #failRequests(why: string): void {
    for (const request of [...this.#requests.values()]) {
      request.reject(new TransportError(`No reply from ${describeTarget(request.target)}: ${why}.`));
    }
  }

  /** Declares what `target` is published to, then publishes `message` in an envelope, confirmed. */
  async #send(target: Target, message: Record<string, unknown>, expiration?: string): Promise<void> {
    const channel = await this.#publishChannel();
    let exchange: string;
    let routingKey: string;
    try {
      if (target.fanout === true) {
        const fanout = this.topology.fanoutExchange(target.topic);
        await this.#declareExchange(channel, fanout);
        [exchange, routingKey] = [fanout.name, target.topic];
      } else {
        const control = this.topology.controlExchangeDeclaration();
        await this.#declareExchange(channel, control);
        routingKey = target.server === undefined ? target.topic : `${target.topic}.${target.server}`;
        // As oslo's notifier: a topic message waits in the topic's queue until someone consumes it.
        if (target.server === undefined)
          await this.#declareQueue(channel, this.topology.topicQueue(routingKey), control.name, routingKey);
        exchange = control.name;
      }
    } catch (error) {
      throw this.#declarationError(target, error);
    }
    const content = Buffer.from(JSON.stringify(wrapEnvelope(message)));
    await new Promise<void>((resolve, reject) => {
      channel.publish(
        exchange,
        routingKey,
        content,
        {
          contentType: 'application/json',
          contentEncoding: 'utf-8',
          // kombu's default, which oslo keeps.
          persistent: true,
          ...(expiration !== undefined && { expiration }),
        },
        (error: unknown) =>
          error == null
            ? resolve()
            : reject(
                new TransportError(`The broker did not take the message for ${describeTarget(target)}.`, {
                  cause: error,
                }),
              ),
      );
    });
  }

  /** The confirm channel publishes go through, opened again after a channel error. */
  #publishChannel(): Promise<ConfirmChannel> {
    this.#publisher ??= this.#model.createConfirmChannel().then((channel) => {
      channel.on('error', (error: Error) => warn(this.#logger, `oslo transport: publish channel: ${error.message}`));
      channel.on('close', () => {
        this.#publisher = undefined;
        this.#declared.clear();
      });
      return channel;
    });
    return this.#publisher;
  }

  /** Runs `declare` once per `key` on the publish channel (again after a failure or a new channel). */
  #declareOnce(key: string, declare: () => Promise<unknown>): Promise<void> {
    let declared = this.#declared.get(key);
    if (declared === undefined) {
      declared = declare().then(() => undefined);
      this.#declared.set(key, declared);
      declared.catch(() => this.#declared.delete(key));
    }
    return declared;
  }

  #declareExchange(channel: Channel, exchange: ExchangeDeclaration): Promise<void> {
    return this.#declareOnce(`exchange:${exchange.name}`, () =>
      channel.assertExchange(exchange.name, exchange.type, {
        durable: exchange.durable,
        autoDelete: exchange.autoDelete,
      }),
    );
  }

  #declareQueue(channel: Channel, queue: QueueDeclaration, exchange: string, routingKey: string): Promise<void> {
    return this.#declareOnce(`queue:${queue.name}:${exchange}:${routingKey}`, async () => {
      await channel.assertQueue(queue.name, {
        durable: queue.durable,
        autoDelete: queue.autoDelete,
        arguments: { ...queue.arguments },
      });
      await channel.bindQueue(queue.name, exchange, routingKey);
    });
  }

  /** Declares and binds the queue `target` is consumed from, on the consumer's channel; its name. */
  async #bindQueue(channel: Channel, target: Target, group: string): Promise<string> {
    if (target.fanout === true) {
      const exchange = this.topology.fanoutExchange(target.topic);
      const queue = this.topology.fanoutQueue(target.topic);
      await channel.assertExchange(exchange.name, exchange.type, { durable: false, autoDelete: true });
      await channel.assertQueue(queue.name, { durable: false, autoDelete: false, arguments: { ...queue.arguments } });
      await channel.bindQueue(queue.name, exchange.name, target.topic);
      return queue.name;
    }
    const control = this.topology.controlExchangeDeclaration();
    const routingKey = target.server === undefined ? target.topic : `${target.topic}.${target.server}`;
    const queue = this.topology.topicQueue(target.server === undefined ? group : routingKey);
    await channel.assertExchange(control.name, 'topic', { durable: control.durable, autoDelete: control.autoDelete });
    await channel.assertQueue(queue.name, {
      durable: queue.durable,
      autoDelete: queue.autoDelete,
      arguments: { ...queue.arguments },
    });
    await channel.bindQueue(queue.name, control.name, routingKey);
    return queue.name;
  }

  /** A declaration the broker refused, most often because the deployment's settings differ. */
  #declarationError(target: Target, error: unknown): Error {
    if (error instanceof InvalidError || error instanceof TransportError) return error;
    const text = errorText(error);
    const hint = /PRECONDITION_FAILED/.test(text)
      ? ' The queue or exchange exists with other settings: set durableQueues, autoDelete, haQueues, ' +
        "quorumQueues and controlExchange as the deployment's oslo.messaging configuration does."
      : '';
    return new TransportError(`The broker refused the queues of ${describeTarget(target)}: ${text}.${hint}`, {
      cause: error,
    });
  }

  /** Handles one message of `consumer`: deduplicate, run the handler, reply, settle. */
  async #deliver(
    channel: Channel,
    consumer: OsloConsumer,
    message: ConsumeMessage,
    handler: DeliveryHandler,
    deliveryLimit: number,
  ): Promise<void> {
    let decoded: ReturnType<typeof fromOsloMessage>;
    try {
      decoded = fromOsloMessage(unwrapEnvelope(JSON.parse(message.content.toString('utf8'))));
    } catch (error) {
      await this.#deadLetter(channel, consumer, message, `not an oslo message: ${errorText(error)}`);
      return;
    }
    const { body, uniqueId, msgId, replyQueue } = decoded;
    const id = uniqueId ?? (typeof body.message_id === 'string' ? body.message_id : hexId());
    const seen = this.#windowOf(consumer.queue);
    if (seen.has(id)) {
      channel.ack(message);
      return;
    }
    const attemptKey = `${consumer.queue}\u0000${id}`;
    const attempt = Math.max((this.#attempts.get(attemptKey) ?? 0) + 1, quorumAttempt(message));
    const delivery: Delivery = Object.freeze({
      id,
      target: consumer.target,
      headers: msgId === undefined ? RPC_CAST_HEADERS : Object.freeze({}),
      body,
      attempt,
    });
    const outcome = await runHandler(handler, delivery);
    if (msgId !== undefined) {
      // A call is answered once and never retried, as oslo's server does: the caller decides.
      if (replyQueue !== undefined) await this.#reply(replyQueue, msgId, outcome);
      seen.add(id);
      channel.ack(message);
      return;
    }
    if (outcome.ok) {
      this.#attempts.delete(attemptKey);
      seen.add(id);
      channel.ack(message);
      return;
    }
    if (outcome.error instanceof DeadLetterError || attempt >= deliveryLimit) {
      this.#attempts.delete(attemptKey);
      const reason =
        outcome.error instanceof DeadLetterError
          ? outcome.error.reason
          : `failed ${attempt} times (delivery limit ${deliveryLimit}): ${errorText(outcome.error)}`;
      await this.#deadLetter(channel, consumer, message, reason);
      return;
    }
    this.#attempts.set(attemptKey, attempt);
    channel.nack(message, false, true);
  }

  #windowOf(queue: string): IdWindow {
    let window = this.#seen.get(queue);
    if (window === undefined) this.#seen.set(queue, (window = new IdWindow(this.#window)));
    return window;
  }

  /** Sends a call's reply as oslo's server does: `{ result, failure, ending, _msg_id, _unique_id }`. */
  async #reply(replyQueue: string, msgId: string, outcome: Awaited<ReturnType<typeof runHandler>>): Promise<void> {
    let result: unknown = null;
    let failure: string | null = null;
    if (outcome.ok) {
      try {
        result = JSON.parse(JSON.stringify(outcome.value ?? null));
      } catch (error) {
        failure = JSON.stringify(
          failureFor(
            new InvalidError('reply', outcome.value, `return a JSON value from an RPC method: ${errorText(error)}`),
          ),
        );
      }
    } else {
      failure = JSON.stringify(failureFor(outcome.error));
    }
    const reply = { result, failure, ending: true, _msg_id: msgId, _unique_id: hexId() };
    try {
      const channel = await this.#publishChannel();
      await new Promise<void>((resolve, reject) => {
        channel.publish(
          '',
          replyQueue,
          Buffer.from(JSON.stringify(wrapEnvelope(reply))),
          { contentType: 'application/json', contentEncoding: 'utf-8', persistent: true },
          (error: unknown) => (error == null ? resolve() : reject(error as Error)),
        );
      });
    } catch (error) {
      warn(this.#logger, `oslo transport: could not reply to ${msgId} on ${replyQueue}: ${errorText(error)}`);
    }
  }

  /** Moves `message` to the dead-letter queue with `reason`, then acknowledges it. */
  async #deadLetter(channel: Channel, consumer: OsloConsumer, message: ConsumeMessage, reason: string): Promise<void> {
    warn(this.#logger, `oslo transport: dead-lettered a message from ${consumer.queue}: ${reason}`);
    try {
      const publisher = await this.#publishChannel();
      await this.#declareOnce(`queue:${this.#deadLetterQueue}`, () =>
        publisher.assertQueue(this.#deadLetterQueue, { durable: true }),
      );
      await new Promise<void>((resolve, reject) => {
        publisher.sendToQueue(
          this.#deadLetterQueue,
          message.content,
          {
            ...message.properties,
            persistent: true,
            headers: {
              ...message.properties.headers,
              [DEAD_LETTER_REASON_HEADER]: reason,
              [DEAD_LETTER_QUEUE_HEADER]: consumer.queue,
            },
          },
          (error: unknown) => (error == null ? resolve() : reject(error as Error)),
        );
      });
      channel.ack(message);
    } catch (error) {
      // Not confirmed in the dead letters: leave it in its queue rather than lose it.
      warn(this.#logger, `oslo transport: could not dead-letter (${errorText(error)}); the message is requeued.`);
      channel.nack(message, false, true);
    }
  }

  /** Declares this transport's reply queue and consumes it; its name. */
  async #listenForReplies(): Promise<string> {
    const queue = this.topology.replyQueue();
    const channel = await this.#model.createChannel();
    channel.on('error', (error: Error) => warn(this.#logger, `oslo transport: reply channel: ${error.message}`));
    await channel.assertQueue(queue.name, {
      durable: queue.durable,
      autoDelete: queue.autoDelete,
      arguments: { ...queue.arguments },
    });
    await channel.consume(queue.name, (message) => {
      if (message === null) return;
      channel.ack(message);
      this.#onReply(message);
    });
    return queue.name;
  }

  /** Settles the call a reply is for; heartbeats (`ending: false` without a result) are ignored. */
  #onReply(message: ConsumeMessage): void {
    let reply: Record<string, unknown>;
    try {
      reply = unwrapEnvelope(JSON.parse(message.content.toString('utf8')));
    } catch (error) {
      warn(this.#logger, `oslo transport: dropped a reply that is not an oslo message: ${errorText(error)}`);
      return;
    }
    const pending = typeof reply._msg_id === 'string' ? this.#requests.get(reply._msg_id) : undefined;
    if (pending === undefined) return;
    if (reply.failure !== null && reply.failure !== undefined) {
      pending.reject(errorOfFailure(reply.failure));
      return;
    }
    if (reply.ending === false && (reply.result === null || reply.result === undefined)) return;
    pending.resolve(
      Object.freeze({
        id: typeof reply._unique_id === 'string' ? reply._unique_id : hexId(),
        target: pending.target,
        headers: Object.freeze({}),
        body: reply.result ?? null,
        attempt: 1,
      }),
    );
  }
}

/** The attempt a quorum queue counts (`x-delivery-count`, the deliveries before this one), or 0. */
function quorumAttempt(message: ConsumeMessage): number {
  const count: unknown = message.properties.headers?.['x-delivery-count'];
  return typeof count === 'number' ? count + 1 : 0;
}

/** `url` without its password, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
