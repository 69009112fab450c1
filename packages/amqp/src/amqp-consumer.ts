/**
 * One consumer of the transport (the {@link @herald/messaging!Consumer} that `consume` returns,
 * with its channel, the messages the broker sent it ahead and its deliveries in progress), and
 * the records of those messages. `consumers.ts` runs them; they are kept here, apart, so that
 * what a consumer holds can be read in one place.
 * @module
 */

import type { IdWindow, Consumer, DeliveryHandler, RetryBackoff, Target } from '@herald/messaging';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { Acknowledger, TrackedDelivery } from './acknowledger.js';
import type { Link } from './connection.js';

/** A message the broker sent a consumer ahead, with where it came from. */
export interface Ahead extends TrackedDelivery {
  readonly channel: Channel;
  /** Its channel's acknowledgements (it is tracked there). */
  readonly acks: Acknowledger;
  readonly link: Link;
  readonly queue: string;
  readonly seen: Seen;
  readonly message: ConsumeMessage;
}

/** What the consumers of one queue in this process know of its message ids. */
export interface Seen {
  /** The ids they acknowledged after handling them. */
  readonly acked: IdWindow;
  /**
   * The ids one of them is handling (with deduplication on), each with the copies that reached
   * the others meanwhile: those wait, unacknowledged, for the delivery in progress.
   */
  readonly inFlight: Map<string, { readonly consumer: AmqpConsumer; readonly ahead: Ahead }[] | undefined>;
}

/** Acknowledges a message now, alone; a channel that is gone gives it back to the broker. */
export function acknowledge(ahead: Ahead): void {
  ahead.acks.ack(ahead);
}

/**
 * Rejects a message without requeueing it: the broker sends it to the queue's dead-letter
 * exchange (the dead letters). A channel that is gone gives it back to the broker instead.
 */
export function reject(ahead: Ahead): void {
  ahead.acks.reject(ahead);
}

/**
 * A consumer of an `AmqpTransport`.
 *
 * @example
 * ```ts
 * const consumer = new AmqpConsumer({ topic: 'audit' }, 'audit', queue, handler, 5, undefined, 1, (c) => consumers.close(c));
 * ```
 */
export class AmqpConsumer implements Consumer {
  /** The settlements of the deliveries in progress: at most `concurrency`. */
  readonly running = new Map<Ahead, Promise<void>>();
  /** The targets of the routing keys it has seen (a queue gets few of them). */
  readonly targets = new Map<string, Target | undefined>();
  /** What the broker sent ahead (up to the prefetch), waiting for a delivery to finish. */
  readonly backlog: Ahead[] = [];
  closed = false;
  channel: Channel | undefined = undefined;
  /** The acknowledgements of `channel`. */
  acks: Acknowledger | undefined = undefined;
  tag: string | undefined = undefined;
  /** The queue it consumes on the current connection (a fanout queue's name changes with it). */
  liveQueue: string | undefined = undefined;
  #closing: Promise<void> | undefined = undefined;

  constructor(
    readonly target: Target,
    /** The group of a `{ topic }` consumer. */
    readonly group: string | undefined,
    /** The durable queue it takes from (`undefined` for fanout: the broker names it). */
    readonly queue: string | undefined,
    readonly handler: DeliveryHandler,
    readonly deliveryLimit: number,
    readonly retryBackoff: Required<RetryBackoff> | undefined,
    readonly concurrency: number,
    readonly onClose: (consumer: AmqpConsumer) => Promise<void>,
  ) {}

  /** Stops taking deliveries; resolves once those in progress settled and its channel closed. */
  close(): Promise<void> {
    this.closed = true;
    this.#closing ??= this.onClose(this);
    return this.#closing;
  }
}
