/**
 * Signatures of bridged events: who may speak for which `source`. A sender signs each CloudEvent
 * with a shared secret (HMAC-SHA256); a receiver that knows the key checks the signature and
 * that the key may speak for the source the event claims. Without this, anyone who can publish
 * on the bridge's topic can make an event that looks like any service's.
 *
 * The signature covers the event's canonical form (see {@link canonicalEvent}): `id`, `source`,
 * `type`, `time`, `subject` and `data`, so that none of them can be changed or moved to another
 * event. It travels in two headers, {@link SIGNATURE_HEADER} and {@link KEY_ID_HEADER}: the body
 * stays a plain CloudEvent.
 * @module
 */

import { createHmac, timingSafeEqual } from 'node:crypto';
import { describeValue, InvalidError } from '@herald/core';
import type { CloudEvent } from './envelope.js';

/**
 * The header that carries an event's signature: `sha256=<hex HMAC>`.
 *
 * @example
 * ```ts
 * const signed = delivery.headers[SIGNATURE_HEADER] !== undefined;
 * ```
 */
export const SIGNATURE_HEADER = 'herald-signature';

/**
 * The header that names the key an event was signed with ({@link BridgeKey.id}).
 *
 * @example
 * ```ts
 * log.info(`event signed with key ${delivery.headers[KEY_ID_HEADER]}`);
 * ```
 */
export const KEY_ID_HEADER = 'herald-key-id';

/**
 * The fewest bytes a {@link BridgeKey.secret} may have: the HMAC-SHA256 output size (RFC 2104).
 *
 * @example
 * ```ts
 * const secret = randomBytes(MIN_SECRET_BYTES);
 * ```
 */
export const MIN_SECRET_BYTES = 32;

const SIGNATURE_PREFIX = 'sha256=';

/**
 * A shared key, and the sources it may speak for. The sender and its receivers hold the same
 * one; a receiver trusts an event only when it is signed with a key it knows whose `sources`
 * include the event's `source`.
 *
 * @example
 * ```ts
 * const serverKey: BridgeKey = {
 *   id: 'neutron-server-2026-12',
 *   secret: process.env.HERALD_BRIDGE_KEY!, // 32 bytes or more, e.g. `openssl rand -base64 48`
 *   sources: ['neutron-server@host-1', 'neutron-server@host-2'],
 * };
 * ```
 */
export interface BridgeKey {
  /** Names the key in the {@link KEY_ID_HEADER} header (not secret): non-empty. Rotate by adding a new id. */
  readonly id: string;
  /** The shared secret: at least {@link MIN_SECRET_BYTES} bytes (a string counts its UTF-8 bytes). */
  readonly secret: string | Uint8Array;
  /** The `source` names this key may sign for: at least one. */
  readonly sources: readonly string[];
}

/**
 * A checked, frozen copy of a key, with its secret as bytes, as {@link checkKey} makes it.
 *
 * @example
 * ```ts
 * const key: CheckedKey = checkKey('serverKey', serverKey);
 * key.sources.has('neutron-server@host-1'); // true
 * ```
 */
export interface CheckedKey {
  /** The key's id, as {@link BridgeKey.id}. */
  readonly id: string;
  /** The shared secret as bytes (a string secret encoded as UTF-8). */
  readonly secret: Uint8Array;
  /** The `source` names the key may sign for. */
  readonly sources: ReadonlySet<string>;
}

/**
 * Checks a key and gives a frozen copy with its secret as bytes.
 *
 * @throws InvalidError naming `element` (`.id`, `.secret` or `.sources`) when the id is empty, the
 *   secret shorter than {@link MIN_SECRET_BYTES}, or the sources not a non-empty list of names
 * @example
 * ```ts
 * const key = checkKey('options.signWith', { id: 'k1', secret: randomBytes(32), sources: ['a@h1'] });
 * ```
 */
export function checkKey(element: string, key: BridgeKey): CheckedKey {
  if (key === null || typeof key !== 'object') {
    throw new InvalidError(element, key, 'pass { id, secret, sources }, e.g. { id: "k1", secret, sources: ["a@h1"] }.');
  }
  const { id, secret, sources } = key;
  if (typeof id !== 'string' || id === '') {
    throw new InvalidError(`${element}.id`, id, "pass a non-empty name for the key, e.g. 'neutron-server-2026-12'.");
  }
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  if (!(bytes instanceof Uint8Array) || bytes.byteLength < MIN_SECRET_BYTES) {
    throw new InvalidError(
      `${element}.secret`,
      typeof secret === 'string' ? `a string of ${bytes.byteLength} bytes` : secret,
      `pass a secret of at least ${MIN_SECRET_BYTES} bytes (a string or a Uint8Array), e.g. from \`openssl rand -base64 48\`.`,
    );
  }
  if (!Array.isArray(sources) || sources.length === 0 || sources.some((s) => typeof s !== 'string' || s === '')) {
    throw new InvalidError(
      `${element}.sources`,
      sources,
      "pass the non-empty source names this key may sign for, e.g. ['neutron-server@host-1'].",
    );
  }
  return Object.freeze({ id, secret: Uint8Array.from(bytes), sources: new Set(sources as string[]) });
}

/**
 * The text a signature covers: the JSON array `[id, source, type, time, subject, data]`, absent
 * attributes as `null`, object keys sorted (by UTF-16 code units, as RFC 8785) at every depth, no
 * whitespace. Any language can rebuild it from the event, and a JSON round trip does not change it.
 *
 * @example
 * ```ts
 * canonicalEvent({ specversion: '1.0', id: 'e1', source: 's', type: 't', data: { b: 1, a: 2 } });
 * // '["e1","s","t",null,null,{"a":2,"b":1}]'
 * ```
 */
export function canonicalEvent(event: CloudEvent): string {
  const { id, source, type, time, subject, data } = event;
  return canonicalJson([id, source, type, time ?? null, subject ?? null, data ?? null]);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The headers that sign `event` with `key`: {@link KEY_ID_HEADER} and {@link SIGNATURE_HEADER}.
 *
 * @example
 * ```ts
 * const message = toMessage(event);
 * await transport.publish(target, { ...message, headers: { ...message.headers, ...signatureHeaders(event, key) } });
 * ```
 */
export function signatureHeaders(event: CloudEvent, key: CheckedKey): Readonly<Record<string, string>> {
  return { [KEY_ID_HEADER]: key.id, [SIGNATURE_HEADER]: `${SIGNATURE_PREFIX}${hmac(event, key)}` };
}

function hmac(event: CloudEvent, key: CheckedKey): string {
  return createHmac('sha256', key.secret).update(canonicalEvent(event), 'utf8').digest('hex');
}

/**
 * Why `event`, received with `headers`, is not signed by a key of `keys` that may speak for its
 * source; `undefined` when it is.
 *
 * @example
 * ```ts
 * const problem = signatureProblem(event, delivery.headers, trusted);
 * if (problem !== undefined) throw new DeadLetterError(problem);
 * ```
 */
export function signatureProblem(
  event: CloudEvent,
  headers: Readonly<Record<string, string>>,
  keys: ReadonlyMap<string, CheckedKey>,
): string | undefined {
  const keyId = headers[KEY_ID_HEADER];
  const signature = headers[SIGNATURE_HEADER];
  if (keyId === undefined || signature === undefined) {
    return `it is not signed (no ${KEY_ID_HEADER} and ${SIGNATURE_HEADER} headers), and only signed events are accepted`;
  }
  const key = keys.get(keyId);
  if (key === undefined) return `it is signed with the unknown key ${describeValue(keyId)}`;
  if (!key.sources.has(event.source)) {
    return `it claims the source ${describeValue(event.source)}, which key ${describeValue(keyId)} may not sign for`;
  }
  const expected = Buffer.from(`${SIGNATURE_PREFIX}${hmac(event, key)}`);
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return `its signature does not match key ${describeValue(keyId)} (altered on the way, or signed with another secret)`;
  }
  return undefined;
}
