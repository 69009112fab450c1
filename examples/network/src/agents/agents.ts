/**
 * Agents, simulated in process: the DHCP and L3 agents that Neutron's server casts RPC messages
 * to, by topic and host. The messaging work will put a broker behind {@link AgentRpc}; here a cast
 * is a method call that the receiving agent records and narrates.
 * @module
 */

import { InvalidError } from '@herald/core';
import { inject, injectable, type ServiceIdentifier } from 'inversify';
import type { RequestContext } from '../model/context.js';
import { Narrator } from '../narrator.js';

/** The RPC topic of DHCP agents. */
export const DHCP_AGENT_TOPIC = 'dhcp_agent';
/** The RPC topic of L3 agents. */
export const L3_AGENT_TOPIC = 'l3_agent';

/** An agent as the server knows it. */
export interface Agent {
  readonly id: string;
  readonly topic: typeof DHCP_AGENT_TOPIC | typeof L3_AGENT_TOPIC;
  readonly host: string;
  /** The administrator's switch: a disabled agent is not scheduled nor cast to. */
  adminStateUp: boolean;
  /** Whether its heartbeats arrive. */
  alive: boolean;
}

/** One message an agent received. */
export interface Delivery {
  readonly method: string;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly requestId: string;
}

/**
 * Fire-and-forget RPC to one agent, as Neutron's `_cast_message(context, method, payload, host, topic)`.
 */
export interface AgentRpc {
  cast(
    ctx: RequestContext,
    method: string,
    payload: Readonly<Record<string, unknown>>,
    host: string,
    topic: string,
  ): void | Promise<void>;
}

/** The service identifier of the {@link AgentRpc}. */
export const AGENT_RPC: ServiceIdentifier<AgentRpc> = Symbol.for('herald.example.AgentRpc');

/** The agents a container starts with. */
export const AGENT_SETUP: ServiceIdentifier<readonly Agent[]> = Symbol.for('herald.example.AgentSetup');

/** Two DHCP agents and one dead one, one L3 agent: enough to see scheduling choose. */
export function defaultAgents(): Agent[] {
  return [
    { id: 'dhcp-a', topic: DHCP_AGENT_TOPIC, host: 'host-a', adminStateUp: true, alive: true },
    { id: 'dhcp-b', topic: DHCP_AGENT_TOPIC, host: 'host-b', adminStateUp: true, alive: true },
    { id: 'dhcp-c', topic: DHCP_AGENT_TOPIC, host: 'host-c', adminStateUp: true, alive: false },
    { id: 'l3-a', topic: L3_AGENT_TOPIC, host: 'host-a', adminStateUp: true, alive: true },
  ];
}

/**
 * The agents of the deployment, and what each received.
 *
 * @example
 * ```ts
 * container.get(Agents).received('dhcp-a'); // [{ method: 'network_create_end', … }, …]
 * ```
 */
@injectable()
export class Agents {
  readonly #agents: readonly Agent[];
  readonly #inbox = new Map<string, Delivery[]>();

  constructor(@inject(AGENT_SETUP) setup: readonly Agent[]) {
    // Copies, so that switching an agent off in one container leaves the setup untouched.
    this.#agents = setup.map((agent) => ({ ...agent }));
  }

  /** The agents of `topic` (all of them without it). */
  list(topic?: string): Agent[] {
    return this.#agents.filter((a) => topic === undefined || a.topic === topic);
  }

  /** The agent with `id`; `InvalidError` naming the known ids otherwise. */
  get(id: string): Agent {
    const agent = this.#agents.find((a) => a.id === id);
    if (agent === undefined) {
      throw new InvalidError('agent id', id, `pass one of ${this.#agents.map((a) => a.id).join(', ')}.`);
    }
    return agent;
  }

  /** Whether the server may use the agent: switched on and alive. */
  isActive(agent: Agent): boolean {
    return agent.adminStateUp && agent.alive;
  }

  /** What the agent with `id` received, oldest first. */
  received(id: string): readonly Delivery[] {
    return this.#inbox.get(this.get(id).id) ?? [];
  }

  /** Hand a message to the agent of `topic` on `host`. */
  deliver(topic: string, host: string, delivery: Delivery): Agent {
    const agent = this.#agents.find((a) => a.topic === topic && a.host === host);
    if (agent === undefined) {
      throw new InvalidError('host', host, `no ${topic} runs there; pass the host of a known agent.`);
    }
    let inbox = this.#inbox.get(agent.id);
    if (inbox === undefined) this.#inbox.set(agent.id, (inbox = []));
    inbox.push(delivery);
    return agent;
  }
}

/**
 * RPC inside the process: a cast is delivered at once to the simulated agent, which narrates it.
 *
 * @example
 * ```ts
 * container.bind(AGENT_RPC).to(InProcessAgentRpc).inSingletonScope();
 * ```
 */
@injectable()
export class InProcessAgentRpc implements AgentRpc {
  constructor(
    @inject(Agents) private readonly agents: Agents,
    @inject(Narrator) private readonly narrator: Narrator,
  ) {}

  cast(
    ctx: RequestContext,
    method: string,
    payload: Readonly<Record<string, unknown>>,
    host: string,
    topic: string,
  ): void {
    const agent = this.agents.deliver(topic, host, { method, payload, requestId: ctx.requestId });
    this.narrator.say(`${agent.id}@${host}`, `← ${method} ${JSON.stringify(payload)}`);
  }
}
