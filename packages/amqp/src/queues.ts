/**
 * The queues the transport declares, and their arguments: the namespace's exchange and
 * dead-letter queue, group and server queues, and the delay queues of retries (the names are
 * in `topology.ts`). Declaring a queue again with other arguments is refused by RabbitMQ, so
 * every part declares through here, with the same arguments.
 * @module
 */

import type { Channel, Options } from 'amqplib';
import { adminChannel, type Link } from './connection.js';
import type { Settings } from './options.js';

/**
 * Declares the transport's exchange and queues.
 *
 * @example
 * ```ts
 * const queue = await new Queues(settings).declareGroupQueue(channel, 'notifications.info', 'audit');
 * ```
 */
export class Queues {
  readonly #settings: Settings;

  constructor(settings: Settings) {
    this.#settings = settings;
  }

  /** Declares what every connection needs: the namespace's exchange and its dead-letter queue. */
  async declareNamespace(channel: Channel): Promise<void> {
    await channel.assertExchange(this.#settings.topology.exchange, 'direct', { durable: true });
    await channel.assertQueue(this.#settings.topology.deadLetterQueue, this.deadLetterQueueOptions());
  }

  /**
   * Declares the default group queue of `topic`, so that a publish is kept: once per connection,
   * and once for all the publishes that ask at the same time (a failure lets the next one retry).
   */
  declareDefaultQueue(link: Link, topic: string): Promise<void> {
    let declaring = link.declared.get(topic);
    if (declaring === undefined) {
      const started = adminChannel(link).then(async (admin) => {
        await this.declareGroupQueue(admin, topic, topic);
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

  /** Declares the queue of `group` on `topic`, bound to the topic; resolves to its name. */
  async declareGroupQueue(channel: Channel, topic: string, group: string): Promise<string> {
    const queue = this.#settings.topology.groupQueue(topic, group);
    await channel.assertQueue(queue, this.queueOptions());
    await channel.bindQueue(queue, this.#settings.topology.exchange, this.#settings.topology.routingKey({ topic }));
    return queue;
  }

  /**
   * The arguments of a group or server queue: its kind, and the dead letters as where the broker
   * puts a message it gives up on (past the delivery limit of a quorum queue, or rejected by a
   * consumer that could not settle it otherwise).
   */
  queueOptions(): Options.AssertQueue {
    return {
      durable: true,
      ...(this.#settings.queueExpiresMs !== undefined && { expires: this.#settings.queueExpiresMs }),
      ...(this.#settings.maxQueueLength !== Infinity && { maxLength: this.#settings.maxQueueLength }),
      deadLetterExchange: '',
      deadLetterRoutingKey: this.#settings.topology.deadLetterQueue,
      arguments: {
        'x-queue-type': this.#settings.queueType,
        // The broker's own limit only stops a message that never reaches a live handler to be
        // buried with its reason (see `consumers.ts`): each crash adds one to its count.
        ...(this.#settings.queueType === 'quorum' && { 'x-delivery-limit': this.#settings.deliveryLimit }),
      },
    };
  }

  /**
   * Declares the delay queue of `delayMs` and its exchange (idempotent). Its messages expire after
   * `delayMs` into the default exchange, which routes them by their routing key: the queue they
   * failed in. It follows `queueType`: a quorum queue dead-letters at-least-once (it keeps a
   * message until the queue it goes back to has confirmed it), a classic one at-most-once.
   */
  async declareRetryQueue(channel: Channel, delayMs: number): Promise<string> {
    const name = this.#settings.topology.retryQueue(delayMs);
    const quorum = this.#settings.queueType === 'quorum';
    await channel.assertExchange(name, 'fanout', { durable: true });
    await channel.assertQueue(name, {
      durable: true,
      messageTtl: delayMs,
      deadLetterExchange: '',
      // Declared again before each retry it takes, so it cannot expire under a waiting message.
      ...(this.#settings.queueExpiresMs !== undefined && {
        expires: Math.max(this.#settings.queueExpiresMs, 2 * delayMs),
      }),
      arguments: {
        'x-queue-type': this.#settings.queueType,
        ...(quorum && { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' }),
      },
    });
    await channel.bindQueue(name, name, '');
    return name;
  }

  /** The arguments of the dead-letter queue. */
  deadLetterQueueOptions(): Options.AssertQueue {
    return { durable: true, arguments: { 'x-queue-type': this.#settings.queueType } };
  }
}
