/**
 * The example as an Inversify application: its container modules, and `createNetworkApp()`, which
 * loads them with Herald's `callbacksModule()`, boots the callbacks, starts the processes the
 * server talks to over the transport (agents, an audit listener, a metering agent behind the
 * registry bridge) and starts narrating.
 * @module
 */

import 'reflect-metadata';
import {
  AFTER_CREATE,
  AFTER_DELETE,
  AFTER_UPDATE,
  CallbackRegistry,
  PORT,
  ROUTER,
  type Subscription,
} from '@herald/core';
import { bootCallbacks, callbacksModule, type CallbacksBoot } from '@herald/inversify';
import { InMemoryTransport, OutboxRelay, RegistryBridge, type IdleTransport, type Transport } from '@herald/messaging';
import { Container, ContainerModule } from 'inversify';
import { AGENT_RPC, AGENT_SETUP, Agents, defaultAgents, MessagingAgentRpc, type Agent } from './agents/agents.js';
import { AgentHosts } from './agents/hosts.js';
import { SERVER_SOURCE, TRANSPORT } from './messaging.js';
import { Database } from './model/database.js';
import type { PostgresRows } from './model/postgres.js';
import { Narrator, type TimedEntry } from './narrator.js';
import { AuditService } from './remote/audit.js';
import { MeteringProcess } from './remote/metering.js';
import { OutboxForwarder } from './remote/outbox-forwarder.js';
import { MessagingNotifier, NetworkApi, NOTIFIER } from './resources/api.js';
import { NetworkService } from './resources/network.service.js';
import { PortService } from './resources/port.service.js';
import { RouterService } from './resources/router.service.js';
import { SubnetService } from './resources/subnet.service.js';
import { DhcpAgentNotifier } from './services/dhcp-agent.notifier.js';
import { DhcpAgentScheduler } from './services/dhcp-agent.scheduler.js';
import { FirewallService } from './services/firewall.service.js';
import { L3AgentNotifier, L3Service } from './services/l3.service.js';
import { LoadBalancerService } from './services/load-balancer.service.js';
import { VpnService } from './services/vpn.service.js';

/** Options of {@link networkModules}. */
export interface NetworkModulesOptions {
  /** Where services tell what they do. Default: a narrator that keeps entries and prints nothing. */
  narrator?: Narrator;
  /** The agents the server knows. Default: {@link defaultAgents}. */
  agents?: readonly Agent[];
  /**
   * What the notifier and the agent RPC send on. Default: an `InMemoryTransport` of its own, where
   * nobody listens (start `AgentHosts` or a listener on it to receive).
   */
  transport?: Transport;
}

/**
 * The data store, the four trigger services, the API and its notifier, the agents and the RPC to
 * them, the transport, and the narrator. Nothing here subscribes to anything.
 */
export function coreModule(options: NetworkModulesOptions = {}): ContainerModule {
  const narrator = options.narrator ?? new Narrator();
  const agents = options.agents ?? defaultAgents();
  const transport = options.transport ?? new InMemoryTransport();
  return new ContainerModule(({ bind }) => {
    bind(Narrator).toConstantValue(narrator);
    bind(Database).toSelf().inSingletonScope();
    bind(NetworkService).toSelf().inSingletonScope();
    bind(SubnetService).toSelf().inSingletonScope();
    bind(PortService).toSelf().inSingletonScope();
    bind(RouterService).toSelf().inSingletonScope();
    bind(NetworkApi).toSelf().inSingletonScope();
    bind(TRANSPORT).toConstantValue(transport);
    bind(NOTIFIER).to(MessagingNotifier).inSingletonScope();
    bind(AGENT_SETUP).toConstantValue(agents);
    bind(Agents).toSelf().inSingletonScope();
    bind(AGENT_RPC).to(MessagingAgentRpc).inSingletonScope();
  });
}

/** L3: guards router ports, tells L3 agents about routers. */
export const l3Module = (): ContainerModule =>
  new ContainerModule(({ bind }) => {
    bind(L3AgentNotifier).toSelf().inSingletonScope();
    bind(L3Service).toSelf().inSingletonScope();
  });

/** DHCP: schedules networks on DHCP agents and tells them about changes. */
export const dhcpModule = (): ContainerModule =>
  new ContainerModule(({ bind }) => {
    bind(DhcpAgentScheduler).toSelf().inSingletonScope();
    bind(DhcpAgentNotifier).toSelf().inSingletonScope();
  });

/** VPN, firewall and load balancer: the advanced services that react to routers. */
export const advancedServicesModule = (): ContainerModule =>
  new ContainerModule(({ bind }) => {
    bind(VpnService).toSelf().inSingletonScope();
    bind(FirewallService).toSelf().inSingletonScope();
    bind(LoadBalancerService).toSelf().inSingletonScope();
  });

/**
 * Every module of the example. Each service module can be left out: the others neither know nor
 * miss it.
 *
 * @example
 * ```ts
 * const container = await createTestContainer(...networkModules());
 * ```
 */
export function networkModules(options: NetworkModulesOptions = {}): ContainerModule[] {
  return [coreModule(options), l3Module(), dhcpModule(), advancedServicesModule()];
}

/** The events the server forwards over the registry bridge, for routers and ports. */
export const BRIDGED_EVENTS = [AFTER_CREATE, AFTER_UPDATE, AFTER_DELETE] as const;

/** The processes around the server, each on the transport. */
export interface Peers {
  /** The DHCP and L3 agents, as RPC servers on their hosts. */
  readonly agents: AgentHosts;
  /** A notification listener that records the API's notifications. */
  readonly audit: AuditService;
  /** A process with its own registry, which the registry bridge feeds. */
  readonly metering: MeteringProcess;
}

/** A booted example application. */
export interface NetworkApp extends AsyncDisposable {
  readonly container: Container;
  readonly registry: CallbackRegistry;
  readonly narrator: Narrator;
  readonly api: NetworkApi;
  readonly db: Database;
  readonly boot: CallbacksBoot;
  /** What the server and its peers talk over. `await transport.idle()` waits for every delivery. */
  readonly transport: IdleTransport;
  /** The server's side of the registry bridge. */
  readonly bridge: RegistryBridge;
  readonly peers: Peers;
  /**
   * Stop the bridge, wait for what is on its way, stop the peers, close the transport (even one
   * given to `createNetworkApp`), stop narrating, unsubscribe what boot subscribed, release the
   * container's singletons. Calling it again returns the same promise.
   */
  close(): Promise<void>;
}

/** Options of {@link createNetworkApp}. */
export interface NetworkAppOptions {
  output?: (entry: TimedEntry) => void;
  agents?: readonly Agent[];
  transport?: IdleTransport;
  /**
   * Keep the rows in PostgreSQL: each request's transaction is a database transaction, and the
   * router and port `after_*` events go through the outbox in it (see `OutboxForwarder`), relayed
   * to the bridge's receivers once committed. Closed with the app.
   */
  rows?: PostgresRows;
}

/**
 * `transport`, whose `idle()` first relays what the outbox holds: a request's events are "on the
 * transport" only once the relay published them.
 */
function relayingTransport(transport: IdleTransport, relay: OutboxRelay): IdleTransport {
  return {
    publish: (target, message) => transport.publish(target, message),
    consume: (target, handler, options) => transport.consume(target, handler, options),
    request: (target, message, options) => transport.request(target, message, options),
    close: (options) => transport.close(options),
    idle: async () => {
      await relay.relay();
      await transport.idle();
    },
  };
}

/**
 * Build and boot the example: a container with `callbacksModule()` (a registry that logs into the
 * narrator) and {@link networkModules}, every `@OnResource` service subscribed, every notification
 * narrated to `output`; then, on one transport (an `InMemoryTransport` unless one is given, such as
 * an `AmqpTransport`), the
 * agents as RPC servers, the audit listener, the metering agent's process, and the registry bridge
 * forwarding the server's router and port `after_*` events to it (with `rows`, through the outbox).
 *
 * @example
 * ```ts
 * await using app = await createNetworkApp({ output: (entry) => console.log(entry) });
 * await app.api.create(RequestContext.admin(), 'network', { name: 'private' });
 * await app.transport.idle(); // the casts, notifications and bridged events have been handled
 * ```
 */
export async function createNetworkApp(options: NetworkAppOptions = {}): Promise<NetworkApp> {
  const narrator = new Narrator(options.output);
  const { rows } = options;
  const wire = options.transport ?? new InMemoryTransport({ logger: narrator.logger });
  const agents = options.agents ?? defaultAgents();
  const container = new Container();
  container.load(
    callbacksModule({ name: 'network', logger: narrator.logger }),
    ...networkModules({ narrator, agents, transport: wire }),
  );
  const boot = await bootCallbacks(container);
  const registry = container.get(CallbackRegistry);
  const watching: Subscription = narrator.watch(registry);

  const peers: Peers = {
    agents: await AgentHosts.start(wire, agents, narrator),
    audit: await AuditService.start(wire, narrator),
    metering: await MeteringProcess.start(wire, narrator),
  };
  const bridge = new RegistryBridge(wire, { source: SERVER_SOURCE, logger: narrator.logger });
  let transport = wire;
  let relay: OutboxRelay | undefined;
  if (rows === undefined) {
    bridge.forward(registry, { resources: [ROUTER, PORT], events: BRIDGED_EVENTS });
  } else {
    container.get(Database).useStore(rows);
    new OutboxForwarder(bridge, rows).subscribe(registry, [ROUTER, PORT]);
    relay = new OutboxRelay(wire, rows.outbox, { logger: narrator.logger });
    relay.start();
    transport = relayingTransport(wire, relay);
  }

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // Stop forwarding; the events already forwarded are on the transport.
      await bridge.close();
      // Let what is on its way arrive, then stop the peers and close the transport.
      await transport.idle();
      await relay?.stop();
      await Promise.all([peers.agents.stop(), peers.audit.stop(), peers.metering.close()]);
      await transport.close();
      await rows?.close();
      watching.unsubscribe();
      boot.dispose();
      await container.unbindAllAsync();
    })());
  return {
    container,
    registry,
    narrator,
    api: container.get(NetworkApi),
    db: container.get(Database),
    boot,
    transport,
    bridge,
    peers,
    close,
    [Symbol.asyncDispose]: close,
  };
}
