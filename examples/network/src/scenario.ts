/**
 * The script `npm start` runs: the two seed documents' story, step by step. Casts to agents,
 * notifications and bridged events are delivered asynchronously: after each request the script
 * waits until the transport is idle, so that what the other processes did is told before the
 * next step.
 * @module
 */

import { CallbackFailure, errorText } from '@herald/core';
import type { NetworkApp } from './app.js';
import { RequestContext } from './model/context.js';
import { DhcpAgentScheduler } from './services/dhcp-agent.scheduler.js';

/** What the script leaves behind. */
export interface ScenarioOutcome {
  /** Why L3 refused to delete the router's port. */
  readonly vetoReason: string;
  /** How many of each resource remain. */
  readonly remaining: {
    readonly networks: number;
    readonly subnets: number;
    readonly ports: number;
    readonly routers: number;
  };
  /** The DHCP agents that host the network. */
  readonly dhcpAgents: readonly string[];
}

/** The script did not go as the story says (a veto that did not happen…). */
export class ScenarioFailure extends Error {
  override readonly name = 'ScenarioFailure';
}

/** What the script needs of the application. */
export type ScenarioApp = Pick<NetworkApp, 'api' | 'narrator' | 'db' | 'container' | 'transport'>;

/**
 * Create a network, a subnet and a router; plug the router into the subnet; try to delete the
 * router's port directly (L3 vetoes it); remove the interface; delete the router. After each
 * request, wait for the transport to be idle.
 *
 * @throws ScenarioFailure when the port delete is not vetoed
 * @example
 * ```ts
 * await using app = await createNetworkApp();
 * const { vetoReason } = await runScenario(app);
 * ```
 */
export async function runScenario(app: ScenarioApp): Promise<ScenarioOutcome> {
  const { api, narrator, db, transport } = app;
  /** Each call is a request of its own, as an administrator: a new request id each time. */
  const ctx = () => RequestContext.admin();
  /** The request's casts, notifications and bridged events have all been handled. */
  const delivered = () => transport.idle();

  narrator.step('Create network "private"');
  const network = await api.create(ctx(), 'network', { name: 'private' });
  await delivered();

  narrator.step(`Create subnet 10.0.0.0/24 on ${network.id}`);
  const subnet = await api.create(ctx(), 'subnet', {
    networkId: network.id,
    cidr: '10.0.0.0/24',
    name: 'private-subnet',
  });
  await delivered();

  narrator.step('Create router "router1"');
  const router = await api.create(ctx(), 'router', { name: 'router1' });
  await delivered();

  narrator.step(`Add an interface on ${subnet.id} to ${router.id}`);
  const itf = await api.addRouterInterface(ctx(), router.id, subnet.id);
  await delivered();
  narrator.result(true, `${router.id} answers on ${subnet.gatewayIp} through ${itf.portId}`);

  narrator.step(`Delete ${itf.portId}, the router's port, directly through the port API`);
  let vetoReason: string | undefined;
  let failure: CallbackFailure | undefined;
  try {
    await api.delete(ctx(), 'port', itf.portId);
  } catch (error) {
    if (!(error instanceof CallbackFailure)) throw error;
    failure = error;
    vetoReason = error.innerErrors.map(errorText).join('; ');
  }
  await delivered();
  if (vetoReason === undefined) {
    throw new ScenarioFailure(`${itf.portId} was deleted, but L3Service should have vetoed deleting a router's port`);
  }
  // What the caller of the port API holds: the CallbackFailure, with the veto as its inner error.
  narrator.result(true, `refused, as it should be: the port API got ${failure?.name}: ${vetoReason}`);

  narrator.step(`Remove the interface from ${router.id}`);
  await api.removeRouterInterface(ctx(), router.id, subnet.id);
  await delivered();

  narrator.step(`Delete ${router.id}`);
  await api.delete(ctx(), 'router', router.id);
  await delivered();

  const remaining = {
    networks: db.networks.list().length,
    subnets: db.subnets.list().length,
    ports: db.ports.list().length,
    routers: db.routers.list().length,
  };
  const dhcpAgents = app.container
    .get(DhcpAgentScheduler)
    .hostingAgents(network.id)
    .map((a) => a.id);
  narrator.result(
    true,
    `left: ${remaining.networks} network, ${remaining.subnets} subnet, ${remaining.ports} ports, ` +
      `${remaining.routers} routers; ${network.id} is served by ${dhcpAgents.join(' and ')}`,
  );
  return { vetoReason, remaining, dhcpAgents };
}
