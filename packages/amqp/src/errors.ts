/**
 * The errors `@herald/amqp` adds to those of `@herald/messaging`.
 * @module
 */

import { InvalidError } from '@herald/core';
import { TransportError } from '@herald/messaging';

/**
 * A message larger than the transport's `maxMessageBytes`: refused before it is sent, so that
 * the broker never closes the channel over it (which would fail every other publish in flight).
 * Only this publish is rejected.
 *
 * @example
 * ```ts
 * try { await transport.publish({ topic: 'reports' }, { body: hugeReport }); }
 * catch (e) { if (e instanceof MessageTooLargeError) console.warn(e.size, e.limit); }
 * ```
 */
export class MessageTooLargeError extends InvalidError {
  constructor(
    /** The message's size, in bytes (its body as JSON, UTF-8). */
    readonly size: number,
    /** The transport's `maxMessageBytes`. */
    readonly limit: number,
  ) {
    super(
      'message.body',
      `${size} bytes of JSON`,
      `it is ${size} bytes, above the limit of ${limit} bytes (maxMessageBytes): send a reference to the data ` +
        "(a URL, a row id) instead, or raise maxMessageBytes up to the broker's max_message_size.",
    );
  }
}

/**
 * The broker did not answer the declaration of a queue, or the registration of a consumer on it,
 * within the transport's `connectTimeoutMs`. RabbitMQ does that for a quorum queue without a
 * leader (its members lost, or still recovering after a crash): it holds the request, for a minute
 * or more, then closes the whole connection. The transport gives up on that queue earlier, with
 * this error, and leaves its other consumers and publishes alone.
 *
 * @example
 * ```ts
 * try { await transport.consume({ topic: 'billing' }, handle); }
 * catch (e) { if (e instanceof QueueUnavailableError) console.warn(`${e.queue}: check the queue's members (rabbitmq-queues quorum_status)`); }
 * ```
 */
export class QueueUnavailableError extends TransportError {
  constructor(
    /** The queue the broker did not answer for. */
    readonly queue: string,
    /** How long the transport waited, in milliseconds (its `connectTimeoutMs`). */
    readonly waitedMs: number,
  ) {
    super(
      `The broker did not answer for queue "${queue}" within ${waitedMs} ms (connectTimeoutMs). A quorum queue ` +
        'without a leader does that (its members lost or still recovering): check it with ' +
        '`rabbitmq-queues quorum_status`, then try again, or raise connectTimeoutMs.',
    );
  }
}
