import { afterEach, describe, expect, it } from '@jest/globals';
import { InvalidError, type Logger } from '@herald/core';
import {
  InMemoryTransport,
  NOTIFICATION_PRIORITIES,
  NotificationFilter,
  NotificationListener,
  NotificationResult,
  Notifier,
  TransportError,
  type Delivery,
  type NotificationContext,
  type NotificationEndpoint,
  type NotificationListenerOptions,
  type NotificationMetadata,
  type NotificationPriority,
  type Transport,
} from '../src/index.js';
import { invalid } from './transport.contract.js';

const CTX: NotificationContext = { request_id: 'req-1', project_id: 'p1', user: { domain: 'default' } };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A logger that keeps its lines by level. */
function recordingLogger() {
  const lines: { level: string; message: string }[] = [];
  const log = (level: string) => (message: string) => void lines.push({ level, message });
  const logger: Required<Logger> = { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') };
  return { logger, at: (level: string) => lines.filter((l) => l.level === level).map((l) => l.message) };
}

/** What one endpoint method received, per call. */
interface Received {
  priority: NotificationPriority;
  context: NotificationContext;
  publisherId: string;
  eventType: string;
  payload: unknown;
  metadata: NotificationMetadata;
}

/** An endpoint that records what its `priorities` methods get (and `this`). */
function recorder(priorities: readonly NotificationPriority[], extra: Partial<NotificationEndpoint> = {}) {
  const received: Received[] = [];
  const selves: unknown[] = [];
  const endpoint: NotificationEndpoint = { ...extra };
  for (const priority of priorities) {
    (endpoint as Record<string, unknown>)[priority] = function (
      this: unknown,
      context: NotificationContext,
      publisherId: string,
      eventType: string,
      payload: unknown,
      metadata: NotificationMetadata,
    ) {
      selves.push(this);
      received.push({ priority, context, publisherId, eventType, payload, metadata });
    };
  }
  return { endpoint, received, selves, events: () => received.map((r) => r.eventType) };
}

let transport: InMemoryTransport;
const listeners: NotificationListener[] = [];

/** A started listener on the test's transport, stopped after the test, with a quiet logger. */
async function listen(options: Omit<NotificationListenerOptions, 'logger'>, log = recordingLogger()) {
  const listener = new NotificationListener(transport, { ...options, logger: log.logger });
  listeners.push(listener);
  await listener.start();
  return listener;
}

/** Everything delivered on `topic` (default group), recorded raw. */
async function tap(topic: string, group?: string): Promise<Delivery[]> {
  const got: Delivery[] = [];
  await transport.consume({ topic }, (d) => void got.push(d), group === undefined ? {} : { group });
  return got;
}

function fresh(): InMemoryTransport {
  transport = new InMemoryTransport({ logger: recordingLogger().logger });
  return transport;
}
fresh();

afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.stop()));
  await transport.close({ drainMs: 0 });
  fresh();
});

describe('Notifier', () => {
  it("publishes oslo's body on <topic>.<priority>, for every priority", async () => {
    const taps = new Map<NotificationPriority, Delivery[]>();
    for (const p of NOTIFICATION_PRIORITIES) taps.set(p, await tap(`notifications.${p}`));
    const notifier = new Notifier(transport, { publisherId: 'network.host-1' });
    const before = Date.now();
    for (const p of NOTIFICATION_PRIORITIES) await notifier[p](CTX, `router.${p}.end`, { router: { id: 'r1' } });
    await transport.idle();

    for (const p of NOTIFICATION_PRIORITIES) {
      const got = taps.get(p)!;
      expect(got).toHaveLength(1);
      const [delivery] = got;
      expect(delivery!.target).toEqual({ topic: `notifications.${p}` });
      const body = delivery!.body as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(
        ['context', 'event_type', 'message_id', 'payload', 'priority', 'publisher_id', 'timestamp'].sort(),
      );
      expect(body).toMatchObject({
        publisher_id: 'network.host-1',
        event_type: `router.${p}.end`,
        priority: p.toUpperCase(),
        payload: { router: { id: 'r1' } },
        context: CTX,
      });
      expect(body.message_id).toMatch(UUID);
      expect(delivery!.id).toBe(body.message_id);
      expect(new Date(body.timestamp as string).toISOString()).toBe(body.timestamp);
      expect(Date.parse(body.timestamp as string)).toBeGreaterThanOrEqual(before - 1);
    }
    const ids = [...taps.values()].map((got) => (got[0]!.body as { message_id: string }).message_id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('notify(priority, …) is the named methods with their priority', async () => {
    const got = await tap('notifications.error');
    await new Notifier(transport, { publisherId: 'p' }).notify('error', {}, 'port.update.error', { port_id: 'x' });
    await transport.idle();
    expect(got.map((d) => (d.body as { priority: string }).priority)).toEqual(['ERROR']);
  });

  it('publishes one message, with one id, on every topic', async () => {
    const a = await tap('notifications.info');
    const b = await tap('billing.info');
    const c = await tap('notifications.warn');
    await new Notifier(transport, { publisherId: 'p', topics: ['notifications', 'billing'] }).info(CTX, 'x.y', 1);
    await transport.idle();
    expect(a).toHaveLength(1);
    expect(b).toHaveLength(1);
    expect(c).toHaveLength(0);
    expect(a[0]!.body).toEqual(b[0]!.body);
    expect(a[0]!.id).toBe(b[0]!.id);
  });

  it('prepare() makes a new notifier with the changes; the original is unchanged', async () => {
    const original = new Notifier(transport, { publisherId: 'network.host-1' });
    const other = original.prepare({ publisherId: 'l3.host-2', topics: ['audit'] });
    const same = original.prepare();
    expect(other).not.toBe(original);
    expect([other.publisherId, other.topics]).toEqual(['l3.host-2', ['audit']]);
    expect([original.publisherId, original.topics]).toEqual(['network.host-1', ['notifications']]);
    expect([same.publisherId, same.topics]).toEqual(['network.host-1', ['notifications']]);
    expect(original.prepare({ topics: ['t'] }).publisherId).toBe('network.host-1');

    const audit = await tap('audit.info');
    const main = await tap('notifications.info');
    await other.info({}, 'router.create.end', {});
    await transport.idle();
    expect(audit.map((d) => (d.body as { publisher_id: string }).publisher_id)).toEqual(['l3.host-2']);
    expect(main).toHaveLength(0);
  });

  it('rejects bad arguments with InvalidError, and sends nothing', async () => {
    const got = await tap('notifications.info');
    const notifier = new Notifier(transport, { publisherId: 'p' });
    await expect(notifier.info(CTX, '', {})).rejects.toMatchObject({ element: 'eventType' });
    await expect(notifier.info(CTX, 42 as unknown as string, {})).rejects.toBeInstanceOf(InvalidError);
    await expect(notifier.info(null as unknown as NotificationContext, 'a.b', {})).rejects.toMatchObject({
      element: 'context',
    });
    await expect(notifier.info(CTX, 'a.b', undefined)).rejects.toMatchObject({ element: 'payload' });
    await expect(notifier.notify('fatal' as NotificationPriority, CTX, 'a.b', {})).rejects.toMatchObject({
      element: 'priority',
    });
    await expect(notifier.info(CTX, 'a.b', { big: 1n })).rejects.toBeInstanceOf(InvalidError); // the transport's
    expect(() => new Notifier(transport, { publisherId: '' })).toThrow(InvalidError);
    expect(() => new Notifier(transport, { publisherId: 'p', topics: [] })).toThrow(InvalidError);
    expect(() => new Notifier(transport, { publisherId: 'p', topics: ['ok', ''] })).toThrow(InvalidError);
    expect(() => notifier.prepare({ publisherId: '' })).toThrow(InvalidError);
    await transport.idle();
    expect(got).toHaveLength(0);
  });

  it.each([
    ['null', null],
    ['a plain object', {}],
    ['an object without publish()', { consume: async () => undefined }],
  ])('refuses %s as its transport, naming it and what to pass', (_, bad) => {
    const error = invalid(() => new Notifier(bad as unknown as Transport, { publisherId: 'p' }));
    expect(error.element).toBe('transport');
    expect(error.message).toMatch(/pass a Transport \(an object with publish\(\)\)/);
  });

  it('refuses topics with whitespace, and prepare() options that are not an object', () => {
    expect(invalid(() => new Notifier(transport, { publisherId: 'p', topics: ['ok', 'not ok'] }))).toMatchObject({
      element: 'topics',
      value: 'not ok',
    });
    const notifier = new Notifier(transport, { publisherId: 'p' });
    expect(invalid(() => notifier.prepare({ topics: ['audit\n'] })).element).toBe('topics');
    for (const options of [null, 'audit', 7]) {
      expect(invalid(() => notifier.prepare(options as unknown as object)).element).toBe('options');
    }
  });

  it("reports the transport's failure (oslo only logs it)", async () => {
    const notifier = new Notifier(transport, { publisherId: 'p' });
    await transport.close();
    await expect(notifier.info(CTX, 'router.create.end', {})).rejects.toBeInstanceOf(TransportError);
  });
});

describe('NotificationListener', () => {
  it('hands each notification to the method of its priority, with context, publisher, type, payload and metadata', async () => {
    const { endpoint, received, selves } = recorder(['info', 'error']);
    await listen({ endpoints: [endpoint] });
    const notifier = new Notifier(transport, { publisherId: 'network.host-1' });
    await notifier.info(CTX, 'router.create.end', { router: { id: 'r1' } });
    await notifier.error(CTX, 'router.update.error', { router_id: 'r1' });
    await notifier.warn(CTX, 'router.slow', {}); // no endpoint has `warn`: not consumed at all
    await transport.idle();

    expect(received.map((r) => [r.priority, r.eventType])).toEqual([
      ['info', 'router.create.end'],
      ['error', 'router.update.error'],
    ]);
    const [first] = received;
    expect(first!.context).toEqual(CTX);
    expect(first!.publisherId).toBe('network.host-1');
    expect(first!.payload).toEqual({ router: { id: 'r1' } });
    expect(Object.keys(first!.metadata).sort()).toEqual(['message_id', 'timestamp']);
    expect(first!.metadata.message_id).toMatch(UUID);
    expect(Date.parse(first!.metadata.timestamp)).not.toBeNaN();
    expect(selves).toEqual([endpoint, endpoint]);
  });

  it('listens only to the priorities its endpoints handle, on each of its topics', async () => {
    const { endpoint, events } = recorder(['audit', 'critical']);
    const listener = await listen({ endpoints: [endpoint, { info: undefined }], topics: ['notifications', 'ops'] });
    expect(listener.priorities).toEqual(['audit', 'critical']);
    expect(listener.topics).toEqual(['notifications', 'ops']);
    expect(listener.running).toBe(true);
    await new Notifier(transport, { publisherId: 'p', topics: ['ops'] }).critical({}, 'ops.critical', {});
    await new Notifier(transport, { publisherId: 'p' }).audit({}, 'main.audit', {});
    await new Notifier(transport, { publisherId: 'p', topics: ['other'] }).audit({}, 'other.audit', {});
    await transport.idle();
    expect(events().sort()).toEqual(['main.audit', 'ops.critical']);
  });

  it('calls every endpoint that has the method, in order, class instances included', async () => {
    const order: string[] = [];
    class RouterAudit implements NotificationEndpoint {
      seen: string[] = [];
      info(_ctx: NotificationContext, _publisher: string, eventType: string, payload: { router: { id: string } }) {
        order.push('audit');
        this.seen.push(`${eventType}:${payload.router.id}`);
      }
    }
    const audit = new RouterAudit();
    const billing = { info: async () => void order.push('billing') };
    await listen({ endpoints: [audit, { error: () => void order.push('never') }, billing] });
    await new Notifier(transport, { publisherId: 'p' }).info({}, 'router.create.end', { router: { id: 'r1' } });
    await transport.idle();
    expect(order).toEqual(['audit', 'billing']);
    expect(audit.seen).toEqual(['router.create.end:r1']);
  });

  it('stop() stops consuming (what is published meanwhile waits in the queue), start() again resumes', async () => {
    const { endpoint, events } = recorder(['info']);
    const listener = await listen({ endpoints: [endpoint] });
    const notifier = new Notifier(transport, { publisherId: 'p' });
    await notifier.info({}, 'one', {});
    await transport.idle();
    await listener.stop();
    await listener.stop(); // twice: nothing
    expect(listener.running).toBe(false);
    await notifier.info({}, 'two', {});
    await transport.idle();
    expect(events()).toEqual(['one']);
    await listener.start();
    await listener.start(); // twice: nothing (no second consumer)
    await notifier.info({}, 'three', {});
    await transport.idle();
    expect(events()).toEqual(['one', 'two', 'three']);
  });

  it('rejects endpoints that handle no priority, and other bad options', () => {
    const endpoints = [{ infos: () => undefined } as NotificationEndpoint];
    expect(() => new NotificationListener(transport, { endpoints })).toThrow(/at least one endpoint/);
    expect(() => new NotificationListener(transport, { endpoints: [] })).toThrow(InvalidError);
    expect(() => new NotificationListener(transport, { endpoints: [null as unknown as NotificationEndpoint] })).toThrow(
      InvalidError,
    );
    const info = () => undefined;
    expect(() => new NotificationListener(transport, { endpoints: [{ info }], pool: '' })).toThrow(InvalidError);
    expect(() => new NotificationListener(transport, { endpoints: [{ info }], topics: [] })).toThrow(InvalidError);
    expect(() => new NotificationListener(transport, { endpoints: [{ info }], deliveryLimit: 0 })).toThrow(
      InvalidError,
    );
    expect(() => new NotificationListener(transport, { endpoints: [{ info }], concurrency: 0 })).toThrow(InvalidError);
    expect(
      () => new NotificationListener(transport, { endpoints: [{ info }], retryBackoff: { initialDelayMs: -1 } }),
    ).toThrow(InvalidError);
    expect(() => new NotificationListener(transport, { endpoints: [{ info }], handlerTimeoutMs: 0 })).toThrow(
      InvalidError,
    );
    const filterRule = { eventType: 'x' } as unknown as NotificationFilter;
    expect(() => new NotificationListener(transport, { endpoints: [{ info, filterRule }] })).toThrow(/filterRule/);
    expect(
      invalid(() => new NotificationListener(transport, { endpoints: [{ info }], topics: ['a b'] })),
    ).toMatchObject({ element: 'topics', value: 'a b' });
  });

  it.each([
    ['null', null],
    ['a plain object', {}],
    ['an object without consume()', { publish: async () => undefined }],
  ])('refuses %s as its transport, naming it and what to pass', (_, bad) => {
    const make = () =>
      new NotificationListener(bad as unknown as Transport, { endpoints: [{ info: () => undefined }] });
    const error = invalid(make);
    expect(error.element).toBe('transport');
    expect(error.message).toMatch(/pass a Transport \(an object with consume\(\)\)/);
  });

  it('dead-letters, with the reason and without retries, a message that is not a notification', async () => {
    const { endpoint, received } = recorder(['info']);
    await listen({ endpoints: [endpoint] });
    const valid = { publisher_id: 'p', event_type: 'x', priority: 'INFO', payload: {}, context: {} };
    await transport.publish({ topic: 'notifications.info' }, { body: { foo: 1 } });
    await transport.publish({ topic: 'notifications.info' }, { body: null });
    await transport.publish({ topic: 'notifications.info' }, { body: { ...valid, priority: 'LOUD' } });
    await transport.publish({ topic: 'notifications.info' }, { body: { ...valid, context: 'admin' } });
    await transport.publish({ topic: 'notifications.info' }, { body: { ...valid, publisher_id: 7 } });
    await transport.idle();
    expect(received).toHaveLength(0);
    const letters = transport.deadLetters();
    expect(letters.map((l) => l.delivery.attempt)).toEqual([1, 1, 1, 1, 1]);
    expect(letters.map((l) => l.error)).toEqual([
      expect.stringMatching(/on notifications\.info is not a notification: event_type is undefined, not a string/),
      expect.stringMatching(/is not a notification: the body is null, not an object/),
      expect.stringMatching(/is not a notification: unknown priority "LOUD" \(expected one of audit, debug/),
      expect.stringMatching(/is not a notification: context is "admin", not an object/),
      expect.stringMatching(/is not a notification: publisher_id is 7, not a string/),
    ]);
  });

  it("logs at debug level a notification that no endpoint's filter takes, and acknowledges it", async () => {
    const log = recordingLogger();
    const { endpoint, received } = recorder(['info'], {
      filterRule: new NotificationFilter({ eventType: 'port\\..*' }),
    });
    await listen({ endpoints: [endpoint] }, log);
    const notifier = new Notifier(transport, { publisherId: 'network.host-1' });
    await notifier.info({}, 'router.create.end', {});
    await notifier.info({}, 'port.create.end', {});
    await transport.idle();
    expect(received.map((r) => r.eventType)).toEqual(['port.create.end']);
    expect(log.at('debug')).toEqual([
      expect.stringMatching(/No endpoint's filter took router\.create\.end from network\.host-1 .*acknowledged/),
    ]);
    expect(transport.deadLetters()).toEqual([]);
  });
});

describe('listener pools', () => {
  const send = async (count: number) => {
    const notifier = new Notifier(transport, { publisherId: 'p' });
    for (let i = 0; i < count; i++) await notifier.info({}, `e${i}`, { i });
    await transport.idle();
  };

  it('gives each pool its own copy of every notification', async () => {
    const billing = recorder(['info']);
    const search = recorder(['info']);
    await listen({ endpoints: [billing.endpoint], pool: 'billing' });
    await listen({ endpoints: [search.endpoint], pool: 'search' });
    await send(3);
    expect(billing.events()).toEqual(['e0', 'e1', 'e2']);
    expect(search.events()).toEqual(['e0', 'e1', 'e2']);
  });

  it('shares the notifications among the listeners of one pool (each once)', async () => {
    const a = recorder(['info']);
    const b = recorder(['info']);
    const other = recorder(['info']);
    await listen({ endpoints: [a.endpoint], pool: 'workers' });
    await listen({ endpoints: [b.endpoint], pool: 'workers' });
    await listen({ endpoints: [other.endpoint], pool: 'audit' });
    await send(6);
    expect([...a.events(), ...b.events()].sort()).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5']);
    expect(a.events().length).toBeGreaterThan(0);
    expect(b.events().length).toBeGreaterThan(0);
    expect(other.events()).toHaveLength(6);
  });

  it('without a pool, listeners share the default queue (as oslo)', async () => {
    const a = recorder(['info']);
    const b = recorder(['info']);
    await listen({ endpoints: [a.endpoint] });
    await listen({ endpoints: [b.endpoint] });
    await send(4);
    expect(a.events().length + b.events().length).toBe(4);
    expect(a.events().length).toBeGreaterThan(0);
    expect(b.events().length).toBeGreaterThan(0);
  });
});

describe('redelivery (at-least-once)', () => {
  it('requeues a message whose endpoint threw, and delivers it again to every endpoint', async () => {
    const log = recordingLogger();
    let failures = 2;
    const attempts: number[] = [];
    const flaky: NotificationEndpoint = {
      info(_c, _p, _e, _payload, metadata) {
        attempts.push(attempts.length + 1);
        expect(metadata.message_id).toMatch(UUID);
        if (failures-- > 0) throw new Error('database is locked');
      },
    };
    const steady = recorder(['info']);
    await listen({ endpoints: [flaky, steady.endpoint] }, log);
    await new Notifier(transport, { publisherId: 'p' }).info({}, 'port.create.end', {});
    await transport.idle();
    expect(attempts).toEqual([1, 2, 3]);
    // One endpoint failing does not keep the message from the others; they see it again on each retry.
    expect(steady.events()).toEqual(['port.create.end', 'port.create.end', 'port.create.end']);
    expect(log.at('error')).toEqual([
      expect.stringMatching(
        /Object\.info failed on port\.create\.end .*attempt 1.*database is locked; the message is requeued/,
      ),
      expect.stringMatching(/attempt 2/),
    ]);
    expect(transport.deadLetters()).toHaveLength(0);
  });

  it('dead-letters it after the delivery limit', async () => {
    let calls = 0;
    const broken: NotificationEndpoint = {
      info: () => {
        calls++;
        throw new Error('always');
      },
    };
    await listen({ endpoints: [broken], deliveryLimit: 3 });
    await new Notifier(transport, { publisherId: 'p' }).info({}, 'port.create.end', {});
    await transport.idle();
    expect(calls).toBe(3);
    expect(transport.deadLetters().map((l) => [l.delivery.attempt, l.error])).toEqual([[3, 'always']]);
  });

  it('waits between deliveries with retryBackoff, handles several at once with concurrency', async () => {
    const failedAt: number[] = [];
    const flaky: NotificationEndpoint = {
      info: () => {
        failedAt.push(performance.now());
        if (failedAt.length < 3) throw new Error('not yet');
      },
    };
    await listen({ endpoints: [flaky], deliveryLimit: 3, retryBackoff: { initialDelayMs: 60, multiplier: 2 } });
    await new Notifier(transport, { publisherId: 'p' }).info({}, 'port.create.end', {});
    await transport.idle();
    expect(failedAt).toHaveLength(3);
    expect(failedAt[1]! - failedAt[0]!).toBeGreaterThanOrEqual(55);
    expect(failedAt[2]! - failedAt[1]!).toBeGreaterThanOrEqual(115);
    expect(transport.deadLetters()).toHaveLength(0);

    let running = 0;
    let most = 0;
    const slow: NotificationEndpoint = {
      async warn() {
        most = Math.max(most, ++running);
        await new Promise((resolve) => setTimeout(resolve, 30));
        running--;
      },
    };
    await listen({ endpoints: [slow], topics: ['busy'], concurrency: 3 });
    const notifier = new Notifier(transport, { publisherId: 'p', topics: ['busy'] });
    await Promise.all([1, 2, 3].map((n) => notifier.warn({}, `disk.${n}`, {})));
    await transport.idle();
    expect(most).toBe(3);
  });

  it('requeues when an endpoint returns NotificationResult.REQUEUE', async () => {
    const results: unknown[] = [NotificationResult.REQUEUE, NotificationResult.HANDLED];
    let calls = 0;
    const endpoint: NotificationEndpoint = {
      async info() {
        calls++;
        return results.shift() as NotificationResult;
      },
    };
    await listen({ endpoints: [endpoint] });
    await new Notifier(transport, { publisherId: 'p' }).info({}, 'router.create.end', {});
    await transport.idle();
    expect(calls).toBe(2);
    expect(transport.deadLetters()).toHaveLength(0);
  });
});

describe('NotificationFilter', () => {
  const META: NotificationMetadata = { message_id: 'm-1', timestamp: '2025-01-01T00:00:00.000Z' };
  const PAYLOAD = { router: { id: 'r1', status: 'ACTIVE', ha: true, mtu: 1500, routes: [] }, ports: [{ id: 'p1' }] };
  const match = (filter: NotificationFilter, eventType = 'router.create.end', publisherId = 'network.host-1') =>
    filter.matches(CTX, publisherId, eventType, META, PAYLOAD);

  it('with no options matches everything', () => {
    expect(match(new NotificationFilter())).toBe(true);
  });

  it('matches publisherId and eventType', () => {
    expect(match(new NotificationFilter({ publisherId: 'network\\..*' }))).toBe(true);
    expect(match(new NotificationFilter({ publisherId: 'compute\\..*' }))).toBe(false);
    expect(match(new NotificationFilter({ eventType: 'router\\.(create|update)\\.end' }))).toBe(true);
    expect(match(new NotificationFilter({ eventType: 'router\\.(create|update)\\.end' }), 'router.delete.end')).toBe(
      false,
    );
  });

  it('anchors every pattern at both ends (unlike re.match in oslo, which anchors the start only)', () => {
    expect(match(new NotificationFilter({ eventType: 'router' }))).toBe(false);
    expect(match(new NotificationFilter({ eventType: 'create' }))).toBe(false);
    expect(match(new NotificationFilter({ eventType: 'router.*' }))).toBe(true);
    expect(match(new NotificationFilter({ eventType: /router/ }))).toBe(false);
    expect(match(new NotificationFilter({ eventType: /ROUTER\..*/i }))).toBe(true);
    // An alternation stays inside the anchors: 'a|b' is ^(?:a|b)$, not ^a|b$.
    expect(match(new NotificationFilter({ eventType: 'port|router' }))).toBe(false);
    expect(match(new NotificationFilter({ eventType: 'port.*|router.*' }))).toBe(true);
  });

  it('a RegExp with the g or y flag matches the same way every time', () => {
    const filter = new NotificationFilter({ eventType: /router\..*/g, publisherId: /network.*/y });
    expect([match(filter), match(filter), match(filter)]).toEqual([true, true, true]);
  });

  it('matches context, metadata and payload keys, dotted paths included; all given must match', () => {
    expect(match(new NotificationFilter({ context: { project_id: 'p1' } }))).toBe(true);
    expect(match(new NotificationFilter({ context: { 'user.domain': 'default' } }))).toBe(true);
    expect(match(new NotificationFilter({ context: { project_id: 'p2' } }))).toBe(false);
    expect(match(new NotificationFilter({ metadata: { message_id: 'm-\\d' } }))).toBe(true);
    expect(match(new NotificationFilter({ metadata: { timestamp: '2024-.*' } }))).toBe(false);
    expect(match(new NotificationFilter({ payload: { 'router.status': 'ACTIVE' } }))).toBe(true);
    expect(match(new NotificationFilter({ payload: { 'router.status': 'ACTIVE|DOWN' } }))).toBe(true);
    expect(match(new NotificationFilter({ payload: { 'router.status': 'ACT' } }))).toBe(false);
    expect(match(new NotificationFilter({ payload: { 'ports.0.id': 'p1' } }))).toBe(true);
    const both = { payload: { 'router.status': 'ACTIVE' }, context: { project_id: 'other' } };
    expect(match(new NotificationFilter(both))).toBe(false);
  });

  it('matches numbers and booleans by their text; objects, null and missing keys never match', () => {
    expect(match(new NotificationFilter({ payload: { 'router.mtu': '15\\d\\d' } }))).toBe(true);
    expect(match(new NotificationFilter({ payload: { 'router.ha': 'true' } }))).toBe(true);
    expect(match(new NotificationFilter({ payload: { router: '.*' } }))).toBe(false);
    expect(match(new NotificationFilter({ payload: { 'router.routes': '.*' } }))).toBe(false);
    expect(match(new NotificationFilter({ payload: { 'router.name': '.*' } }))).toBe(false);
    expect(match(new NotificationFilter({ payload: { 'router.status.length': '.*' } }))).toBe(false);
    expect(match(new NotificationFilter({ payload: { 'router.constructor': '.*' } }))).toBe(false);
    expect(new NotificationFilter({ payload: { a: '.*' } }).matches(CTX, 'p', 'e', META, null)).toBe(false);
    expect(new NotificationFilter({ payload: { a: '.*' } }).matches(CTX, 'p', 'e', META, { a: null })).toBe(false);
  });

  it('rejects invalid regular expressions, patterns and keys with InvalidError', () => {
    expect(() => new NotificationFilter({ eventType: 'router.(create' })).toThrow(InvalidError);
    expect(() => new NotificationFilter({ publisherId: '*' })).toThrow(/valid regular expression/);
    // Would compile once wrapped in the anchors, and mean something else than what was written.
    expect(() => new NotificationFilter({ eventType: 'a)|(b' })).toThrow(InvalidError);
    expect(() => new NotificationFilter({ payload: { 'router.status': '[' } })).toThrow(
      expect.objectContaining({ element: 'payload.router.status' }) as unknown as Error,
    );
    expect(() => new NotificationFilter({ eventType: 42 as unknown as string })).toThrow(InvalidError);
    expect(() => new NotificationFilter({ payload: { 'router..id': 'x' } })).toThrow(InvalidError);
    expect(() => new NotificationFilter({ context: 'project_id' as unknown as Record<string, string> })).toThrow(
      InvalidError,
    );
  });

  it("keeps a listener's endpoint to the notifications its filterRule matches", async () => {
    const routers = recorder(['info'], {
      filterRule: new NotificationFilter({ eventType: 'router\\..*', payload: { 'router.status': 'ACTIVE' } }),
    });
    const everything = recorder(['info']);
    await listen({ endpoints: [routers.endpoint, everything.endpoint] });
    const notifier = new Notifier(transport, { publisherId: 'network.host-1' });
    await notifier.info({}, 'router.create.end', { router: { status: 'ACTIVE' } });
    await notifier.info({}, 'router.update.end', { router: { status: 'DOWN' } });
    await notifier.info({}, 'port.create.end', { router: { status: 'ACTIVE' } });
    await notifier.info({}, 'router.delete.end', { router: { status: 'ACTIVE' } });
    await transport.idle();
    expect(routers.events()).toEqual(['router.create.end', 'router.delete.end']);
    expect(everything.events()).toHaveLength(4);
  });
});
