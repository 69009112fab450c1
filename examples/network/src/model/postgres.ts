/**
 * The example's rows in PostgreSQL (when `HERALD_DATABASE_URL` is set): a schema of its own per
 * run, holding one table per managed resource (networks, subnets, ports, routers: `id`, the
 * record as `jsonb`) and `@herald/postgres`'s outbox, all written in one transaction per request.
 * @module
 */

import { randomUUID } from 'node:crypto';
import { migrate, PostgresOutboxStore, withTransaction, type SqlClient } from '@herald/postgres';
import pg from 'pg';
import type { RowSession, RowStore } from './database.js';
import type { Managed } from './models.js';

const MANAGED: readonly Managed[] = ['network', 'subnet', 'port', 'router'];

/**
 * A {@link RowStore} on PostgreSQL, with the outbox of the same database.
 *
 * @example
 * ```ts
 * const rows = await PostgresRows.open(process.env.HERALD_DATABASE_URL!);
 * await using app = await createNetworkApp({ rows });
 * ```
 */
export class PostgresRows implements RowStore {
  /** The outbox the `precommit_*` subscribers write the `after_*` events to. */
  readonly outbox: PostgresOutboxStore;
  #client: SqlClient | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    /** This run's schema (`herald_example_<random>`), dropped by {@link close}. */
    readonly schema: string,
  ) {
    this.outbox = new PostgresOutboxStore(pool, { schema });
  }

  /** Connects to `url`, and creates this run's schema: the outbox's migrations and the resource tables. */
  static async open(url: string): Promise<PostgresRows> {
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    const schema = `herald_example_${randomUUID().slice(0, 8)}`;
    try {
      await migrate(pool, { schema });
      for (const resource of MANAGED) {
        await pool.query(`CREATE TABLE "${schema}"."${resource}" (id text PRIMARY KEY, record jsonb NOT NULL)`);
      }
    } catch (error) {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await pool.end();
      throw error;
    }
    return new PostgresRows(pool, schema);
  }

  /** The client of the transaction in progress: where the outbox entries of a `precommit_*` go. */
  get client(): SqlClient | undefined {
    return this.#client;
  }

  transaction<T>(work: (session: RowSession) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, async (client) => {
      // Tables write synchronously; `pg` runs a client's queries in the order they were given, so
      // each write is sent at once and its outcome collected before COMMIT.
      const writes: Promise<unknown>[] = [];
      let failure: unknown;
      const session: RowSession = {
        write: (resource, id, row) => {
          const table = `"${this.schema}"."${resource}"`;
          const query =
            row === undefined
              ? client.query(`DELETE FROM ${table} WHERE id = $1`, [id])
              : client.query(
                  `INSERT INTO ${table} (id, record) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record`,
                  [id, JSON.stringify(row)],
                );
          writes.push(query.catch((error: unknown) => (failure ??= error)));
        },
      };
      this.#client = client;
      try {
        const result = await work(session);
        await Promise.all(writes);
        if (failure !== undefined) throw failure;
        return result;
      } finally {
        this.#client = undefined;
      }
    });
  }

  /** How many rows each managed table holds. */
  async count(): Promise<Record<Managed, number>> {
    const counts = await Promise.all(
      MANAGED.map(async (resource) => {
        const result = await this.pool.query(`SELECT count(*)::int AS n FROM "${this.schema}"."${resource}"`);
        return [resource, result.rows[0].n as number] as const;
      }),
    );
    return Object.fromEntries(counts) as Record<Managed, number>;
  }

  /** Drops this run's schema and closes the pool. */
  async close(): Promise<void> {
    try {
      await this.pool.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`);
    } finally {
      await this.pool.end();
    }
  }
}
