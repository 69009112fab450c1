/**
 * The registry bridge in durable mode, on the in-memory transport: a queue per receiving group,
 * events kept for receivers that are slow, stopped or not started yet, and forward failures
 * retried, counted, logged and handed over.
 */
import { describe, expect, it } from '@jest/globals';
import {
  AFTER_CREATE,
  AFTER_DELETE,
  CallbackFailure,
  CallbackRegistry,
  DBEventPayload,
  PORT,
  ROUTER,
  type EventPayload,
  type Logger,
  type Notification,
} from '@herald/core';
import {
  DEFAULT_FORWARD_RETRY,
  durableBridgeTarget,
  InMemoryOutboxStore,
  InMemoryTransport,
  OutboxRelay,
  RegistryBridge,
  RemoteOrigin,
  TransportError,
  type OutboxEntry,
  type OutgoingMessage,
  type Target,
  type Transport,
} from '../src/index.js';
import { invalid } from './transport.contract.js';

/** A logger that keeps every line, by level. */
function recordingLogger() {
  const lines: { level: string; message: string }[] = [];
  const log = (level: string) => (message: string) => void lines.push({ level, message });
  const logger: Required<Logger> = { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') };
  return { logger, at: (level: string) => lines.filter((l) => l.level === level).map((l) => l.message) };
}

interface Seen {
  payload: EventPayload | undefined;
  notification: Notification;
}

/** Records every (resource, event) notification of `registry`, optionally slowly. */
function record(registry: CallbackRegistry, resource: string, event: string, delayMs = 0): Seen[] {
  const seen: Seen[] = [];
  (registry as unknown as { subscribe: (...args: unknown[]) => unknown }).subscribe(
    async (payload: EventPayload | undefined, notification: Notification) => {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      seen.push({ payload, notification });
    },
    resource,
    event,
  );
  return seen;
}

function router(i: number): DBEventPayload<{ id: string }> {
  return new DBEventPayload({ tenantId: 't1' }, { states: [{ id: `r${i}` }], resourceId: `r${i}` });
}

/** The resource ids `seen` got, in order. */
const ids = (seen: readonly Seen[]) => seen.map((s) => s.payload?.resourceId);

/** A transport that rejects the publishes `refuse` picks, and passes the rest to `inner`. */
function refusing(inner: Transport, refuse: (target: Target, message: OutgoingMessage) => boolean): Transport {
  return {
    publish: (target, message) =>
      refuse(target, message)
        ? Promise.reject(new TransportError('broker unreachable'))
        : inner.publish(target, message),
    consume: (target, handler, options) => inner.consume(target, handler, options),
    request: (target, message, options) => inner.request(target, message, options),
    close: (options) => inner.close(options),
  };
}

const quick = { initialDelayMs: 1, maxDelayMs: 2 };

describe('RegistryBridge durable mode', () => {
  it('keeps the events for a group none of whose processes has started yet, and delivers them in order', async () => {
    const transport = new InMemoryTransport();
    const server = new CallbackRegistry();
    const sender = new RegistryBridge(transport, { source: 'neutron-server@host-1' });
    sender.forward(server, { resources: [ROUTER], groups: ['l3-agent'] });
    for (let i = 0; i < 50; i++) await server.notify(ROUTER, AFTER_CREATE, 'l3', router(i));
    await sender.flush();

    const agent = new CallbackRegistry();
    const seen = record(agent, ROUTER, AFTER_CREATE);
    const receiver = new RegistryBridge(transport, { source: 'l3-agent@host-2' });
    await receiver.receive(agent, { group: 'l3-agent' });
    await transport.idle();

    expect(ids(seen)).toEqual(Array.from({ length: 50 }, (_, i) => `r${i}`));
    expect(seen[0]!.payload).toBeInstanceOf(DBEventPayload);
    expect(seen[0]!.notification.trigger).toBeInstanceOf(RemoteOrigin);
    expect(sender.stats).toMatchObject({ forwarded: 50, forwardFailures: 0 });
    await transport.close();
  });

  it('gives each group its own copy, shares a group among its processes, and sends a group only what it is forwarded', async () => {
    const transport = new InMemoryTransport();
    const server = new CallbackRegistry();
    const sender = new RegistryBridge(transport, { source: 'neutron-server@host-1' });
    sender.forward(server, { resources: [ROUTER], groups: ['l3-agent', 'audit'] });
    sender.forward(server, { resources: [PORT], groups: ['audit'] });
    const l3 = [new CallbackRegistry(), new CallbackRegistry()];
    const audit = new CallbackRegistry();
    const l3Seen = l3.map((registry) => record(registry, ROUTER, AFTER_CREATE));
    const l3Ports = l3.map((registry) => record(registry, PORT, AFTER_CREATE));
    const auditRouters = record(audit, ROUTER, AFTER_CREATE);
    const auditPorts = record(audit, PORT, AFTER_CREATE);
    for (const [i, registry] of l3.entries()) {
      await new RegistryBridge(transport, { source: `l3-agent@host-${i}` }).receive(registry, { group: 'l3-agent' });
    }
    await new RegistryBridge(transport, { source: 'audit@host-9' }).receive(audit, { group: 'audit' });

    for (let i = 0; i < 10; i++) await server.notify(ROUTER, AFTER_CREATE, 'l3', router(i));
    await server.notify(PORT, AFTER_CREATE, 'ml2', new DBEventPayload({}, { resourceId: 'p1' }));
    await sender.flush();
    await transport.idle();

    expect(l3Seen[0]!.length + l3Seen[1]!.length).toBe(10); // each event once in the group
    expect([...ids(l3Seen[0]!), ...ids(l3Seen[1]!)].sort()).toEqual(ids(auditRouters).sort());
    expect(ids(auditRouters)).toHaveLength(10);
    expect(ids(auditPorts)).toEqual(['p1']);
    expect(l3Ports.flat()).toEqual([]);
    await transport.close();
  });

  it('delivers every event to a slow receiver, and to one that stops and starts again, none twice', async () => {
    const transport = new InMemoryTransport();
    const server = new CallbackRegistry();
    const sender = new RegistryBridge(transport, { source: 'neutron-server@host-1' });
    sender.forward(server, { resources: [ROUTER], groups: ['l3-agent'] });
    const agent = new CallbackRegistry();
    const seen = record(agent, ROUTER, AFTER_CREATE, 1);
    const receiver = new RegistryBridge(transport, { source: 'l3-agent@host-2' });
    let receiving = await receiver.receive(agent, { group: 'l3-agent' });

    const count = 300;
    for (let i = 0; i < count; i++) {
      await server.notify(ROUTER, AFTER_CREATE, 'l3', router(i));
      if (i === 100) {
        await receiving.close(); // a restart: what comes meanwhile waits in the group's queue
      }
      if (i === 200) receiving = await receiver.receive(agent, { group: 'l3-agent' });
    }
    await sender.flush();
    await transport.idle();

    expect(ids(seen)).toEqual(Array.from({ length: count }, (_, i) => `r${i}`));
    expect(receiver.stats.received).toBe(count);
    await transport.close();
  });

  it('re-notifies an event delivered again after a restart only once, with a seen store (source + id)', async () => {
    const handled = new Set<string>();
    const seen = {
      has: (source: string, id: string) => handled.has(`${source} ${id}`),
      add: (source: string, id: string) => void handled.add(`${source} ${id}`),
    };
    const sender = new RegistryBridge(new InMemoryTransport(), { source: 'neutron-server@host-1' });
    const [entry] = sender.outboxEntries(ROUTER, AFTER_CREATE, router(1), ['l3-agent']);
    const agent = new CallbackRegistry();
    const got = record(agent, ROUTER, AFTER_CREATE);
    const receivers: RegistryBridge[] = [];
    // Two runs of the receiving process, each with a fresh transport (its in-process
    // deduplication gone), and the same event delivered to both, as after a crash before the ack.
    for (let run = 0; run < 2; run++) {
      const transport = new InMemoryTransport();
      const receiver = new RegistryBridge(transport, { source: 'l3-agent@host-2' });
      receivers.push(receiver);
      await receiver.receive(agent, { group: 'l3-agent', seen });
      await transport.publish(entry!.target, entry!.message);
      await transport.idle();
      await transport.close();
    }
    expect(ids(got)).toEqual(['r1']);
    expect(receivers.map((r) => r.stats)).toMatchObject([
      { received: 1, duplicates: 0 },
      { received: 0, duplicates: 1 },
    ]);
    expect(handled.size).toBe(1);
  });

  it('retries a failed publish with growing delays, counted and logged, and the local notify never fails', async () => {
    const inner = new InMemoryTransport();
    let refusals = 2;
    const transport = refusing(inner, () => refusals-- > 0);
    const log = recordingLogger();
    const server = new CallbackRegistry();
    const sender = new RegistryBridge(transport, { source: 'neutron-server@host-1', logger: log.logger });
    sender.forward(server, { resources: [ROUTER], groups: ['l3-agent'], retry: { initialDelayMs: 5, multiplier: 3 } });
    const agent = new CallbackRegistry();
    const seen = record(agent, ROUTER, AFTER_CREATE);
    await new RegistryBridge(inner, { source: 'l3-agent@host-2' }).receive(agent, { group: 'l3-agent' });

    const started = Date.now();
    await expect(server.notify(ROUTER, AFTER_CREATE, 'l3', router(1))).resolves.toBeUndefined();
    await sender.flush();
    await inner.idle();

    expect(Date.now() - started).toBeGreaterThanOrEqual(5 + 15); // the two delays, 5 then 15 ms
    expect(ids(seen)).toEqual(['r1']);
    expect(sender.stats).toMatchObject({ forwarded: 1, forwardRetries: 2, forwardFailures: 0 });
    expect(log.at('warn')).toEqual([
      expect.stringMatching(
        /could not forward router after_create to herald\.events\.group\.l3-agent \(attempt 1 of 6\): broker unreachable; trying again in 5 ms/,
      ),
      expect.stringMatching(/\(attempt 2 of 6\).*trying again in 15 ms/),
    ]);
    await inner.close();
  });

  it('hands an event it could not publish after every attempt to onFailure, whose outbox relays it later', async () => {
    const inner = new InMemoryTransport();
    let brokerDown = true;
    const transport = refusing(inner, () => brokerDown);
    const log = recordingLogger();
    const outbox = new InMemoryOutboxStore();
    const failures: unknown[] = [];
    const server = new CallbackRegistry();
    const sender = new RegistryBridge(transport, { source: 'neutron-server@host-1', logger: log.logger });
    sender.forward(server, {
      resources: [ROUTER],
      groups: ['l3-agent', 'audit'],
      retry: { attempts: 3, ...quick },
      onFailure: (entry: OutboxEntry, error: unknown) => {
        failures.push(error);
        outbox.add(entry);
      },
    });
    await server.notify(ROUTER, AFTER_CREATE, 'l3', router(7));
    await sender.flush();
    expect(sender.stats).toMatchObject({ forwarded: 0, forwardRetries: 4, forwardFailures: 2 });
    expect(failures).toEqual([expect.any(TransportError), expect.any(TransportError)]);
    expect(log.at('error')).toEqual([
      expect.stringMatching(
        /could not forward router after_create \(event .+\) to herald\.events\.group\.l3-agent: broker unreachable/,
      ),
      expect.stringMatching(/to herald\.events\.group\.audit: broker unreachable/),
    ]);
    expect(outbox.size).toBe(2);

    brokerDown = false;
    await new OutboxRelay(transport, outbox).relay();
    const agent = new CallbackRegistry();
    const seen = record(agent, ROUTER, AFTER_CREATE);
    await new RegistryBridge(inner, { source: 'l3-agent@host-2' }).receive(agent, { group: 'l3-agent' });
    await inner.idle();
    expect(ids(seen)).toEqual(['r7']);
    expect(seen[0]!.payload).toBeInstanceOf(DBEventPayload);
    await inner.close();
  });

  it('fails the local notify with a CallbackFailure only when asked to (failNotify)', async () => {
    const transport = refusing(new InMemoryTransport(), () => true);
    const quiet = { error: () => undefined, warn: () => undefined };
    const server = new CallbackRegistry({ logger: quiet });
    const sender = new RegistryBridge(transport, { source: 'neutron-server@host-1', logger: quiet });
    const retry = { attempts: 2, ...quick };
    sender.forward(server, { resources: [ROUTER], events: [AFTER_CREATE], groups: ['l3-agent'], retry });
    sender.forward(server, {
      resources: [ROUTER],
      events: [AFTER_DELETE],
      groups: ['l3-agent'],
      retry: { attempts: 2, ...quick },
      failNotify: true,
    });
    await expect(server.notify(ROUTER, AFTER_CREATE, 'l3', router(1))).resolves.toBeUndefined();
    const failure = await server.notify(ROUTER, AFTER_DELETE, 'l3', router(1)).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(CallbackFailure);
    expect((failure as CallbackFailure).message).toMatch(/broker unreachable/);
    await sender.flush();
    expect(sender.stats).toMatchObject({ forwardFailures: 2, forwardRetries: 2 });
  });

  it('makes outbox entries for groups: one per group, each its own message id, one event id', () => {
    const bridge = new RegistryBridge(new InMemoryTransport(), { source: 'neutron-server@host-1' });
    const entries = bridge.outboxEntries(ROUTER, AFTER_CREATE, router(1), ['l3-agent', 'audit']);
    expect(entries.map((e) => e.target)).toEqual([durableBridgeTarget('l3-agent'), durableBridgeTarget('audit')]);
    expect(new Set(entries.map((e) => e.message.id)).size).toBe(2);
    expect(new Set(entries.map((e) => e.message.headers?.['ce-id'])).size).toBe(1);
  });

  it('refuses bad groups, retry policies and seen stores with InvalidError naming them, subscribing nothing', async () => {
    const registry = new CallbackRegistry();
    const bridge = new RegistryBridge(new InMemoryTransport(), { source: 'a' });
    const element = (run: () => unknown) => invalid(run).element;
    expect(element(() => bridge.forward(registry, { resources: [ROUTER], groups: ['l3 agent'] }))).toBe(
      'options.groups',
    );
    expect(element(() => bridge.forward(registry, { resources: [ROUTER], groups: [] }))).toBe('options.groups');
    expect(element(() => bridge.forward(registry, { resources: [ROUTER], retry: { attempts: 0 } }))).toBe(
      'options.retry.attempts',
    );
    expect(element(() => bridge.forward(registry, { resources: [ROUTER], retry: { multiplier: 0.5 } }))).toBe(
      'options.retry.multiplier',
    );
    expect(
      element(() => bridge.forward(registry, { resources: [ROUTER], retry: { initialDelayMs: 10, maxDelayMs: 5 } })),
    ).toBe('options.retry.maxDelayMs');
    expect(element(() => bridge.forward(registry, { resources: [ROUTER], onFailure: 'outbox' as never }))).toBe(
      'options.onFailure',
    );
    expect(registry.hasSubscribers(ROUTER, AFTER_CREATE)).toBe(false);
    expect(DEFAULT_FORWARD_RETRY.attempts).toBeGreaterThan(1);
    await expect(bridge.receive(registry, { seen: { has: () => false } as never })).rejects.toMatchObject({
      element: 'options.seen',
    });
  });
});
