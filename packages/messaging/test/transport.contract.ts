/**
 * The transport contract as a test suite: what every {@link Transport} must do, whatever carries
 * its messages. `memory.transport.test.ts` runs it against `InMemoryTransport`; a broker transport
 * runs the same suite against a live broker. Not a test file itself (Jest collects `*.test.ts`).
 *
 * The tests never sleep to let something happen: they wait for deliveries they expect, and prove
 * that a message did not arrive with a marker published after it on the same route (each queue
 * is FIFO, so a message that was kept would arrive before its marker). The one exception waits a
 * bounded time for a mistake that no marker can reveal (see `delay`); it passes whatever the
 * timing, and only a wrong transport can fail it.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { InvalidError } from '@herald/core';
import { watchUnhandledRejections } from '../../core/test/support.js';
import {
  CallTimeoutError,
  DeadLetterError,
  DEFAULT_DELIVERY_LIMIT,
  RemoteError,
  TransportError,
  type ConsumeOptions,
  type Consumer,
  type DeadLetter,
  type Delivery,
  type DeliveryHandler,
  type OutgoingMessage,
  type RequestOptions,
  type Target,
  type Transport,
} from '../src/index.js';

/** Makes a fresh, empty transport for one test (the suite closes it afterwards). */
export type MakeTransport = () => Transport | Promise<Transport>;

/** How long a test waits for something it expects before failing (never spent when it passes). */
const PATIENCE_MS = 2_000;

/** The deliveries a handler received, with a way to wait for the next ones. */
export interface Inbox {
  readonly deliveries: Delivery[];
  /** The handler that fills the inbox; `react` runs after recording (its result is returned). */
  readonly handler: DeliveryHandler;
  /** The bodies received, in order. */
  bodies(): unknown[];
  /** Resolves once `count` deliveries in all have arrived; rejects after {@link PATIENCE_MS}. */
  until(count: number): Promise<Delivery[]>;
}

/** An {@link Inbox} whose handler then calls `react` (to fail, reply, or wait). */
export function inbox(react: DeliveryHandler = () => undefined): Inbox {
  const deliveries: Delivery[] = [];
  let waiters: { count: number; resolve: () => void }[] = [];
  const wake = (): void => {
    const ready = waiters.filter((w) => deliveries.length >= w.count);
    waiters = waiters.filter((w) => deliveries.length < w.count);
    for (const waiter of ready) waiter.resolve();
  };
  return {
    deliveries,
    handler: (delivery) => {
      deliveries.push(delivery);
      wake();
      return react(delivery);
    },
    bodies: () => deliveries.map((d) => d.body),
    until: (count) =>
      new Promise<Delivery[]>((resolve, reject) => {
        if (deliveries.length >= count) return resolve(deliveries);
        const timer = setTimeout(
          () => reject(new Error(`expected ${count} deliveries, got ${JSON.stringify(deliveries.map((d) => d.body))}`)),
          PATIENCE_MS,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(deliveries);
          },
        });
      }),
  };
}

/** A promise that a test opens when it wants to. */
export interface Gate {
  readonly promise: Promise<void>;
  open(): void;
}

export function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/**
 * Resolves after `ms` milliseconds. Only for a test that gives a wrong transport the time to show
 * its mistake, where nothing observable marks the moment: the test must pass whatever the delay.
 */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves after `count` turns of the event loop (to show that something has not happened). */
export async function turns(count = 5): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Whether `promise` has settled, checked at any time. */
export function track(promise: Promise<unknown>): { readonly settled: boolean } {
  const state = { settled: false };
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}

/** The InvalidError `run` throws synchronously, or a failed expectation. */
export function invalid(run: () => unknown): InvalidError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidError);
    return error as InvalidError;
  }
  throw new Error('expected an InvalidError');
}

/** Expects `promise` to reject with an `InvalidError` about `element`. */
export async function expectInvalid(promise: Promise<unknown>, element: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidError);
  expect((error as InvalidError).element).toBe(element);
}

/** The error `promise` rejects with (fails the test if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
}

/** A class whose instances must arrive as plain objects. */
class Router {
  constructor(
    readonly id: string,
    readonly name: string,
  ) {}
  describe(): string {
    return `${this.name} (${this.id})`;
  }
}

const TOPIC: Target = { topic: 'l3_agent' };
const HOST_1: Target = { topic: 'l3_agent', server: 'host-1' };
const HOST_2: Target = { topic: 'l3_agent', server: 'host-2' };
const FANOUT: Target = { topic: 'l3_agent', fanout: true };
const LONG: RequestOptions = { timeoutMs: PATIENCE_MS };

/**
 * Defines the contract suite for the transport that `makeTransport` makes.
 *
 * @example
 * ```ts
 * transportContract('InMemoryTransport', () => new InMemoryTransport());
 * ```
 */
export function transportContract(name: string, makeTransport: MakeTransport): void {
  describe(`${name} (transport contract)`, () => {
    let transport: Transport;
    const publish = (target: Target, body: unknown, extra: Omit<OutgoingMessage, 'body'> = {}): Promise<void> =>
      transport.publish(target, { ...extra, body });
    const consume = (target: Target, handler: DeliveryHandler, options?: ConsumeOptions): Promise<Consumer> =>
      transport.consume(target, handler, options);

    beforeEach(async () => {
      transport = await makeTransport();
    });

    afterEach(async () => {
      await transport.close({ drainMs: 0 });
    });

    describe('routing', () => {
      it('delivers a { topic } message with its id, target, headers, body and attempt 1', async () => {
        const box = inbox();
        await consume(TOPIC, box.handler);
        await publish(TOPIC, { method: 'sync_routers' }, { id: 'm-1', headers: { traceparent: '00-abc-def-01' } });
        const [delivery] = await box.until(1);
        // The publisher's broker user is there on transports that have users (see Delivery.brokerUser).
        const { brokerUser, ...fields } = delivery!;
        expect(fields).toEqual({
          id: 'm-1',
          target: { topic: 'l3_agent' },
          headers: { traceparent: '00-abc-def-01' },
          body: { method: 'sync_routers' },
          attempt: 1,
        });
        expect(brokerUser === undefined || typeof brokerUser === 'string').toBe(true);
      });

      it('gives each message without an id a unique one, and empty headers', async () => {
        const box = inbox();
        await consume(TOPIC, box.handler);
        await publish(TOPIC, 1);
        await publish(TOPIC, 2);
        const [a, b] = await box.until(2);
        expect(typeof a!.id).toBe('string');
        expect(a!.id).not.toBe('');
        expect(a!.id).not.toBe(b!.id);
        expect(a!.headers).toEqual({});
      });

      it('delivers a { topic, server } message to that server only', async () => {
        const [one, two, shared] = [inbox(), inbox(), inbox()];
        await consume(HOST_1, one.handler);
        await consume(HOST_2, two.handler);
        await consume(TOPIC, shared.handler);
        await publish(HOST_1, 'for host-1');
        await publish(HOST_2, 'marker');
        await publish(TOPIC, 'marker');
        await Promise.all([one.until(1), two.until(1), shared.until(1)]);
        expect(one.deliveries[0]!.target).toEqual(HOST_1);
        expect([one.bodies(), two.bodies(), shared.bodies()]).toEqual([['for host-1'], ['marker'], ['marker']]);
      });

      it('delivers a fanout message to every fanout consumer of the topic, and to no other', async () => {
        const [a, b, server, shared] = [inbox(), inbox(), inbox(), inbox()];
        await consume(FANOUT, a.handler);
        await consume(FANOUT, b.handler);
        await consume({ topic: 'other', fanout: true }, inbox().handler);
        await consume(HOST_1, server.handler);
        await consume(TOPIC, shared.handler);
        await publish(FANOUT, 'everyone');
        await publish(HOST_1, 'marker');
        await publish(TOPIC, 'marker');
        await Promise.all([a.until(1), b.until(1), server.until(1), shared.until(1)]);
        expect(a.deliveries[0]!.target).toEqual(FANOUT);
        expect([a.bodies(), b.bodies(), server.bodies(), shared.bodies()]).toEqual([
          ['everyone'],
          ['everyone'],
          ['marker'],
          ['marker'],
        ]);
      });

      it('does not deliver a { topic } message to server or fanout consumers', async () => {
        const [server, fanout] = [inbox(), inbox()];
        await consume(HOST_1, server.handler);
        await consume(FANOUT, fanout.handler);
        await publish(TOPIC, 'shared');
        await publish(HOST_1, 'marker');
        await publish(FANOUT, 'marker');
        await Promise.all([server.until(1), fanout.until(1)]);
        expect([server.bodies(), fanout.bodies()]).toEqual([['marker'], ['marker']]);
      });

      it('drops a server message when nobody listens as that server', async () => {
        await publish(HOST_1, 'lost');
        const box = inbox();
        await consume(HOST_1, box.handler);
        await publish(HOST_1, 'marker');
        await box.until(1);
        expect(box.bodies()).toEqual(['marker']);
      });

      it('drops a fanout message when nobody listens, and gives a fanout consumer only later ones', async () => {
        await publish(FANOUT, 'lost');
        const box = inbox();
        await consume(FANOUT, box.handler);
        await publish(FANOUT, 'marker');
        await box.until(1);
        expect(box.bodies()).toEqual(['marker']);
      });

      // Shared, not strictly in turn: a broker gives the next message to a consumer with room for
      // it, so one that is slow to settle its first message may get fewer.
      it('keeps server consumers of one host sharing its messages: each to one of them, both take some', async () => {
        const all = inbox();
        const [a, b] = [inbox(all.handler), inbox(all.handler)];
        await consume(HOST_1, a.handler);
        await consume(HOST_1, b.handler);
        for (const n of [1, 2, 3, 4]) await publish(HOST_1, n);
        await all.until(4);
        expect(all.bodies().sort()).toEqual([1, 2, 3, 4]);
        expect(a.deliveries.length).toBeGreaterThan(0);
        expect(b.deliveries.length).toBeGreaterThan(0);
      });
    });

    describe('consumer groups', () => {
      it('gives each group its own copy of a { topic } message', async () => {
        const [defaultGroup, audit, metering] = [inbox(), inbox(), inbox()];
        await consume(TOPIC, defaultGroup.handler);
        await consume(TOPIC, audit.handler, { group: 'audit' });
        await consume(TOPIC, metering.handler, { group: 'metering' });
        await publish(TOPIC, 'port.create.end');
        await Promise.all([defaultGroup.until(1), audit.until(1), metering.until(1)]);
        expect([defaultGroup.bodies(), audit.bodies(), metering.bodies()]).toEqual([
          ['port.create.end'],
          ['port.create.end'],
          ['port.create.end'],
        ]);
      });

      it('shares a group between its consumers: each message to one of them, both take some', async () => {
        const all = inbox();
        const [a, b] = [inbox(all.handler), inbox(all.handler)];
        await consume(TOPIC, a.handler, { group: 'workers' });
        await consume(TOPIC, b.handler, { group: 'workers' });
        for (const n of [1, 2, 3, 4]) await publish(TOPIC, n);
        await all.until(4);
        expect(all.bodies().sort()).toEqual([1, 2, 3, 4]);
        expect(a.deliveries.length).toBeGreaterThan(0);
        expect(b.deliveries.length).toBeGreaterThan(0);
      });

      it("keeps messages published before any consumer in the default group's queue", async () => {
        await publish(TOPIC, 'early-1');
        await publish(TOPIC, 'early-2');
        const box = inbox();
        await consume(TOPIC, box.handler);
        await box.until(2);
        expect(box.bodies()).toEqual(['early-1', 'early-2']);
      });

      it('gives a group declared later only the messages published after it', async () => {
        await publish(TOPIC, 'before audit');
        const audit = inbox();
        await consume(TOPIC, audit.handler, { group: 'audit' });
        await publish(TOPIC, 'after audit');
        await audit.until(1);
        const shared = inbox();
        await consume(TOPIC, shared.handler);
        await shared.until(2);
        expect(audit.bodies()).toEqual(['after audit']);
        expect(shared.bodies()).toEqual(['before audit', 'after audit']);
      });
    });

    describe('delivery', () => {
      it('delivers asynchronously: never inside publish, and a handler failure never reaches the publisher', async () => {
        const box = inbox(() => {
          throw new Error('handler failed');
        });
        await consume(TOPIC, box.handler, { deliveryLimit: 1 });
        const published = publish(TOPIC, 'x');
        expect(box.deliveries).toHaveLength(0);
        await expect(published).resolves.toBeUndefined();
        await box.until(1);
      });

      it('delivers the messages of one queue in the order they were published', async () => {
        const box = inbox();
        await consume(TOPIC, box.handler);
        const numbers = Array.from({ length: 20 }, (_, i) => i);
        for (const n of numbers) await publish(TOPIC, n);
        await box.until(20);
        expect(box.bodies()).toEqual(numbers);
      });

      it('gives a consumer one delivery at a time', async () => {
        let running = 0;
        let most = 0;
        const box = inbox(async () => {
          running++;
          most = Math.max(most, running);
          await turns(2);
          running--;
        });
        await consume(TOPIC, box.handler);
        for (const n of [1, 2, 3, 4, 5]) await publish(TOPIC, n);
        await box.until(5);
        await turns(3);
        expect(most).toBe(1);
        expect(box.bodies()).toEqual([1, 2, 3, 4, 5]);
      });
    });

    describe('acknowledgement', () => {
      it('requeues a message whose handler throws or rejects, with the attempt counted, until it succeeds', async () => {
        const box = inbox((d) => {
          if (d.body !== 'flaky') return undefined;
          if (d.attempt === 1) throw new Error('first try throws');
          if (d.attempt === 2) return Promise.reject(new Error('second try rejects'));
          return Promise.resolve('third try works');
        });
        await consume(TOPIC, box.handler);
        await publish(TOPIC, 'flaky', { id: 'flaky-1' });
        await box.until(3);
        await publish(TOPIC, 'marker', { id: 'marker-1' });
        await box.until(4);
        await turns();
        expect(box.deliveries.map((d) => [d.id, d.attempt])).toEqual([
          ['flaky-1', 1],
          ['flaky-1', 2],
          ['flaky-1', 3],
          ['marker-1', 1],
        ]);
      });

      it('gives up after the delivery limit', async () => {
        const box = inbox((d) => {
          if (d.body === 'poison') throw new Error('cannot handle');
        });
        await consume(TOPIC, box.handler, { deliveryLimit: 3 });
        await publish(TOPIC, 'poison');
        await box.until(3);
        await publish(TOPIC, 'marker');
        await box.until(4);
        await turns();
        expect(box.deliveries.map((d) => [d.body, d.attempt])).toEqual([
          ['poison', 1],
          ['poison', 2],
          ['poison', 3],
          ['marker', 1],
        ]);
      });

      it(`gives up after ${DEFAULT_DELIVERY_LIMIT} deliveries by default`, async () => {
        const box = inbox((d) => {
          if (d.body === 'poison') throw new Error('cannot handle');
        });
        await consume(TOPIC, box.handler);
        await publish(TOPIC, 'poison');
        await box.until(DEFAULT_DELIVERY_LIMIT);
        await publish(TOPIC, 'marker');
        await box.until(DEFAULT_DELIVERY_LIMIT + 1);
        expect(box.deliveries.map((d) => d.attempt)).toEqual([
          ...Array.from({ length: DEFAULT_DELIVERY_LIMIT }, (_, i) => i + 1),
          1,
        ]);
        expect(box.bodies().at(-1)).toBe('marker');
      });

      it('dead-letters at once, with its reason, a delivery whose handler throws DeadLetterError', async () => {
        const box = inbox((d) => {
          if (d.body === 'alien') throw new DeadLetterError('not a Herald message');
        });
        await consume(TOPIC, box.handler, { group: 'audit' });
        await publish(TOPIC, 'alien', { id: 'alien-1' });
        await publish(TOPIC, 'marker');
        await box.until(2);
        expect(box.deliveries.map((d) => [d.body, d.attempt])).toEqual([
          ['alien', 1],
          ['marker', 1],
        ]);
        // Both transports list their dead letters (a broker's asynchronously).
        const letters = await (
          transport as Transport & { deadLetters(): Promise<readonly DeadLetter[]> }
        ).deadLetters();
        expect(letters.map((l) => [l.delivery.id, l.group, l.error, l.delivery.attempt])).toEqual([
          ['alien-1', 'audit', 'not a Herald message', 1],
        ]);
      });

      it('replays a dead letter to the queue it failed in, as attempt 1, and purges the others', async () => {
        const dead = transport as Transport & {
          deadLetters(): Promise<readonly DeadLetter[]>;
          replayDeadLetters(options?: { id?: string }): Promise<number>;
          purgeDeadLetters(): Promise<number>;
        };
        let failing = true;
        const box = inbox((d) => {
          if (failing && d.body !== 'marker') throw new DeadLetterError('not now');
        });
        await consume(TOPIC, box.handler, { group: 'audit' });
        await publish(TOPIC, 'one', { id: 'one' });
        await publish(TOPIC, 'two', { id: 'two' });
        await publish(TOPIC, 'marker');
        await box.until(3);
        failing = false;
        expect(await dead.replayDeadLetters({ id: 'one' })).toBe(1);
        const [, , , replayed] = await box.until(4);
        expect(replayed).toMatchObject({ id: 'one', body: 'one', attempt: 1, target: TOPIC });
        expect((await dead.deadLetters()).map((l) => l.delivery.id)).toEqual(['two']);
        expect(await dead.purgeDeadLetters()).toBe(1);
        expect(await dead.deadLetters()).toEqual([]);
      });

      it('fails a delivery whose handler outlives handlerTimeoutMs, retries it, and takes the next one meanwhile', async () => {
        const hung = gate();
        const box = inbox((d) => (d.body === 'slow' && d.attempt === 1 ? hung.promise : undefined));
        await consume(TOPIC, box.handler, { handlerTimeoutMs: 100 });
        await publish(TOPIC, 'slow');
        await publish(TOPIC, 'next');
        await box.until(3);
        // The retry goes back to the head of the queue in memory, to its back on a broker.
        expect(box.deliveries.map((d) => `${String(d.body)} ${d.attempt}`).sort()).toEqual([
          'next 1',
          'slow 1',
          'slow 2',
        ]);
        hung.open();
        await expectInvalid(consume(TOPIC, box.handler, { handlerTimeoutMs: 0 }), 'options.handlerTimeoutMs');
      });

      it('gives the redelivery a fresh copy of the body', async () => {
        const box = inbox((d) => {
          const body = d.body as { seen: number };
          body.seen++;
          if (d.attempt === 1) throw new Error('again');
        });
        await consume(TOPIC, box.handler);
        await publish(TOPIC, { seen: 0 });
        await box.until(2);
        expect(box.deliveries.map((d) => d.attempt)).toEqual([1, 2]);
        expect(box.bodies()).toEqual([{ seen: 1 }, { seen: 1 }]);
      });
    });

    describe('retry backoff', () => {
      it('waits out the backoff before each retry, longer each time, handles the messages behind meanwhile, then dead-letters with the reason', async () => {
        const started = Date.now();
        const box = inbox((d) => {
          if (d.body === 'flaky') throw new Error(`dependency down (attempt ${d.attempt})`);
        });
        const at: number[] = [];
        await consume(
          TOPIC,
          (d) => {
            if (d.body === 'flaky') at.push(Date.now() - started);
            return box.handler(d);
          },
          { group: 'billing', deliveryLimit: 4, retryBackoff: { initialDelayMs: 100, multiplier: 2, maxDelayMs: 400 } },
        );
        await publish(TOPIC, 'flaky', { id: 'flaky-1' });
        await box.until(1);
        await publish(TOPIC, 'behind');
        await box.until(5);
        const gaps = at.slice(1).map((t, i) => t - at[i]!);
        // No upper bound beyond the suite's patience: the machine may be busy; a retry never comes early.
        expect(gaps).toHaveLength(3);
        for (const [i, expected] of [100, 200, 400].entries()) expect(gaps[i]).toBeGreaterThanOrEqual(expected * 0.9);
        expect(box.deliveries.map((d) => `${String(d.body)} ${d.attempt}`)).toEqual([
          'flaky 1',
          'behind 1',
          'flaky 2',
          'flaky 3',
          'flaky 4',
        ]);
        const dead = transport as Transport & { deadLetters(): Promise<readonly DeadLetter[]> };
        let letters: readonly DeadLetter[] = [];
        // A broker takes the dead letter a moment after the last delivery failed.
        for (let i = 0; i < 100 && letters.length === 0; i++) {
          letters = await dead.deadLetters();
          if (letters.length === 0) await delay(20);
        }
        expect(letters.map((l) => [l.delivery.id, l.group, l.delivery.attempt, l.error])).toEqual([
          ['flaky-1', 'billing', 4, 'dependency down (attempt 4)'],
        ]);
      });

      it('takes any delivery limit with a backoff that reaches its maximum within MAX_RETRY_DELAYS retries', async () => {
        const box = inbox();
        await consume(TOPIC, box.handler, {
          deliveryLimit: 1_000_000_000,
          retryBackoff: { initialDelayMs: 100, multiplier: 2 },
        });
        await consume({ topic: 'fixed' }, box.handler, {
          deliveryLimit: 1_000_000_000,
          retryBackoff: { initialDelayMs: 100, multiplier: 1 },
        });
        await publish(TOPIC, 'still consuming');
        await box.until(1);
      });

      it('keeps retrying at once without a backoff, and with an initial delay of 0', async () => {
        const box = inbox((d) => {
          if (d.attempt < 3) throw new Error('again');
        });
        await consume(TOPIC, box.handler, { retryBackoff: { initialDelayMs: 0 } });
        await publish(TOPIC, 'again');
        await box.until(3);
        expect(box.deliveries.map((d) => d.attempt)).toEqual([1, 2, 3]);
      });
    });

    describe('concurrency', () => {
      it('handles up to `concurrency` deliveries at once, and starts the next as each one settles', async () => {
        const gates = new Map<unknown, Gate>();
        let running = 0;
        let most = 0;
        const box = inbox(async (d) => {
          running++;
          most = Math.max(most, running);
          const open = gate();
          gates.set(d.body, open);
          await open.promise;
          running--;
        });
        const consumer = await consume(TOPIC, box.handler, { concurrency: 3 });
        for (const n of [1, 2, 3, 4, 5]) await publish(TOPIC, n);
        await box.until(3);
        await turns(10);
        expect(box.bodies()).toEqual([1, 2, 3]);
        gates.get(2)!.open();
        await box.until(4);
        expect(box.bodies()).toEqual([1, 2, 3, 4]);
        const closing = track(consumer.close());
        await turns(10);
        // close() waits for every delivery in progress, not only the first.
        expect(closing.settled).toBe(false);
        for (const n of [1, 3]) gates.get(n)!.open();
        await turns(10);
        expect(closing.settled).toBe(false);
        gates.get(4)!.open();
        await consumer.close();
        expect(most).toBe(3);
      });

      it('keeps the other deliveries going while one hangs past handlerTimeoutMs or fails', async () => {
        const hung = gate();
        const box = inbox((d) => {
          if (d.body === 'hangs' && d.attempt === 1) return hung.promise;
          if (d.body === 'fails' && d.attempt === 1) throw new Error('once');
          return undefined;
        });
        await consume(TOPIC, box.handler, { concurrency: 2, handlerTimeoutMs: 300 });
        await publish(TOPIC, 'hangs');
        for (const body of ['fails', 'a', 'b', 'c']) await publish(TOPIC, body);
        // Everything else (the failed one retried too) is handled on the other slot while the
        // first delivery hangs; its retry comes once it timed out.
        const handled = await box.until(7);
        const seen = handled.map((d) => `${String(d.body)} ${d.attempt}`);
        expect(seen.slice(0, 6).sort()).toEqual(['a 1', 'b 1', 'c 1', 'fails 1', 'fails 2', 'hangs 1']);
        expect(seen[6]).toBe('hangs 2');
        hung.open();
      });
    });

    describe('deduplication', () => {
      it('handles a message id once per group: a duplicate is acknowledged without the handler', async () => {
        const [shared, audit] = [inbox(), inbox()];
        await consume(TOPIC, shared.handler);
        await consume(TOPIC, audit.handler, { group: 'audit' });
        await publish(TOPIC, 'first', { id: 'port-1:create' });
        await Promise.all([shared.until(1), audit.until(1)]);
        await publish(TOPIC, 'duplicate', { id: 'port-1:create' });
        await publish(TOPIC, 'marker');
        await Promise.all([shared.until(2), audit.until(2)]);
        expect(shared.bodies()).toEqual(['first', 'marker']);
        expect(audit.bodies()).toEqual(['first', 'marker']);
      });

      it('delivers again an id whose first delivery failed, until it is acknowledged', async () => {
        const box = inbox((d) => {
          if (d.body === 'fails') throw new Error('no');
        });
        await consume(TOPIC, box.handler, { deliveryLimit: 1 });
        await publish(TOPIC, 'fails', { id: 'same' });
        await box.until(1);
        await publish(TOPIC, 'works', { id: 'same' });
        await box.until(2);
        await publish(TOPIC, 'duplicate', { id: 'same' });
        await publish(TOPIC, 'marker');
        await box.until(3);
        expect(box.bodies()).toEqual(['fails', 'works', 'marker']);
      });

      it('holds a copy whose id another consumer of the group is handling, and drops it once that one succeeded', async () => {
        const held = gate();
        const box = inbox(async (d) => {
          if (d.body === 'first') await held.promise;
        });
        await consume(TOPIC, box.handler);
        await consume(TOPIC, box.handler);
        await publish(TOPIC, 'first', { id: 'port-1:create' });
        await box.until(1); // one consumer holds it; the other is free
        await publish(TOPIC, 'again', { id: 'port-1:create' }); // an outbox relay sending it again
        await publish(TOPIC, 'marker-1');
        // The free consumer takes the marker (in memory) or holds the copy while the broker keeps
        // the marker (prefetch 1): give a transport that would handle the copy the time to do so.
        await Promise.race([box.until(2), delay(100)]);
        held.open();
        await publish(TOPIC, 'marker-2');
        await box.until(3);
        expect(box.bodies().sort()).toEqual(['first', 'marker-1', 'marker-2']);
      });

      it('delivers the held copy when the delivery it waited for failed', async () => {
        const held = gate();
        const box = inbox(async (d) => {
          if (d.body !== 'first') return;
          await held.promise;
          throw new Error('no');
        });
        await consume(TOPIC, box.handler, { deliveryLimit: 1 });
        await consume(TOPIC, box.handler, { deliveryLimit: 1 });
        await publish(TOPIC, 'first', { id: 'same' });
        await box.until(1);
        await publish(TOPIC, 'again', { id: 'same' });
        await Promise.race([box.until(2), delay(100)]);
        held.open();
        await box.until(2);
        await publish(TOPIC, 'duplicate', { id: 'same' });
        await publish(TOPIC, 'marker');
        await box.until(3);
        expect(box.bodies()).toEqual(['first', 'again', 'marker']);
      });
    });

    describe('JSON round trip', () => {
      it('delivers what JSON carries: dates as strings, instances as plain objects', async () => {
        const box = inbox();
        await consume(TOPIC, box.handler);
        const at = new Date('2024-05-01T12:00:00.000Z');
        await publish(TOPIC, { at, router: new Router('r-1', 'edge'), gone: undefined, ratio: NaN, list: [1, 'a'] });
        const [delivery] = await box.until(1);
        expect(delivery!.body).toEqual({
          at: '2024-05-01T12:00:00.000Z',
          router: { id: 'r-1', name: 'edge' },
          ratio: null,
          list: [1, 'a'],
        });
        const body = delivery!.body as { router: object };
        expect(Object.getPrototypeOf(body.router)).toBe(Object.prototype);
        expect('gone' in body).toBe(false);
      });

      it('copies the body at publish time, and gives each group its own copy', async () => {
        const [shared, audit] = [inbox((d) => ((d.body as { n: number }).n = 99)), inbox()];
        await consume(TOPIC, shared.handler);
        await consume(TOPIC, audit.handler, { group: 'audit' });
        const body = { n: 1 };
        const published = publish(TOPIC, body);
        body.n = 2;
        await published;
        await Promise.all([shared.until(1), audit.until(1)]);
        await turns();
        expect(audit.bodies()).toEqual([{ n: 1 }]);
        expect(body.n).toBe(2);
      });

      it.each([
        ['a BigInt', { size: 10n }],
        [
          'a cycle',
          (() => {
            const node: Record<string, unknown> = {};
            node.self = node;
            return node;
          })(),
        ],
        ['undefined', undefined],
        ['a function', () => 1],
      ])('rejects %s in the body with an InvalidError, and queues nothing', async (_, body) => {
        const box = inbox();
        await consume(TOPIC, box.handler);
        await expectInvalid(publish(TOPIC, body), 'message.body');
        await publish(TOPIC, 'marker');
        await box.until(1);
        expect(box.bodies()).toEqual(['marker']);
      });
    });

    describe('request', () => {
      it("resolves with the JSON copy of the handler's (awaited) result", async () => {
        const box = inbox(async (d) => ({ routers: [(d.body as { id: string }).id], at: new Date(0) }));
        await consume(HOST_1, box.handler);
        const reply = await transport.request(HOST_1, { body: { id: 'r-1' }, headers: { a: 'b' } }, LONG);
        expect(reply.body).toEqual({ routers: ['r-1'], at: '1970-01-01T00:00:00.000Z' });
        expect(box.deliveries[0]).toMatchObject({
          target: HOST_1,
          body: { id: 'r-1' },
          headers: { a: 'b' },
          attempt: 1,
        });
      });

      it('replies null for a handler that returns nothing', async () => {
        await consume(TOPIC, () => undefined);
        const reply = await transport.request(TOPIC, { body: 'ping' }, LONG);
        expect(reply.body).toBeNull();
      });

      it('goes to one consumer of a { topic }, in turn with the others', async () => {
        const [a, b] = [inbox(() => 'a'), inbox(() => 'b')];
        await consume(TOPIC, a.handler);
        await consume(TOPIC, b.handler);
        const reply = await transport.request(TOPIC, { body: 'which?' }, LONG);
        // A copy given to the other consumer would reach it before this marker (FIFO).
        await publish(TOPIC, 'marker-1');
        await publish(TOPIC, 'marker-2');
        await Promise.all([a.until(1), b.until(1)]);
        await (reply.body === 'a' ? a : b).until(2);
        const all = [...a.bodies(), ...b.bodies()];
        expect(all.filter((body) => body === 'which?')).toHaveLength(1);
        expect(all).toHaveLength(3);
      });

      it('goes to the server named, not to others', async () => {
        await consume(HOST_1, () => 'host-1');
        await consume(HOST_2, () => 'host-2');
        await consume(TOPIC, () => 'shared');
        await expect(transport.request(HOST_2, { body: 1 }, LONG)).resolves.toMatchObject({ body: 'host-2' });
      });

      it('rejects with RemoteError when the handler throws, and does not requeue it', async () => {
        const box = inbox((d) => {
          if (d.body === 'delete') throw new TypeError('router r-1 has ports');
        });
        await consume(HOST_1, box.handler);
        const error = await rejectionOf(transport.request(HOST_1, { body: 'delete' }, LONG));
        expect(error).toBeInstanceOf(RemoteError);
        expect(error).toMatchObject({ remoteName: 'TypeError', remoteMessage: 'router r-1 has ports' });
        await publish(HOST_1, 'marker');
        await box.until(2);
        expect(box.bodies()).toEqual(['delete', 'marker']);
      });

      it('rejects with RemoteError when the handler rejects', async () => {
        class RouterNotFound extends Error {
          override name = 'RouterNotFound';
        }
        await consume(TOPIC, async () => Promise.reject(new RouterNotFound('no router r-9')));
        const error = await rejectionOf(transport.request(TOPIC, { body: 'get' }, LONG));
        expect(error).toMatchObject({ remoteName: 'RouterNotFound', remoteMessage: 'no router r-9' });
      });

      it('names the remote error by its class when the class sets no name (oslo: the class name)', async () => {
        class RouterNotFound extends Error {}
        class PortInUse extends TypeError {}
        await consume(TOPIC, (d) => {
          throw d.body === 'router' ? new RouterNotFound('no router r-9') : new PortInUse('port p-1 is in use');
        });
        const notFound = await rejectionOf(transport.request(TOPIC, { body: 'router' }, LONG));
        expect(notFound).toBeInstanceOf(RemoteError);
        expect(notFound).toMatchObject({ remoteName: 'RouterNotFound', remoteMessage: 'no router r-9' });
        const inUse = await rejectionOf(transport.request(TOPIC, { body: 'port' }, LONG));
        expect(inUse).toMatchObject({ remoteName: 'PortInUse', remoteMessage: 'port p-1 is in use' });
      });

      it('rejects with CallTimeoutError when nobody replies in time', async () => {
        const error = await rejectionOf(transport.request(HOST_1, { body: 'anyone?' }, { timeoutMs: 10 }));
        expect(error).toBeInstanceOf(CallTimeoutError);
        expect(error).toBeInstanceOf(TransportError);
        expect(error).toMatchObject({ target: HOST_1, timeoutMs: 10 });
      });

      it('ignores a reply that comes after the timeout', async () => {
        const slow = gate();
        const finished = gate();
        await consume(HOST_1, async (d) => {
          if (d.body === 'slow') {
            await slow.promise;
            finished.open();
            return 'late';
          }
          return 'quick';
        });
        const watch = watchUnhandledRejections();
        try {
          const late = transport.request(HOST_1, { body: 'slow' }, { timeoutMs: 10 });
          await expect(late).rejects.toBeInstanceOf(CallTimeoutError);
          slow.open();
          await finished.promise;
          await turns();
          await expect(transport.request(HOST_1, { body: 'next' }, LONG)).resolves.toMatchObject({ body: 'quick' });
          expect(watch.reasons).toEqual([]);
        } finally {
          watch.stop();
        }
      });

      it('refuses a fanout target with an InvalidError', async () => {
        await consume(FANOUT, () => 'reply');
        await expectInvalid(transport.request(FANOUT, { body: 1 }, LONG), 'target');
      });
    });

    describe('consumer close', () => {
      it('stops taking messages; the rest of the group takes them', async () => {
        const [a, b] = [inbox(), inbox()];
        const first = await consume(TOPIC, a.handler);
        await consume(TOPIC, b.handler);
        await first.close();
        for (const n of [1, 2, 3]) await publish(TOPIC, n);
        await b.until(3);
        expect(a.bodies()).toEqual([]);
        expect(b.bodies()).toEqual([1, 2, 3]);
      });

      it('leaves queued messages for a later consumer of the group', async () => {
        const first = await consume(TOPIC, inbox().handler, { group: 'workers' });
        await first.close();
        await publish(TOPIC, 'waiting');
        const box = inbox();
        await consume(TOPIC, box.handler, { group: 'workers' });
        await box.until(1);
        expect(box.bodies()).toEqual(['waiting']);
      });

      it('resolves once the delivery in progress has settled', async () => {
        const release = gate();
        let finished = false;
        const box = inbox(async () => {
          await release.promise;
          finished = true;
        });
        const consumer = await consume(TOPIC, box.handler);
        await publish(TOPIC, 'slow');
        await box.until(1);
        const closing = consumer.close();
        const state = track(closing);
        await turns();
        expect(state.settled).toBe(false);
        release.open();
        await closing;
        expect(finished).toBe(true);
        await expect(consumer.close()).resolves.toBeUndefined();
      });

      it('waits for the delivery in progress even when its own handler closes it', async () => {
        const release = gate();
        const own: { consumer?: Consumer } = {};
        let closing: Promise<void> | undefined;
        let finished = false;
        const box = inbox(async () => {
          closing = own.consumer!.close();
          await release.promise;
          finished = true;
        });
        own.consumer = await consume(TOPIC, box.handler);
        await publish(TOPIC, 'closes itself');
        await publish(TOPIC, 'never taken');
        await box.until(1);
        const state = track(closing!);
        await turns();
        expect(state.settled).toBe(false);
        release.open();
        await closing;
        expect(finished).toBe(true);
        await turns();
        expect(box.bodies()).toEqual(['closes itself']);
      });

      it('stops a fanout consumer receiving copies', async () => {
        const [a, b] = [inbox(), inbox()];
        const first = await consume(FANOUT, a.handler);
        await consume(FANOUT, b.handler);
        await first.close();
        await publish(FANOUT, 'after close');
        await b.until(1);
        await turns();
        expect(a.bodies()).toEqual([]);
      });
    });

    describe('transport close', () => {
      it('lets the delivery in progress finish, and refuses new messages meanwhile', async () => {
        const release = gate();
        const order: string[] = [];
        const box = inbox(async () => {
          await release.promise;
          order.push('handler done');
        });
        await consume(TOPIC, box.handler);
        await publish(TOPIC, 'in flight');
        await box.until(1);
        const closing = transport.close({ drainMs: PATIENCE_MS }).then(() => order.push('closed'));
        await expect(publish(TOPIC, 'too late')).rejects.toBeInstanceOf(TransportError);
        await turns();
        expect(order).toEqual([]);
        release.open();
        await closing;
        expect(order).toEqual(['handler done', 'closed']);
      });

      it('refuses publish, consume and request once closed, and can be closed again', async () => {
        await transport.close();
        await expect(publish(TOPIC, 1)).rejects.toBeInstanceOf(TransportError);
        await expect(consume(TOPIC, () => undefined)).rejects.toBeInstanceOf(TransportError);
        await expect(transport.request(TOPIC, { body: 1 }, LONG)).rejects.toBeInstanceOf(TransportError);
        await expect(transport.close()).resolves.toBeUndefined();
      });

      it('stops waiting after drainMs, and rejects pending requests with TransportError', async () => {
        const never = gate();
        await consume(HOST_1, () => never.promise);
        const pending = transport.request(HOST_1, { body: 'stuck' }, { timeoutMs: PATIENCE_MS * 5 });
        const failure = rejectionOf(pending);
        await turns();
        await transport.close({ drainMs: 5 });
        const error = await failure;
        expect(error).toBeInstanceOf(TransportError);
        expect(error).not.toBeInstanceOf(CallTimeoutError);
        never.open();
      });

      it('stops every consumer', async () => {
        const box = inbox();
        const consumer = await consume(TOPIC, box.handler);
        await transport.close();
        await expect(consumer.close()).resolves.toBeUndefined();
        expect(box.deliveries).toEqual([]);
      });
    });

    describe('invalid arguments', () => {
      const handler: DeliveryHandler = () => undefined;
      const message: OutgoingMessage = { body: 1 };
      const badTargets: [string, unknown, string][] = [
        ['no target', undefined, 'target'],
        ['a string target', 'l3_agent', 'target'],
        ['an empty topic', { topic: '' }, 'target.topic'],
        ['a topic with a space', { topic: 'l3 agent' }, 'target.topic'],
        ['a topic that is not a string', { topic: 3 }, 'target.topic'],
        ['an empty server', { topic: 't', server: '' }, 'target.server'],
        ['a server that is not a string', { topic: 't', server: 1 }, 'target.server'],
        ['a fanout that is not a boolean', { topic: 't', fanout: 'yes' }, 'target.fanout'],
        ['a server with fanout', { topic: 't', server: 'h', fanout: true }, 'target'],
      ];

      it.each(badTargets)('publish rejects %s', async (_, target, element) => {
        await expectInvalid(transport.publish(target as Target, message), element);
      });

      it.each(badTargets)('consume rejects %s', async (_, target, element) => {
        await expectInvalid(transport.consume(target as Target, handler), element);
      });

      it.each(badTargets)('request rejects %s', async (_, target, element) => {
        await expectInvalid(transport.request(target as Target, message, LONG), element);
      });

      const badMessages: [string, unknown, string][] = [
        ['no message', undefined, 'message'],
        ['a string message', 'hello', 'message'],
        ['an id that is not a string', { id: 7, body: 1 }, 'message.id'],
        ['an empty id', { id: '', body: 1 }, 'message.id'],
        ['headers that are not an object', { headers: 'a=b', body: 1 }, 'message.headers'],
        ['headers in a Map', { headers: new Map([['a', 'b']]), body: 1 }, 'message.headers'],
        ['a header that is not a string', { headers: { retries: 3 }, body: 1 }, 'message.headers.retries'],
      ];

      it.each(badMessages)('publish and request reject %s', async (_, bad, element) => {
        await expectInvalid(transport.publish(TOPIC, bad as OutgoingMessage), element);
        await expectInvalid(transport.request(TOPIC, bad as OutgoingMessage, LONG), element);
      });

      it.each([
        ['a handler that is not a function', 'handle', undefined, 'handler'],
        ['options that are not an object', handler, 5, 'options'],
        ['an empty group', handler, { group: '' }, 'options.group'],
        ['a group that is not a string', handler, { group: 1 }, 'options.group'],
        ['a delivery limit of 0', handler, { deliveryLimit: 0 }, 'options.deliveryLimit'],
        ['a fractional delivery limit', handler, { deliveryLimit: 1.5 }, 'options.deliveryLimit'],
        ['a retry backoff that is not an object', handler, { retryBackoff: 100 }, 'options.retryBackoff'],
        ['no initial delay', handler, { retryBackoff: {} }, 'options.retryBackoff.initialDelayMs'],
        [
          'a negative initial delay',
          handler,
          { retryBackoff: { initialDelayMs: -1 } },
          'options.retryBackoff.initialDelayMs',
        ],
        [
          'a multiplier below 1',
          handler,
          { retryBackoff: { initialDelayMs: 1, multiplier: 0.5 } },
          'options.retryBackoff.multiplier',
        ],
        [
          'an infinite multiplier',
          handler,
          { retryBackoff: { initialDelayMs: 1, multiplier: Infinity } },
          'options.retryBackoff.multiplier',
        ],
        [
          'a maximum below the initial delay',
          handler,
          { retryBackoff: { initialDelayMs: 100, maxDelayMs: 50 } },
          'options.retryBackoff.maxDelayMs',
        ],
        [
          'a backoff with more distinct delays than MAX_RETRY_DELAYS',
          handler,
          { deliveryLimit: 100, retryBackoff: { initialDelayMs: 100, multiplier: 1.05 } },
          'options.retryBackoff',
        ],
        ['a concurrency of 0', handler, { concurrency: 0 }, 'options.concurrency'],
        ['a fractional concurrency', handler, { concurrency: 2.5 }, 'options.concurrency'],
        ['a concurrency above 65535', handler, { concurrency: 70_000 }, 'options.concurrency'],
      ])('consume rejects %s', async (_, badHandler, options, element) => {
        await expectInvalid(
          transport.consume(TOPIC, badHandler as DeliveryHandler, options as ConsumeOptions),
          element,
        );
      });

      it.each([
        ['no options', undefined, 'options'],
        ['a missing timeout', {}, 'options.timeoutMs'],
        ['a zero timeout', { timeoutMs: 0 }, 'options.timeoutMs'],
        ['a negative timeout', { timeoutMs: -5 }, 'options.timeoutMs'],
        ['an infinite timeout', { timeoutMs: Infinity }, 'options.timeoutMs'],
        ['a NaN timeout', { timeoutMs: NaN }, 'options.timeoutMs'],
        ['a string timeout', { timeoutMs: '10' }, 'options.timeoutMs'],
      ])('request rejects %s', async (_, options, element) => {
        await expectInvalid(transport.request(TOPIC, message, options as RequestOptions), element);
      });

      it.each([
        ['a negative drainMs', { drainMs: -1 }],
        ['a NaN drainMs', { drainMs: NaN }],
      ])('close rejects %s, and stays open', async (_, options) => {
        await expectInvalid(transport.close(options), 'options.drainMs');
        const box = inbox();
        await consume(TOPIC, box.handler);
        await publish(TOPIC, 'still open');
        await box.until(1);
      });

      it('changes nothing when it rejects: a refused consumer takes no message', async () => {
        const box = inbox();
        await expectInvalid(
          transport.consume(TOPIC, inbox().handler, { group: 'g', deliveryLimit: -1 }),
          'options.deliveryLimit',
        );
        await consume(TOPIC, box.handler, { group: 'g' });
        for (const n of [1, 2, 3]) await publish(TOPIC, n);
        await box.until(3);
        expect(box.bodies()).toEqual([1, 2, 3]);
      });

      it('changes nothing when it rejects: a refused request is not delivered', async () => {
        const box = inbox();
        await consume(TOPIC, box.handler);
        await expectInvalid(transport.request(TOPIC, { body: 'no' }, { timeoutMs: -1 }), 'options.timeoutMs');
        await expectInvalid(transport.request(TOPIC, { body: 10n }, LONG), 'message.body');
        await publish(TOPIC, 'marker');
        await box.until(1);
        expect(box.bodies()).toEqual(['marker']);
      });
    });

    it('leaves no unhandled rejection behind: failing handlers, timeouts, remote errors, close', async () => {
      const watch = watchUnhandledRejections();
      try {
        const never = gate();
        const failing = inbox(() => Promise.reject(new Error('always fails')));
        await consume(TOPIC, failing.handler, { deliveryLimit: 2 });
        await consume(HOST_1, () => {
          throw new Error('sync failure');
        });
        await consume(HOST_2, () => never.promise);
        await publish(TOPIC, 'fails twice');
        await failing.until(2);
        await expect(transport.request(HOST_1, { body: 1 }, LONG)).rejects.toBeInstanceOf(RemoteError);
        await expect(
          transport.request({ topic: 'nobody', server: 'x' }, { body: 1 }, { timeoutMs: 5 }),
        ).rejects.toBeInstanceOf(CallTimeoutError);
        const stuck = transport.request(HOST_2, { body: 1 }, { timeoutMs: PATIENCE_MS });
        const stuckFailure = rejectionOf(stuck);
        await turns();
        await transport.close({ drainMs: 5 });
        expect(await stuckFailure).toBeInstanceOf(TransportError);
        never.open();
        await turns(10);
        expect(watch.reasons).toEqual([]);
      } finally {
        watch.stop();
      }
    });
  });
}
