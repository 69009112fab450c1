/**
 * The transport's consumers: attaching each to the connection (its channel, queue, prefetch and
 * the delay queues of its retry backoff) and again after a reconnection, a channel error or a
 * cancel; taking the deliveries the broker sends ahead, up to the consumer's concurrency;
 * dropping or holding a duplicate by id; running the handler; and settling each delivery:
 * acknowledged (several in one frame, see `acknowledger.ts`), replied to, retried (at once or
 * after its backoff, in a delay queue) or buried in the dead letters.
 *
 * This is the hot path of consuming: a delivery is one object ({@link Ahead}) from the broker's
 * callback to its acknowledgement.
 * @module
 */

import { errorText } from '@herald/core';
import {
  backoffDelayMs,
  DeadLetterError,
  describeTarget,
  IdWindow,
  retryDelaysMs,
  TransportError,
  warn,
  type Consumer,
  type Delivery,
  type DeliveryHandler,
  type Outcome,
  type RetryBackoff,
  type Target,
} from '@herald/messaging';
import type { ConsumeMessage, Options } from 'amqplib';
import { Acknowledger } from './acknowledger.js';
import { acknowledge, AmqpConsumer, reject, type Ahead, type Seen } from './amqp-consumer.js';
import { adminChannel, confirmed, FIRST_RETRY_MS, LAST_RETRY_MS, type Connection, type Link } from './connection.js';
import { deliveryOf, neverSettled } from './deliveries.js';
import { QueueUnavailableError } from './errors.js';
import type { Settings } from './options.js';
import type { Queues } from './queues.js';
import { sendReply } from './requests.js';
import {
  ATTEMPT_HEADER,
  boundedErrorText,
  DEAD_ERROR_HEADER,
  DEAD_GROUP_HEADER,
  DEAD_QUEUE_HEADER,
  DEAD_TRUNCATED_HEADER,
  encodeTarget,
  headersOfCopy,
  TARGET_HEADER,
} from './topology.js';

/**
 * The consumers of a transport and the handling of their deliveries.
 *
 * @example
 * ```ts
 * const consumer = await consumers.start({ topic: 'audit' }, 'audit', queue, handler, 5, undefined, 1);
 * ```
 */
export class Consumers {
  readonly #settings: Settings;
  readonly #connection: Connection;
  readonly #queues: Queues;
  readonly #consumers = new Set<AmqpConsumer>();
  /** Per queue, the ids its consumers here acknowledged, and those they are handling. */
  readonly #seen = new Map<string, Seen>();
  /** The deliveries whose handler (and settlement) is running. */
  readonly #running = new Map<Ahead, Promise<void>>();

  constructor(settings: Settings, connection: Connection, queues: Queues) {
    this.#settings = settings;
    this.#connection = connection;
    this.#queues = queues;
  }

  /**
   * Starts a consumer of `target` (checked) on `queue` (`undefined` for fanout); resolves once
   * the broker registered it.
   */
  async start(
    target: Target,
    group: string | undefined,
    queue: string | undefined,
    handler: DeliveryHandler,
    deliveryLimit: number,
    retryBackoff: Required<RetryBackoff> | undefined,
    concurrency: number,
  ): Promise<Consumer> {
    const consumer = new AmqpConsumer(target, group, queue, handler, deliveryLimit, retryBackoff, concurrency, (c) =>
      this.#close(c),
    );
    await this.#connection.withLink(Date.now() + this.#settings.connectTimeoutMs, (link) =>
      this.#attachWithin(consumer, link),
    );
    if (this.#connection.closing) {
      await this.#close(consumer);
      throw new TransportError('Cannot consume: the transport closed while the consumer started.');
    }
    this.#consumers.add(consumer);
    return consumer;
  }

  /** Starts every consumer again on a new link (after a reconnection). */
  reattachAll(link: Link): Promise<unknown> {
    return Promise.all([...this.#consumers].map((consumer) => this.#reattach(consumer, link)));
  }

  /** The settlements of the deliveries in progress. */
  get running(): ReadonlyMap<unknown, Promise<void>> {
    return this.#running;
  }

  /** Whether a consumer has messages the broker sent ahead that wait for their turn. */
  get hasBacklog(): boolean {
    return [...this.#consumers].some((c) => c.backlog.length > 0);
  }

  /** The queues messages for these consumers wait in: their own, and the delay queues of their retries. */
  waitingQueues(): string[] {
    return [...this.#consumers].flatMap((c) => [
      ...(c.liveQueue === undefined ? [] : [c.liveQueue]),
      ...retryDelaysMs(c.retryBackoff, c.deliveryLimit).map((delayMs) => this.#settings.topology.retryQueue(delayMs)),
    ]);
  }

  /**
   * Stops every consumer taking deliveries, lets those in progress finish (up to `drainMs`) and
   * acknowledges what was handled; the transport closes the connection next.
   */
  async stop(drainMs: number): Promise<void> {
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
  }

  /** Opens the consumer's channel on `link`, declares its queue and starts consuming. */
  async #attach(consumer: AmqpConsumer, link: Link): Promise<void> {
    const channel = await link.model.createChannel();
    channel.on('error', (error: Error) => this.#connection.noteError(error));
    try {
      const prefetch = Math.max(this.#settings.prefetch, consumer.concurrency);
      await channel.prefetch(prefetch);
      const { target } = consumer;
      for (const delayMs of retryDelaysMs(consumer.retryBackoff, consumer.deliveryLimit)) {
        await this.#queues.declareRetryQueue(channel, delayMs);
      }
      let queue: string;
      if (target.server !== undefined) {
        queue = consumer.queue!;
        await channel.assertQueue(queue, this.#queues.queueOptions());
        await channel.bindQueue(queue, this.#settings.topology.exchange, this.#settings.topology.routingKey(target));
      } else if (target.fanout === true) {
        // Its own queue, gone with the consumer: a fanout consumer only gets later messages.
        // Classic: quorum queues cannot be exclusive.
        const maxLength = this.#settings.maxQueueLength === Infinity ? undefined : this.#settings.maxQueueLength;
        ({ queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false, maxLength }));
        await channel.bindQueue(queue, this.#settings.topology.exchange, this.#settings.topology.routingKey(target));
      } else {
        queue = await this.#queues.declareGroupQueue(channel, target.topic, consumer.group!);
      }
      if (!this.#seen.has(queue))
        this.#seen.set(queue, { acked: new IdWindow(this.#settings.deduplicationWindow), inFlight: new Map() });
      const seen = this.#seen.get(queue)!;
      const acks = new Acknowledger(channel, prefetch);
      consumer.channel = channel;
      consumer.acks = acks;
      consumer.liveQueue = queue;
      const { consumerTag } = await channel.consume(queue, (message) => {
        if (message === null) {
          // The broker cancelled the consumer (its queue was deleted): start it again.
          if (consumer.closed || link.lost) return;
          warn(
            this.#settings.logger,
            `The broker cancelled the consumer of ${describeTarget(target)}; consuming again.`,
          );
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
          if (consumer.closed || link.lost || this.#connection.closing || consumer.channel !== channel) return;
          warn(
            this.#settings.logger,
            `The channel of the consumer of ${describeTarget(target)} closed; consuming again.`,
          );
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
        reject(
          new QueueUnavailableError(consumer.queue ?? describeTarget(consumer.target), this.#settings.connectTimeoutMs),
        );
      }, this.#settings.connectTimeoutMs);
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
      if (link.lost || consumer.closed || this.#connection.closing) return;
      warn(
        this.#settings.logger,
        `Could not consume ${describeTarget(consumer.target)} again (${errorText(error)}); trying again in ${delay} ms.`,
      );
      const timer = setTimeout(() => {
        if (link.lost || consumer.closed || this.#connection.closing) return;
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
        delivery = deliveryOf(this.#settings, message, consumer.target, false, consumer.targets);
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
        sendReply(channel, message, outcome, this.#settings.maxMessageBytes);
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
          this.#settings.logger,
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
   * After a failure: the message goes to the back of its queue with its attempt counted (after
   * its backoff, through a delay queue), or, at the consumer's limit, to the dead letters. The
   * original is acknowledged only once the broker confirmed the copy, so a crash in between
   * duplicates it rather than losing it.
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
      ...headersOfCopy(message.properties.userId, message.properties.headers, this.#settings.user),
      [TARGET_HEADER]: encodeTarget(delivery?.target ?? consumer.target),
      [ATTEMPT_HEADER]: attempt + 1,
    };
    const properties: Options.Publish = {
      messageId: message.properties.messageId as string | undefined,
      userId: this.#settings.user,
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
        const delayQueue = await this.#queues.declareRetryQueue(await adminChannel(link), delayMs);
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
    await confirmed(link, '', this.#settings.topology.deadLetterQueue, message.content, properties);
    ack();
    warn(
      this.#settings.logger,
      `Message ${delivery?.id ?? '(unreadable)'} to ${describeTarget(consumer.target)}${consumer.group === undefined ? '' : ` (group ${consumer.group})`} dead-lettered after ${attempt} deliveries: ${text.slice(0, 500)}`,
    );
  }

  /** Stops `consumer`: no new deliveries, those in progress finish and are acknowledged, its channel closes. */
  async #close(consumer: AmqpConsumer): Promise<void> {
    this.#consumers.delete(consumer);
    const { channel, tag } = consumer;
    if (channel !== undefined && tag !== undefined) await channel.cancel(tag).catch(() => undefined);
    await Promise.all([...consumer.running.values()]);
    consumer.acks?.flush();
    if (channel !== undefined) await channel.close().catch(() => undefined);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
