/**
 * Which DHCP agents host which network: the scheduler that `DhcpAgentNotifier` asks before the
 * first port of a network is announced to agents.
 * @module
 */

import { inject, injectable } from 'inversify';
import { Agents, DHCP_AGENT_TOPIC, type Agent } from '../agents/agents.js';

/** How many DHCP agents serve one network (Neutron's `dhcp_agents_per_network`). */
export const DHCP_AGENTS_PER_NETWORK = 2;

/**
 * Binds networks to DHCP agents: active agents only, the least loaded first, up to
 * {@link DHCP_AGENTS_PER_NETWORK} per network.
 *
 * @example
 * ```ts
 * const added = scheduler.schedule('net-1'); // the agents that now host net-1 and did not before
 * ```
 */
@injectable()
export class DhcpAgentScheduler {
  readonly #hosting = new Map<string, Set<string>>();

  constructor(@inject(Agents) private readonly agents: Agents) {}

  /** The agents bound to the network, active or not. */
  hostingAgents(networkId: string): Agent[] {
    const ids = this.#hosting.get(networkId) ?? new Set();
    return this.agents.list(DHCP_AGENT_TOPIC).filter((a) => ids.has(a.id));
  }

  /** Bind the network to more agents if it has fewer than it should; returns the agents added. */
  schedule(networkId: string): Agent[] {
    let ids = this.#hosting.get(networkId);
    if (ids === undefined) this.#hosting.set(networkId, (ids = new Set()));
    const hosted = ids;
    const wanted = DHCP_AGENTS_PER_NETWORK - hosted.size;
    if (wanted <= 0) return [];
    const load = (agent: Agent) => [...this.#hosting.values()].filter((set) => set.has(agent.id)).length;
    const added = this.agents
      .list(DHCP_AGENT_TOPIC)
      .filter((a) => this.agents.isActive(a) && !hosted.has(a.id))
      .sort((a, b) => load(a) - load(b))
      .slice(0, wanted);
    for (const agent of added) hosted.add(agent.id);
    return added;
  }

  /** Forget the network's bindings (it was deleted). */
  unschedule(networkId: string): void {
    this.#hosting.delete(networkId);
  }
}
