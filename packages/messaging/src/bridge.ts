/**
 * The registry bridge: carries a registry's notifications to the registries of other processes,
 * so that an `@OnResource(ROUTER, AFTER_CREATE)` handler in an agent runs for a router created in
 * the server, with the same payload class and fields.
 *
 * One side forwards: a late subscription publishes each notification as a CloudEvent. The other
 * side receives: it consumes them and notifies its own registry, with a {@link RemoteOrigin} as
 * the trigger. A process may do both; it never hears itself, and what it receives is not
 * forwarded again.
 *
 * Two ways to carry events: live (a fanout topic: every receiver listening at the time gets a
 * copy, at most once) and durable (a queue per receiving group, persistent and confirmed: each
 * group gets every event, at least once, even when it starts later). Events can be signed, so
 * that a receiver knows which service sent them (see {@link BridgeKey}).
 * @module
 */

import {
  CallbackFailure,
  CallbackRegistry,
  describeValue,
  errorText,
  events as coreEvents,
  InvalidError,
  PRIORITY_DEFAULT,
  RetryRequest,
  type EventPayload,
  type Logger,
  type Notification,
  type SubscribeOptions,
  type Subscription,
} from '@herald/core';
import { createHash } from 'node:crypto';
import { checkTransport, DEFAULT_DEDUPLICATION_WINDOW, IdWindow, isTopicName } from './transport.kit.js';
import { decodePayload, encodePayload, type DecodeOptions, type EncodedPayload } from './codec.js';
import { createCloudEvent, fromDelivery, isTraceparent, toMessage, type CloudEvent } from './envelope.js';
import { DeadLetterError, describeTarget } from './errors.js';
import { checkForwardRetry, retryDelayMs, type ForwardRetry } from './forward-retry.js';
import type { OutboxEntry } from './outbox.js';
import { checkKey, signatureHeaders, signatureProblem, type BridgeKey, type CheckedKey } from './signing.js';
import type { Consumer, Delivery, OutgoingMessage, Target, Transport } from './transport.js';

/**
 * The default topic of a {@link RegistryBridge}.
 *
 * @example
 * ```ts
 * await transport.consume({ topic: BRIDGE_TOPIC, fanout: true }, (delivery) => console.log(fromDelivery(delivery).type));
 * ```
 */
export const BRIDGE_TOPIC = 'herald.events';

/**
 * The target that holds the events of receiving group `group` in durable mode: the `{ topic }`
 * `<topic>.group.<group>`, whose default queue the group's processes share (see
 * {@link ForwardOptions.groups}). For tools that look into that queue or its dead letters.
 *
 * @throws InvalidError for a group that is empty or has whitespace
 * @example
 * ```ts
 * durableBridgeTarget('l3-agent'); // { topic: 'herald.events.group.l3-agent' }
 * ```
 */
export function durableBridgeTarget(group: string, topic: string = BRIDGE_TOPIC): Target {
  if (!isTopicName(group)) {
    throw new InvalidError('group', group, "pass the receiving service's name without whitespace, e.g. 'l3-agent'.");
  }
  return Object.freeze({ topic: `${topic}.group.${group}` });
}

/**
 * The default priority of the bridge's subscriptions: after every priority group Neutron defines,
 * so that local subscribers run (and a `before_*` veto is decided) before the event leaves.
 *
 * @example
 * ```ts
 * bridge.forward(registry, { resources: [ROUTER], priority: PRIORITY_BRIDGE + 1 }); // later still
 * ```
 */
export const PRIORITY_BRIDGE = PRIORITY_DEFAULT + 1_000_000;

/**
 * The events forwarded when none are chosen: every `after_*` event of core's `events`.
 *
 * @example
 * ```ts
 * bridge.forward(registry, { resources: [ROUTER], events: [...DEFAULT_FORWARDED_EVENTS, 'gateway_set'] });
 * ```
 */
export const DEFAULT_FORWARDED_EVENTS: readonly string[] = Object.freeze(
  [...new Set(Object.values(coreEvents))].filter((event) => event.startsWith('after_')),
);

/**
 * The prefix of the CloudEvents `type` of bridged notifications: `herald.<resource>.<event>`.
 *
 * @example
 * ```ts
 * if (event.type.startsWith(BRIDGE_EVENT_TYPE_PREFIX)) console.log('a Herald registry event:', event.type);
 * ```
 */
export const BRIDGE_EVENT_TYPE_PREFIX = 'herald.';

/**
 * The trigger of a notification that came from another process through a {@link RegistryBridge}:
 * which process sent it (`source`), the CloudEvent's `id` (`source` + `eventId` identify it), and
 * the W3C `traceparent` it carried, if any (see {@link RegistryBridgeOptions.traceparent}).
 * Handlers can tell remote events from local ones with `instanceof`; the bridge never forwards a
 * notification whose trigger is one.
 *
 * @example
 * ```ts
 * registry.subscribe((payload, { trigger }) => {
 *   if (trigger instanceof RemoteOrigin) log.info(`router created by ${trigger.source}`);
 * }, ROUTER, AFTER_CREATE);
 * ```
 */
export class RemoteOrigin {
  /**
   * @throws InvalidError when `source` or `eventId` is not a non-empty string
   */
  constructor(
    /** The sending bridge's `source` (e.g. `neutron-server@host-1`). */
    readonly source: string,
    /** The id of the CloudEvent that carried the notification. */
    readonly eventId: string,
    /**
     * The W3C `traceparent` the event carried (`00-<32 hex>-<16 hex>-<2 hex>`), to continue the
     * sender's trace in the handlers here; `undefined` when it carried none.
     *
     * @example
     * ```ts
     * registry.subscribe((payload, { trigger }) => {
     *   if (trigger instanceof RemoteOrigin && trigger.traceparent) startSpanFrom(trigger.traceparent);
     * }, ROUTER, AFTER_CREATE);
     * ```
     */
    readonly traceparent?: string,
  ) {
    if (typeof source !== 'string' || source === '') {
      throw new InvalidError('source', source, "pass the sending process's source, e.g. 'neutron-server@host-1'.");
    }
    if (typeof eventId !== 'string' || eventId === '') {
      throw new InvalidError('eventId', eventId, "pass the CloudEvent's id.");
    }
    if (traceparent !== undefined && !isTraceparent(traceparent)) {
      throw new InvalidError(
        'traceparent',
        traceparent,
        "pass a W3C traceparent ('00-<32 hex>-<16 hex>-<2 hex>') or leave it out.",
      );
    }
  }

  /** `remote <source> (<eventId>)`, as logs and traces show the trigger. */
  toString(): string {
    return `RemoteOrigin(${this.source}, ${this.eventId})`;
  }
}

/**
 * The `data` of a bridged CloudEvent.
 *
 * @example
 * ```ts
 * const { resource, event, payload } = fromDelivery(delivery).data as BridgeEventData;
 * ```
 */
export interface BridgeEventData {
  /** The resource of the notification. */
  readonly resource: string;
  /** The event of the notification. */
  readonly event: string;
  /** The payload as {@link encodePayload} made it; `null` for a notification without one. */
  readonly payload: EncodedPayload | null;
}

/**
 * Options of a {@link RegistryBridge}.
 *
 * @example
 * ```ts
 * const bridge = new RegistryBridge(transport, { source: 'neutron-server@host-1', topic: 'herald.events', logger: console });
 * ```
 */
export interface RegistryBridgeOptions {
  /**
   * Identifies this process (the CloudEvents `source`), e.g. `neutron-server@host-1`. Must be
   * unique among the processes on the topic: a bridge skips the events of its own source.
   */
  readonly source: string;
  /** The fanout topic events travel on: non-empty, no whitespace. Default {@link BRIDGE_TOPIC}. */
  readonly topic?: string;
  /**
   * Where failures go (error level), forward retries (warn level) and skipped events (debug
   * level). Default: `console.error` only.
   */
  readonly logger?: Logger;
  /**
   * The key this bridge signs what it forwards with; its `sources` must include `source`. A
   * receiver that trusts the key knows the event comes from a holder of the secret.
   *
   * @example
   * ```ts
   * new RegistryBridge(transport, { source: 'neutron-server@host-1', signWith: serverKey });
   * ```
   */
  readonly signWith?: BridgeKey;
  /**
   * The keys whose events this bridge accepts. When given, {@link RegistryBridge.receive} takes
   * only events signed with one of them (or with `signWith`) whose `source` the key may sign
   * for; any other event is dead-lettered with the reason. Default: events are not checked.
   *
   * @example
   * ```ts
   * new RegistryBridge(transport, { source: 'l3-agent@host-2', trustedKeys: [serverKey] });
   * ```
   */
  readonly trustedKeys?: readonly BridgeKey[];
  /**
   * The broker user each source publishes as, by source: a source (`'neutron-server@host-1'`) or
   * a prefix ending in `*` (`'neutron-server@*'`), the longest match winning. When given,
   * {@link RegistryBridge.receive} takes an event only when its source has an entry and the
   * delivery's {@link Delivery.brokerUser} (the user the broker checked, AMQP's `user_id`) is that
   * entry's user; any other event is dead-lettered with the reason. It needs a transport that
   * reports the user (`AmqpTransport`, whose processes each connect as their own broker user);
   * on one that does not (`InMemoryTransport`), every event is refused. It adds to `trustedKeys`
   * (an event must then pass both), it does not replace them: a signature proves the sender holds
   * a secret, on any transport and through an outbox; the broker user proves which credentials
   * published it. Default: the publishing user is not checked.
   *
   * @example
   * ```ts
   * new RegistryBridge(transport, { source: 'l3-agent@host-2', trustedUsers: { 'neutron-server@*': 'neutron' } });
   * ```
   */
  readonly trustedUsers?: Readonly<Record<string, string>>;
  /**
   * The W3C `traceparent` to send with each forwarded event (and each {@link
   * RegistryBridge.outboxEntry}), e.g. the active span's, from OpenTelemetry's context; the
   * receiving side hands it to its handlers as {@link RemoteOrigin.traceparent}. Return
   * `undefined` for none. A value that is not a valid traceparent, or a hook that throws, is
   * logged (warn level) and the event goes without one: W3C Trace Context says to ignore an
   * invalid traceparent, and tracing must never cost an event.
   *
   * @example
   * ```ts
   * new RegistryBridge(transport, {
   *   source: 'neutron-server@host-1',
   *   traceparent: () => currentTraceparent(), // e.g. built from trace.getActiveSpan()?.spanContext()
   * });
   * ```
   */
  readonly traceparent?: (event: BridgedEvent) => string | undefined;
}

/**
 * What {@link RegistryBridgeOptions.traceparent} is asked about: the notification being bridged.
 *
 * @example
 * ```ts
 * new RegistryBridge(transport, {
 *   source: 'neutron-server@host-1',
 *   traceparent: ({ resource, event }: BridgedEvent) => tracer.traceparentFor(`${resource}.${event}`),
 * });
 * ```
 */
export interface BridgedEvent {
  /** The resource of the notification. */
  readonly resource: string;
  /** The event of the notification. */
  readonly event: string;
  /** Its payload, as the local subscribers got it. */
  readonly payload: EventPayload | undefined;
}

/**
 * Options of {@link RegistryBridge.forward}.
 *
 * @example
 * ```ts
 * bridge.forward(registry, { resources: [ROUTER, PORT], events: [AFTER_CREATE, AFTER_DELETE] });
 * ```
 */
export interface ForwardOptions {
  /** The resources to forward, e.g. `[ROUTER, PORT]`: at least one. */
  readonly resources: readonly string[];
  /**
   * The events to forward, for each resource. Default {@link DEFAULT_FORWARDED_EVENTS} (every
   * `after_*` event): what happened, never what was only attempted. See
   * {@link RegistryBridge.forward} before adding a `before_*` or `precommit_*` event.
   */
  readonly events?: readonly string[];
  /** The priority of the bridge's subscriptions. Default {@link PRIORITY_BRIDGE} (late). */
  readonly priority?: number;
  /**
   * Durable mode: the receiving groups (services) each event goes to, each into its own durable
   * queue ({@link durableBridgeTarget}), persistent and confirmed by the transport. A group
   * gets every event from the moment the first one is sent to it, whether its processes are
   * running, slow, restarting or not started yet; the processes of one group share its events
   * (each one to one of them). A group gets only the events of the forwardings that name it.
   * Default: live mode, a fanout that only the receivers listening at the time get (at most once).
   */
  readonly groups?: readonly string[];
  /**
   * How a failed publish is retried (see {@link ForwardRetry}); what it leaves out is
   * {@link DEFAULT_FORWARD_RETRY}'s. Each retry is counted (`stats.forwardRetries`) and logged
   * (warn level).
   */
  readonly retry?: Partial<ForwardRetry>;
  /**
   * Called with the event (as an outbox entry, one per group) when its publish failed on every
   * attempt, after the failure was counted and logged: write it to your outbox there (see
   * `OutboxRelay`), and it is relayed when the broker is back. A hook that throws or rejects is
   * logged. Default: none (the event is lost, and counted in `stats.forwardFailures`).
   *
   * @example
   * ```ts
   * bridge.forward(registry, { resources: [ROUTER], groups: ['l3-agent'], onFailure: (entry) => outbox.add(entry) });
   * ```
   */
  readonly onFailure?: (entry: OutboxEntry, error: unknown) => void | Promise<void>;
  /**
   * Make the local notification wait for the publish (with its retries) and fail with a
   * `CallbackFailure` when the event could not be forwarded, whatever the event (the
   * subscription is cancellable). Only with `notify`, not `notifySync`. Default `false`: a
   * forward failure never fails the notification.
   */
  readonly failNotify?: boolean;
}

/**
 * Options of {@link RegistryBridge.receive}.
 *
 * @example
 * ```ts
 * await bridge.receive(registry, { context: RequestContext.fromDict, deliveryLimit: 3 });
 * ```
 */
export interface ReceiveOptions {
  /**
   * Durable mode: the receiving group (service) this process is one of, as senders name it in
   * {@link ForwardOptions.groups}; its processes share the group's queue. Non-empty, no
   * whitespace. Default: live mode (the fanout, only while receiving).
   */
  readonly group?: string;
  /**
   * Rebuilds each payload's request context from its JSON copy (e.g. `RequestContext.fromDict`),
   * so that handlers typed with a context class get one. Default: the JSON copy. An event whose
   * context it cannot rebuild (it throws) is dead-lettered with the reason, like a malformed event.
   */
  readonly context?: (json: unknown) => unknown;
  /**
   * Deliveries of one event before it is dead-lettered (only a {@link RetryRequest} requeues an
   * event, see {@link RegistryBridge.receive}). Default: the transport's.
   */
  readonly deliveryLimit?: number;
  /**
   * Remembers the events handled here, by `source` + `id` (the CloudEvents deduplication key),
   * so that an event delivered again after a crash or a restart is acknowledged without being
   * re-notified (`stats.duplicates`). Keep it where a restart does not lose it (your database,
   * Redis), for as long as a redelivery can come. Default: none (the transport drops the
   * duplicates it has seen in this process only).
   */
  readonly seen?: SeenEvents;
}

/**
 * Where a receiving bridge keeps the events it has handled (see {@link ReceiveOptions.seen}).
 * `add` is called after the event was re-notified (or vetoed here), before it is acknowledged:
 * a crash between the two leaves a duplicate that `has` catches.
 *
 * @example
 * ```ts
 * // PostgreSQL: CREATE TABLE bridge_seen (source text, id text, PRIMARY KEY (source, id));
 * const seen: SeenEvents = {
 *   has: async (source, id) =>
 *     (await pool.query('SELECT 1 FROM bridge_seen WHERE source = $1 AND id = $2', [source, id])).rowCount > 0,
 *   add: async (source, id) =>
 *     void (await pool.query('INSERT INTO bridge_seen VALUES ($1, $2) ON CONFLICT DO NOTHING', [source, id])),
 * };
 * await bridge.receive(registry, { group: 'l3-agent', seen });
 * ```
 */
export interface SeenEvents {
  /** Whether the event `id` of `source` was handled here already. */
  has(source: string, id: string): boolean | Promise<boolean>;
  /** Records that the event `id` of `source` was handled here. */
  add(source: string, id: string): void | Promise<void>;
}

/**
 * What {@link RegistryBridge.forward} returns.
 *
 * @example
 * ```ts
 * const forwarding = bridge.forward(registry, { resources: [ROUTER] });
 * forwarding.close(); // stop forwarding
 * ```
 */
export interface Forwarding {
  /** The forwarded resources (without duplicates). */
  readonly resources: readonly string[];
  /** The forwarded events (without duplicates). */
  readonly events: readonly string[];
  /** Stop forwarding: unsubscribes. Publishes already started still finish (see `flush`). Idempotent. */
  close(): void;
}

/**
 * What {@link RegistryBridge.receive} returns.
 *
 * @example
 * ```ts
 * const receiving = await bridge.receive(registry);
 * await receiving.close();
 * ```
 */
export interface Receiving {
  /** Stop receiving; resolves once the event being re-notified (if any) is done. Idempotent. */
  close(): Promise<void>;
}

/**
 * Counters of a {@link RegistryBridge}, since it was made.
 *
 * @example
 * ```ts
 * const { forwarded, forwardFailures }: BridgeStats = bridge.stats;
 * ```
 */
export interface BridgeStats {
  /** Notifications published. */
  readonly forwarded: number;
  /**
   * Notifications that could not be encoded or published after their retries (each one logged,
   * and handed to {@link ForwardOptions.onFailure} if given); one per group in durable mode.
   */
  readonly forwardFailures: number;
  /** Publishes tried again after a failure (each one logged). */
  readonly forwardRetries: number;
  /** Remote events re-notified into a registry (including those whose subscribers failed). */
  readonly received: number;
  /** Events skipped because this bridge sent them. */
  readonly ownSkipped: number;
  /** Events skipped because {@link ReceiveOptions.seen} had them: handled here already. */
  readonly duplicates: number;
  /**
   * Messages sent to the dead letters with the reason (each one logged): not a valid bridged
   * event, a payload or context that cannot be rebuilt, a missing or wrong signature, or a claim
   * to be this bridge's own source that it cannot prove.
   */
  readonly rejected: number;
  /** Re-notifications that failed: a veto (logged, acknowledged) or a retry request (requeued). */
  readonly renotifyFailures: number;
}

/** The registry with its type layer off: the bridge handles any (resource, event) by name. */
interface UntypedRegistry {
  subscribe(callback: Function, resource: string, event: string, options?: SubscribeOptions): Subscription;
  notify(resource: string, event: string, trigger: unknown, payload?: EventPayload): Promise<void>;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const consoleLogger: Logger = { error: (message, ...meta) => console.error(message, ...meta) };

function checkRegistry(registry: unknown): asserts registry is CallbackRegistry {
  if (!(registry instanceof CallbackRegistry)) {
    throw new InvalidError('registry', registry, "pass a CallbackRegistry (e.g. core's `registry`).");
  }
}

/** A frozen list of the distinct names in `list`, or an error naming `element`. */
function checkNames(element: 'resources' | 'events' | 'groups', list: unknown, example: string): readonly string[] {
  if (!Array.isArray(list) || list.length === 0) {
    throw new InvalidError(`options.${element}`, list, `pass a non-empty array of names, e.g. ${example}.`);
  }
  for (const name of list) {
    if (typeof name !== 'string' || name === '') {
      throw new InvalidError(`options.${element}`, name, `each one must be a non-empty string, e.g. ${example}.`);
    }
  }
  return Object.freeze([...new Set(list as string[])]);
}

/**
 * `trustedUsers` checked, as a lookup: the user of a source, by its own entry or the longest
 * prefix entry (`'neutron-server@*'`) that matches it.
 *
 * @throws InvalidError naming `options.trustedUsers` or the entry that is wrong
 */
function userMap(trustedUsers: unknown): (source: string) => string | undefined {
  if (trustedUsers === null || typeof trustedUsers !== 'object' || Array.isArray(trustedUsers)) {
    throw new InvalidError(
      'options.trustedUsers',
      trustedUsers,
      "pass an object from source to broker user, e.g. { 'neutron-server@*': 'neutron' }.",
    );
  }
  const exact = new Map<string, string>();
  const prefixes: [string, string][] = [];
  for (const [pattern, user] of Object.entries(trustedUsers)) {
    if (typeof user !== 'string' || user === '') {
      throw new InvalidError(
        `options.trustedUsers['${pattern}']`,
        user,
        'pass the broker user name, a non-empty string.',
      );
    }
    const star = pattern.indexOf('*');
    if (pattern === '' || (star >= 0 && star !== pattern.length - 1)) {
      throw new InvalidError(
        'options.trustedUsers',
        pattern,
        "each key is a source ('neutron-server@host-1') or a prefix ending in '*' ('neutron-server@*').",
      );
    }
    if (star < 0) exact.set(pattern, user);
    else prefixes.push([pattern.slice(0, -1), user]);
  }
  prefixes.sort(([a], [b]) => b.length - a.length);
  return (source) => exact.get(source) ?? prefixes.find(([prefix]) => source.startsWith(prefix))?.[1];
}

/** The key of one (resource, event) in the bridge's bookkeeping. */
function pairKey(resource: string, event: string): string {
  return `${resource}\u0000${event}`;
}

/** `data` of a bridged event, checked; throws InvalidError naming what is wrong. */
function readData(
  event: CloudEvent,
  decode: DecodeOptions,
): { resource: string; event: string; payload: EventPayload | undefined } {
  const data = event.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new InvalidError('event.data', data, 'a bridged event carries { resource, event, payload }.');
  }
  const { resource, event: name, payload } = data as Record<string, unknown>;
  if (typeof resource !== 'string' || resource === '') {
    throw new InvalidError('event.data.resource', resource, 'expected the resource name.');
  }
  if (typeof name !== 'string' || name === '') {
    throw new InvalidError('event.data.event', name, 'expected the event name.');
  }
  const type = `${BRIDGE_EVENT_TYPE_PREFIX}${resource}.${name}`;
  if (event.type !== type) {
    throw new InvalidError('event.type', event.type, `a bridged ${resource} ${name} event has the type '${type}'.`);
  }
  return { resource, event: name, payload: decodePayload(payload as EncodedPayload | null | undefined, decode) };
}

/** Where the events of one forwarding go, and what happens when a publish fails. */
interface Route {
  /** The fanout target (live), or one target per group (durable). */
  readonly targets: readonly { readonly target: Target; readonly group: string | undefined }[];
  readonly retry: ForwardRetry;
  readonly onFailure: ((entry: OutboxEntry, error: unknown) => void | Promise<void>) | undefined;
  readonly failNotify: boolean;
}

/**
 * The message id of the copy of a bridged event for `group`: each group's copy is its own
 * message (an outbox keeps one entry per id), and the same event to the same group always has
 * the same id, so that the group's consumers drop a duplicate.
 */
function groupCopyId(messageId: string, group: string): string {
  return createHash('sha256')
    .update(JSON.stringify([messageId, group]))
    .digest('hex');
}

/**
 * Carries registry notifications between processes over a {@link Transport}, as CloudEvents.
 * Make one per process, named by a `source` unique to the process; call
 * {@link RegistryBridge.forward} where events happen and {@link RegistryBridge.receive} where
 * they should be handled (or both).
 *
 * Live mode (the default) is a fanout: each receiver listening at the time gets a copy, at most
 * once; a receiver that is down, or not started yet, misses what is sent meanwhile. Durable mode
 * (`groups` when forwarding, `group` when receiving) gives each receiving group its own durable
 * queue: every event reaches every group at least once, whenever its processes consume.
 *
 * @example
 * ```ts
 * // neutron-server: routers to the l3 agents, durably
 * const server = new RegistryBridge(transport, { source: 'neutron-server@host-1', signWith: serverKey });
 * server.forward(registry, { resources: [ROUTER], groups: ['l3-agent'] });
 *
 * // l3-agent: its @OnResource(ROUTER, AFTER_CREATE) handlers run for the server's routers
 * const agent = new RegistryBridge(transport, { source: 'l3-agent@host-2', trustedKeys: [serverKey] });
 * await agent.receive(registry, { group: 'l3-agent' });
 * ```
 */
export class RegistryBridge {
  /** This process, as the CloudEvents `source` of what it forwards. */
  readonly source: string;
  /** The topic: the fanout of live mode, and the prefix of the durable groups' topics. */
  readonly topic: string;
  readonly #transport: Transport;
  readonly #fanout: Target;
  readonly #logger: Logger;
  readonly #traceparent: ((event: BridgedEvent) => string | undefined) | undefined;
  readonly #signWith: CheckedKey | undefined;
  /** The keys that may sign events here, by id: `trustedKeys` and `signWith`. */
  readonly #keys = new Map<string, CheckedKey>();
  /** Whether received events must be signed (`trustedKeys` was given). */
  readonly #requireSignature: boolean;
  /** The broker user a source must publish as (`trustedUsers`), if the bridge checks it. */
  readonly #userOf: ((source: string) => string | undefined) | undefined;
  /** The ids of the events this process sent lately: its own, when they come back. */
  readonly #sent = new IdWindow(DEFAULT_DEDUPLICATION_WINDOW);
  readonly #stats: Mutable<BridgeStats> = {
    forwarded: 0,
    forwardFailures: 0,
    forwardRetries: 0,
    received: 0,
    ownSkipped: 0,
    duplicates: 0,
    rejected: 0,
    renotifyFailures: 0,
  };
  /** Publishes not settled yet (with their retries); each one settles without rejecting. */
  readonly #pending = new Set<Promise<void>>();
  /** The (resource, event) pairs forwarded, per registry, so that none is forwarded twice. */
  readonly #forwarded = new WeakMap<CallbackRegistry, Set<string>>();
  readonly #forwardings = new Set<Forwarding>();
  readonly #receivings = new Set<Receiving>();

  /**
   * @throws InvalidError for a transport without `publish` and `consume`, an empty `source`, a
   *   topic that is empty or has whitespace, a logger without an `error` method, a
   *   `traceparent` that is not a function, a bad key (see {@link BridgeKey}; `signWith` must
   *   be allowed to sign for `source`), or a bad `trustedUsers` entry
   */
  constructor(transport: Transport, options: RegistryBridgeOptions) {
    checkTransport(transport, ['publish', 'consume']);
    if (options === null || typeof options !== 'object') {
      throw new InvalidError(
        'options',
        options,
        "pass { source, topic?, logger?, traceparent?, signWith?, trustedKeys?, trustedUsers? }, e.g. { source: 'l3-agent@host-2' }.",
      );
    }
    const {
      source,
      topic = BRIDGE_TOPIC,
      logger = consoleLogger,
      traceparent,
      signWith,
      trustedKeys,
      trustedUsers,
    } = options;
    if (typeof source !== 'string' || source === '') {
      throw new InvalidError(
        'options.source',
        source,
        "pass a name unique to this process, e.g. 'neutron-server@host-1': it is how a bridge skips its own events.",
      );
    }
    if (!isTopicName(topic)) {
      throw new InvalidError(
        'options.topic',
        topic,
        `pass a non-empty topic without whitespace, or leave it out for '${BRIDGE_TOPIC}'.`,
      );
    }
    // Duck-typed: any object or function with an error method (a pino-style function logger too).
    if (logger === null || !['object', 'function'].includes(typeof logger) || typeof logger.error !== 'function') {
      throw new InvalidError(
        'options.logger',
        logger,
        'pass an object with an error(message, ...meta) method, such as console.',
      );
    }
    if (traceparent !== undefined && typeof traceparent !== 'function') {
      throw new InvalidError(
        'options.traceparent',
        traceparent,
        'pass a function ({ resource, event, payload }) => traceparent | undefined, or leave it out.',
      );
    }
    if (trustedKeys !== undefined && !Array.isArray(trustedKeys)) {
      throw new InvalidError('options.trustedKeys', trustedKeys, 'pass an array of keys ({ id, secret, sources }).');
    }
    for (const [index, key] of (trustedKeys ?? []).entries()) {
      const checked = checkKey(`options.trustedKeys[${index}]`, key);
      this.#keys.set(checked.id, checked);
    }
    if (signWith !== undefined) {
      const checked = checkKey('options.signWith', signWith);
      if (!checked.sources.has(source)) {
        throw new InvalidError(
          'options.signWith.sources',
          signWith.sources,
          `add this bridge's source '${source}': a key signs only for the sources it lists.`,
        );
      }
      this.#signWith = checked;
      this.#keys.set(checked.id, checked);
    }
    this.#requireSignature = trustedKeys !== undefined;
    this.#userOf = trustedUsers === undefined ? undefined : userMap(trustedUsers);
    this.source = source;
    this.topic = topic;
    this.#traceparent = traceparent;
    this.#transport = transport;
    this.#fanout = Object.freeze({ topic, fanout: true });
    this.#logger = logger;
  }

  /** A copy of the counters. */
  get stats(): BridgeStats {
    return { ...this.#stats };
  }

  /**
   * Publish every notification of (`resource`, `event`) in `registry`, for each of `resources` and
   * `events`, as a CloudEvent: type `herald.<resource>.<event>`, subject the payload's
   * `resourceId` (when it has one), data {@link BridgeEventData}; signed when the bridge has a
   * `signWith` key. Live by default; durable with `groups` (see {@link ForwardOptions.groups}).
   *
   * Forwarding never changes the local notification: the bridge's subscriber returns nothing at
   * once (it works under `notifySync` as well), and the payload is encoded at that moment, so a
   * later change to the states is not sent. The publish runs in the background: a failed one is
   * tried again (see {@link ForwardOptions.retry}); one that failed on every attempt is logged,
   * counted in `stats.forwardFailures` and handed to `onFailure`, never thrown at the trigger
   * (unless {@link ForwardOptions.failNotify}). {@link RegistryBridge.flush} waits for the
   * publishes.
   *
   * A notification whose trigger is a {@link RemoteOrigin} (one this bridge, or another, received)
   * is not forwarded: that is what keeps two processes that forward and receive from echoing.
   *
   * About `before_*` and `precommit_*` events: the bridge's subscriber runs during the round,
   * so it cannot know whether the round will be vetoed (every subscriber runs even after one has
   * failed, and the veto is decided at the end). Such an event is forwarded whether or not it is
   * vetoed; receivers learn of a veto only if `abort_*` is forwarded too. That is why the default
   * is the `after_*` events, which report what was done.
   *
   * @throws InvalidError for a registry that is not a `CallbackRegistry`, empty or non-string
   *   names, a group with whitespace, a priority that is not finite, bad `retry`, `onFailure` or
   *   `failNotify`, or a (resource, event) this bridge already forwards from `registry` (nothing
   *   is subscribed then)
   * @example
   * ```ts
   * const forwarding = bridge.forward(registry, { resources: [ROUTER, PORT], groups: ['l3-agent', 'dhcp-agent'] });
   * await registry.notify(ROUTER, AFTER_CREATE, this, new DBEventPayload(ctx, { states: [router], resourceId: router.id }));
   * await bridge.flush(); // published (and confirmed) to both groups
   * forwarding.close();
   * ```
   */
  forward(registry: CallbackRegistry, options: ForwardOptions): Forwarding {
    checkRegistry(registry);
    if (options === null || typeof options !== 'object') {
      throw new InvalidError(
        'options',
        options,
        'pass { resources, events?, groups?, priority?, retry?, onFailure?, failNotify? }, e.g. { resources: [ROUTER] }.',
      );
    }
    const resources = checkNames('resources', options.resources, "['router', 'port']");
    const events = checkNames('events', options.events ?? DEFAULT_FORWARDED_EVENTS, "['after_create', 'after_delete']");
    const { priority = PRIORITY_BRIDGE, onFailure, failNotify = false } = options;
    if (typeof priority !== 'number' || !Number.isFinite(priority)) {
      throw new InvalidError(
        'options.priority',
        priority,
        `pass a finite number (lower runs first), or leave it out for ${PRIORITY_BRIDGE}.`,
      );
    }
    const route = this.#routeFor(options.groups, options.retry, onFailure, failNotify);
    const taken = this.#forwarded.get(registry) ?? new Set<string>();
    this.#forwarded.set(registry, taken);
    const keys = resources.flatMap((resource) => events.map((event) => pairKey(resource, event)));
    const clash = keys.find((key) => taken.has(key));
    if (clash !== undefined) {
      throw new InvalidError(
        'options',
        options,
        `this bridge already forwards ${clash.replace('\u0000', ' ')} from that registry; close that forwarding first.`,
      );
    }
    // One subscriber for all the pairs: the notification says which one it is.
    const forwardToBridge = (payload: EventPayload | undefined, notification: Notification) =>
      this.#forwardNotification(route, payload, notification);
    const untyped = registry as unknown as UntypedRegistry;
    const subscriptions: Subscription[] = [];
    for (const resource of resources) {
      for (const event of events) {
        subscriptions.push(
          untyped.subscribe(forwardToBridge, resource, event, { priority, owner: this, cancellable: failNotify }),
        );
      }
    }
    for (const key of keys) taken.add(key);
    let open = true;
    const forwarding: Forwarding = {
      resources,
      events,
      close: () => {
        if (!open) return;
        open = false;
        for (const subscription of subscriptions) subscription.unsubscribe();
        for (const key of keys) taken.delete(key);
        this.#forwardings.delete(forwarding);
      },
    };
    this.#forwardings.add(forwarding);
    return forwarding;
  }

  /**
   * Resolves once every publish started so far has settled (published, or failed on every
   * attempt and logged); never rejects. Check `stats.forwardFailures` to know whether all went out.
   *
   * @example
   * ```ts
   * await registry.notify(ROUTER, AFTER_DELETE, this, payload);
   * await bridge.flush();
   * ```
   */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /**
   * Consume the events other processes forwarded and notify `registry` of each:
   * `registry.notify(resource, event, new RemoteOrigin(source, id), payload)`, the payload decoded
   * to its class (see `decodePayload`). Live by default (the fanout, while receiving); durable with
   * `group` (the group's queue, see {@link ReceiveOptions.group}). Events are re-notified one at a
   * time, in the order the transport delivers them.
   *
   * Events of this bridge's own `source` are skipped (debug level) when this process sent them,
   * or they are signed with `signWith`; any other event that claims this source is an impostor
   * (or was sent by an unsigned earlier run of this process) and is dead-lettered. With
   * `trustedKeys`, an event not signed by a trusted key that may sign for its source is
   * dead-lettered with the reason (see {@link BridgeKey}). With `trustedUsers`, so is an event
   * that the broker user its source is tied to did not publish (see
   * {@link RegistryBridgeOptions.trustedUsers}).
   *
   * What a failure does to the message:
   * - a message that is not a valid bridged event (`{"foo":1}`, `null`, a `type` that does not
   *   match its resource and event, a payload or context that cannot be rebuilt), or whose sender
   *   is not proven, goes straight to the transport's dead letters with the reason
   *   ({@link DeadLetterError}; logged, `stats.rejected`): delivering it again cannot make it valid;
   * - a `CallbackFailure` (a subscriber here vetoed) is logged and acknowledged: the sender's
   *   round is over (an `after_*` event reports something already done, which no veto can undo)
   *   and no veto here can reach its trigger, so a redelivery would only run the other
   *   subscribers again, and fail again;
   * - a `RetryRequest` (the registry's `isRetriable` said a subscriber's error is transient) is
   *   thrown to the transport, which delivers the event again, up to its delivery limit, then
   *   dead-letters it.
   *
   * Durable mode is at-least-once: after a crash, the events whose handling had not been
   * acknowledged come again. The transport drops the duplicates it has seen in this process;
   * across restarts, make handlers idempotent, or give a {@link ReceiveOptions.seen} store, which
   * drops what was handled already by `source` + `id` (the CloudEvents deduplication key).
   *
   * @throws InvalidError for a registry that is not a `CallbackRegistry`, or bad options; the
   *   transport's errors when it cannot consume
   * @example
   * ```ts
   * const agent = new RegistryBridge(transport, { source: 'l3-agent@host-2', trustedKeys: [serverKey] });
   * const receiving = await agent.receive(registry, { group: 'l3-agent' });
   * // … on shutdown
   * await receiving.close();
   * ```
   */
  async receive(registry: CallbackRegistry, options: ReceiveOptions = {}): Promise<Receiving> {
    checkRegistry(registry);
    if (options === null || typeof options !== 'object') {
      throw new InvalidError('options', options, 'pass { group?, deliveryLimit?, context?, seen? } or nothing.');
    }
    const { group, deliveryLimit, context, seen } = options;
    if (seen !== undefined && (typeof seen?.has !== 'function' || typeof seen.add !== 'function')) {
      throw new InvalidError(
        'options.seen',
        seen,
        'pass an object with has(source, id) and add(source, id) methods (see SeenEvents), or leave it out.',
      );
    }
    if (context !== undefined && typeof context !== 'function') {
      throw new InvalidError(
        'options.context',
        context,
        'pass a function that rebuilds the context from its JSON copy (json) => context, or leave it out.',
      );
    }
    const decode: DecodeOptions = context === undefined ? {} : { context };
    if (deliveryLimit !== undefined && (!Number.isSafeInteger(deliveryLimit) || deliveryLimit < 1)) {
      throw new InvalidError(
        'options.deliveryLimit',
        deliveryLimit,
        "pass a whole number of deliveries, 1 or more, or leave it out for the transport's.",
      );
    }
    const target = group === undefined ? this.#fanout : this.#groupTarget('options.group', group);
    const untyped = registry as unknown as UntypedRegistry;
    const consumer: Consumer = await this.#transport.consume(
      target,
      (delivery) => this.#renotify(untyped, delivery, decode, seen),
      deliveryLimit === undefined ? {} : { deliveryLimit },
    );
    let closing: Promise<void> | undefined;
    const receiving: Receiving = {
      close: () => {
        this.#receivings.delete(receiving);
        return (closing ??= consumer.close());
      },
    };
    this.#receivings.add(receiving);
    return receiving;
  }

  /**
   * Stop every forwarding and receiving of this bridge, then wait for the publishes in progress,
   * with their retries (see {@link RegistryBridge.flush}). The transport stays open: it may be
   * shared.
   *
   * @example
   * ```ts
   * await bridge.close();
   * await transport.close();
   * ```
   */
  async close(): Promise<void> {
    for (const forwarding of [...this.#forwardings]) forwarding.close();
    await Promise.all([...this.#receivings].map((receiving) => receiving.close()));
    await this.flush();
  }

  /**
   * The bridged event for (resource, event, payload) as an outbox entry for live mode, to write in
   * the same transaction as the change: an {@link OutboxRelay} publishes it later, and receiving
   * bridges re-notify it as if this bridge had forwarded it. A `precommit_*` subscriber, which
   * runs inside the transaction, is the place to write the `after_*` event that will report the
   * change. For durable mode, see {@link RegistryBridge.outboxEntries}.
   *
   * @throws InvalidError for empty names, or a payload whose context JSON cannot carry
   * @example
   * ```ts
   * registry.subscribe((payload) => {
   *   payload.context.session.outbox.add(bridge.outboxEntry(ROUTER, AFTER_CREATE, payload));
   * }, ROUTER, PRECOMMIT_CREATE);
   * ```
   */
  outboxEntry(resource: string, event: string, payload?: EventPayload): OutboxEntry {
    return Object.freeze({ target: this.#fanout, message: this.#messageFor(resource, event, payload) });
  }

  /**
   * The bridged event for (resource, event, payload) as outbox entries for durable mode: one per
   * group, each group's copy with its own message id, all of one event (one CloudEvents `id`).
   * A group whose processes are not running yet gets it once they consume.
   *
   * @throws InvalidError for empty names, groups that are not a non-empty list of names without
   *   whitespace, or a payload whose context JSON cannot carry
   * @example
   * ```ts
   * registry.subscribe((payload) => {
   *   for (const entry of bridge.outboxEntries(ROUTER, AFTER_CREATE, payload, ['l3-agent'])) {
   *     payload.context.session.outbox.add(entry);
   *   }
   * }, ROUTER, PRECOMMIT_CREATE);
   * ```
   */
  outboxEntries(
    resource: string,
    event: string,
    payload: EventPayload | undefined,
    groups: readonly string[],
  ): readonly OutboxEntry[] {
    const { targets } = this.#routeFor(checkNames('groups', groups, "['l3-agent']"), undefined, undefined, false);
    const message = this.#messageFor(resource, event, payload);
    return Object.freeze(targets.map(({ target, group }) => Object.freeze(this.#copyFor(message, target, group))));
  }

  /** The route of a forwarding: checks `groups` and the failure options. */
  #routeFor(
    groups: readonly string[] | undefined,
    retry: Partial<ForwardRetry> | undefined,
    onFailure: unknown,
    failNotify: unknown,
  ): Route {
    if (onFailure !== undefined && typeof onFailure !== 'function') {
      throw new InvalidError(
        'options.onFailure',
        onFailure,
        'pass a function (entry, error) => void that keeps the event (e.g. in an outbox), or leave it out.',
      );
    }
    if (typeof failNotify !== 'boolean') {
      throw new InvalidError('options.failNotify', failNotify, 'pass true or false, or leave it out (false).');
    }
    const targets =
      groups === undefined
        ? [{ target: this.#fanout, group: undefined }]
        : checkNames('groups', groups, "['l3-agent', 'dhcp-agent']").map((group) => ({
            target: this.#groupTarget('options.groups', group),
            group,
          }));
    return {
      targets,
      retry: checkForwardRetry(retry),
      onFailure: onFailure as Route['onFailure'],
      failNotify,
    };
  }

  #groupTarget(element: string, group: unknown): Target {
    if (!isTopicName(group)) {
      throw new InvalidError(
        element,
        group,
        "pass the receiving service's name: non-empty, without whitespace, e.g. 'l3-agent'.",
      );
    }
    return durableBridgeTarget(group, this.topic);
  }

  /** The outbox entry of `message` for one target: a group's copy has its own message id. */
  #copyFor(message: OutgoingMessage & { readonly id: string }, target: Target, group: string | undefined): OutboxEntry {
    return { target, message: group === undefined ? message : { ...message, id: groupCopyId(message.id, group) } };
  }

  /** The CloudEvent message that carries one notification, signed when the bridge has a key. */
  #messageFor(
    resource: string,
    event: string,
    payload: EventPayload | undefined,
  ): OutgoingMessage & { readonly id: string } {
    for (const [element, name] of [
      ['resource', resource],
      ['event', event],
    ] as const) {
      if (typeof name !== 'string' || name === '') {
        throw new InvalidError(
          element,
          name,
          `pass a non-empty string, e.g. ${element === 'resource' ? "'router'" : "'after_create'"}.`,
        );
      }
    }
    const data: BridgeEventData = { resource, event, payload: encodePayload(payload) };
    const resourceId = payload?.resourceId;
    const traceparent = this.#traceparentFor(resource, event, payload);
    const cloudEvent = createCloudEvent<BridgeEventData>({
      source: this.source,
      type: `${BRIDGE_EVENT_TYPE_PREFIX}${resource}.${event}`,
      data,
      ...(resourceId !== undefined && resourceId !== '' && { subject: String(resourceId) }),
      ...(traceparent !== undefined && { traceparent }),
    });
    const message = toMessage(cloudEvent);
    // Remembered before it leaves: it may come back (a fanout, this process's own group) at once.
    this.#sent.add(cloudEvent.id);
    if (this.#signWith === undefined) return message;
    // Signed as the receiver will read it: after its JSON round trip.
    const signed = signatureHeaders(JSON.parse(JSON.stringify(cloudEvent)) as CloudEvent, this.#signWith);
    return { ...message, headers: { ...message.headers, ...signed } };
  }

  /** The hook's traceparent for one event; a bad one or a failing hook is logged and ignored. */
  #traceparentFor(resource: string, event: string, payload: EventPayload | undefined): string | undefined {
    const hook = this.#traceparent;
    if (hook === undefined) return undefined;
    let value: unknown;
    try {
      value = hook({ resource, event, payload });
    } catch (error) {
      this.#log(
        'warn',
        `Herald bridge ${this.source}: the traceparent hook threw for ${resource} ${event}; sent without one`,
        error,
      );
      return undefined;
    }
    if (value === undefined || isTraceparent(value)) return value;
    this.#log(
      'warn',
      `Herald bridge ${this.source}: the traceparent hook returned ${describeValue(value)} for ${resource} ${event}, not a W3C traceparent ('00-<32 hex>-<16 hex>-<2 hex>'); sent without one`,
    );
    return undefined;
  }

  /**
   * The bridge's subscriber: starts the publishes of one notification. Returns nothing (never
   * throws), or with `failNotify` a promise that rejects when the event could not be forwarded.
   */
  #forwardNotification(
    route: Route,
    payload: EventPayload | undefined,
    notification: Notification,
  ): Promise<void> | undefined {
    const { resource, event, trigger } = notification;
    if (trigger instanceof RemoteOrigin) return undefined; // received from a bridge: forwarding it would echo
    const what = `${resource} ${event}`;
    let sends: Promise<void>[];
    try {
      const message = this.#messageFor(resource, event, payload);
      sends = route.targets.map(({ target, group }) => this.#send(route, this.#copyFor(message, target, group), what));
    } catch (error) {
      // Encoding failed: a context that JSON cannot carry. No retry can fix that.
      this.#stats.forwardFailures++;
      this.#log('error', `Herald bridge ${this.source} could not forward ${what}: ${errorText(error)}`, error);
      return route.failNotify ? Promise.reject(error) : undefined;
    }
    return route.failNotify ? Promise.all(sends).then(() => undefined) : undefined;
  }

  /**
   * Publishes one entry with the route's retries; on the last failure counts, logs and hands the
   * entry to `onFailure`. The returned promise rejects then; the one kept for `flush` never does.
   */
  #send(route: Route, entry: OutboxEntry, what: string): Promise<void> {
    const sending = this.#publishWithRetry(entry, route.retry, what).then(
      () => {
        this.#stats.forwarded++;
      },
      async (error: unknown) => {
        this.#stats.forwardFailures++;
        const id = entry.message.headers?.['ce-id'];
        this.#log(
          'error',
          `Herald bridge ${this.source} could not forward ${what}${id === undefined ? '' : ` (event ${id})`} to ${describeTarget(entry.target)}: ${errorText(error)}`,
          error,
        );
        if (route.onFailure !== undefined) {
          try {
            await route.onFailure(entry, error);
          } catch (hookError) {
            this.#log('error', `Herald bridge ${this.source}: onFailure failed for ${what}`, hookError);
          }
        }
        throw error;
      },
    );
    const tracked: Promise<void> = sending
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
    // Without failNotify nobody awaits `sending`: its rejection is handled here, through `tracked`.
    return sending;
  }

  /** Publishes `entry`, trying again after each failure as `retry` says; throws the last failure. */
  async #publishWithRetry(entry: OutboxEntry, retry: ForwardRetry, what: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#transport.publish(entry.target, entry.message);
        return;
      } catch (error) {
        // A bad message stays bad: only the transport's failures are worth another try.
        if (attempt >= retry.attempts || error instanceof InvalidError) throw error;
        const delay = retryDelayMs(retry, attempt);
        this.#stats.forwardRetries++;
        this.#log(
          'warn',
          `Herald bridge ${this.source} could not forward ${what} to ${describeTarget(entry.target)} (attempt ${attempt} of ${retry.attempts}): ${errorText(error)}; trying again in ${delay} ms`,
          error,
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /**
   * The receiving handler: one delivery into `registry`. Throws a DeadLetterError for a message
   * that is not a valid bridged event from a proven sender, and a RetryRequest to requeue.
   */
  async #renotify(
    registry: UntypedRegistry,
    delivery: Delivery,
    decode: DecodeOptions,
    seen: SeenEvents | undefined,
  ): Promise<void> {
    let cloudEvent: CloudEvent;
    let parsed: ReturnType<typeof readData>;
    try {
      cloudEvent = fromDelivery(delivery);
      if (this.#isOwn(cloudEvent, delivery)) {
        this.#stats.ownSkipped++;
        this.#log('debug', `Herald bridge ${this.source} skipped its own event ${cloudEvent.id}`);
        return;
      }
      const problem = this.#senderProblem(cloudEvent, delivery);
      if (problem !== undefined) throw new DeadLetterError(problem);
      parsed = readData(cloudEvent, decode);
    } catch (error) {
      this.#stats.rejected++;
      const reason = `Herald bridge ${this.source} dead-lettered message ${delivery.id}: ${errorText(error)}`;
      this.#log('error', reason, error);
      throw error instanceof DeadLetterError ? error : new DeadLetterError(reason, { cause: error });
    }
    const { resource, event, payload } = parsed;
    const origin = new RemoteOrigin(cloudEvent.source, cloudEvent.id, cloudEvent.traceparent);
    if (seen !== undefined && (await seen.has(origin.source, origin.eventId))) {
      this.#stats.duplicates++;
      this.#log('debug', `Herald bridge ${this.source} skipped ${origin}: handled here already`);
      return;
    }
    this.#stats.received++;
    try {
      await registry.notify(resource, event, origin, payload);
    } catch (error) {
      this.#stats.renotifyFailures++;
      if (error instanceof RetryRequest) {
        this.#log(
          'warn',
          `Herald bridge ${this.source}: ${resource} ${event} from ${origin.source} (event ${origin.eventId}) asked for a retry (attempt ${delivery.attempt})`,
          error,
        );
        throw error;
      }
      const what = error instanceof CallbackFailure ? 'was vetoed' : 'failed';
      this.#log(
        'error',
        `Herald bridge ${this.source}: ${resource} ${event} from ${origin.source} (event ${origin.eventId}) ${what} here; acknowledged, not delivered again: ${errorText(error)}`,
        error,
      );
    }
    // After the round, vetoed or not (a veto is acknowledged too): from now on a redelivery is a
    // duplicate. If this fails, the transport delivers the event again: at-least-once.
    await seen?.add(origin.source, origin.eventId);
  }

  /** Whether `event` is one this process sent, or one signed with its own key for its source. */
  #isOwn(event: CloudEvent, delivery: Delivery): boolean {
    if (event.source !== this.source) return false;
    if (this.#sent.has(event.id)) return true;
    return this.#signWith !== undefined && signatureProblem(event, delivery.headers, this.#keys) === undefined;
  }

  /** Why the sender of `event` is not proven, or `undefined` when it is (or need not be). */
  #senderProblem(event: CloudEvent, delivery: Delivery): string | undefined {
    if (event.source === this.source) {
      // Not sent by this process (since it started), nor signed with its key: someone else's claim.
      return `event ${event.id} claims this bridge's own source '${this.source}', but this process did not send it${this.#signWith === undefined ? ' (sign with signWith so that events of an earlier run are recognised)' : ' and it is not signed with its key'}`;
    }
    if (this.#userOf !== undefined) {
      const expected = this.#userOf(event.source);
      const actual = delivery.brokerUser;
      if (expected === undefined) {
        return `event ${event.id} from '${event.source}' is refused: trustedUsers names no broker user for that source`;
      }
      if (actual !== expected) {
        return `event ${event.id} from '${event.source}' is refused: that source publishes as broker user '${expected}', but ${actual === undefined ? 'the delivery names no broker user (no user_id)' : `broker user '${actual}' published it`}`;
      }
    }
    if (!this.#requireSignature) return undefined;
    const problem = signatureProblem(event, delivery.headers, this.#keys);
    return problem === undefined ? undefined : `event ${event.id} from '${event.source}' is refused: ${problem}`;
  }

  /** Logs at `level` (falling back to error, or nothing for debug); a failing logger is ignored. */
  #log(level: 'error' | 'warn' | 'debug', message: string, error?: unknown): void {
    const logger = this.#logger;
    const meta = error === undefined ? [] : [error];
    try {
      if (level === 'error') logger.error(message, ...meta);
      else if (level === 'warn') (logger.warn ?? logger.error).call(logger, message, ...meta);
      else logger.debug?.(message, ...meta);
    } catch {
      // A logger that throws must not turn a logged failure into a thrown one.
    }
  }
}
