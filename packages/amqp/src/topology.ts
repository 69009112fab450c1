/**
 * How Herald's targets map onto RabbitMQ: one durable direct exchange per namespace, and queues
 * named so that no two targets can share one (a topic has no whitespace, so everything after
 * the first space is a group or a server).
 *
 * | target | routing key | queue |
 * | --- | --- | --- |
 * | `{ topic }`, default group | `topic.<topic>` | `<ns>.topic.<topic>` (durable) |
 * | `{ topic }`, group `g` | `topic.<topic>` | `<ns>.topic.<topic> <g>` (durable) |
 * | `{ topic, server }` | `server.<topic> <server>` | `<ns>.server.<topic> <server>` (durable) |
 * | `{ topic, fanout: true }` | `fanout.<topic>` | one per consumer, named by the broker (exclusive, auto-delete) |
 * | dead letters | – | `<ns>.dead-letters` (durable) |
 * | a retry waiting `d` ms | the queue it failed in | exchange (fanout) and queue `<ns>.retry.<d>ms` (durable, TTL `d`) |
 *
 * A retry with a backoff is published to the delay's exchange with the queue it failed in as its
 * routing key; the delay queue keeps it for `d` ms (`x-message-ttl`), then dead-letters it through
 * the default exchange, which routes by that key: back to the queue it failed in, at its back.
 * @module
 */

import { InvalidError } from '@herald/core';
import { checkTarget, type Target } from '@herald/messaging';

/**
 * The longest name AMQP 0-9-1 allows for a queue or a routing key, in UTF-8 bytes.
 *
 * @example
 * ```ts
 * if (Buffer.byteLength(topic) > MAX_NAME_BYTES) throw new Error(`topic ${topic} is too long for AMQP`);
 * ```
 */
export const MAX_NAME_BYTES = 255;

/** What the longest name adds to the namespace, topic and group or server: `.server.` and a space. */
const LONGEST_PREFIX = '.server. '.length;

/**
 * The prefix of the headers the transport writes itself; a message may not set them.
 *
 * @example
 * ```ts
 * await transport.publish({ topic: 'audit' }, { id, body, headers: { 'x-tenant': 't1' } }); // not x-herald-…
 * ```
 */
export const RESERVED_HEADER_PREFIX = 'x-herald-';

/**
 * Header: the target a message was published to, as JSON, on the copies that do not go through
 * the namespace's exchange (retries, dead letters, requests): there the routing key says it.
 */
export const TARGET_HEADER = 'x-herald-target';
/** Header: which delivery of the message this copy is (set on retried copies). */
export const ATTEMPT_HEADER = 'x-herald-attempt';
/** Header of a reply: `ok` (the body is the result) or `error` (the body is `{ name, message }`). */
export const REPLY_HEADER = 'x-herald-reply';
/** Headers of a dead letter: the queue and group it failed in, and the last failure. */
export const DEAD_QUEUE_HEADER = 'x-herald-queue';
export const DEAD_GROUP_HEADER = 'x-herald-group';
export const DEAD_ERROR_HEADER = 'x-herald-error';
/** Header of a dead letter whose error was cut to {@link MAX_ERROR_BYTES}: the length of the whole text. */
export const DEAD_TRUNCATED_HEADER = 'x-herald-error-truncated';
/**
 * Header of a copy the transport published itself (a retry, a dead letter, a replay): the broker
 * user that published the original. The copy's own `user_id` is the copying connection's user
 * (the broker refuses any other), so the original's travels here, and is believed only on a copy
 * whose `user_id` is the receiving connection's own user (see {@link brokerUserOf}).
 */
export const USER_HEADER = 'x-herald-user';
/**
 * Header a quorum queue sets on a message it delivers again: how many times it delivered this
 * copy before, whether its handler failed or its consumer crashed.
 */
export const DELIVERY_COUNT_HEADER = 'x-delivery-count';

/**
 * The most of an error's text (UTF-8 bytes) a dead letter's header carries. AMQP encodes a
 * message's headers in one field table, which amqplib caps at 64 KiB: an error text left whole
 * could make the dead letter impossible to send, and the delivery impossible to settle.
 */
export const MAX_ERROR_BYTES = 8 * 1024;

/**
 * `text`, cut to {@link MAX_ERROR_BYTES} with a note saying so when it is longer.
 *
 * @example
 * ```ts
 * const { text, truncated } = boundedErrorText('x'.repeat(70_000)); // truncated: true
 * ```
 */
export function boundedErrorText(text: string): { text: string; truncated: boolean } {
  if (text.length <= MAX_ERROR_BYTES / 3 || Buffer.byteLength(text) <= MAX_ERROR_BYTES) {
    return { text, truncated: false };
  }
  const note = ` … [truncated: ${text.length} characters in all]`;
  let cut = Buffer.from(text)
    .subarray(0, MAX_ERROR_BYTES - note.length)
    .toString('utf8');
  // A multi-byte character cut in two decodes as U+FFFD: drop it.
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return { text: cut + note, truncated: true };
}

/** The queue and exchange names of one namespace. */
export class Topology {
  /** The direct exchange every message is published to. */
  readonly exchange: string;
  /** The queue that takes messages which failed on every delivery. */
  readonly deadLetterQueue: string;

  constructor(readonly namespace: string) {
    this.exchange = namespace;
    this.deadLetterQueue = `${namespace}.dead-letters`;
  }

  /** The routing key of `target` on {@link exchange}. */
  routingKey(target: Target): string {
    if (target.server !== undefined) return `server.${target.topic} ${target.server}`;
    return target.fanout === true ? `fanout.${target.topic}` : `topic.${target.topic}`;
  }

  /** The target a routing key of {@link exchange} stands for (see {@link routingKey}), if it is one. */
  targetOf(routingKey: string): Target | undefined {
    const dot = routingKey.indexOf('.');
    const kind = routingKey.slice(0, dot);
    const rest = routingKey.slice(dot + 1);
    if (dot < 0 || rest === '') return undefined;
    if (kind === 'topic' && !/\s/.test(rest)) return Object.freeze({ topic: rest });
    if (kind === 'fanout' && !/\s/.test(rest)) return Object.freeze({ topic: rest, fanout: true });
    const space = rest.indexOf(' ');
    if (kind === 'server' && space > 0 && space < rest.length - 1) {
      return Object.freeze({ topic: rest.slice(0, space), server: rest.slice(space + 1) });
    }
    return undefined;
  }

  /** The queue of a `{ topic }` group (the default group is the topic itself). */
  groupQueue(topic: string, group: string): string {
    return group === topic ? `${this.namespace}.topic.${topic}` : `${this.namespace}.topic.${topic} ${group}`;
  }

  /** The group whose queue `queue` is, when it is a group queue of this namespace. */
  groupOf(queue: string): string | undefined {
    const prefix = `${this.namespace}.topic.`;
    if (!queue.startsWith(prefix)) return undefined;
    const rest = queue.slice(prefix.length);
    const space = rest.indexOf(' ');
    return space < 0 ? rest : rest.slice(space + 1);
  }

  /** The exchange and queue (the same name) where a retry waits `delayMs` before it goes back. */
  retryQueue(delayMs: number): string {
    return `${this.namespace}.retry.${delayMs}ms`;
  }

  /** The queue of a `{ topic, server }` target. */
  serverQueue(topic: string, server: string): string {
    return `${this.namespace}.server.${topic} ${server}`;
  }

  /**
   * Throws when a name `target` (and `group`) would need is longer than AMQP allows.
   *
   * @throws InvalidError naming `target.topic`, `target.server` or `options.group`
   */
  checkFits(target: Target, group?: string): void {
    // A UTF-16 unit is at most 3 bytes of UTF-8: short names fit without counting (the usual case).
    const units = this.namespace.length + target.topic.length + (target.server ?? group ?? '').length;
    if (3 * units + LONGEST_PREFIX <= MAX_NAME_BYTES) return;
    const names = [this.routingKey(target)];
    if (target.server !== undefined) names.push(this.serverQueue(target.topic, target.server));
    else if (target.fanout !== true) names.push(this.groupQueue(target.topic, group ?? target.topic));
    for (const name of names) {
      if (Buffer.byteLength(name) <= MAX_NAME_BYTES) continue;
      // Blame the longest part the caller chose.
      const parts: [string, string][] = [['target.topic', target.topic]];
      if (target.server !== undefined) parts.push(['target.server', target.server]);
      else if (group !== undefined && group !== target.topic) parts.push(['options.group', group]);
      const [element, value] = parts.reduce((a, b) => (Buffer.byteLength(b[1]) > Buffer.byteLength(a[1]) ? b : a));
      throw new InvalidError(
        element,
        value,
        `shorten it: the AMQP name "${name.slice(0, 40)}…" it makes is ${Buffer.byteLength(name)} bytes, and AMQP allows ${MAX_NAME_BYTES}.`,
      );
    }
  }
}

/** The header value that records `target`. */
export function encodeTarget(target: Target): string {
  return JSON.stringify(target);
}

/** The target a header recorded, or `undefined` when it is missing or not a valid target. */
export function decodeTarget(header: unknown): Target | undefined {
  if (typeof header !== 'string') return undefined;
  try {
    return checkTarget(JSON.parse(header) as Target);
  } catch {
    return undefined;
  }
}

/**
 * `headers` without the broker's own (`x-death`, `x-delivery-count`…): what a copy of a message
 * carries, so that the queue it goes to counts its deliveries afresh and sees no earlier deaths.
 */
export function withoutBrokerHeaders(headers: Record<string, unknown> | undefined): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  if (headers !== undefined) {
    for (const name in headers) if (!BROKER_HEADERS.has(name)) copy[name] = headers[name];
  }
  return copy;
}

/**
 * The user's headers of a received message: string values only, without the transport's own
 * (`x-herald-*`) or the broker's (`x-death`, `x-delivery-count`…, which are not strings or are
 * the broker's business).
 */
export function userHeaders(headers: Record<string, unknown> | undefined): Readonly<Record<string, string>> {
  let copy: Record<string, string> | undefined;
  if (headers !== undefined) {
    for (const name in headers) {
      const value = headers[name];
      if (typeof value !== 'string' || name.startsWith(RESERVED_HEADER_PREFIX) || BROKER_HEADERS.has(name)) continue;
      copy ??= {};
      copy[name] = value;
    }
  }
  // Most messages have none: one shared empty object, not a new one each.
  return copy === undefined ? NO_HEADERS : Object.freeze(copy);
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** Headers RabbitMQ writes itself. */
const BROKER_HEADERS = new Set([
  'x-death',
  'x-delivery-count',
  'x-first-death-exchange',
  'x-first-death-queue',
  'x-first-death-reason',
  'x-last-death-exchange',
  'x-last-death-queue',
  'x-last-death-reason',
]);

/**
 * Throws when a message sets a header the transport writes itself.
 *
 * @throws InvalidError naming `message.headers.<name>`
 */
export function checkUserHeaders(headers: Readonly<Record<string, string>>): void {
  for (const name of Object.keys(headers)) {
    if (name.startsWith(RESERVED_HEADER_PREFIX)) {
      throw new InvalidError(
        `message.headers.${name}`,
        headers[name],
        `rename it: headers starting with "${RESERVED_HEADER_PREFIX}" are the AMQP transport's own.`,
      );
    }
  }
}

/**
 * The user a connection to `url` logs in as, as amqplib reads it from the URL (`guest` without
 * credentials); `undefined` when it is empty.
 */
export function userOfUrl(url: string): string | undefined {
  const { username, password } = new URL(url);
  // amqplib decodes the user name with `unescape`: the broker checks user_id against that.
  const user = username === '' && password === '' ? 'guest' : unescape(username);
  return user === '' ? undefined : user;
}

/**
 * The broker user that published a received message: its `user_id`, which the broker checked;
 * on a copy this transport's own user published (a retry, a replay), the user it recorded in
 * {@link USER_HEADER}. A header on any other message is not believed: anyone can write one.
 */
export function brokerUserOf(
  userId: unknown,
  headers: Record<string, unknown> | undefined,
  ownUser: string | undefined,
): string | undefined {
  if (typeof userId !== 'string' || userId === '') return undefined;
  if (userId !== ownUser || headers === undefined || !(USER_HEADER in headers)) return userId;
  const recorded = headers[USER_HEADER];
  return typeof recorded === 'string' && recorded !== '' ? recorded : undefined;
}

/**
 * The headers of a copy of a received message that this transport publishes as `ownUser`: the
 * original's without the broker's own (see {@link withoutBrokerHeaders}), with its publisher's
 * user recorded in {@link USER_HEADER} (or the header removed
 * when it had none, so that nobody's header can be passed off as a recorded user).
 */
export function headersOfCopy(
  userId: unknown,
  headers: Record<string, unknown> | undefined,
  ownUser: string | undefined,
): Record<string, unknown> {
  const copy = withoutBrokerHeaders(headers);
  const user = brokerUserOf(userId, headers, ownUser);
  if (user === undefined) delete copy[USER_HEADER];
  else copy[USER_HEADER] = user;
  return copy;
}
