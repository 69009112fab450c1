/**
 * `NetworkService`: the trigger service of networks.
 * @module
 */

import { CallbackRegistry, NETWORK } from '@herald/core';
import { inject, injectable } from 'inversify';
import type { RequestContext } from '../model/context.js';
import { Database } from '../model/database.js';
import { BadRequest, InUse } from '../model/errors.js';
import type { Network } from '../model/models.js';
import { ResourceService } from './resource.service.js';

/** What a network is created from. */
export interface NetworkCreate {
  readonly name: string;
  readonly adminStateUp?: boolean;
}

/** What can change on a network. */
export type NetworkUpdate = Partial<Pick<Network, 'name' | 'adminStateUp'>>;

/**
 * Creates, updates and deletes networks, announcing each phase on the registry.
 *
 * @example
 * ```ts
 * const net = await container.get(NetworkService).create(ctx, { name: 'private' });
 * ```
 */
@injectable()
export class NetworkService extends ResourceService<'network'> {
  constructor(@inject(CallbackRegistry) callbacks: CallbackRegistry, @inject(Database) db: Database) {
    super(NETWORK, callbacks, db);
  }

  create(ctx: RequestContext, body: NetworkCreate): Promise<Network> {
    if (typeof body?.name !== 'string') throw new BadRequest('network name', body?.name, 'pass a string.');
    const network: Network = {
      id: this.db.newId('net'),
      name: body.name,
      projectId: ctx.projectId,
      adminStateUp: body.adminStateUp ?? true,
    };
    return this.createResource(ctx, network, body);
  }

  update(ctx: RequestContext, id: string, changes: NetworkUpdate): Promise<Network> {
    return this.updateResource(ctx, id, changes);
  }

  /** Refuses (`InUse`) while the network has subnets or ports. */
  delete(ctx: RequestContext, id: string): Promise<Network> {
    this.get(id);
    const subnets = this.db.subnets.list((s) => s.networkId === id).length;
    const ports = this.db.ports.list((p) => p.networkId === id).length;
    if (subnets + ports > 0) {
      throw new InUse('network', id, `it has ${subnets} subnet(s) and ${ports} port(s); delete them first`);
    }
    return this.deleteResource(ctx, id);
  }
}
