/**
 * {@link PostgresInboxStore}: idempotent consumers. The key of each message handled is written in
 * the same transaction as the handler's own writes, so a message delivered again changes nothing.
 * @module
 */

import { InvalidError } from '@herald/core';
import type { Delivery } from '@herald/messaging';
import { checkPool, quoteSchema, withTransaction, type SqlClient, type SqlPool, type SqlPoolClient } from './sql.js';

/**
 * What identifies a message for an inbox: who sent it and its id (CloudEvents' `source` + `id`).
 *
 * @example
 * ```ts
 * const key: InboxKey = { source: 'network@controller', id: delivery.id };
 * ```
 */
export interface InboxKey {
  /** Who sent the message: its CloudEvents `source`. */
  readonly source: string;
  /** The message's id, unique for its source. */
  readonly id: string;
}

/**
 * Options of a {@link PostgresInboxStore}.
 *
 * @example
 * ```ts
 * new PostgresInboxStore({ schema: 'herald' });
 * ```
 */
export interface PostgresInboxStoreOptions {
  /** The schema {@link migrate} filled. Default `herald`. */
  readonly schema?: string;
}

/**
 * The inbox key of a delivery: its `ce-source` header (a CloudEvent's source, as Herald's
 * notifier and bridge send it), else its topic, with its id.
 *
 * @example
 * ```ts
 * await inbox.handle(pool, inboxKeyOf(delivery), (tx) => applyEvent(tx, delivery.body));
 * ```
 */
export function inboxKeyOf(delivery: Delivery): InboxKey {
  return { source: delivery.headers['ce-source'] ?? delivery.target.topic, id: delivery.id };
}

function checkKey(key: InboxKey): void {
  if (key === null || typeof key !== 'object') {
    throw new InvalidError('key', key, 'pass { source, id } (inboxKeyOf(delivery) gives it).');
  }
  for (const part of ['source', 'id'] as const) {
    if (typeof key[part] !== 'string' || key[part] === '') {
      throw new InvalidError(`key.${part}`, key[part], 'pass a non-empty string.');
    }
  }
}

/**
 * The inbox on PostgreSQL (`<schema>.inbox`, see `migrations/`): which messages a consumer has
 * already handled, across restarts. Record a message's key in the transaction that applies it
 * ({@link record} or {@link handle}); a redelivery then finds it and does nothing, and when the
 * transaction rolls back, the key goes with it and the redelivery is handled.
 *
 * Run {@link migrate} first, with the same schema.
 *
 * @example
 * ```ts
 * const inbox = new PostgresInboxStore({ schema: 'herald' });
 * await transport.consume({ topic: 'notifications.info' }, (delivery) =>
 *   inbox.handle(pool, inboxKeyOf(delivery), async (tx) => {
 *     await tx.query('UPDATE routers SET status = $1 WHERE id = $2', ['ACTIVE', delivery.body.id]);
 *   }),
 * );
 * ```
 */
export class PostgresInboxStore {
  readonly #table: string;

  /** @throws InvalidError for a bad schema name */
  constructor(options: PostgresInboxStoreOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new InvalidError('options', options, 'pass { schema } or nothing.');
    }
    this.#table = `${quoteSchema(options.schema ?? 'herald')}.inbox`;
  }

  /**
   * Records `key` with `db` (the client of your open transaction). Resolves `true` the first
   * time, `false` when the key was recorded already (the message was handled: skip it). While
   * another transaction holds the same key uncommitted, this waits for it to end.
   *
   * @throws InvalidError for a key without a source or id
   * @example
   * ```ts
   * if (await inbox.record(tx, { source: 'neutron-server@host-1', id })) await apply(tx);
   * ```
   */
  async record(db: SqlClient, key: InboxKey): Promise<boolean> {
    checkPool('db', db, false);
    checkKey(key);
    const result = await db.query(
      `INSERT INTO ${this.#table} (source, id) VALUES ($1, $2) ON CONFLICT (source, id) DO NOTHING`,
      [key.source, key.id],
    );
    return result.rowCount === 1;
  }

  /**
   * Runs `work` once per key: in a transaction on a connection of `pool` that first records the
   * key; when the key was recorded already, commits nothing and resolves `false` without calling
   * `work`. When `work` rejects, nothing is kept (the key neither) and the rejection is passed on,
   * so the message is redelivered and handled again.
   *
   * @throws InvalidError for a key without a source or id
   * @example
   * ```ts
   * const handled = await inbox.handle(pool, inboxKeyOf(delivery), (tx) => apply(tx, delivery.body));
   * ```
   */
  async handle(pool: SqlPool, key: InboxKey, work: (client: SqlPoolClient) => Promise<void>): Promise<boolean> {
    checkPool('pool', pool, true);
    checkKey(key);
    return withTransaction(pool, async (client) => {
      if (!(await this.record(client, key))) return false;
      await work(client);
      return true;
    });
  }

  /**
   * Whether `key` is recorded (committed).
   *
   * @example
   * ```ts
   * expect(await inbox.has(pool, { source, id })).toBe(true);
   * ```
   */
  async has(db: SqlClient, key: InboxKey): Promise<boolean> {
    checkPool('db', db, false);
    checkKey(key);
    const result = await db.query(`SELECT 1 FROM ${this.#table} WHERE source = $1 AND id = $2`, [key.source, key.id]);
    return result.rows.length > 0;
  }

  /**
   * Forgets keys recorded more than `olderThanMs` ago (longer than any redelivery can take);
   * resolves with how many.
   *
   * @example
   * ```ts
   * await inbox.prune(pool, 7 * 86_400_000);
   * ```
   */
  async prune(db: SqlClient, olderThanMs: number): Promise<number> {
    checkPool('db', db, false);
    if (!Number.isSafeInteger(olderThanMs) || olderThanMs < 0) {
      throw new InvalidError('olderThanMs', olderThanMs, 'pass a whole number of milliseconds, 0 or more.');
    }
    const result = await db.query(
      `DELETE FROM ${this.#table} WHERE handled_at < clock_timestamp() - $1::bigint * interval '1 millisecond'`,
      [olderThanMs],
    );
    return result.rowCount ?? 0;
  }
}
