/**
 * `FirewallService`: a default firewall group guards every router and every router interface
 * port. It shows why `abort_*` exists: on `before_delete` of a port it stops guarding it, and when
 * the delete is vetoed it hears `abort_delete` and guards it again.
 * @module
 */

import {
  ABORT_DELETE,
  AFTER_CREATE,
  AFTER_DELETE,
  BEFORE_DELETE,
  OnResource,
  PORT,
  ROUTER,
  type DBEventPayload,
} from '@herald/core';
import { inject, injectable } from 'inversify';
import { ROUTER_INTERFACE_OWNERS, type Port, type Router } from '../model/models.js';
import { Narrator } from '../narrator.js';

/** Where a port stands with the firewall. */
export type Protection = 'guarded' | 'releasing';

/**
 * The firewall-as-a-service plugin, reduced to its default group.
 *
 * @example
 * ```ts
 * firewall.protectionOf(port.id); // 'guarded' for a router interface
 * ```
 */
@injectable()
export class FirewallService {
  readonly #routers = new Set<string>();
  readonly #ports = new Map<string, Protection>();

  constructor(@inject(Narrator) private readonly narrator: Narrator) {}

  /** Whether the default group guards the router. */
  guardsRouter(routerId: string): boolean {
    return this.#routers.has(routerId);
  }

  /** How the default group treats the port, or `undefined` when it does not know it. */
  protectionOf(portId: string): Protection | undefined {
    return this.#ports.get(portId);
  }

  @OnResource(ROUTER, AFTER_CREATE)
  guardRouter(payload: DBEventPayload<Router>): void {
    this.#routers.add(String(payload.resourceId));
    this.narrator.say('firewall', `default group now guards ${payload.resourceId}`);
  }

  @OnResource(ROUTER, AFTER_DELETE)
  forgetRouter(payload: DBEventPayload<Router>): void {
    this.#routers.delete(String(payload.resourceId));
    this.narrator.say('firewall', `${payload.resourceId} is gone: default group unbound from it`);
  }

  @OnResource(PORT, AFTER_CREATE)
  guardPort(payload: DBEventPayload<Port>): void {
    const port = payload.latestState!;
    if (!ROUTER_INTERFACE_OWNERS.includes(port.deviceOwner)) return;
    this.#ports.set(port.id, 'guarded');
    this.narrator.say('firewall', `default group now filters ${port.id} on ${port.deviceId}`);
  }

  /** The port may go: stop pushing its rules, but remember it in case the delete is vetoed. */
  @OnResource(PORT, BEFORE_DELETE)
  releasePort(payload: DBEventPayload<Port>): void {
    const id = String(payload.resourceId);
    if (this.#ports.get(id) !== 'guarded') return;
    this.#ports.set(id, 'releasing');
    this.narrator.say('firewall', `${id} may be deleted: its rules are put on hold`);
  }

  @OnResource(PORT, ABORT_DELETE)
  restorePort(payload: DBEventPayload<Port>): void {
    const id = String(payload.resourceId);
    if (this.#ports.get(id) !== 'releasing') return;
    this.#ports.set(id, 'guarded');
    this.narrator.say('firewall', `${id} stays (its delete was vetoed): its rules are back`);
  }

  @OnResource(PORT, AFTER_DELETE)
  forgetPort(payload: DBEventPayload<Port>): void {
    if (this.#ports.delete(String(payload.resourceId))) {
      this.narrator.say('firewall', `${payload.resourceId} is gone: removed from the default group`);
    }
  }
}
