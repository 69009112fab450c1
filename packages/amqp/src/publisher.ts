/**
 * The confirm channel a connection publishes on, and what it does when the broker closes it.
 *
 * RabbitMQ answers a message it will not take (larger than its `max_message_size`, to an exchange
 * that does not exist) by closing the whole channel, and every publish still waiting for its
 * confirm on that channel fails with it. One bad message must not fail the others: after such a
 * close the publisher opens a new channel and sends the unconfirmed messages again, one at a
 * time, so that the one the broker refuses again is known, and only that one is rejected, with
 * the broker's reason. Their ids let consumers drop a copy that had arrived after all.
 * @module
 */

import { errorText } from '@herald/core';
import { TransportError } from '@herald/messaging';
import type { ChannelModel, ConfirmChannel, Message, Options } from 'amqplib';

/** A message waiting for the broker's confirm. */
interface Pending {
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  readonly properties: Options.Publish;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** What became of one write: confirmed, refused (a nack), or its channel closed before the confirm. */
type Outcome = 'confirmed' | 'nacked' | 'closed';

/**
 * Publishes with confirms on one connection, replacing its channel after the broker closed it.
 *
 * @example
 * ```ts
 * const publisher = await Publisher.open(model, () => link.lost, gone);
 * await publisher.send('herald', 'topic.dhcp_agent', Buffer.from('{}'), { persistent: true });
 * ```
 */
export class Publisher {
  #channel: ConfirmChannel;
  /** The messages whose channel closed under them, to send again. */
  #failed: Pending[] = [];
  /** Sends wait for this while the unconfirmed messages of a closed channel are sent again. */
  #recovery: Promise<void> | undefined = undefined;
  /** Resolves when a full socket buffer has drained. */
  #drained: Promise<void> | undefined = undefined;
  /** Why the broker closed the last channel (its `channel.close` reply). */
  #closeReason: unknown = undefined;

  private constructor(
    private readonly model: ChannelModel,
    channel: ConfirmChannel,
    /** Whether the connection is lost: then nothing is sent again here (the next connection does). */
    private readonly isLost: () => boolean,
    /** Resolves once the connection is lost or closed. */
    private readonly gone: Promise<void>,
    /** Told of each message published `mandatory` that no queue took (the broker returned it). */
    private readonly onReturn: (message: Message) => void,
  ) {
    this.#channel = channel;
    this.#watch(channel);
  }

  /**
   * Opens the confirm channel of `model`.
   *
   * @example
   * ```ts
   * const publisher = await Publisher.open(model, () => link.lost, gone);
   * ```
   */
  static async open(
    model: ChannelModel,
    isLost: () => boolean,
    gone: Promise<void>,
    onReturn: (message: Message) => void = () => undefined,
  ): Promise<Publisher> {
    return new Publisher(model, await model.createConfirmChannel(), isLost, gone, onReturn);
  }

  /** The current channel, for declarations (replaced after the broker closed it). */
  get channel(): ConfirmChannel {
    return this.#channel;
  }

  /**
   * Sends one message; resolves once the broker confirmed it.
   *
   * @throws TransportError when the broker refused this message (a nack, or it closed the channel
   *   again when the message was sent alone), or when the connection is lost
   */
  send(exchange: string, routingKey: string, content: Buffer, properties: Options.Publish): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = { exchange, routingKey, content, properties, resolve, reject };
      if (this.#recovery === undefined && this.#drained === undefined) {
        // Nothing to wait for (the usual case): written at once.
        this.#writeNow(pending);
        return;
      }
      this.#enqueue(pending).catch((error: unknown) =>
        reject(error instanceof Error ? error : new TransportError(errorText(error))),
      );
    });
  }

  async #enqueue(pending: Pending): Promise<void> {
    for (;;) {
      if (this.#recovery !== undefined) await this.#recovery;
      else if (this.#drained !== undefined) await this.#drained;
      else break;
    }
    this.#writeNow(pending);
  }

  /** Writes `pending` on the current channel; its confirm settles it (or sends it again after a close). */
  #writeNow(pending: Pending): void {
    if (this.isLost()) {
      pending.reject(lostError());
      return;
    }
    this.#write(this.#channel, pending, (outcome) => {
      if (outcome === 'confirmed') pending.resolve();
      else if (outcome === 'nacked') pending.reject(new TransportError('The broker refused the message (a nack).'));
      else {
        this.#failed.push(pending);
        this.#startRecovery();
      }
    });
  }

  #write(channel: ConfirmChannel, pending: Pending, done: (outcome: Outcome) => void): void {
    let ready: boolean;
    try {
      ready = channel.publish(pending.exchange, pending.routingKey, pending.content, pending.properties, (error) => {
        if (error === null || error === undefined) done('confirmed');
        // amqplib's words for "the channel closed before the confirm came" (else it is a nack).
        else done((error as Error).message === 'channel closed' ? 'closed' : 'nacked');
      });
    } catch (error) {
      // A closed channel, or properties AMQP cannot encode: never sent.
      if (channel !== this.#channel || this.#recovery !== undefined) {
        done('closed');
        return;
      }
      pending.reject(new TransportError(`Could not send the message: ${errorText(error)}`));
      return;
    }
    if (!ready && this.#drained === undefined) {
      // The socket's buffer is full: later sends wait for it to drain, or for the channel to close
      // (a channel that closes never drains).
      const drained: Promise<void> = new Promise<void>((resume) => {
        const done = (): void => {
          channel.off('drain', done);
          channel.off('close', done);
          if (this.#drained === drained) this.#drained = undefined;
          resume();
        };
        channel.on('drain', done);
        channel.on('close', done);
      });
      this.#drained = drained;
    }
  }

  #watch(channel: ConfirmChannel): void {
    channel.on('error', (error: unknown) => (this.#closeReason = error));
    channel.on('return', (message: Message) => this.onReturn(message));
    // amqplib fails the unconfirmed callbacks (into #failed) just before this listener runs.
    channel.on('close', () => {
      if (channel === this.#channel) this.#startRecovery();
    });
  }

  #startRecovery(): void {
    this.#recovery ??= this.#recover().finally(() => {
      this.#recovery = undefined;
      // A message whose channel closed while the recovery was finishing.
      if (this.#failed.length > 0) this.#startRecovery();
    });
  }

  /**
   * After the broker closed the channel: a new one, and the messages it had not confirmed sent
   * again one at a time; one it refuses alone is rejected with the broker's reason.
   */
  async #recover(): Promise<void> {
    // The callbacks of a closing connection come a moment before it reports the loss.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.#failed.length > 0) {
      const failed = this.#failed;
      this.#failed = [];
      if (this.isLost() || !(await this.#reopen())) {
        for (const pending of failed) pending.reject(lostError());
        return;
      }
      for (const pending of failed) {
        const outcome = await new Promise<Outcome>((resolve) => this.#write(this.#channel, pending, resolve));
        if (outcome === 'confirmed') pending.resolve();
        else if (outcome === 'nacked') pending.reject(new TransportError('The broker refused the message (a nack).'));
        else if (this.isLost()) pending.reject(lostError());
        else {
          pending.reject(new TransportError(`The broker refused the message: ${errorText(this.#closeReason)}`));
          if (!(await this.#reopen())) {
            for (const rest of failed.slice(failed.indexOf(pending) + 1)) rest.reject(lostError());
            return;
          }
        }
      }
    }
  }

  /** Opens a new channel in place of the closed one; false when the connection is gone. */
  async #reopen(): Promise<boolean> {
    try {
      // A connection that is going away may never answer the channel's opening.
      const channel = await Promise.race([this.model.createConfirmChannel(), this.gone.then(() => undefined)]);
      if (channel === undefined || this.isLost()) return false;
      this.#channel = channel;
      this.#watch(channel);
      return true;
    } catch {
      return false;
    }
  }
}

function lostError(): TransportError {
  return new TransportError('The connection to the broker was lost.');
}
