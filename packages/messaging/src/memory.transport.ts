/**
 * The in-memory transport: the {@link Transport} contract in one process, with no broker. It
 * keeps a broker's rules so that code tested here behaves the same across machines: every body
 * makes a JSON round trip, delivery is asynchronous, a consumer handles one delivery at a time
 * (or up to its `concurrency`), and a message is only gone once its handler has run.
 *
 * Queues, as RabbitMQ would hold them for oslo.messaging:
 * - one per (topic, group) for `{ topic }` targets, kept once declared (by the first consumer of
 *   the group, or by a publish to a topic that has no queue yet: the default group's, as oslo's
 *   notifier declares it). Each group's queue gets a copy of every message.
 * - one per (topic, server) for `{ topic, server }` targets, declared by its first consumer. A
 *   message published while it has no consumer is dropped; what was queued before the last
 *   consumer left waits for the next one.
 * - one per consumer for `{ topic, fanout: true }` targets, gone when the consumer closes (with
 *   what it held, including a delivery that fails while the consumer closes).
 *
 * A failed delivery goes back to the head of its queue (FIFO holds) and the next free consumer
 * in turn retries it; with a retry backoff it waits on a timer instead, then goes to the back. Each queue remembers the ids of the last {@link DEFAULT_DEDUPLICATION_WINDOW}
 * messages it acknowledged, to acknowledge a duplicate without handling it; a copy whose id one
 * of the queue's consumers is handling waits for that delivery, and is dropped if it succeeds or
 * delivered if it fails. Requests are not deduplicated: each is a call waiting for its own reply.
 *
 * A request to `{ topic }` goes to the topic's default group (the one consumers join when they
 * name no group), declared as a publish would if the topic has no queue; a topic with only
 * other groups has nobody to answer, and the request times out. A request that times out leaves
 * its queue (as oslo sets the message's expiry to the timeout).
 * @module
 */

import { errorText, InvalidError, type Logger } from '@herald/core';
import { DeadLetterError, describeTarget, RemoteError, TransportError } from './errors.js';
import type { ReplayOptions } from './transport.js';
import {
  backoffDelayMs,
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
  DEFAULT_DEDUPLICATION_WINDOW,
  IdWindow,
  PendingReply,
  replyOf,
  runHandler,
  timeLimited,
  warn,
  type Outcome,
} from './transport.kit.js';
import {
  DEFAULT_DELIVERY_LIMIT,
  type CloseOptions,
  type ConsumeOptions,
  type Consumer,
  type Delivery,
  type DeliveryHandler,
  type IdleTransport,
  type OutgoingMessage,
  type RequestOptions,
  type RetryBackoff,
  type Target,
} from './transport.js';

/** How many deliveries may follow one another without a turn of the event loop. */
const BURST = 256;

/**
 * Options of an {@link InMemoryTransport}.
 *
 * @example
 * ```ts
 * const transport = new InMemoryTransport({ deliveryLimit: 3, logger: console });
 * ```
 */
export interface InMemoryTransportOptions {
  /** The delivery limit of consumers that set none. Default {@link DEFAULT_DELIVERY_LIMIT}. */
  readonly deliveryLimit?: number;
  /**
   * How many ids of acknowledged messages each queue (each group) remembers, to acknowledge a
   * duplicate without handling it again: the ids of the last messages handled, the oldest
   * forgotten first (a duplicate does not count as handled again). A duplicate that comes while
   * its id is being handled waits for that delivery: dropped if it succeeds, delivered if it
   * fails. 0 turns deduplication off (duplicates are handled, even at the same time).
   * Default {@link DEFAULT_DEDUPLICATION_WINDOW}.
   */
  readonly deduplicationWindow?: number;
  /**
   * The most messages a queue holds waiting for a consumer; publishing one more drops the oldest
   * (RabbitMQ's `x-max-length` with `drop-head`), reported once per queue to the logger. A request
   * dropped so rejects with `TransportError`. Keeps a topic nobody consumes (notifications without
   * a listener) from growing without end. Default `Infinity`, as a broker's queue.
   */
  readonly maxQueueLength?: number;
  /** Where dead-lettered and dropped messages are reported (warning level, or error if it has no `warn`). */
  readonly logger?: Logger;
  /**
   * The retry backoff of consumers that set none: a failed delivery waits on a timer, then goes
   * to the back of its queue, while the consumer takes the messages behind it. Default: none (a
   * failed delivery goes back to the head of its queue at once).
   */
  readonly retryBackoff?: RetryBackoff;
}

/**
 * A message that failed on every delivery up to its consumer's limit, as
 * {@link InMemoryTransport.deadLetters} lists them.
 *
 * @example
 * ```ts
 * for (const letter of transport.deadLetters()) console.warn(letter.delivery.id, letter.error);
 * ```
 */
export interface DeadLetter {
  /** Where the message was published. */
  readonly target: Target;
  /** The consumer group of a `{ topic }` message; `undefined` for `server` and `fanout` ones. */
  readonly group: string | undefined;
  /** The last delivery (its `attempt` is the delivery limit). */
  readonly delivery: Delivery;
  /** The message of the last failure. */
  readonly error: string;
}

/** A request waiting for its reply, and the queue it waits in, if any (none for an absent server: it times out). */
class PendingRequest extends PendingReply {
  queue: Queue | undefined = undefined;
}

/** One copy of a message in one queue. */
interface Message {
  readonly id: string;
  readonly target: Target;
  readonly headers: Readonly<Record<string, string>>;
  /** The body's JSON text: each delivery parses its own copy. */
  readonly json: string;
  attempt: number;
  /** Set for a request: not requeued, not deduplicated, its handler's result is the reply. */
  readonly request: PendingRequest | undefined;
}

/**
 * A FIFO of messages. `Array.prototype.shift` copies the whole array once it is large (V8 only
 * trims small arrays in place), which made a backlog of 20,000 messages quadratic; this one moves
 * a head index instead and compacts now and then.
 */
class Fifo {
  #items: (Message | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(message: Message): void {
    this.#items.push(message);
  }

  /** Puts a message back in front (a requeue). */
  unshift(message: Message): void {
    if (this.#head > 0) this.#items[--this.#head] = message;
    else this.#items.unshift(message);
  }

  shift(): Message | undefined {
    if (this.#head === this.#items.length) return undefined;
    const message = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) this.clear();
    else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return message;
  }

  /** Removes the first message that `matches`. */
  removeFirst(matches: (message: Message) => boolean): void {
    const index = this.#items.findIndex((m, i) => i >= this.#head && m !== undefined && matches(m));
    if (index >= 0) this.#items.splice(index, 1);
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}

/** A queue and the consumers taking from it, in turn. */
class Queue {
  readonly messages = new Fifo();
  readonly consumers: MemoryConsumer[] = [];
  /** Where the round robin starts looking for a free consumer. */
  #next = 0;
  /** The acknowledged ids remembered. */
  readonly acked: IdWindow;
  /**
   * The ids being handled (with deduplication on), each with the copies of it that came meanwhile:
   * they wait for the delivery in progress, so that two consumers never handle one id at once.
   */
  readonly inFlight = new Map<string, Message[]>();
  /** Whether a pump is scheduled. */
  scheduled = false;
  /** Whether the queue has dropped a message for `maxQueueLength` (reported once). */
  overflowed = false;

  constructor(
    /** The group, for `{ topic }` queues. */
    readonly group: string | undefined,
    window: number,
  ) {
    this.acked = new IdWindow(window);
  }

  /** The next consumer in turn that can take one more delivery, or `undefined`. */
  takeFreeConsumer(): MemoryConsumer | undefined {
    const count = this.consumers.length;
    for (let i = 0; i < count; i++) {
      const index = (this.#next + i) % count;
      const consumer = this.consumers[index]!;
      if (consumer.running.size < consumer.concurrency) {
        this.#next = (index + 1) % count;
        return consumer;
      }
    }
    return undefined;
  }

  remove(consumer: MemoryConsumer): void {
    const index = this.consumers.indexOf(consumer);
    if (index < 0) return;
    this.consumers.splice(index, 1);
    // Keep the turn on the consumer that followed the removed one.
    if (index < this.#next) this.#next--;
    if (this.#next >= this.consumers.length) this.#next = 0;
  }
}

/** A consumer of an {@link InMemoryTransport}. */
class MemoryConsumer implements Consumer {
  /** The settlements of the deliveries in progress: at most `concurrency`. */
  readonly running = new Set<Promise<void>>();
  closed = false;

  constructor(
    readonly target: Target,
    readonly handler: DeliveryHandler,
    readonly deliveryLimit: number,
    readonly retryBackoff: Required<RetryBackoff> | undefined,
    readonly concurrency: number,
    readonly queue: Queue,
    readonly onClose: (consumer: MemoryConsumer) => void,
  ) {}

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.onClose(this);
    }
    await Promise.all([...this.running]);
  }
}

/**
 * The in-memory {@link Transport}: no server, same semantics as a broker (see the module
 * comment). The default transport of tests, and of applications that run in one process.
 *
 * @example
 * ```ts
 * const transport = new InMemoryTransport({ logger: console });
 * await transport.consume({ topic: 'notifications.info' }, (d) => audit(d.body), { group: 'audit' });
 * await transport.publish({ topic: 'notifications.info' }, { body: { event_type: 'port.create.end' } });
 * await transport.idle(); // the audit handler has run
 * ```
 */
export class InMemoryTransport implements IdleTransport {
  readonly #deliveryLimit: number;
  readonly #retryBackoff: Required<RetryBackoff> | undefined;
  readonly #window: number;
  readonly #maxQueueLength: number;
  readonly #logger: Logger | undefined;
  /** Per topic, the queue of each group. */
  readonly #groups = new Map<string, Map<string, Queue>>();
  /** Per topic, the queue of each server. */
  readonly #servers = new Map<string, Map<string, Queue>>();
  /** Per topic, the private queue of each fanout consumer. */
  readonly #fanouts = new Map<string, Set<Queue>>();
  readonly #requests = new Set<PendingRequest>();
  readonly #deadLetters: DeadLetter[] = [];
  /** The deliveries whose handler is running. */
  readonly #running = new Set<Promise<void>>();
  /** Pumps scheduled but not run yet. */
  #scheduled = 0;
  /** The timers of failed deliveries waiting out their retry backoff. */
  readonly #backingOff = new Set<NodeJS.Timeout>();
  #idleWaiters: (() => void)[] = [];
  #closing: Promise<void> | undefined = undefined;
  /** Deliveries started in a row without a turn of the event loop (see `#continue`). */
  #burst = 0;

  /**
   * @throws InvalidError for options that are not an object, a delivery limit that is not a
   *   positive integer, a deduplication window that is not a non-negative integer, or a logger
   *   without an `error` method
   */
  constructor(options: InMemoryTransportOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new InvalidError(
        'options',
        options,
        'pass { deliveryLimit, deduplicationWindow, maxQueueLength, logger, retryBackoff } or nothing.',
      );
    }
    const {
      deliveryLimit = DEFAULT_DELIVERY_LIMIT,
      deduplicationWindow = DEFAULT_DEDUPLICATION_WINDOW,
      maxQueueLength = Infinity,
      logger,
      retryBackoff,
    } = options;
    checkDeliveryLimit('options.deliveryLimit', deliveryLimit);
    checkDeduplicationWindow('options.deduplicationWindow', deduplicationWindow);
    checkMaxQueueLength('options.maxQueueLength', maxQueueLength);
    checkLogger('options.logger', logger);
    this.#retryBackoff =
      retryBackoff === undefined ? undefined : checkRetryBackoff('options.retryBackoff', retryBackoff);
    this.#deliveryLimit = deliveryLimit;
    this.#window = deduplicationWindow;
    this.#maxQueueLength = maxQueueLength;
    this.#logger = logger;
  }

  /**
   * Queue `message` for `target` (see {@link Transport.publish}). Resolves once it is queued; its
   * handlers run later, and their failures never reach the publisher.
   *
   * @throws InvalidError for a bad target or message, or a body that JSON cannot carry (nothing
   *   is queued); TransportError once the transport is closing
   * @example
   * ```ts
   * await transport.publish({ topic: 'l3_agent', fanout: true }, { body: { method: 'routers_updated' } });
   * ```
   */
  async publish(target: Target, message: OutgoingMessage): Promise<void> {
    const address = checkTarget(target);
    const prepared = checkMessage(message);
    this.#checkOpen('publish');
    for (const queue of this.#queuesFor(address)) {
      queue.messages.push({ ...prepared, target: address, attempt: 1, request: undefined });
      this.#trim(queue);
      this.#schedule(queue);
    }
  }

  /**
   * Start consuming `target` (see {@link Transport.consume}). A `{ topic }` consumer joins its
   * group's queue and receives what is already waiting there.
   *
   * @throws InvalidError for a bad target, handler or options; TransportError once closing
   * @example
   * ```ts
   * const consumer = await transport.consume({ topic: 'dhcp_agent', server: 'host-1' }, onCast);
   * await consumer.close();
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
    this.#checkOpen('consume');
    const queue = this.#queueFor(address, group);
    const run = timeLimited(handler, address, handlerTimeoutMs);
    const consumer = new MemoryConsumer(address, run, deliveryLimit, retryBackoff, concurrency, queue, (c) =>
      this.#detach(c),
    );
    queue.consumers.push(consumer);
    this.#schedule(queue);
    return consumer;
  }

  /**
   * Send `message` to one consumer of `target` and resolve with its handler's result (see
   * {@link Transport.request}). A `{ topic }` request goes to the topic's default group (the one
   * consumers join when they name no group). The reply's `id` is the request's.
   *
   * @throws InvalidError for a fanout or bad target, a bad message or timeout (nothing is sent);
   *   TransportError once closing, or when the transport closes before the reply
   * @example
   * ```ts
   * const reply = await transport.request({ topic: 'l3_agent', server: 'host-1' }, { body: { method: 'sync' } }, { timeoutMs: 5000 });
   * ```
   */
  async request(target: Target, message: OutgoingMessage, options: RequestOptions): Promise<Delivery> {
    const { target: address, message: prepared, timeoutMs } = checkRequest(target, message, options);
    this.#checkOpen('request');
    const pending: PendingRequest = new PendingRequest(
      address,
      timeoutMs,
      () => this.#requests.delete(pending),
      // As oslo sets the message's expiry to the timeout: nobody will take it any more.
      () => pending.queue !== undefined && dropRequest(pending.queue, pending),
    );
    this.#requests.add(pending);
    // One queue: the default group's, or the server's (none when nobody listens: it times out).
    const [queue] = this.#queuesFor(address, true);
    if (queue !== undefined) {
      pending.queue = queue;
      queue.messages.push({ ...prepared, target: address, attempt: 1, request: pending });
      this.#trim(queue);
      this.#schedule(queue);
    }
    return pending.promise;
  }

  /**
   * Refuse new messages, let the deliveries in progress finish (up to `drainMs`), then stop every
   * consumer, drop what is still queued and reject every pending request with `TransportError`.
   * A handler still running after `drainMs` is left to finish; its result no longer counts. Calling
   * it again returns the same promise. (Its drain timer, like request timers, does not keep the
   * process alive.)
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
   * The messages that failed on every delivery up to their consumer's limit, oldest first.
   *
   * @example
   * ```ts
   * expect(transport.deadLetters().map((l) => l.error)).toEqual(['port not found']);
   * ```
   */
  deadLetters(): readonly DeadLetter[] {
    return [...this.#deadLetters];
  }

  /**
   * Sends dead letters back to the queue they failed in (their group's, or their server's), as
   * new messages (attempt 1, same id), and takes them off the dead letters; resolves to how many.
   * All of them, or only those whose delivery id is `options.id`. A fanout letter goes to the
   * fanout consumers listening now.
   *
   * @throws InvalidError for an `id` that is not a non-empty string
   * @example
   * ```ts
   * await transport.replayDeadLetters({ id: 'port-42-created' });
   * ```
   */
  async replayDeadLetters(options: ReplayOptions = {}): Promise<number> {
    const id = checkReplayOptions(options);
    this.#checkOpen('replay dead letters');
    let replayed = 0;
    for (const letter of [...this.#deadLetters]) {
      if (id !== undefined && letter.delivery.id !== id) continue;
      this.#deadLetters.splice(this.#deadLetters.indexOf(letter), 1);
      const { target, delivery } = letter;
      const queues =
        target.fanout === true || target.server !== undefined
          ? this.#queuesFor(target)
          : [this.#queueFor(target, letter.group ?? target.topic)];
      for (const queue of queues) {
        queue.messages.push({
          id: delivery.id,
          target,
          headers: delivery.headers,
          json: JSON.stringify(delivery.body),
          attempt: 1,
          request: undefined,
        });
        this.#schedule(queue);
      }
      replayed++;
    }
    return replayed;
  }

  /**
   * Drops every dead letter; resolves to how many there were.
   *
   * @example
   * ```ts
   * const dropped = await transport.purgeDeadLetters();
   * ```
   */
  async purgeDeadLetters(): Promise<number> {
    return this.#deadLetters.splice(0).length;
  }

  /**
   * Resolves once no handler is running, no delivery is about to start and no failed one waits
   * out its retry backoff: everything that can be delivered has been (messages waiting for a consumer that does not exist do not count).
   * Never resolves while a handler hangs.
   *
   * @example
   * ```ts
   * await transport.publish({ topic: 'dhcp_agent' }, { body: 1 });
   * await transport.idle();
   * expect(handled).toEqual([1]);
   * ```
   */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
      this.#checkIdle();
    });
  }

  #checkOpen(operation: string): void {
    if (this.#closing !== undefined) {
      throw new TransportError(`Cannot ${operation}: the transport is closed (or closing).`);
    }
  }

  /**
   * The queues a message for `target` goes to. A `{ topic }` message declares the default
   * group's queue when the topic has none; a `server` or `fanout` message declares nothing.
   * `defaultOnly` picks the default group alone (requests).
   */
  #queuesFor(target: Target, defaultOnly = false): Queue[] {
    const { topic, server } = target;
    if (server !== undefined) {
      const queue = this.#servers.get(topic)?.get(server);
      // Nobody listening: dropped, as oslo's direct messages to an absent server.
      return queue !== undefined && queue.consumers.length > 0 ? [queue] : [];
    }
    if (target.fanout === true) return [...(this.#fanouts.get(topic) ?? [])];
    let groups = this.#groups.get(topic);
    if (groups === undefined || groups.size === 0) {
      groups = new Map([[topic, new Queue(topic, this.#window)]]);
      this.#groups.set(topic, groups);
    }
    if (!defaultOnly) return [...groups.values()];
    const queue = groups.get(topic);
    return queue === undefined ? [] : [queue];
  }

  /** The queue a new consumer of `target` takes from, declared if needed. */
  #queueFor(target: Target, group: string): Queue {
    const { topic, server } = target;
    if (target.fanout === true) {
      const queue = new Queue(undefined, this.#window);
      getOrAdd(this.#fanouts, topic, () => new Set<Queue>()).add(queue);
      return queue;
    }
    if (server !== undefined) {
      const queues = getOrAdd(this.#servers, topic, () => new Map<string, Queue>());
      return getOrAdd(queues, server, () => new Queue(undefined, this.#window));
    }
    const groups = getOrAdd(this.#groups, topic, () => new Map<string, Queue>());
    return getOrAdd(groups, group, () => new Queue(group, this.#window));
  }

  /** Stops `consumer` taking messages; a fanout consumer's queue goes with it. */
  #detach(consumer: MemoryConsumer): void {
    const { queue, target } = consumer;
    queue.remove(consumer);
    if (target.fanout === true) {
      this.#fanouts.get(target.topic)?.delete(queue);
      queue.messages.clear();
    } else {
      // Another consumer of the group may be free to take what this one leaves.
      this.#schedule(queue);
    }
    this.#checkIdle();
  }

  /** Runs `queue`'s pump on a later turn (never inside the call that queued a message). */
  #schedule(queue: Queue): void {
    if (queue.scheduled || queue.messages.length === 0 || this.#closing !== undefined) return;
    queue.scheduled = true;
    this.#scheduled++;
    setImmediate(() => {
      this.#burst = 0;
      queue.scheduled = false;
      this.#scheduled--;
      this.#pump(queue);
      this.#checkIdle();
    });
  }

  /** Hands the queue's messages, in order, to its free consumers, in turn. */
  #pump(queue: Queue): void {
    while (queue.messages.length > 0 && this.#closing === undefined) {
      const consumer = queue.takeFreeConsumer();
      if (consumer === undefined) return;
      const message = queue.messages.shift()!;
      if (message.request?.isSettled === true) continue;
      if (message.request === undefined) {
        // Already handled in this queue: acknowledged again, without the handler.
        if (queue.acked.has(message.id)) continue;
        // Being handled by another consumer: it waits for that delivery (see `#settle`).
        const waiting = queue.inFlight.get(message.id);
        if (waiting !== undefined) {
          waiting.push(message);
          continue;
        }
      }
      this.#deliver(queue, consumer, message);
    }
  }

  #deliver(queue: Queue, consumer: MemoryConsumer, message: Message): void {
    if (message.request === undefined && queue.acked.size > 0) queue.inFlight.set(message.id, []);
    const delivery: Delivery = Object.freeze({
      id: message.id,
      target: message.target,
      headers: message.headers,
      body: JSON.parse(message.json) as unknown,
      attempt: message.attempt,
    });
    // The handler starts a microtask later, once the delivery is counted as running: a handler
    // that closes its own consumer at once still has `close()` wait for this delivery.
    const running: Promise<void> = Promise.resolve(delivery)
      .then((d) => runHandler(consumer.handler, d))
      .then((outcome) => {
        this.#settle(queue, consumer, message, delivery, outcome);
        consumer.running.delete(running);
        this.#running.delete(running);
        this.#continue(queue);
        this.#checkIdle();
      });
    consumer.running.add(running);
    this.#running.add(running);
  }

  /**
   * After a delivery: the next one at once, in this microtask, for up to {@link BURST} deliveries
   * in a row; then on the next turn of the event loop. Going on at once spares a turn per
   * message; the budget keeps a handler that publishes to its own topic forever from starving
   * timers (request timeouts, `close`'s drain) and I/O.
   */
  #continue(queue: Queue): void {
    if (this.#burst < BURST) {
      this.#burst++;
      this.#pump(queue);
    } else {
      this.#schedule(queue);
    }
  }

  /**
   * Acknowledges, requeues, dead-letters, or replies. Never throws. The copies of the id that
   * waited for this delivery are dropped when it succeeded (they are duplicates), and go back to
   * the head of the queue when it failed (behind the message itself when it is retried).
   */
  #settle(queue: Queue, consumer: MemoryConsumer, message: Message, delivery: Delivery, outcome: Outcome): void {
    const { request } = message;
    if (request !== undefined) {
      if (!request.isSettled) this.#reply(request, message, outcome);
      return;
    }
    const waiting = queue.inFlight.get(message.id);
    queue.inFlight.delete(message.id);
    if (outcome.ok) {
      queue.acked.add(message.id);
      return;
    }
    if (waiting !== undefined) {
      for (let i = waiting.length - 1; i >= 0; i--) queue.messages.unshift(waiting[i]!);
    }
    if (message.attempt < consumer.deliveryLimit && !(outcome.error instanceof DeadLetterError)) {
      const delayMs = backoffDelayMs(consumer.retryBackoff, message.attempt);
      message.attempt++;
      // (The queue of a fanout consumer that closed meanwhile is gone, and the message with it.)
      if (delayMs === 0) {
        // Back at the head, where it was: FIFO holds, and the next free consumer retries it.
        queue.messages.unshift(message);
      } else {
        // The queue goes on meanwhile; the retry comes back behind what came in, as from a
        // broker's delay queue.
        const timer = setTimeout(() => {
          this.#backingOff.delete(timer);
          queue.messages.push(message);
          this.#schedule(queue);
          this.#checkIdle();
        }, delayMs);
        this.#backingOff.add(timer);
      }
      return;
    }
    const error = errorText(outcome.error);
    this.#deadLetters.push(Object.freeze({ target: message.target, group: queue.group, delivery, error }));
    this.#log(
      `Message ${message.id} to ${describeTarget(message.target)}${queue.group === undefined ? '' : ` (group ${queue.group})`} dead-lettered after ${message.attempt} deliveries: ${error}`,
    );
  }

  #reply(request: PendingRequest, message: Message, outcome: Outcome): void {
    const reply = replyOf(outcome);
    if (!('json' in reply)) {
      request.reject(new RemoteError(reply.name, reply.text));
      return;
    }
    const headers = Object.freeze({});
    request.resolve(
      Object.freeze({ id: message.id, target: message.target, headers, body: JSON.parse(reply.json), attempt: 1 }),
    );
  }

  /** Drops the oldest messages of `queue` beyond `maxQueueLength` (see the option). */
  #trim(queue: Queue): void {
    while (queue.messages.length > this.#maxQueueLength) {
      const dropped = queue.messages.shift()!;
      dropped.request?.reject(
        new TransportError(`The queue of ${describeTarget(dropped.target)} was full: the request was dropped.`),
      );
      if (!queue.overflowed) {
        queue.overflowed = true;
        this.#log(
          `The queue of ${describeTarget(dropped.target)}${queue.group === undefined ? '' : ` (group ${queue.group})`} holds ${this.#maxQueueLength} messages: dropping the oldest (reported once per queue).`,
        );
      }
    }
  }

  #log(text: string): void {
    warn(this.#logger, text);
  }

  #checkIdle(): void {
    if (this.#idleWaiters.length === 0 || this.#scheduled > 0 || this.#running.size > 0 || this.#backingOff.size > 0) {
      return;
    }
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  async #shutDown(drainMs: number): Promise<void> {
    if (this.#running.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, drainMs);
        timer.unref();
      });
      await Promise.race([Promise.allSettled([...this.#running]), timeout]);
      clearTimeout(timer);
    }
    // What waits out its backoff is dropped with the queues.
    for (const timer of this.#backingOff) clearTimeout(timer);
    this.#backingOff.clear();
    for (const queues of [...this.#groups.values(), ...this.#servers.values()]) {
      for (const queue of queues.values()) this.#stop(queue);
    }
    for (const queues of this.#fanouts.values()) for (const queue of queues) this.#stop(queue);
    this.#groups.clear();
    this.#servers.clear();
    this.#fanouts.clear();
    for (const request of [...this.#requests]) {
      request.reject(new TransportError(`The transport closed before ${describeTarget(request.target)} replied.`));
    }
    this.#checkIdle();
  }

  #stop(queue: Queue): void {
    for (const consumer of queue.consumers) consumer.closed = true;
    queue.consumers.length = 0;
    queue.messages.clear();
    queue.inFlight.clear();
  }
}

function dropRequest(queue: Queue, request: PendingRequest): void {
  queue.messages.removeFirst((m) => m.request === request);
}

function getOrAdd<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}
