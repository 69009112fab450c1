/**
 * The transport's connection to the broker, kept open until the transport closes: it connects
 * with backoff, notices the loss of the connection (a broker restart), connects again, and has
 * the other parts start again on the new one (see {@link LinkEvents}). Each connection and the
 * channels opened with it are a {@link Link}; operations run on the open link, and on the next
 * one when it is lost under them ({@link Connection.withLink}).
 * @module
 */

import { errorText, InvalidError } from '@herald/core';
import { TransportError, warn } from '@herald/messaging';
import { connect, type Channel, type ChannelModel, type ConsumeMessage, type Message, type Options } from 'amqplib';
import { redact, type Settings } from './options.js';
import { Publisher } from './publisher.js';

/** RabbitMQ's queue for direct reply-to: replies come straight back on the requesting channel. */
export const REPLY_TO = 'amq.rabbitmq.reply-to';

/** Reconnection backoff (and a consumer's, see `consumers.ts`): the first delay, doubled up to the last. */
export const FIRST_RETRY_MS = 100;
export const LAST_RETRY_MS = 5_000;

/** One connection to the broker and its channels; replaced when the connection is lost. */
export interface Link {
  readonly model: ChannelModel;
  /** Publishes with confirms (messages, retries, dead letters). */
  readonly publisher: Publisher;
  /** Sends requests and receives their replies (direct reply-to). */
  readonly requester: Channel;
  /** Declares the default group queues that publishes to a topic need (opened when first needed). */
  admin: Promise<Channel> | undefined;
  /** Per topic, the declaration of its default group queue on this connection. */
  readonly declared: Map<string, Promise<void>>;
  /** The topics whose declaration there has succeeded. */
  readonly ready: Set<string>;
  lost: boolean;
  /** Resolves once the connection is lost or closed. */
  readonly gone: Promise<void>;
}

/** What the other parts of the transport do with each link. */
export interface LinkEvents {
  /** Declares what every link needs (the exchange, the dead-letter queue) on its publishing channel. */
  readonly prepare: (channel: Channel) => Promise<void>;
  /** A reply arrived on the requester channel. */
  readonly reply: (message: ConsumeMessage | null) => void;
  /** The broker returned a message published `mandatory`: no queue took it. */
  readonly returned: (message: Message) => void;
  /** A new link is open: start again what ran on the last one (operations wait for it, up to `connectTimeoutMs`). */
  readonly linked: (link: Link) => Promise<unknown>;
  /** The link was lost. */
  readonly lost: () => void;
}

/**
 * Keeps a connection to the broker open until it is closed, and runs operations on it.
 *
 * @example
 * ```ts
 * const connection = new Connection(settings, events);
 * connection.start();
 * await connection.withLink(Date.now() + settings.connectTimeoutMs, (link) => confirmed(link, exchange, key, body, properties));
 * ```
 */
export class Connection {
  readonly #settings: Settings;
  readonly #events: LinkEvents;
  #link: Link | undefined = undefined;
  /** Waiting for the next link (or the broker's refusal of the credentials). */
  #linkWaiters: ((next: Link | TransportError) => void)[] = [];
  /** The broker refused the credentials at the last attempt: operations fail at once meanwhile. */
  #refused: TransportError | undefined = undefined;
  #lastError: unknown = undefined;
  #closing = false;
  #retryTimer: NodeJS.Timeout | undefined = undefined;
  #wakeRetry: (() => void) | undefined = undefined;

  constructor(settings: Settings, events: LinkEvents) {
    this.#settings = settings;
    this.#events = events;
  }

  /** Starts connecting in the background, and again after each loss, until the transport closes. */
  start(): void {
    void this.#maintain();
  }

  /** Whether {@link Connection.stopReconnecting} was called: the transport is closing. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Records the last error the broker reported, for the message of an operation that times out. */
  noteError(error: unknown): void {
    this.#lastError = error;
  }

  /** Keeps a connection open until the transport closes: connect, wait for its loss, again. */
  async #maintain(): Promise<void> {
    let delay = FIRST_RETRY_MS;
    while (!this.#closing) {
      let link: Link;
      try {
        link = await this.#open();
      } catch (error) {
        this.#lastError = error;
        if (/ACCESS.REFUSED/.test(errorText(error))) this.#refuse(error);
        await this.#sleep(delay);
        delay = Math.min(delay * 2, LAST_RETRY_MS);
        continue;
      }
      if (this.#closing) {
        await link.model.close().catch(() => undefined);
        return;
      }
      delay = FIRST_RETRY_MS;
      this.#refused = undefined;
      this.#link = link;
      // Operations wait for the consumers to be back, but not for one the broker does not answer
      // for (a quorum queue without a leader): that one keeps trying on its own.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.#events.linked(link),
        new Promise((resolve) => (timer = setTimeout(resolve, this.#settings.connectTimeoutMs))),
      ]);
      clearTimeout(timer);
      const waiters = this.#linkWaiters;
      this.#linkWaiters = [];
      for (const wake of waiters) wake(link);
      await link.gone;
      if (this.#link === link) this.#link = undefined;
      if (!this.#closing) {
        warn(
          this.#settings.logger,
          `Lost the connection to the AMQP broker (${errorText(this.#lastError)}); reconnecting.`,
        );
      }
    }
  }

  async #open(): Promise<Link> {
    const model = await connect(this.#settings.url, {
      noDelay: true,
      timeout: this.#settings.connectTimeoutMs,
      clientProperties: { connection_name: this.#settings.connectionName },
    });
    let markGone!: () => void;
    const gone = new Promise<void>((resolve) => (markGone = resolve));
    let link: Link | undefined = undefined;
    const lose = (error?: unknown): void => {
      if (error !== undefined) this.#lastError = error;
      if (link !== undefined) {
        if (link.lost) return;
        link.lost = true;
        this.#events.lost();
      }
      markGone();
    };
    model.on('error', (error: Error) => (this.#lastError = error));
    model.on('close', (error?: Error) => lose(error ?? new Error('connection closed')));
    try {
      // Until the link exists, a loss is the connection's: nothing to send again on it.
      const publisher = await Publisher.open(model, () => link?.lost ?? true, gone, this.#events.returned);
      await this.#events.prepare(publisher.channel);
      const requester = await model.createChannel();
      requester.on('error', (error: Error) => (this.#lastError = error));
      requester.on('close', () => void model.close().catch(() => undefined));
      await requester.consume(REPLY_TO, this.#events.reply, { noAck: true });
      link = {
        model,
        publisher,
        requester,
        admin: undefined,
        declared: new Map(),
        ready: new Set(),
        lost: false,
        gone,
      };
      return link;
    } catch (error) {
      await model.close().catch(() => undefined);
      throw error;
    }
  }

  /**
   * The broker refused the credentials: waiting longer will not help, so what waits for a
   * connection fails now, with the broker's words (the transport keeps trying, in case they change).
   */
  #refuse(error: unknown): void {
    this.#refused = new TransportError(
      `The AMQP broker at ${redact(this.#settings.url)} refused the credentials: ${errorText(error)}. Check the user name and password in the URL, and the user's permissions on the vhost.`,
    );
    const waiters = this.#linkWaiters;
    this.#linkWaiters = [];
    for (const wake of waiters) wake(this.#refused);
  }

  /** Sleeps `ms` unless the transport closes first; the timer does not keep the process alive. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wakeRetry = resolve;
      // Not unref'd: an open transport keeps the process alive, connected or not (as its socket does).
      this.#retryTimer = setTimeout(resolve, ms);
    });
  }

  /** The open link, or the next one; rejects with TransportError at `deadline`. */
  whenLinked(deadline: number, operation: string): Promise<Link> {
    const link = this.#link;
    if (link !== undefined && !link.lost) return Promise.resolve(link);
    if (this.#refused !== undefined) return Promise.reject(this.#refused);
    return new Promise<Link>((resolve, reject) => {
      const wake = (next: Link | TransportError): void => {
        clearTimeout(timer);
        if (next instanceof TransportError) reject(next);
        else resolve(next);
      };
      const timer = setTimeout(
        () => {
          this.#linkWaiters = this.#linkWaiters.filter((w) => w !== wake);
          reject(this.unreachable(operation));
        },
        Math.max(0, deadline - Date.now()),
      );
      this.#linkWaiters.push(wake);
    });
  }

  /** The error of an operation that waited for the broker in vain. */
  unreachable(operation: string, waitedMs = this.#settings.connectTimeoutMs): TransportError {
    const cause = this.#lastError === undefined ? '' : ` (last error: ${errorText(this.#lastError)})`;
    return new TransportError(
      `Cannot ${operation}: the AMQP broker at ${redact(this.#settings.url)} was unreachable for ${waitedMs} ms${cause}. Check that it runs and that the URL is right, or raise connectTimeoutMs.`,
    );
  }

  /**
   * Runs `operation` on the open link; when the link is lost under it, runs it again on the next
   * one, until `deadline`. A failure on a live link is the broker's answer: it is not retried.
   */
  withLink<T>(deadline: number, operation: (link: Link) => Promise<T>): Promise<T> {
    const link = this.#link;
    if (link === undefined || link.lost || this.#closing) return this.#withNextLink(deadline, operation);
    // Connected (the usual case): no wait for the link.
    return operation(link).catch((error: unknown) => {
      if (!link.lost) throw asTransportError(error);
      if (Date.now() >= deadline) throw this.unreachable('reach the broker');
      return this.#withNextLink(deadline, operation);
    });
  }

  /** {@link Connection.withLink} once the link is lost or not open yet: waits for the next one. */
  async #withNextLink<T>(deadline: number, operation: (link: Link) => Promise<T>): Promise<T> {
    for (;;) {
      const link = await this.whenLinked(deadline, 'reach the broker');
      if (this.#closing || link === closedLink) {
        throw new TransportError('The transport closed before the broker answered.');
      }
      try {
        return await operation(link);
      } catch (error) {
        if (!link.lost) throw asTransportError(error);
        if (Date.now() >= deadline) throw this.unreachable('reach the broker');
      }
    }
  }

  /** Stops connecting again: the transport is closing. A connection attempt waiting for its backoff gives up. */
  stopReconnecting(): void {
    this.#closing = true;
    clearTimeout(this.#retryTimer);
    this.#wakeRetry?.();
  }

  /** Closes the connection; what waits for one learns that there will be none. */
  async close(): Promise<void> {
    this.stopReconnecting();
    const waiters = this.#linkWaiters;
    this.#linkWaiters = [];
    const link = this.#link;
    this.#link = undefined;
    if (link !== undefined) await link.model.close().catch(() => undefined);
    for (const wake of waiters) wake(closedLink);
  }
}

/** The link's channel for declarations, opened again after the broker closed it (an error). */
export function adminChannel(link: Link): Promise<Channel> {
  if (link.admin === undefined) {
    const opening: Promise<Channel> = link.model.createChannel().then((admin) => {
      admin.on('error', () => undefined);
      admin.on('close', () => {
        if (link.admin === opening) link.admin = undefined;
      });
      return admin;
    });
    link.admin = opening;
    opening.catch(() => {
      if (link.admin === opening) link.admin = undefined;
    });
  }
  return link.admin;
}

/** A link that is already lost: what operations waiting for a connection get once closing. */
const closedLink: Link = Object.freeze({
  model: undefined as unknown as ChannelModel,
  publisher: undefined as unknown as Publisher,
  requester: undefined as unknown as Channel,
  admin: undefined,
  declared: new Map<string, Promise<void>>(),
  ready: new Set<string>(),
  lost: true,
  gone: Promise.resolve(),
});

/** Publishes on the link's confirm channel; resolves once the broker confirmed. */
export function confirmed(
  link: Link,
  exchange: string,
  routingKey: string,
  content: Buffer,
  properties: Options.Publish,
): Promise<void> {
  if (link.lost) return Promise.reject(new TransportError('The connection to the broker was lost.'));
  return link.publisher.send(exchange, routingKey, content, properties);
}

function asTransportError(error: unknown): Error {
  if (error instanceof TransportError || error instanceof InvalidError) return error;
  return new TransportError(`The AMQP broker refused the operation: ${errorText(error)}`);
}
