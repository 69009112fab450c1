/**
 * The checks and helpers every {@link Transport} implementation shares, so that a broker
 * transport refuses exactly what the in-memory one refuses, with the same typed errors, and
 * reports a handler's outcome the same way. Application code does not need them.
 * @module
 */

import { randomUUID } from 'node:crypto';
import { errorText, InvalidError, type Logger } from '@herald/core';
import { CallTimeoutError, HandlerTimeoutError } from './errors.js';
import type {
  ConsumeOptions,
  CloseOptions,
  Delivery,
  DeliveryHandler,
  OutgoingMessage,
  ReplayOptions,
  RequestOptions,
  RetryBackoff,
  Target,
  Transport,
} from './transport.js';
import { DEFAULT_MAX_RETRY_DELAY_MS } from './transport.js';

/**
 * The longest delay `setTimeout` honours (a longer one fires at once).
 *
 * @example
 * ```ts
 * const timer = setTimeout(expire, Math.min(timeoutMs, MAX_TIMER_MS));
 * ```
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The default {@link CloseOptions.drainMs}.
 *
 * @example
 * ```ts
 * const drainMs = options.drainMs ?? DEFAULT_DRAIN_MS;
 * ```
 */
export const DEFAULT_DRAIN_MS = 5_000;

/**
 * The default number of acknowledged ids a queue remembers to drop duplicates.
 *
 * @example
 * ```ts
 * new InMemoryTransport({ deduplicationWindow: DEFAULT_DEDUPLICATION_WINDOW * 10 }); // a busier queue
 * ```
 */
export const DEFAULT_DEDUPLICATION_WINDOW = 10_000;

/**
 * Checks that `transport` is an object with the `methods` its user calls, so that a wrong
 * argument fails where it was passed (with an `InvalidError` naming `transport`) rather than as
 * a `TypeError` at the first message.
 *
 * @throws InvalidError naming `transport`
 *
 * @example
 * ```ts
 * constructor(transport: Transport) {
 *   checkTransport(transport, ['publish', 'consume']); // InvalidError now, not a TypeError later
 *   this.#transport = transport;
 * }
 * ```
 */
export function checkTransport(transport: unknown, methods: readonly (keyof Transport)[]): void {
  if (
    transport === null ||
    typeof transport !== 'object' ||
    methods.some((method) => typeof (transport as Record<string, unknown>)[method] !== 'function')
  ) {
    throw new InvalidError(
      'transport',
      transport,
      `pass a Transport (an object with ${methods.map((m) => `${m}()`).join(' and ')}), ` +
        'e.g. new InMemoryTransport() or await AmqpTransport.connect().',
    );
  }
}

/**
 * Whether `value` can name a topic: a non-empty string without whitespace (a broker's routing
 * keys and queue names are built from it). Every topic Herald takes is checked with it.
 *
 * @example
 * ```ts
 * isTopicName('dhcp_agent');   // true
 * isTopicName('dhcp agent');   // false
 * ```
 */
export function isTopicName(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && !/\s/.test(value);
}

/**
 * A frozen copy of a valid target, with only the keys that matter.
 *
 * @throws InvalidError naming the bad part (`target`, `target.topic`, `target.server`, `target.fanout`)
 * @example
 * ```ts
 * const address = checkTarget({ topic: 'dhcp_agent', server: 'host-1' });
 * ```
 */
export function checkTarget(target: Target): Target {
  if (target === null || typeof target !== 'object' || Array.isArray(target)) {
    throw new InvalidError('target', target, "pass an object such as { topic: 'dhcp_agent' }.");
  }
  const { topic, server, fanout } = target;
  if (!isTopicName(topic)) {
    throw new InvalidError('target.topic', topic, 'pass a non-empty string without whitespace.');
  }
  if (server !== undefined && (typeof server !== 'string' || server === '')) {
    throw new InvalidError('target.server', server, 'pass a non-empty string (a host name), or leave it out.');
  }
  if (fanout !== undefined && typeof fanout !== 'boolean') {
    throw new InvalidError('target.fanout', fanout, 'pass true (every server of the topic), false, or leave it out.');
  }
  if (server !== undefined && fanout === true) {
    throw new InvalidError('target', target, 'pass either a server or fanout: true, not both.');
  }
  if (server !== undefined) return Object.freeze({ topic, server });
  return Object.freeze(fanout === true ? { topic, fanout } : { topic });
}

/**
 * A valid message: its id (given or new), a frozen copy of its headers, its body as JSON text.
 *
 * @example
 * ```ts
 * const checked: CheckedMessage = checkMessage({ body: { method: 'sync' } });
 * channel.publish(exchange, routingKey, Buffer.from(checked.json), { messageId: checked.id, headers: checked.headers });
 * ```
 */
export interface CheckedMessage {
  /** The message's id: the one given, or a new UUID. */
  readonly id: string;
  /** A frozen copy of its headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** Its body as JSON text. */
  readonly json: string;
}

/**
 * Checks `message` and gives what every copy of it shares.
 *
 * @throws InvalidError naming the bad part (`message`, `message.id`, `message.headers.<name>`,
 *   `message.body` when JSON cannot carry it)
 * @example
 * ```ts
 * const { id, headers, json } = checkMessage({ body: { method: 'sync' } });
 * ```
 */
export function checkMessage(message: OutgoingMessage): CheckedMessage {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) {
    throw new InvalidError('message', message, 'pass an object such as { body: { method: "sync" } }.');
  }
  const { id = randomUUID(), headers = {}, body } = message;
  if (typeof id !== 'string' || id === '') {
    throw new InvalidError('message.id', id, 'pass a non-empty string, or leave it out for a random UUID.');
  }
  if (headers === null || typeof headers !== 'object' || !isPlainObject(headers)) {
    throw new InvalidError('message.headers', headers, 'pass an object of string values, or leave it out.');
  }
  const copy: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') {
      throw new InvalidError(`message.headers.${name}`, value, 'pass a string: header values are strings.');
    }
    copy[name] = value;
  }
  return { id, headers: Object.freeze(copy), json: bodyJson(body) };
}

/** The JSON text of `body`, which must survive a round trip. */
function bodyJson(body: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(body);
  } catch (error) {
    throw new InvalidError(
      'message.body',
      body,
      `pass a JSON value (no BigInt, no cycle): ${errorText(error)}. Messages cross processes as JSON.`,
    );
  }
  if (json === undefined) {
    throw new InvalidError('message.body', body, 'pass a JSON value (null, not undefined, for nothing).');
  }
  return json;
}

/**
 * Checks a delivery limit (a whole number, 1 or more).
 *
 * @throws InvalidError naming `element`
 * @example
 * ```ts
 * checkDeliveryLimit('options.deliveryLimit', options.deliveryLimit ?? DEFAULT_DELIVERY_LIMIT);
 * ```
 */
export function checkDeliveryLimit(element: string, limit: unknown): asserts limit is number {
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidError(element, limit, 'pass a whole number of deliveries, 1 or more.');
  }
}

/**
 * A consumer's options, checked, with the defaults applied.
 *
 * @example
 * ```ts
 * const { group, deliveryLimit, retryBackoff, concurrency } = checkConsumeOptions(options, target, defaults);
 * ```
 */
export interface CheckedConsumeOptions {
  /** The group (the topic itself by default). */
  readonly group: string;
  /** Deliveries of one message before it is dead-lettered. */
  readonly deliveryLimit: number;
  /** How long a handler may run; `undefined` for no limit. */
  readonly handlerTimeoutMs: number | undefined;
  /** The backoff, every field set; `undefined` for immediate retries. */
  readonly retryBackoff: Required<RetryBackoff> | undefined;
  /** Deliveries handled at once (1: in order). */
  readonly concurrency: number;
}

/**
 * The most deliveries a consumer may handle at once (AMQP's prefetch is a 16-bit number).
 *
 * @example
 * ```ts
 * await transport.consume(target, handler, { concurrency: Math.min(wanted, MAX_CONCURRENCY) });
 * ```
 */
export const MAX_CONCURRENCY = 65_535;

/**
 * The options of a consumer, defaults applied: the group defaults to the topic, the delivery
 * limit and the backoff to the transport's (`defaults`).
 *
 * @throws InvalidError for options that are not an object, an empty group, a bad limit, timeout,
 *   backoff or concurrency (naming `options.<field>`)
 * @example
 * ```ts
 * const { group, deliveryLimit } = checkConsumeOptions(options, target, { deliveryLimit: DEFAULT_DELIVERY_LIMIT });
 * ```
 */
export function checkConsumeOptions(
  options: ConsumeOptions,
  target: Target,
  defaults: { readonly deliveryLimit: number; readonly retryBackoff?: Required<RetryBackoff> | undefined },
): CheckedConsumeOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidError(
      'options',
      options,
      'pass { group, deliveryLimit, handlerTimeoutMs, retryBackoff, concurrency } or nothing.',
    );
  }
  const { group = target.topic, deliveryLimit = defaults.deliveryLimit, handlerTimeoutMs, concurrency = 1 } = options;
  if (typeof group !== 'string' || group === '') {
    throw new InvalidError('options.group', group, 'pass a non-empty string, or leave it out for the topic.');
  }
  checkDeliveryLimit('options.deliveryLimit', deliveryLimit);
  if (
    handlerTimeoutMs !== undefined &&
    (typeof handlerTimeoutMs !== 'number' || !(handlerTimeoutMs > 0) || handlerTimeoutMs > MAX_TIMER_MS)
  ) {
    throw new InvalidError(
      'options.handlerTimeoutMs',
      handlerTimeoutMs,
      `pass a number of milliseconds above 0, up to ${MAX_TIMER_MS}, or leave it out (no limit).`,
    );
  }
  if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new InvalidError(
      'options.concurrency',
      concurrency,
      `pass a whole number of deliveries at once, from 1 (in order, the default) to ${MAX_CONCURRENCY}.`,
    );
  }
  const retryBackoff =
    options.retryBackoff === undefined
      ? defaults.retryBackoff
      : checkRetryBackoff('options.retryBackoff', options.retryBackoff);
  if (retryBackoff !== undefined) {
    const delays = Math.min(deliveryLimit - 1, retriesUntilMaxDelay(retryBackoff));
    if (delays > MAX_RETRY_DELAYS) {
      throw new InvalidError(
        'options.retryBackoff',
        options.retryBackoff ?? retryBackoff,
        `it has ${delays} distinct delays before maxDelayMs with deliveryLimit ${deliveryLimit}, and a consumer may have ${MAX_RETRY_DELAYS} (a broker keeps a queue per delay): raise multiplier, or lower maxDelayMs or deliveryLimit.`,
      );
    }
  }
  return { group, deliveryLimit, handlerTimeoutMs, retryBackoff, concurrency };
}

/**
 * `backoff` checked, with every field set (`multiplier` 2, `maxDelayMs`
 * {@link DEFAULT_MAX_RETRY_DELAY_MS} or `initialDelayMs` when that is longer); `undefined` when it
 * never waits (`initialDelayMs: 0`).
 *
 * @throws InvalidError naming `<element>` or `<element>.<field>`
 * @example
 * ```ts
 * checkRetryBackoff('options.retryBackoff', { initialDelayMs: 100 }); // { initialDelayMs: 100, multiplier: 2, maxDelayMs: 60000 }
 * ```
 */
export function checkRetryBackoff(element: string, backoff: RetryBackoff): Required<RetryBackoff> | undefined {
  if (backoff === null || typeof backoff !== 'object' || Array.isArray(backoff)) {
    throw new InvalidError(element, backoff, 'pass { initialDelayMs, multiplier?, maxDelayMs? }, or leave it out.');
  }
  const { initialDelayMs, multiplier = 2 } = backoff;
  if (typeof initialDelayMs !== 'number' || !(initialDelayMs >= 0) || initialDelayMs > MAX_TIMER_MS) {
    throw new InvalidError(
      `${element}.initialDelayMs`,
      initialDelayMs,
      `pass the delay before the first retry: milliseconds from 0 (none) to ${MAX_TIMER_MS}.`,
    );
  }
  if (typeof multiplier !== 'number' || !(multiplier >= 1) || !Number.isFinite(multiplier)) {
    throw new InvalidError(
      `${element}.multiplier`,
      multiplier,
      'pass a finite number, 1 (the same delay each time) or more.',
    );
  }
  const { maxDelayMs = Math.max(DEFAULT_MAX_RETRY_DELAY_MS, initialDelayMs) } = backoff;
  if (typeof maxDelayMs !== 'number' || !(maxDelayMs >= initialDelayMs) || maxDelayMs > MAX_TIMER_MS) {
    throw new InvalidError(
      `${element}.maxDelayMs`,
      maxDelayMs,
      `pass milliseconds from initialDelayMs (${initialDelayMs}) to ${MAX_TIMER_MS}.`,
    );
  }
  if (initialDelayMs === 0) return undefined;
  return Object.freeze({ initialDelayMs, multiplier, maxDelayMs });
}

/**
 * How long what failed on `attempt` waits before the next one, in whole milliseconds (0 without
 * a backoff): `initialDelayMs × multiplier^(attempt − 1)`, at most `maxDelayMs`. Rounded, so that
 * a broker needs one delay queue per distinct value.
 *
 * @example
 * ```ts
 * backoffDelayMs({ initialDelayMs: 100, multiplier: 2, maxDelayMs: 1_000 }, 3); // 400
 * ```
 */
export function backoffDelayMs(backoff: Required<RetryBackoff> | undefined, attempt: number): number {
  if (backoff === undefined) return 0;
  const { initialDelayMs, multiplier, maxDelayMs } = backoff;
  return Math.round(Math.min(maxDelayMs, initialDelayMs * multiplier ** Math.max(0, attempt - 1)));
}

/**
 * Every delay a consumer with `backoff` and `deliveryLimit` can wait before a retry, each once
 * (a broker declares a delay queue for each).
 *
 * @example
 * ```ts
 * retryDelaysMs({ initialDelayMs: 100, multiplier: 2, maxDelayMs: 300 }, 5); // [100, 200, 300]
 * ```
 */
export function retryDelaysMs(backoff: Required<RetryBackoff> | undefined, deliveryLimit: number): number[] {
  if (backoff === undefined) return [];
  const delays = new Set<number>();
  const retries = Math.min(deliveryLimit - 1, retriesUntilMaxDelay(backoff));
  for (let attempt = 1; attempt <= retries; attempt++) delays.add(backoffDelayMs(backoff, attempt));
  return [...delays];
}

/**
 * The most distinct delays a consumer's backoff may have (so that a broker declares at most this
 * many delay queues for it).
 *
 * @example
 * ```ts
 * // 1.5 from 100 ms to a minute takes 17 retries: fine; 1.05 would take 133.
 * await transport.consume(target, handler, { deliveryLimit: 20, retryBackoff: { initialDelayMs: 100, multiplier: 1.5 } });
 * ```
 */
export const MAX_RETRY_DELAYS = 32;

/** How many retries `backoff` takes to reach its `maxDelayMs` (each later one waits that long). */
function retriesUntilMaxDelay({ initialDelayMs, multiplier, maxDelayMs }: Required<RetryBackoff>): number {
  if (multiplier === 1 || initialDelayMs >= maxDelayMs) return 1;
  return Math.ceil(Math.log(maxDelayMs / initialDelayMs) / Math.log(multiplier)) + 1;
}

/**
 * `handler`, failing with `HandlerTimeoutError` when it has not settled within `timeoutMs` (the
 * handler itself runs on: nothing can stop it). Without a timeout, `handler` itself.
 *
 * @example
 * ```ts
 * const run = timeLimited(handler, target, options.handlerTimeoutMs);
 * ```
 */
export function timeLimited(handler: DeliveryHandler, target: Target, timeoutMs: number | undefined): DeliveryHandler {
  if (timeoutMs === undefined) return handler;
  return (delivery) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new HandlerTimeoutError(target, timeoutMs)), timeoutMs);
      Promise.resolve()
        .then(() => handler(delivery))
        .then(resolve, reject)
        .finally(() => clearTimeout(timer));
    });
}

/**
 * The timeout of a request, in milliseconds.
 *
 * @throws InvalidError for missing options or a timeout that is not a positive number a timer can wait
 * @example
 * ```ts
 * const timeoutMs = checkRequestOptions({ timeoutMs: 5_000 });
 * ```
 */
export function checkRequestOptions(options: RequestOptions): number {
  if (options === null || typeof options !== 'object') {
    throw new InvalidError('options', options, 'pass { timeoutMs }.');
  }
  const { timeoutMs } = options;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || timeoutMs > MAX_TIMER_MS) {
    throw new InvalidError(
      'options.timeoutMs',
      timeoutMs,
      `pass a number of milliseconds above 0, up to ${MAX_TIMER_MS}.`,
    );
  }
  return timeoutMs;
}

/**
 * The checked parts of a request: a target that is not fanout, the message, the timeout.
 *
 * @throws InvalidError for a fanout or bad target, a bad message, or a bad timeout (in that order)
 * @example
 * ```ts
 * const { target: address, message: checked, timeoutMs } = checkRequest(target, message, options);
 * ```
 */
export function checkRequest(
  target: Target,
  message: OutgoingMessage,
  options: RequestOptions,
): { target: Target; message: CheckedMessage; timeoutMs: number } {
  const address = checkTarget(target);
  if (address.fanout === true) {
    throw new InvalidError('target', target, 'a request goes to one consumer: pass { topic } or { topic, server }.');
  }
  return { target: address, message: checkMessage(message), timeoutMs: checkRequestOptions(options) };
}

/**
 * The message id a replay is limited to, if any.
 *
 * @throws InvalidError for options that are not an object, or an `id` that is not a non-empty string
 * @example
 * ```ts
 * const id = checkReplayOptions({ id: 'port-42-created' });
 * ```
 */
export function checkReplayOptions(options: ReplayOptions): string | undefined {
  if (options === null || typeof options !== 'object') {
    throw new InvalidError('options', options, 'pass { id } or nothing (all the dead letters).');
  }
  const { id } = options;
  if (id !== undefined && (typeof id !== 'string' || id === '')) {
    throw new InvalidError('options.id', id, 'pass the message id of the dead letter to replay, or leave it out.');
  }
  return id;
}

/**
 * The drain time of a close, in milliseconds (default {@link DEFAULT_DRAIN_MS}).
 *
 * @throws InvalidError for options that are not an object or a `drainMs` that is not a non-negative number
 * @example
 * ```ts
 * const drainMs = checkCloseOptions(options);
 * ```
 */
export function checkCloseOptions(options: CloseOptions): number {
  if (options === null || typeof options !== 'object') {
    throw new InvalidError('options', options, 'pass { drainMs } or nothing.');
  }
  const { drainMs = DEFAULT_DRAIN_MS } = options;
  if (typeof drainMs !== 'number' || !(drainMs >= 0) || drainMs > MAX_TIMER_MS) {
    throw new InvalidError('options.drainMs', drainMs, `pass a number of milliseconds from 0 to ${MAX_TIMER_MS}.`);
  }
  return drainMs;
}

/**
 * Checks a transport's deduplication window (a whole number of ids, 0 for none).
 *
 * @throws InvalidError naming `element`
 * @example
 * ```ts
 * checkDeduplicationWindow('options.deduplicationWindow', window);
 * ```
 */
export function checkDeduplicationWindow(element: string, window: unknown): asserts window is number {
  if (typeof window !== 'number' || !Number.isSafeInteger(window) || window < 0) {
    throw new InvalidError(
      element,
      window,
      'pass a whole number of ids to remember per queue (0 turns deduplication off).',
    );
  }
}

/**
 * Checks a transport's `maxQueueLength`: a whole number of messages, 1 or more, or `Infinity`.
 *
 * @throws InvalidError naming `element`
 * @example
 * ```ts
 * checkMaxQueueLength('options.maxQueueLength', options.maxQueueLength ?? Infinity);
 * ```
 */
export function checkMaxQueueLength(element: string, value: unknown): asserts value is number {
  if (value !== Infinity && (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)) {
    throw new InvalidError(element, value, 'pass a whole number of messages, 1 or more, or Infinity (no limit).');
  }
}

/**
 * Checks an optional logger (an object with an `error` method).
 *
 * @throws InvalidError naming `element`
 * @example
 * ```ts
 * checkLogger('options.logger', options.logger);
 * ```
 */
export function checkLogger(element: string, logger: unknown): asserts logger is Logger | undefined {
  if (logger === undefined) return;
  if (logger === null || typeof logger !== 'object' || typeof (logger as Logger).error !== 'function') {
    throw new InvalidError(element, logger, 'pass an object with an error(message) method, such as console.');
  }
}

/**
 * Reports `text` at warning level (error level when the logger has no `warn`); never throws.
 *
 * @example
 * ```ts
 * warn(this.#logger, `could not relay ${entry.message.id}: ${errorText(error)}`);
 * ```
 */
export function warn(logger: Logger | undefined, text: string): void {
  if (logger === undefined) return;
  try {
    if (logger.warn !== undefined) logger.warn(text);
    else logger.error(text);
  } catch {
    // A failing logger must not break delivery.
  }
}

/**
 * What a handler did: returned `value`, or threw `error`.
 *
 * @example
 * ```ts
 * const outcome: Outcome = await runHandler(handler, delivery);
 * if (!outcome.ok) console.error(outcome.error);
 * ```
 */
export type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/**
 * Runs `handler` on `delivery`: its (awaited) result or its failure, never a rejection.
 *
 * @example
 * ```ts
 * const outcome = await runHandler(handler, delivery);
 * if (outcome.ok) ack(); else retry(outcome.error);
 * ```
 */
export async function runHandler(handler: DeliveryHandler, delivery: Delivery): Promise<Outcome> {
  try {
    return { ok: true, value: await handler(delivery) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** The names JavaScript's own error classes give their instances. */
const BUILT_IN_ERROR_NAMES: ReadonlySet<string> = new Set([
  'Error',
  'AggregateError',
  'EvalError',
  'RangeError',
  'ReferenceError',
  'SyntaxError',
  'TypeError',
  'URIError',
]);

/**
 * The name and message a failure is reported with to a remote caller (anything can be thrown).
 * The name is the error's class name, as oslo's `exc_type`: a subclass that does not set `name`
 * (`class RouterNotFound extends Error {}`) still has the one of the built-in class it extends,
 * so its constructor's name is taken instead. A `name` the error or its class sets is kept.
 *
 * @example
 * ```ts
 * const { name, text } = failureOf(new TypeError('no port'));  // { name: 'TypeError', text: 'no port' }
 * class RouterNotFound extends Error {}
 * failureOf(new RouterNotFound('no router r9')).name;          // 'RouterNotFound'
 * ```
 */
export function failureOf(error: unknown): { name: string; text: string } {
  if (error !== null && typeof error === 'object') {
    const { name, message } = error as { name?: unknown; message?: unknown };
    if (typeof message === 'string') return { name: classNameOf(error, name), text: message };
  }
  return { name: 'Error', text: String(error) };
}

/** The class name of `error`, whose `name` property is `name`. */
function classNameOf(error: object, name: unknown): string {
  if (typeof name !== 'string') return 'Error';
  if (!BUILT_IN_ERROR_NAMES.has(name)) return name;
  // The name a built-in class gives: the subclass's own name says more, when it has one.
  const constructorName: unknown = (error as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof constructorName === 'string' && constructorName !== '' && constructorName !== 'Object'
    ? constructorName
    : name;
}

/**
 * What a request handler's outcome replies: the JSON text of its value (`null` for nothing), or
 * the failure the caller gets as `RemoteError` (also when the value is not JSON).
 *
 * @example
 * ```ts
 * const reply = replyOf(await runHandler(handler, delivery));
 * if ('json' in reply) sendOk(reply.json); else sendError(reply.name, reply.text);
 * ```
 */
export function replyOf(outcome: Outcome): { json: string } | { name: string; text: string } {
  if (!outcome.ok) return failureOf(outcome.error);
  let json: string | undefined;
  try {
    json = JSON.stringify(outcome.value === undefined ? null : outcome.value);
  } catch {
    json = undefined;
  }
  if (json !== undefined) return { json };
  // What a broker's server would answer: the reply cannot be carried.
  return failureOf(new InvalidError('reply', outcome.value, 'return a JSON value from a request handler.'));
}

/**
 * A request waiting for its reply: it settles once, whichever comes first of the reply, a
 * failure, and its timeout (a `CallTimeoutError`). The timer does not keep the process alive.
 *
 * @example
 * ```ts
 * const pending = new PendingReply(target, timeoutMs, () => waiting.delete(id));
 * waiting.set(id, pending);
 * send().catch((error) => pending.reject(error));
 * return pending.promise; // onReply: waiting.get(id)?.resolve(delivery)
 * ```
 */
export class PendingReply {
  /** Resolves to the reply; rejects with the failure, or with a `CallTimeoutError`. */
  readonly promise: Promise<Delivery>;
  #settled = false;
  #resolve!: (reply: Delivery) => void;
  #reject!: (error: Error) => void;
  readonly #timer: NodeJS.Timeout;

  /**
   * @param onSettled called once, when the request settles (to forget it)
   * @param timedOut called after the timeout rejected it (to withdraw the request)
   */
  constructor(
    /** Where the request went. */
    readonly target: Target,
    timeoutMs: number,
    private readonly onSettled: () => void,
    timedOut: () => void = () => undefined,
  ) {
    this.promise = new Promise<Delivery>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#timer = setTimeout(() => {
      this.reject(this.timeoutError(timeoutMs));
      timedOut();
    }, timeoutMs);
    this.#timer.unref();
  }

  /**
   * What the request rejects with when no reply came in time: a `CallTimeoutError`. A transport
   * that knows better (the request never left: its broker was unreachable) says so instead.
   */
  protected timeoutError(timeoutMs: number): Error {
    return new CallTimeoutError(this.target, timeoutMs);
  }

  /** Whether the reply, a failure or the timeout has settled it. */
  get isSettled(): boolean {
    return this.#settled;
  }

  /** Settles it with `reply`, unless it is settled already. */
  resolve(reply: Delivery): void {
    if (this.#finish()) this.#resolve(reply);
  }

  /** Settles it with `error`, unless it is settled already. */
  reject(error: Error): void {
    if (this.#finish()) this.#reject(error);
  }

  #finish(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    clearTimeout(this.#timer);
    this.onSettled();
    return true;
  }
}

/**
 * The ids of the last messages a queue acknowledged, to acknowledge a duplicate without handling
 * it again; the oldest is forgotten first. A window of 0 remembers nothing.
 *
 * @example
 * ```ts
 * const seen = new IdWindow(10_000);
 * if (seen.has(delivery.id)) return ack();
 * await handle(delivery); seen.add(delivery.id); ack();
 * ```
 */
export class IdWindow {
  /** The ids, for lookups. */
  readonly #ids = new Set<string>();
  /**
   * The same ids in a ring, to forget the oldest: deleting a Set's first entry again and again
   * leaves tombstones that each later `values().next()` walks over.
   */
  readonly #ring: string[] = [];
  #oldest = 0;

  constructor(
    /** How many ids it remembers. */
    readonly size: number,
  ) {}

  /** Whether `id` is among the remembered ids. */
  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /** Remembers `id`, forgetting the oldest beyond the window. */
  add(id: string): void {
    if (this.size === 0 || this.#ids.has(id)) return;
    this.#ids.add(id);
    if (this.#ring.length < this.size) {
      this.#ring.push(id);
      return;
    }
    this.#ids.delete(this.#ring[this.#oldest]!);
    this.#ring[this.#oldest] = id;
    this.#oldest = (this.#oldest + 1) % this.size;
  }
}

function isPlainObject(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
