/**
 * Messages that parse but are not Herald's, on RabbitMQ: a notification listener, an RPC server
 * and a durable bridge receiver each send them to the dead letters with the reason, and handle
 * the valid message behind them. (That they get there on the first delivery, without retries,
 * is the transport's part: the contract suite checks that it honours DeadLetterError.)
 */
import { randomUUID } from 'node:crypto';
import { afterEach, expect, it } from '@jest/globals';
import { AFTER_CREATE, CallbackRegistry, DBEventPayload, ROUTER } from '@herald/core';
import {
  durableBridgeTarget,
  NotificationListener,
  Notifier,
  RegistryBridge,
  RpcClient,
  RpcServer,
  toMessage,
  createCloudEvent,
  type NotificationContext,
} from '@herald/messaging';
import { AmqpTransport } from '../src/index.js';
import { brokerUrl, describeWithBroker } from './broker.js';

const quiet = { error: () => undefined, warn: () => undefined };

/** Resolves once `check` holds; fails after 20 s. */
async function eventually(check: () => boolean | Promise<boolean>): Promise<void> {
  for (const started = Date.now(); !(await check());) {
    if (Date.now() - started > 20_000) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describeWithBroker('hostile messages on RabbitMQ', () => {
  let closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.reverse()) await close();
    closers = [];
  });

  async function connect(): Promise<AmqpTransport> {
    const transport = await AmqpTransport.connect({
      url: brokerUrl,
      namespace: `test-${randomUUID()}`,
      queueExpiresMs: 60_000,
      logger: quiet,
    });
    closers.push(() => transport.close({ drainMs: 0 }));
    return transport;
  }

  /** The reasons of the dead letters, once there are `count`. */
  async function reasons(transport: AmqpTransport, count: number): Promise<string[]> {
    await eventually(async () => (await transport.deadLetters()).length >= count);
    return (await transport.deadLetters()).map((letter) => letter.error);
  }

  it('a notification listener dead-letters what is not a notification, and handles the next one', async () => {
    const transport = await connect();
    const seen: string[] = [];
    const listener = new NotificationListener(transport, {
      endpoints: [{ info: (_c: NotificationContext, _p: string, eventType: string) => void seen.push(eventType) }],
      logger: quiet,
    });
    await listener.start();
    closers.push(() => listener.stop());
    const valid = { publisher_id: 'p', event_type: 'x', priority: 'INFO', payload: {}, context: {} };
    for (const body of [{ foo: 1 }, null, { ...valid, priority: 'LOUD' }]) {
      await transport.publish({ topic: 'notifications.info' }, { body });
    }
    await new Notifier(transport, { publisherId: 'network.host-1' }).info({}, 'router.create.end', {});
    expect(await reasons(transport, 3)).toEqual([
      expect.stringMatching(/is not a notification: event_type is undefined/),
      expect.stringMatching(/is not a notification: the body is null/),
      expect.stringMatching(/is not a notification: unknown priority "LOUD"/),
    ]);
    await eventually(() => seen.length === 1);
    expect(seen).toEqual(['router.create.end']);
  }, 30_000);

  it('an RPC server dead-letters what is not an RPC message and casts no endpoint takes', async () => {
    const transport = await connect();
    const casts: string[] = [];
    const server = new RpcServer(transport, { topic: 'agent', server: 'host-1' }, [
      { ping: (_c: object, { n }: { n: string }) => void casts.push(n) },
    ]);
    await server.start();
    closers.push(() => server.stop());
    await transport.publish({ topic: 'agent' }, { body: { foo: 1 } });
    await transport.publish({ topic: 'agent' }, { headers: { 'herald-rpc': 'cast' }, body: null });
    const client = new RpcClient(transport, { topic: 'agent' });
    await client.cast({}, 'no_such_method');
    await client.cast({}, 'ping', { n: 'after' });
    expect(await reasons(transport, 3)).toEqual([
      expect.stringMatching(/is not an RPC message: the message has no method name/),
      expect.stringMatching(/is not an RPC message: an RPC message is an object/),
      expect.stringMatching(/No endpoint takes the cast of 'no_such_method'/),
    ]);
    await eventually(() => casts.length === 1);
  }, 30_000);

  it('a durable bridge receiver dead-letters invalid events and impostors, and handles the next one', async () => {
    const transport = await connect();
    const seen: unknown[] = [];
    const registry = new CallbackRegistry();
    registry.subscribe((payload) => void seen.push(payload), ROUTER, AFTER_CREATE);
    const agent = new RegistryBridge(transport, { source: 'l3-agent@host-2', logger: quiet });
    closers.push(() => agent.close());
    await agent.receive(registry, { group: 'l3-agent' });
    const target = durableBridgeTarget('l3-agent');
    const event = (source: string, data: unknown) =>
      toMessage(createCloudEvent({ source, type: 'herald.router.after_create', data }));
    await transport.publish(target, { body: { foo: 1 } });
    await transport.publish(target, event('x', { resource: 'port', event: AFTER_CREATE, payload: null }));
    await transport.publish(target, event('l3-agent@host-2', { resource: ROUTER, event: AFTER_CREATE, payload: null }));
    const server = new CallbackRegistry();
    const sender = new RegistryBridge(transport, { source: 'neutron-server@host-1', logger: quiet });
    closers.push(() => sender.close());
    sender.forward(server, { resources: [ROUTER], groups: ['l3-agent'] });
    await server.notify(ROUTER, AFTER_CREATE, 'l3', new DBEventPayload({}, { resourceId: 'r1' }));
    expect(await reasons(transport, 3)).toEqual([
      expect.stringMatching(/event.specversion is not valid/),
      expect.stringMatching(/a bridged port after_create event has the type 'herald.port.after_create'/),
      expect.stringMatching(/claims this bridge's own source 'l3-agent@host-2', but this process did not send it/),
    ]);
    await eventually(() => seen.length === 1);
    expect(seen[0]).toBeInstanceOf(DBEventPayload);
  }, 30_000);
});
