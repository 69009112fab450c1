/**
 * The API layer, after Neutron's API controller: each call sends `<resource>.<action>.start` and,
 * when it succeeds, `<resource>.<action>.end` through a {@link Notifier}, around the trigger
 * service that does the work.
 * @module
 */

import { Notifier as OsloNotifier, type Transport } from '@herald/messaging';
import { inject, injectable, type ServiceIdentifier } from 'inversify';
import { PUBLISHER_ID, TRANSPORT } from '../messaging.js';
import type { RequestContext } from '../model/context.js';
import type { Managed, Models } from '../model/models.js';
import { Narrator } from '../narrator.js';
import { NetworkService, type NetworkCreate, type NetworkUpdate } from './network.service.js';
import { PortService, type PortCreate, type PortUpdate } from './port.service.js';
import { RouterService, type RouterCreate, type RouterInterface, type RouterUpdate } from './router.service.js';
import { SubnetService, type SubnetCreate, type SubnetUpdate } from './subnet.service.js';

/**
 * Where API notifications go (Neutron's notifier: oslo.messaging notifications). The example's
 * implementation is {@link MessagingNotifier}; tests may bind another.
 */
export interface Notifier {
  info(ctx: RequestContext, eventType: string, payload: Readonly<Record<string, unknown>>): void | Promise<void>;
}

/** The service identifier of the {@link Notifier}. */
export const NOTIFIER: ServiceIdentifier<Notifier> = Symbol.for('herald.example.Notifier');

/**
 * The notifier of the example: tells each notification to the narrator (an `api` entry, where it
 * happens in the trace), then publishes it with `@herald/messaging`'s `Notifier` as
 * `publisher_id` {@link PUBLISHER_ID}, priority `info`, on `notifications.info` — where any
 * `NotificationListener` (billing, audit) can take it. Resolves once the transport holds it.
 *
 * @example
 * ```ts
 * container.bind(NOTIFIER).to(MessagingNotifier).inSingletonScope();
 * ```
 */
@injectable()
export class MessagingNotifier implements Notifier {
  readonly #notifier: OsloNotifier;

  constructor(
    @inject(TRANSPORT) transport: Transport,
    @inject(Narrator) private readonly narrator: Narrator,
  ) {
    this.#notifier = new OsloNotifier(transport, { publisherId: PUBLISHER_ID });
  }

  async info(ctx: RequestContext, eventType: string, payload: Readonly<Record<string, unknown>>): Promise<void> {
    this.narrator.tell({ kind: 'api', eventType, payload });
    await this.#notifier.info(ctx.toDict(), eventType, payload);
  }
}

/** Request bodies, by resource. */
export interface CreateBodies {
  network: NetworkCreate;
  subnet: SubnetCreate;
  port: PortCreate;
  router: RouterCreate;
}

/** Update bodies, by resource. */
export interface UpdateBodies {
  network: NetworkUpdate;
  subnet: SubnetUpdate;
  port: PortUpdate;
  router: RouterUpdate;
}

/** What the API needs of each trigger service. */
interface Crud<R extends Managed> {
  create(ctx: RequestContext, body: CreateBodies[R]): Promise<Models[R]>;
  update(ctx: RequestContext, id: string, changes: UpdateBodies[R]): Promise<Models[R]>;
  delete(ctx: RequestContext, id: string): Promise<Models[R]>;
}

/**
 * The example's API: create, update and delete any managed resource, add and remove router
 * interfaces. Notification payloads follow Neutron's shapes (`{ port: {...} }`, `{ port_id }`).
 *
 * @example
 * ```ts
 * const api = container.get(NetworkApi);
 * const net = await api.create(ctx, 'network', { name: 'private' });
 * // notifier: network.create.start { network: { name: 'private' } }, then network.create.end
 * ```
 */
@injectable()
export class NetworkApi {
  readonly #services: { readonly [R in Managed]: Crud<R> };

  constructor(
    @inject(NOTIFIER) private readonly notifier: Notifier,
    @inject(NetworkService) networks: NetworkService,
    @inject(SubnetService) subnets: SubnetService,
    @inject(PortService) ports: PortService,
    @inject(RouterService) private readonly routers: RouterService,
  ) {
    this.#services = { network: networks, subnet: subnets, port: ports, router: routers };
  }

  create<R extends Managed>(ctx: RequestContext, resource: R, body: CreateBodies[R]): Promise<Models[R]> {
    return this.#call(
      ctx,
      `${resource}.create`,
      { [resource]: body },
      (created) => ({ [resource]: created }),
      () => this.#services[resource].create(ctx, body),
    );
  }

  update<R extends Managed>(
    ctx: RequestContext,
    resource: R,
    id: string,
    changes: UpdateBodies[R],
  ): Promise<Models[R]> {
    return this.#call(
      ctx,
      `${resource}.update`,
      { id, [resource]: changes },
      (updated) => ({ [resource]: updated }),
      () => this.#services[resource].update(ctx, id, changes),
    );
  }

  delete<R extends Managed>(ctx: RequestContext, resource: R, id: string): Promise<Models[R]> {
    const ids = { [`${resource}_id`]: id };
    return this.#call(
      ctx,
      `${resource}.delete`,
      ids,
      () => ids,
      () => this.#services[resource].delete(ctx, id),
    );
  }

  addRouterInterface(ctx: RequestContext, routerId: string, subnetId: string): Promise<RouterInterface> {
    return this.#call(
      ctx,
      'router.interface.create',
      { router_id: routerId, subnet_id: subnetId },
      (itf) => ({
        router_interface: itf,
      }),
      () => this.routers.addInterface(ctx, routerId, { subnetId }),
    );
  }

  removeRouterInterface(ctx: RequestContext, routerId: string, subnetId: string): Promise<RouterInterface> {
    return this.#call(
      ctx,
      'router.interface.delete',
      { router_id: routerId, subnet_id: subnetId },
      (itf) => ({
        router_interface: itf,
      }),
      () => this.routers.removeInterface(ctx, routerId, { subnetId }),
    );
  }

  /** `<action>.start`, the work, `<action>.end` — no `.end` when the work fails. */
  async #call<T>(
    ctx: RequestContext,
    action: string,
    start: Record<string, unknown>,
    end: (result: T) => Record<string, unknown>,
    work: () => Promise<T>,
  ): Promise<T> {
    await this.notifier.info(ctx, `${action}.start`, start);
    const result = await work();
    await this.notifier.info(ctx, `${action}.end`, end(result));
    return result;
  }
}
