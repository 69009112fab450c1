/**
 * The CloudEvents 1.0 envelope, in structured JSON mode: the whole event (attributes and `data`)
 * is the message body, and a few attributes are mirrored into headers so that a broker, a proxy
 * or a log can route and trace a message without parsing its body.
 *
 * The body stays authoritative: headers are a copy for the infrastructure, and
 * {@link fromDelivery} reads the event from the body alone (except a missing `traceparent`, see
 * there).
 * @module
 */

import { createHash, randomUUID } from 'node:crypto';
import { InvalidError } from '@herald/core';
import type { Delivery, OutgoingMessage } from './transport.js';

/**
 * The only CloudEvents version Herald writes and reads.
 *
 * @example
 * ```ts
 * if (event.specversion !== CLOUDEVENTS_SPECVERSION) throw new Error(`unsupported CloudEvents ${event.specversion}`);
 * ```
 */
export const CLOUDEVENTS_SPECVERSION = '1.0';

/**
 * The content type of the `data` Herald writes: JSON.
 *
 * @example
 * ```ts
 * const headers = { 'content-type': JSON_CONTENT_TYPE };
 * ```
 */
export const JSON_CONTENT_TYPE = 'application/json';

/**
 * A JSON media type, as CloudEvents' JSON format reads `datacontenttype`: `application/json` or
 * any `<type>/<subtype>+json`, with or without parameters (`; charset=utf-8`), in any case.
 */
const JSON_MEDIA_TYPE = /^(?:application\/json|[a-z0-9][\w!#$&^.+-]*\/[\w!#$&^.+-]+\+json)$/i;

/**
 * Whether `value` is a JSON media type, the kind of `datacontenttype` whose `data` is JSON:
 * `application/json`, or any `+json` type such as `application/cloudevents+json` or
 * `application/vnd.example+json`, with or without parameters (`application/json; charset=utf-8`),
 * in any case.
 *
 * @example
 * ```ts
 * isJsonContentType('application/json; charset=utf-8'); // true
 * isJsonContentType('text/plain');                      // false
 * ```
 */
export function isJsonContentType(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const semicolon = value.indexOf(';');
  return JSON_MEDIA_TYPE.test((semicolon < 0 ? value : value.slice(0, semicolon)).trim());
}

/**
 * A CloudEvents 1.0 event. `source` + `id` identify it: a consumer that has seen that pair has
 * seen the event (the deduplication key); `id` alone is only unique within its source.
 *
 * @example
 * ```ts
 * const event: CloudEvent<{ id: string }> = {
 *   specversion: '1.0',
 *   id: '6f1c…',
 *   source: 'neutron-server@host-1',
 *   type: 'herald.router.after_create',
 *   time: '2025-01-31T12:00:00.000Z',
 *   subject: 'r1',
 *   datacontenttype: 'application/json',
 *   data: { id: 'r1' },
 * };
 * ```
 */
export interface CloudEvent<T = unknown> {
  /** Always `'1.0'`. */
  readonly specversion: typeof CLOUDEVENTS_SPECVERSION;
  /** Unique within `source`; `source` + `id` is the deduplication key. */
  readonly id: string;
  /** Who produced the event (a URI-reference, e.g. `neutron-server@host-1`). */
  readonly source: string;
  /** What happened, e.g. `herald.router.after_create`. */
  readonly type: string;
  /** When it happened (RFC 3339). */
  readonly time?: string;
  /** What it is about within the source, e.g. the resource's id. */
  readonly subject?: string;
  /**
   * Present exactly when `data` is: a JSON media type ({@link isJsonContentType}), `data` is JSON.
   * Herald writes {@link JSON_CONTENT_TYPE}; an event from another producer keeps its own (e.g.
   * `application/json; charset=utf-8`).
   */
  readonly datacontenttype?: string;
  /** The event's data; any JSON value. */
  readonly data?: T;
  /** W3C Trace Context of the operation that produced the event (the distributed-tracing extension). */
  readonly traceparent?: string;
}

/**
 * What {@link createCloudEvent} takes.
 *
 * @example
 * ```ts
 * const init: CloudEventInit<{ id: string }> = { source: 'billing@host-1', type: 'com.example.invoice.paid', subject: 'inv-1', data: { id: 'inv-1' } };
 * const event = createCloudEvent(init);
 * ```
 */
export interface CloudEventInit<T = unknown> {
  /** Who produces the event: non-empty. */
  source: string;
  /** What happened: non-empty (reverse-DNS style, e.g. `herald.router.after_create`). */
  type: string;
  /** Any JSON value, or `undefined` for an event without data. */
  data?: T;
  /** What the event is about within the source: non-empty when given. */
  subject?: string;
  /** Default: a random UUID. Non-empty; unique within `source`. */
  id?: string;
  /** When it happened: an RFC 3339 string or a valid `Date`. Default: now. */
  time?: string | Date;
  /** A W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`), to continue a trace on the other side. */
  traceparent?: string;
}

/**
 * RFC 3339 `date-time`, as CloudEvents requires for `time`: `T` or `t` (or, as RFC 3339 allows,
 * a space) between date and time, optional fraction, `Z` or an offset. Second 60 is allowed
 * (a leap second), which is why this is a pattern and not `Date.parse`.
 */
const RFC3339 =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt ]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

/** W3C Trace Context `traceparent`, version 00; all-zero trace and parent ids are invalid. */
const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * Whether `value` is an RFC 3339 date-time, as CloudEvents' `time` must be.
 *
 * @example
 * ```ts
 * isRfc3339('2026-12-07T03:00:00Z'); // true
 * isRfc3339('yesterday'); // false
 * ```
 */
export function isRfc3339(value: unknown): value is string {
  return typeof value === 'string' && RFC3339.test(value);
}

/**
 * Whether `value` is a valid W3C `traceparent` (version 00).
 *
 * @example
 * ```ts
 * isTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'); // true
 * isTraceparent('00-0000-0000-00'); // false
 * ```
 */
export function isTraceparent(value: unknown): value is string {
  return typeof value === 'string' && TRACEPARENT.test(value);
}

function requireString(element: string, value: unknown, hint: string): asserts value is string {
  if (typeof value !== 'string' || value === '') throw new InvalidError(element, value, hint);
}

/**
 * Make a CloudEvent, checking every attribute. `data` is kept by reference; it must survive a
 * JSON round trip, as every message body does (the transport rejects it otherwise).
 *
 * @throws InvalidError naming the attribute that is missing or malformed
 * @example
 * ```ts
 * const event = createCloudEvent({
 *   source: 'neutron-server@host-1',
 *   type: 'herald.router.after_create',
 *   subject: 'r1',
 *   data: { id: 'r1', name: 'edge' },
 * });
 * await transport.publish({ topic: 'herald.events', fanout: true }, toMessage(event));
 * ```
 */
export function createCloudEvent<T>(init: CloudEventInit<T>): CloudEvent<T> {
  if (init === null || typeof init !== 'object') {
    throw new InvalidError('event', init, 'pass { source, type, data, subject?, id?, time?, traceparent? }.');
  }
  const { source, type, data, subject, id = randomUUID(), time = new Date(), traceparent } = init;
  requireString('source', source, "pass who produces the event, e.g. 'neutron-server@host-1'.");
  requireString('type', type, "pass what happened, e.g. 'herald.router.after_create'.");
  requireString('id', id, 'pass a non-empty id unique within the source, or leave it out for a random UUID.');
  if (subject !== undefined) {
    requireString('subject', subject, "pass what the event is about as a non-empty string (e.g. the resource's id).");
  }
  let stamp: string;
  if (time instanceof Date) {
    if (Number.isNaN(time.getTime())) throw new InvalidError('time', time, 'pass a valid Date.');
    stamp = time.toISOString();
  } else if (isRfc3339(time)) {
    stamp = time;
  } else {
    throw new InvalidError('time', time, "pass a Date or an RFC 3339 string such as '2025-01-31T12:00:00Z'.");
  }
  if (traceparent !== undefined && !isTraceparent(traceparent)) {
    throw new InvalidError('traceparent', traceparent, "pass a W3C traceparent: '00-<32 hex>-<16 hex>-<2 hex>'.");
  }
  if (typeof data === 'function' || typeof data === 'symbol' || typeof data === 'bigint') {
    throw new InvalidError('data', data, 'pass a JSON value (object, array, string, number, boolean or null).');
  }
  return {
    specversion: CLOUDEVENTS_SPECVERSION,
    id,
    source,
    type,
    time: stamp,
    ...(subject !== undefined && { subject }),
    ...(data !== undefined && { datacontenttype: JSON_CONTENT_TYPE, data }),
    ...(traceparent !== undefined && { traceparent }),
  };
}

/**
 * Check a received object and return it as a CloudEvent: the required attributes (`specversion`
 * `'1.0'`, `id`, `source`, `type`) must be non-empty strings, `time` RFC 3339, `subject` a
 * non-empty string, `datacontenttype` absent or a JSON media type (`application/json`, with or
 * without parameters such as `; charset=utf-8`, or any `+json` type, in any case: see
 * {@link isJsonContentType}), kept as it was; with `data` and no `datacontenttype`, it is
 * {@link JSON_CONTENT_TYPE}. The result is a new object with only the attributes above: other
 * extension attributes, and `data_base64` (binary data, which Herald does not send), are
 * dropped. A malformed `traceparent` is dropped as well, not an error: W3C Trace Context says to
 * ignore one, and losing an event over its tracing header would be the worse trade.
 *
 * @throws InvalidError naming the attribute (e.g. `event.source`) that is missing or malformed
 * @example
 * ```ts
 * const event = parseCloudEvent(JSON.parse(text));
 * if (seen.has(JSON.stringify([event.source, event.id]))) return; // source + id: the deduplication key
 * ```
 */
export function parseCloudEvent(value: unknown): CloudEvent {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidError('event', value, 'expected a CloudEvents 1.0 object in structured JSON mode.');
  }
  const raw = value as Record<string, unknown>;
  const { specversion, id, source, type, time, subject, datacontenttype, data, traceparent } = raw;
  if (specversion !== CLOUDEVENTS_SPECVERSION) {
    throw new InvalidError('event.specversion', specversion, "only CloudEvents '1.0' is understood.");
  }
  requireString('event.id', id, 'a CloudEvent needs a non-empty id.');
  requireString('event.source', source, 'a CloudEvent needs a non-empty source.');
  requireString('event.type', type, 'a CloudEvent needs a non-empty type.');
  if (time !== undefined && !isRfc3339(time)) {
    throw new InvalidError('event.time', time, 'time must be an RFC 3339 date-time.');
  }
  if (subject !== undefined) requireString('event.subject', subject, 'subject must be a non-empty string.');
  if (datacontenttype !== undefined && !isJsonContentType(datacontenttype)) {
    throw new InvalidError(
      'event.datacontenttype',
      datacontenttype,
      `only JSON data is understood: '${JSON_CONTENT_TYPE}' (parameters such as '; charset=utf-8' allowed) or a '+json' type.`,
    );
  }
  return {
    specversion,
    id,
    source,
    type,
    ...(time !== undefined && { time }),
    ...(subject !== undefined && { subject }),
    ...(data !== undefined && { datacontenttype: datacontenttype ?? JSON_CONTENT_TYPE, data }),
    ...(isTraceparent(traceparent) && { traceparent }),
  };
}

/**
 * The message that carries `event`: its body is the event, and its headers mirror `ce-id` (the
 * event's own id), `ce-type`, `ce-source` and, when present, `traceparent`.
 *
 * Its message id is made from the event's `source` and `id` together (the hex SHA-256 of both),
 * so that a transport's per-group deduplication and CloudEvents' agree: the same event sent twice
 * (an outbox relay after a crash) has the same message id and is handled once, while an event of
 * another source that reuses the id is another message. The id always fits a broker's limit (64
 * characters, whatever the lengths of `source` and `id`). {@link fromDelivery} reads the event's
 * own `id` from the body.
 *
 * @example
 * ```ts
 * await transport.publish({ topic: 'herald.events', fanout: true }, toMessage(event));
 * ```
 */
export function toMessage(event: CloudEvent): OutgoingMessage & { readonly id: string } {
  // Checked here too: the event may have been built by hand, and a broken one would otherwise
  // only fail on the other side, where nobody can fix it.
  const checked = parseCloudEvent(event);
  if (event.traceparent !== undefined && checked.traceparent === undefined) {
    throw new InvalidError(
      'event.traceparent',
      event.traceparent,
      "pass a W3C traceparent: '00-<32 hex>-<16 hex>-<2 hex>'.",
    );
  }
  const headers: Record<string, string> = {
    'ce-id': checked.id,
    'ce-type': checked.type,
    'ce-source': checked.source,
  };
  if (checked.traceparent !== undefined) headers.traceparent = checked.traceparent;
  return { id: messageIdOf(checked.source, checked.id), headers, body: event };
}

/** The message id of the event `id` of `source`: one per (source, id) pair, and no other pair's. */
function messageIdOf(source: string, id: string): string {
  // JSON keeps the two apart: no choice of source and id makes another pair's text.
  return createHash('sha256')
    .update(JSON.stringify([source, id]))
    .digest('hex');
}

/**
 * The CloudEvent a delivery carries, checked with {@link parseCloudEvent}. The body is
 * authoritative; the `traceparent` header is used only when the body has none (a broker or a
 * proxy may add one to the message without touching its body).
 *
 * @throws InvalidError when the body is not a valid CloudEvent
 * @example
 * ```ts
 * await transport.consume({ topic: 'herald.events', fanout: true }, (delivery) => {
 *   const event = fromDelivery(delivery);
 *   console.log(event.type, event.subject);
 * });
 * ```
 */
export function fromDelivery(delivery: Delivery): CloudEvent {
  if (delivery === null || typeof delivery !== 'object') {
    throw new InvalidError('delivery', delivery, 'pass the Delivery a consumer received.');
  }
  const event = parseCloudEvent(delivery.body);
  const header = delivery.headers?.traceparent;
  if (event.traceparent === undefined && isTraceparent(header)) return { ...event, traceparent: header };
  return event;
}
