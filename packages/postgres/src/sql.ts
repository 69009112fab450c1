/**
 * What Herald needs from a PostgreSQL client: node-postgres (`pg`) shapes, declared here so that
 * Herald never imports `pg` itself and any client with the same methods fits (a `Pool`, a
 * `PoolClient`, a `Client`, or an ORM's handle on one).
 * @module
 */

import { InvalidError } from '@herald/core';

/**
 * What a query resolves to (a subset of `pg`'s `QueryResult`).
 *
 * @example
 * ```ts
 * const { rows, rowCount }: SqlResult = await pool.query('SELECT 1 AS one');
 * ```
 */
export interface SqlResult {
  /** The rows returned, one object per row keyed by column name. */
  readonly rows: readonly Record<string, unknown>[];
  /** How many rows the statement returned or changed; `null` for a statement that counts none. */
  readonly rowCount: number | null;
}

/**
 * Anything that runs a parameterised query: a `pg` `Pool`, `PoolClient` or `Client`. Pass the
 * client of your open transaction, and Herald's statement is part of it.
 *
 * @example
 * ```ts
 * const client = await pool.connect(); // a PoolClient is a SqlClient
 * await client.query('BEGIN');
 * await outbox.add(client, entry);
 * await client.query('COMMIT');
 * ```
 */
export interface SqlClient {
  /** Runs `text` with `values` as its `$1`, `$2`, … parameters. */
  query(text: string, values?: unknown[]): Promise<SqlResult>;
}

/**
 * A notification from `LISTEN` (a subset of `pg`'s `Notification`).
 *
 * @example
 * ```ts
 * client.on('notification', (n: SqlNotification) => console.log(n.channel, n.payload));
 * ```
 */
export interface SqlNotification {
  /** The channel notified: the name given to `LISTEN` and `NOTIFY`. */
  readonly channel: string;
  /** The text given to `NOTIFY`, if any. */
  readonly payload?: string;
}

/**
 * A connection taken from a pool, held until {@link SqlPoolClient.release} (a `pg` `PoolClient`).
 *
 * @example
 * ```ts
 * const client: SqlPoolClient = await pool.connect();
 * try { await client.query('SELECT 1'); } finally { client.release(); }
 * ```
 */
export interface SqlPoolClient extends SqlClient {
  /** Gives the connection back; with an error, the pool closes it instead. */
  release(destroy?: boolean | Error): void;
  /** Calls `listener` for each `NOTIFY` on a channel this connection `LISTEN`s to. */
  on(event: 'notification', listener: (notification: SqlNotification) => void): unknown;
  /** Calls `listener` when the connection fails (an idle `LISTEN` connection, say). */
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * A pool of connections (a `pg` `Pool`): queries, and dedicated connections for a transaction or
 * for `LISTEN`.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * const pool: SqlPool = new pg.Pool({ connectionString: process.env.HERALD_DATABASE_URL });
 * ```
 */
export interface SqlPool extends SqlClient {
  /** Takes a connection of its own, to give back with {@link SqlPoolClient.release}. */
  connect(): Promise<SqlPoolClient>;
}

/** The longest schema name: its `LISTEN` channel, `<schema>.outbox`, must fit PostgreSQL's 63 bytes. */
const MAX_SCHEMA_LENGTH = 56;

/**
 * Checks a schema name and gives it quoted for SQL.
 *
 * @throws InvalidError unless it is lower-case letters, digits and `_`, starting with a letter or
 *   `_`, at most 56 characters
 * @example
 * ```ts
 * quoteSchema('herald'); // '"herald"'
 * ```
 */
export function quoteSchema(schema: unknown, element = 'options.schema'): string {
  if (typeof schema !== 'string' || !/^[a-z_][a-z0-9_]*$/.test(schema) || schema.length > MAX_SCHEMA_LENGTH) {
    throw new InvalidError(
      element,
      schema,
      `pass a schema name of lower-case letters, digits and _ (not starting with a digit), at most ${MAX_SCHEMA_LENGTH} characters.`,
    );
  }
  return `"${schema}"`;
}

/**
 * Runs `work` in a transaction on a connection of `pool`: `BEGIN`, then `COMMIT` when `work`
 * resolves, `ROLLBACK` (and the rejection passed on) when it rejects. The connection goes back to
 * the pool either way (closed, when even the rollback failed).
 *
 * @example
 * ```ts
 * await withTransaction(pool, async (tx) => {
 *   await tx.query('INSERT INTO routers (id, name) VALUES ($1, $2)', [id, name]);
 *   await outbox.add(tx, { target: { topic: 'notifications.info' }, message: { id: `router.create:${id}`, body } });
 * });
 * ```
 */
export async function withTransaction<T>(pool: SqlPool, work: (client: SqlPoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

/** Checks that `pool` has `query` (and `connect`, when `needsConnect`). Internal: not exported by the package. */
export function checkPool(element: string, pool: unknown, needsConnect: boolean): void {
  const ok =
    pool !== null &&
    typeof pool === 'object' &&
    typeof (pool as SqlPool).query === 'function' &&
    (!needsConnect || typeof (pool as SqlPool).connect === 'function');
  if (!ok) {
    throw new InvalidError(
      element,
      pool,
      needsConnect ? 'pass a pg Pool (query() and connect()).' : 'pass a pg Pool, PoolClient or Client (query()).',
    );
  }
}
