/**
 * `RouterService`: the trigger service of routers (Neutron's L3 plugin, for routers), and of
 * their interfaces, which are ports owned by the router.
 * @module
 */

import { CallbackRegistry, ROUTER } from '@herald/core';
import { inject, injectable } from 'inversify';
import type { RequestContext } from '../model/context.js';
import { Database } from '../model/database.js';
import { BadRequest, InUse } from '../model/errors.js';
import { DeviceOwner, ROUTER_INTERFACE_OWNERS, type Port, type Router } from '../model/models.js';
import { PortService } from './port.service.js';
import { ResourceService } from './resource.service.js';

/** What a router is created from. */
export interface RouterCreate {
  readonly name: string;
  readonly adminStateUp?: boolean;
}

/** What can change on a router. */
export type RouterUpdate = Partial<Pick<Router, 'name' | 'adminStateUp'>>;

/** A router interface: the port that plugs a router into a subnet. */
export interface RouterInterface {
  readonly routerId: string;
  readonly subnetId: string;
  readonly portId: string;
}

/**
 * Creates, updates and deletes routers, and adds and removes their interfaces (as ports, through
 * `PortService`), announcing each phase on the registry.
 *
 * @example
 * ```ts
 * const itf = await routers.addInterface(ctx, router.id, { subnetId: subnet.id });
 * await routers.removeInterface(ctx, router.id, { subnetId: subnet.id });
 * ```
 */
@injectable()
export class RouterService extends ResourceService<'router'> {
  constructor(
    @inject(CallbackRegistry) callbacks: CallbackRegistry,
    @inject(Database) db: Database,
    @inject(PortService) private readonly ports: PortService,
  ) {
    super(ROUTER, callbacks, db);
  }

  create(ctx: RequestContext, body: RouterCreate): Promise<Router> {
    if (typeof body?.name !== 'string') throw new BadRequest('router name', body?.name, 'pass a string.');
    const router: Router = {
      id: this.db.newId('router'),
      name: body.name,
      projectId: ctx.projectId,
      adminStateUp: body.adminStateUp ?? true,
    };
    return this.createResource(ctx, router, body);
  }

  update(ctx: RequestContext, id: string, changes: RouterUpdate): Promise<Router> {
    return this.updateResource(ctx, id, changes);
  }

  /** Refuses (`InUse`) while the router has interfaces, before anything is announced. */
  delete(ctx: RequestContext, id: string): Promise<Router> {
    this.get(id);
    const interfaces = this.interfacesOf(id);
    if (interfaces.length > 0) {
      throw new InUse(
        'router',
        id,
        `it still has interface(s) ${interfaces.map((p) => p.id).join(', ')}; remove them first`,
      );
    }
    return this.deleteResource(ctx, id);
  }

  /** The router's interface ports. */
  interfacesOf(routerId: string): Port[] {
    return this.db.ports.list((p) => p.deviceId === routerId && ROUTER_INTERFACE_OWNERS.includes(p.deviceOwner));
  }

  /** Plug the router into a subnet: a port with the subnet's gateway address, owned by the router. */
  async addInterface(
    ctx: RequestContext,
    routerId: string,
    { subnetId }: { subnetId: string },
  ): Promise<RouterInterface> {
    this.get(routerId);
    const subnet = this.db.subnets.get(subnetId);
    if (this.#interfaceOn(routerId, subnetId) !== undefined) {
      throw new BadRequest('subnet_id', subnetId, `router ${routerId} already has an interface on it.`);
    }
    const port = await this.ports.create(ctx, {
      networkId: subnet.networkId,
      deviceOwner: DeviceOwner.ROUTER_INTERFACE,
      deviceId: routerId,
      fixedIps: [{ subnetId, ipAddress: subnet.gatewayIp }],
    });
    return { routerId, subnetId, portId: port.id };
  }

  /**
   * Unplug the router from a subnet (or remove the interface port given by id). The router deletes
   * its own port, so it tells L3 not to refuse (`portCheck: false`).
   */
  async removeInterface(
    ctx: RequestContext,
    routerId: string,
    which: { subnetId: string } | { portId: string },
  ): Promise<RouterInterface> {
    this.get(routerId);
    const port =
      'portId' in which
        ? this.interfacesOf(routerId).find((p) => p.id === which.portId)
        : this.#interfaceOn(routerId, which.subnetId);
    if (port === undefined) {
      const [field, value] = 'portId' in which ? ['port_id', which.portId] : ['subnet_id', which.subnetId];
      throw new BadRequest(field, value, `router ${routerId} has no interface there; list its interfaces first.`);
    }
    await this.ports.delete(ctx, port.id, { portCheck: false });
    return { routerId, subnetId: port.fixedIps[0]?.subnetId ?? '', portId: port.id };
  }

  #interfaceOn(routerId: string, subnetId: string): Port | undefined {
    return this.interfacesOf(routerId).find((p) => p.fixedIps.some((ip) => ip.subnetId === subnetId));
  }
}
