/**
 * {@link PostgresOutboxStore}: the outbox as a table (`<schema>.outbox`, see `migrations/`),
 * written in the application's transaction and claimed by any number of relays.
 * @module
 */

import { errorText, InvalidError, type Logger } from '@herald/core';
import {
  checkLogger,
  checkOutboxEntry,
  warn,
  type ClaimingOutboxStore,
  type OutboxClaim,
  type OutboxEntry,
  type OutboxOutcome,
  type Target,
} from '@herald/messaging';
import { checkPool, quoteSchema, type SqlClient, type SqlPool, type SqlPoolClient } from './sql.js';

/**
 * Options of a {@link PostgresOutboxStore}.
 *
 * @example
 * ```ts
 * new PostgresOutboxStore(pool, { schema: 'herald', retentionMs: 0, retryMaxMs: 30_000, logger: console });
 * ```
 */
export interface PostgresOutboxStoreOptions {
  /** The schema {@link migrate} filled. Default `herald`. */
  readonly schema?: string;
  /**
   * How long a published entry stays in the table (for inspection, and so that adding the same
   * message id again is still recognised), in milliseconds; 0 deletes it at once. Default one day.
   */
  readonly retentionMs?: number;
  /** The wait before the first retry of an entry the transport refused, in milliseconds. Default 500. */
  readonly retryInitialMs?: number;
  /** The longest wait between retries (each doubles the one before), in milliseconds. Default 60,000. */
  readonly retryMaxMs?: number;
  /** Where a failed clean-up or a lost `LISTEN` connection is reported (warning level). */
  readonly logger?: Logger;
}

/** How often published entries past their retention are deleted, at most. */
const PRUNE_EVERY_MS = 60_000;
/** The wait before opening the `LISTEN` connection again after it was lost. */
const RELISTEN_MS = 1_000;

/** A row of `<schema>.outbox` as a claim reads it. */
interface OutboxRow {
  seq: string;
  id: string;
  key: string | null;
  target: Target;
  headers: Record<string, string>;
  body: unknown;
  blocked: boolean;
}

function checkMs(element: string, value: unknown, min: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidError(element, value, `pass a whole number of milliseconds, ${min} or more.`);
  }
}

/**
 * The outbox on PostgreSQL. {@link add} writes entries with the caller's client, so they commit
 * or roll back with the caller's transaction; an `OutboxRelay` (from `@herald/messaging`) claims
 * them with `FOR UPDATE SKIP LOCKED`, in batches no other relay sees until they are settled, and
 * is woken by `LISTEN/NOTIFY` on each commit.
 *
 * - Entries sharing a {@link OutboxEntry.key} are published in commit order: writers of one key
 *   are serialised (a transaction-level advisory lock per key, taken by {@link add}), and a relay
 *   publishes a keyed entry only when no earlier entry of its key is unpublished.
 * - An entry the transport refuses is tried again after a backoff (doubling up to `retryMaxMs`),
 *   by whichever relay claims it then; the attempts and the last error are in its row.
 * - Published entries are kept `retentionMs`, then deleted by a relay's claims.
 *
 * Run {@link migrate} first, with the same schema.
 *
 * @example
 * ```ts
 * const store = new PostgresOutboxStore(pool, { schema: 'herald' });
 * await withTransaction(pool, async (tx) => {
 *   await tx.query('INSERT INTO routers (id) VALUES ($1)', ['r1']);
 *   await store.add(tx, { target: { topic: 'notifications.info' }, key: 'router:r1', message: { id: 'r1:create', body } });
 * });
 * const relay = new OutboxRelay(transport, store, { logger: console });
 * relay.start();
 * ```
 */
export class PostgresOutboxStore implements ClaimingOutboxStore {
  readonly #pool: SqlPool;
  readonly #schema: string;
  readonly #table: string;
  readonly #retentionMs: number;
  readonly #retryInitialMs: number;
  readonly #retryMaxMs: number;
  readonly #logger: Logger | undefined;
  #nextPrune = 0;

  /** @throws InvalidError for something that is not a pool, a bad schema name or bad options */
  constructor(pool: SqlPool, options: PostgresOutboxStoreOptions = {}) {
    checkPool('pool', pool, true);
    if (options === null || typeof options !== 'object') {
      throw new InvalidError(
        'options',
        options,
        'pass { schema, retentionMs, retryInitialMs, retryMaxMs, logger } or nothing.',
      );
    }
    const { schema = 'herald', retentionMs = 86_400_000, retryInitialMs = 500, retryMaxMs = 60_000, logger } = options;
    this.#table = `${quoteSchema(schema)}.outbox`;
    checkMs('options.retentionMs', retentionMs, 0);
    checkMs('options.retryInitialMs', retryInitialMs, 1);
    checkMs('options.retryMaxMs', retryMaxMs, retryInitialMs);
    checkLogger('options.logger', logger);
    this.#pool = pool;
    this.#schema = schema;
    this.#retentionMs = retentionMs;
    this.#retryInitialMs = retryInitialMs;
    this.#retryMaxMs = retryMaxMs;
    this.#logger = logger;
  }

  /** The `LISTEN` channel the table's trigger notifies on each commit that added entries. */
  get channel(): string {
    return `${this.#schema}.outbox`;
  }

  /**
   * Writes entries with `db`: pass the client of your open transaction, and they are pending once
   * it commits, gone if it rolls back. An entry whose message id is already in the table (pending,
   * or published within the retention) is not added again.
   *
   * @throws InvalidError for a bad entry (nothing is written then)
   * @example
   * ```ts
   * await store.add(tx, bridge.outboxEntry(ROUTER, AFTER_CREATE, payload));
   * ```
   */
  async add(db: SqlClient, entries: OutboxEntry | readonly OutboxEntry[]): Promise<void> {
    checkPool('db', db, false);
    const checked = (Array.isArray(entries) ? entries : [entries as OutboxEntry]).map(checkOutboxEntry);
    if (checked.length === 0) return;
    const keys = [...new Set(checked.flatMap((entry) => (entry.key === undefined ? [] : [entry.key])))];
    if (keys.length > 0) {
      // Until this transaction ends, another writing an entry of the same key waits here: so the
      // order of `seq` within a key is the order of the commits. Sorted, so two never deadlock.
      await db.query(
        'SELECT pg_advisory_xact_lock(hashtext($1), hashtext(k)) FROM unnest($2::text[]) AS k ORDER BY hashtext(k)',
        [this.channel, keys],
      );
    }
    const rows = checked.map((entry) => ({
      id: entry.message.id,
      key: entry.key ?? null,
      target: entry.target,
      headers: entry.message.headers ?? {},
      body: entry.message.body,
    }));
    await db.query(
      `INSERT INTO ${this.#table} (id, key, target, headers, body)
       SELECT e.entry->>'id', e.entry->>'key', e.entry->'target', e.entry->'headers', e.entry->'body'
       FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(entry, n)
       ORDER BY e.n
       ON CONFLICT (id) DO NOTHING`,
      [JSON.stringify(rows)],
    );
  }

  /**
   * Claims up to `limit` pending entries for one relay (the relay calls this): locks them in a
   * transaction of its own, held until {@link OutboxClaim.settle}. Entries other relays hold,
   * entries waiting for a retry and keyed entries with an earlier unpublished one are left out.
   */
  async claim(limit: number): Promise<OutboxClaim> {
    await this.#pruneWhenDue();
    const client = await this.#pool.connect();
    let rows: OutboxRow[];
    try {
      // Marking entries published needs no flush to disk at COMMIT: if the mark is lost in a
      // server crash, the entries are published again, which the at-least-once promise allows.
      await client.query('BEGIN; SET LOCAL synchronous_commit TO off');
      rows = (
        await client.query(
          `WITH claimed AS (
             SELECT seq, id, key, target, headers, body FROM ${this.#table} o
             WHERE published_at IS NULL AND available_at <= clock_timestamp()
               AND NOT (key IS NOT NULL AND EXISTS (
                 SELECT 1 FROM ${this.#table} p
                 WHERE p.key = o.key AND p.published_at IS NULL AND p.seq < o.seq AND p.available_at > clock_timestamp()))
             ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)
           SELECT c.*, (c.key IS NOT NULL AND EXISTS (
               SELECT 1 FROM ${this.#table} p
               WHERE p.key = c.key AND p.published_at IS NULL AND p.seq < c.seq
                 AND p.seq NOT IN (SELECT seq FROM claimed))) AS blocked
           FROM claimed c ORDER BY c.seq`,
          [limit],
        )
      ).rows as unknown as OutboxRow[];
    } catch (error) {
      await this.#end(client, 'ROLLBACK');
      throw error;
    }
    // A keyed entry whose predecessor another relay holds (or that waits for a retry) waits too.
    const ready = rows.filter((row) => !row.blocked);
    if (ready.length === 0) {
      await this.#end(client, 'COMMIT');
      return { entries: [], settle: () => undefined };
    }
    const seqOf = new Map(ready.map((row) => [row.id, row.seq]));
    return {
      entries: ready.map((row) => ({
        target: row.target,
        message: { id: row.id, headers: row.headers, body: row.body },
        ...(row.key !== null && { key: row.key }),
      })),
      settle: (outcome) => this.#settle(client, seqOf, outcome),
    };
  }

  /**
   * Calls `wake` on each commit that added entries (`LISTEN` on {@link channel}, on a connection
   * of its own), and once more after that connection was lost and opened again, until the
   * returned function is called. The relay calls this from `start()`.
   */
  async watch(wake: () => void): Promise<() => Promise<void>> {
    let client: SqlPoolClient | undefined;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const listen = async (): Promise<void> => {
      const connection = await this.#pool.connect();
      connection.on('notification', (notification) => {
        if (notification.channel === this.channel) wake();
      });
      connection.on('error', (error) => {
        if (client !== connection) return;
        client = undefined;
        connection.release(error);
        warn(this.#logger, `Outbox LISTEN connection lost, polling until it is back: ${errorText(error)}`);
        relisten();
      });
      try {
        await connection.query(`LISTEN "${this.channel}"`);
      } catch (error) {
        connection.release(error instanceof Error ? error : true);
        throw error;
      }
      if (stopped) {
        connection.release(true);
        return;
      }
      client = connection;
    };
    const relisten = (): void => {
      if (stopped) return;
      timer = setTimeout(() => {
        listen().then(wake, (error: unknown) => {
          warn(this.#logger, `Outbox LISTEN failed, trying again: ${errorText(error)}`);
          relisten();
        });
      }, RELISTEN_MS);
      timer.unref();
    };
    await listen();
    return async () => {
      stopped = true;
      clearTimeout(timer);
      const connection = client;
      client = undefined;
      if (connection === undefined) return;
      await connection.query(`UNLISTEN "${this.channel}"`).then(
        () => connection.release(),
        (error: Error) => connection.release(error),
      );
    };
  }

  /**
   * Deletes published entries older than the retention; resolves with how many. Claims do this
   * once a minute; call it yourself for other timing.
   *
   * @example
   * ```ts
   * const deleted = await store.prune();
   * ```
   */
  async prune(): Promise<number> {
    const result = await this.#pool.query(
      `DELETE FROM ${this.#table} WHERE published_at < clock_timestamp() - $1::bigint * interval '1 millisecond'`,
      [this.#retentionMs],
    );
    return result.rowCount ?? 0;
  }

  /**
   * How many entries wait to be published (including those waiting for a retry).
   *
   * @example
   * ```ts
   * expect(await store.pendingCount()).toBe(0);
   * ```
   */
  async pendingCount(): Promise<number> {
    const result = await this.#pool.query(`SELECT count(*)::int AS n FROM ${this.#table} WHERE published_at IS NULL`);
    return result.rows[0]!.n as number;
  }

  async #settle(client: SqlPoolClient, seqOf: Map<string, string>, outcome: OutboxOutcome): Promise<void> {
    const published = outcome.published.map((id) => seqOf.get(id)).filter((seq) => seq !== undefined);
    const failed = outcome.failed.filter((failure) => seqOf.has(failure.id));
    try {
      if (published.length > 0) {
        await client.query(
          this.#retentionMs === 0
            ? `DELETE FROM ${this.#table} WHERE seq = ANY($1::bigint[])`
            : `UPDATE ${this.#table} SET published_at = clock_timestamp() WHERE seq = ANY($1::bigint[])`,
          [published],
        );
      }
      if (failed.length > 0) {
        await client.query(
          `UPDATE ${this.#table} AS o
           SET attempts = o.attempts + 1, last_error = f.error,
               available_at = clock_timestamp() + least($3::float8, $4::float8 * power(2, o.attempts)) * interval '1 millisecond'
           FROM unnest($1::bigint[], $2::text[]) AS f(seq, error) WHERE o.seq = f.seq`,
          [
            failed.map((failure) => seqOf.get(failure.id)),
            failed.map((failure) => errorText(failure.error)),
            this.#retryMaxMs,
            this.#retryInitialMs,
          ],
        );
      }
    } catch (error) {
      await this.#end(client, 'ROLLBACK');
      throw error;
    }
    await this.#end(client, 'COMMIT');
  }

  /**
   * Ends the claim's transaction and gives its connection back (closed, when even that failed: a
   * failed COMMIT rejects, a failed ROLLBACK does not, as the server rolls back a closed session).
   */
  async #end(client: SqlPoolClient, command: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    try {
      await client.query(command);
    } catch (error) {
      client.release(error instanceof Error ? error : true);
      if (command === 'COMMIT') throw error;
      return;
    }
    client.release();
  }

  async #pruneWhenDue(): Promise<void> {
    if (Date.now() < this.#nextPrune) return;
    this.#nextPrune = Date.now() + PRUNE_EVERY_MS;
    try {
      await this.prune();
    } catch (error) {
      warn(this.#logger, `Outbox clean-up of published entries failed, trying again later: ${errorText(error)}`);
    }
  }
}
