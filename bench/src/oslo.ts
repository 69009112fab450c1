/**
 * `npm run bench:oslo [-- --rounds 3 --calls 500 --notifications 2000]`: Herald's notifier,
 * listener, RPC client and server on `@herald/oslo`'s `OsloTransport` (oslo.messaging's wire
 * format) side by side with the same classes on `@herald/amqp`'s `AmqpTransport`, on one RabbitMQ
 * broker (the one `scripts/rabbitmq.mjs` finds or starts), round after round in one process.
 *
 * - calls: one `RpcClient.call` at a time to an `RpcServer` in the same process, milliseconds each;
 * - notifications: `notifications` `Notifier.info` started together, timed until one
 *   `NotificationListener` handled the last.
 *
 * The oslo rows use oslo's default queues (non-durable) with `autoDelete`, so that its topic queues
 * go with their consumers (its fanout and reply queues expire after 30 minutes, as oslo's); the
 * AMQP rows use Herald's durable quorum queues. Compare ratios within one run.
 * @module
 */

import { randomUUID } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { AmqpTransport } from '@herald/amqp';
import { NotificationListener, Notifier, RpcClient, RpcServer, type Transport } from '@herald/messaging';
import { OsloTransport } from '@herald/oslo';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    calls: { type: 'string', default: '500' },
    notifications: { type: 'string', default: '2000' },
  },
});
const rounds = Number(args.rounds);
const calls = Number(args.calls);
const notifications = Number(args.notifications);

interface Broker {
  url: string;
  stop(): Promise<void>;
}
const script = pathToFileURL(fileURLToPath(new URL('../../scripts/rabbitmq.mjs', import.meta.url))).href;
const { obtainBroker } = (await import(script)) as { obtainBroker(options: object): Promise<Broker> };

const silent = { error: () => undefined, warn: () => undefined };

/** Milliseconds per call, after 50 calls to warm up. */
async function callLatency(transport: Transport): Promise<number> {
  const topic = `bench_${randomUUID().slice(0, 8)}`;
  const server = new RpcServer(transport, { topic, server: 'h' }, [{ echo: (_: unknown, a: unknown) => a }], {
    logger: silent,
  });
  await server.start();
  const client = new RpcClient(transport, { topic, server: 'h' }, { timeoutMs: 10_000 });
  for (let i = 0; i < 50; i++) await client.call({}, 'echo', { i });
  const started = performance.now();
  for (let i = 0; i < calls; i++) await client.call({ request_id: 'req' }, 'echo', { i });
  const perCall = (performance.now() - started) / calls;
  await server.stop();
  return perCall;
}

/** Notifications per second, published together, until the listener handled the last. */
async function notificationRate(transport: Transport): Promise<number> {
  const topic = `bench_${randomUUID().slice(0, 8)}`;
  let handled = 0;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  const endpoint = { info: () => void (++handled === notifications && done()) };
  const listener = new NotificationListener(transport, { topics: [topic], endpoints: [endpoint], logger: silent });
  await listener.start();
  const notifier = new Notifier(transport, { publisherId: 'bench', topics: [topic] });
  const started = performance.now();
  await Promise.all(Array.from({ length: notifications }, (_, i) => notifier.info({}, 'port.create.end', { i })));
  await all;
  const rate = notifications / ((performance.now() - started) / 1000);
  await listener.stop();
  return rate;
}

const broker = await obtainBroker({});
const oslo = await OsloTransport.connect({
  url: broker.url,
  controlExchange: `herald-bench-${randomUUID().slice(0, 8)}`,
  autoDelete: true,
  logger: silent,
});
const amqp = await AmqpTransport.connect({
  url: broker.url,
  namespace: `bench-${randomUUID()}`,
  queueExpiresMs: 60_000,
  logger: silent,
});
try {
  for (let round = 1; round <= rounds; round++) {
    const [osloCall, amqpCall] = [await callLatency(oslo), await callLatency(amqp)];
    const [osloRate, amqpRate] = [await notificationRate(oslo), await notificationRate(amqp)];
    console.log(
      `round ${round}: call ${osloCall.toFixed(3)} ms on oslo, ${amqpCall.toFixed(3)} ms on amqp ` +
        `(oslo/amqp ${(osloCall / amqpCall).toFixed(2)}); notifications ${osloRate.toFixed(0)}/s on oslo, ` +
        `${amqpRate.toFixed(0)}/s on amqp (oslo/amqp ${(osloRate / amqpRate).toFixed(2)})`,
    );
  }
} finally {
  await Promise.allSettled([oslo.close(), amqp.close()]);
  await broker.stop();
}
