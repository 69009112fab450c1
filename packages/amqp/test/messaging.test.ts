/**
 * `@herald/messaging`'s notifier, RPC and registry bridge on RabbitMQ: two transports, two
 * connections, as two processes would have them.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, expect, it } from '@jest/globals';
import { AFTER_CREATE, CallbackRegistry, DBEventPayload, ROUTER, type EventPayload } from '@herald/core';
import {
  NotificationListener,
  Notifier,
  RegistryBridge,
  RemoteError,
  RemoteOrigin,
  RpcClient,
  RpcServer,
  type NotificationContext,
} from '@herald/messaging';
import { AmqpTransport } from '../src/index.js';
import { brokerUrl, describeWithBroker } from './broker.js';

const quiet = { error: () => undefined, warn: () => undefined };

/** Resolves once `check` holds; fails after 3 s. */
async function eventually(check: () => boolean): Promise<void> {
  for (const started = Date.now(); !check();) {
    if (Date.now() - started > 3_000) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describeWithBroker('messaging on RabbitMQ', () => {
  let closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.reverse()) await close();
    closers = [];
  });

  /** Two transports on one namespace: the server's process and the agent's. */
  async function twoProcesses(): Promise<[AmqpTransport, AmqpTransport]> {
    const options = { url: brokerUrl, namespace: `test-${randomUUID()}`, queueExpiresMs: 60_000, logger: quiet };
    const a = await AmqpTransport.connect(options);
    const b = await AmqpTransport.connect(options);
    closers.push(
      () => a.close({ drainMs: 0 }),
      () => b.close({ drainMs: 0 }),
    );
    return [a, b];
  }

  it('calls and casts an agent in another process, remote errors typed', async () => {
    const [server, agent] = await twoProcesses();
    const casts: unknown[] = [];
    const rpc = new RpcServer(
      agent,
      { topic: 'dhcp_agent', server: 'host-1' },
      [
        {
          target: { version: '1.1' },
          get_active_networks_info: (_ctx: object, args: { host: string }) => [{ network: 'n1', host: args.host }],
          port_create_end: (_ctx: object, args: { port: string }) => void casts.push(args.port),
          fail: () => {
            throw new TypeError('no such port');
          },
        },
      ],
      { logger: quiet },
    );
    await rpc.start();
    closers.push(() => rpc.stop());
    const client = new RpcClient(
      server,
      { topic: 'dhcp_agent', server: 'host-1', version: '1.0' },
      { timeoutMs: 2_000 },
    );
    await expect(client.call({}, 'get_active_networks_info', { host: 'host-1' })).resolves.toEqual([
      { network: 'n1', host: 'host-1' },
    ]);
    await client.cast({}, 'port_create_end', { port: 'p1' });
    await eventually(() => casts.length === 1);
    expect(casts).toEqual(['p1']);
    const error = await client.call({}, 'fail').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({ remoteName: 'TypeError', remoteMessage: 'no such port' });
  });

  it('carries a notification to a listener in another process', async () => {
    const [server, audit] = await twoProcesses();
    const seen: { eventType: string; payload: unknown }[] = [];
    const listener = new NotificationListener(audit, {
      endpoints: [
        {
          info: (_ctx: NotificationContext, _p: string, eventType: string, payload: unknown) =>
            void seen.push({ eventType, payload }),
        },
      ],
      pool: 'audit',
      logger: quiet,
    });
    await listener.start();
    closers.push(() => listener.stop());
    await new Notifier(server, { publisherId: 'network.host-1' }).info({ user: 'u' }, 'router.create.end', {
      router: { id: 'r1' },
    });
    await eventually(() => seen.length === 1);
    expect(seen).toEqual([{ eventType: 'router.create.end', payload: { router: { id: 'r1' } } }]);
  });

  it("re-notifies a registry's after_create in another process, payload class preserved", async () => {
    const [server, agent] = await twoProcesses();
    const here = new CallbackRegistry({ name: 'server' });
    const there = new CallbackRegistry({ name: 'agent' });
    const forwarding = new RegistryBridge(server, { source: 'neutron-server@host-1', logger: quiet });
    const receiving = new RegistryBridge(agent, { source: 'l3-agent@host-2', logger: quiet });
    closers.push(
      () => forwarding.close(),
      () => receiving.close(),
    );
    const received: { payload: EventPayload | undefined; trigger: unknown }[] = [];
    there.subscribe(
      (payload, notification) => void received.push({ payload, trigger: notification.trigger }),
      ROUTER,
      AFTER_CREATE,
    );
    forwarding.forward(here, { resources: [ROUTER] });
    await receiving.receive(there);

    const payload = new DBEventPayload({ user: 'u' }, { states: [{ id: 'r1', name: 'edge' }], resourceId: 'r1' });
    await here.notify(ROUTER, AFTER_CREATE, 'l3-plugin', payload);
    await forwarding.flush();
    await eventually(() => received.length === 1);
    expect(received[0]!.payload).toBeInstanceOf(DBEventPayload);
    expect(received[0]!.payload).toEqual(payload);
    expect(received[0]!.trigger).toBeInstanceOf(RemoteOrigin);
    expect(forwarding.stats).toMatchObject({ forwarded: 1, forwardFailures: 0 });
  });
});
