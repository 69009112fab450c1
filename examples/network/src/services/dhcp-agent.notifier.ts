/**
 * `DhcpAgentNotifier`: tells DHCP agents about network, subnet and port changes — the second seed
 * document's flow. On `port_create_end` it schedules the network onto agents first, if needed,
 * then casts to each enabled agent; the earlier `network_create_end` and `subnet_create_end` reach
 * no agent until then.
 * @module
 */

import {
  AFTER_CREATE,
  AFTER_DELETE,
  AFTER_UPDATE,
  NETWORK,
  OnResource,
  PORT,
  SUBNET,
  type DBEventPayload,
  type Notification,
} from '@herald/core';
import { inject, injectable } from 'inversify';
import { AGENT_RPC, Agents, type Agent, type AgentRpc } from '../agents/agents.js';
import type { RequestContext } from '../model/context.js';
import type { Network, Port, Subnet } from '../model/models.js';
import { Narrator } from '../narrator.js';
import { DhcpAgentScheduler } from './dhcp-agent.scheduler.js';

const CHANGES = [AFTER_CREATE, AFTER_UPDATE, AFTER_DELETE] as const;
type Change = (typeof CHANGES)[number];

/**
 * Subscribes to the `after_*` events of networks, subnets and ports and turns each into an RPC
 * method for DHCP agents (`port_create_end`…), as Neutron's `DhcpAgentNotifyAPI` does.
 *
 * @example
 * ```ts
 * container.bind(DhcpAgentNotifier).toSelf().inSingletonScope(); // found by bootCallbacks
 * ```
 */
@injectable()
export class DhcpAgentNotifier {
  constructor(
    @inject(DhcpAgentScheduler) private readonly scheduler: DhcpAgentScheduler,
    @inject(Agents) private readonly agents: Agents,
    @inject(AGENT_RPC) private readonly rpc: AgentRpc,
    @inject(Narrator) private readonly narrator: Narrator,
  ) {}

  @OnResource(NETWORK, CHANGES)
  onNetworkChange(
    payload: DBEventPayload<Network, RequestContext>,
    { event }: Notification<'network', Change>,
  ): Promise<void> {
    const network = payload.latestState!;
    return this.notify(payload.context, { network: { id: network.id } }, methodFor(NETWORK, event), network.id);
  }

  @OnResource(SUBNET, CHANGES)
  onSubnetChange(
    payload: DBEventPayload<Subnet, RequestContext>,
    { event }: Notification<'subnet', Change>,
  ): Promise<void> {
    const subnet = payload.latestState!;
    return this.notify(payload.context, { subnet: { id: subnet.id } }, methodFor(SUBNET, event), subnet.networkId);
  }

  @OnResource(PORT, CHANGES)
  onPortChange(payload: DBEventPayload<Port, RequestContext>, { event }: Notification<'port', Change>): Promise<void> {
    const port = payload.latestState!;
    return this.notify(payload.context, { port: { id: port.id } }, methodFor(PORT, event), port.networkId);
  }

  /**
   * Cast `method` to the DHCP agents of the network, scheduling it first on `port_create_end`.
   * Resolves once the casts are on their way; the agents run them later.
   */
  async notify(
    ctx: RequestContext,
    payload: Record<string, unknown>,
    method: string,
    networkId: string,
  ): Promise<void> {
    let agents = this.scheduler.hostingAgents(networkId);
    // Only a port needs DHCP: the network is placed on agents when its first port is created.
    if (method === 'port_create_end') agents = await this.#scheduleNetwork(ctx, networkId, agents);
    const enabled = this.#enabled(agents, method);
    if (enabled.length === 0 && agents.length === 0) {
      this.narrator.say('dhcp', `${method} for ${networkId}: no DHCP agent hosts the network yet, nothing to send`);
    }
    for (const agent of enabled) await this.rpc.cast(ctx, method, payload, agent.host, agent.topic);
    if (method === 'network_delete_end') this.scheduler.unschedule(networkId);
  }

  /** New agents first hear of the network itself, so they are ready for the port. */
  async #scheduleNetwork(ctx: RequestContext, networkId: string, existing: Agent[]): Promise<Agent[]> {
    const added = this.scheduler.schedule(networkId);
    for (const agent of added) {
      this.narrator.say('dhcp', `scheduled ${networkId} on ${agent.id}@${agent.host}`);
      await this.rpc.cast(ctx, 'network_create_end', { network: { id: networkId } }, agent.host, agent.topic);
    }
    if (added.length === 0 && existing.length === 0) {
      this.narrator.say('dhcp', `unable to schedule ${networkId}: no active DHCP agent; will retry on the next port`);
    }
    return [...existing, ...added];
  }

  /** The agents that may receive `method`; the others are named, not cast to. */
  #enabled(agents: Agent[], method: string): Agent[] {
    const enabled = agents.filter((a) => this.agents.isActive(a));
    for (const agent of agents.filter((a) => !enabled.includes(a))) {
      this.narrator.say('dhcp', `${agent.id}@${agent.host} is not active: ${method} not sent to it`);
    }
    return enabled;
  }
}

/** `port` + `after_create` → `port_create_end`, the RPC method agents know. */
function methodFor(resource: string, event: Change): string {
  return `${resource}_${event.slice('after_'.length)}_end`;
}
