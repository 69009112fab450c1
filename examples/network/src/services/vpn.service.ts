/**
 * `VpnService`: VPN services run on routers, so it vetoes deleting a router that still carries
 * one — without knowing who deletes routers.
 * @module
 */

import { BEFORE_DELETE, OnResource, ROUTER, type DBEventPayload } from '@herald/core';
import { inject, injectable } from 'inversify';
import { Database } from '../model/database.js';
import { NotFound, RouterInUseByVpnService } from '../model/errors.js';
import type { Router } from '../model/models.js';
import { Narrator } from '../narrator.js';

/** A site-to-site VPN service on a router. */
export interface VpnServiceRecord {
  readonly id: string;
  readonly name: string;
  readonly routerId: string;
}

/**
 * The VPN service plugin, reduced to what concerns routers.
 *
 * @example
 * ```ts
 * const vpn = vpns.create({ name: 'to-branch', routerId: router.id });
 * await routers.delete(ctx, router.id); // CallbackFailure wrapping RouterInUseByVpnService
 * ```
 */
@injectable()
export class VpnService {
  readonly #services = new Map<string, VpnServiceRecord>();

  constructor(
    @inject(Database) private readonly db: Database,
    @inject(Narrator) private readonly narrator: Narrator,
  ) {}

  /** Start a VPN service on an existing router. */
  create(body: { name: string; routerId: string }): VpnServiceRecord {
    this.db.routers.get(body.routerId);
    const record: VpnServiceRecord = { id: this.db.newId('vpn'), name: body.name, routerId: body.routerId };
    this.#services.set(record.id, record);
    this.narrator.say('vpn', `VPN service ${record.id} (${record.name}) runs on ${record.routerId}`);
    return record;
  }

  /** Stop a VPN service. */
  delete(id: string): void {
    if (!this.#services.delete(id)) throw new NotFound('VPN service', id);
    this.narrator.say('vpn', `VPN service ${id} stopped`);
  }

  /** The VPN services on a router. */
  onRouter(routerId: string): VpnServiceRecord[] {
    return [...this.#services.values()].filter((s) => s.routerId === routerId);
  }

  /** @throws RouterInUseByVpnService while a VPN service runs on the router */
  @OnResource(ROUTER, BEFORE_DELETE)
  checkRouterInUse(payload: DBEventPayload<Router>): void {
    const [inUse] = this.onRouter(String(payload.resourceId));
    if (inUse !== undefined) throw new RouterInUseByVpnService(inUse.routerId, inUse.id);
  }
}
