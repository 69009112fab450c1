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
import { checkPool, quoteSchema, type SqlClient, type SqlPool, type SqlPoolClient, type SqlResult } from './sql.js';

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
  /**
   * How many refused publishes an entry gets before it is parked as failed (see
   * {@link PostgresOutboxStore.failed}): no relay tries it again, nor a later entry of its key,
   * until {@link PostgresOutboxStore.retryFailed}. `Infinity` retries for ever. Default 25: with
   * the default waits, about 20 minutes of refusals, so that a broker outage of a few minutes
   * parks nothing.
   */
  readonly maxAttempts?: number;
  /**
   * Where a parked entry, a failed clean-up and a lost or failed `LISTEN` connection are reported
   * (warning level), and a `LISTEN` connection back (info level).
   */
  readonly logger?: Logger;
}

/**
 * An entry parked after `maxAttempts` refused publishes (see {@link PostgresOutboxStore.failed}).
 *
 * @example
 * ```ts
 * for (const entry of await store.failed()) console.log(entry.id, entry.attempts, entry.lastError);
 * ```
 */
export interface FailedOutboxEntry {
  /** The message id. */
  readonly id: string;
  /** The entry's key, if it has one: the later entries of that key wait behind it. */
  readonly key: string | undefined;
  /** Where it was to go. */
  readonly target: Target;
  /** How many publishes were refused. */
  readonly attempts: number;
  /** The error of the last refused publish. */
  readonly lastError: string;
  /** When it was committed. */
  readonly createdAt: Date;
  /** When it was parked. */
  readonly failedAt: Date;
}

/** How often published entries past their retention are deleted, at most. */
const PRUNE_EVERY_MS = 60_000;
/** The wait before opening the `LISTEN` connection again after it failed or was lost; doubles each time. */
const RELISTEN_INITIAL_MS = 1_000;
/** The longest wait between two tries to open the `LISTEN` connection. */
const RELISTEN_MAX_MS = 30_000;
/**
 * The longest wait between two tries to take the idle lock (see {@link PostgresOutboxStore.watch})
 * while writers (or another relay, which sleeps on it) keep it from being taken; each wait
 * doubles from one millisecond.
 */
const ARM_RETRY_MAX_MS = 64;

/** What a watch does when a claim comes back: see {@link PostgresOutboxStore.watch}. */
interface Watcher {
  /** A claim found nothing: take the idle lock, so that the next commit notifies. */
  idle(): void;
  /** A claim found entries: give the idle lock back, so that commits stop notifying. */
  busy(): void;
}

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

function info(logger: Logger | undefined, text: string): void {
  try {
    logger?.info?.(text);
  } catch {
    // A failing logger must not break relaying.
  }
}

/** The result of the last statement of a query text with several (`pg` gives one result per statement). */
function lastResult(result: SqlResult | readonly SqlResult[]): SqlResult {
  return Array.isArray(result) ? (result as readonly SqlResult[]).at(-1)! : (result as SqlResult);
}

function checkIds(ids: unknown): readonly string[] | null {
  if (ids === undefined) return null;
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) {
    throw new InvalidError('ids', ids, 'pass an array of message ids, or nothing for every failed entry.');
  }
  return ids as string[];
}

function checkCount(element: string, value: unknown, what = 'entries'): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidError(element, value, `pass a whole number of ${what}, 1 or more.`);
  }
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
 *   by whichever relay claims it then; the attempts and the last error are in its row. After
 *   `maxAttempts` it is parked as failed ({@link failed}, {@link retryFailed}, {@link discardFailed}).
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
  readonly #maxAttempts: number;
  readonly #logger: Logger | undefined;
  #nextPrune = 0;
  readonly #watchers = new Set<Watcher>();

  /** @throws InvalidError for something that is not a pool, a bad schema name or bad options */
  constructor(pool: SqlPool, options: PostgresOutboxStoreOptions = {}) {
    checkPool('pool', pool, true);
    if (options === null || typeof options !== 'object') {
      throw new InvalidError(
        'options',
        options,
        'pass { schema, retentionMs, retryInitialMs, retryMaxMs, maxAttempts, logger } or nothing.',
      );
    }
    const {
      schema = 'herald',
      retentionMs = 86_400_000,
      retryInitialMs = 500,
      retryMaxMs = 60_000,
      maxAttempts = 25,
      logger,
    } = options;
    this.#table = `${quoteSchema(schema)}.outbox`;
    checkMs('options.retentionMs', retentionMs, 0);
    checkMs('options.retryInitialMs', retryInitialMs, 1);
    checkMs('options.retryMaxMs', retryMaxMs, retryInitialMs);
    if (maxAttempts !== Infinity) checkCount('options.maxAttempts', maxAttempts, 'attempts (or Infinity)');
    checkLogger('options.logger', logger);
    this.#pool = pool;
    this.#schema = schema;
    this.#retentionMs = retentionMs;
    this.#retryInitialMs = retryInitialMs;
    this.#retryMaxMs = retryMaxMs;
    this.#maxAttempts = maxAttempts;
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
    checkCount('limit', limit);
    await this.#pruneWhenDue();
    const client = await this.#pool.connect();
    let rows: OutboxRow[];
    try {
      // One round trip: the statements go as one query text (the limit is a checked integer).
      // Marking entries published needs no flush to disk at COMMIT: if the mark is lost in a
      // server crash, the entries are published again, which the at-least-once promise allows.
      rows = lastResult(
        await client.query(
          `BEGIN; SET LOCAL synchronous_commit TO off;
           WITH claimed AS (
             SELECT seq, id, key, target, headers, body FROM ${this.#table} o
             WHERE published_at IS NULL AND available_at <= clock_timestamp()
               AND NOT (key IS NOT NULL AND EXISTS (
                 SELECT 1 FROM ${this.#table} p
                 WHERE p.key = o.key AND p.published_at IS NULL AND p.seq < o.seq AND p.available_at > clock_timestamp()))
             ORDER BY seq LIMIT ${limit} FOR UPDATE SKIP LOCKED)
           SELECT c.*, (c.key IS NOT NULL AND EXISTS (
               SELECT 1 FROM ${this.#table} p
               WHERE p.key = c.key AND p.published_at IS NULL AND p.seq < c.seq
                 AND p.seq NOT IN (SELECT seq FROM claimed))) AS blocked
           FROM claimed c ORDER BY c.seq`,
        ),
      ).rows as unknown as OutboxRow[];
    } catch (error) {
      await this.#end(client, 'ROLLBACK');
      throw error;
    }
    // A keyed entry whose predecessor another relay holds (or that waits for a retry) waits too.
    const ready = rows.filter((row) => !row.blocked);
    if (rows.length === 0) for (const watcher of this.#watchers) watcher.idle();
    else for (const watcher of this.#watchers) watcher.busy();
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
   * Calls `wake` when entries were committed while the relay was idle (`LISTEN` on
   * {@link channel}, on a connection of its own) until the returned function is called. The relay
   * calls this from `start()`.
   *
   * A commit notifies only while a relay is idle: `NOTIFY` makes PostgreSQL commit one notifying
   * transaction at a time, which would cap the writers' throughput. When a claim finds nothing,
   * the watch takes an advisory lock (the idle lock) on its connection, claims once more (through
   * `wake`), and sleeps; the table's trigger notifies for a transaction that could not take that
   * lock in shared mode. While writers hold it in shared mode (they are between their insert and
   * their commit), it cannot be taken: the relay claims again after a short wait, as their rows
   * will soon be there. A claim that finds entries gives the lock back. So no commit goes
   * unnoticed: a writer either notifies, or held the lock until its commit, before the relay's
   * last claim.
   * When the connection cannot be opened, or is lost later, it is opened again after a wait that
   * doubles from one second up to 30 (each failure logged at warning level, the connection back at
   * info level, and `wake` called once it is back); the relay's polling covers the gap.
   */
  async watch(wake: () => void): Promise<() => Promise<void>> {
    let client: SqlPoolClient | undefined;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    let failures = 0;
    // The idle lock: held (armed), being taken, and the failed tries in a row.
    let armed = false;
    let arming = false;
    let armRetries = 0;
    let armTimer: NodeJS.Timeout | undefined;
    const idleLock = [this.channel];
    const watcher: Watcher = {
      idle: () => {
        const connection = client;
        if (connection === undefined || armed || arming || armTimer !== undefined) return;
        arming = true;
        connection.query('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS taken', idleLock).then(
          ({ rows }) => {
            arming = false;
            if (client !== connection) return; // lost meanwhile: the server released it
            if (rows[0]?.taken === true) {
              armed = true;
              armRetries = 0;
              wake(); // the last claim: rows committed before the lock was taken
              return;
            }
            // Writers are between their insert and their commit: claim again once they are through.
            const delay = Math.min(ARM_RETRY_MAX_MS, 2 ** armRetries);
            armRetries++;
            armTimer = setTimeout(() => {
              armTimer = undefined;
              wake();
            }, delay);
            armTimer.unref();
          },
          () => {
            arming = false; // the connection's error handler listens again
          },
        );
      },
      busy: () => {
        armRetries = 0;
        const connection = client;
        if (!armed || connection === undefined) return;
        armed = false;
        connection.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', idleLock).catch(() => undefined); // the connection's error handler listens again; the server released it
      },
    };
    this.#watchers.add(watcher);
    const listen = async (): Promise<void> => {
      const connection = await this.#pool.connect();
      connection.on('notification', (notification) => {
        // Only while this watch holds the connection: a stale wake would start a stopped relay.
        if (client === connection && notification.channel === this.channel) wake();
      });
      connection.on('error', (error) => {
        if (client !== connection) return;
        client = undefined;
        armed = false;
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
    const tryListen = (): void => {
      listen().then(
        () => {
          if (stopped) return;
          if (failures > 0) info(this.#logger, `Outbox LISTEN on "${this.channel}" again`);
          failures = 0;
          // Commits made while nobody listened notified no one.
          wake();
        },
        (error: unknown) => {
          failures++;
          warn(
            this.#logger,
            `Outbox LISTEN failed, polling until it works; trying again in ${this.#relistenMs(failures)} ms: ${errorText(error)}`,
          );
          relisten();
        },
      );
    };
    const relisten = (): void => {
      if (stopped) return;
      timer = setTimeout(tryListen, this.#relistenMs(failures));
      timer.unref();
    };
    tryListen();
    return async () => {
      stopped = true;
      this.#watchers.delete(watcher);
      clearTimeout(timer);
      clearTimeout(armTimer);
      // Closed rather than given back: its listeners must not outlive the watch.
      client?.release(true);
      client = undefined;
    };
  }

  /** The wait before the next `LISTEN` after `failures` failed ones in a row (a lost connection: 0). */
  #relistenMs(failures: number): number {
    return Math.min(RELISTEN_MAX_MS, RELISTEN_INITIAL_MS * 2 ** Math.max(0, failures - 1));
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
    const result = await this.#pool.query(
      `SELECT count(*)::int AS n FROM ${this.#table} WHERE published_at IS NULL AND failed_at IS NULL`,
    );
    return result.rows[0]!.n as number;
  }

  /**
   * The entries parked as failed after `maxAttempts` refused publishes, oldest first (at most
   * `limit`). They stay until {@link retryFailed} or {@link discardFailed}; while one waits, the
   * later entries of its key wait too, so that the key's order holds.
   *
   * @example
   * ```ts
   * for (const entry of await store.failed()) console.log(entry.id, entry.attempts, entry.lastError);
   * ```
   */
  async failed(limit = 100): Promise<FailedOutboxEntry[]> {
    checkCount('limit', limit);
    const { rows } = await this.#pool.query(
      `SELECT id, key, target, attempts, last_error, created_at, failed_at FROM ${this.#table}
       WHERE failed_at IS NOT NULL AND published_at IS NULL ORDER BY seq LIMIT $1`,
      [limit],
    );
    return rows.map((row) => ({
      id: row.id as string,
      key: (row.key as string | null) ?? undefined,
      target: row.target as Target,
      attempts: row.attempts as number,
      lastError: (row.last_error as string | null) ?? '',
      createdAt: row.created_at as Date,
      failedAt: row.failed_at as Date,
    }));
  }

  /**
   * Puts parked entries back (those of `ids`, or all of them), with their attempts counted from
   * 0 again, and wakes the relays; resolves with how many. Call it once the cause is fixed (the
   * broker's policy, the queue's length limit, a missing exchange).
   *
   * @throws InvalidError when `ids` is not an array of strings
   * @example
   * ```ts
   * const requeued = await store.retryFailed(); // or store.retryFailed(['router-1:update:7'])
   * ```
   */
  async retryFailed(ids?: readonly string[]): Promise<number> {
    const result = await this.#pool.query(
      `WITH retried AS (
         UPDATE ${this.#table} SET failed_at = NULL, attempts = 0, available_at = clock_timestamp()
         WHERE failed_at IS NOT NULL AND published_at IS NULL AND ($1::text[] IS NULL OR id = ANY($1::text[]))
         RETURNING 1)
       SELECT count(*)::int AS n, pg_notify($2, '') FROM retried`,
      [checkIds(ids), this.channel],
    );
    return result.rows[0]!.n as number;
  }

  /**
   * Deletes parked entries (those of `ids`, or all of them) without publishing them, so that the
   * later entries of their keys go; resolves with how many. For an entry no broker will ever take
   * (too large, a target that cannot exist): {@link failed} shows what it was.
   *
   * @throws InvalidError when `ids` is not an array of strings
   * @example
   * ```ts
   * await store.discardFailed(['router-1:update:7']);
   * ```
   */
  async discardFailed(ids?: readonly string[]): Promise<number> {
    const result = await this.#pool.query(
      `WITH discarded AS (
         DELETE FROM ${this.#table}
         WHERE failed_at IS NOT NULL AND published_at IS NULL AND ($1::text[] IS NULL OR id = ANY($1::text[]))
         RETURNING 1)
       SELECT count(*)::int AS n, pg_notify($2, '') FROM discarded`,
      [checkIds(ids), this.channel],
    );
    return result.rows[0]!.n as number;
  }

  async #settle(client: SqlPoolClient, seqOf: Map<string, string>, outcome: OutboxOutcome): Promise<void> {
    let parked: readonly Record<string, unknown>[] = [];
    const published = outcome.published.map((id) => seqOf.get(id)).filter((seq) => seq !== undefined);
    const failed = outcome.failed.filter((failure) => seqOf.has(failure.id));
    if (failed.length === 0 && published.length > 0) {
      // The usual case, in one round trip: the mark and the COMMIT as one query text (the
      // sequence numbers are the integers the claim read).
      const seqs = `'{${published.filter((seq) => /^\d+$/.test(seq)).join(',')}}'::bigint[]`;
      try {
        await client.query(
          `${
            this.#retentionMs === 0
              ? `DELETE FROM ${this.#table} WHERE seq = ANY(${seqs})`
              : `UPDATE ${this.#table} SET published_at = clock_timestamp() WHERE seq = ANY(${seqs})`
          }; COMMIT`,
        );
      } catch (error) {
        await this.#end(client, 'ROLLBACK');
        throw error;
      }
      client.release();
      return;
    }
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
        // Parked: available at 'infinity', which no claim reaches and which holds back the key.
        const { rows } = await client.query(
          `UPDATE ${this.#table} AS o
           SET attempts = o.attempts + 1, last_error = f.error,
               failed_at = CASE WHEN o.attempts + 1 >= $5::float8 THEN clock_timestamp() END,
               available_at = CASE WHEN o.attempts + 1 >= $5::float8 THEN 'infinity'::timestamptz
                 ELSE clock_timestamp() + least($3::float8, $4::float8 * power(2, o.attempts)) * interval '1 millisecond' END
           FROM unnest($1::bigint[], $2::text[]) AS f(seq, error) WHERE o.seq = f.seq
           RETURNING o.id, o.attempts, o.failed_at IS NOT NULL AS parked, o.last_error`,
          [
            failed.map((failure) => seqOf.get(failure.id)),
            failed.map((failure) => errorText(failure.error)),
            this.#retryMaxMs,
            this.#retryInitialMs,
            this.#maxAttempts,
          ],
        );
        parked = rows.filter((row) => row.parked === true);
      }
    } catch (error) {
      await this.#end(client, 'ROLLBACK');
      throw error;
    }
    await this.#end(client, 'COMMIT');
    for (const row of parked) {
      warn(
        this.#logger,
        `Outbox entry ${String(row.id)} parked as failed after ${String(row.attempts)} refused publishes ` +
          `(later entries of its key wait behind it); fix the cause, then call retryFailed() ` +
          `(or discardFailed() to drop it). Last error: ${String(row.last_error)}`,
      );
    }
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
