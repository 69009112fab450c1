/**
 * The registry bridge's durable mode on RabbitMQ: a slow receiver, a receiver started after the
 * events were sent, and a receiver process killed with SIGKILL in the middle of the stream, then
 * started again. Each prints its figures. Expected: 0 events lost; the duplicates a kill can
 * cause (what was handled but not yet acknowledged) are dropped by source + id.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, expect, it } from '@jest/globals';
import { AFTER_CREATE, CallbackRegistry, DBEventPayload, ROUTER, type EventPayload } from '@herald/core';
import { RegistryBridge, RemoteOrigin } from '@herald/messaging';
import { AmqpTransport } from '../src/index.js';
import { brokerUrl, describeWithBroker } from './broker.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const receiverScript = fileURLToPath(new URL('./fixtures/bridge-receiver.mjs', import.meta.url));
const quiet = { error: () => undefined, warn: () => undefined };
/** Every process on one namespace must declare its queues with the same arguments. */
const QUEUE_EXPIRES_MS = 120_000;
const EVENTS = 2_000;

/** Resolves once `check` holds; fails after `timeoutMs`. */
async function eventually(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  for (const started = Date.now(); !check();) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function router(i: number): DBEventPayload<{ id: string }> {
  return new DBEventPayload({ tenantId: 't1' }, { states: [{ id: `r${i}` }], resourceId: `r${i}` });
}

/** A receiving process (fixtures/bridge-receiver.mjs) and the events it reported handling. */
class ReceiverProcess {
  readonly lines: string[] = [];
  readonly child: ChildProcessWithoutNullStreams;
  #ready = false;
  #stderr = '';

  constructor(namespace: string, group: string, source: string, delayMs: number) {
    this.child = spawn(process.execPath, [receiverScript, brokerUrl!, namespace, group, source, String(delayMs)]);
    let partial = '';
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        if (line === 'ready') this.#ready = true;
        else this.lines.push(line);
      }
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.#stderr += chunk));
  }

  async ready(): Promise<void> {
    await eventually(() => this.#ready || this.child.exitCode !== null, 20_000, 'the receiver to start');
    if (!this.#ready) throw new Error(`the receiver exited (${this.child.exitCode}): ${this.#stderr}`);
  }

  /** Kills it with `signal` and waits for it to be gone. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill(signal);
    await gone;
  }
}

describeWithBroker('the durable registry bridge on RabbitMQ', () => {
  let closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.reverse()) await close();
    closers = [];
  });

  async function connect(namespace: string): Promise<AmqpTransport> {
    const transport = await AmqpTransport.connect({
      url: brokerUrl,
      namespace,
      queueExpiresMs: QUEUE_EXPIRES_MS,
      logger: quiet,
    });
    closers.push(() => transport.close({ drainMs: 0 }));
    return transport;
  }

  /** A server process's registry that forwards router events to `groups`, durably. */
  async function server(namespace: string, groups: readonly string[]) {
    const registry = new CallbackRegistry();
    const bridge = new RegistryBridge(await connect(namespace), { source: 'neutron-server@host-1', logger: quiet });
    bridge.forward(registry, { resources: [ROUTER], groups });
    closers.push(() => bridge.close());
    return { registry, bridge };
  }

  it(`delivers all ${EVENTS} events to a slow receiver and to one started after they were sent`, async () => {
    const namespace = `test-${randomUUID()}`;
    const sender = await server(namespace, ['slow', 'late']);
    const seen = new Map<string, string[]>([
      ['slow', []],
      ['late', []],
    ]);
    const classes = new Set<string>();
    const receive = async (group: string, delayMs: number) => {
      const registry = new CallbackRegistry();
      registry.subscribe(
        async (payload: EventPayload | undefined, { trigger }) => {
          if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
          classes.add(payload!.constructor.name);
          seen.get(group)!.push(`${(trigger as RemoteOrigin).source} ${(trigger as RemoteOrigin).eventId}`);
        },
        ROUTER,
        AFTER_CREATE,
      );
      const bridge = new RegistryBridge(await connect(namespace), { source: `${group}@host-2`, logger: quiet });
      closers.push(() => bridge.close());
      await bridge.receive(registry, { group });
    };
    await receive('slow', 2);

    const started = Date.now();
    for (let i = 0; i < EVENTS; i++) await sender.registry.notify(ROUTER, AFTER_CREATE, 'l3', router(i));
    await sender.bridge.flush();
    const forwardMs = Date.now() - started;
    await receive('late', 0);
    await eventually(() => seen.get('late')!.length >= EVENTS, 60_000, 'the late receiver');
    const lateMs = Date.now() - started - forwardMs;
    await eventually(() => seen.get('slow')!.length >= EVENTS, 60_000, 'the slow receiver');
    const slowMs = Date.now() - started;

    const slow = new Set(seen.get('slow'));
    const late = new Set(seen.get('late'));
    console.log(
      `durable bridge on RabbitMQ: ${EVENTS} events forwarded (confirmed) in ${forwardMs} ms; ` +
        `slow receiver (2 ms per event) ${slow.size}/${EVENTS} distinct in ${slowMs} ms, ${EVENTS - slow.size} lost; ` +
        `late receiver ${late.size}/${EVENTS} distinct in ${lateMs} ms after it started, ${EVENTS - late.size} lost`,
    );
    expect(sender.bridge.stats).toMatchObject({ forwarded: 2 * EVENTS, forwardFailures: 0 });
    expect(slow.size).toBe(EVENTS);
    expect(late.size).toBe(EVENTS);
    expect([...classes]).toEqual(['DBEventPayload']);
  }, 150_000);

  describe('a receiver process killed with SIGKILL mid-stream', () => {
    beforeAll(() => {
      // The receiver runs as a service would, from the built packages: build them if stale.
      execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-b', 'packages/amqp'], {
        cwd: root,
        stdio: 'inherit',
      });
    }, 120_000);

    it(`loses none of ${EVENTS} events once it is started again, duplicates dropped by source + id`, async () => {
      const namespace = `test-${randomUUID()}`;
      const sender = await server(namespace, ['agent']);
      const first = new ReceiverProcess(namespace, 'agent', 'l3-agent@host-2', 1);
      closers.push(() => first.kill('SIGKILL'));
      await first.ready();

      const sending = (async () => {
        for (let i = 0; i < EVENTS; i++) {
          await sender.registry.notify(ROUTER, AFTER_CREATE, 'l3', router(i));
          // A steady stream rather than one burst, so that the kill lands while events still come.
          if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await sender.bridge.flush();
      })();
      await eventually(() => first.lines.length >= EVENTS / 5, 60_000, 'the first receiver to handle some');
      await first.kill('SIGKILL');
      const beforeKill = first.lines.length;
      const second = new ReceiverProcess(namespace, 'agent', 'l3-agent@host-2', 1);
      closers.push(() => second.kill('SIGTERM'));
      await second.ready();
      await sending;
      const distinct = () => new Set([...first.lines, ...second.lines].map((l) => l.split(' ', 2).join(' '))).size;
      await eventually(() => distinct() >= EVENTS, 90_000, 'every event to be handled');
      // Let a late duplicate show itself before counting.
      await new Promise((resolve) => setTimeout(resolve, 200));

      const all = [...first.lines, ...second.lines];
      const handled = distinct();
      console.log(
        `durable bridge on RabbitMQ, receiver killed (SIGKILL) after ${beforeKill} of ${EVENTS} events and started again: ` +
          `${handled}/${EVENTS} distinct events handled, ${EVENTS - handled} lost, ${all.length - handled} duplicates ` +
          `(dropped by source + id); the second process handled ${second.lines.length}`,
      );
      expect(handled).toBe(EVENTS);
      expect(sender.bridge.stats).toMatchObject({ forwarded: EVENTS, forwardFailures: 0 });
      expect(new Set(all.map((l) => l.split(' ')[3]))).toEqual(new Set(['DBEventPayload']));
      expect(all.length - handled).toBeLessThanOrEqual(1); // prefetch 1: one event at most was in flight
    }, 150_000);
  });
});
