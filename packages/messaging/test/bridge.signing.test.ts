/**
 * Sender authentication on the registry bridge: signed events, trusted keys, and impostors
 * (a wrong or missing signature, a key used for a source it may not sign for, a claim to be the
 * receiver itself) dead-lettered with the reason.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { AFTER_CREATE, CallbackRegistry, DBEventPayload, ROUTER, type EventPayload } from '@herald/core';
import {
  BRIDGE_TOPIC,
  canonicalEvent,
  createCloudEvent,
  InMemoryTransport,
  KEY_ID_HEADER,
  RegistryBridge,
  SIGNATURE_HEADER,
  signatureHeaders,
  checkKey,
  toMessage,
  type BridgeKey,
  type CloudEvent,
  type Target,
} from '../src/index.js';
import { invalid } from './transport.contract.js';

const quiet = { error: () => undefined, warn: () => undefined };
const FANOUT: Target = { topic: BRIDGE_TOPIC, fanout: true };

const serverKey: BridgeKey = { id: 'server-1', secret: randomBytes(32), sources: ['neutron-server@host-1'] };
const agentKey: BridgeKey = { id: 'agent-1', secret: randomBytes(32), sources: ['l3-agent@host-2'] };

function received(registry: CallbackRegistry): (EventPayload | undefined)[] {
  const seen: (EventPayload | undefined)[] = [];
  registry.subscribe((payload) => void seen.push(payload), ROUTER, AFTER_CREATE);
  return seen;
}

/** A bridged router after_create event claiming `source`, as a hostile publisher would build it. */
function forged(source: string, id = 'forged-1'): CloudEvent {
  return createCloudEvent({
    source,
    id,
    type: 'herald.router.after_create',
    data: { resource: ROUTER, event: AFTER_CREATE, payload: null },
  });
}

async function agentTrusting(transport: InMemoryTransport, trustedKeys: readonly BridgeKey[] | undefined) {
  const registry = new CallbackRegistry();
  const seen = received(registry);
  const bridge = new RegistryBridge(transport, {
    source: 'l3-agent@host-2',
    logger: quiet,
    signWith: agentKey,
    ...(trustedKeys !== undefined && { trustedKeys }),
  });
  await bridge.receive(registry);
  return { registry, seen, bridge };
}

describe('RegistryBridge signatures', () => {
  it("accepts an event signed with a trusted key for its source, the payload's class intact", async () => {
    const transport = new InMemoryTransport();
    const agent = await agentTrusting(transport, [serverKey]);
    const server = new CallbackRegistry();
    const sender = new RegistryBridge(transport, { source: 'neutron-server@host-1', signWith: serverKey });
    sender.forward(server, { resources: [ROUTER] });
    await server.notify(ROUTER, AFTER_CREATE, 'l3', new DBEventPayload({}, { resourceId: 'r1' }));
    await sender.flush();
    await transport.idle();
    expect(agent.seen).toHaveLength(1);
    expect(agent.seen[0]).toBeInstanceOf(DBEventPayload);
    expect(transport.deadLetters()).toEqual([]);
    await transport.close();
  });

  it('dead-letters, each with its reason, unsigned, wrongly signed, unknown-key and other-source events', async () => {
    const transport = new InMemoryTransport();
    const agent = await agentTrusting(transport, [serverKey]);
    const publish = (event: CloudEvent, headers: Record<string, string> = {}) => {
      const message = toMessage(event);
      return transport.publish(FANOUT, { ...message, headers: { ...message.headers, ...headers } });
    };
    const server = checkKey('serverKey', serverKey);
    // 1. not signed at all
    await publish(forged('neutron-server@host-1', 'e1'));
    // 2. signed, then its data changed on the way
    const altered = forged('neutron-server@host-1', 'e2');
    const headers = signatureHeaders(altered, server);
    await publish(
      { ...altered, data: { resource: ROUTER, event: AFTER_CREATE, payload: { kind: 'EventPayload' } } },
      {
        ...headers,
      },
    );
    // 3. signed with a key nobody here knows
    const stranger = checkKey('stranger', {
      id: 'stranger',
      secret: randomBytes(32),
      sources: ['neutron-server@host-1'],
    });
    const e3 = forged('neutron-server@host-1', 'e3');
    await publish(e3, { ...signatureHeaders(e3, stranger) });
    // 4. a trusted key, but for a source it may not sign for
    const e4 = forged('dhcp-agent@host-3', 'e4');
    await publish(e4, { ...signatureHeaders(e4, server) });
    // 5. the right key id, the wrong secret
    const e5 = forged('neutron-server@host-1', 'e5');
    await publish(e5, {
      ...signatureHeaders(e5, checkKey('fake', { ...serverKey, secret: randomBytes(32) })),
    });
    await transport.idle();

    expect(agent.seen).toEqual([]);
    expect(agent.bridge.stats.rejected).toBe(5);
    expect(transport.deadLetters().map((l) => l.error)).toEqual([
      expect.stringMatching(/event e1 from 'neutron-server@host-1' is refused: it is not signed/),
      expect.stringMatching(/event e2 .* its signature does not match key "server-1"/),
      expect.stringMatching(/event e3 .* it is signed with the unknown key "stranger"/),
      expect.stringMatching(/event e4 .* claims the source "dhcp-agent@host-3", which key "server-1" may not sign for/),
      expect.stringMatching(/event e5 .* its signature does not match key "server-1"/),
    ]);
    expect(transport.deadLetters().map((l) => l.delivery.attempt)).toEqual([1, 1, 1, 1, 1]);
    await transport.close();
  });

  it("dead-letters an event that claims the receiver's own source unless it sent or signed it", async () => {
    const transport = new InMemoryTransport();
    const agent = await agentTrusting(transport, undefined); // no trusted keys: others are not checked
    // Its own events come back on the fanout: skipped, not dead-lettered.
    agent.bridge.forward(agent.registry, { resources: [ROUTER] });
    await agent.registry.notify(ROUTER, AFTER_CREATE, 'l3', new DBEventPayload({}, { resourceId: 'mine' }));
    await agent.bridge.flush();
    // Signed with its own key (e.g. by an earlier run of this process): skipped too.
    const earlier = forged('l3-agent@host-2', 'earlier');
    const earlierMessage = toMessage(earlier);
    await transport.publish(FANOUT, {
      ...earlierMessage,
      headers: { ...earlierMessage.headers, ...signatureHeaders(earlier, checkKey('agentKey', agentKey)) },
    });
    // Claims to be the agent, unsigned: an impostor.
    await transport.publish(FANOUT, toMessage(forged('l3-agent@host-2', 'impostor')));
    await transport.idle();

    expect(agent.seen.map((p) => p?.resourceId)).toEqual(['mine']); // the local notification only
    expect(agent.bridge.stats).toMatchObject({ ownSkipped: 2, rejected: 1, received: 0 });
    expect(transport.deadLetters().map((l) => l.error)).toEqual([
      expect.stringMatching(
        /event impostor claims this bridge's own source 'l3-agent@host-2', but this process did not send it and it is not signed with its key/,
      ),
    ]);
    await transport.close();
  });

  it('signs over id, source, type, time, subject and data in a canonical JSON form', () => {
    const event = createCloudEvent({ source: 's', id: 'e1', type: 't', data: { b: [1, { d: 2, c: 3 }], a: null } });
    expect(canonicalEvent(event)).toBe(
      `["e1","s","t",${JSON.stringify(event.time)},null,{"a":null,"b":[1,{"c":3,"d":2}]}]`,
    );
    const key = checkKey('key', serverKey);
    const headers = signatureHeaders(event, key);
    expect(headers[KEY_ID_HEADER]).toBe('server-1');
    expect(headers[SIGNATURE_HEADER]).toMatch(/^sha256=[0-9a-f]{64}$/);
    // Key order does not change the signature; any attribute it covers does.
    expect(signatureHeaders({ ...event, data: { a: null, b: [1, { c: 3, d: 2 }] } }, key)).toEqual(headers);
    for (const change of [
      { id: 'e2' },
      { source: 't' },
      { type: 'u' },
      { subject: 'x' },
      { time: '2020-01-01T00:00:00Z' },
    ]) {
      expect(signatureHeaders({ ...event, ...change }, key)).not.toEqual(headers);
    }
  });

  it('refuses short secrets, empty ids or sources, and a signWith key that may not sign for the source', () => {
    const transport = new InMemoryTransport();
    const element = (options: object) =>
      invalid(() => new RegistryBridge(transport, { source: 'neutron-server@host-1', ...options })).element;
    expect(element({ signWith: { ...serverKey, secret: 'too short' } })).toBe('options.signWith.secret');
    expect(element({ signWith: { ...serverKey, id: '' } })).toBe('options.signWith.id');
    expect(element({ signWith: agentKey })).toBe('options.signWith.sources');
    expect(element({ trustedKeys: [{ ...serverKey, sources: [] }] })).toBe('options.trustedKeys[0].sources');
    expect(element({ trustedKeys: serverKey })).toBe('options.trustedKeys');
  });
});
