/**
 * Agents as the network server knows them — which ones exist, on which host, whether they are
 * up — and {@link AgentRpc}, the server's way to reach one: an oslo-style cast on the transport
 * (`MessagingAgentRpc`). The agents themselves run elsewhere, as RPC servers (see `hosts.ts`).
 * @module
 */

import { InvalidError } from '@herald/core';
import { RpcClient, type Transport } from '@herald/messaging';
import { inject, injectable, type ServiceIdentifier } from 'inversify';
import { AGENT_RPC_VERSION, TRANSPORT } from '../messaging.js';
import type { RequestContext } from '../model/context.js';

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

/**
 * Fire-and-forget RPC to one agent, as Neutron's `_cast_message(context, method, payload, host, topic)`.
 * Resolves once the message is on its way (not once the agent ran it).
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
 * The agents of the deployment, as the server sees them (its `agents` table): their topic and
 * host, the administrator's switch, the heartbeats.
 *
 * @example
 * ```ts
 * container.get(Agents).get('dhcp-b').adminStateUp = false; // no more casts to it
 * ```
 */
@injectable()
export class Agents {
  readonly #agents: readonly Agent[];

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
}

/**
 * RPC on the transport, as Neutron's agent notifiers: a cast to `{ topic: agent.topic, server:
 * agent.host }`, with the request context (`ctx.toDict()`) and the payload as the `payload`
 * argument. Nobody listening on that host means nobody receives it, as with oslo.
 *
 * @example
 * ```ts
 * container.bind(AGENT_RPC).to(MessagingAgentRpc).inSingletonScope();
 * await container.get(AGENT_RPC).cast(ctx, 'port_create_end', { port: { id } }, 'host-a', 'dhcp_agent');
 * ```
 */
@injectable()
export class MessagingAgentRpc implements AgentRpc {
  /** One client per topic; `prepare` gives the per-host variant. */
  readonly #clients = new Map<string, RpcClient>();

  constructor(@inject(TRANSPORT) private readonly transport: Transport) {}

  async cast(
    ctx: RequestContext,
    method: string,
    payload: Readonly<Record<string, unknown>>,
    host: string,
    topic: string,
  ): Promise<void> {
    let client = this.#clients.get(topic);
    if (client === undefined) {
      client = new RpcClient(this.transport, { topic, version: AGENT_RPC_VERSION });
      this.#clients.set(topic, client);
    }
    await client.prepare({ server: host }).cast(ctx.toDict(), method, { payload });
  }
}
