/**
 * Reading what the broker delivers: a message as the {@link @herald/messaging!Delivery} handlers
 * see (its target, attempt, headers and body), and the broker's record of a message it
 * dead-lettered. Consumers read their deliveries here, and dead letters are read the same way.
 * @module
 */

import { randomUUID } from 'node:crypto';
import { errorText, InvalidError } from '@herald/core';
import type { Delivery, Target } from '@herald/messaging';
import type { ConsumeMessage, GetMessage } from 'amqplib';
import type { Settings } from './options.js';
import {
  ATTEMPT_HEADER,
  brokerUserOf,
  decodeTarget,
  DELIVERY_COUNT_HEADER,
  TARGET_HEADER,
  userHeaders,
} from './topology.js';

/** How many routing keys' targets a consumer remembers (see {@link deliveryOf}). */
const MAX_CACHED_TARGETS = 64;

/**
 * A delivery as handlers see it; throws when the body is not JSON. `targets` keeps the target
 * of each routing key already seen, so that a consumer decodes each once.
 */
export function deliveryOf(
  settings: Settings,
  message: ConsumeMessage | GetMessage,
  fallback: Target | undefined,
  deadLetter: boolean,
  targets?: Map<string, Target | undefined>,
): Delivery {
  const { properties, fields } = message;
  const headers = (properties.headers ?? {}) as Record<string, unknown>;
  let routed: Target | undefined;
  if (fields.exchange === settings.topology.exchange) {
    routed = targets?.get(fields.routingKey);
    if (routed === undefined) {
      routed = settings.topology.targetOf(fields.routingKey);
      if (targets !== undefined && targets.size < MAX_CACHED_TARGETS) targets.set(fields.routingKey, routed);
    }
  }
  const target =
    decodeTarget(headers[TARGET_HEADER]) ?? routed ?? fallback ?? Object.freeze({ topic: fields.routingKey });
  const recorded = Number(headers[ATTEMPT_HEADER]);
  // A quorum queue counts this copy's earlier deliveries (crashes included); a classic one only
  // says that there was one.
  const count = Number(headers[DELIVERY_COUNT_HEADER]);
  const earlier = Number.isSafeInteger(count) && count > 0 ? count : fields.redelivered ? 1 : 0;
  const attempt = (Number.isSafeInteger(recorded) && recorded > 0 ? recorded : 1) + (deadLetter ? 0 : earlier);
  let body: unknown;
  try {
    body = JSON.parse(message.content.toString('utf8'));
  } catch (error) {
    // A dead letter may be one that was buried for not being JSON: show its text.
    if (deadLetter) body = message.content.toString('utf8');
    else
      throw new InvalidError(
        'message.body',
        message.content.toString('utf8').slice(0, 80),
        `publish JSON: ${errorText(error)}`,
      );
  }
  const brokerUser = brokerUserOf(properties.userId, headers, settings.user);
  return Object.freeze({
    id: typeof properties.messageId === 'string' && properties.messageId !== '' ? properties.messageId : randomUUID(),
    target,
    headers: userHeaders(headers),
    body,
    attempt,
    ...(brokerUser !== undefined && { brokerUser }),
  });
}

/** Why a delivery is dead-lettered without its handler: the earlier ones never settled. */
export function neverSettled(deliveries: number, limit: number): string {
  return (
    `Delivered ${deliveries} times without being settled: its consumer crashed, or lost its ` +
    `connection, while handling it (delivery limit ${limit}).`
  );
}

/** The broker's record of why it dead-lettered a message (its first `x-death` entry), if it did. */
export function brokerDeath(
  headers: Record<string, unknown>,
): { queue: string; reason: string; exchange: string; routingKey: string } | undefined {
  const deaths = headers['x-death'];
  if (!Array.isArray(deaths) || deaths.length === 0) return undefined;
  const last = deaths[0] as Record<string, unknown>;
  const keys = last['routing-keys'];
  return {
    queue: String(last.queue ?? ''),
    reason: String(last.reason ?? ''),
    exchange: String(last.exchange ?? ''),
    routingKey: Array.isArray(keys) && keys.length > 0 ? String(keys[0]) : '',
  };
}
