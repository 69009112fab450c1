/**
 * An in-memory data store with tables and all-or-nothing transactions: enough to show
 * `precommit_*` subscribers running inside a transaction that rolls back when one of them fails.
 * @module
 */

import { injectable } from 'inversify';
import { NotFound } from './errors.js';
import type { FloatingIp, Models } from './models.js';

/** One table of records with an `id`. */
export class Table<T extends { readonly id: string }> {
  #rows = new Map<string, T>();

  constructor(readonly resource: string) {}

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
  }

  /** Remove the record with `id` (nothing when there is none). */
  remove(id: string): void {
    this.#rows.delete(id);
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
  readonly networks = new Table<Models['network']>('network');
  readonly subnets = new Table<Models['subnet']>('subnet');
  readonly ports = new Table<Models['port']>('port');
  readonly routers = new Table<Models['router']>('router');
  readonly floatingIps = new Table<FloatingIp>('floating IP');
  readonly #serials = new Map<string, number>();
  #depth = 0;

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
   * Run `work` in a transaction: if it throws, every table is put back as it was and the error is
   * rethrown. A transaction inside a transaction joins the outer one.
   */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    if (this.#depth > 0) return work();
    const tables = [this.networks, this.subnets, this.ports, this.routers, this.floatingIps];
    const restores = tables.map((t) => t.snapshot());
    this.#depth++;
    try {
      return await work();
    } catch (error) {
      for (const restore of restores) restore();
      throw error;
    } finally {
      this.#depth--;
    }
  }
}
