import 'reflect-metadata';
import '@herald/testing/jest';
import { describe, expect, it } from '@jest/globals';
import { AFTER_CREATE, CallbackFailure, DBEventPayload, PORT, ROUTER, type NotificationRecord } from '@herald/core';
import {
  InMemoryTransport,
  NotificationFilter,
  NotificationListener,
  RemoteOrigin,
  TransportError,
} from '@herald/messaging';
import { recordNotifications } from '@herald/testing';
import { defaultAgents } from '../src/agents/agents.js';
import { createNetworkApp, type NetworkApp } from '../src/app.js';
import { run, type Terminal } from '../src/cli.js';
import { PUBLISHER_ID, SERVER_SOURCE } from '../src/messaging.js';
import { RequestContext } from '../src/model/context.js';
import { DeviceOwner } from '../src/model/models.js';
import { METERING_SOURCE } from '../src/remote/metering.js';
import { networkContainer } from './support.js';

/** A network with a subnet and a router plugged into it, everything delivered. */
async function routedSubnet(app: NetworkApp) {
  const ctx = RequestContext.admin();
  const network = await app.api.create(ctx, 'network', { name: 'private' });
  const subnet = await app.api.create(ctx, 'subnet', { networkId: network.id, cidr: '10.0.0.0/24' });
  const router = await app.api.create(ctx, 'router', { name: 'router1' });
  const itf = await app.api.addRouterInterface(ctx, router.id, subnet.id);
  await app.transport.idle();
  return { network, subnet, router, portId: itf.portId };
}

describe('RPC to agents', () => {
  it("casts port_create_end for a new port to the scheduled agent's host only", async () => {
    // dhcp-a is down: the network goes to dhcp-b alone (dhcp-c is dead by default).
    const agents = defaultAgents().map((a) => (a.id === 'dhcp-a' ? { ...a, alive: false } : a));
    await using fixture = await networkContainer({ agents });
    const ctx = RequestContext.admin();
    const network = await fixture.api.create(ctx, 'network', { name: 'n' });
    await fixture.api.create(ctx, 'subnet', { networkId: network.id, cidr: '10.1.0.0/24' });
    const port = await fixture.api.create(ctx, 'port', { networkId: network.id, deviceOwner: DeviceOwner.COMPUTE });

    // Cast, not yet run: the agent runs it on a later turn.
    expect(fixture.hosts.received('dhcp-b')).toEqual([]);
    await fixture.settle();

    expect(fixture.hosts.received('dhcp-b')).toEqual([
      { method: 'network_create_end', payload: { network: { id: network.id } }, requestId: ctx.requestId },
      { method: 'port_create_end', payload: { port: { id: port.id } }, requestId: ctx.requestId },
    ]);
    // The other agents' servers run on their hosts, and heard nothing.
    for (const id of ['dhcp-a', 'dhcp-c', 'l3-a']) expect(fixture.hosts.received(id)).toEqual([]);
    expect(fixture.narrator.messages()).toContainEqual(
      expect.objectContaining({
        via: 'rpc',
        receiver: 'dhcp-b@host-b',
        name: 'port_create_end',
        message: `{"port":{"id":"${port.id}"}}: adds a host entry for ${port.id}`,
      }),
    );
    expect(fixture.transport.deadLetters()).toEqual([]);
  });
});

describe('notifications', () => {
  it('the audit listener gets port.create.start and .end with their payloads; another pool gets its own copy', async () => {
    await using app = await createNetworkApp();
    const billing: [string, unknown][] = [];
    const listener = new NotificationListener(app.transport, {
      pool: 'billing',
      endpoints: [
        {
          filterRule: new NotificationFilter({ eventType: 'port\\..*' }),
          info: (_ctx, _publisher, eventType, payload) => void billing.push([eventType, payload]),
        },
      ],
    });
    await listener.start();
    const ctx = RequestContext.admin();
    const network = await app.api.create(ctx, 'network', { name: 'n' });
    await app.api.create(ctx, 'subnet', { networkId: network.id, cidr: '10.1.0.0/24' });
    const port = await app.api.create(ctx, 'port', { networkId: network.id, name: 'vm-port' });
    await app.transport.idle();

    const ports = app.peers.audit.records.filter((r) => r.eventType.startsWith('port.'));
    expect(ports).toEqual([
      expect.objectContaining({
        eventType: 'port.create.start',
        publisherId: PUBLISHER_ID,
        requestId: ctx.requestId,
        payload: { port: { networkId: network.id, name: 'vm-port' } },
      }),
      expect.objectContaining({
        eventType: 'port.create.end',
        publisherId: PUBLISHER_ID,
        requestId: ctx.requestId,
        // The port as the API returned it, after its JSON round trip.
        payload: { port: JSON.parse(JSON.stringify(port)) },
      }),
    ]);
    expect(billing).toEqual(ports.map((r) => [r.eventType, r.payload]));
    await listener.stop();
  });
});

describe('the registry bridge', () => {
  it("re-notifies a router's after_create in the metering agent's registry, as a DBEventPayload with the router", async () => {
    await using app = await createNetworkApp();
    const local = recordNotifications(app.registry);
    const remote = recordNotifications(app.peers.metering.registry);
    const ctx = RequestContext.admin();
    const router = await app.api.create(ctx, 'router', { name: 'edge' });
    expect(remote.records).toEqual([]);
    await app.transport.idle();

    expect(remote).toHaveNotified(ROUTER, AFTER_CREATE);
    const [received] = remote.find(ROUTER, AFTER_CREATE) as NotificationRecord[];
    const payload = received!.payload as DBEventPayload;
    expect(payload).toBeInstanceOf(DBEventPayload);
    expect(payload.resourceId).toBe(router.id);
    expect(payload.latestState).toEqual(router);
    const [sent] = local.find(ROUTER, AFTER_CREATE) as NotificationRecord[];
    expect(payload.states).toEqual((sent!.payload as DBEventPayload).states);
    // The context is a RequestContext again (the bridge rebuilds it with RequestContext.fromCopy).
    expect(payload.context).toBeInstanceOf(RequestContext);
    expect((payload.context as RequestContext).toDict()).toEqual(ctx.toDict());
    expect(received!.trigger).toBeInstanceOf(RemoteOrigin);
    expect(received!.trigger).toMatchObject({ source: SERVER_SOURCE });
    // The same @OnResource handler, in another process's container.
    expect(received!.callbacks).toEqual([expect.stringMatching(/^MeteringAgent\.meterRouter#\d+$/)]);
    expect(app.peers.metering.agent.meteredRouters()).toEqual([router.id]);
    expect(app.narrator.messages()).toContainEqual(
      expect.objectContaining({
        via: 'bridge',
        receiver: METERING_SOURCE,
        name: 'router after_create',
        message: `${router.id} (DBEventPayload from ${SERVER_SOURCE}): counts the traffic of ${router.id} ("edge")`,
      }),
    );
  });

  it('runs the handlers there for router interfaces too, and nothing flows back', async () => {
    await using app = await createNetworkApp();
    const { router, portId } = await routedSubnet(app);
    expect(app.peers.metering.agent.interfacesOf(router.id)).toEqual([portId]);
    expect(app.bridge.stats).toMatchObject({ forwarded: 2, received: 0, forwardFailures: 0 });
    expect(app.peers.metering.bridge.stats).toMatchObject({ forwarded: 0, received: 2, rejected: 0 });
  });
});

describe('the metering agent without the bridge', () => {
  it('does the same for a router notified in its own registry: the handler does not care where events come from', async () => {
    await using app = await createNetworkApp();
    const router = { id: 'router-9', name: 'local', projectId: 'demo', adminStateUp: true };
    const payload = new DBEventPayload(RequestContext.admin(), { states: [router], resourceId: router.id });
    await app.peers.metering.registry.notify(ROUTER, AFTER_CREATE, 'a local trigger', payload);
    expect(app.peers.metering.agent.meteredRouters()).toEqual([router.id]);
    expect(app.narrator.messages().at(-1)?.message).toBe(
      'router-9 (DBEventPayload from a local trigger): counts the traffic of router-9 ("local")',
    );
  });
});

describe('a vetoed delete', () => {
  it('sends port.delete.start but no .end, no bridged event and no cast', async () => {
    await using app = await createNetworkApp();
    const { portId } = await routedSubnet(app);
    const audited = app.peers.audit.records.length;
    const remote = recordNotifications(app.peers.metering.registry);
    const forwarded = app.bridge.stats.forwarded;
    const casts = app.peers.agents.received('dhcp-a').length + app.peers.agents.received('l3-a').length;

    await expect(app.api.delete(RequestContext.admin(), 'port', portId)).rejects.toThrow(CallbackFailure);
    await app.transport.idle();

    expect(app.peers.audit.records.slice(audited).map((r) => r.eventType)).toEqual(['port.delete.start']);
    expect(app.bridge.stats.forwarded).toBe(forwarded);
    expect(remote.records).toEqual([]);
    expect(remote).not.toHaveNotified(PORT, 'after_delete');
    expect(app.peers.agents.received('dhcp-a').length + app.peers.agents.received('l3-a').length).toBe(casts);
    expect(app.peers.metering.agent.interfacesOf(app.db.ports.get(portId).deviceId)).toEqual([portId]);
  });
});

describe('the process', () => {
  it('runs the scenario, then closes the transport: nothing pending, nothing left to keep it alive', async () => {
    const transport = new InMemoryTransport();
    const out: string[] = [];
    const terminal: Terminal = { out: (l) => void out.push(l), err: (l) => void out.push(l), color: false };
    const pending = () => process.getActiveResourcesInfo().filter((r) => r === 'Immediate' || r === 'Timeout').length;
    const before = pending();

    expect(await run([], terminal, { transport })).toBe(0);

    await expect(transport.publish({ topic: 'dhcp_agent' }, { body: null })).rejects.toThrow(TransportError);
    expect(transport.deadLetters()).toEqual([]);
    await transport.idle();
    // The count is the whole worker's: a timer of Jest's or of an earlier test file may be about to
    // fire. Give such timers 100 ms; one the app left behind (a drain or request timer) stays.
    for (let i = 0; i < 20 && pending() > before; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(pending()).toBeLessThanOrEqual(before);
    expect(out.at(-1)).toMatch(/^ {3}✔ left: 1 network, 1 subnet, 0 ports, 0 routers/);
  });

  it('closes once, and refuses requests afterwards', async () => {
    const app = await createNetworkApp();
    const closing = app.close();
    expect(app.close()).toBe(closing);
    await closing;
    await expect(app.api.create(RequestContext.admin(), 'router', { name: 'late' })).rejects.toThrow(TransportError);
  });
});
