/**
 * `pooledTopics`: notification topics whose listeners all use a pool get no default queue, which
 * nobody would read and which would grow without end; every pool still gets every notification.
 */
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { afterEach, expect, it } from '@jest/globals';
import { InvalidError } from '@herald/core';
import { NotificationListener, Notifier } from '@herald/messaging';
import { AmqpTransport, type AmqpTransportOptions } from '../src/index.js';
import { brokerUrl, describeWithBroker } from './broker.js';

type Amqplib = typeof import('amqplib');
const amqplib = createRequire(import.meta.url)('amqplib') as Amqplib;

/** Resolves once `check` holds; fails after 10 s. */
async function eventually(check: () => boolean, what: string): Promise<void> {
  for (const started = Date.now(); !check();) {
    if (Date.now() - started > 10_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describeWithBroker('pooledTopics on RabbitMQ', () => {
  let closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.reverse()) await close();
    closers = [];
  });

  /** How many messages `queue` holds, or `undefined` when it does not exist. */
  async function queueLength(queue: string): Promise<number | undefined> {
    const connection = await amqplib.connect(brokerUrl!);
    try {
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      return (await channel.checkQueue(queue)).messageCount;
    } catch (error) {
      if (/NOT_FOUND/.test(String(error))) return undefined;
      throw error;
    } finally {
      await connection.close().catch(() => undefined);
    }
  }

  /** Two pools (audit, billing) on `notifications.info` and a notifier, on one namespace. */
  async function poolsOnly(extra: AmqpTransportOptions) {
    const warnings: string[] = [];
    const options: AmqpTransportOptions = {
      url: brokerUrl,
      namespace: `test-${randomUUID()}`,
      queueExpiresMs: 60_000,
      logger: { error: (m) => void warnings.push(m), warn: (m) => void warnings.push(m) },
      ...extra,
    };
    const transport = await AmqpTransport.connect(options);
    closers.push(() => transport.close({ drainMs: 0 }));
    const notifier = new Notifier(transport, { publisherId: 'network.host-1' });
    const received = new Map<string, string[]>([
      ['audit', []],
      ['billing', []],
    ]);
    const start = async () => {
      for (const [pool, events] of received) {
        const listener = new NotificationListener(transport, {
          pool,
          endpoints: [{ info: (_ctx, _publisher, eventType) => void events.push(eventType) }],
        });
        await listener.start();
        closers.push(() => listener.stop());
      }
    };
    return {
      transport,
      notifier,
      received,
      start,
      warnings,
      defaultQueue: `${options.namespace}.topic.notifications.info`,
    };
  }

  it('declares no default queue for a pooled topic, and each pool still gets every notification', async () => {
    const { notifier, received, start, warnings, defaultQueue } = await poolsOnly({
      pooledTopics: ['notifications.*'],
    });
    // Before any pool listened: nobody keeps it, and the log says so.
    await notifier.info({}, 'router.create.start', {});
    await eventually(() => warnings.length > 0, 'the dropped warning');
    expect(warnings[0]).toMatch(/^No group consumes notifications\.info: message .* was dropped/);

    await start();
    for (const event of ['router.create.end', 'router.update.end', 'router.delete.end']) {
      await notifier.info({}, event, {});
    }
    await eventually(() => [...received.values()].every((events) => events.length === 3), 'both pools');
    expect(Object.fromEntries(received)).toEqual({
      audit: ['router.create.end', 'router.update.end', 'router.delete.end'],
      billing: ['router.create.end', 'router.update.end', 'router.delete.end'],
    });
    expect(await queueLength(defaultQueue)).toBeUndefined();
    expect(warnings).toHaveLength(1);
  });

  it('without it, declares the default queue, which keeps every notification that no listener reads', async () => {
    const { notifier, received, start, defaultQueue } = await poolsOnly({});
    await start();
    for (const event of ['router.create.end', 'router.update.end', 'router.delete.end']) {
      await notifier.info({}, event, {});
    }
    await eventually(() => [...received.values()].every((events) => events.length === 3), 'both pools');
    expect(await queueLength(defaultQueue)).toBe(3);
  });

  it('refuses a pattern that is not a topic or a prefix ending in *, naming it', () => {
    for (const bad of ['', 'two words', 'notifications.*.info', 42]) {
      let error: unknown;
      try {
        new AmqpTransport({ pooledTopics: [bad as string] });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidError);
      expect(error).toMatchObject({ element: 'options.pooledTopics[0]', value: bad });
    }
    expect(() => new AmqpTransport({ pooledTopics: 'notifications.*' as unknown as string[] })).toThrow(InvalidError);
  });
});
