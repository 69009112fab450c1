/**
 * The one create / update / delete mechanism the four trigger services share: `before_*`, then
 * `precommit_*` inside a transaction that rolls back when a precommit subscriber fails, then
 * `after_*`, with the payload states Herald's concepts prescribe for each phase.
 * @module
 */

import {
  AFTER_CREATE,
  AFTER_DELETE,
  AFTER_UPDATE,
  BEFORE_CREATE,
  BEFORE_DELETE,
  BEFORE_UPDATE,
  DBEventPayload,
  PRECOMMIT_CREATE,
  PRECOMMIT_DELETE,
  PRECOMMIT_UPDATE,
  type CallbackRegistry,
  type StandardEvent,
} from '@herald/core';
import type { RequestContext } from '../model/context.js';
import type { Database, Table } from '../model/database.js';
import type { Managed, Models } from '../model/models.js';

/** The payload every phase of a managed resource carries. */
export type ResourcePayload<R extends Managed> = DBEventPayload<Models[R], RequestContext>;

/** What a delete may tell its subscribers (kept in the payloads' `metadata`). */
export type DeleteMetadata = Record<string, unknown>;

/**
 * Base class of `NetworkService`, `SubnetService`, `PortService` and `RouterService`: each builds
 * its model from a request and checks what is its own to check; this class announces and stores.
 *
 * @example
 * ```ts
 * class RouterService extends ResourceService<'router'> {
 *   create(ctx: RequestContext, body: { name: string }) {
 *     return this.createResource(ctx, { id: this.db.newId('router'), ...body }, body);
 *   }
 * }
 * ```
 */
export abstract class ResourceService<R extends Managed> {
  protected readonly table: Table<Models[R]>;

  constructor(
    protected readonly resource: R,
    protected readonly callbacks: CallbackRegistry,
    protected readonly db: Database,
  ) {
    this.table = db.tableOf(resource);
  }

  /** The resource with `id`; `NotFound` when there is none. */
  get(id: string): Models[R] {
    return this.table.get(id);
  }

  /**
   * Announce and store a new resource: `before_create` (desired state, request body),
   * `precommit_create` in the transaction, `after_create` (the created state).
   */
  protected async createResource(
    ctx: RequestContext,
    desired: Models[R],
    requestBody: Partial<Models[R]>,
  ): Promise<Models[R]> {
    await this.#notify(BEFORE_CREATE, new DBEventPayload(ctx, { desiredState: desired, requestBody }));
    await this.db.transaction(async () => {
      this.table.put(desired);
      await this.#notify(
        PRECOMMIT_CREATE,
        new DBEventPayload(ctx, { desiredState: desired, resourceId: desired.id, requestBody }),
      );
    });
    await this.#notify(AFTER_CREATE, new DBEventPayload(ctx, { states: [desired], resourceId: desired.id }));
    return desired;
  }

  /**
   * Announce and store a change: `before_update` and `precommit_update` (original state, desired
   * state, the changes as request body), `after_update` (original and updated states).
   */
  protected async updateResource(ctx: RequestContext, id: string, changes: Partial<Models[R]>): Promise<Models[R]> {
    const original = this.table.get(id);
    const updated: Models[R] = { ...original, ...changes, id };
    const phase = { states: [original], desiredState: updated, resourceId: id, requestBody: changes };
    await this.#notify(BEFORE_UPDATE, new DBEventPayload(ctx, phase));
    await this.db.transaction(async () => {
      this.table.put(updated);
      await this.#notify(PRECOMMIT_UPDATE, new DBEventPayload(ctx, phase));
    });
    await this.#notify(AFTER_UPDATE, new DBEventPayload(ctx, { states: [original, updated], resourceId: id }));
    return updated;
  }

  /**
   * Announce and remove a resource; every phase carries its last state. `metadata` reaches the
   * subscribers (e.g. `{ portCheck: false }` when a router removes its own interface).
   */
  protected async deleteResource(ctx: RequestContext, id: string, metadata: DeleteMetadata = {}): Promise<Models[R]> {
    const current = this.table.get(id);
    const phase = () => new DBEventPayload(ctx, { states: [current], resourceId: id, metadata });
    await this.#notify(BEFORE_DELETE, phase());
    await this.db.transaction(async () => {
      await this.#notify(PRECOMMIT_DELETE, phase());
      this.table.remove(id);
    });
    await this.#notify(AFTER_DELETE, phase());
    return current;
  }

  #notify(event: StandardEvent, payload: ResourcePayload<R>): Promise<void> {
    // `R` is generic here, so the compiler cannot look up (R, event)'s declared payload; models.ts
    // declares it as DBEventPayload<Models[R]>, which is what every caller above passes.
    const notify = this.callbacks.notify as (r: string, e: string, t: unknown, p: ResourcePayload<R>) => Promise<void>;
    return notify.call(this.callbacks, this.resource, event, this, payload);
  }
}
