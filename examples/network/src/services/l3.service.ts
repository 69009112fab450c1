/**
 * `L3Service`: the first seed document's L3 callbacks. It refuses the direct deletion of a port
 * that a router (or a floating IP) still uses, and tells L3 agents (`routers_updated`) when a
 * router's port comes or goes.
 * @module
 */

import {
  AFTER_CREATE,
  AFTER_DELETE,
  BEFORE_DELETE,
  OnResource,
  PORT,
  PRIORITY_DEFAULT,
  ROUTER,
  type DBEventPayload,
  type Notification,
} from '@herald/core';
import { inject, injectable } from 'inversify';
import { AGENT_RPC, Agents, L3_AGENT_TOPIC, type AgentRpc } from '../agents/agents.js';
import type { RequestContext } from '../model/context.js';
import { Database } from '../model/database.js';
import { ServicePortInUse } from '../model/errors.js';
import { DeviceOwner, ROUTER_DEVICE_OWNERS, type Port, type Router } from '../model/models.js';
import { Narrator } from '../narrator.js';

/**
 * RPC to L3 agents. Routers are not scheduled in this example: every active L3 agent hears of
 * every router (a fanout).
 *
 * @example
 * ```ts
 * await l3Agents.routersUpdated(ctx, ['router-1'], 'add_interface');
 * ```
 */
@injectable()
export class L3AgentNotifier {
  constructor(
    @inject(Agents) private readonly agents: Agents,
    @inject(AGENT_RPC) private readonly rpc: AgentRpc,
  ) {}

  /** Tell L3 agents that these routers changed; nothing when there are none. */
  async routersUpdated(ctx: RequestContext, routerIds: readonly string[], operation: string): Promise<void> {
    if (routerIds.length === 0) return;
    await this.#cast(ctx, 'routers_updated', { routers: routerIds, operation });
  }

  /** Tell L3 agents that a router is gone. */
  routerDeleted(ctx: RequestContext, routerId: string): Promise<void> {
    return this.#cast(ctx, 'router_deleted', { router_id: routerId });
  }

  async #cast(ctx: RequestContext, method: string, payload: Record<string, unknown>): Promise<void> {
    for (const agent of this.agents.list(L3_AGENT_TOPIC).filter((a) => this.agents.isActive(a))) {
      await this.rpc.cast(ctx, method, payload, agent.host, agent.topic);
    }
  }
}

/**
 * The L3 service's callbacks.
 *
 * @example
 * ```ts
 * await ports.delete(ctx, routerInterfacePort.id); // CallbackFailure wrapping ServicePortInUse
 * ```
 */
@injectable()
export class L3Service {
  constructor(
    @inject(Database) private readonly db: Database,
    @inject(L3AgentNotifier) private readonly l3Agents: L3AgentNotifier,
    @inject(Narrator) private readonly narrator: Narrator,
  ) {}

  /**
   * Refuse to delete a port that a router or a floating IP still uses: such ports go away through
   * the router's API (remove the interface, clear the gateway), which skips this check with
   * `metadata.portCheck === false`. Allowed: an unknown port, a port not owned by a router, a port
   * without addresses (stale), a port whose router or floating IP no longer exists.
   *
   * @throws ServicePortInUse otherwise
   */
  // Ahead of the services that prepare for the delete: the trace then shows them still running
  // after the veto, as every subscriber of a before_* event does, and hearing abort_delete.
  @OnResource(PORT, BEFORE_DELETE, { priority: PRIORITY_DEFAULT - 1000 })
  preventL3PortDeletion(payload: DBEventPayload<Port, RequestContext>): void {
    if (payload.metadata['portCheck'] === false) return;
    const port = this.db.ports.find(String(payload.resourceId));
    if (port === undefined || !ROUTER_DEVICE_OWNERS.includes(port.deviceOwner)) return;
    if (port.fixedIps.length === 0) {
      this.narrator.say('l3', `${port.id} has owner ${port.deviceOwner} but no IP address: it can be deleted`);
      return;
    }
    // A router interface can outlive a router whose deletion failed half way (HA routers do).
    const owner = port.deviceOwner === DeviceOwner.FLOATING_IP ? this.db.floatingIps : this.db.routers;
    if (owner.find(port.deviceId) === undefined) {
      this.narrator.say('l3', `${port.id}'s owner ${port.deviceId} no longer exists: it can be deleted`);
      return;
    }
    throw new ServicePortInUse(port.id, `has device owner ${port.deviceOwner}`);
  }

  /** A router's port came or went: its router's agents must update it (`routers_updated`). */
  @OnResource(PORT, [AFTER_CREATE, AFTER_DELETE])
  async notifyRoutersUpdated(
    payload: DBEventPayload<Port, RequestContext>,
    { event }: Notification<'port', typeof AFTER_CREATE | typeof AFTER_DELETE>,
  ): Promise<void> {
    const port = payload.latestState!;
    const routerIds = this.#routersOf(port);
    if (routerIds.length === 0) return;
    const operation = event === AFTER_CREATE ? 'add_port' : 'delete_port';
    this.narrator.say(
      'l3',
      `${operation} ${port.id} (${port.deviceOwner}): routers_updated for ${routerIds.join(', ')}`,
    );
    await this.l3Agents.routersUpdated(payload.context, routerIds, operation);
  }

  /** A router is gone: its agents must tear it down. */
  @OnResource(ROUTER, AFTER_DELETE)
  notifyRouterDeleted(payload: DBEventPayload<Router, RequestContext>): Promise<void> {
    return this.l3Agents.routerDeleted(payload.context, String(payload.resourceId));
  }

  #routersOf(port: Port): string[] {
    if (port.deviceOwner === DeviceOwner.FLOATING_IP) {
      const routerId = this.db.floatingIps.find(port.deviceId)?.routerId;
      return routerId === undefined ? [] : [routerId];
    }
    const isRouterPort = ROUTER_DEVICE_OWNERS.includes(port.deviceOwner);
    return isRouterPort && this.db.routers.find(port.deviceId) !== undefined ? [port.deviceId] : [];
  }
}
