/**
 * The registry bridge: carries a registry's notifications to the registries of other processes,
 * so that an `@OnResource(ROUTER, AFTER_CREATE)` handler in an agent runs for a router created in
 * the server, with the same payload class and fields.
 *
 * One side forwards: a late subscription publishes each notification as a CloudEvent on a fanout
 * topic. The other side receives: it consumes the topic and notifies its own registry, with a
 * {@link RemoteOrigin} as the trigger. A process may do both; it never hears itself, and what it
 * receives is not forwarded again.
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
import { checkTransport, isTopicName } from './transport.kit.js';
import { decodePayload, encodePayload, type DecodeOptions, type EncodedPayload } from './codec.js';
import { createCloudEvent, fromDelivery, isTraceparent, toMessage, type CloudEvent } from './envelope.js';
import type { OutboxEntry } from './outbox.js';
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
  /** Where failures go (error level) and skipped events (debug level). Default: `console.error` only. */
  readonly logger?: Logger;
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
  // No consumer group: events travel on a fanout target, so every receiving process gets each
  // one (a group would only matter for a shared queue, which the bridge does not use).
  /**
   * Rebuilds each payload's request context from its JSON copy (e.g. `RequestContext.fromDict`),
   * so that handlers typed with a context class get one. Default: the JSON copy. An event whose
   * context it cannot rebuild (it throws) is logged and dropped, like a malformed event.
   */
  readonly context?: (json: unknown) => unknown;
  /**
   * Deliveries of one event before it is dead-lettered (only a {@link RetryRequest} requeues an
   * event, see {@link RegistryBridge.receive}). Default: the transport's.
   */
  readonly deliveryLimit?: number;
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
  /** Notifications that could not be encoded or published (each one logged). */
  readonly forwardFailures: number;
  /** Remote events re-notified into a registry (including those whose subscribers failed). */
  readonly received: number;
  /** Events skipped because this bridge sent them. */
  readonly ownSkipped: number;
  /** Messages dropped because they were not a valid bridged event (each one logged). */
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
function checkNames(element: 'resources' | 'events', list: unknown, example: string): readonly string[] {
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

/**
 * Carries registry notifications between processes over a {@link Transport}, as CloudEvents on
 * one fanout topic. Make one per process, named by a `source` unique to the process; call
 * {@link RegistryBridge.forward} where events happen and {@link RegistryBridge.receive} where
 * they should be handled (or both).
 *
 * @example
 * ```ts
 * // neutron-server
 * const server = new RegistryBridge(transport, { source: 'neutron-server@host-1' });
 * server.forward(registry, { resources: [ROUTER, PORT] });
 *
 * // l3-agent: its @OnResource(ROUTER, AFTER_CREATE) handlers run for the server's routers
 * const agent = new RegistryBridge(transport, { source: 'l3-agent@host-2' });
 * await agent.receive(registry);
 * ```
 */
export class RegistryBridge {
  /** This process, as the CloudEvents `source` of what it forwards. */
  readonly source: string;
  /** The fanout topic. */
  readonly topic: string;
  readonly #transport: Transport;
  readonly #target: Target;
  readonly #logger: Logger;
  readonly #traceparent: ((event: BridgedEvent) => string | undefined) | undefined;
  readonly #stats: Mutable<BridgeStats> = {
    forwarded: 0,
    forwardFailures: 0,
    received: 0,
    ownSkipped: 0,
    rejected: 0,
    renotifyFailures: 0,
  };
  /** Publishes not settled yet; each one settles without rejecting. */
  readonly #pending = new Set<Promise<void>>();
  /** The (resource, event) pairs forwarded, per registry, so that none is forwarded twice. */
  readonly #forwarded = new WeakMap<CallbackRegistry, Set<string>>();
  readonly #forwardings = new Set<Forwarding>();
  readonly #receivings = new Set<Receiving>();

  /**
   * @throws InvalidError for a transport without `publish` and `consume`, an empty `source`, a
   *   topic that is empty or has whitespace, a logger without an `error` method, or a
   *   `traceparent` that is not a function
   */
  constructor(transport: Transport, options: RegistryBridgeOptions) {
    checkTransport(transport, ['publish', 'consume']);
    if (options === null || typeof options !== 'object') {
      throw new InvalidError(
        'options',
        options,
        "pass { source, topic?, logger?, traceparent? }, e.g. { source: 'l3-agent@host-2' }.",
      );
    }
    const { source, topic = BRIDGE_TOPIC, logger = consoleLogger, traceparent } = options;
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
    if (logger === null || typeof logger !== 'object' || typeof logger.error !== 'function') {
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
    this.source = source;
    this.topic = topic;
    this.#traceparent = traceparent;
    this.#transport = transport;
    this.#target = Object.freeze({ topic, fanout: true });
    this.#logger = logger;
  }

  /** A copy of the counters. */
  get stats(): BridgeStats {
    return { ...this.#stats };
  }

  /**
   * Publish every notification of (`resource`, `event`) in `registry`, for each of `resources` and
   * `events`, as a CloudEvent: type `herald.<resource>.<event>`, subject the payload's
   * `resourceId` (when it has one), data {@link BridgeEventData}.
   *
   * Forwarding never changes the local notification: the bridge's subscriber returns nothing at
   * once (it works under `notifySync` as well), and the payload is encoded at that moment, so a
   * later change to the states is not sent. The publish runs in the background; a failure (to
   * encode, or to publish) is logged and counted in `stats.forwardFailures`, never thrown at the
   * trigger. {@link RegistryBridge.flush} waits for the publishes.
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
   *   names, a priority that is not finite, or a (resource, event) this bridge already forwards
   *   from `registry` (nothing is subscribed then)
   * @example
   * ```ts
   * const forwarding = bridge.forward(registry, { resources: [ROUTER, PORT] });
   * await registry.notify(ROUTER, AFTER_CREATE, this, new DBEventPayload(ctx, { states: [router], resourceId: router.id }));
   * await bridge.flush(); // published
   * forwarding.close();
   * ```
   */
  forward(registry: CallbackRegistry, options: ForwardOptions): Forwarding {
    checkRegistry(registry);
    if (options === null || typeof options !== 'object') {
      throw new InvalidError(
        'options',
        options,
        'pass { resources, events?, priority? }, e.g. { resources: [ROUTER] }.',
      );
    }
    const resources = checkNames('resources', options.resources, "['router', 'port']");
    const events = checkNames('events', options.events ?? DEFAULT_FORWARDED_EVENTS, "['after_create', 'after_delete']");
    const { priority = PRIORITY_BRIDGE } = options;
    if (typeof priority !== 'number' || !Number.isFinite(priority)) {
      throw new InvalidError(
        'options.priority',
        priority,
        `pass a finite number (lower runs first), or leave it out for ${PRIORITY_BRIDGE}.`,
      );
    }
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
    const forwardToBridge = (payload: EventPayload | undefined, notification: Notification): void => {
      this.#forwardNotification(payload, notification);
    };
    const untyped = registry as unknown as UntypedRegistry;
    const subscriptions: Subscription[] = [];
    for (const resource of resources) {
      for (const event of events) {
        subscriptions.push(untyped.subscribe(forwardToBridge, resource, event, { priority, owner: this }));
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
   * Resolves once every publish started so far has settled (published, or failed and logged);
   * never rejects. Check `stats.forwardFailures` to know whether all went out.
   *
   * @example
   * ```ts
   * await registry.notify(ROUTER, AFTER_DELETE, this, payload);
   * await bridge.flush();
   * ```
   */
  async flush(): Promise<void> {
    await Promise.all([...this.#pending]);
  }

  /**
   * Consume the bridge's topic and notify `registry` of each event another process forwarded:
   * `registry.notify(resource, event, new RemoteOrigin(source, id), payload)`, the payload decoded
   * to its class (see `decodePayload`). Events are re-notified one at a time, in the order the
   * transport delivers them. Events of this bridge's own `source` are skipped.
   *
   * What a failure does to the message:
   * - a message that is not a valid bridged event is logged and acknowledged (`stats.rejected`):
   *   delivering it again cannot make it valid;
   * - a `CallbackFailure` (a subscriber here vetoed) is logged and acknowledged: the sender's
   *   round is over (an `after_*` event reports something already done, which no veto can undo)
   *   and no veto here can reach its trigger, so a redelivery would only run the other
   *   subscribers again, and fail again;
   * - a `RetryRequest` (the registry's `isRetriable` said a subscriber's error is transient) is
   *   thrown to the transport, which delivers the event again, up to its delivery limit, then
   *   dead-letters it.
   *
   * @throws InvalidError for a registry that is not a `CallbackRegistry`, or bad options; the
   *   transport's errors when it cannot consume
   * @example
   * ```ts
   * const receiving = await new RegistryBridge(transport, { source: 'l3-agent@host-2' }).receive(registry);
   * // … on shutdown
   * await receiving.close();
   * ```
   */
  async receive(registry: CallbackRegistry, options: ReceiveOptions = {}): Promise<Receiving> {
    checkRegistry(registry);
    if (options === null || typeof options !== 'object') {
      throw new InvalidError('options', options, 'pass { deliveryLimit?, context? } or nothing.');
    }
    const { deliveryLimit, context } = options;
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
    const untyped = registry as unknown as UntypedRegistry;
    const consumer: Consumer = await this.#transport.consume(
      this.#target,
      (delivery) => this.#renotify(untyped, delivery, decode),
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
   * Stop every forwarding and receiving of this bridge, then wait for the publishes in progress
   * (see {@link RegistryBridge.flush}). The transport stays open: it may be shared.
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
   * The bridged event for (resource, event, payload) as an outbox entry, to write in the same
   * transaction as the change: an {@link OutboxRelay} publishes it later, and receiving bridges
   * re-notify it as if this bridge had forwarded it. A `precommit_*` subscriber, which runs inside
   * the transaction, is the place to write the `after_*` event that will report the change.
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
    return Object.freeze({ target: this.#target, message: this.#messageFor(resource, event, payload) });
  }

  /** The CloudEvent message that carries one notification. */
  #messageFor(
    resource: string,
    event: string,
    payload: EventPayload | undefined,
  ): OutgoingMessage & { readonly id: string } {
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
    return toMessage(cloudEvent);
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

  /** The bridge's subscriber: starts the publish of one notification. Never throws. */
  #forwardNotification(payload: EventPayload | undefined, notification: Notification): void {
    const { resource, event, trigger } = notification;
    if (trigger instanceof RemoteOrigin) return; // received from a bridge: forwarding it would echo
    let publishing: Promise<void>;
    let id: string | undefined;
    try {
      const message = this.#messageFor(resource, event, payload);
      id = message.headers?.['ce-id'];
      publishing = this.#transport.publish(this.#target, message);
    } catch (error) {
      // Encoding failed (a context that JSON cannot carry), or publish threw instead of rejecting.
      publishing = Promise.reject(error);
    }
    const tracked: Promise<void> = Promise.resolve(publishing)
      .then(
        () => {
          this.#stats.forwarded++;
        },
        (error: unknown) => {
          this.#stats.forwardFailures++;
          this.#log(
            'error',
            `Herald bridge ${this.source} could not forward ${resource} ${event}${id === undefined ? '' : ` (event ${id})`}: ${errorText(error)}`,
            error,
          );
        },
      )
      .finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }

  /** The receiving handler: one delivery into `registry`. Throws only a RetryRequest (to requeue). */
  async #renotify(registry: UntypedRegistry, delivery: Delivery, decode: DecodeOptions): Promise<void> {
    let cloudEvent: CloudEvent;
    let parsed: ReturnType<typeof readData>;
    try {
      cloudEvent = fromDelivery(delivery);
      if (cloudEvent.source === this.source) {
        this.#stats.ownSkipped++;
        this.#log('debug', `Herald bridge ${this.source} skipped its own event ${cloudEvent.id}`);
        return;
      }
      parsed = readData(cloudEvent, decode);
    } catch (error) {
      this.#stats.rejected++;
      this.#log('error', `Herald bridge ${this.source} dropped message ${delivery.id}: ${errorText(error)}`, error);
      return;
    }
    const { resource, event, payload } = parsed;
    const origin = new RemoteOrigin(cloudEvent.source, cloudEvent.id, cloudEvent.traceparent);
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
