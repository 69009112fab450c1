import { describe, expect, it } from '@jest/globals';
import { InvalidError } from '@herald/core';
import pg from 'pg';
import { migrate, migrations } from '../src/index.js';
import { databaseUrl, describeWithDatabase, uniqueSchema } from './database.js';

describeWithDatabase('migrate', () => {
  it('creates the schema with every migration once, and does nothing the second time', async () => {
    const pool = new pg.Pool({ connectionString: databaseUrl });
    const schema = uniqueSchema('herald_migrate');
    try {
      const versions = (await migrations(schema)).map((m) => m.version);
      expect(versions).toEqual([1, 2, 3]);
      expect(await migrate(pool, { schema })).toEqual(versions);
      expect(await migrate(pool, { schema })).toEqual([]);
      const tables = await pool.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [
        schema,
      ]);
      expect(tables.rows.map((r) => r.table_name).sort()).toEqual(['inbox', 'migrations', 'outbox']);
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    }
  });

  it('is safe when several processes start at once: one applies, the others find nothing to do', async () => {
    const pools = [1, 2, 3].map(() => new pg.Pool({ connectionString: databaseUrl, max: 1 }));
    const schema = uniqueSchema('herald_migrate');
    try {
      const applied = await Promise.all(pools.map((pool) => migrate(pool, { schema })));
      expect(applied.map((versions) => versions.length).sort()).toEqual([0, 0, 3]);
    } finally {
      await pools[0]!.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });
});

describe('migrate without a database', () => {
  it('refuses a schema name that is not a plain identifier, naming it', async () => {
    const error = await migrate(new pg.Pool(), { schema: 'Robert"); DROP TABLE students;--' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidError);
    expect((error as InvalidError).element).toBe('options.schema');
  });
});
