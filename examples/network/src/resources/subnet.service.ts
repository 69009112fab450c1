/**
 * `SubnetService`: the trigger service of subnets.
 * @module
 */

import { CallbackRegistry, SUBNET } from '@herald/core';
import { inject, injectable } from 'inversify';
import type { RequestContext } from '../model/context.js';
import { Database } from '../model/database.js';
import { BadRequest, InUse } from '../model/errors.js';
import { contains, formatAddress, parseCidr } from '../model/ipv4.js';
import type { Subnet } from '../model/models.js';
import { ResourceService } from './resource.service.js';

/** What a subnet is created from. */
export interface SubnetCreate {
  readonly networkId: string;
  readonly cidr: string;
  readonly name?: string;
  /** Default: the first address of the CIDR. */
  readonly gatewayIp?: string;
  readonly enableDhcp?: boolean;
}

/** What can change on a subnet. */
export type SubnetUpdate = Partial<Pick<Subnet, 'name' | 'enableDhcp'>>;

/**
 * Creates, updates and deletes subnets, announcing each phase on the registry.
 *
 * @example
 * ```ts
 * await container.get(SubnetService).create(ctx, { networkId: net.id, cidr: '10.0.0.0/24' });
 * ```
 */
@injectable()
export class SubnetService extends ResourceService<'subnet'> {
  constructor(@inject(CallbackRegistry) callbacks: CallbackRegistry, @inject(Database) db: Database) {
    super(SUBNET, callbacks, db);
  }

  create(ctx: RequestContext, body: SubnetCreate): Promise<Subnet> {
    this.db.networks.get(body.networkId);
    const cidr = parseCidr(body.cidr);
    const gatewayIp = body.gatewayIp ?? formatAddress(cidr.first);
    if (!contains(cidr, gatewayIp)) {
      throw new BadRequest('gateway_ip', gatewayIp, `pass a host address of ${body.cidr}, or leave it out.`);
    }
    const subnet: Subnet = {
      id: this.db.newId('subnet'),
      name: body.name ?? '',
      networkId: body.networkId,
      cidr: body.cidr,
      gatewayIp,
      enableDhcp: body.enableDhcp ?? true,
    };
    return this.createResource(ctx, subnet, body);
  }

  update(ctx: RequestContext, id: string, changes: SubnetUpdate): Promise<Subnet> {
    return this.updateResource(ctx, id, changes);
  }

  /** Refuses (`InUse`) while a port has an address on the subnet. */
  delete(ctx: RequestContext, id: string): Promise<Subnet> {
    this.get(id);
    const users = this.db.ports.list((p) => p.fixedIps.some((ip) => ip.subnetId === id));
    if (users.length > 0) {
      throw new InUse('subnet', id, `port(s) ${users.map((p) => p.id).join(', ')} have addresses on it`);
    }
    return this.deleteResource(ctx, id);
  }
}
