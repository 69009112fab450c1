import { describe, expect, it } from '@jest/globals';
import { InvalidError } from '@herald/core';
import { PostgresInboxStore, inboxKeyOf, withTransaction } from '../src/index.js';
import { describeWithDatabase, useDatabase } from './database.js';

describeWithDatabase('PostgresInboxStore', () => {
  const db = useDatabase();
  const inbox = () => new PostgresInboxStore({ schema: db.schema });

  async function applied(id: string): Promise<number> {
    const result = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".applied WHERE id = $1`, [id]);
    return result.rows[0].n as number;
  }
  const apply = (id: string) => async (tx: { query(text: string, values?: unknown[]): Promise<unknown> }) => {
    await tx.query(`INSERT INTO "${db.schema}".applied (id) VALUES ($1)`, [id]);
  };

  it('runs the handler once per key: a redelivery changes nothing', async () => {
    await db.pool.query(`CREATE TABLE IF NOT EXISTS "${db.schema}".applied (id text)`);
    const key = { source: 'neutron-server@host-1', id: 'm1' };
    await expect(inbox().handle(db.pool, key, apply('m1'))).resolves.toBe(true);
    // A new store object, as after a restart: the key is in the table.
    await expect(inbox().handle(db.pool, key, apply('m1'))).resolves.toBe(false);
    expect(await applied('m1')).toBe(1);
    expect(await inbox().has(db.pool, key)).toBe(true);
    // The same id from another source is another message.
    await expect(inbox().handle(db.pool, { ...key, source: 'other' }, apply('m1'))).resolves.toBe(true);
  });

  it('keeps neither the key nor the writes when the handler fails, so the redelivery is handled', async () => {
    await db.pool.query(`CREATE TABLE IF NOT EXISTS "${db.schema}".applied (id text)`);
    const key = { source: 's', id: 'm2' };
    await expect(
      inbox().handle(db.pool, key, async (tx) => {
        await apply('m2')(tx);
        throw new Error('handler failed');
      }),
    ).rejects.toThrow('handler failed');
    expect(await applied('m2')).toBe(0);
    expect(await inbox().has(db.pool, key)).toBe(false);
    await expect(inbox().handle(db.pool, key, apply('m2'))).resolves.toBe(true);
    expect(await applied('m2')).toBe(1);
  });

  it('lets one of two concurrent deliveries of a message through; the other waits, then skips', async () => {
    await db.pool.query(`CREATE TABLE IF NOT EXISTS "${db.schema}".applied (id text)`);
    const key = { source: 's', id: 'm3' };
    const results = await Promise.all([
      inbox().handle(db.pool, key, apply('m3')),
      inbox().handle(db.pool, key, apply('m3')),
    ]);
    expect(results.sort()).toEqual([false, true]);
    expect(await applied('m3')).toBe(1);
  });

  it('records the key in the caller transaction with record()', async () => {
    const key = { source: 's', id: 'm4' };
    await expect(
      withTransaction(db.pool, async (tx) => {
        expect(await inbox().record(tx, key)).toBe(true);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await inbox().has(db.pool, key)).toBe(false);
  });

  it('forgets keys older than asked with prune()', async () => {
    await inbox().record(db.pool, { source: 's', id: 'old' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await inbox().record(db.pool, { source: 's', id: 'new' });
    expect(await inbox().prune(db.pool, 40)).toBeGreaterThanOrEqual(1);
    expect(await inbox().has(db.pool, { source: 's', id: 'old' })).toBe(false);
    expect(await inbox().has(db.pool, { source: 's', id: 'new' })).toBe(true);
  });
});

describe('inboxKeyOf', () => {
  it('keys a delivery by its CloudEvent source and id, else by its topic', () => {
    const delivery = { id: 'e1', target: { topic: 't' }, headers: { 'ce-source': 'src' }, body: {}, attempt: 1 };
    expect(inboxKeyOf(delivery)).toEqual({ source: 'src', id: 'e1' });
    expect(inboxKeyOf({ ...delivery, headers: {} })).toEqual({ source: 't', id: 'e1' });
  });

  it('refuses a key without an id with an InvalidError naming it', async () => {
    const error = await new PostgresInboxStore()
      .record({ query: async () => ({ rows: [], rowCount: 0 }) }, { source: 's', id: '' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidError);
    expect((error as InvalidError).element).toBe('key.id');
  });
});
