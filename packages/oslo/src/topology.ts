/**
 * oslo.messaging's exchanges and queues on RabbitMQ, as its rabbit driver declares them: what a
 * Herald transport must declare with exactly the same flags and arguments, since RabbitMQ refuses
 * a second declaration of a queue or an exchange that differs from the first (whoever declared
 * first, Python or Herald).
 *
 * - the control exchange (`openstack`, or the deployment's `control_exchange`, e.g. `neutron`): a
 *   `topic` exchange, durable when `amqp_durable_queues` (or quorum queues) is set;
 * - topic queues on it: `topic` (shared by a topic's servers, or a notification listener pool's
 *   name) and `topic.host`, with the same durability;
 * - fanout exchanges `<topic>_fanout` (never durable, auto-deleted) with one queue per server,
 *   `<topic>_fanout_<uuid hex>`, expiring after `rabbit_transient_queues_ttl`;
 * - reply queues `reply_<uuid hex>` on the default exchange, expiring the same way.
 * @module
 */

import { randomUUID } from 'node:crypto';
import { InvalidError } from '@herald/core';

/**
 * oslo.messaging's default `control_exchange` (Neutron sets `neutron`, Nova `nova`): `new OsloTopology().controlExchange`.
 *
 * @example
 * ```ts
 * new OsloTopology().controlExchange === DEFAULT_CONTROL_EXCHANGE; // true: 'openstack'
 * ```
 */
export const DEFAULT_CONTROL_EXCHANGE = 'openstack';

/**
 * oslo.messaging's default `rabbit_transient_queues_ttl`, in seconds.
 *
 * @example
 * ```ts
 * new OsloTopology().replyQueue().arguments['x-expires']; // DEFAULT_TRANSIENT_QUEUES_TTL_SECONDS * 1000
 * ```
 */
export const DEFAULT_TRANSIENT_QUEUES_TTL_SECONDS = 1800;

/**
 * The deployment's oslo.messaging settings that decide how queues and exchanges are declared.
 * Each must match the `[DEFAULT]` / `[oslo_messaging_rabbit]` section of the Python services'
 * configuration, or the broker refuses the second declaration of a shared queue.
 *
 * @example
 * ```ts
 * // neutron.conf: control_exchange = neutron; [oslo_messaging_rabbit] amqp_durable_queues = true
 * const settings: OsloQueueSettings = { controlExchange: 'neutron', durableQueues: true };
 * ```
 */
export interface OsloQueueSettings {
  /** `control_exchange`. Default {@link DEFAULT_CONTROL_EXCHANGE}. */
  readonly controlExchange?: string;
  /** `amqp_durable_queues`. Default `false`. */
  readonly durableQueues?: boolean;
  /** `amqp_auto_delete`. Default `false`. */
  readonly autoDelete?: boolean;
  /** `rabbit_ha_queues` (`x-ha-policy: all`). Default `false`. Not together with `quorumQueues`. */
  readonly haQueues?: boolean;
  /** `rabbit_quorum_queue` (`x-queue-type: quorum`; makes topic queues durable). Default `false`. */
  readonly quorumQueues?: boolean;
  /** `rabbit_quorum_delivery_limit` (`x-delivery-limit`); 0, the default, sets none. */
  readonly quorumDeliveryLimit?: number;
  /** `rabbit_quorum_max_memory_length` (`x-max-in-memory-length`); 0, the default, sets none. */
  readonly quorumMaxMemoryLength?: number;
  /** `rabbit_quorum_max_memory_bytes` (`x-max-in-memory-bytes`); 0, the default, sets none. */
  readonly quorumMaxMemoryBytes?: number;
  /** `rabbit_transient_queues_ttl` in seconds (`x-expires` of reply and fanout queues). Default 1800. */
  readonly transientQueuesTtlSeconds?: number;
}

/**
 * How one queue is declared: its name and `assertQueue` options.
 *
 * @example
 * ```ts
 * const { name, durable, autoDelete, arguments: args } = topology.topicQueue('dhcp_agent');
 * await channel.assertQueue(name, { durable, autoDelete, arguments: { ...args } });
 * ```
 */
export interface QueueDeclaration {
  /** The queue's name. */
  readonly name: string;
  /** Whether the queue survives a broker restart. */
  readonly durable: boolean;
  /** Whether the broker deletes the queue when its last consumer leaves. */
  readonly autoDelete: boolean;
  /** The queue's `x-` arguments (`x-expires`, `x-queue-type`, `x-ha-policy`, …), as oslo declares them. */
  readonly arguments: Readonly<Record<string, unknown>>;
}

/**
 * How one exchange is declared.
 *
 * @example
 * ```ts
 * const { name, type, durable, autoDelete } = topology.fanoutExchange('dhcp_agent');
 * await channel.assertExchange(name, type, { durable, autoDelete });
 * ```
 */
export interface ExchangeDeclaration {
  /** The exchange's name. */
  readonly name: string;
  /** The exchange's type: `topic` for the control exchange, `fanout` for a topic's fanout exchange. */
  readonly type: 'topic' | 'fanout';
  /** Whether the exchange survives a broker restart. */
  readonly durable: boolean;
  /** Whether the broker deletes the exchange when its last binding goes. */
  readonly autoDelete: boolean;
}

function requireFlag(element: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new InvalidError(element, value, 'pass true or false, as in the oslo config.');
  return value;
}

function requireCount(element: string, value: unknown, fallback: number, minimum: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) {
    throw new InvalidError(element, value, `pass a whole number, at least ${minimum}, as in the oslo config.`);
  }
  return value;
}

/**
 * The names, flags and arguments of oslo's queues and exchanges for one deployment's settings
 * (the rabbit driver's `declare_topic_consumer`, `declare_fanout_consumer`,
 * `declare_direct_consumer`, `topic_send`, `fanout_send` and `notify_send`).
 *
 * @example
 * ```ts
 * const topology = new OsloTopology({ controlExchange: 'neutron' });
 * topology.topicQueue('dhcp_agent.host-1'); // { name: 'dhcp_agent.host-1', durable: false, … }
 * ```
 */
export class OsloTopology {
  /** The control exchange, where topic and notification messages go. */
  readonly controlExchange: string;
  readonly #durable: boolean;
  readonly #autoDelete: boolean;
  readonly #haQueues: boolean;
  readonly #quorum: boolean;
  readonly #quorumArguments: Readonly<Record<string, number>>;
  readonly #ttlMs: number;

  /** @throws InvalidError for a setting of the wrong type, or both `haQueues` and `quorumQueues` (as oslo). */
  constructor(settings: OsloQueueSettings = {}) {
    const { controlExchange = DEFAULT_CONTROL_EXCHANGE } = settings;
    if (typeof controlExchange !== 'string' || controlExchange === '' || /\s/.test(controlExchange)) {
      throw new InvalidError(
        'controlExchange',
        controlExchange,
        `pass the deployment's control_exchange, e.g. 'neutron'.`,
      );
    }
    this.controlExchange = controlExchange;
    this.#haQueues = requireFlag('haQueues', settings.haQueues);
    this.#quorum = requireFlag('quorumQueues', settings.quorumQueues);
    if (this.#haQueues && this.#quorum) {
      throw new InvalidError('haQueues', true, 'a queue is quorum or mirrored (HA), not both: as oslo, set only one.');
    }
    // oslo: quorum queues are always durable, whatever amqp_durable_queues says.
    this.#durable = requireFlag('durableQueues', settings.durableQueues) || this.#quorum;
    this.#autoDelete = requireFlag('autoDelete', settings.autoDelete);
    const quorumArguments: Record<string, number> = {};
    const limits = [
      ['x-delivery-limit', 'quorumDeliveryLimit', settings.quorumDeliveryLimit],
      ['x-max-in-memory-length', 'quorumMaxMemoryLength', settings.quorumMaxMemoryLength],
      ['x-max-in-memory-bytes', 'quorumMaxMemoryBytes', settings.quorumMaxMemoryBytes],
    ] as const;
    for (const [argument, element, value] of limits) {
      const count = requireCount(element, value, 0, 0);
      if (count > 0) quorumArguments[argument] = count;
    }
    this.#quorumArguments = Object.freeze(quorumArguments);
    this.#ttlMs =
      requireCount(
        'transientQueuesTtlSeconds',
        settings.transientQueuesTtlSeconds,
        DEFAULT_TRANSIENT_QUEUES_TTL_SECONDS,
        1,
      ) * 1000;
  }

  /** Whether the control exchange and topic queues are durable (`amqp_durable_queues` or quorum). */
  get durable(): boolean {
    return this.#durable;
  }

  /**
   * The control exchange's declaration.
   *
   * @example
   * ```ts
   * topology.controlExchangeDeclaration(); // { name: 'neutron', type: 'topic', durable: false, autoDelete: false }
   * ```
   */
  controlExchangeDeclaration(): ExchangeDeclaration {
    return { name: this.controlExchange, type: 'topic', durable: this.#durable, autoDelete: this.#autoDelete };
  }

  /**
   * A queue on the control exchange: `topic` or `topic.host` (RPC servers), `notifications.info`
   * (a listener without a pool, and what a notifier declares), or a listener pool's name.
   *
   * @example
   * ```ts
   * topology.topicQueue('notifications.info');
   * ```
   */
  topicQueue(name: string): QueueDeclaration {
    return { name, durable: this.#durable, autoDelete: this.#autoDelete, arguments: this.#arguments(false) };
  }

  /**
   * The fanout exchange of `topic`: `<topic>_fanout`, never durable, auto-deleted.
   *
   * @example
   * ```ts
   * topology.fanoutExchange('dhcp_agent').name; // 'dhcp_agent_fanout'
   * ```
   */
  fanoutExchange(topic: string): ExchangeDeclaration {
    return { name: `${topic}_fanout`, type: 'fanout', durable: false, autoDelete: true };
  }

  /**
   * A new fanout queue of `topic` for one server: `<topic>_fanout_<uuid hex>`, expiring when unused.
   *
   * @example
   * ```ts
   * topology.fanoutQueue('dhcp_agent').name; // 'dhcp_agent_fanout_3f2a…'
   * ```
   */
  fanoutQueue(topic: string): QueueDeclaration {
    return { name: `${topic}_fanout_${hexId()}`, durable: false, autoDelete: false, arguments: this.#arguments(true) };
  }

  /**
   * A new reply queue, `reply_<uuid hex>`, on the default exchange, expiring when unused.
   *
   * @example
   * ```ts
   * topology.replyQueue().name; // 'reply_9b1c…'
   * ```
   */
  replyQueue(): QueueDeclaration {
    return { name: `reply_${hexId()}`, durable: false, autoDelete: false, arguments: this.#arguments(true) };
  }

  /** oslo's `_get_queue_arguments`: quorum queues are never transient ones (their TTL is 0). */
  #arguments(transient: boolean): Readonly<Record<string, unknown>> {
    const args: Record<string, unknown> = {};
    if (this.#haQueues) args['x-ha-policy'] = 'all';
    if (this.#quorum && !transient) {
      args['x-queue-type'] = 'quorum';
      Object.assign(args, this.#quorumArguments);
    }
    if (transient) args['x-expires'] = this.#ttlMs;
    return args;
  }
}

/**
 * A UUID as oslo writes its ids (`uuid.uuid4().hex`): 32 hex digits, no dashes.
 *
 * @example
 * ```ts
 * hexId(); // '9b1c2f0e4d8a4c7e8f1a2b3c4d5e6f70'
 * ```
 */
export function hexId(): string {
  return randomUUID().replaceAll('-', '');
}
