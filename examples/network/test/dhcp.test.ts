import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { defaultAgents } from '../src/agents/agents.js';
import { DeviceOwner } from '../src/model/models.js';
import { DhcpAgentScheduler } from '../src/services/dhcp-agent.scheduler.js';
import { networkContainer } from './support.js';

async function networkWithSubnet(fixture: Awaited<ReturnType<typeof networkContainer>>) {
  const network = await fixture.api.create(fixture.ctx, 'network', { name: 'n' });
  const subnet = await fixture.api.create(fixture.ctx, 'subnet', { networkId: network.id, cidr: '10.1.0.0/24' });
  return { network, subnet };
}

/** The methods the agent ran, once every cast sent so far has arrived. */
async function methods(fixture: Awaited<ReturnType<typeof networkContainer>>, agent: string) {
  await fixture.settle();
  return fixture.hosts.received(agent).map((d) => d.method);
}

describe('DhcpAgentNotifier', () => {
  it('sends nothing for a network and subnet that no agent hosts yet', async () => {
    await using fixture = await networkContainer();
    const { network } = await networkWithSubnet(fixture);
    await fixture.settle();
    expect(fixture.agents.list().flatMap((a) => fixture.hosts.received(a.id))).toEqual([]);
    expect(fixture.container.get(DhcpAgentScheduler).hostingAgents(network.id)).toEqual([]);
  });

  it("schedules the network on the first port's creation, then casts port_create_end to each agent", async () => {
    await using fixture = await networkContainer();
    const { network } = await networkWithSubnet(fixture);
    const port = await fixture.api.create(fixture.ctx, 'port', {
      networkId: network.id,
      deviceOwner: DeviceOwner.COMPUTE,
    });
    await fixture.settle();
    for (const agent of ['dhcp-a', 'dhcp-b']) {
      expect(fixture.hosts.received(agent).map((d) => [d.method, d.payload])).toEqual([
        ['network_create_end', { network: { id: network.id } }],
        ['port_create_end', { port: { id: port.id } }],
      ]);
    }
    // The dead agent is never chosen.
    expect(await methods(fixture, 'dhcp-c')).toEqual([]);
  });

  it('does not schedule again for the next port', async () => {
    await using fixture = await networkContainer();
    const { network } = await networkWithSubnet(fixture);
    await fixture.api.create(fixture.ctx, 'port', { networkId: network.id });
    await fixture.api.create(fixture.ctx, 'port', { networkId: network.id });
    expect(await methods(fixture, 'dhcp-a')).toEqual(['network_create_end', 'port_create_end', 'port_create_end']);
  });

  it('skips an agent that was switched off after scheduling, and says so', async () => {
    await using fixture = await networkContainer();
    const { network } = await networkWithSubnet(fixture);
    const port = await fixture.api.create(fixture.ctx, 'port', { networkId: network.id });
    fixture.agents.get('dhcp-b').adminStateUp = false;
    await fixture.api.update(fixture.ctx, 'port', port.id, { name: 'renamed' });
    expect(await methods(fixture, 'dhcp-a')).toContain('port_update_end');
    expect(await methods(fixture, 'dhcp-b')).not.toContain('port_update_end');
    expect(fixture.narrator.entries).toContainEqual(
      expect.objectContaining({
        source: 'dhcp',
        message: 'dhcp-b@host-b is not active: port_update_end not sent to it',
      }),
    );
  });

  it('warns when no agent can take the network, and tries again on the next port', async () => {
    const agents = defaultAgents().map((a) => ({ ...a, alive: false }));
    await using fixture = await networkContainer({ agents });
    const { network } = await networkWithSubnet(fixture);
    await fixture.api.create(fixture.ctx, 'port', { networkId: network.id });
    expect(fixture.narrator.entries).toContainEqual(
      expect.objectContaining({ source: 'dhcp', message: expect.stringMatching(/^unable to schedule net-1/) }),
    );
    fixture.agents.get('dhcp-c').alive = true;
    await fixture.api.create(fixture.ctx, 'port', { networkId: network.id });
    expect(await methods(fixture, 'dhcp-c')).toEqual(['network_create_end', 'port_create_end']);
  });

  it("forgets the network's agents when the network is deleted, after telling them", async () => {
    await using fixture = await networkContainer();
    const { network, subnet } = await networkWithSubnet(fixture);
    const port = await fixture.api.create(fixture.ctx, 'port', { networkId: network.id });
    await fixture.api.delete(fixture.ctx, 'port', port.id);
    await fixture.api.delete(fixture.ctx, 'subnet', subnet.id);
    await fixture.api.delete(fixture.ctx, 'network', network.id);
    expect((await methods(fixture, 'dhcp-a')).slice(-3)).toEqual([
      'port_delete_end',
      'subnet_delete_end',
      'network_delete_end',
    ]);
    expect(fixture.container.get(DhcpAgentScheduler).hostingAgents(network.id)).toEqual([]);
  });
});
