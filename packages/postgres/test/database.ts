import { afterAll, beforeAll, describe } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '../src/index.js';

/** The server the tests use (set by the global setup), or `undefined` when there is none. */
export const databaseUrl: string | undefined = process.env.HERALD_TEST_DATABASE_URL;

/** `describe` when a server is known, else `describe.skip`. */
export const describeWithDatabase = databaseUrl === undefined ? describe.skip : describe;

/** A schema name no other test run uses. */
export function uniqueSchema(prefix = 'herald_test'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/**
 * A pool and a migrated schema of its own for the tests of one file, dropped afterwards.
 * Call at the top of a `describeWithDatabase` block.
 */
export function useDatabase(): { readonly pool: pg.Pool; readonly schema: string } {
  const fixture = { pool: undefined as unknown as pg.Pool, schema: uniqueSchema() };
  beforeAll(async () => {
    fixture.pool = new pg.Pool({ connectionString: databaseUrl, max: 8 });
    await migrate(fixture.pool, { schema: fixture.schema });
  });
  afterAll(async () => {
    await fixture.pool.query(`DROP SCHEMA IF EXISTS "${fixture.schema}" CASCADE`);
    await fixture.pool.end();
  });
  return fixture;
}
