/**
 * The schema of `@herald/postgres` as versioned SQL files (`migrations/NNN_name.sql`, shipped in
 * the package) and {@link migrate}, which applies the missing ones.
 * @module
 */

import { readdir, readFile } from 'node:fs/promises';
import { checkPool, quoteSchema, withTransaction, type SqlPool } from './sql.js';

/** The folder of the SQL files, beside `src/` and `dist/` alike. */
const MIGRATIONS = new URL('../migrations/', import.meta.url);

/** What the SQL files call the schema; {@link migrate} puts the configured one in its place. */
const SCHEMA_PLACEHOLDER = /"herald"\./g;

/**
 * One migration: its version (the file's number), name and SQL.
 *
 * @example
 * ```ts
 * const [first]: Migration[] = await migrations(); // { version: 1, name: 'outbox', sql: 'CREATE TABLE "herald".outbox …' }
 * ```
 */
export interface Migration {
  /** Its version: the number its file's name starts with (`001_outbox.sql`: 1). */
  readonly version: number;
  /** Its name: its file's name without number and extension (`outbox`). */
  readonly name: string;
  /** Its SQL, for the schema {@link migrations} was given. */
  readonly sql: string;
}

/**
 * Options of {@link migrate}.
 *
 * @example
 * ```ts
 * const options: MigrateOptions = { schema: 'billing_events' };
 * await migrate(pool, options);
 * ```
 */
export interface MigrateOptions {
  /** The schema to create and fill. Default `herald`. */
  readonly schema?: string;
}

/**
 * The package's migrations, in version order, for `schema`.
 *
 * @example
 * ```ts
 * for (const m of await migrations('herald')) console.log(m.version, m.name);
 * ```
 */
export async function migrations(schema = 'herald'): Promise<Migration[]> {
  const quoted = quoteSchema(schema);
  const files = (await readdir(MIGRATIONS)).filter((file) => /^\d+_.+\.sql$/.test(file)).sort();
  return Promise.all(
    files.map(async (file) => ({
      version: Number.parseInt(file, 10),
      name: file.replace(/^\d+_|\.sql$/g, ''),
      sql: (await readFile(new URL(file, MIGRATIONS), 'utf8')).replace(SCHEMA_PLACEHOLDER, `${quoted}.`),
    })),
  );
}

/**
 * Creates the schema and applies the migrations it lacks, in one transaction. Idempotent, and
 * safe when several processes start at once: a transaction-level advisory lock (per schema) makes
 * the second wait for the first, then find nothing to do. Resolves with the versions it applied.
 *
 * @throws InvalidError for a bad schema name or something that is not a pool
 * @example
 * ```ts
 * const pool = new pg.Pool({ connectionString: process.env.HERALD_DATABASE_URL });
 * await migrate(pool, { schema: 'herald' }); // [1, 2] the first time, [] afterwards
 * ```
 */
export async function migrate(pool: SqlPool, options: MigrateOptions = {}): Promise<number[]> {
  checkPool('pool', pool, true);
  const schema = options.schema ?? 'herald';
  const quoted = quoteSchema(schema);
  const all = await migrations(schema);
  return withTransaction(pool, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('herald.migrate'), hashtext($1))", [schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quoted}.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = new Set(
      (await client.query(`SELECT version FROM ${quoted}.migrations`)).rows.map((row) => row.version as number),
    );
    const applied: number[] = [];
    for (const migration of all.filter((m) => !done.has(m.version))) {
      await client.query(migration.sql);
      await client.query(`INSERT INTO ${quoted}.migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    return applied;
  });
}
