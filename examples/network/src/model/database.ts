/**
 * An in-memory data store with tables and all-or-nothing transactions: enough to show
 * `precommit_*` subscribers running inside a transaction that rolls back when one of them fails.
 * Given a {@link RowStore} (PostgreSQL, see `postgres.ts`), each transaction is also a database
 * transaction, and the writes of the managed tables are rows in it.
 * @module
 */

import { injectable } from 'inversify';
import { NotFound } from './errors.js';
import type { FloatingIp, Models } from './models.js';

/** A database transaction the managed tables' writes go to (see {@link RowStore}). */
export interface RowSession {
  /** Writes `row` (or deletes it, when `undefined`) in the transaction. */
  write(resource: string, id: string, row: object | undefined): void;
}

/** Where a {@link Database} keeps its rows besides memory: a real database, in real transactions. */
export interface RowStore {
  /** Runs `work` in a transaction: COMMIT when it resolves, ROLLBACK when it rejects. */
  transaction<T>(work: (session: RowSession) => Promise<T>): Promise<T>;
}

/** One table of records with an `id`. */
export class Table<T extends { readonly id: string }> {
  #rows = new Map<string, T>();

  /** `onWrite` hears every put and remove (the database's session, when it has a row store). */
  constructor(
    readonly resource: string,
    private readonly onWrite: (resource: string, id: string, row: T | undefined) => void = () => undefined,
  ) {}

  /** The record with `id`, or `undefined`. */
  find(id: string): T | undefined {
    return this.#rows.get(id);
  }

  /** The record with `id`; `NotFound` when there is none. */
  get(id: string): T {
    const row = this.#rows.get(id);
    if (row === undefined) throw new NotFound(this.resource, id);
    return row;
  }

  /** Every record matching `where` (all of them without it), in insertion order. */
  list(where: (row: T) => boolean = () => true): T[] {
    return [...this.#rows.values()].filter(where);
  }

  /** Insert or replace a record. */
  put(row: T): void {
    this.#rows.set(row.id, row);
    this.onWrite(this.resource, row.id, row);
  }

  /** Remove the record with `id` (nothing when there is none). */
  remove(id: string): void {
    this.#rows.delete(id);
    this.onWrite(this.resource, id, undefined);
  }

  /** Records are immutable, so a copy of the map is a full snapshot. */
  snapshot(): () => void {
    const saved = new Map(this.#rows);
    return () => {
      this.#rows = saved;
    };
  }
}

/**
 * The example's database: one table per resource, and transactions. Records are replaced, never
 * mutated, so a transaction can snapshot every table cheaply and restore it on failure.
 * Transactions do not isolate concurrent requests from each other: the example runs one at a time.
 *
 * @example
 * ```ts
 * await db.transaction(async () => {
 *   db.routers.put(router);
 *   await registry.notify(ROUTER, PRECOMMIT_CREATE, this, payload); // a failure undoes the put
 * });
 * ```
 */
@injectable()
export class Database {
  readonly #write = (resource: string, id: string, row: object | undefined): void =>
    this.#session?.write(resource, id, row);
  readonly networks = new Table<Models['network']>('network', this.#write);
  readonly subnets = new Table<Models['subnet']>('subnet', this.#write);
  readonly ports = new Table<Models['port']>('port', this.#write);
  readonly routers = new Table<Models['router']>('router', this.#write);
  readonly floatingIps = new Table<FloatingIp>('floating IP');
  readonly #serials = new Map<string, number>();
  #depth = 0;
  #store: RowStore | undefined;
  #session: RowSession | undefined;

  /** From now on, each transaction is also one of `store`, and the managed tables' writes are its rows. */
  useStore(store: RowStore): void {
    this.#store = store;
  }

  /** The row store's transaction in progress (what a `precommit_*` subscriber writes to), if any. */
  get session(): RowSession | undefined {
    return this.#session;
  }

  /** The table of a managed resource. */
  tableOf<R extends keyof Models>(resource: R): Table<Models[R]> {
    const tables: { [K in keyof Models]: Table<Models[K]> } = {
      network: this.networks,
      subnet: this.subnets,
      port: this.ports,
      router: this.routers,
    };
    return tables[resource];
  }

  /** A new id: `<prefix>-1`, `<prefix>-2`… (predictable, so traces read well and tests can name them). */
  newId(prefix: string): string {
    const next = (this.#serials.get(prefix) ?? 0) + 1;
    this.#serials.set(prefix, next);
    return `${prefix}-${next}`;
  }

  /**
   * Run `work` in a transaction: if it throws, every table is put back as it was (and the row
   * store's transaction rolls back) and the error is rethrown. A transaction inside a transaction
   * joins the outer one.
   */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    if (this.#depth > 0) return work();
    const tables = [this.networks, this.subnets, this.ports, this.routers, this.floatingIps];
    const restores = tables.map((t) => t.snapshot());
    this.#depth++;
    try {
      if (this.#store === undefined) return await work();
      return await this.#store.transaction(async (session) => {
        this.#session = session;
        try {
          return await work();
        } finally {
          this.#session = undefined;
        }
      });
    } catch (error) {
      for (const restore of restores) restore();
      throw error;
    } finally {
      this.#depth--;
    }
  }
}
