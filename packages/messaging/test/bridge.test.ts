import { describe, expect, it } from '@jest/globals';
import {
  ABORT_CREATE,
  AFTER_CREATE,
  AFTER_DELETE,
  AFTER_REQUEST,
  AFTER_UPDATE,
  APIEventPayload,
  BEFORE_CREATE,
  CallbackFailure,
  CallbackRegistry,
  DBEventPayload,
  EventPayload,
  InvalidError,
  NETWORK,
  OnResource,
  PORT,
  PRIORITY_DEFAULT,
  ROUTER,
  subscribeInstance,
  type Logger,
  type Notification,
} from '@herald/core';
import {
  BRIDGE_TOPIC,
  createCloudEvent,
  DEFAULT_FORWARDED_EVENTS,
  InMemoryTransport,
  PRIORITY_BRIDGE,
  RegistryBridge,
  RemoteOrigin,
  toMessage,
  TransportError,
  type CloudEvent,
  type Consumer,
  type Delivery,
  type OutgoingMessage,
  type Target,
  type Transport,
} from '../src/index.js';

interface Router {
  id: string;
  name: string;
}

/** What one subscriber saw. */
interface Seen {
  payload: EventPayload | undefined;
  notification: Notification;
}

/** A logger that keeps every line, by level. */
function recordingLogger() {
  const lines: { level: string; message: string }[] = [];
  const logger: Required<Logger> = {
    error: (message) => void lines.push({ level: 'error', message }),
    warn: (message) => void lines.push({ level: 'warn', message }),
    info: (message) => void lines.push({ level: 'info', message }),
    debug: (message) => void lines.push({ level: 'debug', message }),
  };
  return { logger, lines, errors: () => lines.filter((l) => l.level === 'error').map((l) => l.message) };
}

/** Subscribes a recorder to (resource, event) of `registry`. */
function record(registry: CallbackRegistry, resource: string, event: string, options?: number | object): Seen[] {
  const seen: Seen[] = [];
  untyped(registry).subscribe(
    (payload: EventPayload | undefined, notification: Notification) => void seen.push({ payload, notification }),
    resource,
    event,
    options,
  );
  return seen;
}

/** The registry without its type layer, for events the core does not declare for a resource. */
function untyped(registry: CallbackRegistry) {
  return registry as unknown as {
    subscribe(callback: Function, resource: string, event: string, options?: number | object): unknown;
    notify(resource: string, event: string, trigger: unknown, payload?: EventPayload): Promise<void>;
    notifySync(resource: string, event: string, trigger: unknown, payload?: EventPayload): void;
  };
}

/** Every CloudEvent published on the bridge topic, as a third process would see it. */
async function tap(transport: InMemoryTransport, topic = BRIDGE_TOPIC): Promise<CloudEvent[]> {
  const events: CloudEvent[] = [];
  await transport.consume({ topic, fanout: true }, (delivery) => void events.push(delivery.body as CloudEvent));
  return events;
}

/** Two "processes", A (the server) and B (an agent), with a registry and a bridge each. */
function twoProcesses() {
  const transport = new InMemoryTransport();
  const a = { registry: new CallbackRegistry({ name: 'A' }), log: recordingLogger() };
  const b = { registry: new CallbackRegistry({ name: 'B' }), log: recordingLogger() };
  const bridgeA = new RegistryBridge(transport, { source: 'neutron-server@host-1', logger: a.log.logger });
  const bridgeB = new RegistryBridge(transport, { source: 'l3-agent@host-2', logger: b.log.logger });
  /** Everything forwarded so far has been published and handled. */
  const settle = async () => {
    await bridgeA.flush();
    await bridgeB.flush();
    await transport.idle();
  };
  return { transport, a: { ...a, bridge: bridgeA }, b: { ...b, bridge: bridgeB }, settle };
}

const ctx = { tenantId: 't1', userId: 'u1' };
const router: Router = { id: 'r1', name: 'edge' };

function created(): DBEventPayload<Router> {
  return new DBEventPayload<Router>(ctx, {
    states: [router],
    resourceId: router.id,
    metadata: { az: 'nova' },
    requestBody: { name: 'edge' },
  });
}

/** A transport whose publish fails (or hangs until released); it consumes nothing. */
class FakeTransport implements Transport {
  readonly published: OutgoingMessage[] = [];
  readonly #release: (() => void)[] = [];

  constructor(readonly mode: 'reject' | 'throw' | 'hold') {}

  publish(_target: Target, message: OutgoingMessage): Promise<void> {
    this.published.push(message);
    if (this.mode === 'throw') throw new TransportError('broker unreachable (thrown)');
    if (this.mode === 'reject') return Promise.reject(new TransportError('broker unreachable'));
    return new Promise((resolve) => this.#release.push(resolve));
  }

  /** Confirms every held publish. */
  release(): void {
    for (const resolve of this.#release.splice(0)) resolve();
  }

  async consume(): Promise<Consumer> {
    throw new TransportError('not in this fake');
  }

  async request(): Promise<Delivery> {
    throw new TransportError('not in this fake');
  }

  async close(): Promise<void> {}
}

describe('RegistryBridge: forward and receive', () => {
  it("runs B's subscriber for A's after_create with a DBEventPayload equal in its fields", async () => {
    const { a, b, settle, transport } = twoProcesses();
    const local = record(a.registry, ROUTER, AFTER_CREATE);
    const remote = record(b.registry, ROUTER, AFTER_CREATE);
    a.bridge.forward(a.registry, { resources: [ROUTER] });
    await b.bridge.receive(b.registry);

    const payload = created();
    await a.registry.notify(ROUTER, AFTER_CREATE, 'l3-plugin', payload);
    await settle();

    expect(local).toHaveLength(1);
    expect(local[0]!.notification.trigger).toBe('l3-plugin');
    expect(remote).toHaveLength(1);
    const { payload: received, notification } = remote[0]!;
    expect(received).toBeInstanceOf(DBEventPayload);
    expect(received).not.toBe(payload);
    expect(received).toEqual(payload);
    expect((received as DBEventPayload<Router>).latestState).toEqual(router);
    expect(notification.resource).toBe(ROUTER);
    expect(notification.event).toBe(AFTER_CREATE);
    expect(notification.trigger).toBeInstanceOf(RemoteOrigin);
    expect(notification.trigger).toMatchObject({ source: 'neutron-server@host-1', eventId: expect.any(String) });
    expect(a.bridge.stats).toMatchObject({ forwarded: 1, forwardFailures: 0 });
    expect(b.bridge.stats).toMatchObject({ received: 1, rejected: 0, renotifyFailures: 0 });
    expect(a.log.lines).toEqual([]);
    expect(b.log.errors()).toEqual([]);
    await transport.close();
  });

  it("rebuilds the context with the receiver's reviver, and dead-letters an event it cannot rebuild", async () => {
    class TenantContext {
      constructor(readonly tenantId: string) {}
      isAdmin(): boolean {
        return this.tenantId === 'admin';
      }
    }
    const { a, b, settle, transport } = twoProcesses();
    const remote = record(b.registry, ROUTER, AFTER_CREATE);
    a.bridge.forward(a.registry, { resources: [ROUTER] });
    await b.bridge.receive(b.registry, {
      context: (json) => {
        const tenantId = (json as { tenantId?: unknown }).tenantId;
        if (typeof tenantId !== 'string') throw new Error('no tenant in the context');
        return new TenantContext(tenantId);
      },
    });

    await a.registry.notify(ROUTER, AFTER_CREATE, 'l3', created());
    await a.registry.notify(ROUTER, AFTER_CREATE, 'l3', new DBEventPayload({ userId: 'u1' }, { resourceId: 'r2' }));
    await settle();

    expect(remote).toHaveLength(1);
    const context = remote[0]!.payload!.context;
    expect(context).toBeInstanceOf(TenantContext);
    expect((context as TenantContext).isAdmin()).toBe(false);
    expect(b.bridge.stats).toMatchObject({ received: 1, rejected: 1 });
    expect(b.log.errors()).toEqual([expect.stringContaining('no tenant in the context')]);
    expect(transport.deadLetters().map((l) => l.error)).toEqual([expect.stringContaining('no tenant in the context')]);
    await transport.close();
  });

  it('publishes a CloudEvent: type herald.<resource>.<event>, subject the resource id', async () => {
    const { a, settle, transport } = twoProcesses();
    const events = await tap(transport);
    a.bridge.forward(a.registry, { resources: [ROUTER, PORT] });
    await a.registry.notify(ROUTER, AFTER_CREATE, 'l3', created());
    await a.registry.notify(PORT, AFTER_DELETE, 'ml2', new DBEventPayload(ctx, { resourceId: 42 }));
    await a.registry.notify(PORT, AFTER_UPDATE, 'ml2');
    await settle();

    expect(events.map((e) => [e.type, e.subject, e.source])).toEqual([
      ['herald.router.after_create', 'r1', 'neutron-server@host-1'],
      ['herald.port.after_delete', '42', 'neutron-server@host-1'],
      ['herald.port.after_update', undefined, 'neutron-server@host-1'],
    ]);
    expect(events[2]!.data).toEqual({ resource: PORT, event: AFTER_UPDATE, payload: null });
    expect(events[0]!.data).toMatchObject({
      resource: ROUTER,
      event: AFTER_CREATE,
      payload: { kind: 'DBEventPayload' },
    });
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
    await transport.close();
  });

  it('carries each payload class, and no payload, to the other side', async () => {
    const { a, b, settle, transport } = twoProcesses();
    const created = record(b.registry, NETWORK, AFTER_CREATE);
    const requested = record(b.registry, NETWORK, AFTER_REQUEST);
    const deleted = record(b.registry, NETWORK, AFTER_DELETE);
    a.bridge.forward(a.registry, { resources: [NETWORK] });
    await b.bridge.receive(b.registry);

    const base = new EventPayload(ctx, { resourceId: 'n1', states: [{ id: 'n1' }] });
    const api = new APIEventPayload(ctx, {
      methodName: 'create_network',
      action: 'create',
      collectionName: 'networks',
    });
    await a.registry.notify(NETWORK, AFTER_CREATE, 'ml2', base);
    await a.registry.notify(NETWORK, AFTER_REQUEST, 'api', api);
    await a.registry.notify(NETWORK, AFTER_DELETE, 'ml2');
    await settle();

    expect(created[0]!.payload!.constructor).toBe(EventPayload);
    expect(created[0]!.payload).toEqual(base);
    expect(requested[0]!.payload).toBeInstanceOf(APIEventPayload);
    expect(requested[0]!.payload).toEqual(api);
    expect(deleted).toHaveLength(1);
    expect(deleted[0]!.payload).toBeUndefined();
    await transport.close();
  });

  it('runs an @OnResource handler in the other process the same way', async () => {
    const { a, b, settle, transport } = twoProcesses();
    class L3AgentNotifier {
      readonly routers: string[] = [];
      readonly remote: boolean[] = [];
      @OnResource(ROUTER, AFTER_CREATE)
      routerCreated(payload: EventPayload | undefined, { trigger }: Notification): void {
        this.routers.push((payload as DBEventPayload<Router>).latestState!.name);
        this.remote.push(trigger instanceof RemoteOrigin);
      }
    }
    const agent = new L3AgentNotifier();
    subscribeInstance(b.registry, agent);
    a.bridge.forward(a.registry, { resources: [ROUTER] });
    await b.bridge.receive(b.registry);

    await a.registry.notify(ROUTER, AFTER_CREATE, 'l3', created());
    await settle();
    expect(agent.routers).toEqual(['edge']);
    expect(agent.remote).toEqual([true]);
    await transport.close();
  });

  it('forwards under notifySync too, and returns nothing to the round', async () => {
    const { a, b, settle, transport } = twoProcesses();
    const remote = record(b.registry, ROUTER, AFTER_CREATE);
    a.bridge.forward(a.registry, { resources: [ROUTER] });
    await b.bridge.receive(b.registry);
    expect(() => a.registry.notifySync(ROUTER, AFTER_CREATE, 'l3', created())).not.toThrow();
    await settle();
    expect(remote).toHaveLength(1);
    await transport.close();
  });

  it('subscribes late: local subscribers run before the bridge publishes', async () => {
    const registry = new CallbackRegistry();
    const fake = new FakeTransport('hold');
    const order: string[] = [];
    const bridge = new RegistryBridge(fake, { source: 'a' });
    bridge.forward(registry, { resources: [ROUTER] });
    registry.subscribe(() => void order.push(`local, published ${fake.published.length}`), ROUTER, AFTER_CREATE);
    registry.subscribe(
      () => void order.push(`driver, published ${fake.published.length}`),
      ROUTER,
      AFTER_CREATE,
      PRIORITY_DEFAULT + 200,
    );
    await registry.notify(ROUTER, AFTER_CREATE, 'l3', created());
    expect(order).toEqual(['local, published 0', 'driver, published 0']);
    expect(fake.published).toHaveLength(1);
    expect(registry.subscriptions().find((s) => s.priority === PRIORITY_BRIDGE)).toBeDefined();
    fake.release();
    await bridge.flush();
  });

  it('re-notifies an event once, and the event of another source that reuses its id too', async () => {
    const transport = new InMemoryTransport();
    const registry = new CallbackRegistry({ name: 'B' });
    const seen = record(registry, ROUTER, AFTER_CREATE);
    const bridge = new RegistryBridge(transport, { source: 'l3-agent@host-2', logger: recordingLogger().logger });
    await bridge.receive(registry);
    const data = { resource: ROUTER, event: AFTER_CREATE, payload: null };
    const type = `herald.${ROUTER}.${AFTER_CREATE}`;
    // CloudEvents: source + id identify an event; an id is only unique within its source.
    for (const source of ['neutron-server@host-1', 'neutron-server@host-1', 'neutron-server@host-3']) {
      const event = createCloudEvent({ source, type, id: 'evt-1', data });
      await transport.publish({ topic: BRIDGE_TOPIC, fanout: true }, toMessage(event));
    }
    await transport.idle();
    expect(seen.map((s) => s.notification.trigger)).toEqual([
      new RemoteOrigin('neutron-server@host-1', 'evt-1'),
      new RemoteOrigin('neutron-server@host-3', 'evt-1'),
    ]);
    expect(bridge.stats).toMatchObject({ received: 2, rejected: 0 });
    await bridge.close();
    await transport.close();
  });

  it('takes a priority of choice', async () => {
    const registry = new CallbackRegistry();
    const bridge = new RegistryBridge(new FakeTransport('hold'), { source: 'a' });
    bridge.forward(registry, { resources: [ROUTER], events: [AFTER_CREATE], priority: 10 });
    expect(registry.subscriptions().map((s) => s.priority)).toEqual([10]);
  });
});

describe('RegistryBridge: what is not forwarded', () => {
  it('forwards only after_* events by default: not before_*, nor a vetoed round and its abort', async () => {
    const { a, b, settle, transport } = twoProcesses();
    const events = await tap(transport);
    const remote = record(b.registry, ROUTER, BEFORE_CREATE);
    a.bridge.forward(a.registry, { resources: [ROUTER] });
    await b.bridge.receive(b.registry);
    a.registry.subscribe(
      () => {
        throw new Error('quota exceeded');
      },
      ROUTER,
      BEFORE_CREATE,
    );
    const aborted = record(a.registry, ROUTER, ABORT_CREATE);

    await expect(a.registry.notify(ROUTER, BEFORE_CREATE, 'l3', created())).rejects.toBeInstanceOf(CallbackFailure);
    await settle();
    expect(aborted).toHaveLength(1); // the local round went as usual
    expect(events).toEqual([]);
    expect(remote).toEqual([]);
    expect(DEFAULT_FORWARDED_EVENTS).toEqual(
      expect.arrayContaining([AFTER_CREATE, AFTER_UPDATE, AFTER_DELETE, AFTER_REQUEST]),
    );
    expect(DEFAULT_FORWARDED_EVENTS.every((e) => e.startsWith('after_'))).toBe(true);
    await transport.close();
  });

  it('forwards before_* events when they are chosen', async () => {
    const { a, b, settle, transport } = twoProcesses();
    const remote = record(b.registry, ROUTER, BEFORE_CREATE);
    a.bridge.forward(a.registry, { resources: [ROUTER], events: [BEFORE_CREATE] });
    await b.bridge.receive(b.registry);
    await a.registry.notify(ROUTER, BEFORE_CREATE, 'l3', created());
    await settle();
    expect(remote).toHaveLength(1);
    expect(remote[0]!.payload).toBeInstanceOf(DBEventPayload);
    await transport.close();
  });

  it('does not echo: two processes that forward and receive hear each event once', async () => {
    const { a, b, settle, transport } = twoProcesses();
    const events = await tap(transport);
    const inA = record(a.registry, ROUTER, AFTER_CREATE);
    const inB = record(b.registry, ROUTER, AFTER_CREATE);
    for (const side of [a, b]) {
      side.bridge.forward(side.registry, { resources: [ROUTER] });
      await side.bridge.receive(side.registry);
    }

    await a.registry.notify(ROUTER, AFTER_CREATE, 'l3', created());
    await settle();
    await b.registry.notify(ROUTER, AFTER_CREATE, 'l3', new DBEventPayload(ctx, { resourceId: 'r2' }));
    await settle();

    expect(events.map((e) => [e.source, e.subject])).toEqual([
      ['neutron-server@host-1', 'r1'],
      ['l3-agent@host-2', 'r2'],
    ]);
    expect(inA.map((s) => [s.payload!.resourceId, s.notification.trigger instanceof RemoteOrigin])).toEqual([
      ['r1', false],
      ['r2', true],
    ]);
    expect(inB.map((s) => [s.payload!.resourceId, s.notification.trigger instanceof RemoteOrigin])).toEqual([
      ['r1', true],
      ['r2', false],
    ]);
    expect(a.bridge.stats).toMatchObject({ forwarded: 1, received: 1, ownSkipped: 1 });
    expect(b.bridge.stats).toMatchObject({ forwarded: 1, received: 1, ownSkipped: 1 });
    await transport.close();
  });

  it('skips its own events: one registry that forwards and receives is notified once', async () => {
    const transport = new InMemoryTransport();
    const registry = new CallbackRegistry();
    const { logger, lines } = recordingLogger();
    const bridge = new RegistryBridge(transport, { source: 'all-in-one', logger });
    const seen = record(registry, ROUTER, AFTER_CREATE);
    bridge.forward(registry, { resources: [ROUTER] });
    await bridge.receive(registry);
    await registry.notify(ROUTER, AFTER_CREATE, 'l3', created());
    await bridge.flush();
    await transport.idle();
    expect(seen).toHaveLength(1);
    expect(bridge.stats).toMatchObject({ forwarded: 1, ownSkipped: 1, received: 0 });
    expect(lines).toEqual([{ level: 'debug', message: expect.stringContaining('skipped its own event') }]);
    await transport.close();
  });

  it('does not forward a notification whose trigger is a RemoteOrigin, whoever re-notified it', async () => {
    const registry = new CallbackRegistry();
    const fake = new FakeTransport('hold');
    const bridge = new RegistryBridge(fake, { source: 'a' });
    bridge.forward(registry, { resources: [ROUTER] });
    await registry.notify(ROUTER, AFTER_CREATE, new RemoteOrigin('b', 'e-1'), created());
    expect(fake.published).toEqual([]);
  });
});

describe('RegistryBridge: failures', () => {
  it.each(['reject', 'throw'] as const)(
    'logs and counts a publish that fails (%s), without touching the local notification',
    async (mode) => {
      const registry = new CallbackRegistry();
      const fake = new FakeTransport(mode);
      const { logger, errors } = recordingLogger();
      const bridge = new RegistryBridge(fake, { source: 'neutron-server@host-1', logger });
      const before = record(registry, ROUTER, AFTER_CREATE);
      bridge.forward(registry, { resources: [ROUTER], retry: { attempts: 1 } });
      const after = record(registry, ROUTER, AFTER_CREATE, PRIORITY_BRIDGE + 1);

      await expect(registry.notify(ROUTER, AFTER_CREATE, 'l3', created())).resolves.toBeUndefined();
      expect(() => registry.notifySync(ROUTER, AFTER_CREATE, 'l3', created())).not.toThrow();
      await bridge.flush();

      expect(before).toHaveLength(2);
      expect(after).toHaveLength(2); // the subscriber after the bridge still ran
      expect(fake.published).toHaveLength(2);
      expect(bridge.stats).toMatchObject({ forwarded: 0, forwardFailures: 2 });
      expect(errors()).toHaveLength(2);
      expect(errors()[0]).toMatch(
        /could not forward router after_create \(event [0-9a-f-]+\) to herald.events \(fanout\): broker unreachable/,
      );
    },
  );

  it('logs and counts a payload that cannot be encoded; nothing is published', async () => {
    const registry = new CallbackRegistry();
    const fake = new FakeTransport('hold');
    const { logger, errors } = recordingLogger();
    const bridge = new RegistryBridge(fake, { source: 'a', logger });
    bridge.forward(registry, { resources: [ROUTER] });
    const session: Record<string, unknown> = {};
    session.self = session;
    await expect(registry.notify(ROUTER, AFTER_CREATE, 'l3', new DBEventPayload({ session }))).resolves.toBeUndefined();
    await bridge.flush();
    expect(fake.published).toEqual([]);
    expect(bridge.stats.forwardFailures).toBe(1);
    expect(errors()[0]).toMatch(/could not forward router after_create: .*payload\.context/);
  });

  it('survives a logger that throws', async () => {
    const registry = new CallbackRegistry();
    const logger = {
      error: () => {
        throw new Error('disk full');
      },
    };
    const bridge = new RegistryBridge(new FakeTransport('reject'), { source: 'a', logger });
    bridge.forward(registry, { resources: [ROUTER], retry: { attempts: 2, initialDelayMs: 0 } });
    await registry.notify(ROUTER, AFTER_CREATE, 'l3', created());
    await expect(bridge.flush()).resolves.toBeUndefined();
    expect(bridge.stats.forwardFailures).toBe(1);
  });

  it('logs and acknowledges a remote event that a subscriber here vetoes: no redelivery, no dead letter', async () => {
    const { a, b, settle, transport } = twoProcesses();
    let calls = 0;
    untyped(b.registry).subscribe(
      () => {
        calls++;
        throw new Error('agent cannot apply it');
      },
      ROUTER,
      AFTER_CREATE,
      { cancellable: true },
    );
    a.bridge.forward(a.registry, { resources: [ROUTER] });
    await b.bridge.receive(b.registry);
    await a.registry.notify(ROUTER, AFTER_CREATE, 'l3', created());
    await settle();
    expect(calls).toBe(1);
    expect(transport.deadLetters()).toEqual([]);
    expect(b.bridge.stats).toMatchObject({ received: 1, renotifyFailures: 1 });
    expect(b.log.errors()).toEqual([
      expect.stringMatching(/router after_create from neutron-server@host-1 .* was vetoed here; acknowledged/),
    ]);
    await transport.close();
  });

  it('requeues a remote event whose subscriber asks for a retry, up to the delivery limit', async () => {
    const transport = new InMemoryTransport();
    const a = new CallbackRegistry();
    const b = new CallbackRegistry({ isRetriable: (error) => error instanceof Error && error.message === 'deadlock' });
    const { logger, lines } = recordingLogger();
    const sender = new RegistryBridge(transport, { source: 'a' });
    const receiver = new RegistryBridge(transport, { source: 'b', logger });
    let calls = 0;
    b.subscribe(
      () => {
        calls++;
        if (calls < 2) throw new Error('deadlock');
      },
      ROUTER,
      BEFORE_CREATE,
    );
    untyped(b).subscribe(
      () => {
        throw new Error('deadlock');
      },
      ROUTER,
      AFTER_DELETE,
      { cancellable: true },
    );
    sender.forward(a, { resources: [ROUTER], events: [BEFORE_CREATE, AFTER_DELETE] });
    await receiver.receive(b, { deliveryLimit: 2 });

    await a.notify(ROUTER, BEFORE_CREATE, 'l3', created());
    await sender.flush();
    await transport.idle();
    expect(calls).toBe(2); // retried once, then it went through
    expect(transport.deadLetters()).toEqual([]);

    await a.notify(ROUTER, AFTER_DELETE, 'l3', created());
    await sender.flush();
    await transport.idle();
    expect(transport.deadLetters()).toHaveLength(1); // failed twice: dead-lettered
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(3);
    expect(receiver.stats).toMatchObject({ received: 4, renotifyFailures: 3 });
    await transport.close();
  });

  it('dead-letters messages that are not bridged events, each with the reason, and handles none', async () => {
    const { b, transport } = twoProcesses();
    const seen = record(b.registry, ROUTER, AFTER_CREATE);
    await b.bridge.receive(b.registry);
    const target = { topic: BRIDGE_TOPIC, fanout: true };
    const event = { specversion: '1.0', id: 'e', source: 'x', type: 'herald.router.after_create' };
    await transport.publish(target, { body: { foo: 1 } });
    await transport.publish(target, { body: null });
    await transport.publish(target, { body: { ...event, id: 'e1', data: 'not an object' } });
    await transport.publish(target, { body: { ...event, id: 'e2', data: { resource: ROUTER } } });
    // A mismatched kind: the type says a router was created, the data that a port was deleted.
    await transport.publish(target, { body: { ...event, id: 'e3', data: { resource: PORT, event: AFTER_DELETE } } });
    await transport.publish(target, {
      body: { ...event, id: 'e4', data: { resource: ROUTER, event: AFTER_CREATE, payload: { kind: 'Mystery' } } },
    });
    await transport.idle();
    expect(seen).toEqual([]);
    const letters = transport.deadLetters();
    expect(letters.map((l) => l.delivery.attempt)).toEqual([1, 1, 1, 1, 1, 1]); // no retries: straight there
    expect(letters.map((l) => / for ([\w. ]+?) is not valid/.exec(l.error)?.[1])).toEqual([
      'event.specversion',
      'event',
      'event.data',
      'event.data.event',
      'event.type',
      'encoded payload.kind',
    ]);
    expect(letters[0]!.error).toMatch(/dead-lettered message .*: The value undefined for event.specversion/);
    expect(letters[4]!.error).toMatch(/a bridged port after_delete event has the type 'herald.port.after_delete'/);
    expect(b.bridge.stats.rejected).toBe(6);
    expect(b.log.errors()).toHaveLength(6);
    await transport.close();
  });
});

describe('RegistryBridge: trace context', () => {
  const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  /** A → B, where A's bridge asks `hook` for each event's traceparent. */
  async function traced(hook: NonNullable<ConstructorParameters<typeof RegistryBridge>[1]['traceparent']>) {
    const transport = new InMemoryTransport();
    const log = recordingLogger();
    const a = new CallbackRegistry({ name: 'A' });
    const b = new CallbackRegistry({ name: 'B' });
    const sender = new RegistryBridge(transport, {
      source: 'neutron-server@host-1',
      logger: log.logger,
      traceparent: hook,
    });
    const receiver = new RegistryBridge(transport, { source: 'l3-agent@host-2' });
    const headers: Record<string, string>[] = [];
    await transport.consume({ topic: BRIDGE_TOPIC, fanout: true }, (d) => void headers.push({ ...d.headers }));
    const events = await tap(transport);
    sender.forward(a, { resources: [ROUTER] });
    await receiver.receive(b);
    const remote = record(b, ROUTER, AFTER_CREATE);
    const publish = async () => {
      await a.notify(ROUTER, AFTER_CREATE, 'l3-plugin', created());
      await sender.flush();
      await transport.idle();
    };
    return { transport, log, remote, events, headers, sender, publish };
  }

  it("sends the hook's traceparent in the CloudEvent and its header; the receiver hands it to handlers", async () => {
    const asked: unknown[] = [];
    const { transport, remote, events, headers, publish } = await traced((event) => {
      asked.push(event);
      return TRACEPARENT;
    });
    await publish();
    expect(asked).toEqual([{ resource: ROUTER, event: AFTER_CREATE, payload: expect.any(DBEventPayload) }]);
    expect(events[0]!.traceparent).toBe(TRACEPARENT);
    expect(headers[0]!.traceparent).toBe(TRACEPARENT);
    expect(remote).toHaveLength(1);
    expect(remote[0]!.notification.trigger).toBeInstanceOf(RemoteOrigin);
    expect((remote[0]!.notification.trigger as RemoteOrigin).traceparent).toBe(TRACEPARENT);
    await transport.close();
  });

  it('sends none when the hook returns undefined', async () => {
    const { transport, remote, events, headers, log, publish } = await traced(() => undefined);
    await publish();
    expect(events[0]!.traceparent).toBeUndefined();
    expect(headers[0]!.traceparent).toBeUndefined();
    expect((remote[0]!.notification.trigger as RemoteOrigin).traceparent).toBeUndefined();
    expect(log.lines).toEqual([]);
    await transport.close();
  });

  it('sends the event without a malformed traceparent, and logs a warning naming the value', async () => {
    const { transport, remote, events, log, sender, publish } = await traced(() => 'not-a-traceparent');
    await publish();
    expect(remote).toHaveLength(1);
    expect(events[0]!.traceparent).toBeUndefined();
    expect(sender.stats).toMatchObject({ forwarded: 1, forwardFailures: 0 });
    expect(log.lines).toEqual([{ level: 'warn', message: expect.stringContaining('"not-a-traceparent"') }]);
    await transport.close();
  });

  it('sends the event when the hook throws, and logs a warning', async () => {
    const { transport, remote, events, log, sender, publish } = await traced(() => {
      throw new Error('no active span');
    });
    await publish();
    expect(remote).toHaveLength(1);
    expect(events[0]!.traceparent).toBeUndefined();
    expect(sender.stats).toMatchObject({ forwarded: 1, forwardFailures: 0 });
    expect(log.lines).toEqual([{ level: 'warn', message: expect.stringContaining('traceparent hook threw') }]);
    await transport.close();
  });

  it('puts the traceparent on outbox entries too', () => {
    const bridge = new RegistryBridge(new InMemoryTransport(), { source: 'a', traceparent: () => TRACEPARENT });
    const entry = bridge.outboxEntry(ROUTER, AFTER_CREATE, created());
    expect(entry.message.headers?.traceparent).toBe(TRACEPARENT);
    expect((entry.message.body as CloudEvent).traceparent).toBe(TRACEPARENT);
  });
});

describe('RegistryBridge: flush and close', () => {
  it('flush waits for every publish started so far', async () => {
    const registry = new CallbackRegistry();
    const fake = new FakeTransport('hold');
    const bridge = new RegistryBridge(fake, { source: 'a' });
    bridge.forward(registry, { resources: [ROUTER] });
    await registry.notify(ROUTER, AFTER_CREATE, 'l3', created());
    await registry.notify(ROUTER, AFTER_DELETE, 'l3', created());
    let flushed = false;
    const flushing = bridge.flush().then(() => (flushed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).toBe(false);
    expect(bridge.stats.forwarded).toBe(0);
    fake.release();
    await flushing;
    expect(bridge.stats.forwarded).toBe(2);
    await expect(bridge.flush()).resolves.toBeUndefined(); // nothing pending
  });

  it('close() of a forwarding stops forwarding; the pairs can be forwarded again', async () => {
    const registry = new CallbackRegistry();
    const fake = new FakeTransport('hold');
    const bridge = new RegistryBridge(fake, { source: 'a' });
    const forwarding = bridge.forward(registry, { resources: [ROUTER, ROUTER], events: [AFTER_CREATE, AFTER_CREATE] });
    expect(forwarding.resources).toEqual([ROUTER]);
    expect(forwarding.events).toEqual([AFTER_CREATE]);
    await registry.notify(ROUTER, AFTER_CREATE, 'l3', created());
    forwarding.close();
    forwarding.close();
    await registry.notify(ROUTER, AFTER_CREATE, 'l3', created());
    expect(fake.published).toHaveLength(1);
    expect(registry.hasSubscribers(ROUTER, AFTER_CREATE)).toBe(false);
    bridge.forward(registry, { resources: [ROUTER], events: [AFTER_CREATE] });
    await registry.notify(ROUTER, AFTER_CREATE, 'l3', created());
    expect(fake.published).toHaveLength(2);
    fake.release();
    await bridge.flush();
  });

  it('close() of a receiving stops re-notifying', async () => {
    const { a, b, settle, transport } = twoProcesses();
    const remote = record(b.registry, ROUTER, AFTER_CREATE);
    a.bridge.forward(a.registry, { resources: [ROUTER] });
    const receiving = await b.bridge.receive(b.registry);
    await a.registry.notify(ROUTER, AFTER_CREATE, 'l3', created());
    await settle();
    await receiving.close();
    await receiving.close();
    await a.registry.notify(ROUTER, AFTER_CREATE, 'l3', created());
    await settle();
    expect(remote).toHaveLength(1);
    expect(a.bridge.stats.forwarded).toBe(2);
    await transport.close();
  });

  it('close() of the bridge stops everything and flushes', async () => {
    const { a, b, settle, transport } = twoProcesses();
    const inB = record(b.registry, ROUTER, AFTER_CREATE);
    a.bridge.forward(a.registry, { resources: [ROUTER] });
    await b.bridge.receive(b.registry);
    b.bridge.forward(b.registry, { resources: [ROUTER] });
    await b.bridge.close();
    await a.registry.notify(ROUTER, AFTER_CREATE, 'l3', created());
    await settle();
    expect(inB).toEqual([]);
    expect(b.registry.subscriptions().map((s) => s.priority)).toEqual([PRIORITY_DEFAULT]); // only the recorder
    await transport.close();
  });
});

describe('RegistryBridge: input checks', () => {
  const transport = new FakeTransport('hold');
  const registry = new CallbackRegistry();

  /** The element of the InvalidError `run` throws. */
  function element(run: () => unknown): string {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidError);
      return (error as InvalidError).element;
    }
    throw new Error('expected an InvalidError');
  }

  it('checks the constructor', () => {
    expect(element(() => new RegistryBridge({} as Transport, { source: 'a' }))).toBe('transport');
    expect(element(() => new RegistryBridge(transport, null as never))).toBe('options');
    expect(element(() => new RegistryBridge(transport, { source: '' }))).toBe('options.source');
    expect(element(() => new RegistryBridge(transport, {} as never))).toBe('options.source');
    expect(element(() => new RegistryBridge(transport, { source: 'a', topic: 'two words' }))).toBe('options.topic');
    expect(element(() => new RegistryBridge(transport, { source: 'a', logger: {} as Logger }))).toBe('options.logger');
    expect(element(() => new RegistryBridge(transport, { source: 'a', traceparent: 'x' as never }))).toBe(
      'options.traceparent',
    );
    const bridge = new RegistryBridge(transport, { source: 'a', topic: 'neutron.events' });
    expect([bridge.source, bridge.topic]).toEqual(['a', 'neutron.events']);
    expect(new RegistryBridge(transport, { source: 'a' }).topic).toBe(BRIDGE_TOPIC);
  });

  it('takes a function logger with an error method (loggers are duck-typed), and uses it', async () => {
    const lines: string[] = [];
    const logger = Object.assign(() => undefined, { error: (message: string) => void lines.push(message) });
    const registry = new CallbackRegistry();
    const bridge = new RegistryBridge(new FakeTransport('reject'), { source: 'a', logger });
    bridge.forward(registry, { resources: [ROUTER], retry: { attempts: 1 } });
    await registry.notify(ROUTER, AFTER_CREATE, 'l3', created());
    await bridge.flush();
    expect(lines).toEqual([expect.stringMatching(/could not forward router after_create/)]);
  });

  it('checks forward', () => {
    const bridge = new RegistryBridge(transport, { source: 'a' });
    expect(element(() => bridge.forward({} as CallbackRegistry, { resources: [ROUTER] }))).toBe('registry');
    expect(element(() => bridge.forward(registry, undefined as never))).toBe('options');
    expect(element(() => bridge.forward(registry, { resources: [] }))).toBe('options.resources');
    expect(element(() => bridge.forward(registry, { resources: ROUTER as never }))).toBe('options.resources');
    expect(element(() => bridge.forward(registry, { resources: [ROUTER, ''] }))).toBe('options.resources');
    expect(element(() => bridge.forward(registry, { resources: [ROUTER], events: [] }))).toBe('options.events');
    expect(element(() => bridge.forward(registry, { resources: [ROUTER], events: [1 as never] }))).toBe(
      'options.events',
    );
    expect(element(() => bridge.forward(registry, { resources: [ROUTER], priority: Number.NaN }))).toBe(
      'options.priority',
    );
    expect(registry.subscriptions()).toEqual([]); // nothing subscribed by a refused call
  });

  it('refuses to forward the same (resource, event) twice from one registry', () => {
    const bridge = new RegistryBridge(transport, { source: 'a' });
    const mine = new CallbackRegistry();
    bridge.forward(mine, { resources: [ROUTER], events: [AFTER_CREATE] });
    const before = mine.subscriptions().length;
    try {
      bridge.forward(mine, { resources: [PORT, ROUTER], events: [AFTER_CREATE] });
      throw new Error('expected an InvalidError');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidError);
      expect((error as InvalidError).message).toMatch(/already forwards router after_create/);
    }
    expect(mine.subscriptions()).toHaveLength(before);
    // another registry, or another bridge, is fine
    bridge.forward(new CallbackRegistry(), { resources: [ROUTER], events: [AFTER_CREATE] });
    new RegistryBridge(transport, { source: 'b' }).forward(mine, { resources: [ROUTER], events: [AFTER_CREATE] });
  });

  it('checks receive', async () => {
    const bridge = new RegistryBridge(new InMemoryTransport(), { source: 'a' });
    await expect(bridge.receive({} as CallbackRegistry)).rejects.toMatchObject({ element: 'registry' });
    await expect(bridge.receive(registry, null as never)).rejects.toMatchObject({ element: 'options' });
    await expect(bridge.receive(registry, { deliveryLimit: 0 })).rejects.toMatchObject({
      element: 'options.deliveryLimit',
    });
    await expect(bridge.receive(registry, { deliveryLimit: 0 })).rejects.toBeInstanceOf(InvalidError);
    await expect(bridge.receive(registry, { context: 'RequestContext' as never })).rejects.toMatchObject({
      element: 'options.context',
    });
  });

  it('passes transport errors of receive through', async () => {
    const bridge = new RegistryBridge(transport, { source: 'a' });
    await expect(bridge.receive(registry)).rejects.toBeInstanceOf(TransportError);
  });

  it('checks RemoteOrigin', () => {
    expect(element(() => new RemoteOrigin('', 'e'))).toBe('source');
    expect(element(() => new RemoteOrigin('s', undefined as never))).toBe('eventId');
    expect(element(() => new RemoteOrigin('s', 'e', '00-zz'))).toBe('traceparent');
    const traced = new RemoteOrigin('s', 'e', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    expect(traced.traceparent).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    const origin = new RemoteOrigin('neutron-server@host-1', 'e-1');
    expect(origin).toEqual({ source: 'neutron-server@host-1', eventId: 'e-1' });
    expect(String(origin)).toBe('RemoteOrigin(neutron-server@host-1, e-1)');
  });
});
