import { afterAll, beforeAll, expect, it } from '@jest/globals';
import {
  NotificationListener,
  Notifier,
  type NotificationContext,
  type NotificationEndpoint,
  type NotificationMetadata,
} from '@herald/messaging';
import type { OsloTransport } from '@herald/oslo';
import { describeWithOslo, silentLogger, startScenario, until, type OsloScenario, type PythonPeer } from './peer.js';

interface Heard {
  readonly context: NotificationContext;
  readonly publisherId: string;
  readonly eventType: string;
  readonly payload: unknown;
  readonly metadata: NotificationMetadata;
}

/** An endpoint of priority `info` that records what it hears (and may fail the first delivery). */
function recorder(failFirst = false): NotificationEndpoint & { heard: Heard[]; attempts: number } {
  const endpoint = {
    heard: [] as Heard[],
    attempts: 0,
    info(
      context: NotificationContext,
      publisherId: string,
      eventType: string,
      payload: unknown,
      metadata: NotificationMetadata,
    ) {
      endpoint.attempts++;
      if (failFirst && endpoint.attempts === 1) throw new Error('not ready yet');
      endpoint.heard.push({ context, publisherId, eventType, payload, metadata });
    },
  };
  return endpoint;
}

/** Lets messages that should not come have their chance to come. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 500));

describeWithOslo('notifications between Herald and oslo.messaging (control exchange neutron)', () => {
  let peer: PythonPeer;
  let transport: OsloTransport;
  const listeners: NotificationListener[] = [];

  async function listen(options: { topics: string[]; pool?: string; endpoint: NotificationEndpoint }) {
    const listener = new NotificationListener(transport, {
      topics: options.topics,
      endpoints: [options.endpoint],
      logger: silentLogger,
      ...(options.pool !== undefined && { pool: options.pool }),
    });
    await listener.start();
    listeners.push(listener);
    return listener;
  }

  let scenario: OsloScenario | undefined;

  beforeAll(async () => {
    scenario = await startScenario();
    ({ peer, transport } = scenario);
  }, 90_000);

  afterAll(async () => {
    await Promise.allSettled(listeners.map((listener) => listener.stop()));
    await scenario?.end();
  }, 60_000);

  it('a Python NotificationListener hears a Herald Notifier: event type, priority, publisher, payload, context', async () => {
    await peer.command('listen', { name: 'ceilometer', topics: ['herald_n1'] });
    const notifier = new Notifier(transport, { publisherId: 'network.herald-1', topics: ['herald_n1'] });
    await notifier.error({ request_id: 'req-1', user_id: 'u1' }, 'router.update.error', { router_id: 'r1' });
    const heard = await peer.waitForEvent((e) => e.event === 'notification' && e.listener === 'ceilometer');
    expect(heard).toMatchObject({
      priority: 'error',
      publisher_id: 'network.herald-1',
      event_type: 'router.update.error',
      payload: { router_id: 'r1' },
      ctxt: { request_id: 'req-1', user_id: 'u1' },
    });
    // Python's own str(datetime), as a Python notifier writes it.
    expect((heard.metadata as { timestamp: string }).timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?$/);
  });

  it('a Herald NotificationListener hears a Python Notifier, with an ISO timestamp', async () => {
    const endpoint = recorder();
    await listen({ topics: ['py_n1'], endpoint });
    await peer.command('notify', {
      topics: ['py_n1'],
      publisher_id: 'compute.host-9',
      priority: 'info',
      event_type: 'port.create.end',
      payload: { port: { id: 'p1' } },
      ctxt: { request_id: 'req-2' },
    });
    await until(() => endpoint.heard.length === 1);
    expect(endpoint.heard[0]).toMatchObject({
      publisherId: 'compute.host-9',
      eventType: 'port.create.end',
      payload: { port: { id: 'p1' } },
      context: { request_id: 'req-2' },
    });
    expect(endpoint.heard[0]!.metadata.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('gives each pool, Herald or Python, every notification, shared within the pool', async () => {
    const billingA = recorder();
    const billingB = recorder();
    const audit = recorder();
    await listen({ topics: ['pools'], pool: 'billing', endpoint: billingA });
    await listen({ topics: ['pools'], pool: 'billing', endpoint: billingB });
    await listen({ topics: ['pools'], pool: 'audit', endpoint: audit });
    await peer.command('listen', { name: 'py-audit', topics: ['pools'], pool: 'py-audit' });
    // A Herald listener and a Python one in one pool share its queue.
    const mixed = recorder();
    await listen({ topics: ['pools'], pool: 'mixed', endpoint: mixed });
    await peer.command('listen', { name: 'py-mixed', topics: ['pools'], pool: 'mixed' });
    const count = 6;
    for (let n = 0; n < count; n++) {
      await peer.command('notify', {
        topics: ['pools'],
        publisher_id: 'p',
        priority: 'info',
        event_type: 'e',
        payload: { n },
      });
    }
    const pythonHeard = (name: string) => peer.events.filter((e) => e.event === 'notification' && e.listener === name);
    await until(() => billingA.heard.length + billingB.heard.length === count && audit.heard.length === count);
    await until(() => pythonHeard('py-audit').length === count);
    await until(() => mixed.heard.length + pythonHeard('py-mixed').length === count);
    await settle();
    expect(billingA.heard.length + billingB.heard.length).toBe(count);
    expect(mixed.heard.length + pythonHeard('py-mixed').length).toBe(count);
    expect(audit.heard.map((h) => h.payload)).toEqual(Array.from({ length: count }, (_, n) => ({ n })));
  });

  it('handles a message Python sent twice with one _unique_id once, as oslo does', async () => {
    const endpoint = recorder();
    await listen({ topics: ['twice'], endpoint });
    await peer.command('publish_twice', {
      routing_key: 'twice.info',
      message: {
        message_id: 'm-1',
        publisher_id: 'p',
        event_type: 'port.delete.end',
        priority: 'INFO',
        payload: { port_id: 'p1' },
        timestamp: '2026-12-07 03:45:00.123456',
      },
    });
    await until(() => endpoint.heard.length === 1);
    await settle();
    expect(endpoint.heard).toHaveLength(1);
    expect(endpoint.heard[0]!.metadata.timestamp).toBe('2026-12-07T03:45:00.123Z');
  });

  it('a Python listener drops a message Herald sends again with the id of one it handled, as Herald does', async () => {
    await peer.command('listen', { name: 'py-twice', topics: ['h_twice'] });
    const body = {
      message_id: 'm-2',
      publisher_id: 'network.herald-1',
      event_type: 'network.delete.end',
      priority: 'INFO',
      payload: { network_id: 'n1' },
      timestamp: new Date().toISOString(),
      context: {},
    };
    // Again once the first was handled, as a redelivery comes: oslo remembers an id when it
    // acknowledges its message, so two copies taken before that would both run there.
    await transport.publish({ topic: 'h_twice.info' }, { id: 'same-id', body });
    await peer.waitForEvent((e) => e.event === 'notification' && e.listener === 'py-twice');
    await settle();
    await transport.publish({ topic: 'h_twice.info' }, { id: 'same-id', body });
    await settle();
    expect(peer.events.filter((e) => e.listener === 'py-twice')).toHaveLength(1);
  });

  it('redelivers a notification whose endpoint failed, then drops the duplicate of the handled one', async () => {
    const endpoint = recorder(true);
    await listen({ topics: ['retry'], endpoint });
    await peer.command('publish_twice', {
      routing_key: 'retry.info',
      message: {
        message_id: 'm-3',
        publisher_id: 'p',
        event_type: 'e',
        priority: 'INFO',
        payload: {},
        timestamp: 'now',
      },
    });
    await until(() => endpoint.heard.length === 1);
    await settle();
    // The first delivery failed and was retried; the second copy was a duplicate of a handled one.
    expect(endpoint.attempts).toBe(2);
    expect(endpoint.heard).toHaveLength(1);
  });
});
