/**
 * What notification listeners and RPC servers share: a set of consumers started and stopped
 * together. Internal to the package (not exported from its index).
 * @module
 */

import { InvalidError } from '@herald/core';
import { checkConsumeOptions } from './transport.kit.js';
import type { ConsumeOptions, Consumer, DeliveryHandler, Target, Transport } from './transport.js';

/** The consume options a notification listener or an RPC server hands to its transport as given. */
export type ConsumerSettings = Pick<
  ConsumeOptions,
  'deliveryLimit' | 'handlerTimeoutMs' | 'retryBackoff' | 'concurrency'
>;

/**
 * The settings in `options` that are set, checked now so that a bad one fails the constructor
 * rather than `start()`; the transport checks them again against its own defaults.
 */
export function consumerSettings(options: ConsumerSettings): ConsumerSettings {
  const limit = options.deliveryLimit;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) {
    throw new InvalidError('deliveryLimit', limit, `pass a whole number of deliveries, at least 1.`);
  }
  const settings: ConsumerSettings = {
    ...(limit !== undefined && { deliveryLimit: limit }),
    ...(options.handlerTimeoutMs !== undefined && { handlerTimeoutMs: options.handlerTimeoutMs }),
    ...(options.retryBackoff !== undefined && { retryBackoff: options.retryBackoff }),
    ...(options.concurrency !== undefined && { concurrency: options.concurrency }),
  };
  checkConsumeOptions(settings, { topic: 'settings' }, { deliveryLimit: limit ?? 1 });
  return settings;
}

/**
 * Consumers of several targets with one handler, started and stopped as one; a start and a stop
 * never interleave (each waits for the one in progress).
 */
export class ConsumerSet {
  #consumers: Consumer[] | undefined;
  /** The start or stop in progress; the next one runs after it. */
  #pending: Promise<void> = Promise.resolve();

  /** Whether the consumers are listening. */
  get running(): boolean {
    return this.#consumers !== undefined;
  }

  /**
   * Consume every target with `handler`; resolves once all are listening. Does nothing while
   * running. If a target cannot be consumed, the consumers already started are closed and the
   * error is thrown.
   */
  start(
    transport: Transport,
    targets: readonly Target[],
    handler: DeliveryHandler,
    options: ConsumeOptions,
  ): Promise<void> {
    return this.#serialize(async () => {
      if (this.#consumers !== undefined) return;
      const consumers: Consumer[] = [];
      try {
        for (const target of targets) consumers.push(await transport.consume(target, handler, options));
      } catch (error) {
        await Promise.allSettled(consumers.map((c) => c.close()));
        throw error;
      }
      this.#consumers = consumers;
    });
  }

  /**
   * Close every consumer; resolves once the deliveries in progress have been settled, and throws
   * the first close failure (after trying them all). Does nothing when stopped.
   */
  stop(): Promise<void> {
    return this.#serialize(async () => {
      const consumers = this.#consumers;
      this.#consumers = undefined;
      if (consumers === undefined) return;
      const results = await Promise.allSettled(consumers.map((c) => c.close()));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    });
  }

  #serialize(step: () => Promise<void>): Promise<void> {
    const run = this.#pending.then(step);
    this.#pending = run.catch(() => undefined);
    return run;
  }
}
