import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import { InvalidError } from '@herald/core';
import { CallTimeoutError, TransportError, type Transport } from '@herald/messaging';
import { connect as amqplibConnect } from 'amqplib';
import { AmqpTransport, type AmqpTransportOptions } from '../src/index.js';
import { expectInvalid, inbox, transportContract } from '../../messaging/test/transport.contract.js';
import { brokerUrl, describeWithBroker } from './broker.js';

/** Options for a transport of its own: a fresh namespace, so no test sees another's queues. */
function isolated(extra: AmqpTransportOptions = {}): AmqpTransportOptions {
  return {
    url: brokerUrl,
    namespace: `test-${randomUUID()}`,
    queueExpiresMs: 60_000,
    connectTimeoutMs: 5_000,
    ...extra,
  };
}

describeWithBroker('AmqpTransport on RabbitMQ', () => {
  transportContract('AmqpTransport', () => AmqpTransport.connect(isolated()));
  // Messages sent ahead wait in the consumer: still one delivery at a time, in order.
  transportContract('AmqpTransport with prefetch 20', () => AmqpTransport.connect(isolated({ prefetch: 20 })));
});

describe('AmqpTransport without a broker', () => {
  it('rejects connect with a TransportError naming the broker, once connectTimeoutMs has passed', async () => {
    const started = Date.now();
    const error = await AmqpTransport.connect({ url: 'amqp://guest:secret@127.0.0.1:1', connectTimeoutMs: 300 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TransportError);
    expect((error as Error).message).toContain('amqp://guest:***@127.0.0.1:1');
    expect((error as Error).message).not.toContain('secret');
    expect((error as Error).message).toContain('ECONNREFUSED');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('rejects a publish with a TransportError when the broker stays unreachable, and closes cleanly', async () => {
    const transport = new AmqpTransport({ url: 'amqp://127.0.0.1:1', connectTimeoutMs: 200 });
    await expect(transport.publish({ topic: 't' }, { body: 1 })).rejects.toBeInstanceOf(TransportError);
    await transport.close();
    await expect(transport.publish({ topic: 't' }, { body: 1 })).rejects.toThrow(/closed/);
  });

  it('rejects a request with TransportError (unreachable), not CallTimeoutError, when the broker is down', async () => {
    const transport = new AmqpTransport({ url: 'amqp://127.0.0.1:1', connectTimeoutMs: 10_000 });
    try {
      const error = await transport.request({ topic: 'l3_agent' }, { body: 'sync' }, { timeoutMs: 200 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TransportError);
      expect(error).not.toBeInstanceOf(CallTimeoutError);
      expect((error as Error).message).toMatch(/unreachable for 200 ms/);
    } finally {
      await transport.close();
    }
  });

  it.each([
    ['options that are not an object', 5, 'options'],
    ['a URL that is not AMQP', { url: 'http://rabbit' }, 'options.url'],
    ['an empty namespace', { namespace: '' }, 'options.namespace'],
    ['a namespace with a space', { namespace: 'my app' }, 'options.namespace'],
    ['a delivery limit of 0', { deliveryLimit: 0 }, 'options.deliveryLimit'],
    ['a negative deduplication window', { deduplicationWindow: -1 }, 'options.deduplicationWindow'],
    ['a zero connect timeout', { connectTimeoutMs: 0 }, 'options.connectTimeoutMs'],
    ['a queue expiry that is not a number', { queueExpiresMs: '1h' }, 'options.queueExpiresMs'],
    ['a logger without error()', { logger: {} }, 'options.logger'],
    ['a prefetch of 0', { prefetch: 0 }, 'options.prefetch'],
    ['a zero maxQueueLength', { maxQueueLength: 0 }, 'options.maxQueueLength'],
    ['an unknown queue type', { queueType: 'stream' }, 'options.queueType'],
    ['a maxMessageBytes of 0', { maxMessageBytes: 0 }, 'options.maxMessageBytes'],
    [
      'a retry backoff with a negative delay',
      { retryBackoff: { initialDelayMs: -1 } },
      'options.retryBackoff.initialDelayMs',
    ],
  ])('refuses %s with an InvalidError naming it', (_, options, element) => {
    let error: unknown;
    try {
      new AmqpTransport(options as AmqpTransportOptions);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidError);
    expect((error as InvalidError).element).toBe(element);
  });

  it('names a bad URL without its password', () => {
    let error: unknown;
    try {
      new AmqpTransport({ url: 'http://admin:s3cret@rabbit:5672' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidError);
    expect((error as Error).message).toContain('http://admin:***@rabbit:5672');
    expect((error as Error).message).not.toContain('s3cret');
  });

  it('refuses headers the transport writes itself, and names too long for AMQP, before connecting', async () => {
    const transport = new AmqpTransport({ url: 'amqp://127.0.0.1:1', connectTimeoutMs: 200 });
    try {
      await expectInvalid(
        transport.publish({ topic: 't' }, { headers: { 'x-herald-attempt': '9' }, body: 1 }),
        'message.headers.x-herald-attempt',
      );
      await expectInvalid(transport.publish({ topic: 'x'.repeat(300) }, { body: 1 }), 'target.topic');
      await expectInvalid(
        transport.consume({ topic: 't' }, () => undefined, { group: 'g'.repeat(300) }),
        'options.group',
      );
      await expectInvalid(
        transport.request({ topic: 't', server: 'h'.repeat(300) }, { body: 1 }, { timeoutMs: 10 }),
        'target.server',
      );
    } finally {
      await transport.close();
    }
  });
});

describeWithBroker('AmqpTransport across connections (one per process)', () => {
  const open: Transport[] = [];
  async function connect(options: AmqpTransportOptions): Promise<AmqpTransport> {
    const transport = await AmqpTransport.connect(options);
    open.push(transport);
    return transport;
  }
  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close({ drainMs: 0 })));
  });

  it('keeps a topic message for a consumer that connects later, and shares a group across connections', async () => {
    const options = isolated();
    const publisher = await connect(options);
    await publisher.publish({ topic: 'metering' }, { id: 'early', body: 'early' });
    const [a, b] = [inbox(), inbox()];
    await (await connect(options)).consume({ topic: 'metering' }, a.handler);
    await a.until(1);
    await (await connect(options)).consume({ topic: 'metering' }, b.handler);
    for (const n of [1, 2, 3, 4]) await publisher.publish({ topic: 'metering' }, { body: n });
    await Promise.all([a.until(3), b.until(2)]);
    expect([...a.bodies(), ...b.bodies()].sort()).toEqual([1, 2, 3, 4, 'early']);
  });

  it('answers a request from another connection, and keeps namespaces apart', async () => {
    const options = isolated();
    const server = await connect(options);
    await server.consume({ topic: 'l3_agent', server: 'host-1' }, (d) => ({ echoed: d.body, by: 'host-1' }));
    const client = await connect(options);
    const reply = await client.request({ topic: 'l3_agent', server: 'host-1' }, { body: 'ping' }, { timeoutMs: 2_000 });
    expect(reply.body).toEqual({ echoed: 'ping', by: 'host-1' });
    const stranger = await connect(isolated());
    await expect(
      stranger.request({ topic: 'l3_agent', server: 'host-1' }, { body: 'ping' }, { timeoutMs: 200 }),
    ).rejects.toThrow(/No reply/);
  });

  it('idle() resolves once every message published here has been handled here', async () => {
    const transport = await connect(isolated());
    const handled: number[] = [];
    await transport.consume({ topic: 'slow' }, async (d) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      handled.push(d.body as number);
      if (d.body === 1) await transport.publish({ topic: 'slow', fanout: true }, { body: 'chained' });
    });
    const chained = inbox();
    await transport.consume({ topic: 'slow', fanout: true }, chained.handler);
    for (const n of [1, 2, 3]) await transport.publish({ topic: 'slow' }, { body: n });
    await transport.idle();
    expect(handled).toEqual([1, 2, 3]);
    expect(chained.bodies()).toEqual(['chained']);
  });

  it('buries a message that is not JSON (from another publisher) without calling the handler', async () => {
    const options = isolated();
    const transport = await connect(options);
    const box = inbox();
    await transport.consume({ topic: 'foreign' }, box.handler);
    const model = await amqplibConnect(brokerUrl!);
    try {
      const channel = await model.createConfirmChannel();
      channel.sendToQueue(`${options.namespace}.topic.foreign`, Buffer.from('<xml/>'), { messageId: 'legacy-1' });
      await channel.waitForConfirms();
    } finally {
      await model.close();
    }
    await transport.publish({ topic: 'foreign' }, { body: 'marker' });
    await box.until(1);
    expect(box.bodies()).toEqual(['marker']);
    let letters = await transport.deadLetters();
    for (let i = 0; letters.length === 0 && i < 50; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      letters = await transport.deadLetters();
    }
    expect(letters).toEqual([
      expect.objectContaining({
        delivery: expect.objectContaining({ id: 'legacy-1', body: '<xml/>', attempt: 1 }),
        error: expect.stringContaining('JSON'),
      }),
    ]);
  });

  it('rejects consume with a TransportError when the queue exists with other arguments, and stays usable', async () => {
    const options = isolated();
    const first = await connect(options);
    await first.consume({ topic: 'audit' }, () => undefined, { group: 'billing' });
    const second = await connect({ ...options, queueExpiresMs: 120_000 });
    const error = await second
      .consume({ topic: 'audit' }, () => undefined, { group: 'billing' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(String(error)).toContain('PRECONDITION_FAILED');
    const box = inbox();
    await second.consume({ topic: 'audit', server: 'host-1' }, box.handler);
    await second.publish({ topic: 'audit', server: 'host-1' }, { body: 'still works' });
    await box.until(1);
  });

  it('keeps at most maxQueueLength messages waiting in a queue, dropping the oldest', async () => {
    const transport = await connect(isolated({ maxQueueLength: 2 }));
    for (const n of [1, 2, 3, 4]) await transport.publish({ topic: 'unread' }, { body: n });
    const box = inbox();
    await transport.consume({ topic: 'unread' }, box.handler);
    await box.until(2);
    await transport.idle();
    expect(box.bodies()).toEqual([3, 4]);
  });

  it('declares one delay queue per distinct retry delay, capped at maxDelayMs, again without complaint, and no other', async () => {
    const options = isolated();
    const retryBackoff = { initialDelayMs: 100, multiplier: 2, maxDelayMs: 300 };
    const transport = await connect(options);
    await transport.consume({ topic: 'audit' }, () => undefined, { deliveryLimit: 6, retryBackoff });
    await transport.consume({ topic: 'billing' }, () => undefined, { deliveryLimit: 6, retryBackoff });
    const other = await connect({ ...options, retryBackoff });
    await other.consume({ topic: 'audit' }, () => undefined, { deliveryLimit: 6 });
    const model = await amqplibConnect(brokerUrl!);
    try {
      const exists = async (queue: string): Promise<boolean> => {
        const channel = await model.createChannel();
        channel.on('error', () => undefined);
        return channel.checkQueue(queue).then(
          () => channel.close().then(() => true),
          () => false,
        );
      };
      const delays = [50, 100, 200, 300, 400, 800];
      const found = [];
      for (const delay of delays) if (await exists(`${options.namespace}.retry.${delay}ms`)) found.push(delay);
      expect(found).toEqual([100, 200, 300]);
    } finally {
      await model.close();
    }
  });

  it('keeps a retry in the delay queue of the broker, not in the process: another transport handles it', async () => {
    const options = isolated();
    const first = await connect(options);
    const failed = inbox(() => {
      throw new Error('dependency down');
    });
    await first.consume({ topic: 'orders' }, failed.handler, { retryBackoff: { initialDelayMs: 1_000 } });
    await first.publish({ topic: 'orders' }, { id: 'order-1', body: 'order' });
    await failed.until(1);
    const model = await amqplibConnect(brokerUrl!);
    try {
      const channel = await model.createChannel();
      let waiting = 0;
      for (let i = 0; waiting === 0 && i < 50; i++) {
        ({ messageCount: waiting } = await channel.checkQueue(`${options.namespace}.retry.1000ms`));
        if (waiting === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(waiting).toBe(1);
    } finally {
      await model.close();
    }
    await first.close({ drainMs: 0 });
    const second = await connect(options);
    const handled = inbox();
    await second.consume({ topic: 'orders' }, handled.handler, { retryBackoff: { initialDelayMs: 1_000 } });
    const [retried] = await handled.until(1);
    expect(retried).toMatchObject({ id: 'order-1', body: 'order', attempt: 2, target: { topic: 'orders' } });
  });

  it('counts a delivery whose consumer went away once, also after a failed retry (the copy does not carry the count)', async () => {
    const options = isolated();
    const first = await connect(options);
    const started = inbox(() => new Promise(() => undefined));
    await first.consume({ topic: 'orders' }, started.handler);
    await first.publish({ topic: 'orders' }, { id: 'order-1', body: 'order' });
    await started.until(1);
    // Gone without settling it, as a crash: the broker delivers it again, counted.
    await first.close({ drainMs: 0 });
    const second = await connect(options);
    const box = inbox((d) => {
      if (d.attempt === 2) throw new Error('fails once more');
    });
    await second.consume({ topic: 'orders' }, box.handler);
    await box.until(2);
    expect(box.deliveries.map((d) => d.attempt)).toEqual([2, 3]);
  });

  it('acknowledges what was handled behind a hung delivery (no stall), and never the hung one: it comes back', async () => {
    const options = isolated();
    const first = await connect(options);
    const box = inbox((d) => (d.body === 'hangs' ? new Promise(() => undefined) : undefined));
    // Two at once, so two ahead: one slot stays hung, the other must keep the window moving.
    await first.consume({ topic: 'orders' }, box.handler, { concurrency: 2 });
    for (const body of ['hangs', 'a', 'b', 'c', 'd', 'e']) await first.publish({ topic: 'orders' }, { body });
    await box.until(6);
    await first.close({ drainMs: 0 });
    const second = await connect(options);
    const again = inbox();
    await second.consume({ topic: 'orders' }, again.handler);
    await second.publish({ topic: 'orders' }, { body: 'marker' });
    await again.until(2);
    expect(again.deliveries.map((d) => `${String(d.body)} ${d.attempt}`).sort()).toEqual(['hangs 2', 'marker 1']);
  });

  it('acknowledges every handled delivery of a burst before the transport closes: none comes again', async () => {
    const options = isolated({ prefetch: 20 });
    const first = await connect(options);
    const box = inbox();
    await first.consume({ topic: 'orders' }, box.handler);
    await Promise.all(Array.from({ length: 45 }, (_, n) => first.publish({ topic: 'orders' }, { body: n })));
    await box.until(45);
    await first.close();
    const second = await connect(options);
    const again = inbox();
    await second.consume({ topic: 'orders' }, again.handler);
    await second.publish({ topic: 'orders' }, { body: 'marker' });
    await again.until(1);
    expect(again.bodies()).toEqual(['marker']);
  });

  it('moves a message that keeps failing to the dead-letter queue, readable with its error and group', async () => {
    const options = isolated();
    const transport = await connect(options);
    const box = inbox(() => {
      throw new Error('port not found');
    });
    await transport.consume({ topic: 'dhcp_agent' }, box.handler, { group: 'dhcp', deliveryLimit: 2 });
    await transport.publish(
      { topic: 'dhcp_agent' },
      { id: 'port-9', headers: { traceparent: 't' }, body: { port: 9 } },
    );
    await box.until(2);
    let letters = await transport.deadLetters();
    for (let i = 0; letters.length === 0 && i < 50; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      letters = await transport.deadLetters();
    }
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      target: { topic: 'dhcp_agent' },
      group: 'dhcp',
      error: 'port not found',
      delivery: { id: 'port-9', headers: { traceparent: 't' }, body: { port: 9 }, attempt: 2 },
    });
    // Reading them leaves them there.
    expect(await transport.deadLetters()).toHaveLength(1);
    expect(transport.deadLetterQueue).toBe(`${options.namespace}.dead-letters`);
  });
});
