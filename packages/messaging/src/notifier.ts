/**
 * oslo.messaging-style notifications: a {@link Notifier} publishes `router.create.end` and the
 * like to `<topic>.<priority>` (`notifications.info`), a {@link NotificationListener} hands them
 * to endpoints by priority, and a {@link NotificationFilter} lets an endpoint take only some of
 * them.
 *
 * Two things differ from oslo on purpose. A notifier reports a failed publish (oslo logs it and
 * carries on): the caller decides whether a lost notification matters. And a listener
 * acknowledges a message only after its endpoints ran, so an endpoint that throws gets the
 * message again (at-least-once): endpoints should be idempotent.
 * @module
 */

import { describeValue, errorText, HeraldError, InvalidError, type Logger } from '@herald/core';
import { randomUUID } from 'node:crypto';
import { ConsumerSet, consumerSettings, type ConsumerSettings } from './consumers.js';
import { DeadLetterError } from './errors.js';
import { checkTransport, isTopicName } from './transport.kit.js';
import type { ConsumeOptions, Delivery, Transport } from './transport.js';

/**
 * The priorities of a notification, lowest to highest, then `sample` (oslo's list).
 *
 * @example
 * ```ts
 * const priority = NOTIFICATION_PRIORITIES.includes(level) ? level : 'info';
 * ```
 */
export const NOTIFICATION_PRIORITIES = Object.freeze([
  'audit',
  'debug',
  'info',
  'warn',
  'error',
  'critical',
  'sample',
] as const);

/**
 * One of {@link NOTIFICATION_PRIORITIES}.
 *
 * @example
 * ```ts
 * const priority: NotificationPriority = 'error';
 * await notifier.notify(priority, ctx, 'router.create.end', { router });
 * ```
 */
export type NotificationPriority = (typeof NOTIFICATION_PRIORITIES)[number];

/**
 * The default topic of notifiers and listeners, as oslo's `notifications`.
 *
 * @example
 * ```ts
 * const notifier = new Notifier(transport, { publisherId: 'network.host-1', topics: [DEFAULT_NOTIFICATION_TOPIC, 'billing'] });
 * ```
 */
export const DEFAULT_NOTIFICATION_TOPIC = 'notifications';

/**
 * The request context a notification carries (oslo's `ctxt`, a `RequestContext.to_dict()`). A JSON object.
 *
 * @example
 * ```ts
 * const ctx: NotificationContext = { request_id: 'req-1', user_id: 'admin' };
 * await notifier.info(ctx, 'router.create.end', { router });
 * ```
 */
export type NotificationContext = Readonly<Record<string, unknown>>;

/**
 * A notification's body on the wire, in oslo's shape.
 *
 * @example
 * ```ts
 * const body: NotificationMessage = {
 *   message_id: '4c7b…', publisher_id: 'network.host-1', event_type: 'router.create.end',
 *   priority: 'INFO', payload: { router: { id: 'r1' } }, timestamp: '2025-01-01T12:00:00.000Z',
 *   context: { request_id: 'req-1' },
 * };
 * ```
 */
export interface NotificationMessage {
  /** The message's id: unique, the same on every copy. */
  readonly message_id: string;
  /** Who sent it, e.g. `network.host-1`. */
  readonly publisher_id: string;
  /** What happened, e.g. `router.create.end`. */
  readonly event_type: string;
  /** The priority in upper case: `INFO`, `ERROR`… */
  readonly priority: string;
  /** The notification's content: any JSON value. */
  readonly payload: unknown;
  /** When it was sent: an ISO 8601 UTC time (`Date.prototype.toISOString`). */
  readonly timestamp: string;
  /** The request context of the sender. */
  readonly context: NotificationContext;
}

/**
 * What an endpoint gets besides the payload (oslo's `metadata`).
 *
 * @example
 * ```ts
 * info(ctx: NotificationContext, publisherId: string, eventType: string, payload: unknown, metadata: NotificationMetadata) {
 *   console.log(metadata.message_id, metadata.timestamp);
 * }
 * ```
 */
export interface NotificationMetadata {
  /** The message's id. */
  readonly message_id: string;
  /** When it was sent: an ISO 8601 UTC time. */
  readonly timestamp: string;
}

const consoleLogger: Logger = {
  error: (message, ...meta) => console.error(message, ...meta),
};

/** A non-empty string, or an `InvalidError` naming `element`. */
function requireName(element: string, value: unknown, hint: string): string {
  if (typeof value !== 'string' || value === '') throw new InvalidError(element, value, hint);
  return value;
}

/** A non-empty list of topics (non-empty strings without whitespace, as a target's), copied and frozen. */
function requireTopics(value: unknown): readonly string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidError('topics', value, `pass a non-empty array of topic names, e.g. ['notifications'].`);
  }
  for (const topic of value) {
    if (!isTopicName(topic)) {
      throw new InvalidError('topics', topic, `each topic must be a non-empty string without whitespace.`);
    }
  }
  return Object.freeze([...(value as string[])]);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPriority(value: unknown): value is NotificationPriority {
  return (NOTIFICATION_PRIORITIES as readonly unknown[]).includes(value);
}

/**
 * Why `message` is not a notification Herald can hand to endpoints, or `undefined` when it is
 * one: an object with string `event_type` and `publisher_id`, an object `context`, and a
 * `priority` that is one of {@link NOTIFICATION_PRIORITIES} in any case.
 */
function notANotification(message: unknown): string | undefined {
  if (!isRecord(message)) return `the body is ${describeValue(message)}, not an object.`;
  if (typeof message.event_type !== 'string')
    return `event_type is ${describeValue(message.event_type)}, not a string.`;
  if (typeof message.publisher_id !== 'string') {
    return `publisher_id is ${describeValue(message.publisher_id)}, not a string.`;
  }
  if (!isRecord(message.context)) return `context is ${describeValue(message.context)}, not an object.`;
  const priority = message.priority;
  if (typeof priority !== 'string' || !isPriority(priority.toLowerCase())) {
    return `unknown priority ${describeValue(priority)} (expected one of ${NOTIFICATION_PRIORITIES.join(', ')}).`;
  }
  return undefined;
}

/**
 * Options of a {@link Notifier}.
 *
 * @example
 * ```ts
 * const notifier = new Notifier(transport, { publisherId: 'network.host-1', topics: ['notifications'] });
 * ```
 */
export interface NotifierOptions {
  /** Who sends, e.g. `network.host-1` (oslo's `publisher_id`, `service.host`): non-empty. */
  readonly publisherId: string;
  /**
   * The topics to publish on (non-empty, no whitespace); each notification goes to every one of
   * them. Default `['notifications']`.
   */
  readonly topics?: readonly string[];
}

/**
 * Sends notifications, as oslo's `Notifier`: each one goes to `<topic>.<priority>` on every
 * topic (`notifications.info`), with oslo's body ({@link NotificationMessage}). Each method
 * resolves once the transport holds the message on every topic, and rejects with the transport's
 * error otherwise (oslo only logs it): a notification that matters can be retried. With several
 * topics the publishes run together, so after a rejection some topics may hold the message; a
 * retry sends it again with a new `message_id`.
 *
 * @example
 * ```ts
 * const notifier = new Notifier(transport, { publisherId: 'network.host-1' });
 * await notifier.info(ctx, 'router.create.end', { router });
 * const audit = notifier.prepare({ topics: ['notifications', 'audit'] });
 * ```
 */
export class Notifier {
  /** The sender, as every message names it. */
  readonly publisherId: string;
  /** The topics each notification is published on. */
  readonly topics: readonly string[];

  /**
   * @throws InvalidError for a transport without `publish`, an empty `publisherId`, or topics
   *   that are not a non-empty array of non-empty names without whitespace
   */
  constructor(
    /** The transport it publishes on. */
    readonly transport: Transport,
    options: NotifierOptions,
  ) {
    checkTransport(transport, ['publish']);
    if (!isRecord(options)) throw new InvalidError('options', options, `pass { publisherId: 'service.host' }.`);
    this.publisherId = requireName(
      'publisherId',
      options.publisherId,
      `pass a non-empty string, e.g. 'network.host-1'.`,
    );
    this.topics = requireTopics(options.topics ?? [DEFAULT_NOTIFICATION_TOPIC]);
  }

  /**
   * A notifier on the same transport with some options changed (oslo's `prepare`); this one is
   * unchanged. A missing option keeps this notifier's value.
   *
   * @throws InvalidError for options that are not an object, or a bad `publisherId` or topics
   * @example
   * ```ts
   * const l3 = notifier.prepare({ publisherId: 'network.l3-host-2' });
   * ```
   */
  prepare(options: Partial<NotifierOptions> = {}): Notifier {
    if (!isRecord(options)) {
      throw new InvalidError('options', options, `pass the options to change, e.g. { publisherId: 'l3.host-2' }.`);
    }
    return new Notifier(this.transport, {
      publisherId: options.publisherId ?? this.publisherId,
      topics: options.topics ?? this.topics,
    });
  }

  /**
   * Sends `eventType` with `payload` at `priority`. The other methods are this with their priority.
   *
   * @param context the request context (a JSON object), handed to every endpoint.
   * @param eventType what happened, e.g. `router.create.end`: a non-empty string.
   * @param payload any JSON value (not `undefined`).
   * @example
   * ```ts
   * await notifier.notify('error', ctx, 'router.update.error', { router_id: id, reason });
   * ```
   */
  async notify(
    priority: NotificationPriority,
    context: NotificationContext,
    eventType: string,
    payload: unknown,
  ): Promise<void> {
    if (!isPriority(priority)) {
      throw new InvalidError('priority', priority, `pass one of ${NOTIFICATION_PRIORITIES.join(', ')}.`);
    }
    if (!isRecord(context))
      throw new InvalidError('context', context, `pass the request context as an object ({} for none).`);
    requireName('eventType', eventType, `pass a non-empty string, e.g. 'router.create.end'.`);
    // JSON would silently drop an undefined payload, and endpoints would get a message without one.
    if (payload === undefined) throw new InvalidError('payload', payload, `pass a JSON value ({} for none).`);
    const body: NotificationMessage = {
      message_id: randomUUID(),
      publisher_id: this.publisherId,
      event_type: eventType,
      priority: priority.toUpperCase(),
      payload,
      timestamp: new Date().toISOString(),
      context,
    };
    // One message, one id, on every topic (as oslo): each topic's queue has its own consumers.
    await Promise.all(
      this.topics.map((topic) =>
        this.transport.publish({ topic: `${topic}.${priority}` }, { id: body.message_id, body }),
      ),
    );
  }

  /**
   * Sends at priority `audit`; see {@link Notifier.notify}.
   *
   * @example
   * ```ts
   * await notifier.audit(ctx, 'identity.authenticate', { outcome });
   * ```
   */
  audit(context: NotificationContext, eventType: string, payload: unknown): Promise<void> {
    return this.notify('audit', context, eventType, payload);
  }

  /**
   * Sends at priority `debug`; see {@link Notifier.notify}.
   *
   * @example
   * ```ts
   * await notifier.debug(ctx, 'port.binding.retry', { port_id });
   * ```
   */
  debug(context: NotificationContext, eventType: string, payload: unknown): Promise<void> {
    return this.notify('debug', context, eventType, payload);
  }

  /**
   * Sends at priority `info`; see {@link Notifier.notify}.
   *
   * @example
   * ```ts
   * await notifier.info(ctx, 'router.create.end', { router });
   * ```
   */
  info(context: NotificationContext, eventType: string, payload: unknown): Promise<void> {
    return this.notify('info', context, eventType, payload);
  }

  /**
   * Sends at priority `warn`; see {@link Notifier.notify}.
   *
   * @example
   * ```ts
   * await notifier.warn(ctx, 'agent.heartbeat.late', { host });
   * ```
   */
  warn(context: NotificationContext, eventType: string, payload: unknown): Promise<void> {
    return this.notify('warn', context, eventType, payload);
  }

  /**
   * Sends at priority `error`; see {@link Notifier.notify}.
   *
   * @example
   * ```ts
   * await notifier.error(ctx, 'router.update.error', { router_id });
   * ```
   */
  error(context: NotificationContext, eventType: string, payload: unknown): Promise<void> {
    return this.notify('error', context, eventType, payload);
  }

  /**
   * Sends at priority `critical`; see {@link Notifier.notify}.
   *
   * @example
   * ```ts
   * await notifier.critical(ctx, 'agent.dead', { host });
   * ```
   */
  critical(context: NotificationContext, eventType: string, payload: unknown): Promise<void> {
    return this.notify('critical', context, eventType, payload);
  }

  /**
   * Sends at priority `sample` (metering); see {@link Notifier.notify}.
   *
   * @example
   * ```ts
   * await notifier.sample(ctx, 'bandwidth', { bytes });
   * ```
   */
  sample(context: NotificationContext, eventType: string, payload: unknown): Promise<void> {
    return this.notify('sample', context, eventType, payload);
  }
}

/**
 * A pattern of a {@link NotificationFilter}: a `RegExp`, or the source of one. Always matched whole.
 *
 * @example
 * ```ts
 * const pattern: FilterPattern = /^router\..*\.end$/;
 * const filter = new NotificationFilter({ eventType: pattern });
 * ```
 */
export type FilterPattern = string | RegExp;

/**
 * Options of a {@link NotificationFilter}; every option given must match.
 *
 * @example
 * ```ts
 * const filterRule = new NotificationFilter({ publisherId: '^network\\.', eventType: 'router\\..*', payload: { 'router.status': 'ACTIVE' } });
 * ```
 */
export interface NotificationFilterOptions {
  /** Matched against the publisher id, whole. */
  readonly publisherId?: FilterPattern;
  /** Matched against the event type, whole. */
  readonly eventType?: FilterPattern;
  /** Patterns by context key; a key may be a dotted path (`user.domain`). */
  readonly context?: Readonly<Record<string, FilterPattern>>;
  /** Patterns by metadata key (`message_id`, `timestamp`). */
  readonly metadata?: Readonly<Record<string, FilterPattern>>;
  /** Patterns by payload key; a key may be a dotted path (`router.status`, `ports.0.id`). */
  readonly payload?: Readonly<Record<string, FilterPattern>>;
}

/** A compiled field of a filter: the path to the value and its anchored pattern. */
interface FieldRule {
  readonly path: readonly string[];
  readonly regex: RegExp;
}

/**
 * Anchors `pattern` at both ends. The source is checked on its own first: wrapped, an unbalanced
 * source such as `a)|(b` would compile and mean something else than what was written.
 */
function compilePattern(element: string, pattern: unknown): RegExp {
  let source: string;
  let flags = '';
  if (pattern instanceof RegExp) {
    source = pattern.source;
    // `g` and `y` make `test` stateful (lastIndex): the same value would match every other time.
    flags = pattern.flags.replace(/[gy]/g, '');
  } else if (typeof pattern === 'string') {
    source = pattern;
    try {
      new RegExp(source);
    } catch (error) {
      throw new InvalidError(element, pattern, `pass a valid regular expression (${errorText(error)}).`);
    }
  } else {
    throw new InvalidError(element, pattern, `pass a RegExp or a regular expression as a string.`);
  }
  return new RegExp(`^(?:${source})$`, flags);
}

function compileFields(element: string, patterns: unknown): readonly FieldRule[] {
  if (patterns === undefined) return [];
  if (!isRecord(patterns)) {
    throw new InvalidError(element, patterns, `pass an object of patterns by key, e.g. { 'router.status': 'ACTIVE' }.`);
  }
  return Object.entries(patterns).map(([key, pattern]) => {
    const path = key.split('.');
    if (path.includes(''))
      throw new InvalidError(`${element} key`, key, `pass a key or a dotted path without empty parts.`);
    return { path, regex: compilePattern(`${element}.${key}`, pattern) };
  });
}

/** The value at `path` in `data` (own properties only), or `undefined`. */
function valueAt(data: unknown, path: readonly string[]): unknown {
  let value = data;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Whether `value` is a string, number or boolean whose text `regex` matches. */
function valueMatches(value: unknown, regex: RegExp): boolean {
  if (typeof value === 'string') return regex.test(value);
  // Numbers and booleans by their JSON text (`mtu: '1500'`); oslo would refuse them, but after a
  // JSON round trip a number is as much "the value" as a string. Objects and null never match.
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean')
    return regex.test(String(value));
  return false;
}

/**
 * Which notifications an endpoint takes (oslo's `NotificationFilter`): every field given must
 * match, a missing key never matches.
 *
 * Each pattern is a regular expression matched against the **whole** value: Herald anchors it at
 * both ends (`'router\\..*'` takes `router.create.end`, `'router'` does not). oslo uses Python's
 * `re.match`, which anchors only at the start, so an oslo filter `'router'` also takes
 * `router.create.end`: write `'router.*'` for that here. Flags of a `RegExp` (`i`, `s`, `u`…) are
 * kept, except `g` and `y`. Context, metadata and payload keys may be dotted paths into nested
 * objects (oslo nests dicts instead); a key that itself contains a dot cannot be addressed. Strings
 * are matched as they are, numbers and booleans by their text, anything else (objects, `null`, a
 * missing key) does not match.
 *
 * @example
 * ```ts
 * const filterRule = new NotificationFilter({
 *   publisherId: 'network\\..*',
 *   eventType: 'router\\.(create|update)\\.end',
 *   payload: { 'router.status': 'ACTIVE' },
 * });
 * const endpoint = { filterRule, info: (ctx, publisher, eventType, payload) => sync(payload) };
 * ```
 */
export class NotificationFilter {
  readonly #publisherId: RegExp | undefined;
  readonly #eventType: RegExp | undefined;
  readonly #context: readonly FieldRule[];
  readonly #metadata: readonly FieldRule[];
  readonly #payload: readonly FieldRule[];

  /** @throws InvalidError for a pattern that is not a valid regular expression, or a bad key. */
  constructor(options: NotificationFilterOptions = {}) {
    if (!isRecord(options)) throw new InvalidError('options', options, `pass an object of patterns.`);
    this.#publisherId =
      options.publisherId === undefined ? undefined : compilePattern('publisherId', options.publisherId);
    this.#eventType = options.eventType === undefined ? undefined : compilePattern('eventType', options.eventType);
    this.#context = compileFields('context', options.context);
    this.#metadata = compileFields('metadata', options.metadata);
    this.#payload = compileFields('payload', options.payload);
  }

  /**
   * Whether a notification passes, with the arguments in the order an endpoint method gets them
   * (context first, then publisher, event type, and — as oslo's `match` — metadata before payload).
   *
   * @example
   * ```ts
   * new NotificationFilter({ eventType: 'port\\..*' }).matches({}, 'network.h1', 'port.delete.end', meta, {}); // true
   * ```
   */
  matches(
    context: unknown,
    publisherId: string,
    eventType: string,
    metadata: NotificationMetadata | Readonly<Record<string, unknown>>,
    payload: unknown,
  ): boolean {
    if (this.#publisherId !== undefined && !valueMatches(publisherId, this.#publisherId)) return false;
    if (this.#eventType !== undefined && !valueMatches(eventType, this.#eventType)) return false;
    return (
      this.#fieldsMatch(this.#context, context) &&
      this.#fieldsMatch(this.#metadata, metadata) &&
      this.#fieldsMatch(this.#payload, payload)
    );
  }

  #fieldsMatch(rules: readonly FieldRule[], data: unknown): boolean {
    for (const rule of rules) if (!valueMatches(valueAt(data, rule.path), rule.regex)) return false;
    return true;
  }
}

/**
 * What an endpoint method may return. `HANDLED` (or nothing) acknowledges the message for this
 * endpoint; `REQUEUE` asks for it again, as throwing does (oslo's `NotificationResult`).
 *
 * @example
 * ```ts
 * info(ctx, publisher, eventType, payload) {
 *   if (!this.ready) return NotificationResult.REQUEUE;
 *   this.handle(payload);
 * }
 * ```
 */
export const NotificationResult = Object.freeze({ HANDLED: 'handled', REQUEUE: 'requeue' } as const);
/**
 * One of the values of {@link NotificationResult}.
 *
 * @example
 * ```ts
 * const result: NotificationResult = NotificationResult.REQUEUE;
 * ```
 */
export type NotificationResult = (typeof NotificationResult)[keyof typeof NotificationResult];

/**
 * What an endpoint method returns: nothing, a {@link NotificationResult}, or a promise of either.
 *
 * @example
 * ```ts
 * info(ctx: NotificationContext, publisherId: string, eventType: string, payload: unknown): NotificationReturn {
 *   return this.ready ? NotificationResult.HANDLED : NotificationResult.REQUEUE;
 * }
 * ```
 */
export type NotificationReturn = NotificationResult | void | Promise<NotificationResult | void>;

/**
 * An object that takes notifications (oslo's notification endpoint): a method per priority it
 * handles, each called with the context, publisher id, event type, payload and metadata, and
 * optionally a `filterRule`. Methods are declared as methods so that an endpoint can narrow the
 * payload's type.
 *
 * @example
 * ```ts
 * class RouterAudit implements NotificationEndpoint {
 *   readonly filterRule = new NotificationFilter({ eventType: 'router\\..*' });
 *   info(ctx: NotificationContext, publisherId: string, eventType: string, payload: { router: Router }) {
 *     record(eventType, payload.router.id);
 *   }
 * }
 * ```
 */
export interface NotificationEndpoint {
  /** Only the notifications it matches reach this endpoint. */
  readonly filterRule?: NotificationFilter;
  /** Takes the notifications of priority `audit`. */
  audit?(
    context: NotificationContext,
    publisherId: string,
    eventType: string,
    payload: unknown,
    metadata: NotificationMetadata,
  ): NotificationReturn;
  /** Takes the notifications of priority `debug`. */
  debug?(
    context: NotificationContext,
    publisherId: string,
    eventType: string,
    payload: unknown,
    metadata: NotificationMetadata,
  ): NotificationReturn;
  /** Takes the notifications of priority `info`. */
  info?(
    context: NotificationContext,
    publisherId: string,
    eventType: string,
    payload: unknown,
    metadata: NotificationMetadata,
  ): NotificationReturn;
  /** Takes the notifications of priority `warn`. */
  warn?(
    context: NotificationContext,
    publisherId: string,
    eventType: string,
    payload: unknown,
    metadata: NotificationMetadata,
  ): NotificationReturn;
  /** Takes the notifications of priority `error`. */
  error?(
    context: NotificationContext,
    publisherId: string,
    eventType: string,
    payload: unknown,
    metadata: NotificationMetadata,
  ): NotificationReturn;
  /** Takes the notifications of priority `critical`. */
  critical?(
    context: NotificationContext,
    publisherId: string,
    eventType: string,
    payload: unknown,
    metadata: NotificationMetadata,
  ): NotificationReturn;
  /** Takes the notifications of priority `sample`. */
  sample?(
    context: NotificationContext,
    publisherId: string,
    eventType: string,
    payload: unknown,
    metadata: NotificationMetadata,
  ): NotificationReturn;
}

/**
 * Options of a {@link NotificationListener}.
 *
 * @example
 * ```ts
 * const listener = new NotificationListener(transport, {
 *   endpoints: [audit],
 *   pool: 'audit',
 *   topics: ['notifications'],
 *   concurrency: 4, // four notifications at once, out of order
 *   retryBackoff: { initialDelayMs: 500 }, // a failed one waits 0.5 s, 1 s, 2 s…
 *   logger: console,
 * });
 * await listener.start();
 * ```
 */
export interface NotificationListenerOptions extends Pick<
  ConsumeOptions,
  'deliveryLimit' | 'handlerTimeoutMs' | 'retryBackoff' | 'concurrency'
> {
  /**
   * The topics to listen on (each as `<topic>.<priority>`): non-empty, no whitespace. Default
   * `['notifications']`.
   */
  readonly topics?: readonly string[];
  /** Called in order for each message, when they have its priority's method and their filter matches. */
  readonly endpoints: readonly NotificationEndpoint[];
  /**
   * The listener pool (oslo's `pool`): each pool gets its own copy of every notification, and the
   * listeners of one pool share them. Without one, the listener is in the topic's default queue,
   * shared with every other listener without a pool (as oslo).
   */
  readonly pool?: string;
  /**
   * Where failed endpoints (error), requeue requests and messages no endpoint's filter took
   * (debug) are reported. Default: `console.error` only.
   */
  readonly logger?: Logger;
}

/** Thrown to the transport so that it delivers the message again (the transport contract's requeue). */
class NotificationRequeued extends HeraldError {}

/**
 * Takes notifications and hands each to the endpoints that want it (oslo's notification
 * listener). It consumes `<topic>.<priority>` for each topic and each priority that some
 * endpoint has a method for, in the pool's group (see {@link NotificationListenerOptions.pool}).
 *
 * Each message goes to every endpoint that has the method of its priority and whose filter
 * matches, one after the other in the order given; one endpoint failing does not keep the message
 * from the others. The message is acknowledged once they all ran. If one of them threw or returned
 * `NotificationResult.REQUEUE`, it is requeued instead (oslo stops at the first one) and the
 * transport delivers it again — to every endpoint, including those that succeeded — until its
 * delivery limit: at-least-once, so endpoints should be idempotent. A message that is not a
 * notification (`{"foo":1}`, `null`, a priority not in {@link NOTIFICATION_PRIORITIES}) goes
 * straight to the transport's dead letters with the reason ({@link DeadLetterError}): no
 * redelivery would make it one, and nothing that reaches a listener disappears unrecorded. A
 * notification that no endpoint's filter takes is acknowledged and logged at debug level: that is
 * the filters' decision.
 *
 * @example
 * ```ts
 * const listener = new NotificationListener(transport, {
 *   endpoints: [{ info: (ctx, publisherId, eventType, payload) => console.log(eventType, payload) }],
 *   pool: 'billing',
 * });
 * await listener.start();
 * // …
 * await listener.stop();
 * ```
 */
export class NotificationListener {
  /** The topics listened on. */
  readonly topics: readonly string[];
  /** The pool, if any. */
  readonly pool: string | undefined;
  readonly #endpoints: readonly NotificationEndpoint[];
  readonly #priorities: readonly NotificationPriority[];
  readonly #settings: ConsumerSettings;
  readonly #logger: Logger;
  readonly #consumers = new ConsumerSet();

  /**
   * @throws InvalidError for a transport without `consume`, bad topics (empty, or with
   *   whitespace), pool or delivery limit, a bad `filterRule`, or endpoints without any priority
   *   method
   */
  constructor(
    /** The transport it consumes from. */
    readonly transport: Transport,
    options: NotificationListenerOptions,
  ) {
    checkTransport(transport, ['consume']);
    if (!isRecord(options)) throw new InvalidError('options', options, `pass { endpoints: [...] }.`);
    this.topics = requireTopics(options.topics ?? [DEFAULT_NOTIFICATION_TOPIC]);
    if (options.pool !== undefined) requireName('pool', options.pool, `pass a non-empty string, or no pool.`);
    this.pool = options.pool;
    this.#settings = consumerSettings(options);
    this.#logger = options.logger ?? consoleLogger;
    const endpoints = options.endpoints;
    if (!Array.isArray(endpoints)) throw new InvalidError('endpoints', endpoints, `pass an array of endpoint objects.`);
    for (const endpoint of endpoints as unknown[]) {
      if (typeof endpoint !== 'object' || endpoint === null) {
        throw new InvalidError('endpoints', endpoint, `each endpoint must be an object with priority methods.`);
      }
      const rule = (endpoint as NotificationEndpoint).filterRule;
      if (rule !== undefined && typeof (rule as Partial<NotificationFilter>).matches !== 'function') {
        throw new InvalidError('filterRule', rule, `pass a NotificationFilter.`);
      }
    }
    this.#endpoints = Object.freeze([...endpoints]);
    this.#priorities = NOTIFICATION_PRIORITIES.filter((p) => endpoints.some((e) => typeof e[p] === 'function'));
    // A listener that would consume nothing is a mistake (a misspelt method, `infos`), not a choice.
    if (this.#priorities.length === 0) {
      throw new InvalidError(
        'endpoints',
        endpoints,
        `give at least one endpoint a method named by a priority (${NOTIFICATION_PRIORITIES.join(', ')}).`,
      );
    }
  }

  /** The priorities some endpoint handles, i.e. those listened to. */
  get priorities(): readonly NotificationPriority[] {
    return this.#priorities;
  }

  /** Whether it is consuming. */
  get running(): boolean {
    return this.#consumers.running;
  }

  /**
   * Starts consuming; resolves once every consumer is listening. Starting a running listener does
   * nothing. If a consumer cannot be started, those started are closed and the error is thrown.
   *
   * @example
   * ```ts
   * await listener.start();
   * ```
   */
  start(): Promise<void> {
    const targets = this.topics.flatMap((topic) =>
      this.#priorities.map((priority) => ({ topic: `${topic}.${priority}` })),
    );
    const options = { ...this.#settings, ...(this.pool !== undefined && { group: this.pool }) };
    return this.#consumers.start(this.transport, targets, (delivery) => this.#dispatch(delivery), options);
  }

  /**
   * Stops consuming; resolves once the deliveries in progress have been settled. Stopping a
   * stopped listener does nothing; a stopped listener can be started again.
   *
   * @example
   * ```ts
   * await listener.stop();
   * ```
   */
  stop(): Promise<void> {
    return this.#consumers.stop();
  }

  async #dispatch(delivery: Delivery): Promise<void> {
    const where = `${delivery.id} on ${delivery.target.topic}`;
    const problem = notANotification(delivery.body);
    if (problem !== undefined) {
      // A redelivery cannot make it a notification: to the dead letters, saying why.
      throw new DeadLetterError(`Message ${where} is not a notification: ${problem}`);
    }
    const message = delivery.body as NotificationMessage;
    const priority = message.priority.toLowerCase() as NotificationPriority;
    const { context, publisher_id: publisherId, event_type: eventType, payload } = message;
    const metadata: NotificationMetadata = {
      message_id: typeof message.message_id === 'string' ? message.message_id : delivery.id,
      timestamp: typeof message.timestamp === 'string' ? message.timestamp : '',
    };
    let requeue: unknown;
    let taken = false;
    for (const endpoint of this.#endpoints) {
      const method = endpoint[priority];
      if (typeof method !== 'function') continue;
      const name = `${endpoint.constructor?.name ?? 'Object'}.${priority}`;
      try {
        if (
          endpoint.filterRule !== undefined &&
          !endpoint.filterRule.matches(context, publisherId, eventType, metadata, payload)
        ) {
          continue;
        }
        taken = true;
        const result = await method.call(endpoint, context, publisherId, eventType, payload, metadata);
        if (result === NotificationResult.REQUEUE) {
          this.#logger.debug?.(`${name} asked to requeue ${eventType} (${delivery.id}, attempt ${delivery.attempt}).`);
          requeue ??= new NotificationRequeued(`${name} asked to requeue ${eventType} (${delivery.id}).`);
        }
      } catch (error) {
        this.#logger.error(
          `Notification endpoint ${name} failed on ${eventType} (${delivery.id}, attempt ${delivery.attempt}): ` +
            `${errorText(error)}; the message is requeued.`,
          error,
        );
        requeue ??= error;
      }
    }
    // Throwing is how a handler asks the transport for a redelivery; the first failure goes with it.
    if (requeue !== undefined) throw requeue;
    if (!taken) {
      // The filters' decision, not a loss: said once per message so that it can be traced.
      this.#logger.debug?.(
        `No endpoint's filter took ${eventType} from ${publisherId} (${where}); acknowledged without handling.`,
      );
    }
  }
}
