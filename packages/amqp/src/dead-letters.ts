/**
 * The namespace's dead letters: the messages that failed on every delivery (buried by a consumer
 * with its reason in headers, or by the broker with its `x-death` record), listed, replayed to
 * the queue they failed in, or purged. Each operation takes its own channel, on which the
 * messages it reads and does not take off go back to the queue, in order, when it closes.
 * @module
 */

import type { DeadLetter } from '@herald/messaging';
import type { Channel, GetMessage, Options } from 'amqplib';
import { adminChannel, confirmed, type Connection, type Link } from './connection.js';
import { brokerDeath, deliveryOf, neverSettled } from './deliveries.js';
import type { Settings } from './options.js';
import type { Queues } from './queues.js';
import {
  DEAD_ERROR_HEADER,
  DEAD_GROUP_HEADER,
  DEAD_QUEUE_HEADER,
  encodeTarget,
  TARGET_HEADER,
  USER_HEADER,
} from './topology.js';

/**
 * Reads, replays and purges the dead-letter queue of a transport.
 *
 * @example
 * ```ts
 * const letters = await new DeadLetters(settings, connection, queues).list();
 * ```
 */
export class DeadLetters {
  readonly #settings: Settings;
  readonly #connection: Connection;
  readonly #queues: Queues;

  constructor(settings: Settings, connection: Connection, queues: Queues) {
    this.#settings = settings;
    this.#connection = connection;
    this.#queues = queues;
  }

  /** The messages in the dead-letter queue, oldest first, read without taking them off it. */
  list(): Promise<readonly DeadLetter[]> {
    return this.#withDeadLetters(async (_, channel) => {
      const letters: DeadLetter[] = [];
      // Unacknowledged gets return to the queue, in order, when the channel closes.
      for (let message = await channel.get(this.#settings.topology.deadLetterQueue); message !== false;) {
        letters.push(this.#letterOf(message));
        message = await channel.get(this.#settings.topology.deadLetterQueue);
      }
      return letters;
    });
  }

  /**
   * Sends the dead letters whose delivery id is `id` (all of them without one) back to the queue
   * they failed in; resolves to how many.
   */
  replay(id: string | undefined): Promise<number> {
    return this.#withDeadLetters(async (link, channel) => {
      let replayed = 0;
      // What is taken and not acknowledged goes back to the queue, in order, when the channel closes.
      for (let message = await channel.get(this.#settings.topology.deadLetterQueue); message !== false;) {
        const letter = this.#letterOf(message);
        const queue =
          id === undefined || letter.delivery.id === id ? await this.#replayQueue(link, message, letter) : undefined;
        if (queue !== undefined) {
          const { target, delivery } = letter;
          const properties: Options.Publish = {
            messageId: delivery.id,
            userId: this.#settings.user,
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
              this.#settings.topology.exchange,
              this.#settings.topology.routingKey(target),
              message.content,
              properties,
            );
          } else await confirmed(link, '', queue, message.content, properties);
          channel.ack(message);
          replayed++;
        }
        message = await channel.get(this.#settings.topology.deadLetterQueue);
      }
      return replayed;
    });
  }

  /** Drops every dead letter; resolves to how many there were. */
  purge(): Promise<number> {
    return this.#withDeadLetters(async (_, channel) => {
      const { messageCount } = await channel.purgeQueue(this.#settings.topology.deadLetterQueue);
      return messageCount;
    });
  }

  /** Runs `work` with a channel of its own on which the dead-letter queue is declared. */
  #withDeadLetters<T>(work: (link: Link, channel: Channel) => Promise<T>): Promise<T> {
    return this.#connection.withLink(Date.now() + this.#settings.connectTimeoutMs, async (link) => {
      const channel = await link.model.createChannel();
      channel.on('error', () => undefined);
      try {
        await channel.assertQueue(this.#settings.topology.deadLetterQueue, this.#queues.deadLetterQueueOptions());
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
      await (await adminChannel(link)).checkQueue(queue);
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
  #letterOf(message: GetMessage): DeadLetter {
    const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
    const death = brokerDeath(headers);
    const published =
      death !== undefined && death.exchange === this.#settings.topology.exchange
        ? this.#settings.topology.targetOf(death.routingKey)
        : undefined;
    let delivery = deliveryOf(this.#settings, message, published, true);
    const queue = typeof headers[DEAD_QUEUE_HEADER] === 'string' ? headers[DEAD_QUEUE_HEADER] : death?.queue;
    const group =
      headers[DEAD_GROUP_HEADER] ?? (queue === undefined ? undefined : this.#settings.topology.groupOf(queue));
    let error = headers[DEAD_ERROR_HEADER];
    if (typeof error !== 'string' && death !== undefined) {
      if (death.reason === 'delivery_limit') {
        // The broker delivered this copy once more than its limit.
        delivery = Object.freeze({ ...delivery, attempt: delivery.attempt + this.#settings.deliveryLimit });
        error = neverSettled(delivery.attempt, this.#settings.deliveryLimit);
      } else error = `The broker dead-lettered it (${death.reason}) from ${death.queue}.`;
    }
    return Object.freeze({
      target: delivery.target,
      group: typeof group === 'string' && delivery.target.server === undefined ? group : undefined,
      delivery,
      error: String(error ?? ''),
    });
  }
}
