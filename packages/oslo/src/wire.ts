/**
 * oslo.messaging's message format on the wire (the rabbit driver's `amqpdriver` and `common`
 * modules), and its translation to and from the bodies Herald's `Notifier`, `NotificationListener`,
 * `RpcClient` and `RpcServer` read and write.
 *
 * A message is a JSON object sent with content type `application/json`. Version 2.0 wraps it in an
 * envelope, `{ "oslo.version": "2.0", "oslo.message": "<the message as a JSON string>" }`; oslo
 * still accepts a bare object (version 1.0, and `messaging` v1 notifications). In the message:
 * - the request context is spread into `_context_<key>` keys (Herald's bodies carry it as one
 *   `context` object);
 * - `_unique_id` (a UUID hex) identifies the message for deduplication;
 * - a call adds `_msg_id` (the id its reply carries), `_reply_q` (the queue to reply to) and
 *   `_timeout` (the call monitor timeout, `null` when unused);
 * - an RPC message has `method`, `args`, and optionally `namespace` and `version`;
 * - a notification has `message_id`, `publisher_id`, `event_type`, `priority` (upper case),
 *   `payload` and `timestamp` (Python's `str(datetime)`: `2026-12-07 03:45:00.123456`, UTC);
 * - a reply has `result`, `failure` (a JSON string, see `failure.ts`, or `null`), `ending`, and
 *   `_msg_id`.
 * @module
 */

import { InvalidError } from '@herald/core';

/**
 * The envelope version oslo writes, and the only one it reads (same major, minor not above 0).
 *
 * @example
 * ```ts
 * wrapEnvelope({ method: 'ping', args: {} })[OSLO_VERSION_KEY] === OSLO_ENVELOPE_VERSION; // true
 * ```
 */
export const OSLO_ENVELOPE_VERSION = '2.0';
/**
 * The envelope's version key.
 *
 * @example
 * ```ts
 * const envelope: OsloEnvelope = { [OSLO_VERSION_KEY]: OSLO_ENVELOPE_VERSION, [OSLO_MESSAGE_KEY]: '{}' };
 * ```
 */
export const OSLO_VERSION_KEY = 'oslo.version';
/**
 * The envelope's key holding the message as a JSON string.
 *
 * @example
 * ```ts
 * const message = JSON.parse(wrapEnvelope({ method: 'ping', args: {} })[OSLO_MESSAGE_KEY]); // { method: 'ping', args: {} }
 * ```
 */
export const OSLO_MESSAGE_KEY = 'oslo.message';
/**
 * The prefix of the keys that carry the request context.
 *
 * @example
 * ```ts
 * toOsloMessage({ context: { user_id: 'u1' }, method: 'ping' }, { uniqueId: hexId() })[`${CONTEXT_PREFIX}user_id`]; // 'u1'
 * ```
 */
export const CONTEXT_PREFIX = '_context_';

/**
 * An oslo message envelope (version 2.0).
 *
 * @example
 * ```ts
 * const envelope: OsloEnvelope = { 'oslo.version': '2.0', 'oslo.message': '{"method":"ping","args":{}}' };
 * ```
 */
export interface OsloEnvelope {
  /** The envelope's version: {@link OSLO_ENVELOPE_VERSION}. */
  readonly [OSLO_VERSION_KEY]: typeof OSLO_ENVELOPE_VERSION;
  /** The message, as a JSON string. */
  readonly [OSLO_MESSAGE_KEY]: string;
}

/**
 * What the transport adds to a message besides its body: the oslo keys that start with `_`.
 *
 * @example
 * ```ts
 * const keys: OsloMessageKeys = { uniqueId: hexId(), call: { msgId: hexId(), replyQueue: 'reply_9b1c…' } };
 * ```
 */
export interface OsloMessageKeys {
  /** `_unique_id`. */
  readonly uniqueId: string;
  /** `_msg_id` and `_reply_q`, for a call. */
  readonly call?: { readonly msgId: string; readonly replyQueue: string };
}

/**
 * A message read from the wire: Herald's body (with `context`) and oslo's keys.
 *
 * @example
 * ```ts
 * const { body, msgId, replyQueue }: DecodedMessage = fromOsloMessage(unwrapEnvelope(json));
 * const isCall = msgId !== undefined;
 * ```
 */
export interface DecodedMessage {
  /** The message without oslo's `_` keys, with `context` holding the `_context_` ones. */
  readonly body: Record<string, unknown>;
  /** `_unique_id`, by which duplicates are dropped; `undefined` when the sender set none. */
  readonly uniqueId: string | undefined;
  /** `_msg_id`: set on a call, to be echoed in its reply; `undefined` on a cast or notification. */
  readonly msgId: string | undefined;
  /** `_reply_q`: the queue a call's reply goes to; `undefined` on a cast or notification. */
  readonly replyQueue: string | undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A notification body, by the keys every notification has (Herald's or oslo's). */
function isNotification(body: Record<string, unknown>): boolean {
  return (
    typeof body.event_type === 'string' && typeof body.publisher_id === 'string' && typeof body.timestamp === 'string'
  );
}

/**
 * Wraps `message` in oslo's version 2.0 envelope.
 *
 * @example
 * ```ts
 * wrapEnvelope({ method: 'ping', args: {} }); // { 'oslo.version': '2.0', 'oslo.message': '{"method":"ping","args":{}}' }
 * ```
 */
export function wrapEnvelope(message: Readonly<Record<string, unknown>>): OsloEnvelope {
  return { [OSLO_VERSION_KEY]: OSLO_ENVELOPE_VERSION, [OSLO_MESSAGE_KEY]: JSON.stringify(message) };
}

/**
 * The message a received JSON value holds: the content of a 2.0 envelope, or the object itself
 * when it is not in an envelope (as oslo's `deserialize_msg`).
 *
 * @throws InvalidError for a value that is not an object, an envelope of another version, or an
 *   envelope whose message is not a JSON object
 * @example
 * ```ts
 * unwrapEnvelope(JSON.parse(content.toString('utf8'))); // { method: 'ping', args: {}, _unique_id: '…' }
 * ```
 */
export function unwrapEnvelope(value: unknown): Record<string, unknown> {
  if (!isRecord(value)) {
    throw new InvalidError('message', value, 'an oslo message is a JSON object (in an oslo.version 2.0 envelope).');
  }
  if (!(OSLO_VERSION_KEY in value && OSLO_MESSAGE_KEY in value)) return value;
  const version = value[OSLO_VERSION_KEY];
  if (version !== OSLO_ENVELOPE_VERSION) {
    throw new InvalidError(
      OSLO_VERSION_KEY,
      version,
      `only envelope version ${OSLO_ENVELOPE_VERSION} is understood (oslo.messaging raises UnsupportedRpcEnvelopeVersion too).`,
    );
  }
  const text = value[OSLO_MESSAGE_KEY];
  let message: unknown;
  try {
    message = typeof text === 'string' ? JSON.parse(text) : undefined;
  } catch {
    message = undefined;
  }
  if (!isRecord(message)) {
    throw new InvalidError(OSLO_MESSAGE_KEY, text, 'the envelope must hold a JSON object as a string.');
  }
  return message;
}

/**
 * The oslo message for a Herald body: its `context` spread into `_context_` keys, a
 * notification's `timestamp` written as Python writes it, and oslo's keys added. A body that is
 * not an object is refused: oslo messages are objects.
 *
 * @throws InvalidError for a body that is not a JSON object, or a `context` that is not one
 * @example
 * ```ts
 * toOsloMessage({ method: 'ping', args: {}, context: { request_id: 'req-1' } }, { uniqueId: 'ab12…' });
 * // { method: 'ping', args: {}, _context_request_id: 'req-1', _unique_id: 'ab12…' }
 * ```
 */
export function toOsloMessage(body: unknown, keys: OsloMessageKeys): Record<string, unknown> {
  if (!isRecord(body)) {
    throw new InvalidError(
      'message.body',
      body,
      'pass an object: oslo messages are JSON objects (use Herald’s Notifier and RpcClient, or { method, args, context }).',
    );
  }
  const { context, ...rest } = body;
  if (context !== undefined && !isRecord(context)) {
    throw new InvalidError('message.body.context', context, 'pass the request context as an object ({} for none).');
  }
  const message: Record<string, unknown> = { ...rest };
  if (isNotification(message)) message.timestamp = toPythonTimestamp(message.timestamp as string);
  if (keys.call !== undefined) {
    message._msg_id = keys.call.msgId;
    message._reply_q = keys.call.replyQueue;
    // No call monitor: with one, the server would send heartbeat replies.
    message._timeout = null;
  }
  message._unique_id = keys.uniqueId;
  for (const [key, value] of Object.entries(context ?? {})) message[`${CONTEXT_PREFIX}${key}`] = value;
  return message;
}

/**
 * A received oslo message as Herald reads it: oslo's `_` keys taken out (as `unpack_context`
 * does), the `_context_` keys gathered into `context`, and a notification's Python `timestamp`
 * as an ISO 8601 one.
 *
 * @example
 * ```ts
 * const { body, uniqueId, msgId } = fromOsloMessage(unwrapEnvelope(json));
 * // body: { method: 'ping', args: {}, context: { request_id: 'req-1' } }
 * ```
 */
export function fromOsloMessage(message: Readonly<Record<string, unknown>>): DecodedMessage {
  const body: Record<string, unknown> = {};
  const context: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(message)) {
    if (key.startsWith(CONTEXT_PREFIX)) context[key.slice(CONTEXT_PREFIX.length)] = value;
    else if (key !== '_unique_id' && key !== '_msg_id' && key !== '_reply_q' && key !== '_timeout') body[key] = value;
  }
  body.context = context;
  if (isNotification(body)) body.timestamp = fromPythonTimestamp(body.timestamp as string);
  const text = (key: string): string | undefined => {
    const value = message[key];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  return { body, uniqueId: text('_unique_id'), msgId: text('_msg_id'), replyQueue: text('_reply_q') };
}

/** Python's `str(datetime)` of a naive UTC time: `YYYY-MM-DD HH:MM:SS[.ffffff]`. */
const PYTHON_TIMESTAMP = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?$/;
/** `Date.prototype.toISOString`'s form. */
const ISO_TIMESTAMP = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$/;

/**
 * An ISO 8601 UTC time (`2026-12-07T03:45:00.120Z`) as oslo's notifier writes its `timestamp`
 * (`2026-12-07 03:45:00.120000`: Python's `str(timeutils.utcnow())`, without a fraction when it
 * is zero). Any other text is returned unchanged.
 *
 * @example
 * ```ts
 * toPythonTimestamp('2026-12-07T03:45:00.120Z'); // '2026-12-07 03:45:00.120000'
 * ```
 */
export function toPythonTimestamp(iso: string): string {
  const match = ISO_TIMESTAMP.exec(iso);
  if (match === null) return iso;
  const fraction = (match[3] ?? '').padEnd(6, '0');
  return `${match[1]} ${match[2]}${/^0+$/.test(fraction) ? '' : `.${fraction}`}`;
}

/**
 * oslo's `timestamp` (`2026-12-07 03:45:00.123456`, UTC) as Herald's (`toISOString`'s form,
 * milliseconds: `2026-12-07T03:45:00.123Z`). Any other text is returned unchanged.
 *
 * @example
 * ```ts
 * fromPythonTimestamp('2026-12-07 03:45:00.123456'); // '2026-12-07T03:45:00.123Z'
 * ```
 */
export function fromPythonTimestamp(text: string): string {
  const match = PYTHON_TIMESTAMP.exec(text);
  if (match === null) return text;
  return `${match[1]}T${match[2]}.${(match[3] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
}
