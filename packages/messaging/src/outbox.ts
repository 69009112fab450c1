/**
 * The transactional outbox: a message is written to the application's own database in the same
 * transaction as the change it reports, and an {@link OutboxRelay} publishes it afterwards. If
 * the process dies right after the commit, the message is still there, and the next relay (in
 * this process after a restart, or in another) sends it. The message's id goes with it, so
 * consumers drop the copy a relay sends twice (after a crash between publish and removal).
 *
 * Herald does not own your database: it defines what a store must do ({@link OutboxStore}, or
 * {@link ClaimingOutboxStore} for relays in several processes) and ships
 * {@link InMemoryOutboxStore} for tests and single-process use; `@herald/postgres` has a
 * PostgreSQL one (`docs/guide/outbox-postgres.md`).
 * @module
 */

import { errorText, InvalidError, type Logger } from '@herald/core';
import { checkLogger, checkMessage, checkTarget, checkTransport, MAX_TIMER_MS, warn } from './transport.kit.js';
import type { OutgoingMessage, Target, Transport } from './transport.js';

/**
 * One message waiting in an outbox: where it goes and what it says, with its id.
 *
 * @example
 * ```ts
 * const entry: OutboxEntry = { target: { topic: 'billing' }, message: { id: `invoice-${invoice.id}-paid`, body: invoice } };
 * tx.outbox.add(entry);
 * ```
 */
export interface OutboxEntry {
  /** Where the message goes. */
  readonly target: Target;
  /** The message, with its id (required: consumers drop a copy by it). */
  readonly message: OutgoingMessage & { readonly id: string };
  /**
   * Entries with the same key are published one after another, in the order they were committed
   * (e.g. `router:r1` for every event of one router), by a store that keeps that order
   * ({@link ClaimingOutboxStore}). Entries without a key may go out in any order.
   */
  readonly key?: string;
}

/**
 * Where an outbox keeps its entries. Entries are added by the application in its own
 * transaction (with whatever API its database has); the relay only reads and removes them.
 *
 * @example
 * ```ts
 * // PostgreSQL: CREATE TABLE outbox (seq bigserial PRIMARY KEY, id text UNIQUE, entry jsonb);
 * const store: OutboxStore = {
 *   pending: async (limit) =>
 *     (await pool.query('SELECT entry FROM outbox ORDER BY seq LIMIT $1', [limit])).rows.map((r) => r.entry),
 *   remove: async (ids) => void (await pool.query('DELETE FROM outbox WHERE id = ANY($1)', [ids])),
 * };
 * ```
 */
export interface OutboxStore {
  /** The oldest entries not relayed yet, at most `limit`, in the order they were added. */
  pending(limit: number): Promise<readonly OutboxEntry[]> | readonly OutboxEntry[];
  /** Forgets the entries with these message ids: they were published. */
  remove(ids: readonly string[]): Promise<void> | void;
}

/**
 * An outbox that several relays (in several processes) can share: each {@link claim} hands out
 * entries no other relay holds until the claim is settled, so an entry is published twice only
 * when a relay dies between publishing it and settling (the at-least-once window). The store
 * decides the order (entries of one {@link OutboxEntry.key} come in commit order, and only once
 * the ones before them are published) and when a failed entry is tried again.
 *
 * @example
 * ```ts
 * import { PostgresOutboxStore } from '@herald/postgres';
 * const store: ClaimingOutboxStore = new PostgresOutboxStore(pool, { schema: 'herald' });
 * new OutboxRelay(transport, store).start();
 * ```
 */
export interface ClaimingOutboxStore {
  /** Up to `limit` entries for this relay alone, until the claim is settled. */
  claim(limit: number): Promise<OutboxClaim> | OutboxClaim;
  /**
   * Calls `wake` whenever entries may have been committed (PostgreSQL: `LISTEN`), until the
   * returned function is called. The relay polls as well, so a store may leave this out.
   */
  watch?(wake: () => void): Promise<() => Promise<void>> | (() => Promise<void>);
}

/**
 * Entries claimed by one relay (see {@link ClaimingOutboxStore.claim}).
 *
 * @example
 * ```ts
 * const claim = await store.claim(100);
 * await claim.settle({ published: claim.entries.map((e) => e.message.id), failed: [] });
 * ```
 */
export interface OutboxClaim {
  /** In publishing order; the relay keeps the order of entries that share a key. */
  readonly entries: readonly OutboxEntry[];
  /**
   * Records what happened and releases the claim: `published` ids are done, `failed` ones wait
   * for a later try (the store decides when: a backoff), and entries in neither are released as
   * they were.
   */
  settle(outcome: OutboxOutcome): Promise<void> | void;
}

/**
 * What a relay did with a claim's entries, by message id.
 *
 * @example
 * ```ts
 * const outcome: OutboxOutcome = { published: ['a'], failed: [{ id: 'b', error: new TransportError('down') }] };
 * ```
 */
export interface OutboxOutcome {
  /** The ids of the entries published: the store deletes or marks them. */
  readonly published: readonly string[];
  /** The entries whose publish failed, with the error: the store keeps them for a later try. */
  readonly failed: readonly { readonly id: string; readonly error: unknown }[];
}

/**
 * Checks an entry and gives a frozen copy whose body has made its JSON round trip.
 *
 * @throws InvalidError naming the bad part (`entry.target…`, `entry.message…`); a message
 *   without an id gets none here: give it one (the id is what lets consumers drop a duplicate)
 * @example
 * ```ts
 * const entry = checkOutboxEntry({ target: { topic: 'notifications.info' }, message: { id, body } }); // before writing it
 * ```
 */
export function checkOutboxEntry(entry: OutboxEntry): OutboxEntry {
  if (entry === null || typeof entry !== 'object') {
    throw new InvalidError('entry', entry, 'pass { target, message: { id, headers?, body } }.');
  }
  const target = checkTarget(entry.target);
  const message = entry.message;
  if (message === null || typeof message !== 'object' || typeof message.id !== 'string') {
    throw new InvalidError(
      'entry.message.id',
      message?.id,
      'give the message an id: it is how consumers drop a copy sent twice.',
    );
  }
  if (entry.key !== undefined && (typeof entry.key !== 'string' || entry.key === '')) {
    throw new InvalidError('entry.key', entry.key, 'pass a non-empty string (e.g. `router:<id>`), or leave it out.');
  }
  const checked = checkMessage(message);
  return Object.freeze({
    target,
    message: Object.freeze({ id: checked.id, headers: checked.headers, body: JSON.parse(checked.json) as unknown }),
    ...(entry.key !== undefined && { key: entry.key }),
  });
}

/**
 * An {@link OutboxStore} in memory, with transactions: entries added in a transaction are pending
 * only once it commits, and are dropped if it rolls back. For tests, and for a process that has
 * no database but wants publishing decoupled from its work.
 *
 * @example
 * ```ts
 * const store = new InMemoryOutboxStore();
 * const tx = store.begin();
 * tx.add({ target: { topic: 'notifications.info' }, message: { id: 'router-1:create', body } });
 * tx.commit();
 * await new OutboxRelay(transport, store).relay(); // published
 * ```
 */
export class InMemoryOutboxStore implements OutboxStore {
  /**
   * By message id, in the order added: removing the oldest is one delete, and an entry added again
   * with an id already pending keeps its place (one message, one id).
   */
  readonly #entries = new Map<string, OutboxEntry>();

  /** Adds `entry` at once (outside any transaction). @throws InvalidError for a bad entry */
  add(entry: OutboxEntry): void {
    this.#keep(checkOutboxEntry(entry));
  }

  /** Starts a transaction: its entries become pending when it commits. */
  begin(): OutboxTransaction {
    const staged: OutboxEntry[] = [];
    let state: 'open' | 'committed' | 'rolled back' = 'open';
    const checkOpen = (operation: string): void => {
      if (state !== 'open') {
        throw new InvalidError(
          'transaction',
          state,
          `cannot ${operation}: the transaction is already ${state}; begin a new one.`,
        );
      }
    };
    return {
      add: (entry) => {
        checkOpen('add');
        staged.push(checkOutboxEntry(entry));
      },
      commit: () => {
        checkOpen('commit');
        state = 'committed';
        for (const entry of staged) this.#keep(entry);
      },
      rollback: () => {
        checkOpen('roll back');
        state = 'rolled back';
      },
    };
  }

  /** How many entries are pending. */
  get size(): number {
    return this.#entries.size;
  }

  /** The oldest `limit` entries, in the order they were committed. */
  pending(limit: number): readonly OutboxEntry[] {
    const batch: OutboxEntry[] = [];
    for (const entry of this.#entries.values()) {
      if (batch.length >= limit) break;
      batch.push(entry);
    }
    return batch;
  }

  /** Deletes the entries of `ids`; an id it does not hold is ignored. */
  remove(ids: readonly string[]): void {
    for (const id of ids) this.#entries.delete(id);
  }

  #keep(entry: OutboxEntry): void {
    if (!this.#entries.has(entry.message.id)) this.#entries.set(entry.message.id, entry);
  }
}

/**
 * A transaction of an {@link InMemoryOutboxStore}.
 *
 * @example
 * ```ts
 * const tx: OutboxTransaction = store.begin();
 * tx.add(bridge.outboxEntry(ROUTER, AFTER_CREATE, payload));
 * tx.commit(); // or tx.rollback()
 * ```
 */
export interface OutboxTransaction {
  /** Stages `entry`. @throws InvalidError for a bad entry, or once committed or rolled back */
  add(entry: OutboxEntry): void;
  /** Makes the staged entries pending, for the relay. */
  commit(): void;
  /** Drops the staged entries. */
  rollback(): void;
}

/**
 * Options of an {@link OutboxRelay}.
 *
 * @example
 * ```ts
 * const relay = new OutboxRelay(transport, store, { intervalMs: 500, batchSize: 50, logger: console });
 * ```
 */
export interface OutboxRelayOptions {
  /**
   * How often {@link OutboxRelay.start} looks for pending entries, in milliseconds (a store that
   * can {@link ClaimingOutboxStore.watch} wakes the relay sooner). Default 1,000.
   */
  readonly intervalMs?: number;
  /** How many entries one pass reads from the store at a time. Default 100. */
  readonly batchSize?: number;
  /**
   * How many claims a relay holds at once, from a {@link ClaimingOutboxStore} only: with 2 or
   * more, it claims the next batch while the previous one is being published, and a wake (a
   * commit) finds a loop free to claim at once, which keeps the latency low under a steady stream
   * of commits. Default 1.
   */
  readonly concurrency?: number;
  /** Where failed passes are reported (warning level). */
  readonly logger?: Logger;
}

/**
 * What an {@link OutboxRelay} has done so far.
 *
 * @example
 * ```ts
 * const { relayed, failures }: OutboxRelayStats = relay.stats;
 * ```
 */
export interface OutboxRelayStats {
  /** Entries published and removed. */
  readonly relayed: number;
  /** Passes that stopped on a failure (the entry stays pending). */
  readonly failures: number;
}

/** A claim, whatever kind of store it came from, with how its entries are ordered. */
interface RelayClaim extends OutboxClaim {
  /** `all`: one entry at a time, stopping at the first failure; `key`: in order within each key only. */
  readonly order: 'all' | 'key';
}

/** How the relay takes entries from a plain {@link OutboxStore}: strictly in order, removing what went out. */
function claimFromPending(store: OutboxStore): (limit: number) => Promise<RelayClaim> {
  return async (limit) => ({
    entries: await store.pending(limit),
    order: 'all',
    settle: async ({ published }) => {
      if (published.length > 0) await store.remove(published);
    },
  });
}

function isClaimingStore(store: unknown): store is ClaimingOutboxStore {
  return store !== null && typeof store === 'object' && typeof (store as ClaimingOutboxStore).claim === 'function';
}

function isPlainStore(store: unknown): store is OutboxStore {
  return (
    store !== null &&
    typeof store === 'object' &&
    typeof (store as OutboxStore).pending === 'function' &&
    typeof (store as OutboxStore).remove === 'function'
  );
}

/**
 * Publishes an outbox's pending entries, removing (or marking) each once the transport took it
 * (a broker: confirmed it).
 *
 * - From a plain {@link OutboxStore}: oldest first, one at a time; a pass stops at the first entry
 *   that fails, so entries go out in order, and that entry and the ones after it wait for the
 *   next pass.
 * - From a {@link ClaimingOutboxStore}: a claimed batch at a time, published concurrently except
 *   that entries sharing a key go one after another; a failed entry holds back the rest of its key
 *   and the store schedules it again. Any number of relays may share the store.
 *
 * Any target a {@link Transport} accepts works (a topic with consumer groups, one server, fanout).
 *
 * @example
 * ```ts
 * const relay = new OutboxRelay(transport, store, { intervalMs: 500, logger: console });
 * relay.start();
 * // after a commit that added entries (a store that watches its database does this itself):
 * relay.wake();
 * // on shutdown:
 * await relay.stop();
 * ```
 */
export class OutboxRelay {
  readonly #transport: Transport;
  readonly #store: OutboxStore | ClaimingOutboxStore;
  readonly #claim: (limit: number) => Promise<RelayClaim>;
  readonly #intervalMs: number;
  readonly #batchSize: number;
  readonly #concurrency: number;
  readonly #logger: Logger | undefined;
  #pass: Promise<number> | undefined = undefined;
  #again = false;
  /** During a pass: starts one more claiming loop when fewer than `concurrency` run. */
  #addLoop: (() => void) | undefined = undefined;
  #timer: NodeJS.Timeout | undefined = undefined;
  #running = false;
  #unwatch: Promise<(() => Promise<void>) | undefined> | undefined = undefined;
  #stats = { relayed: 0, failures: 0 };

  /**
   * @throws InvalidError for a transport without `publish`, a store with neither `claim` nor
   *   `pending` and `remove`, or options that are not positive whole numbers / a logger
   */
  constructor(transport: Transport, store: OutboxStore | ClaimingOutboxStore, options: OutboxRelayOptions = {}) {
    checkTransport(transport, ['publish']);
    if (isClaimingStore(store)) {
      this.#claim = async (limit) => ({ ...(await store.claim(limit)), order: 'key' });
    } else if (isPlainStore(store)) {
      this.#claim = claimFromPending(store);
    } else {
      throw new InvalidError(
        'store',
        store,
        'pass an OutboxStore (pending(limit) and remove(ids)) or a ClaimingOutboxStore (claim(limit)).',
      );
    }
    if (options === null || typeof options !== 'object') {
      throw new InvalidError('options', options, 'pass { intervalMs, batchSize, concurrency, logger } or nothing.');
    }
    const { intervalMs = 1_000, batchSize = 100, concurrency = 1, logger } = options;
    if (typeof intervalMs !== 'number' || !(intervalMs > 0) || intervalMs > MAX_TIMER_MS) {
      throw new InvalidError(
        'options.intervalMs',
        intervalMs,
        `pass a number of milliseconds above 0, up to ${MAX_TIMER_MS}.`,
      );
    }
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      throw new InvalidError('options.batchSize', batchSize, 'pass a whole number of entries, 1 or more.');
    }
    if (!Number.isSafeInteger(concurrency) || concurrency < 1 || (concurrency > 1 && !isClaimingStore(store))) {
      throw new InvalidError(
        'options.concurrency',
        concurrency,
        isClaimingStore(store)
          ? 'pass a whole number of claims, 1 or more.'
          : 'leave it at 1: a plain OutboxStore publishes one entry at a time, in order (a ClaimingOutboxStore can do more).',
      );
    }
    checkLogger('options.logger', logger);
    this.#transport = transport;
    this.#concurrency = concurrency;
    this.#store = store;
    this.#intervalMs = intervalMs;
    this.#batchSize = batchSize;
    this.#logger = logger;
  }

  /** What the relay has done so far. */
  get stats(): OutboxRelayStats {
    return { ...this.#stats };
  }

  /**
   * One pass: publishes every pending entry until none is left or one fails. Resolves with how
   * many were published; never rejects (a failure is counted in `stats` and logged). A call
   * during a pass runs another pass after it.
   *
   * @example
   * ```ts
   * tx.commit();
   * expect(await relay.relay()).toBe(1);
   * ```
   */
  relay(): Promise<number> {
    if (this.#pass !== undefined) {
      this.#again = true;
      // A loop that found nothing has ended: new entries need not wait for the others to finish.
      this.#addLoop?.();
      return this.#pass;
    }
    this.#pass = this.#runPasses().finally(() => {
      this.#pass = undefined;
    });
    return this.#pass;
  }

  /**
   * Relays every `intervalMs` until {@link stop}, and whenever the store reports a commit (the
   * timer does not keep the process alive).
   */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
    const store = this.#store;
    if (isClaimingStore(store) && store.watch !== undefined) {
      this.#unwatch = Promise.resolve()
        .then(() => store.watch!(() => this.wake()))
        .catch((error: unknown) => {
          warn(this.#logger, `Outbox relay cannot watch its store, polling only: ${errorText(error)}`);
          return undefined;
        });
    }
  }

  /** Relays now rather than at the next interval (after a commit that added entries). */
  wake(): void {
    void this.relay();
  }

  /** Stops the interval and the store's watch, and waits for the pass in progress. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    const unwatch = await this.#unwatch;
    this.#unwatch = undefined;
    await unwatch?.();
    await this.#pass;
  }

  #schedule(delay: number): void {
    this.#timer = setTimeout(() => {
      void this.relay().then(() => {
        if (this.#running) this.#schedule(this.#intervalMs);
      });
    }, delay);
    this.#timer.unref();
  }

  async #runPasses(): Promise<number> {
    let sent = 0;
    do {
      this.#again = false;
      sent += await this.#onePass();
    } while (this.#again);
    return sent;
  }

  /**
   * Claims and publishes until nothing is left, in up to `concurrency` loops (a wake during the
   * pass starts a loop again where one ended); never rejects.
   */
  async #onePass(): Promise<number> {
    let sent = 0;
    const done = new Set<string>();
    const drain = async (): Promise<void> => {
      for (;;) {
        const claim = await this.#claim(this.#batchSize);
        if (claim.entries.length === 0) {
          await claim.settle({ published: [], failed: [] });
          return;
        }
        let outcome: OutboxOutcome;
        try {
          outcome = await this.#publish(claim, done);
        } catch (error) {
          await claim.settle({ published: [], failed: [] });
          throw error;
        }
        await claim.settle(outcome);
        sent += outcome.published.length;
        this.#stats.relayed += outcome.published.length;
        if (outcome.failed.length > 0) throw outcome.failed[0]!.error;
      }
    };
    let failure: { reason: unknown } | undefined;
    await new Promise<void>((resolve) => {
      let running = 0;
      const add = (): void => {
        if (running >= this.#concurrency || failure !== undefined) return;
        running++;
        drain()
          .then(
            () => undefined,
            (reason: unknown) => {
              failure ??= { reason };
            },
          )
          .finally(() => {
            if (--running === 0) resolve();
          });
      };
      this.#addLoop = add;
      for (let n = 0; n < this.#concurrency; n++) add();
    });
    this.#addLoop = undefined;
    if (failure !== undefined) {
      this.#stats.failures++;
      warn(
        this.#logger,
        `Outbox relay stopped after ${sent} entries; the rest wait for the next pass: ${errorText(failure.reason)}`,
      );
    }
    return sent;
  }

  /** Publishes a claim's entries: one chain per key (or one chain in all), each chain in order. */
  async #publish(claim: RelayClaim, done: Set<string>): Promise<OutboxOutcome> {
    const chains = new Map<unknown, OutboxEntry[]>();
    for (const entry of claim.entries) {
      // A store whose remove() did not remove would have this pass publish forever.
      if (done.has(entry.message.id)) {
        throw new Error(`the store still lists ${entry.message.id} after it was published: check its remove(ids)`);
      }
      done.add(entry.message.id);
      const chain = claim.order === 'all' ? 'all' : (entry.key ?? entry);
      const entries = chains.get(chain);
      if (entries === undefined) chains.set(chain, [entry]);
      else entries.push(entry);
    }
    const published: string[] = [];
    const failed: { id: string; error: unknown }[] = [];
    await Promise.all(
      [...chains.values()].map(async (chain) => {
        for (const entry of chain) {
          try {
            await this.#transport.publish(entry.target, entry.message);
            published.push(entry.message.id);
          } catch (error) {
            failed.push({ id: entry.message.id, error });
            return;
          }
        }
      }),
    );
    return { published, failed };
  }
}
