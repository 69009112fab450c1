/**
 * The errors `@herald/amqp` adds to those of `@herald/messaging`.
 * @module
 */

import { InvalidError } from '@herald/core';

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
