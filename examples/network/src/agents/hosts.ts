/**
 * The agents' side: each simulated DHCP or L3 agent runs on its host as an oslo-style
 * `RpcServer` (topic `dhcp_agent` or `l3_agent`, server = its host), with an endpoint whose
 * methods are the RPC API Neutron's agents implement (`port_create_end`, `routers_updated`…).
 * Each method records the message and narrates what the agent does with it.
 * @module
 */

import { InvalidError } from '@herald/core';
import { RpcServer, type RpcContext, type RpcEndpointTarget, type Transport } from '@herald/messaging';
import { AGENT_RPC_VERSION } from '../messaging.js';
import type { Narrator } from '../narrator.js';
import { L3_AGENT_TOPIC, type Agent } from './agents.js';

/** One message an agent ran. */
export interface AgentMessage {
  readonly method: string;
  /** The `payload` argument of the cast. */
  readonly payload: Readonly<Record<string, unknown>>;
  /** The `request_id` of the context it carried. */
  readonly requestId: string;
}

/** The arguments every agent method gets: Neutron casts `payload=…`. */
interface AgentArgs {
  readonly payload: Readonly<Record<string, unknown>>;
}

/** Records and narrates one message on behalf of one agent. */
class AgentProcess {
  readonly inbox: AgentMessage[] = [];

  constructor(
    readonly agent: Agent,
    private readonly narrator: Narrator,
  ) {}

  /** The agent ran `method`: keep it, and tell what the agent did. */
  ran(context: RpcContext, method: string, { payload }: AgentArgs, action: string): void {
    const requestId = typeof context['request_id'] === 'string' ? context['request_id'] : '';
    this.inbox.push({ method, payload, requestId });
    this.narrator.message(
      'rpc',
      `${this.agent.id}@${this.agent.host}`,
      method,
      `${JSON.stringify(payload)}: ${action}`,
    );
  }
}

/** The id inside `{ network: { id } }`, `{ port: { id } }`… */
function idIn(payload: Readonly<Record<string, unknown>>, key: string): string {
  const value = payload[key];
  const id = typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id : `the ${key}`;
}

/**
 * What both agents' RPC endpoints share: the API version they serve and the agent that runs what
 * they receive. (Only methods are callable over RPC; `agent` is a field.)
 */
abstract class AgentEndpoint {
  readonly target: RpcEndpointTarget = { version: AGENT_RPC_VERSION };

  constructor(protected readonly agent: AgentProcess) {}
}

/**
 * The DHCP agent's RPC API (Neutron's `DhcpAgent` endpoint): one method per `<resource>_<action>_end`.
 * A method name not listed here is answered with `NoSuchMethod` by the RPC server.
 */
class DhcpAgentEndpoint extends AgentEndpoint {
  network_create_end(context: RpcContext, args: AgentArgs): void {
    this.agent.ran(context, 'network_create_end', args, `enables DHCP for ${idIn(args.payload, 'network')}`);
  }

  network_update_end(context: RpcContext, args: AgentArgs): void {
    this.agent.ran(context, 'network_update_end', args, `refreshes DHCP for ${idIn(args.payload, 'network')}`);
  }

  network_delete_end(context: RpcContext, args: AgentArgs): void {
    this.agent.ran(context, 'network_delete_end', args, `disables DHCP for ${idIn(args.payload, 'network')}`);
  }

  subnet_create_end(context: RpcContext, args: AgentArgs): void {
    this.agent.ran(context, 'subnet_create_end', args, `serves ${idIn(args.payload, 'subnet')}`);
  }

  subnet_update_end(context: RpcContext, args: AgentArgs): void {
    this.agent.ran(context, 'subnet_update_end', args, `reconfigures ${idIn(args.payload, 'subnet')}`);
  }

  subnet_delete_end(context: RpcContext, args: AgentArgs): void {
    this.agent.ran(context, 'subnet_delete_end', args, `stops serving ${idIn(args.payload, 'subnet')}`);
  }

  port_create_end(context: RpcContext, args: AgentArgs): void {
    this.agent.ran(context, 'port_create_end', args, `adds a host entry for ${idIn(args.payload, 'port')}`);
  }

  port_update_end(context: RpcContext, args: AgentArgs): void {
    this.agent.ran(context, 'port_update_end', args, `updates the host entry of ${idIn(args.payload, 'port')}`);
  }

  port_delete_end(context: RpcContext, args: AgentArgs): void {
    this.agent.ran(context, 'port_delete_end', args, `removes the host entry of ${idIn(args.payload, 'port')}`);
  }
}

/** The L3 agent's RPC API (Neutron's `L3NATAgent` endpoint), for what the server casts here. */
class L3AgentEndpoint extends AgentEndpoint {
  routers_updated(context: RpcContext, args: AgentArgs): void {
    const routers = args.payload['routers'];
    const ids = Array.isArray(routers) ? routers.join(', ') : 'its routers';
    this.agent.ran(context, 'routers_updated', args, `resyncs ${ids}`);
  }

  router_deleted(context: RpcContext, args: AgentArgs): void {
    const id = args.payload['router_id'];
    this.agent.ran(context, 'router_deleted', args, `tears down ${typeof id === 'string' ? id : 'the router'}`);
  }
}

/**
 * The simulated agents, each an `RpcServer` on its host: what they received, and how to stop them.
 * An agent the server thinks dead (`alive: false`) still runs: its heartbeats are what is lost.
 *
 * @example
 * ```ts
 * const hosts = await AgentHosts.start(transport, defaultAgents(), narrator);
 * // … casts …
 * await transport.idle();
 * hosts.received('dhcp-a'); // [{ method: 'network_create_end', … }, …]
 * await hosts.stop();
 * ```
 */
export class AgentHosts {
  readonly #processes: ReadonlyMap<string, AgentProcess>;
  readonly #servers: readonly RpcServer[];

  private constructor(processes: ReadonlyMap<string, AgentProcess>, servers: readonly RpcServer[]) {
    this.#processes = processes;
    this.#servers = servers;
  }

  /** Start one RPC server per agent; resolves once they all listen. */
  static async start(transport: Transport, agents: readonly Agent[], narrator: Narrator): Promise<AgentHosts> {
    const processes = new Map<string, AgentProcess>();
    const servers: RpcServer[] = [];
    for (const agent of agents) {
      const running = new AgentProcess({ ...agent }, narrator);
      const endpoint = agent.topic === L3_AGENT_TOPIC ? new L3AgentEndpoint(running) : new DhcpAgentEndpoint(running);
      const server = new RpcServer(transport, { topic: agent.topic, server: agent.host }, [endpoint], {
        logger: narrator.logger,
      });
      processes.set(agent.id, running);
      servers.push(server);
    }
    await Promise.all(servers.map((s) => s.start()));
    return new AgentHosts(processes, servers);
  }

  /** What the agent with `id` ran, oldest first. */
  received(id: string): readonly AgentMessage[] {
    const running = this.#processes.get(id);
    if (running === undefined) {
      throw new InvalidError('agent id', id, `pass one of ${[...this.#processes.keys()].join(', ')}.`);
    }
    return running.inbox;
  }

  /** Stop every agent's server; resolves once the messages they were running are done. */
  async stop(): Promise<void> {
    await Promise.all(this.#servers.map((s) => s.stop()));
  }
}
