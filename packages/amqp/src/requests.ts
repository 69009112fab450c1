/**
 * Requests and their replies, over RabbitMQ's direct reply-to: the caller's side (a request sent
 * straight to its server's or default group's queue, waiting for the reply on the connection's
 * requester channel) and the server's side (the reply a consumer sends back for a request it
 * handled).
 * @module
 */

import { randomUUID } from 'node:crypto';
import { errorText } from '@herald/core';
import {
  describeTarget,
  PendingReply,
  RemoteError,
  replyOf,
  TransportError,
  type CheckedMessage,
  type Delivery,
  type Outcome,
  type Target,
} from '@herald/messaging';
import type { Channel, ConsumeMessage } from 'amqplib';
import { REPLY_TO, type Connection } from './connection.js';
import { MessageTooLargeError } from './errors.js';
import type { Settings } from './options.js';
import type { Queues } from './queues.js';
import { boundedErrorText, encodeTarget, REPLY_HEADER, TARGET_HEADER } from './topology.js';

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
 * The requests of a transport waiting for their replies.
 *
 * @example
 * ```ts
 * const reply = await requests.send({ topic: 'l3_agent', server: 'host-1' }, checked, body, 5000);
 * ```
 */
export class Requests {
  readonly #settings: Settings;
  readonly #connection: Connection;
  readonly #queues: Queues;
  /** By correlation id. */
  readonly #pending = new Map<string, PendingRequest>();

  constructor(settings: Settings, connection: Connection, queues: Queues) {
    this.#settings = settings;
    this.#connection = connection;
    this.#queues = queues;
  }

  /** Sends a checked request; resolves with its reply, rejects on a timeout or a lost connection. */
  send(address: Target, checked: CheckedMessage, body: Buffer, timeoutMs: number): Promise<Delivery> {
    const correlationId = randomUUID();
    const pending = new PendingRequest(
      checked.id,
      address,
      timeoutMs,
      () => this.#pending.delete(correlationId),
      () => this.#connection.unreachable('send the request', timeoutMs),
    );
    this.#pending.set(correlationId, pending);
    this.#send(address, checked, body, correlationId, timeoutMs).catch((error: unknown) =>
      pending.reject(error instanceof Error ? error : new TransportError(errorText(error))),
    );
    return pending.promise;
  }

  /** Rejects every request still waiting, with `reason(target)` as the TransportError's message. */
  rejectAll(reason: (target: string) => string): void {
    for (const request of [...this.#pending.values()]) {
      request.reject(new TransportError(reason(describeTarget(request.target))));
    }
  }

  /** Settles the request a reply on the requester channel is for. */
  receive(message: ConsumeMessage | null): void {
    if (message === null) return;
    const pending = this.#pending.get(message.properties.correlationId as string);
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

  async #send(
    target: Target,
    checked: CheckedMessage,
    body: Buffer,
    correlationId: string,
    timeoutMs: number,
  ): Promise<void> {
    await this.#connection.withLink(Date.now() + Math.min(timeoutMs, this.#settings.connectTimeoutMs), async (link) => {
      let queue: string;
      if (target.server !== undefined) {
        queue = this.#settings.topology.serverQueue(target.topic, target.server);
      } else {
        await this.#queues.declareDefaultQueue(link, target.topic);
        queue = this.#settings.topology.groupQueue(target.topic, target.topic);
      }
      const pending = this.#pending.get(correlationId);
      if (pending === undefined) return;
      pending.sent = true;
      // Straight to the one queue (not through the exchange, which would copy it to every group).
      link.requester.sendToQueue(queue, body, {
        messageId: checked.id,
        userId: this.#settings.user,
        correlationId,
        replyTo: REPLY_TO,
        expiration: String(Math.ceil(timeoutMs)),
        contentType: 'application/json',
        headers: { ...checked.headers, [TARGET_HEADER]: encodeTarget(target) },
      });
    });
  }
}

/** Sends the reply to a request a consumer handled: its result, or its error as `{ name, message }`. */
export function sendReply(channel: Channel, message: ConsumeMessage, outcome: Outcome, maxMessageBytes: number): void {
  let reply = replyOf(outcome);
  if ('json' in reply && Buffer.byteLength(reply.json) > maxMessageBytes) {
    const tooLarge = new MessageTooLargeError(Buffer.byteLength(reply.json), maxMessageBytes);
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
