/**
 * What happens when the broker drops every connection, or restarts: the transport reconnects,
 * declares its topology and consumers again, and sends what it had not got confirmed. The broker
 * is a node of this file's own (own-broker.ts), driven with `rabbitmqctl`.
 */
import { randomUUID } from 'node:crypto';
import { it, expect } from '@jest/globals';
import { TransportError } from '@herald/messaging';
import { AmqpTransport } from '../src/index.js';
import { gate, inbox } from '../../messaging/test/transport.contract.js';
import { describeWithOwnBroker, ownBroker } from './own-broker.js';

describeWithOwnBroker('AmqpTransport after the broker dropped its connection', () => {
  const broker = ownBroker();
  const rabbitmqctl = (...args: string[]): Promise<string> => broker.current().rabbitmqctl(...args);
  /** Has the broker close every client connection, as it does when it shuts down. */
  const dropAllConnections = (): Promise<string> => rabbitmqctl('close_all_connections', 'herald reconnect test');

  it('reconnects, consumes again, and loses no confirmed message', async () => {
    const warnings: string[] = [];
    const transport = await AmqpTransport.connect({
      url: broker.current().url,
      namespace: `test-${randomUUID()}`,
      queueExpiresMs: 60_000,
      logger: { error: (m) => void warnings.push(m), warn: (m) => void warnings.push(m) },
    });
    try {
      const [shared, host] = [inbox(), inbox()];
      await transport.consume({ topic: 'l3_agent' }, shared.handler);
      await transport.consume({ topic: 'l3_agent', server: 'host-1' }, host.handler);
      const stuck = gate();
      await transport.consume({ topic: 'l3_agent', server: 'slow' }, () => stuck.promise);
      await transport.publish({ topic: 'l3_agent' }, { body: 'before' });
      await shared.until(1);
      const waiting = transport
        .request({ topic: 'l3_agent', server: 'slow' }, { body: 'sync' }, { timeoutMs: 120_000 })
        .catch((e: unknown) => e);

      await dropAllConnections();
      // Waits for the new connection, then resolves on the broker's confirm.
      await transport.publish({ topic: 'l3_agent' }, { body: 'after' });
      await transport.publish({ topic: 'l3_agent', server: 'host-1' }, { body: 'to host-1' });
      await shared.until(2);
      await host.until(1);
      expect(shared.bodies()).toEqual(['before', 'after']);
      expect(host.bodies()).toEqual(['to host-1']);
      // Its reply would have come back on the lost connection: it fails at once, not at its timeout.
      expect(await waiting).toBeInstanceOf(TransportError);
      expect(String(await waiting)).toContain('lost');
      stuck.open();
      expect(warnings.some((w) => w.includes('Lost the connection'))).toBe(true);
    } finally {
      await transport.close({ drainMs: 0 });
    }
  }, 120_000); // rabbitmqctl starts an Erlang VM: 0.5 s here, over 10 s on a loaded machine

  it('keeps a confirmed message across a broker restart, and consumes again after it', async () => {
    const options = {
      url: broker.current().url,
      namespace: `test-${randomUUID()}`,
      queueExpiresMs: 60_000,
      connectTimeoutMs: 30_000,
    };
    const quiet = { error: () => undefined, warn: () => undefined };
    const transport = await AmqpTransport.connect({ ...options, logger: quiet });
    try {
      const host = inbox();
      await transport.consume({ topic: 'l3_agent', server: 'host-1' }, host.handler);
      // Confirmed, waiting in the topic's durable queue: nobody consumes it yet.
      await transport.publish({ topic: 'l3_agent' }, { id: 'kept', body: 'published before the restart' });

      // The RabbitMQ application restarts inside its node: every connection goes, the queues are
      // read back from disk.
      await rabbitmqctl('stop_app');
      await rabbitmqctl('start_app');

      const shared = inbox();
      await transport.consume({ topic: 'l3_agent' }, shared.handler);
      const [kept] = await shared.until(1);
      expect(kept).toMatchObject({ id: 'kept', body: 'published before the restart' });
      await transport.publish({ topic: 'l3_agent', server: 'host-1' }, { body: 'after the restart' });
      await host.until(1);
      expect(host.bodies()).toEqual(['after the restart']);
    } finally {
      await transport.close({ drainMs: 0 });
    }
  }, 120_000);
});
