/**
 * The chaos suite: what the transport does when things go wrong on a real broker, on a node of
 * this file's own (see own-broker.ts) that the tests restart and kill. Each test prints its
 * figures. Consumers that must crash run in child processes (fixtures/consumer.mjs).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { expect, it } from '@jest/globals';
import { DeadLetterError, TransportError } from '@herald/messaging';
import { AmqpTransport, MessageTooLargeError, type AmqpTransportOptions } from '../src/index.js';
import { inbox } from '../../messaging/test/transport.contract.js';
import { main } from '../src/cli.js';
import { describeWithOwnBroker, ownBroker } from './own-broker.js';

/** The broker's own limit: messages above it make it close the publishing channel. */
const BROKER_MAX_MESSAGE_BYTES = 1024 * 1024;
const quiet = { error: () => undefined, warn: () => undefined };
const consumerScript = fileURLToPath(new URL('./fixtures/consumer.mjs', import.meta.url));

/** What a child consumer reported. */
interface Report {
  readonly id: string;
  readonly body: unknown;
  readonly attempt: number;
  /** When the child's handler started (`Date.now()`: the same clock as the parent's). */
  readonly at: number;
}

/** A consumer process: its reports, and a way to wait until it listens or exits. */
interface ChildConsumer {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<number | null>;
}

function spawnConsumer(
  url: string,
  namespace: string,
  group: string,
  reports: Report[],
  mode = 'steady',
): ChildConsumer {
  const child = fork(consumerScript, [url, namespace, group, mode], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.on('message', (message: Report | { ready: true }) => {
    if ('ready' in message) markReady();
    else reports.push(message);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, ready, exited };
}

/** Resolves once `done()` holds, checking every 50 ms; rejects after `timeoutMs` with `describe()`. */
async function until(done: () => boolean | Promise<boolean>, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Publishes `count` notifications `{ topic: 'chaos' }` from `transport`, `parallel` at a time,
 * calling `midway` once half are confirmed; resolves to the ids the broker confirmed.
 */
async function publishMany(
  transport: AmqpTransport,
  count: number,
  midway: () => Promise<void>,
  parallel = 20,
): Promise<{ confirmed: Set<string>; failed: number }> {
  const confirmed = new Set<string>();
  let failed = 0;
  let next = 0;
  let disrupted: Promise<void> | undefined;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const id = `n-${next++}`;
      try {
        await transport.publish({ topic: 'chaos' }, { id, body: id });
        confirmed.add(id);
      } catch {
        failed++;
      }
      if (confirmed.size >= count / 2) disrupted ??= midway();
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  await disrupted;
  return { confirmed, failed };
}

describeWithOwnBroker('AmqpTransport under chaos (a broker of its own)', () => {
  const broker = ownBroker([`max_message_size = ${BROKER_MAX_MESSAGE_BYTES}`]);
  const options = (extra: AmqpTransportOptions = {}): AmqpTransportOptions => ({
    url: broker.current().url,
    namespace: `chaos-${randomUUID()}`,
    connectTimeoutMs: 120_000,
    logger: quiet,
    ...extra,
  });

  it("fails at once with the broker's ACCESS_REFUSED for a wrong password, not after connectTimeoutMs", async () => {
    const started = Date.now();
    const url = broker.current().url.replace('guest:guest', 'guest:wrong');
    const error = await AmqpTransport.connect({ url, connectTimeoutMs: 60_000, logger: quiet }).then(
      () => undefined,
      (e: unknown) => e,
    );
    console.log(`[chaos] wrong password: rejected after ${Date.now() - started} ms`);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as Error).message).toMatch(/ACCESS.REFUSED/);
    expect((error as Error).message).not.toContain('wrong');
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);

  it('lists, replays and purges dead letters from the command line', async () => {
    const settings = options();
    const transport = await AmqpTransport.connect(settings);
    try {
      let failing = true;
      const box = inbox((d) => {
        if (failing) throw new DeadLetterError(`no handler for ${String(d.body)}`);
      });
      await transport.consume({ topic: 'chaos' }, box.handler, { group: 'audit' });
      await transport.publish({ topic: 'chaos' }, { id: 'first', body: 'one' });
      await transport.publish({ topic: 'chaos' }, { id: 'second', body: 'two' });
      await until(
        async () => (await transport.deadLetters()).length === 2,
        30_000,
        () => 'no dead letters',
      );
      const cli = async (...args: string[]): Promise<[number, string[]]> => {
        const lines: string[] = [];
        const code = await main([...args, '--url', settings.url!, '--namespace', settings.namespace!], (line) =>
          lines.push(line),
        );
        return [code, lines];
      };
      const [listed, list] = await cli('dead-letters', 'list');
      expect(listed).toBe(0);
      expect(list).toEqual([
        'first\tchaos (group audit)\tattempt 1\tno handler for one',
        'second\tchaos (group audit)\tattempt 1\tno handler for two',
        `2 dead letter(s) in ${settings.namespace!}.dead-letters`,
      ]);
      failing = false;
      expect(await cli('dead-letters', 'replay', '--id', 'second')).toEqual([0, ['1 dead letter(s) replayed']]);
      await until(
        () => box.deliveries.length === 3,
        30_000,
        () => JSON.stringify(box.bodies()),
      );
      expect(box.deliveries[2]).toMatchObject({ id: 'second', body: 'two', attempt: 1 });
      expect(await cli('dead-letters', 'purge')).toEqual([0, ['1 dead letter(s) purged']]);
      expect(await transport.deadLetters()).toEqual([]);
      expect((await cli('dead-letters', 'frobnicate'))[0]).toBe(2);
    } finally {
      await transport.close({ drainMs: 0 });
    }
  }, 90_000);

  it('reports a cast to a server nobody serves, and still resolves it (dropped, as oslo)', async () => {
    const warnings: string[] = [];
    const transport = await AmqpTransport.connect(
      options({ logger: { error: (m) => void warnings.push(m), warn: (m) => void warnings.push(m) } }),
    );
    try {
      await transport.publish({ topic: 'chaos', server: 'ghost' }, { id: 'to-ghost', body: 1 });
      await until(
        () => warnings.length > 0,
        10_000,
        () => 'no warning',
      );
      expect(warnings).toEqual([
        'Nobody serves chaos.ghost: message to-ghost was dropped (no consumer has listened as that server).',
      ]);
    } finally {
      await transport.close({ drainMs: 0 });
    }
  }, 30_000);

  it('dead-letters a message that crashes its consumer process after the delivery limit, and handles those behind it', async () => {
    const settings = options();
    const transport = await AmqpTransport.connect(settings);
    const reports: Report[] = [];
    let starts = 0;
    try {
      // The group queue exists before the messages: a consumer process declares it first.
      const first = spawnConsumer(settings.url!, settings.namespace!, 'workers', reports, 'crash-on-poison');
      starts++;
      await first.ready;
      await transport.publish({ topic: 'chaos' }, { id: 'poison', body: 'poison' });
      for (const body of ['a', 'b', 'c']) await transport.publish({ topic: 'chaos' }, { body });
      // Restart the consumer each time it dies, as a supervisor would, a bounded number of times.
      let current = first;
      while (reports.length < 3 && starts < 10) {
        const ended = await Promise.race([
          current.exited,
          until(
            () => reports.length >= 3,
            60_000,
            () => 'no report',
          ),
        ]);
        if (reports.length >= 3) break;
        expect(ended).toBe(1);
        current = spawnConsumer(settings.url!, settings.namespace!, 'workers', reports, 'crash-on-poison');
        starts++;
        await Promise.race([current.ready, current.exited]);
      }
      current.child.disconnect();
      await current.exited;
      const letters = await transport.deadLetters();
      console.log(
        `[chaos] poison: consumer process started ${starts} times, dead letters ${letters.length} (attempt ${letters[0]?.delivery.attempt}), handled behind it: ${reports.map((r) => r.body).join(',')}`,
      );
      expect(reports.map((r) => r.body).sort()).toEqual(['a', 'b', 'c']);
      expect(letters).toHaveLength(1);
      expect(letters[0]!.delivery.id).toBe('poison');
      expect(letters[0]!.group).toBe('workers');
      expect(letters[0]!.error).toMatch(/without being settled/);
      // The default limit, 5: the first start and 5 more deliveries that crashed, then buried.
      expect(starts).toBeLessThanOrEqual(7);
    } finally {
      await transport.close({ drainMs: 0 });
    }
  }, 180_000);

  it('keeps the retry backoff and the attempt count across a SIGKILL of the consumer process mid-retry, then dead-letters with the reason', async () => {
    const settings = options();
    const transport = await AmqpTransport.connect(settings);
    const reports: Report[] = [];
    const children: ChildConsumer[] = [];
    try {
      const first = spawnConsumer(settings.url!, settings.namespace!, 'workers', reports, 'backoff');
      children.push(first);
      await first.ready;
      await transport.publish({ topic: 'chaos' }, { id: 'flaky', body: 'flaky' });
      await until(
        () => reports.length >= 1,
        30_000,
        () => 'no first delivery',
      );
      // Its retry is on its way to the delay queue; the process dies while it waits there.
      await new Promise((resolve) => setTimeout(resolve, 200));
      first.child.kill('SIGKILL');
      await first.exited;
      const killedAt = Date.now();
      const second = spawnConsumer(settings.url!, settings.namespace!, 'workers', reports, 'backoff');
      children.push(second);
      await second.ready;
      for (const body of ['a', 'b', 'c']) await transport.publish({ topic: 'chaos' }, { body });
      let letters = await transport.deadLetters();
      await until(
        async () => (letters = await transport.deadLetters()).length > 0,
        30_000,
        () => `reports ${JSON.stringify(reports.map((r) => [r.body, r.attempt]))}`,
      );
      second.child.disconnect();
      await second.exited;
      const flaky = reports.filter((r) => r.body === 'flaky');
      const gaps = flaky.slice(1).map((r, i) => r.at - flaky[i]!.at);
      const behind = reports.filter((r) => r.body !== 'flaky');
      console.log(
        `[chaos] backoff across a SIGKILL ${killedAt - flaky[0]!.at} ms after attempt 1: attempts ${flaky.map((r) => r.attempt).join(',')}, gaps ${gaps.join('/')} ms for 1000/2000/4000; handled during the backoff: ${behind.map((r) => r.body).join(',')}; dead letter at attempt ${letters[0]?.delivery.attempt}: ${letters[0]?.error}`,
      );
      expect(flaky.map((r) => r.attempt)).toEqual([1, 2, 3, 4]);
      for (const [i, expected] of [1_000, 2_000, 4_000].entries())
        expect(gaps[i]).toBeGreaterThanOrEqual(expected * 0.9);
      expect(behind.map((r) => r.body).sort()).toEqual(['a', 'b', 'c']);
      // The messages behind it did not wait for its retries.
      expect(Math.max(...behind.map((r) => r.at))).toBeLessThan(flaky[3]!.at);
      expect(letters.map((l) => [l.delivery.id, l.group, l.delivery.attempt, l.error])).toEqual([
        ['flaky', 'workers', 4, 'the dependency is down (attempt 4)'],
      ]);
    } finally {
      // A failed expectation must not leave a consumer process behind (it would hold Jest open).
      for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await transport.close({ drainMs: 0 });
    }
  }, 120_000);

  it('dead-letters a 70 KB error, truncated and marked so, and keeps consuming with prefetch 1', async () => {
    const transport = await AmqpTransport.connect(options());
    try {
      const box = inbox((d) => {
        if (d.body === 'long') throw new Error('x'.repeat(70_000));
      });
      await transport.consume({ topic: 'chaos' }, box.handler, { deliveryLimit: 1 });
      await transport.publish({ topic: 'chaos' }, { body: 'long' });
      await transport.publish({ topic: 'chaos' }, { body: 'after' });
      await until(
        () => box.deliveries.length >= 2,
        30_000,
        () => JSON.stringify(box.bodies()),
      );
      const letters = await transport.deadLetters();
      console.log(
        `[chaos] 70 KB error: handled after it: ${box.bodies().join(',')}; dead letter error ${letters[0]?.error.length} characters`,
      );
      expect(box.bodies()).toEqual(['long', 'after']);
      expect(letters).toHaveLength(1);
      expect(letters[0]!.error.length).toBeLessThan(10_000);
      expect(letters[0]!.error).toMatch(/truncated: 70000 characters in all/);
    } finally {
      await transport.close({ drainMs: 0 });
    }
  }, 60_000);

  it('rejects only the oversized publish among 300 valid ones, whether its own limit or the broker refuses it', async () => {
    const checked = await AmqpTransport.connect(options({ maxMessageBytes: BROKER_MAX_MESSAGE_BYTES }));
    // Set above the broker's limit: the broker closes the channel, the others are sent again.
    const unchecked = await AmqpTransport.connect(options({ maxMessageBytes: 4 * BROKER_MAX_MESSAGE_BYTES }));
    try {
      for (const transport of [checked, unchecked]) {
        const big = 'x'.repeat(2 * BROKER_MAX_MESSAGE_BYTES);
        const outcomes = await Promise.allSettled([
          ...Array.from({ length: 150 }, (_, i) => transport.publish({ topic: 'chaos' }, { body: i })),
          transport.publish({ topic: 'chaos' }, { body: big }),
          ...Array.from({ length: 150 }, (_, i) => transport.publish({ topic: 'chaos' }, { body: 150 + i })),
        ]);
        const rejected = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [[i, o.reason as Error] as const] : []));
        console.log(
          `[chaos] oversized publish (${transport === checked ? 'transport limit' : "broker's limit"}): ${outcomes.length - rejected.length} confirmed, rejected: ${rejected.map(([i, e]) => `#${i} ${e.message.slice(0, 120)}`).join('; ')}`,
        );
        expect(rejected.map(([i]) => i)).toEqual([150]);
        const error = rejected[0]![1];
        if (transport === checked) {
          expect(error).toBeInstanceOf(MessageTooLargeError);
          expect(error).toMatchObject({ size: big.length + 2, limit: BROKER_MAX_MESSAGE_BYTES });
        } else {
          expect(error).toBeInstanceOf(TransportError);
          expect(error.message).toMatch(/message size .* larger than configured max size/);
        }
      }
    } finally {
      await Promise.all([checked.close({ drainMs: 0 }), unchecked.close({ drainMs: 0 })]);
    }
  }, 60_000);

  it('loses no confirmed notification across stop_app and start_app', async () => {
    const transport = await AmqpTransport.connect(options());
    try {
      const received = new Set<string>();
      await transport.consume({ topic: 'chaos' }, (d) => void received.add(d.id), { group: 'audit' });
      const started = Date.now();
      const { confirmed, failed } = await publishMany(transport, 1000, async () => {
        await broker.current().rabbitmqctl('stop_app');
        await broker.current().rabbitmqctl('start_app');
      });
      await until(
        () => [...confirmed].every((id) => received.has(id)),
        60_000,
        () => `${[...confirmed].filter((id) => !received.has(id)).length} confirmed not received`,
      );
      const lost = [...confirmed].filter((id) => !received.has(id)).length;
      console.log(
        `[chaos] stop_app/start_app: ${confirmed.size} confirmed, ${failed} rejected, ${received.size} received, ${lost} lost, in ${Date.now() - started} ms`,
      );
      expect(lost).toBe(0);
      expect(confirmed.size + failed).toBe(1000);
    } finally {
      await transport.close({ drainMs: 0 });
    }
  }, 180_000);

  it('loses no confirmed notification across kill -9 of the broker, with two consumer processes in one group', async () => {
    const settings = options();
    const transport = await AmqpTransport.connect(settings);
    // The first publish declares the topic's default queue.
    await transport.publish({ topic: 'chaos' }, { id: 'warm-up', body: 'warm-up' });
    const reports: Report[] = [];
    const consumers = [1, 2].map(() => spawnConsumer(settings.url!, settings.namespace!, 'workers', reports));
    try {
      await Promise.all(consumers.map((c) => c.ready));
      // RabbitMQ 3.10 writes down which quorum queues to restart lazily: one declared minutes before
      // a kill -9 can come back without a leader (declarations then hang). A clean restart of the
      // application writes it down, so the queues the test uses exist, for good, before the kill.
      await broker.current().rabbitmqctl('stop_app');
      await broker.current().rabbitmqctl('start_app');
      const started = Date.now();
      const { confirmed, failed } = await publishMany(transport, 1000, async () => {
        await broker.current().kill();
        await broker.current().restart();
      });
      const received = (): Set<string> => new Set(reports.map((r) => r.id));
      await until(
        () => [...confirmed].every((id) => received().has(id)),
        90_000,
        () => `${[...confirmed].filter((id) => !received().has(id)).length} confirmed not received`,
      );
      const lost = [...confirmed].filter((id) => !received().has(id)).length;
      console.log(
        `[chaos] kill -9: ${confirmed.size} confirmed, ${failed} rejected, ${received().size} received (${reports.length} deliveries, ${reports.length - received().size} duplicates), ${lost} lost, in ${Date.now() - started} ms`,
      );
      expect(lost).toBe(0);
    } finally {
      for (const { child } of consumers) if (child.connected) child.disconnect();
      await Promise.all(consumers.map((c) => c.exited));
      await transport.close({ drainMs: 0 });
    }
  }, 240_000);
});
