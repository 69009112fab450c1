/**
 * The transactional outbox: a message is written to the application's own database in the same
 * transaction as the change it reports, and an {@link OutboxRelay} publishes it afterwards. If
 * the process dies right after the commit, the message is still there, and the next relay (in
 * this process after a restart, or in another) sends it. The message's id goes with it, so
 * consumers drop the copy a relay sends twice (after a crash between publish and removal).
 *
 * Herald does not own your database: it defines what a store must do ({@link OutboxStore}) and
 * ships {@link InMemoryOutboxStore} for tests and single-process use. `docs/guide/messaging.md`
 * shows a SQL table and store.
 * @module
 */

import { errorText, InvalidError, type Logger } from '@herald/core';
import { checkMessage, checkTarget, checkTransport, MAX_TIMER_MS, warn } from './transport.kit.js';
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
 * Checks an entry and gives a frozen copy whose body has made its JSON round trip.
 *
 * @throws InvalidError naming the bad part (`entry.target…`, `entry.message…`); a message
 *   without an id gets none here: give it one (the id is what lets consumers drop a duplicate)
 * @example
 * ```ts
 * store.save(tx, checkOutboxEntry({ target: { topic: 'notifications.info' }, message: { id, body } }));
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
  const checked = checkMessage(message);
  return Object.freeze({
    target,
    message: Object.freeze({ id: checked.id, headers: checked.headers, body: JSON.parse(checked.json) as unknown }),
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

  pending(limit: number): readonly OutboxEntry[] {
    const batch: OutboxEntry[] = [];
    for (const entry of this.#entries.values()) {
      if (batch.length >= limit) break;
      batch.push(entry);
    }
    return batch;
  }

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
  /** How often {@link OutboxRelay.start} looks for pending entries, in milliseconds. Default 1,000. */
  readonly intervalMs?: number;
  /** How many entries one pass reads from the store at a time. Default 100. */
  readonly batchSize?: number;
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

/**
 * Publishes an outbox's pending entries, oldest first, removing each once the transport took it
 * (a broker: confirmed it). A pass stops at the first entry that fails, so entries go out in
 * order; that entry and the ones after it wait for the next pass.
 *
 * @example
 * ```ts
 * const relay = new OutboxRelay(transport, store, { intervalMs: 500, logger: console });
 * relay.start();
 * // after a commit that added entries:
 * relay.wake();
 * // on shutdown:
 * await relay.stop();
 * ```
 */
export class OutboxRelay {
  readonly #transport: Transport;
  readonly #store: OutboxStore;
  readonly #intervalMs: number;
  readonly #batchSize: number;
  readonly #logger: Logger | undefined;
  #pass: Promise<number> | undefined = undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined = undefined;
  #running = false;
  #stats = { relayed: 0, failures: 0 };

  /**
   * @throws InvalidError for a transport without `publish`, a store without `pending` and
   *   `remove`, or options that are not positive whole numbers / a logger
   */
  constructor(transport: Transport, store: OutboxStore, options: OutboxRelayOptions = {}) {
    checkTransport(transport, ['publish']);
    if (
      store === null ||
      typeof store !== 'object' ||
      typeof store.pending !== 'function' ||
      typeof store.remove !== 'function'
    ) {
      throw new InvalidError('store', store, 'pass an OutboxStore: an object with pending(limit) and remove(ids).');
    }
    if (options === null || typeof options !== 'object') {
      throw new InvalidError('options', options, 'pass { intervalMs, batchSize, logger } or nothing.');
    }
    const { intervalMs = 1_000, batchSize = 100, logger } = options;
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
    if (logger !== undefined && (logger === null || typeof logger !== 'object' || typeof logger.error !== 'function')) {
      throw new InvalidError(
        'options.logger',
        logger,
        'pass an object with an error(message) method, such as console.',
      );
    }
    this.#transport = transport;
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
   * One pass: publishes every pending entry, oldest first, until none is left or one fails.
   * Resolves with how many were published; never rejects (a failure is counted in `stats` and
   * logged). A call during a pass runs another pass after it.
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
      return this.#pass;
    }
    this.#pass = this.#runPasses().finally(() => {
      this.#pass = undefined;
    });
    return this.#pass;
  }

  /** Relays every `intervalMs` until {@link stop} (the timer does not keep the process alive). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  /** Relays now rather than at the next interval (after a commit that added entries). */
  wake(): void {
    void this.relay();
  }

  /** Stops the interval and waits for the pass in progress. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
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

  async #onePass(): Promise<number> {
    let sent = 0;
    const done = new Set<string>();
    try {
      for (;;) {
        const batch = await this.#store.pending(this.#batchSize);
        if (batch.length === 0) return sent;
        for (const entry of batch) {
          // A store whose remove() did not remove would have this pass publish forever.
          if (done.has(entry.message.id)) {
            throw new Error(`the store still lists ${entry.message.id} after remove(): check its remove(ids)`);
          }
          done.add(entry.message.id);
          await this.#transport.publish(entry.target, entry.message);
          await this.#store.remove([entry.message.id]);
          sent++;
          this.#stats.relayed++;
        }
      }
    } catch (error) {
      this.#stats.failures++;
      warn(
        this.#logger,
        `Outbox relay stopped after ${sent} entries; the rest wait for the next pass: ${errorText(error)}`,
      );
      return sent;
    }
  }
}
