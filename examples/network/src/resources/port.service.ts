/**
 * `PortService`: the trigger service of ports (Neutron's core plugin, for ports).
 * @module
 */

import { CallbackRegistry, PORT } from '@herald/core';
import { inject, injectable } from 'inversify';
import type { RequestContext } from '../model/context.js';
import { Database } from '../model/database.js';
import { BadRequest } from '../model/errors.js';
import { contains, nextFree, parseCidr } from '../model/ipv4.js';
import type { FixedIp, Port } from '../model/models.js';
import { ResourceService } from './resource.service.js';

/** What a port is created from. */
export interface PortCreate {
  readonly networkId: string;
  readonly name?: string;
  readonly deviceOwner?: string;
  readonly deviceId?: string;
  /** Addresses to take; without an `ipAddress` the next free one. Default: one on the network's first subnet. */
  readonly fixedIps?: readonly FixedIpRequest[];
}

/** An address a new port asks for. */
export interface FixedIpRequest {
  readonly subnetId: string;
  readonly ipAddress?: string;
}

/** What can change on a port. */
export type PortUpdate = Partial<Pick<Port, 'name' | 'deviceOwner' | 'deviceId'>>;

/** Options of a port delete. */
export interface PortDeleteOptions {
  /**
   * Whether L3 may refuse to delete a router's port (default `true`). A router removing its own
   * interface passes `false`, as Neutron's `l3_port_check=False`.
   */
  readonly portCheck?: boolean;
}

/**
 * Creates, updates and deletes ports, allocating their addresses, announcing each phase on the
 * registry.
 *
 * @example
 * ```ts
 * await ports.delete(ctx, port.id); // L3Service vetoes this for a router's interface
 * ```
 */
@injectable()
export class PortService extends ResourceService<'port'> {
  constructor(@inject(CallbackRegistry) callbacks: CallbackRegistry, @inject(Database) db: Database) {
    super(PORT, callbacks, db);
  }

  create(ctx: RequestContext, body: PortCreate): Promise<Port> {
    this.db.networks.get(body.networkId);
    const id = this.db.newId('port');
    const port: Port = {
      id,
      name: body.name ?? '',
      networkId: body.networkId,
      macAddress: `fa:16:3e:00:00:${id.split('-')[1]!.padStart(2, '0')}`,
      deviceOwner: body.deviceOwner ?? '',
      deviceId: body.deviceId ?? '',
      fixedIps: this.#allocate(body),
    };
    // The request body as a partial port: the requested addresses are not a port's `fixedIps` yet.
    const { fixedIps: _requested, ...requestBody } = body;
    return this.createResource(ctx, port, requestBody);
  }

  update(ctx: RequestContext, id: string, changes: PortUpdate): Promise<Port> {
    return this.updateResource(ctx, id, changes);
  }

  delete(ctx: RequestContext, id: string, options: PortDeleteOptions = {}): Promise<Port> {
    return this.deleteResource(ctx, id, { portCheck: options.portCheck ?? true });
  }

  /** The addresses a new port gets; `BadRequest` for a foreign subnet, a bad, taken or exhausted address. */
  #allocate(body: PortCreate): FixedIp[] {
    const requests: readonly FixedIpRequest[] =
      body.fixedIps ??
      this.db.subnets
        .list((s) => s.networkId === body.networkId)
        .slice(0, 1)
        .map((s) => ({ subnetId: s.id }));
    const fixedIps: FixedIp[] = [];
    for (const request of requests) {
      const subnet = this.db.subnets.get(request.subnetId);
      if (subnet.networkId !== body.networkId) {
        throw new BadRequest('fixed_ips.subnet_id', request.subnetId, `pass a subnet of network ${body.networkId}.`);
      }
      const cidr = parseCidr(subnet.cidr);
      const taken = new Set(
        [...this.db.ports.list(), { fixedIps }].flatMap((p) =>
          p.fixedIps.filter((ip) => ip.subnetId === subnet.id).map((ip) => ip.ipAddress),
        ),
      );
      if (request.ipAddress !== undefined) {
        if (!contains(cidr, request.ipAddress) || taken.has(request.ipAddress)) {
          throw new BadRequest(
            'fixed_ips.ip_address',
            request.ipAddress,
            `pass a free host address of ${subnet.cidr}.`,
          );
        }
        fixedIps.push({ subnetId: subnet.id, ipAddress: request.ipAddress });
        continue;
      }
      // The gateway address is kept for the router interface that will ask for it by name.
      const ipAddress = nextFree(cidr, new Set([...taken, subnet.gatewayIp]));
      if (ipAddress === undefined) {
        throw new BadRequest('fixed_ips.subnet_id', subnet.id, `subnet ${subnet.cidr} has no free address left.`);
      }
      fixedIps.push({ subnetId: subnet.id, ipAddress });
    }
    return fixedIps;
  }
}
