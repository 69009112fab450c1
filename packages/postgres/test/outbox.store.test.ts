import { describe, expect, it } from '@jest/globals';
import { InvalidError } from '@herald/core';
import {
  InMemoryTransport,
  OutboxRelay,
  TransportError,
  type Delivery,
  type OutboxEntry,
  type Transport,
} from '@herald/messaging';
import pg from 'pg';
import { PostgresOutboxStore, withTransaction } from '../src/index.js';
import { describeWithDatabase, useDatabase } from './database.js';

const NOTIFICATIONS = { topic: 'notifications.info' };
const quiet = { error: () => undefined, warn: () => undefined };

function entry(id: string, key?: string): OutboxEntry {
  return {
    target: NOTIFICATIONS,
    message: { id, headers: { 'ce-source': 'test' }, body: { id } },
    ...(key && { key }),
  };
}

/** A transport consumer that collects deliveries and can wait for a count. */
/** `inner`, except that publishing a message `refuses(id)` names fails with `error`. */
function refusing(inner: Transport, refuses: (id: string | undefined) => boolean, error: Error): Transport {
  return {
    publish: (target, message) => (refuses(message.id) ? Promise.reject(error) : inner.publish(target, message)),
    consume: (...args) => inner.consume(...args),
    request: (...args) => inner.request(...args),
    close: (options) => inner.close(options),
  };
}

/** A logger that keeps its warn and info lines, each prefixed with its level. */
function recordingLogger() {
  const logged: string[] = [];
  const logger = {
    error: () => undefined,
    warn: (m: string) => void logged.push(`warn ${m}`),
    info: (m: string) => void logged.push(`info ${m}`),
  };
  return { logged, logger };
}

async function collect(transport: Transport): Promise<{ deliveries: Delivery[]; until(n: number): Promise<void> }> {
  const deliveries: Delivery[] = [];
  await transport.consume(NOTIFICATIONS, (delivery) => void deliveries.push(delivery));
  return {
    deliveries,
    async until(n) {
      for (let waited = 0; deliveries.length < n; waited += 10) {
        if (waited > 10_000) throw new Error(`${deliveries.length} of ${n} deliveries after 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}

describeWithDatabase('PostgresOutboxStore', () => {
  const db = useDatabase();
  const store = (options = {}) => new PostgresOutboxStore(db.pool, { schema: db.schema, logger: quiet, ...options });
  const clear = () => db.pool.query(`DELETE FROM "${db.schema}".outbox`);

  it("adds entries in the caller's transaction: pending after COMMIT, gone after ROLLBACK", async () => {
    await clear();
    const outbox = store();
    await expect(
      withTransaction(db.pool, async (tx) => {
        await outbox.add(tx, entry('rolled-back'));
        throw new Error('veto');
      }),
    ).rejects.toThrow('veto');
    await withTransaction(db.pool, (tx) => outbox.add(tx, [entry('a'), entry('b')]));
    expect(await outbox.pendingCount()).toBe(2);

    const transport = new InMemoryTransport();
    const box = await collect(transport);
    await expect(new OutboxRelay(transport, outbox).relay()).resolves.toBe(2);
    await box.until(2);
    expect(box.deliveries.map((d) => [d.id, d.headers['ce-source'], d.body]).sort()).toEqual([
      ['a', 'test', { id: 'a' }],
      ['b', 'test', { id: 'b' }],
    ]);
    expect(await outbox.pendingCount()).toBe(0);
    await transport.close();
  });

  it('adds a message id once: the same id again (pending or published) is not written', async () => {
    await clear();
    const outbox = store();
    await outbox.add(db.pool, entry('once'));
    await outbox.add(db.pool, entry('once'));
    expect(await outbox.pendingCount()).toBe(1);
  });

  it('refuses a bad entry with an InvalidError and writes none of the batch', async () => {
    await clear();
    const outbox = store();
    const bad = { target: { topic: '' }, message: { id: 'x', body: 1 } };
    const error = await outbox.add(db.pool, [entry('good'), bad]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidError);
    expect((error as InvalidError).element).toBe('target.topic');
    expect(await outbox.pendingCount()).toBe(0);
  });

  it('publishes the entries of one key in commit order, even when the transactions overlap', async () => {
    await clear();
    const outbox = store();
    // The first transaction writes first but commits last: the second one waits for it.
    const first = await db.pool.connect();
    await first.query('BEGIN');
    await outbox.add(first, entry('r1-first', 'router:r1'));
    const second = withTransaction(db.pool, (tx) => outbox.add(tx, entry('r1-second', 'router:r1')));
    const other = withTransaction(db.pool, (tx) => outbox.add(tx, entry('r2', 'router:r2')));
    await other; // another key does not wait
    const sleep = new Promise((resolve) => setTimeout(() => resolve('waiting'), 300));
    expect(await Promise.race([second.then(() => 'committed'), sleep])).toBe('waiting');
    await first.query('COMMIT');
    first.release();
    await second;
    const transport = new InMemoryTransport();
    const box = await collect(transport);
    await new OutboxRelay(transport, outbox, { batchSize: 1 }).relay();
    await box.until(3);
    const ids = box.deliveries.map((d) => d.id);
    expect(ids.filter((id) => id.startsWith('r1'))).toEqual(['r1-first', 'r1-second']);
    await transport.close();
  });

  it('keeps a refused entry with its attempts and error, holds back its key, and retries it after a backoff', async () => {
    await clear();
    const outbox = store({ retryInitialMs: 200, retryMaxMs: 400 });
    await outbox.add(db.pool, [entry('k1', 'router:r1'), entry('k2', 'router:r1'), entry('free')]);
    const inner = new InMemoryTransport();
    const box = await collect(inner);
    let down = true;
    const flaky = refusing(inner, (id) => down && id === 'k1', new TransportError('broker unreachable'));
    const relay = new OutboxRelay(flaky, outbox, { logger: quiet });
    await relay.relay();
    await box.until(1);
    expect(box.deliveries.map((d) => d.id)).toEqual(['free']);
    const row = (await db.pool.query(`SELECT attempts, last_error FROM "${db.schema}".outbox WHERE id = 'k1'`)).rows[0];
    expect(row).toEqual({ attempts: 1, last_error: expect.stringContaining('broker unreachable') });
    down = false;
    await relay.relay(); // too early: still backing off
    expect(box.deliveries).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 250));
    await relay.relay();
    await box.until(3);
    expect(box.deliveries.map((d) => d.id)).toEqual(['free', 'k1', 'k2']);
    await inner.close();
  });

  it('parks an entry the broker always refuses after maxAttempts, holds its key, and retryFailed() sends it', async () => {
    await clear();
    const warnings: string[] = [];
    const outbox = store({
      retryInitialMs: 1,
      retryMaxMs: 1,
      maxAttempts: 3,
      logger: { ...quiet, warn: (m: string) => void warnings.push(m) },
    });
    await outbox.add(db.pool, [entry('poison', 'router:r1'), entry('after-poison', 'router:r1'), entry('free')]);
    const inner = new InMemoryTransport();
    const box = await collect(inner);
    let refusingPoison = true;
    const refuser = refusing(
      inner,
      (id) => refusingPoison && id === 'poison',
      new TransportError('PRECONDITION_FAILED - message size exceeds the limit'),
    );
    const relay = new OutboxRelay(refuser, outbox, { logger: quiet });
    for (let pass = 0; pass < 6; pass++) {
      await relay.relay();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await box.until(1);
    expect(box.deliveries.map((d) => d.id)).toEqual(['free']);
    const row = (await db.pool.query(`SELECT attempts FROM "${db.schema}".outbox WHERE id = 'poison'`)).rows[0];
    expect(row.attempts).toBe(3); // no fourth try
    const failed = await outbox.failed();
    expect(failed).toEqual([
      {
        id: 'poison',
        key: 'router:r1',
        target: NOTIFICATIONS,
        attempts: 3,
        lastError: expect.stringContaining('message size exceeds the limit'),
        createdAt: expect.any(Date),
        failedAt: expect.any(Date),
      },
    ]);
    expect(await outbox.pendingCount()).toBe(1); // after-poison waits behind it
    expect(warnings.filter((w) => w.includes('poison parked as failed after 3'))).toHaveLength(1);

    refusingPoison = false;
    expect(await outbox.retryFailed(['someone-else'])).toBe(0);
    expect(await outbox.retryFailed()).toBe(1);
    expect(await outbox.failed()).toEqual([]);
    await relay.relay();
    await box.until(3);
    expect(box.deliveries.map((d) => d.id)).toEqual(['free', 'poison', 'after-poison']);
    expect(await outbox.pendingCount()).toBe(0);
    await inner.close();
  });

  it('discardFailed() drops a parked entry, and the rest of its key goes', async () => {
    await clear();
    const outbox = store({ retryInitialMs: 1, retryMaxMs: 1, maxAttempts: 1 });
    await outbox.add(db.pool, [entry('too-large', 'router:r2'), entry('next', 'router:r2')]);
    const inner = new InMemoryTransport();
    const box = await collect(inner);
    const refuser = refusing(inner, (id) => id === 'too-large', new TransportError('refused'));
    const relay = new OutboxRelay(refuser, outbox, { logger: quiet });
    await relay.relay();
    await relay.relay();
    expect(box.deliveries).toHaveLength(0);
    expect((await outbox.failed()).map((f) => f.id)).toEqual(['too-large']);
    expect(await outbox.discardFailed()).toBe(1);
    await relay.relay();
    await box.until(1);
    expect(box.deliveries.map((d) => d.id)).toEqual(['next']);
    await inner.close();
  });

  it('listens again, with a backoff, when the first LISTEN fails; polling covers meanwhile; both are logged', async () => {
    await clear();
    const { logged, logger } = recordingLogger();
    let down = true;
    // The database refuses new connections for a while (e.g. it is restarting).
    const flaky = {
      query: (text: string, values?: unknown[]) => db.pool.query(text, values),
      connect: () => (down ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')) : db.pool.connect()),
    };
    const outbox = new PostgresOutboxStore(flaky, { schema: db.schema, logger });
    const transport = new InMemoryTransport();
    const box = await collect(transport);
    const relay = new OutboxRelay(transport, outbox, { intervalMs: 600_000, logger: quiet });
    relay.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(logged.some((l) => l.startsWith('warn Outbox LISTEN failed') && l.includes('ECONNREFUSED'))).toBe(true);
    await outbox.add(db.pool, entry('while-down'));
    down = false;
    // No poll comes for ten minutes: only the LISTEN connection, back after its backoff, wakes the relay.
    await box.until(1);
    expect(logged).toContainEqual(`info Outbox LISTEN on "${outbox.channel}" again`);
    await withTransaction(db.pool, (tx) => outbox.add(tx, entry('notified')));
    await box.until(2);
    await relay.stop();
    expect(box.deliveries.map((d) => d.id)).toEqual(['while-down', 'notified']);
    await transport.close();
  });

  it('listens again after its LISTEN backend was terminated (pg_terminate_backend), and sleeps on it again', async () => {
    await clear();
    const { logged, logger } = recordingLogger();
    const outbox = store({ logger });
    const transport = new InMemoryTransport();
    const box = await collect(transport);
    const relay = new OutboxRelay(transport, outbox, { intervalMs: 600_000, logger: quiet });
    // The LISTEN session of an idle relay holds the idle lock: an advisory lock on the channel's name.
    const listeners = async () =>
      (
        await db.pool.query(
          `SELECT l.pid FROM pg_locks l, hashtextextended($1, 0) AS h
           WHERE l.locktype = 'advisory' AND l.granted AND l.mode = 'ExclusiveLock' AND l.objsubid = 1
             AND l.classid::bigint = (h >> 32) & 4294967295 AND l.objid::bigint = h & 4294967295`,
          [outbox.channel],
        )
      ).rows.map((row) => row.pid as number);
    const until = async (check: () => Promise<boolean>) => {
      for (const deadline = Date.now() + 10_000; !(await check()); await new Promise((r) => setTimeout(r, 20))) {
        if (Date.now() > deadline)
          throw new Error(`timed out: ${JSON.stringify(await listeners())} ${logged.join(' | ')}`);
      }
    };
    relay.start();
    await until(async () => (await listeners()).length === 1);
    const [first] = await listeners();
    await db.pool.query('SELECT pg_terminate_backend($1)', [first]);
    await until(async () => logged.some((l) => l.startsWith('warn Outbox LISTEN connection lost')));
    await outbox.add(db.pool, entry('while-lost'));
    await until(async () => {
      const now = await listeners();
      return now.length === 1 && now[0] !== first;
    });
    await box.until(1); // woken once it listened again
    await withTransaction(db.pool, (tx) => outbox.add(tx, entry('after')));
    await box.until(2);
    await relay.stop();
    expect(box.deliveries.map((d) => d.id)).toEqual(['while-lost', 'after']);
    await transport.close();
  });

  it('wakes a started relay on commit through LISTEN/NOTIFY, long before its polling interval', async () => {
    await clear();
    const outbox = store();
    const transport = new InMemoryTransport();
    const box = await collect(transport);
    const relay = new OutboxRelay(transport, outbox, { intervalMs: 600_000 });
    relay.start();
    await new Promise((resolve) => setTimeout(resolve, 200)); // the first poll found nothing
    await withTransaction(db.pool, (tx) => outbox.add(tx, entry('woken')));
    await box.until(1);
    await relay.stop();
    expect(box.deliveries[0]!.id).toBe('woken');
    await transport.close();
  });

  it('notices a commit that did not notify: a writer in its transaction keeps the relay from sleeping', async () => {
    await clear();
    const outbox = store();
    const transport = new InMemoryTransport();
    const box = await collect(transport);
    // The writer's insert comes before the relay's first claim: it holds the idle lock (shared)
    // until its commit, so that commit sends no NOTIFY even once the relay listens.
    const writer = await db.pool.connect();
    await writer.query('BEGIN');
    await outbox.add(writer, entry('quiet'));
    const notified: string[] = [];
    const listener = await db.pool.connect();
    listener.on('notification', (n) => void notified.push(n.channel));
    await listener.query(`LISTEN "${outbox.channel}"`);
    const relay = new OutboxRelay(transport, outbox, { intervalMs: 600_000 });
    relay.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await writer.query('COMMIT');
    writer.release();
    await box.until(1); // the relay kept claiming while it could not sleep
    await relay.stop();
    listener.release(true);
    expect(notified).toEqual([]);
    expect(box.deliveries.map((d) => d.id)).toEqual(['quiet']);
    await transport.close();
  });

  it('keeps published entries for the retention, then prune() deletes them', async () => {
    await clear();
    const outbox = store({ retentionMs: 300 });
    await outbox.add(db.pool, entry('old'));
    const transport = new InMemoryTransport();
    await new OutboxRelay(transport, outbox).relay();
    const count = async () => Number((await db.pool.query(`SELECT count(*) FROM "${db.schema}".outbox`)).rows[0].count);
    expect(await count()).toBe(1);
    expect(await outbox.prune()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(await outbox.prune()).toBe(1);
    expect(await count()).toBe(0);
    await transport.close();
  });

  it.each([
    ['a pool without connect', { query: () => undefined }, {}, 'pool'],
    ['a schema name with a quote', new pg.Pool(), { schema: 'a"b' }, 'options.schema'],
    ['a negative retention', new pg.Pool(), { retentionMs: -1 }, 'options.retentionMs'],
    ['zero attempts', new pg.Pool(), { maxAttempts: 0 }, 'options.maxAttempts'],
    [
      'a retry maximum below the first wait',
      new pg.Pool(),
      { retryInitialMs: 10, retryMaxMs: 5 },
      'options.retryMaxMs',
    ],
  ])('refuses %s with an InvalidError naming it', (_, pool, options, element) => {
    let error: unknown;
    try {
      new PostgresOutboxStore(pool as pg.Pool, options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidError);
    expect((error as InvalidError).element).toBe(element);
  });
});

describe('PostgresOutboxStore without a database', () => {
  it('checks its arguments before any connection is made', () => {
    expect(() => new PostgresOutboxStore(undefined as unknown as pg.Pool)).toThrow(InvalidError);
  });

  it('refuses a bad limit or id list for the failed entries with an InvalidError naming it', async () => {
    const store = new PostgresOutboxStore(new pg.Pool({ connectionString: 'postgres://nowhere.invalid/x' }));
    const failed = await store.failed(0).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(InvalidError);
    expect((failed as InvalidError).element).toBe('limit');
    const retried = await store.retryFailed('router.create:r1' as unknown as string[]).catch((e: unknown) => e);
    expect(retried).toBeInstanceOf(InvalidError);
    expect((retried as InvalidError).element).toBe('ids');
    await expect(store.discardFailed([1] as unknown as string[])).rejects.toThrow(InvalidError);
  });
});
