/**
 * `npm run bench:transport [-- --rounds 5 --messages 2000 --write]`: Herald's transports against
 * amqplib used directly, on a RabbitMQ node of its own (`scripts/rabbitmq.mjs`'s `startNode`, on
 * free ports: no other user's load on it). Each row does the same work with the same guarantees:
 * persistent messages, publisher confirms, one consumer with a prefetch of 1 (or 20, where a row
 * says so) and a manual ack after its handler, on quorum queues (Herald's default) or classic ones
 * where a row says so.
 *
 * - publish + consume: `messages` publishes started together; timed until the last is handled;
 * - the same with handlers that wait 1 ms (a call to a dependency): amqplib handling up to its
 *   prefetch at once, against Herald with `concurrency` equal to the prefetch, and one at a time;
 * - publish, awaited one by one: each publish waits for its confirm before the next;
 * - request/reply: one request at a time, each waiting for its reply (direct reply-to).
 *
 * `InMemoryTransport` is listed as the floor: no network, no broker.
 * @module
 */

import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { format, resolveConfig } from 'prettier';
import { AmqpTransport } from '@herald/amqp';
import { InMemoryTransport, type Transport } from '@herald/messaging';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    messages: { type: 'string', default: '2000' },
    write: { type: 'boolean', default: false },
  },
});
const rounds = Number(args.rounds);
const messages = Number(args.messages);
const requests = Math.max(100, Math.floor(messages / 4));

interface Broker {
  url: string;
  stop(): Promise<void>;
}
const script = pathToFileURL(fileURLToPath(new URL('../../scripts/rabbitmq.mjs', import.meta.url))).href;
const { startNode } = (await import(script)) as { startNode(options: object): Promise<Broker> };

/** What one run of a row measured. */
interface Sample {
  /** Wall-clock milliseconds. */
  readonly ms: number;
  /** This process's CPU time over the same span (user + system), in microseconds: the client's cost. */
  readonly cpuUs: number;
}

/** Starts measuring the timed part of a row; `stop()` gives its sample. */
function measure(): { stop(): Sample } {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  return {
    stop: () => {
      const { user, system } = process.cpuUsage(cpu);
      return { ms: performance.now() - wall, cpuUs: user + system };
    },
  };
}

/** One way of doing a case's work. */
type Row = (url: string) => Promise<Sample>;

const BODY = { event_type: 'port.create.end', payload: { port: { id: 'p-1', network_id: 'n-1' } } };

// ---- amqplib, directly ---------------------------------------------------------------------

type QueueType = 'quorum' | 'classic';

async function rawSetup(
  url: string,
  prefetch = 1,
  queueType: QueueType = 'quorum',
): Promise<{ model: ChannelModel; pub: ConfirmChannel; sub: Channel; queue: string }> {
  const model = await connect(url, { noDelay: true });
  const pub = await model.createConfirmChannel();
  const sub = await model.createChannel();
  await sub.prefetch(prefetch);
  const queue = `bench-raw-${randomUUID()}`;
  await pub.assertExchange('bench-raw', 'direct', { durable: true });
  await pub.assertQueue(queue, { durable: true, expires: 60_000, arguments: { 'x-queue-type': queueType } });
  await pub.bindQueue(queue, 'bench-raw', queue);
  return { model, pub, sub, queue };
}

function rawPublish(pub: ConfirmChannel, key: string): Promise<void> {
  return new Promise((resolve, reject) => {
    pub.publish(
      'bench-raw',
      key,
      Buffer.from(JSON.stringify(BODY)),
      { persistent: true, messageId: randomUUID(), contentType: 'application/json' },
      (error: unknown) => (error ? reject(error as Error) : resolve()),
    );
  });
}

/**
 * Publish + consume over amqplib. With `waitMs`, each handler waits that long (a call to a
 * dependency) before its acknowledgement, as many at once as the prefetch lets in.
 */
const rawPublishConsume =
  (prefetch: number, queueType: QueueType = 'quorum', waitMs = 0): Row =>
  async (url) => {
    const { model, pub, sub, queue } = await rawSetup(url, prefetch, queueType);
    let handled = 0;
    let done!: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    await sub.consume(queue, (message: ConsumeMessage | null) => {
      if (message === null) return;
      JSON.parse(message.content.toString('utf8'));
      const settle = () => {
        sub.ack(message);
        if (++handled === messages) done();
      };
      if (waitMs === 0) settle();
      else setTimeout(settle, waitMs);
    });
    const clock = measure();
    await Promise.all(Array.from({ length: messages }, () => rawPublish(pub, queue)));
    await all;
    const elapsed = clock.stop();
    await model.close();
    return elapsed;
  };

const rawPublishOneByOne =
  (queueType: QueueType = 'quorum'): Row =>
  async (url) => {
    const { model, pub, queue } = await rawSetup(url, 1, queueType);
    const clock = measure();
    for (let i = 0; i < requests; i++) await rawPublish(pub, queue);
    const elapsed = clock.stop();
    await model.close();
    return elapsed;
  };

const rawRequestReply: Row = async (url) => {
  const { model, sub, queue } = await rawSetup(url);
  await sub.consume(queue, (message: ConsumeMessage | null) => {
    if (message === null) return;
    const body: unknown = JSON.parse(message.content.toString('utf8'));
    sub.publish('', message.properties.replyTo as string, Buffer.from(JSON.stringify(body)), {
      correlationId: message.properties.correlationId as string,
    });
    sub.ack(message);
  });
  const client = await model.createChannel();
  const waiting = new Map<string, () => void>();
  await client.consume(
    'amq.rabbitmq.reply-to',
    (message) => waiting.get(message!.properties.correlationId as string)?.(),
    {
      noAck: true,
    },
  );
  const clock = measure();
  for (let i = 0; i < requests; i++) {
    const id = randomUUID();
    await new Promise<void>((resolve) => {
      waiting.set(id, resolve);
      client.sendToQueue(queue, Buffer.from(JSON.stringify(BODY)), {
        correlationId: id,
        replyTo: 'amq.rabbitmq.reply-to',
        expiration: '5000',
      });
    });
    waiting.delete(id);
  }
  const elapsed = clock.stop();
  await model.close();
  return elapsed;
};

// ---- Herald ---------------------------------------------------------------------------------

function heraldPublishConsumeWaiting(
  make: (url: string) => Promise<Transport>,
  concurrency: number,
  waitMs: number,
): Row {
  return async (url) => {
    const transport = await make(url);
    let handled = 0;
    let done!: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    await transport.consume(
      { topic: 'bench' },
      async () => {
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        if (++handled === messages) done();
      },
      { concurrency },
    );
    const clock = measure();
    await Promise.all(Array.from({ length: messages }, () => transport.publish({ topic: 'bench' }, { body: BODY })));
    await all;
    const elapsed = clock.stop();
    await transport.close();
    return elapsed;
  };
}

function heraldAmqp(url: string, prefetch = 1, queueType: QueueType = 'quorum'): Promise<Transport> {
  return AmqpTransport.connect({
    url,
    namespace: `bench-${randomUUID()}`,
    queueExpiresMs: 60_000,
    prefetch,
    queueType,
  });
}

function heraldPublishConsume(make: (url: string) => Promise<Transport> | Transport): Row {
  return async (url) => {
    const transport = await make(url);
    let handled = 0;
    let done!: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    await transport.consume({ topic: 'bench' }, () => {
      if (++handled === messages) done();
    });
    const clock = measure();
    await Promise.all(Array.from({ length: messages }, () => transport.publish({ topic: 'bench' }, { body: BODY })));
    await all;
    const elapsed = clock.stop();
    await transport.close();
    return elapsed;
  };
}

function heraldPublishOneByOne(make: (url: string) => Promise<Transport> | Transport): Row {
  return async (url) => {
    const transport = await make(url);
    await transport.publish({ topic: 'bench' }, { body: BODY }); // declares the topic's queue
    const clock = measure();
    for (let i = 0; i < requests; i++) await transport.publish({ topic: 'bench' }, { body: BODY });
    const elapsed = clock.stop();
    await transport.close({ drainMs: 0 });
    return elapsed;
  };
}

function heraldRequestReply(make: (url: string) => Promise<Transport> | Transport): Row {
  return async (url) => {
    const transport = await make(url);
    await transport.consume({ topic: 'bench', server: 'host-1' }, (d) => d.body);
    const clock = measure();
    for (let i = 0; i < requests; i++) {
      await transport.request({ topic: 'bench', server: 'host-1' }, { body: BODY }, { timeoutMs: 5_000 });
    }
    const elapsed = clock.stop();
    await transport.close();
    return elapsed;
  };
}

const memory = (): Transport => new InMemoryTransport({ deduplicationWindow: 0 });

interface Case {
  title: string;
  operations: number;
  unit: string;
  rows: [string, Row][];
}

const cases: Case[] = [
  {
    title: `publish + consume, ${messages.toLocaleString('en')} messages started together`,
    operations: messages,
    unit: 'msg/s',
    rows: [
      ['amqplib directly', rawPublishConsume(1)],
      ['Herald AmqpTransport', heraldPublishConsume((url) => heraldAmqp(url))],
      ['amqplib directly, prefetch 20', rawPublishConsume(20)],
      ['Herald AmqpTransport, prefetch 20', heraldPublishConsume((url) => heraldAmqp(url, 20))],
      ['amqplib directly, prefetch 20, classic', rawPublishConsume(20, 'classic')],
      ['Herald AmqpTransport, prefetch 20, classic', heraldPublishConsume((url) => heraldAmqp(url, 20, 'classic'))],
      ['Herald InMemoryTransport (no broker)', heraldPublishConsume(memory)],
    ],
  },
  {
    title: `publish + consume, ${messages.toLocaleString('en')} messages started together, each handler waiting 1 ms`,
    operations: messages,
    unit: 'msg/s',
    rows: [
      ['amqplib directly, prefetch 20, 20 at once', rawPublishConsume(20, 'quorum', 1)],
      [
        'Herald AmqpTransport, prefetch 20, concurrency 20',
        heraldPublishConsumeWaiting((url) => heraldAmqp(url, 20), 20, 1),
      ],
      [
        'Herald AmqpTransport, prefetch 20, one at a time',
        heraldPublishConsumeWaiting((url) => heraldAmqp(url, 20), 1, 1),
      ],
    ],
  },
  {
    title: `publish, each awaited (confirmed) before the next, ${requests.toLocaleString('en')} messages`,
    operations: requests,
    unit: 'msg/s',
    rows: [
      ['amqplib directly', rawPublishOneByOne()],
      ['Herald AmqpTransport', heraldPublishOneByOne(heraldAmqp)],
      ['amqplib directly, classic', rawPublishOneByOne('classic')],
      ['Herald AmqpTransport, classic', heraldPublishOneByOne((url) => heraldAmqp(url, 1, 'classic'))],
      ['Herald InMemoryTransport (no broker)', heraldPublishOneByOne(memory)],
    ],
  },
  {
    title: `request/reply, one at a time, ${requests.toLocaleString('en')} requests`,
    operations: requests,
    unit: 'req/s',
    rows: [
      ['amqplib directly', rawRequestReply],
      ['Herald AmqpTransport', heraldRequestReply(heraldAmqp)],
      ['Herald InMemoryTransport (no broker)', heraldRequestReply(memory)],
    ],
  },
];

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const broker = await startNode({ log: (line: string) => console.error(`[rabbitmq] ${line}`) });
const sections: string[] = [];
try {
  for (const c of cases) {
    const samples = c.rows.map(() => [] as Sample[]);
    for (let round = 0; round < rounds; round++) {
      // Alternate the order, so that no row always runs on a warmer broker.
      const order = c.rows.map((_, i) => i);
      if (round % 2 === 1) order.reverse();
      for (const i of order) samples[i]!.push(await c.rows[i]![1](broker.url));
    }
    const times = samples.map((s) => s.map((sample) => sample.ms));
    const rates = times.map((t) => (c.operations / median(t)) * 1000);
    // Each row against amqplib with the same settings (prefetch, queue type).
    const settings = (name: string): string => `${name.includes('prefetch 20')} ${name.endsWith('classic')}`;
    const baselineOf = (name: string): number => {
      const same = c.rows.findIndex(([n]) => n.startsWith('amqplib') && settings(n) === settings(name));
      return same === -1 ? 0 : same;
    };
    const lines = c.rows.map(([name], i) => {
      const base = baselineOf(name);
      const spread = ((Math.max(...times[i]!) - Math.min(...times[i]!)) / 2 / median(times[i]!)) * 100;
      // The same round's amqplib row ran next to this one: their ratio cancels what the machine's
      // other load did to that round.
      const paired = times[i]!.map((ms, round) => times[base]![round]! / ms);
      const cpu = median(samples[i]!.map((sample) => sample.cpuUs)) / c.operations;
      return `| ${name} | ${Math.round(rates[i]!).toLocaleString('en')} ${c.unit} | ${(rates[i]! / rates[base]!).toFixed(2)}× | ${median(paired).toFixed(2)}× (${Math.min(...paired).toFixed(2)}–${Math.max(...paired).toFixed(2)}) | ±${spread.toFixed(0)} % | ${cpu.toFixed(0)} µs |`;
    });
    sections.push(
      `### ${c.title}\n\n| row | median | vs amqplib | vs amqplib, per round | spread | client CPU per op |\n| --- | --- | --- | --- | --- | --- |\n${lines.join('\n')}`,
    );
    console.error(`done: ${c.title}`);
  }
} finally {
  await broker.stop();
}

const command = `npm run bench:transport -- --rounds ${rounds} --messages ${messages}${args.write ? ' --write' : ''}`;
const header = `# Herald transport benchmark results\n\nRecorded ${new Date().toISOString().slice(0, 10)} with \`${command}\`: Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, RabbitMQ on 127.0.0.1 (a node of its own on the same machine, shared with other work: absolute rates are noisy, ratios within a run are what counts). Quorum queues unless a row says classic. Medians of ${rounds} rounds (the spread is half the range between the slowest and the fastest round); "vs amqplib" is the rate relative to amqplib used directly with the same guarantees and prefetch; "per round" is the median (and range) of that ratio taken round by round, each Herald row against the amqplib row that ran next to it; "client CPU per op" is the benchmark process's CPU time (user + system, median of the rounds) per message or request, which the machine's other load does not inflate as it does the rates.`;
const file = fileURLToPath(new URL('../RESULTS-transport.md', import.meta.url));
// Other benchmarks keep their sections in the same file, between `<!-- bench:… -->` markers: kept.
const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
const others = current.indexOf('<!-- bench:');
const markdown = await format(
  `${header}\n\n${sections.join('\n\n')}\n${others < 0 ? '' : `\n${current.slice(others)}`}`,
  {
    ...(await resolveConfig(file)),
    parser: 'markdown',
  },
);
process.stdout.write(markdown);
if (args.write) writeFileSync(file, markdown);
