/**
 * `trustedUsers`: a receiving bridge ties each source to the broker user that must have published
 * its events (`Delivery.brokerUser`, AMQP's broker-checked `user_id`); an event from another
 * user, or from a source it does not know, is dead-lettered with the reason. The broker is played
 * here by a transport wrapper that stamps each delivery with the user its publisher connected as.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { AFTER_CREATE, CallbackRegistry, DBEventPayload, ROUTER, type EventPayload } from '@herald/core';
import {
  InMemoryTransport,
  RegistryBridge,
  type BridgeKey,
  type RegistryBridgeOptions,
  type Transport,
} from '../src/index.js';
import { invalid } from './transport.contract.js';

const quiet = { error: () => undefined, warn: () => undefined };
/** Where the wrapper carries the publisher's user (a broker keeps it in the message's properties). */
const USER = 'test-broker-user';

/** `inner` as a process connected as broker user `user` sees it (`undefined`: sets no user_id). */
function connectedAs(inner: InMemoryTransport, user: string | undefined): Transport {
  return {
    publish: (target, message) =>
      inner.publish(target, {
        ...message,
        headers: { ...message.headers, ...(user !== undefined && { [USER]: user }) },
      }),
    consume: (target, handler, options) =>
      inner.consume(
        target,
        (delivery) => {
          const brokerUser = delivery.headers[USER];
          return handler(brokerUser === undefined ? delivery : { ...delivery, brokerUser });
        },
        options,
      ),
    request: (target, message, options) => inner.request(target, message, options),
    close: (options) => inner.close(options),
  };
}

/** A server process of `source`, connected as `user`, forwarding router creations (signed with `key`). */
function server(inner: InMemoryTransport, source: string, user: string | undefined, key?: BridgeKey) {
  const registry = new CallbackRegistry();
  const bridge = new RegistryBridge(connectedAs(inner, user), {
    source,
    logger: quiet,
    ...(key !== undefined && { signWith: key }),
  });
  bridge.forward(registry, { resources: [ROUTER] });
  return async (id: string) => {
    await registry.notify(ROUTER, AFTER_CREATE, 'l3', new DBEventPayload({}, { resourceId: id }));
    await bridge.flush();
  };
}

async function agent(inner: InMemoryTransport, options: Partial<RegistryBridgeOptions>) {
  const registry = new CallbackRegistry();
  const seen: string[] = [];
  registry.subscribe(
    (payload: EventPayload | undefined) => void seen.push(String(payload?.resourceId)),
    ROUTER,
    AFTER_CREATE,
  );
  const bridge = new RegistryBridge(connectedAs(inner, 'l3-agent'), {
    source: 'l3-agent@host-2',
    logger: quiet,
    ...options,
  });
  await bridge.receive(registry);
  return { seen, bridge };
}

describe('RegistryBridge trustedUsers', () => {
  it("takes a source's events only from its broker user; the others are dead-lettered with the reason", async () => {
    const inner = new InMemoryTransport();
    const receiver = await agent(inner, {
      trustedUsers: { 'neutron-server@*': 'neutron', 'neutron-server@host-9': 'neutron-9' },
    });
    await server(inner, 'neutron-server@host-1', 'neutron')('from-neutron');
    await server(inner, 'neutron-server@host-1', 'mallory')('from-mallory');
    await server(inner, 'neutron-server@host-9', 'neutron')('wrong-for-host-9'); // the longer entry wins
    await server(inner, 'neutron-server@host-9', 'neutron-9')('from-neutron-9');
    await server(inner, 'dhcp-agent@host-3', 'dhcp')('unknown-source');
    await server(inner, 'neutron-server@host-1', undefined)('no-user');
    await inner.idle();

    expect(receiver.seen).toEqual(['from-neutron', 'from-neutron-9']);
    expect(receiver.bridge.stats.rejected).toBe(4);
    expect(inner.deadLetters().map((l) => l.error)).toEqual([
      expect.stringMatching(
        /from 'neutron-server@host-1' is refused: that source publishes as broker user 'neutron', but broker user 'mallory' published it$/,
      ),
      expect.stringMatching(
        /from 'neutron-server@host-9' is refused: .* as broker user 'neutron-9', but broker user 'neutron' published it$/,
      ),
      expect.stringMatching(/from 'dhcp-agent@host-3' is refused: trustedUsers names no broker user for that source$/),
      expect.stringMatching(
        /from 'neutron-server@host-1' is refused: .* but the delivery names no broker user \(no user_id\)$/,
      ),
    ]);
    await inner.close();
  });

  it('adds to trustedKeys: a well-signed event from the wrong broker user is refused', async () => {
    const inner = new InMemoryTransport();
    const key: BridgeKey = { id: 'server-1', secret: randomBytes(32), sources: ['neutron-server@host-1'] };
    const receiver = await agent(inner, { trustedKeys: [key], trustedUsers: { 'neutron-server@host-1': 'neutron' } });
    await server(inner, 'neutron-server@host-1', 'neutron', key)('signed-right-user');
    await server(inner, 'neutron-server@host-1', 'mallory', key)('signed-wrong-user');
    await server(inner, 'neutron-server@host-1', 'neutron')('unsigned-right-user');
    await inner.idle();
    expect(receiver.seen).toEqual(['signed-right-user']);
    expect(inner.deadLetters().map((l) => l.error)).toEqual([
      expect.stringMatching(/but broker user 'mallory' published it$/),
      expect.stringMatching(/is refused: it is not signed/),
    ]);
    await inner.close();
  });

  it('refuses every event on a transport that reports no broker user (InMemoryTransport)', async () => {
    const transport = new InMemoryTransport();
    const registry = new CallbackRegistry();
    const receiver = new RegistryBridge(transport, {
      source: 'l3-agent@host-2',
      logger: quiet,
      trustedUsers: { 'neutron-server@*': 'neutron' },
    });
    await receiver.receive(registry);
    const sender = new RegistryBridge(transport, { source: 'neutron-server@host-1', logger: quiet });
    const serverRegistry = new CallbackRegistry();
    sender.forward(serverRegistry, { resources: [ROUTER] });
    await serverRegistry.notify(ROUTER, AFTER_CREATE, 'l3', new DBEventPayload({}, { resourceId: 'r1' }));
    await sender.flush();
    await transport.idle();
    expect(transport.deadLetters().map((l) => l.error)).toEqual([expect.stringMatching(/names no broker user/)]);
    await transport.close();
  });

  it('refuses bad trustedUsers, naming the entry', () => {
    const make = (trustedUsers: unknown) => () =>
      new RegistryBridge(new InMemoryTransport(), {
        source: 'l3-agent@host-2',
        trustedUsers: trustedUsers as Record<string, string>,
      });
    expect(invalid(make(['neutron'])).element).toBe('options.trustedUsers');
    expect(invalid(make(null)).element).toBe('options.trustedUsers');
    expect(invalid(make({ 'neutron-*@host': 'neutron' })).value).toBe('neutron-*@host');
    expect(invalid(make({ 'neutron-server@*': '' })).element).toBe("options.trustedUsers['neutron-server@*']");
  });
});
