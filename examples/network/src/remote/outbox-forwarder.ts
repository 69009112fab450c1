/**
 * With the rows in PostgreSQL, the server's router and port events reach other processes through
 * the outbox: a `precommit_*` subscriber writes the matching `after_*` event, as the registry
 * bridge would send it, in the transaction of the change. It is published once that transaction
 * commits (by an `OutboxRelay`), never when it rolls back, and still after a crash.
 * @module
 */

import {
  AFTER_CREATE,
  AFTER_DELETE,
  AFTER_UPDATE,
  DBEventPayload,
  PRECOMMIT_CREATE,
  PRECOMMIT_DELETE,
  PRECOMMIT_UPDATE,
  PRIORITY_DEFAULT,
  type CallbackRegistry,
  type Subscription,
} from '@herald/core';
import type { RegistryBridge } from '@herald/messaging';
import type { PostgresRows } from '../model/postgres.js';

type Phase = DBEventPayload<{ readonly id: string }>;

/** Each precommit event, the after event it will become, and that event's payload (as ResourceService sends it). */
const AFTER_OF = [
  [PRECOMMIT_CREATE, AFTER_CREATE, (p: Phase) => ({ states: [p.desiredState!], resourceId: p.resourceId })],
  [
    PRECOMMIT_UPDATE,
    AFTER_UPDATE,
    (p: Phase) => ({ states: [...p.states, p.desiredState!], resourceId: p.resourceId }),
  ],
  [
    PRECOMMIT_DELETE,
    AFTER_DELETE,
    (p: Phase) => ({ states: p.states, resourceId: p.resourceId, metadata: p.metadata }),
  ],
] as const;

/**
 * Writes the `after_*` events of `resources` to the outbox of `rows`, in the transaction of the
 * change, as `bridge` would forward them; entries of one resource id share a key, so they go out
 * in commit order.
 *
 * @example
 * ```ts
 * const subscriptions = new OutboxForwarder(bridge, rows).subscribe(registry, [ROUTER, PORT]);
 * ```
 */
export class OutboxForwarder {
  constructor(
    private readonly bridge: RegistryBridge,
    private readonly rows: PostgresRows,
  ) {}

  /** Subscribes to the precommit events of `resources`; the subscriptions run after the others. */
  subscribe(registry: CallbackRegistry, resources: readonly string[]): Subscription[] {
    return resources.flatMap((resource) =>
      AFTER_OF.map(([precommit, after, payloadOf]) => {
        const writeAfterEvent = async (payload: Phase | undefined): Promise<void> => {
          const client = this.rows.client;
          if (payload === undefined || client === undefined) {
            throw new Error(`${resource} ${precommit} outside a database transaction: its ${after} would be lost`);
          }
          const event = new DBEventPayload(payload.context, payloadOf(payload));
          const entry = this.bridge.outboxEntry(resource, after, event);
          await this.rows.outbox.add(client, { ...entry, key: `${resource}:${payload.resourceId}` });
        };
        const subscribe = registry.subscribe as (c: unknown, r: string, e: string, o: object) => Subscription;
        return subscribe.call(registry, writeAfterEvent, resource, precommit, {
          priority: PRIORITY_DEFAULT * 2,
          id: `OutboxForwarder.${after}(${resource})`,
        });
      }),
    );
  }
}
