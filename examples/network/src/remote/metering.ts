/**
 * A metering agent in another process (Neutron runs it next to the L3 agent): a container of its
 * own with its own `CallbackRegistry`, an `@OnResource` service like those of the server, and a
 * `RegistryBridge` that receives the `after_*` events of routers and ports the server forwards.
 * The handlers are written as they would be in the server: the bridge re-notifies each event here
 * with the same payload class (`DBEventPayload`) and a `RemoteOrigin` as its trigger.
 * @module
 */

import 'reflect-metadata';
import {
  AFTER_CREATE,
  AFTER_DELETE,
  CallbackRegistry,
  OnResource,
  PORT,
  ROUTER,
  type DBEventPayload,
  type Notification,
} from '@herald/core';
import { bootCallbacks, callbacksModule } from '@herald/inversify';
import { RegistryBridge, RemoteOrigin, type Transport } from '@herald/messaging';
import { Container, ContainerModule, inject, injectable } from 'inversify';
import { ROUTER_INTERFACE_OWNERS, type Port, type Router } from '../model/models.js';
import { RequestContext } from '../model/context.js';
import { Narrator } from '../narrator.js';

/** The host the metering agent runs on (with the L3 agent). */
export const METERING_HOST = 'host-a';

/** The metering agent's name on the registry bridge. */
export const METERING_SOURCE = `metering-agent@${METERING_HOST}`;

/** Who sent an event: the remote process, or (for a local notification) the trigger's class. */
function senderOf(trigger: unknown): string {
  if (trigger instanceof RemoteOrigin) return trigger.source;
  return typeof trigger === 'object' && trigger !== null ? trigger.constructor.name : String(trigger);
}

/**
 * Meters routers: starts a traffic counter for each router created, adds a rule for each of its
 * interfaces, stops when the router goes. It neither knows nor cares that the events come from
 * another process: even the payload's `context` is a `RequestContext` again, rebuilt from its JSON
 * copy by the bridge (`receive(registry, { context: RequestContext.fromCopy })`).
 *
 * @example
 * ```ts
 * const metering = await MeteringProcess.start(transport, narrator);
 * metering.agent.meteredRouters(); // ['router-1'] once router-1's after_create arrived
 * ```
 */
@injectable()
export class MeteringAgent {
  /** The metered routers and the interface ports counted on each. */
  readonly #routers = new Map<string, Set<string>>();

  constructor(@inject(Narrator) private readonly narrator: Narrator) {}

  /** The routers metered now. */
  meteredRouters(): string[] {
    return [...this.#routers.keys()];
  }

  /** The interface ports counted on a router. */
  interfacesOf(routerId: string): string[] {
    return [...(this.#routers.get(routerId) ?? [])];
  }

  @OnResource(ROUTER, AFTER_CREATE)
  meterRouter(payload: DBEventPayload<Router>, notification: Notification<'router', typeof AFTER_CREATE>): void {
    const router = payload.latestState!;
    this.#routers.set(router.id, new Set());
    this.#tell(payload, notification, `counts the traffic of ${router.id} ("${router.name}")`);
  }

  @OnResource(ROUTER, AFTER_DELETE)
  stopMetering(payload: DBEventPayload<Router>, notification: Notification<'router', typeof AFTER_DELETE>): void {
    const id = String(payload.resourceId);
    this.#routers.delete(id);
    this.#tell(payload, notification, `stops counting ${id}`);
  }

  @OnResource(PORT, [AFTER_CREATE, AFTER_DELETE])
  meterInterface(
    payload: DBEventPayload<Port>,
    notification: Notification<'port', typeof AFTER_CREATE | typeof AFTER_DELETE>,
  ): void {
    const port = payload.latestState!;
    const counted = this.#routers.get(port.deviceId);
    if (counted === undefined || !ROUTER_INTERFACE_OWNERS.includes(port.deviceOwner)) return;
    if (notification.event === AFTER_CREATE) counted.add(port.id);
    else counted.delete(port.id);
    const address = port.fixedIps.map((ip) => ip.ipAddress).join(', ');
    const what = notification.event === AFTER_CREATE ? 'counts' : 'no longer counts';
    this.#tell(payload, notification, `${what} ${port.id} (${address}) on ${port.deviceId}`);
  }

  #tell(payload: DBEventPayload<unknown>, { resource, event, trigger }: Notification, action: string): void {
    const from = `${payload.constructor.name} from ${senderOf(trigger)}`;
    this.narrator.message(
      'bridge',
      METERING_SOURCE,
      `${resource} ${event}`,
      `${payload.resourceId} (${from}): ${action}`,
    );
  }
}

/**
 * The metering agent's process: its container, registry and bridge.
 *
 * @example
 * ```ts
 * const metering = await MeteringProcess.start(transport, narrator);
 * // … the server forwards router and port events …
 * await metering.close();
 * ```
 */
export class MeteringProcess {
  private constructor(
    readonly container: Container,
    /** The process's own registry: the bridge re-notifies the server's events into it. */
    readonly registry: CallbackRegistry,
    readonly agent: MeteringAgent,
    readonly bridge: RegistryBridge,
    readonly close: () => Promise<void>,
  ) {}

  /** Boot the process's container and start receiving the bridge's events. */
  static async start(transport: Transport, narrator: Narrator): Promise<MeteringProcess> {
    const container = new Container();
    container.load(
      callbacksModule({ name: 'metering', logger: narrator.logger }),
      new ContainerModule(({ bind }) => {
        bind(Narrator).toConstantValue(narrator);
        bind(MeteringAgent).toSelf().inSingletonScope();
      }),
    );
    const boot = await bootCallbacks(container);
    const registry = container.get(CallbackRegistry);
    const bridge = new RegistryBridge(transport, { source: METERING_SOURCE, logger: narrator.logger });
    await bridge.receive(registry, { context: RequestContext.fromCopy });
    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        await bridge.close();
        boot.dispose();
        await container.unbindAllAsync();
      })());
    return new MeteringProcess(container, registry, container.get(MeteringAgent), bridge, close);
  }
}
