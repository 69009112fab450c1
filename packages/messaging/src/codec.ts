/**
 * The payload codec: an {@link EventPayload} as plain JSON and back, so that a payload class
 * survives the trip to another process. A `DBEventPayload` arrives as a `DBEventPayload`, an
 * `APIEventPayload` as an `APIEventPayload`, with every field.
 *
 * What the trip does to the values inside (`context`, `metadata`, `requestBody`, `states`,
 * `desiredState`): they are JSON-copied when encoded. Class instances become plain objects
 * (their getters and methods stay behind), `Date`s become ISO strings, `undefined` properties
 * disappear (and become `null` in arrays), `NaN` and `Infinity` become `null`, a `toJSON()` method
 * decides what is sent. A context is usually best sent through its `toJSON()` (as oslo sends
 * `context.to_dict()`): without one, a session or a connection inside it would fail to encode.
 *
 * Subclasses of the three payload classes arrive as their nearest Herald class: a
 * `class RouterPayload extends DBEventPayload` is decoded as a `DBEventPayload`, and its own
 * fields are not sent. Put what the other side needs in `metadata`.
 * @module
 */

import {
  APIEventPayload,
  DBEventPayload,
  EventPayload,
  InvalidError,
  type EventPayloadOptions,
  type ResourceId,
} from '@herald/core';

/** The fields every encoded payload has. */
interface EncodedCommon {
  /** The JSON copy of `context`; absent when the context was `undefined`. */
  readonly context?: unknown;
  /** The JSON copy of `metadata`. */
  readonly metadata: Record<string, unknown>;
  /** The JSON copy of `requestBody`; absent when there was none. */
  readonly requestBody?: unknown;
  /** The JSON copy of `states`. */
  readonly states: unknown[];
  /** The resource's id, as it was (a string or a number); absent when there was none. */
  readonly resourceId?: ResourceId;
}

/**
 * An encoded {@link EventPayload}.
 *
 * @example
 * ```ts
 * const encoded = encodePayload(new EventPayload(ctx, { resourceId: 'agent-1' })); // { kind: 'EventPayload', … }
 * ```
 */
export interface EncodedEventPayload extends EncodedCommon {
  /** The payload's class. */
  readonly kind: 'EventPayload';
}

/**
 * An encoded {@link DBEventPayload}.
 *
 * @example
 * ```ts
 * const encoded = encodePayload(new DBEventPayload(ctx, { states: [router], desiredState: changed }));
 * if (encoded?.kind === 'DBEventPayload') console.log(encoded.desiredState);
 * ```
 */
export interface EncodedDBEventPayload extends EncodedCommon {
  /** The payload's class. */
  readonly kind: 'DBEventPayload';
  /** The JSON copy of `desiredState`; absent when there was none. */
  readonly desiredState?: unknown;
}

/**
 * An encoded {@link APIEventPayload}.
 *
 * @example
 * ```ts
 * const encoded = encodePayload(new APIEventPayload(ctx, { methodName: 'create_router', action: 'create' }));
 * if (encoded?.kind === 'APIEventPayload') console.log(encoded.methodName);
 * ```
 */
export interface EncodedAPIEventPayload extends EncodedCommon {
  /** The payload's class. */
  readonly kind: 'APIEventPayload';
  /** The API method that was called (e.g. `create_router`). */
  readonly methodName: string;
  /** The API action (e.g. `create`). */
  readonly action: string;
  /** Absent when there was none. */
  readonly collectionName?: string;
}

/**
 * A payload as plain JSON; `kind` is the name of its Herald class. Readers ignore fields they do
 * not know, so a later version can add some without breaking older receivers.
 *
 * @example
 * ```ts
 * const wire: EncodedPayload | null = encodePayload(payload);
 * const again = decodePayload(JSON.parse(JSON.stringify(wire)));
 * ```
 */
export type EncodedPayload = EncodedEventPayload | EncodedDBEventPayload | EncodedAPIEventPayload;

/** The JSON copy of one field, or an error that names it. */
function jsonCopy(element: string, value: unknown): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new InvalidError(
      element,
      value,
      `it cannot be sent as JSON (${error instanceof Error ? error.message : String(error)}); give it a toJSON() method that returns what the other side needs.`,
    );
  }
  // `JSON.stringify` returns undefined for a function or a symbol: there is nothing to send.
  if (text === undefined) {
    throw new InvalidError(
      element,
      value,
      'it cannot be sent as JSON; pass a JSON value or give it a toJSON() method.',
    );
  }
  return JSON.parse(text);
}

/**
 * Encode `payload` as plain JSON (a new object; the payload is not changed), or `null` for no
 * payload. See the module's notes for what the JSON copy does to the values inside.
 *
 * @throws InvalidError for something that is not an `EventPayload`, or a field that cannot be
 *   sent as JSON (a circular structure, a `BigInt`); the error's `element` names the field
 * @example
 * ```ts
 * const encoded = encodePayload(new DBEventPayload(ctx, { states: [router], resourceId: router.id }));
 * encoded?.kind; // 'DBEventPayload'
 * const copy = decodePayload(JSON.parse(JSON.stringify(encoded))); // a DBEventPayload again
 * ```
 */
export function encodePayload(payload: EventPayload | undefined): EncodedPayload | null {
  if (payload === undefined) return null;
  if (!(payload instanceof EventPayload)) {
    throw new InvalidError(
      'payload',
      payload,
      'pass undefined or an EventPayload (EventPayload, DBEventPayload, APIEventPayload).',
    );
  }
  const { context, metadata, requestBody, states, resourceId } = payload;
  if (resourceId !== undefined && typeof resourceId !== 'string' && typeof resourceId !== 'number') {
    throw new InvalidError('payload.resourceId', resourceId, 'a resource id is a string or a number.');
  }
  const common: EncodedCommon = {
    ...(context !== undefined && { context: jsonCopy('payload.context', context) }),
    metadata: jsonCopy('payload.metadata', metadata) as Record<string, unknown>,
    ...(requestBody !== undefined && { requestBody: jsonCopy('payload.requestBody', requestBody) }),
    states: jsonCopy('payload.states', states) as unknown[],
    ...(resourceId !== undefined && { resourceId }),
  };
  // The most derived Herald class first: a subclass of one of them is encoded as that one.
  if (payload instanceof APIEventPayload) {
    const { methodName, action, collectionName } = payload;
    return {
      kind: 'APIEventPayload',
      ...common,
      methodName,
      action,
      ...(collectionName !== undefined && { collectionName }),
    };
  }
  if (payload instanceof DBEventPayload) {
    const { desiredState } = payload;
    return {
      kind: 'DBEventPayload',
      ...common,
      ...(desiredState !== undefined && { desiredState: jsonCopy('payload.desiredState', desiredState) }),
    };
  }
  return { kind: 'EventPayload', ...common };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Options of {@link decodePayload}.
 *
 * @example
 * ```ts
 * const payload = decodePayload(json, { context: (copy) => RequestContext.fromDict(copy) });
 * ```
 */
export interface DecodeOptions {
  /**
   * Rebuilds the request context from its JSON copy (for example a `RequestContext.fromDict`), so
   * that handlers get the context class they are typed with. Default: the JSON copy itself.
   */
  readonly context?: (json: unknown) => unknown;
}

/**
 * Decode what {@link encodePayload} made (after its JSON trip) into a payload of the same class:
 * `null` (or `undefined`) gives `undefined`. The values inside are used as they are, not copied
 * again; the context is the JSON copy unless `options.context` rebuilds it.
 *
 * @throws InvalidError for an unknown `kind` or a malformed field; `element` names it (e.g.
 *   `encoded payload.states`)
 * @example
 * ```ts
 * const payload = decodePayload(event.data.payload);
 * if (payload instanceof DBEventPayload) console.log(payload.latestState);
 * ```
 */
export function decodePayload(
  encoded: EncodedPayload | null | undefined,
  options: DecodeOptions = {},
): EventPayload | undefined {
  if (encoded === null || encoded === undefined) return undefined;
  if (!isRecord(encoded)) {
    throw new InvalidError('encoded payload', encoded, 'expected an object made by encodePayload, or null.');
  }
  const raw = encoded as unknown as Record<string, unknown>;
  const { kind, metadata, requestBody, states, resourceId } = raw;
  if (kind !== 'EventPayload' && kind !== 'DBEventPayload' && kind !== 'APIEventPayload') {
    throw new InvalidError(
      'encoded payload.kind',
      kind,
      "expected 'EventPayload', 'DBEventPayload' or 'APIEventPayload' (was it sent by a newer Herald?).",
    );
  }
  // Both are always written; an encoded payload without them was not made by encodePayload.
  if (metadata === null || typeof metadata !== 'object') {
    throw new InvalidError('encoded payload.metadata', metadata, 'expected an object.');
  }
  if (!Array.isArray(states)) {
    throw new InvalidError('encoded payload.states', states, 'expected an array of states.');
  }
  if (resourceId !== undefined && typeof resourceId !== 'string' && typeof resourceId !== 'number') {
    throw new InvalidError('encoded payload.resourceId', resourceId, 'expected a string or a number.');
  }
  const context = options.context === undefined ? raw.context : options.context(raw.context);
  const common: EventPayloadOptions<unknown> = {
    metadata: metadata as Record<string, unknown>,
    states: states as unknown[],
    // Any JSON value the sender had; the payload classes do not check it either.
    ...(requestBody !== undefined && { requestBody: requestBody as Partial<unknown> }),
    ...(resourceId !== undefined && { resourceId }),
  };
  if (kind === 'DBEventPayload') {
    const { desiredState } = raw;
    return new DBEventPayload(context, { ...common, ...(desiredState !== undefined && { desiredState }) });
  }
  if (kind === 'APIEventPayload') {
    const { methodName, action, collectionName } = raw;
    if (typeof methodName !== 'string' || methodName === '') {
      throw new InvalidError('encoded payload.methodName', methodName, 'expected a non-empty string.');
    }
    if (typeof action !== 'string' || action === '') {
      throw new InvalidError('encoded payload.action', action, 'expected a non-empty string.');
    }
    if (collectionName !== undefined && typeof collectionName !== 'string') {
      throw new InvalidError('encoded payload.collectionName', collectionName, 'expected a string.');
    }
    return new APIEventPayload(context, {
      ...common,
      methodName,
      action,
      ...(collectionName !== undefined && { collectionName }),
    });
  }
  return new EventPayload(context, common);
}
