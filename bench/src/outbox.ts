/**
 * `npm run bench:outbox [-- --rounds 5 --entries 2000 --writers 8 --own-broker --write]`: the PostgreSQL outbox
 * (`@herald/postgres` + `OutboxRelay`) against the same work done by hand, on loopback PostgreSQL
 * (the server `scripts/postgres.mjs` finds or starts) and RabbitMQ (`scripts/rabbitmq.mjs`).
 *
 * Both rows run `writers` concurrent loops that together make `entries` transactions; each
 * transaction inserts one business row, and then:
 * - by hand: COMMIT, then publish the event (confirmed) from the writer: what an application does
 *   without an outbox, losing the event when it dies between the two;
 * - outbox: the outbox entry is inserted in the same transaction, COMMIT, and a running relay
 *   (4 claiming loops, batches of up to 50) publishes it (confirmed) and marks it. Three ways of
 *   waking the relay: the package's trigger (NOTIFY only while the relay sleeps), a trigger that
 *   notifies on every commit (the package's first version), and no NOTIFY at all with the relay
 *   polling every 5 ms.
 * Throughput: entries committed and published (confirmed) per second, until the last is
 * published. Latency: from the writer's COMMIT returning to the broker's confirm of that entry.
 * `--own-broker` starts a RabbitMQ node of its own on random free ports rather than use one on 5672.
 * `--write` replaces this benchmark's section of bench/RESULTS-transport.md.
 * @module
 */

import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { format, resolveConfig } from 'prettier';
import { AmqpTransport } from '@herald/amqp';
import { OutboxRelay, type OutgoingMessage, type Target, type Transport } from '@herald/messaging';
import { migrate, PostgresOutboxStore, type SqlClient } from '@herald/postgres';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    entries: { type: 'string', default: '2000' },
    writers: { type: 'string', default: '8' },
    'own-broker': { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
  },
});
const rounds = Number(args.rounds);
const entries = Number(args.entries);
const writers = Number(args.writers);

interface Service {
  url: string;
  stop(): Promise<void>;
}
const scripts = (name: string) => pathToFileURL(fileURLToPath(new URL(`../../scripts/${name}`, import.meta.url))).href;
const { obtainBroker } = (await import(scripts('rabbitmq.mjs'))) as { obtainBroker(o: object): Promise<Service> };
const { obtainDatabase } = (await import(scripts('postgres.mjs'))) as { obtainDatabase(o: object): Promise<Service> };

const TARGET: Target = { topic: 'bench.outbox' };
const body = (n: number) => ({ event_type: 'router.create.end', payload: { router: { id: `r-${n}`, name: 'edge' } } });

/** What one round measured. */
interface Sample {
  /** Entries committed and published per second. */
  rate: number;
  /** Commit-to-publish latencies, milliseconds. */
  latencies: number[];
}

/** Runs `writers` loops over `entries` transactions; `work(tx, n)` fills each, `after(n)` follows its COMMIT. */
async function writeAll(
  pool: pg.Pool,
  work: (tx: SqlClient, n: number) => Promise<void>,
  after: (n: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      const client = await pool.connect();
      try {
        for (let n = next++; n < entries; n = next++) {
          await client.query('BEGIN');
          await work(client, n);
          await client.query('COMMIT');
          await after(n);
        }
      } finally {
        client.release();
      }
    }),
  );
}

const insertRouter = (schema: string) => (tx: SqlClient, n: number) =>
  tx
    .query(`INSERT INTO "${schema}".routers (id, name) VALUES ($1, $2)`, [`r-${n}-${randomUUID()}`, 'edge'])
    .then(() => undefined);

async function byHand(pool: pg.Pool, transport: Transport, schema: string): Promise<Sample> {
  const latencies: number[] = [];
  const started = performance.now();
  await writeAll(pool, insertRouter(schema), async (n) => {
    const committed = performance.now();
    await transport.publish(TARGET, { id: randomUUID(), body: body(n) });
    latencies.push(performance.now() - committed);
  });
  return { rate: (entries / (performance.now() - started)) * 1000, latencies };
}

/** How the relay learns of commits: see the module comment. */
type Wake = 'when idle' | 'every commit' | 'polling';

/** The package's trigger function, and the first version's, which notified on every commit. */
const notifyFunction = (schema: string, always: boolean) => `
  CREATE OR REPLACE FUNCTION "${schema}".outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF ${always ? 'true' : `NOT pg_try_advisory_xact_lock_shared(hashtextextended(TG_TABLE_SCHEMA || '.outbox', 0))`} THEN
      PERFORM pg_notify(TG_TABLE_SCHEMA || '.outbox', '');
    END IF;
    RETURN NULL;
  END;
  $$`;

async function withOutbox(pool: pg.Pool, transport: Transport, schema: string, wake: Wake): Promise<Sample> {
  await pool.query(`ALTER TABLE "${schema}".outbox ${wake === 'polling' ? 'DISABLE' : 'ENABLE'} TRIGGER outbox_notify`);
  await pool.query(notifyFunction(schema, wake === 'every commit'));
  const committedAt = new Map<string, number>();
  const latencies: number[] = [];
  let published = 0;
  let last = 0;
  let allPublished: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allPublished = resolve));
  const timed: Transport = {
    publish: async (target: Target, message: OutgoingMessage) => {
      await transport.publish(target, message);
      last = performance.now();
      const committed = committedAt.get(message.id!);
      if (committed !== undefined) latencies.push(last - committed);
      if (++published === entries) allPublished();
    },
    consume: (...a) => transport.consume(...a),
    request: (...a) => transport.request(...a),
    close: (o) => transport.close(o),
  };
  const store = new PostgresOutboxStore(pool, { schema, retentionMs: 0 });
  const relay = new OutboxRelay(timed, store, {
    batchSize: 50,
    concurrency: 4,
    logger: console,
    intervalMs: wake === 'polling' ? 5 : 1_000,
  });
  relay.start();
  const ids = Array.from({ length: entries }, () => randomUUID());
  const started = performance.now();
  const insert = insertRouter(schema);
  await writeAll(
    pool,
    async (tx, n) => {
      await insert(tx, n);
      await store.add(tx, { target: TARGET, message: { id: ids[n]!, body: body(n) } });
    },
    async (n) => {
      // The relay may publish before this writer hears back from COMMIT: then it has no latency.
      if (!committedAt.has(ids[n]!)) committedAt.set(ids[n]!, performance.now());
    },
  );
  await done;
  await relay.stop();
  return { rate: (entries / (last - started)) * 1000, latencies };
}

const median = (values: number[]) => percentile(values, 50);
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const log = (line: string) => console.error(line);
// The machine is shared: its load when the run starts says how much to trust absolute figures.
const loadAtStart = loadavg()[0]!;
const broker = await obtainBroker({
  log: (line: string) => log(`[rabbitmq] ${line}`),
  privatePorts: args['own-broker'],
});
const database = await obtainDatabase({ log: (line: string) => log(`[postgres] ${line}`) });
const schema = `bench_outbox_${randomUUID().slice(0, 8)}`;
const pool = new pg.Pool({ connectionString: database.url, max: writers + 4 });
const transport = await AmqpTransport.connect({ url: broker.url, namespace: `bench-${randomUUID()}` });
const rows: [string, (pool: pg.Pool, transport: Transport, schema: string) => Promise<Sample>][] = [
  ['INSERT, COMMIT, then publish by hand', byHand],
  ['outbox: NOTIFY while the relay sleeps (the default)', (p, t, s) => withOutbox(p, t, s, 'when idle')],
  ['outbox: NOTIFY on every commit', (p, t, s) => withOutbox(p, t, s, 'every commit')],
  ['outbox: no NOTIFY, relay polling every 5 ms', (p, t, s) => withOutbox(p, t, s, 'polling')],
];
const samples = rows.map(() => [] as Sample[]);
try {
  await migrate(pool, { schema });
  await pool.query(`CREATE TABLE "${schema}".routers (id text PRIMARY KEY, name text NOT NULL)`);
  for (let round = 0; round < rounds; round++) {
    // Rotated, so that no row always runs first (or right after the same other row).
    const order = rows.map((_, i) => (i + round) % rows.length);
    for (const i of order) {
      samples[i]!.push(await rows[i]![1](pool, transport, schema));
      log(`round ${round + 1}: ${rows[i]![0]}: ${Math.round(samples[i]!.at(-1)!.rate)} entries/s`);
    }
  }
} finally {
  await transport.close();
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
  await database.stop();
  await broker.stop();
}

const rates = samples.map((s) => median(s.map((x) => x.rate)));
const lines = rows.map(([name], i) => {
  const all = samples[i]!.flatMap((s) => s.latencies);
  const spread = samples[i]!.map((s) => s.rate);
  return `| ${name} | ${Math.round(rates[i]!).toLocaleString('en')} entries/s | ${(rates[i]! / rates[0]!).toFixed(2)}× | ±${(((Math.max(...spread) - Math.min(...spread)) / 2 / rates[i]!) * 100).toFixed(0)} % | ${median(all).toFixed(2)} ms | ${percentile(all, 99).toFixed(2)} ms |`;
});
const command = `npm run bench:outbox -- --rounds ${rounds} --entries ${entries} --writers ${writers}${args['own-broker'] ? ' --own-broker' : ''}${args.write ? ' --write' : ''}`;
const START = '<!-- bench:outbox start -->';
const END = '<!-- bench:outbox end -->';
const section = `${START}\n\n## Outbox on PostgreSQL\n\nRecorded ${new Date().toISOString().slice(0, 10)} with \`${command}\`: Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, PostgreSQL and RabbitMQ on 127.0.0.1 (the same machine, shared with other work: load average ${loadAtStart.toFixed(1)} when the run started, so absolute figures are noisy; compare the ratios). ${writers} writers, ${entries.toLocaleString('en')} transactions per round, each inserting one row and publishing one event (persistent, confirmed); the relay runs 4 claiming loops with batches of up to 50; medians of ${rounds} rounds, the rows' order rotated each round. Latency is from the writer's COMMIT returning to the broker's confirm, over every entry of every round.\n\n| row | median | vs by hand | spread | latency p50 | latency p99 |\n| --- | --- | --- | --- | --- | --- |\n${lines.join('\n')}\n\n${END}`;
const file = fileURLToPath(new URL('../RESULTS-transport.md', import.meta.url));
const current = readFileSync(file, 'utf8');
const replaced = current.includes(START)
  ? current.slice(0, current.indexOf(START)) + section + current.slice(current.indexOf(END) + END.length)
  : `${current.trimEnd()}\n\n${section}\n`;
const markdown = await format(replaced, { ...(await resolveConfig(file)), parser: 'markdown' });
process.stdout.write(`${lines.join('\n')}\n`);
if (args.write) writeFileSync(file, markdown);
