/**
 * The example on an OpenStack broker (`HERALD_OSLO_URL=… npm start`), with oslo.messaging itself
 * as the DHCP agents and as a Ceilometer-like listener. It runs when `npm test` has a broker and
 * oslo.messaging (the @herald/oslo project's global setup finds them); alone, this project skips it.
 */
import 'reflect-metadata';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Consumer, IdleTransport } from '@herald/messaging';
import { OsloTransport } from '@herald/oslo';
import { createVhost, describeWithOslo, PythonPeer, type Vhost } from '../../../packages/oslo/test/peer.js';
import { DHCP_AGENT_TOPIC } from '../src/agents/agents.js';
import { run, type Terminal } from '../src/cli.js';

/**
 * The transport, except that the example's simulated DHCP agents do not consume: in this
 * deployment the DHCP agents are Python processes.
 */
function withoutSimulatedDhcpAgents(transport: OsloTransport): IdleTransport {
  return {
    publish: (target, message) => transport.publish(target, message),
    request: (target, message, options) => transport.request(target, message, options),
    consume: async (target, handler, options): Promise<Consumer> =>
      target.topic === DHCP_AGENT_TOPIC
        ? { target, close: async () => undefined }
        : transport.consume(target, handler, options),
    idle: () => transport.idle(),
    close: (options) => transport.close(options),
  };
}

describeWithOslo('the network example on an OpenStack broker, with oslo.messaging peers', () => {
  let vhost: Vhost;
  let peer: PythonPeer;

  beforeAll(async () => {
    vhost = await createVhost();
    peer = await PythonPeer.start(vhost.rabbitUrl, 'neutron');
    for (const server of ['host-a', 'host-b']) {
      await peer.command('rpc_server', { topic: DHCP_AGENT_TOPIC, server, record_all: true, endpoints: [{}] });
    }
    await peer.command('listen', { name: 'ceilometer', topics: ['notifications'] });
  }, 90_000);

  afterAll(async () => {
    await peer?.stop();
    await vhost?.delete();
  }, 60_000);

  it("casts to Python DHCP agents by host, and a Python listener hears the API's notifications", async () => {
    const transport = await OsloTransport.connect({ url: vhost.rabbitUrl, controlExchange: 'neutron' });
    const lines: string[] = [];
    const terminal: Terminal = {
      out: (l) => void lines.push(l),
      err: (l) => void lines.push(`ERR ${l}`),
      color: false,
    };
    const status = await run([], terminal, {
      transport: withoutSimulatedDhcpAgents(transport),
      transportName: 'oslo.messaging',
    });
    expect(lines.filter((l) => l.startsWith('ERR'))).toEqual([]);
    expect(status).toBe(0);

    const casts = () => peer.events.filter((e) => e.event === 'rpc');
    await peer.waitForEvent((e) => e.event === 'rpc' && e.method === 'port_delete_end' && e.server === 'host-b');
    for (const server of ['host-a', 'host-b']) {
      expect(casts().filter((e) => e.server === server)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ method: 'network_create_end', args: { payload: { network: { id: 'net-1' } } } }),
          expect.objectContaining({ method: 'port_create_end', args: { payload: { port: { id: 'port-1' } } } }),
          expect.objectContaining({ method: 'port_delete_end', args: { payload: { port: { id: 'port-1' } } } }),
        ]),
      );
    }
    expect(casts()[0]).toMatchObject({ ctxt: { request_id: expect.stringMatching(/^req-/) } });

    const heard = await peer.waitForEvent(
      (e) => e.event === 'notification' && e.event_type === 'router.create.end' && e.listener === 'ceilometer',
    );
    expect(heard).toMatchObject({ priority: 'info', publisher_id: 'network.controller', payload: expect.anything() });
  });
});
