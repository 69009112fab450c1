import 'reflect-metadata';
import { InMemoryTransport } from '@herald/messaging';
import { createTestContainer, type TestContainer } from '@herald/testing';
import { Agents, defaultAgents, type Agent } from '../src/agents/agents.js';
import { AgentHosts } from '../src/agents/hosts.js';
import { networkModules, type NetworkModulesOptions } from '../src/app.js';
import { RequestContext } from '../src/model/context.js';
import { Database } from '../src/model/database.js';
import { Narrator } from '../src/narrator.js';
import { NetworkApi } from '../src/resources/api.js';
import type { ContainerModule } from 'inversify';

/**
 * A booted container of the example's modules (all of them unless `modules` is given), on an
 * in-memory transport where the agents run as RPC servers, and handy parts of it. `settle()`
 * waits until the agents have run every cast sent so far.
 */
export async function networkContainer(
  options: { agents?: readonly Agent[]; modules?: (o: NetworkModulesOptions) => ContainerModule[] } = {},
) {
  const narrator = new Narrator();
  const transport = new InMemoryTransport();
  const agentSetup = options.agents ?? defaultAgents();
  const container: TestContainer = await createTestContainer(
    ...(options.modules ?? networkModules)({ narrator, agents: agentSetup, transport }),
  );
  const hosts = await AgentHosts.start(transport, agentSetup, narrator);
  return {
    container,
    narrator,
    transport,
    hosts,
    api: container.get(NetworkApi),
    db: container.get(Database),
    agents: container.get(Agents),
    ctx: RequestContext.admin(),
    settle: () => transport.idle(),
    [Symbol.asyncDispose]: async () => {
      await hosts.stop();
      await transport.close();
      container.dispose();
    },
  };
}

/** A network with a subnet, a router plugged into it: the state before the scenario's veto. */
export async function routedSubnet(fixture: Awaited<ReturnType<typeof networkContainer>>) {
  const { api, ctx } = fixture;
  const network = await api.create(ctx, 'network', { name: 'private' });
  const subnet = await api.create(ctx, 'subnet', { networkId: network.id, cidr: '10.0.0.0/24' });
  const router = await api.create(ctx, 'router', { name: 'router1' });
  const itf = await api.addRouterInterface(ctx, router.id, subnet.id);
  await fixture.settle();
  return { network, subnet, router, port: fixture.db.ports.get(itf.portId) };
}
