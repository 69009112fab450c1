import { afterEach, expect, it } from '@jest/globals';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PostgresInboxStore, PostgresOutboxStore, withTransaction } from '../src/index.js';
import { databaseUrl, describeWithDatabase, useDatabase } from './database.js';

const CHILD = fileURLToPath(new URL('./outbox.child.mjs', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Child {
  readonly process: ChildProcess;
  /** Resolves with the first IPC message that has `field`. */
  next(field: string): Promise<Record<string, unknown>>;
}

describeWithDatabase('the outbox across crashes (child processes killed with SIGKILL)', () => {
  const db = useDatabase();
  const children: ChildProcess[] = [];
  const outbox = () => new PostgresOutboxStore(db.pool, { schema: db.schema });

  function start(mode: 'write' | 'relay', arg: unknown): Child {
    const child = fork(CHILD, [mode, databaseUrl!, db.schema, typeof arg === 'string' ? arg : JSON.stringify(arg)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    return {
      process: child,
      next: (field) =>
        new Promise((resolve, reject) => {
          const onMessage = (message: Record<string, unknown>) => {
            if (!(field in message)) return;
            child.off('message', onMessage);
            resolve(message);
          };
          child.on('message', onMessage);
          child.once('exit', (code, signal) => reject(new Error(`child exited (${signal ?? code}) before ${field}`)));
        }),
    };
  }

  async function kill(child: Child): Promise<void> {
    if (child.process.exitCode !== null || child.process.signalCode !== null) return;
    const exited = new Promise((resolve) => child.process.once('exit', resolve));
    child.process.kill('SIGKILL');
    await exited;
  }

  async function untilNothingPending(timeoutMs = 30_000): Promise<void> {
    const store = outbox();
    for (const deadline = Date.now() + timeoutMs; (await store.pendingCount()) > 0; await sleep(50)) {
      if (Date.now() > deadline) throw new Error(`${await store.pendingCount()} entries still pending`);
    }
  }

  /** How many times the sink (the "broker") got each id. */
  async function sinkCounts(): Promise<Map<string, number>> {
    const rows = (await db.pool.query(`SELECT id, count(*)::int AS n FROM "${db.schema}".sink GROUP BY id`)).rows;
    return new Map(rows.map((row) => [row.id as string, row.n as number]));
  }

  async function reset(): Promise<void> {
    await db.pool.query(`DROP TABLE IF EXISTS "${db.schema}".sink, "${db.schema}".applied`);
    await db.pool.query(
      `CREATE TABLE "${db.schema}".sink (n bigserial PRIMARY KEY, id text NOT NULL, relay int NOT NULL)`,
    );
    await db.pool.query(`CREATE TABLE "${db.schema}".applied (id text PRIMARY KEY, times int NOT NULL)`);
    await db.pool.query(`DELETE FROM "${db.schema}".outbox`);
  }

  const ids = (count: number, prefix = 'w') => Array.from({ length: count }, (_, n) => `${prefix}${n}`);

  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('loses nothing when the writer dies after its commits and before any relay ran', async () => {
    await reset();
    const writer = start('write', '50');
    await writer.next('committed');
    await kill(writer);
    const relay = start('relay', {});
    await untilNothingPending();
    await kill(relay);
    const counts = await sinkCounts();
    expect([...counts.keys()].sort()).toEqual(ids(50).sort());
    expect(counts.has('wuncommitted')).toBe(false); // its transaction died with the writer
  }, 60_000);

  it('publishes again what a relay published but did not mark before dying; the inbox applies it once', async () => {
    await reset();
    await outbox().add(
      db.pool,
      ids(20).map((id) => ({ target: { topic: 'notifications.info' }, message: { id, body: { id } } })),
    );
    const crashing = start('relay', { batchSize: 5, hangAfter: 3 });
    await crashing.next('hung');
    await kill(crashing);
    const before = await sinkCounts();
    expect(before.size).toBeGreaterThanOrEqual(3);
    const relay = start('relay', {});
    await untilNothingPending();
    await kill(relay);
    const counts = await sinkCounts();
    expect([...counts.keys()].sort()).toEqual(ids(20).sort());
    expect([...before.keys()].every((id) => counts.get(id) === 2)).toBe(true);

    // The consumer: every copy the sink got, through the inbox.
    const inbox = new PostgresInboxStore({ schema: db.schema });
    const copies = (await db.pool.query(`SELECT id FROM "${db.schema}".sink ORDER BY n`)).rows;
    expect(copies.length).toBeGreaterThan(20);
    for (const { id } of copies) {
      await inbox.handle(db.pool, { source: 'test', id }, async (tx) => {
        await tx.query(
          `INSERT INTO "${db.schema}".applied (id, times) VALUES ($1, 1) ON CONFLICT (id) DO UPDATE SET times = applied.times + 1`,
          [id],
        );
      });
    }
    const applied = (await db.pool.query(`SELECT id, times FROM "${db.schema}".applied`)).rows;
    expect(applied).toHaveLength(20);
    expect(applied.every((row) => row.times === 1)).toBe(true);
  }, 60_000);

  it('publishes each entry once with two relays on one table, each key in commit order', async () => {
    await reset();
    const relays = [start('relay', { batchSize: 10 }), start('relay', { batchSize: 10 })];
    await Promise.all(relays.map((relay) => relay.next('ready')));
    const entries = ids(400).map((id, n) => ({
      target: { topic: 'notifications.info' },
      message: { id, body: { n } },
      ...(n % 4 === 0 && { key: `router:${n % 10}` }),
    }));
    for (let n = 0; n < entries.length; n += 50) {
      await withTransaction(db.pool, (tx) => outbox().add(tx, entries.slice(n, n + 50)));
    }
    await untilNothingPending();
    await Promise.all(relays.map(kill));
    const counts = await sinkCounts();
    expect(counts.size).toBe(400);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    const sink = (await db.pool.query(`SELECT id, relay FROM "${db.schema}".sink ORDER BY n`)).rows;
    expect(new Set(sink.map((row) => row.relay)).size).toBe(2); // both took part
    const byKey = new Map<string, number[]>();
    for (const { id } of sink) {
      const n = Number(id.slice(1));
      if (n % 4 !== 0) continue;
      byKey.set(`router:${n % 10}`, [...(byKey.get(`router:${n % 10}`) ?? []), n]);
    }
    for (const order of byKey.values()) expect(order).toEqual([...order].sort((a, b) => a - b));
  }, 60_000);

  it('keeps entries while the broker is down and sends them all once it is back', async () => {
    await reset();
    await outbox().add(
      db.pool,
      ids(100).map((id) => ({ target: { topic: 'notifications.info' }, message: { id, body: { id } } })),
    );
    const relay = start('relay', { downMs: 1_500, retryInitialMs: 100 });
    await relay.next('ready');
    await sleep(700);
    expect(await outbox().pendingCount()).toBe(100);
    const attempts = await db.pool.query(`SELECT max(attempts)::int AS n FROM "${db.schema}".outbox`);
    expect(attempts.rows[0].n).toBeGreaterThan(0);
    await untilNothingPending();
    await kill(relay);
    const counts = await sinkCounts();
    expect(counts.size).toBe(100);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  }, 60_000);
});
