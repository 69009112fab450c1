/**
 * An audit service in another process: a `NotificationListener` in its own pool (`audit`) that
 * takes every API notification the network server publishes (`port.create.start`,
 * `router.delete.end`…) and keeps a record of each, as a billing or audit consumer of Neutron's
 * notifications would.
 * @module
 */

import {
  NotificationFilter,
  NotificationListener,
  type NotificationContext,
  type NotificationEndpoint,
  type NotificationMetadata,
  type Transport,
} from '@herald/messaging';
import type { Narrator } from '../narrator.js';

/** The listener pool of the audit service: it gets its own copy of every notification. */
export const AUDIT_POOL = 'audit';

/** One notification the audit service recorded. */
export interface AuditRecord {
  readonly eventType: string;
  readonly publisherId: string;
  readonly payload: unknown;
  /** The `request_id` of the notification's context. */
  readonly requestId: string;
  readonly messageId: string;
}

/** The listener's endpoint: `info` notifications of the network service only. */
class AuditEndpoint implements NotificationEndpoint {
  readonly filterRule = new NotificationFilter({ publisherId: 'network\\..+' });
  readonly records: AuditRecord[] = [];

  constructor(private readonly narrator: Narrator) {}

  info(
    context: NotificationContext,
    publisherId: string,
    eventType: string,
    payload: unknown,
    metadata: NotificationMetadata,
  ): void {
    const requestId = typeof context['request_id'] === 'string' ? context['request_id'] : '';
    // At-least-once: a redelivered message is recorded once.
    if (this.records.some((r) => r.messageId === metadata.message_id)) return;
    this.records.push({ eventType, publisherId, payload, requestId, messageId: metadata.message_id });
    this.narrator.message('notification', AUDIT_POOL, eventType, `from ${publisherId} (${requestId}): recorded`);
  }
}

/**
 * The audit service: start it, read what it recorded, stop it.
 *
 * @example
 * ```ts
 * const audit = await AuditService.start(transport, narrator);
 * await api.create(ctx, 'port', { networkId });
 * await transport.idle();
 * audit.records.map((r) => r.eventType); // ['port.create.start', 'port.create.end']
 * ```
 */
export class AuditService {
  readonly #endpoint: AuditEndpoint;
  readonly #listener: NotificationListener;

  private constructor(endpoint: AuditEndpoint, listener: NotificationListener) {
    this.#endpoint = endpoint;
    this.#listener = listener;
  }

  /** Start listening on `notifications.info`; resolves once the listener consumes. */
  static async start(transport: Transport, narrator: Narrator): Promise<AuditService> {
    const endpoint = new AuditEndpoint(narrator);
    const listener = new NotificationListener(transport, {
      endpoints: [endpoint],
      pool: AUDIT_POOL,
      logger: narrator.logger,
    });
    await listener.start();
    return new AuditService(endpoint, listener);
  }

  /** The notifications recorded, oldest first. */
  get records(): readonly AuditRecord[] {
    return this.#endpoint.records;
  }

  /** Stop listening; resolves once the notification being recorded (if any) is done. */
  stop(): Promise<void> {
    return this.#listener.stop();
  }
}
