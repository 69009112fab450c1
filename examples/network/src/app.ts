/**
 * The example as an Inversify application: its container modules, and `createNetworkApp()`, which
 * loads them with Herald's `callbacksModule()`, boots the callbacks and starts narrating.
 * @module
 */

import 'reflect-metadata';
import { CallbackRegistry, type Subscription } from '@herald/core';
import { bootCallbacks, callbacksModule, type CallbacksBoot } from '@herald/inversify';
import { Container, ContainerModule } from 'inversify';
import { AGENT_RPC, AGENT_SETUP, Agents, defaultAgents, InProcessAgentRpc, type Agent } from './agents/agents.js';
import { Database } from './model/database.js';
import { Narrator, type TimedEntry } from './narrator.js';
import { LogNotifier, NetworkApi, NOTIFIER } from './resources/api.js';
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
  /** The simulated agents. Default: {@link defaultAgents}. */
  agents?: readonly Agent[];
}

/**
 * The data store, the four trigger services, the API and its notifier, the simulated agents, and
 * the narrator. Nothing here subscribes to anything.
 */
export function coreModule(options: NetworkModulesOptions = {}): ContainerModule {
  const narrator = options.narrator ?? new Narrator();
  const agents = options.agents ?? defaultAgents();
  return new ContainerModule(({ bind }) => {
    bind(Narrator).toConstantValue(narrator);
    bind(Database).toSelf().inSingletonScope();
    bind(NetworkService).toSelf().inSingletonScope();
    bind(SubnetService).toSelf().inSingletonScope();
    bind(PortService).toSelf().inSingletonScope();
    bind(RouterService).toSelf().inSingletonScope();
    bind(NetworkApi).toSelf().inSingletonScope();
    bind(NOTIFIER).to(LogNotifier).inSingletonScope();
    bind(AGENT_SETUP).toConstantValue(agents);
    bind(Agents).toSelf().inSingletonScope();
    bind(AGENT_RPC).to(InProcessAgentRpc).inSingletonScope();
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

/** A booted example application. */
export interface NetworkApp extends Disposable {
  readonly container: Container;
  readonly registry: CallbackRegistry;
  readonly narrator: Narrator;
  readonly api: NetworkApi;
  readonly db: Database;
  readonly boot: CallbacksBoot;
  /** Stop narrating, unsubscribe what boot subscribed, release the container's singletons. */
  dispose(): void;
}

/**
 * Build and boot the example: a container with `callbacksModule()` (a registry that logs into the
 * narrator) and {@link networkModules}, every `@OnResource` service subscribed, and every
 * notification narrated to `output`.
 *
 * @example
 * ```ts
 * using app = await createNetworkApp({ output: (entry) => console.log(entry) });
 * await app.api.create(RequestContext.admin(), 'network', { name: 'private' });
 * ```
 */
export async function createNetworkApp(
  options: { output?: (entry: TimedEntry) => void; agents?: readonly Agent[] } = {},
): Promise<NetworkApp> {
  const narrator = new Narrator(options.output);
  const container = new Container();
  container.load(
    callbacksModule({ name: 'network', logger: narrator.logger }),
    ...networkModules({ narrator, agents: options.agents }),
  );
  const boot = await bootCallbacks(container);
  const registry = container.get(CallbackRegistry);
  const watching: Subscription = narrator.watch(registry);
  const dispose = () => {
    watching.unsubscribe();
    boot.dispose();
    container.unbindAll();
  };
  return {
    container,
    registry,
    narrator,
    api: container.get(NetworkApi),
    db: container.get(Database),
    boot,
    dispose,
    [Symbol.dispose]: dispose,
  };
}
