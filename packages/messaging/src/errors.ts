/**
 * The errors of `@herald/messaging`. Each extends core's `HeraldError` (bad arguments are core's
 * `InvalidError`).
 * @module
 */

import { HeraldError } from '@herald/core';
import type { Target } from './transport.js';

/**
 * How a target reads in messages: `topic`, `topic.server` or `topic (fanout)`.
 *
 * @example
 * ```ts
 * describeTarget({ topic: 'l3_agent', server: 'host-1' }); // 'l3_agent.host-1'
 * describeTarget({ topic: 'l3_agent', fanout: true }); // 'l3_agent (fanout)'
 * ```
 */
export function describeTarget(target: Target): string {
  if (target.server !== undefined) return `${target.topic}.${target.server}`;
  return target.fanout === true ? `${target.topic} (fanout)` : target.topic;
}

/**
 * The transport could not take or deliver a message: it is closed, or (a broker) unreachable
 * after its retries.
 *
 * @example
 * ```ts
 * await transport.close();
 * await transport.publish({ topic: 'x' }, { body: 1 }); // rejects: TransportError
 * ```
 */
export class TransportError extends HeraldError {}

/**
 * A handler did not settle within its consumer's `handlerTimeoutMs`: its delivery counts as failed.
 *
 * @example
 * ```ts
 * const letters = await transport.deadLetters(); // error: 'The handler of dhcp_agent did not settle within 30000 ms …'
 * ```
 */
export class HandlerTimeoutError extends HeraldError {
  constructor(
    /** Where the delivery came from: the consumer's target. */
    readonly target: Target,
    /** The consumer's `handlerTimeoutMs` that the handler exceeded. */
    readonly timeoutMs: number,
  ) {
    super(
      `The handler of ${describeTarget(target)} did not settle within ${timeoutMs} ms: the delivery counts as failed. Make the handler faster, or raise handlerTimeoutMs.`,
    );
  }
}

/**
 * A request got no reply in time (oslo's `MessagingTimeout`).
 *
 * @example
 * ```ts
 * try { await client.call(ctx, 'get_routers', {}); }
 * catch (e) { if (e instanceof CallTimeoutError) console.warn(e.target, e.timeoutMs); }
 * ```
 */
export class CallTimeoutError extends TransportError {
  constructor(
    /** Where the request went. */
    readonly target: Target,
    /** How long it waited for the reply, in milliseconds. */
    readonly timeoutMs: number,
  ) {
    super(
      `No reply from ${describeTarget(target)} within ${timeoutMs} ms: check that a server consumes it, or raise the timeout.`,
    );
  }
}

/**
 * The handler on the other side threw. `remoteName` and `remoteMessage` are the remote error's
 * class and `message` (oslo's `RemoteError` exc_type and value): its `name`, or, when that is only
 * the one a built-in class gives (`'Error'`, `'TypeError'`…), its class's name, so that a
 * `class RouterNotFound extends Error {}` thrown there is `'RouterNotFound'` here.
 *
 * @example
 * ```ts
 * try { await client.call(ctx, 'sync_routers', {}); }
 * catch (e) { if (e instanceof RemoteError && e.remoteName === 'RouterNotFound') … }
 * ```
 */
export class RemoteError extends HeraldError {
  constructor(
    /** The name of the error on the remote side (oslo's `exc_type`), e.g. `RouterNotFound`. */
    readonly remoteName: string,
    /** The message of the error on the remote side. */
    readonly remoteMessage: string,
  ) {
    super(`The remote handler failed with ${remoteName}: ${remoteMessage}`);
  }
}

/**
 * Thrown by a delivery handler to send the delivery straight to the dead letters, without the
 * retries left to it: for a message that no retry can fix (it is not Herald's, it is malformed,
 * its sender is not who it claims). `reason` is recorded with the dead letter.
 *
 * @example
 * ```ts
 * await transport.consume({ topic: 'dhcp_agent' }, (delivery) => {
 *   if (typeof delivery.body !== 'object' || delivery.body === null) {
 *     throw new DeadLetterError(`body is ${JSON.stringify(delivery.body)}, not an object: not a Herald message`);
 *   }
 * });
 * ```
 */
export class DeadLetterError extends HeraldError {
  constructor(
    /** Why the delivery goes to the dead letters; the dead letter records it. */
    readonly reason: string,
    options?: { readonly cause?: unknown },
  ) {
    super(reason, options);
  }
}
