/**
 * The acknowledgements of one consumer channel, several in one frame where that is safe.
 *
 * `basic.ack` with `multiple` settles every delivery of the channel up to a tag in one frame (on a
 * quorum queue, one settlement instead of one per message). It is only safe over a run of
 * deliveries that are all settled: one still in progress, or failed and waiting for its copy's
 * confirm, must not be acknowledged with the others, or a crash would lose it. So the
 * acknowledger keeps the channel's deliveries in the order the broker sent them, acknowledges the
 * settled run at their head in one frame, and the handled ones behind a delivery still in
 * progress one by one (so that a slow delivery never holds them, and the prefetch window, back).
 * A handled delivery waits at most until the process is done with what it has at hand (the next
 * turn of the event loop), or until half the prefetch is handled: at-least-once as before, a
 * crash in between only delivers them again.
 * @module
 */

import type { Channel, ConsumeMessage } from 'amqplib';

/**
 * Where a delivery is: in progress, handled (to acknowledge), or settled (sent, or gone with its run).
 *
 * @example
 * ```ts
 * const fresh: DeliveryState = 'open';
 * ```
 */
export type DeliveryState = 'open' | 'handled' | 'settled';

/**
 * One delivery the acknowledger tracks (the transport's own record of it, which it extends).
 *
 * @example
 * ```ts
 * const delivery = acks.track({ message, state: 'open' });
 * ```
 */
export interface TrackedDelivery {
  readonly message: ConsumeMessage;
  state: DeliveryState;
}

/**
 * Acknowledges the deliveries of one channel (see the module comment).
 *
 * @example
 * ```ts
 * const acks = new Acknowledger(channel, prefetch);
 * const tracked = acks.track({ message, state: 'open' });
 * await handle(message);
 * acks.handled(tracked); // sent with the next ones, or at the next turn
 * ```
 */
export class Acknowledger {
  /** The deliveries not yet acknowledged in order, from `#head` on. */
  #tracked: TrackedDelivery[] = [];
  #head = 0;
  /** Handled deliveries not acknowledged yet. */
  #handled = 0;
  #scheduled = false;
  /** How many handled deliveries are sent at once without waiting for the next turn. */
  readonly #batch: number;

  constructor(
    readonly channel: Channel,
    prefetch: number,
  ) {
    this.#batch = Math.max(1, Math.floor(prefetch / 2));
  }

  /** Tracks a delivery the broker sent (`'open'`), in the order it came; returns it. */
  track<T extends TrackedDelivery>(delivery: T): T {
    this.#tracked.push(delivery);
    return delivery;
  }

  /** Its handler succeeded: it is acknowledged with the next ones, at the latest on the next turn. */
  handled(tracked: TrackedDelivery): void {
    if (tracked.state !== 'open') return;
    tracked.state = 'handled';
    if (++this.#handled >= this.#batch) {
      this.flush();
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.flush();
      });
    }
  }

  /** Acknowledged alone, now (a duplicate, or a failed one once its copy is confirmed). */
  ack(tracked: TrackedDelivery): void {
    if (tracked.state === 'settled') return;
    if (tracked.state === 'handled') this.#handled--;
    tracked.state = 'settled';
    send(() => this.channel.ack(tracked.message));
  }

  /** Rejected without requeue, now: the broker dead-letters it. */
  reject(tracked: TrackedDelivery): void {
    if (tracked.state === 'settled') return;
    if (tracked.state === 'handled') this.#handled--;
    tracked.state = 'settled';
    send(() => this.channel.nack(tracked.message, false, false));
  }

  /** Sends the acknowledgements of every handled delivery. */
  flush(): void {
    if (this.#handled === 0) return;
    let last: TrackedDelivery | undefined;
    // The settled run at the head: one frame up to its last handled delivery.
    while (this.#head < this.#tracked.length && this.#tracked[this.#head]!.state !== 'open') {
      const tracked = this.#tracked[this.#head++]!;
      if (tracked.state === 'handled') last = tracked;
      tracked.state = 'settled';
    }
    if (last !== undefined) {
      const upTo = last;
      send(() => this.channel.ack(upTo.message, true));
    }
    // Behind a delivery in progress: one by one.
    for (let i = this.#head; i < this.#tracked.length; i++) {
      const tracked = this.#tracked[i]!;
      if (tracked.state !== 'handled') continue;
      tracked.state = 'settled';
      send(() => this.channel.ack(tracked.message));
    }
    this.#handled = 0;
    if (this.#head === this.#tracked.length) {
      this.#tracked = [];
      this.#head = 0;
    } else if (this.#head >= 1024) {
      this.#tracked = this.#tracked.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** Sends a settlement; on a channel that is gone, the broker gives the delivery again instead. */
function send(settle: () => void): void {
  try {
    settle();
  } catch {
    // The channel closed: its unacknowledged deliveries go back to the queue.
  }
}
