import { describe, expect, it } from '@jest/globals';
import {
  AFTER_CREATE,
  CallbackRegistry,
  DBEventPayload,
  InvalidError,
  PRECOMMIT_CREATE,
  ROUTER,
  type EventPayload,
} from '@herald/core';
import {
  checkOutboxEntry,
  InMemoryOutboxStore,
  InMemoryTransport,
  OutboxRelay,
  RegistryBridge,
  RemoteOrigin,
  TransportError,
  type ClaimingOutboxStore,
  type OutboxEntry,
  type OutboxOutcome,
  type OutboxStore,
  type OutgoingMessage,
  type Target,
  type Transport,
} from '../src/index.js';
import { inbox, invalid } from './transport.contract.js';

const NOTIFICATIONS: Target = { topic: 'notifications.info' };
const quiet = { error: () => undefined, warn: () => undefined };

function entry(id: string, body: unknown = id): OutboxEntry {
  return { target: NOTIFICATIONS, message: { id, body } };
}

/** A transport that refuses the publishes `refuse` picks, and passes the rest to `inner`. */
function refusing(inner: Transport, refuse: (message: OutgoingMessage) => boolean): Transport {
  return {
    publish: (target, message) =>
      refuse(message) ? Promise.reject(new TransportError('broker unreachable')) : inner.publish(target, message),
    consume: (target, handler, options) => inner.consume(target, handler, options),
    request: (target, message, options) => inner.request(target, message, options),
    close: (options) => inner.close(options),
  };
}

describe('InMemoryOutboxStore', () => {
  it('makes entries pending only when their transaction commits, and drops them on rollback', () => {
    const store = new InMemoryOutboxStore();
    const kept = store.begin();
    kept.add(entry('a'));
    const dropped = store.begin();
    dropped.add(entry('b'));
    expect(store.size).toBe(0);
    kept.commit();
    dropped.rollback();
    expect(store.pending(10).map((e) => e.message.id)).toEqual(['a']);
    expect(invalid(() => kept.add(entry('c'))).message).toContain('already committed');
    expect(() => dropped.commit()).toThrow(/already rolled back/);
  });

  it('keeps one entry per message id: adding the same id again changes nothing', () => {
    const store = new InMemoryOutboxStore();
    store.add(entry('a', 'first'));
    store.add(entry('b'));
    store.add(entry('a', 'again'));
    expect(store.pending(10).map((e) => [e.message.id, e.message.body])).toEqual([
      ['a', 'first'],
      ['b', 'b'],
    ]);
    store.remove(['a']);
    expect(store.pending(10).map((e) => e.message.id)).toEqual(['b']);
  });

  it('copies an entry as JSON at add time, so later changes to the object do not leak in', () => {
    const store = new InMemoryOutboxStore();
    const body = { router: { id: 'r1', created: new Date(0) } };
    store.add({ target: NOTIFICATIONS, message: { id: 'x', body } });
    body.router.id = 'changed';
    expect(store.pending(1)[0]!.message.body).toEqual({ router: { id: 'r1', created: '1970-01-01T00:00:00.000Z' } });
  });

  it.each([
    ['no entry', undefined, 'entry'],
    ['a bad target', { target: { topic: '' }, message: { id: 'a', body: 1 } }, 'target.topic'],
    ['a message without an id', { target: NOTIFICATIONS, message: { body: 1 } }, 'entry.message.id'],
    ['a body JSON cannot carry', { target: NOTIFICATIONS, message: { id: 'a', body: 1n } }, 'message.body'],
    ['an empty key', { target: NOTIFICATIONS, message: { id: 'a', body: 1 }, key: '' }, 'entry.key'],
  ])('refuses %s with an InvalidError, adding nothing', (_, bad, element) => {
    const store = new InMemoryOutboxStore();
    const tx = store.begin();
    expect(invalid(() => tx.add(bad as OutboxEntry)).element).toBe(element);
    expect(invalid(() => checkOutboxEntry(bad as OutboxEntry)).element).toBe(element);
    tx.commit();
    expect(store.size).toBe(0);
  });
});

describe('OutboxRelay', () => {
  it('publishes pending entries in order, with their ids, and removes them', async () => {
    const transport = new InMemoryTransport();
    const store = new InMemoryOutboxStore();
    const box = inbox();
    await transport.consume(NOTIFICATIONS, box.handler);
    for (const id of ['a', 'b', 'c']) store.add(entry(id, { n: id }));
    const relay = new OutboxRelay(transport, store, { batchSize: 2 });
    await expect(relay.relay()).resolves.toBe(3);
    await box.until(3);
    expect(box.deliveries.map((d) => [d.id, d.body])).toEqual([
      ['a', { n: 'a' }],
      ['b', { n: 'b' }],
      ['c', { n: 'c' }],
    ]);
    expect(store.size).toBe(0);
    expect(relay.stats).toEqual({ relayed: 3, failures: 0 });
    await transport.close();
  });

  it('stops at the first entry that fails, keeps it and the later ones, and sends them on the next pass', async () => {
    const inner = new InMemoryTransport();
    let down = true;
    const transport = refusing(inner, (message) => down && message.id === 'b');
    const store = new InMemoryOutboxStore();
    for (const id of ['a', 'b', 'c']) store.add(entry(id));
    const warnings: string[] = [];
    const relay = new OutboxRelay(transport, store, {
      logger: { error: () => undefined, warn: (m) => void warnings.push(m) },
    });
    await expect(relay.relay()).resolves.toBe(1);
    expect(store.pending(10).map((e) => e.message.id)).toEqual(['b', 'c']);
    expect(relay.stats).toEqual({ relayed: 1, failures: 1 });
    expect(warnings).toEqual([expect.stringContaining('broker unreachable')]);
    down = false;
    await expect(relay.relay()).resolves.toBe(2);
    expect(store.size).toBe(0);
    await inner.close();
  });

  it('sends what a crashed process committed: a new relay on a new transport finds it', async () => {
    const store = new InMemoryOutboxStore();
    const tx = store.begin();
    tx.add(entry('router-1:create'));
    tx.commit();
    // The first process dies before relaying. Another starts, on its own transport.
    const transport = new InMemoryTransport();
    const box = inbox();
    await transport.consume(NOTIFICATIONS, box.handler);
    const relay = new OutboxRelay(transport, store, { intervalMs: 10 });
    relay.start();
    await box.until(1);
    await relay.stop();
    expect(box.deliveries[0]!.id).toBe('router-1:create');
    await transport.close();
  });

  it('runs another pass when called during one, so an entry added meanwhile is not left behind', async () => {
    const transport = new InMemoryTransport();
    const store = new InMemoryOutboxStore();
    store.add(entry('a'));
    const relay = new OutboxRelay(transport, store);
    const first = relay.relay();
    store.add(entry('b'));
    const second = relay.relay();
    expect(await first).toBe(2);
    expect(await second).toBe(2);
    expect(store.size).toBe(0);
    await transport.close();
  });

  it('stops a pass whose store does not remove what was sent, instead of publishing it forever', async () => {
    const transport = new InMemoryTransport();
    const stuck = { pending: () => [entry('a')], remove: () => undefined };
    const relay = new OutboxRelay(transport, stuck, { logger: quiet });
    await expect(relay.relay()).resolves.toBe(1);
    expect(relay.stats.failures).toBe(1);
    await transport.close();
  });

  it.each([
    ['a transport without publish', {}, new InMemoryOutboxStore(), {}, 'transport'],
    ['a store without remove', new InMemoryTransport(), { pending: () => [] }, {}, 'store'],
    ['a zero interval', new InMemoryTransport(), new InMemoryOutboxStore(), { intervalMs: 0 }, 'options.intervalMs'],
    [
      'a fractional batch size',
      new InMemoryTransport(),
      new InMemoryOutboxStore(),
      { batchSize: 1.5 },
      'options.batchSize',
    ],
    ['a logger without error()', new InMemoryTransport(), new InMemoryOutboxStore(), { logger: {} }, 'options.logger'],
    [
      'a concurrency above 1 for a plain store',
      new InMemoryTransport(),
      new InMemoryOutboxStore(),
      { concurrency: 2 },
      'options.concurrency',
    ],
  ])('refuses %s with an InvalidError naming it', (_, transport, store, options, element) => {
    const error = invalid(
      () => new OutboxRelay(transport as Transport, store as InMemoryOutboxStore, options as object),
    );
    expect(error).toBeInstanceOf(InvalidError);
    expect(error.element).toBe(element);
  });
});

describe('OutboxRelay with a ClaimingOutboxStore', () => {
  /** A store that hands out `entries` once and records how each claim was settled. */
  function claiming(entries: OutboxEntry[]): ClaimingOutboxStore & { outcomes: OutboxOutcome[] } {
    let left = entries;
    const outcomes: OutboxOutcome[] = [];
    return {
      outcomes,
      claim: (limit) => {
        const batch = left.slice(0, limit);
        left = left.slice(limit);
        return { entries: batch, settle: (outcome) => void (batch.length > 0 && outcomes.push(outcome)) };
      },
    };
  }

  it('publishes the entries of one key one after another, and the rest without waiting for each other', async () => {
    const order: string[] = [];
    const pending = new Map<string, () => void>();
    const inner = new InMemoryTransport();
    const transport: Transport = {
      publish: (_target, message) =>
        new Promise<void>((resolve) => {
          order.push(`start ${message.id}`);
          pending.set(message.id!, () => {
            order.push(`end ${message.id}`);
            resolve();
          });
        }),
      consume: (target, handler, options) => inner.consume(target, handler, options),
      request: (target, message, options) => inner.request(target, message, options),
      close: (options) => inner.close(options),
    };
    const store = claiming([
      { ...entry('r1-a'), key: 'router:r1' },
      { ...entry('r1-b'), key: 'router:r1' },
      entry('x'),
    ]);
    const pass = new OutboxRelay(transport, store).relay();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(order).toEqual(['start r1-a', 'start x']); // r1-b waits for r1-a; x does not
    pending.get('x')!();
    pending.get('r1-a')!();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(order).toEqual(['start r1-a', 'start x', 'end x', 'end r1-a', 'start r1-b']);
    pending.get('r1-b')!();
    await expect(pass).resolves.toBe(3);
    expect(store.outcomes).toEqual([{ published: ['x', 'r1-a', 'r1-b'], failed: [] }]);
    await inner.close();
  });

  it('settles a failed entry as failed, skips the rest of its key, and still publishes the other keys', async () => {
    const inner = new InMemoryTransport();
    const transport = refusing(inner, (message) => message.id === 'r1-a');
    const store = claiming([
      { ...entry('r1-a'), key: 'router:r1' },
      { ...entry('r1-b'), key: 'router:r1' },
      { ...entry('r2'), key: 'router:r2' },
    ]);
    const relay = new OutboxRelay(transport, store, { logger: quiet });
    await expect(relay.relay()).resolves.toBe(1);
    expect(store.outcomes).toEqual([
      { published: ['r2'], failed: [{ id: 'r1-a', error: expect.any(TransportError) }] },
    ]);
    expect(relay.stats).toEqual({ relayed: 1, failures: 1 });
    await inner.close();
  });

  it('holds `concurrency` claims at once: the next batch is claimed while one is being published', async () => {
    const inner = new InMemoryTransport();
    const release: (() => void)[] = [];
    const transport: Transport = {
      publish: () => new Promise<void>((resolve) => void release.push(resolve)),
      consume: (target, handler, options) => inner.consume(target, handler, options),
      request: (target, message, options) => inner.request(target, message, options),
      close: (options) => inner.close(options),
    };
    const store = claiming(['a', 'b', 'c'].map((id) => entry(id)));
    const pass = new OutboxRelay(transport, store, { batchSize: 1, concurrency: 2 }).relay();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(release).toHaveLength(2); // a and b in flight, from two claims
    while (release.length > 0) {
      release.shift()!();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await expect(pass).resolves.toBe(3);
    expect(store.outcomes.flatMap((o) => o.published).sort()).toEqual(['a', 'b', 'c']);
    await inner.close();
  });

  it('claims at once when woken during a pass, while another loop is still publishing', async () => {
    const inner = new InMemoryTransport();
    const box = inbox();
    await inner.consume(NOTIFICATIONS, box.handler);
    let releaseSlow: () => void = () => undefined;
    const transport: Transport = {
      publish: (target, message) =>
        message.id === 'slow'
          ? new Promise<void>((resolve) => (releaseSlow = resolve)).then(() => inner.publish(target, message))
          : inner.publish(target, message),
      consume: (target, handler, options) => inner.consume(target, handler, options),
      request: (target, message, options) => inner.request(target, message, options),
      close: (options) => inner.close(options),
    };
    const entries: OutboxEntry[] = [entry('slow')];
    const store: ClaimingOutboxStore = {
      claim: (limit) => ({ entries: entries.splice(0, limit), settle: () => undefined }),
    };
    const relay = new OutboxRelay(transport, store, { batchSize: 1, concurrency: 2 });
    const pass = relay.relay(); // one loop publishes 'slow'; the other finds nothing and ends
    await new Promise((resolve) => setTimeout(resolve, 10));
    entries.push(entry('committed-meanwhile'));
    relay.wake();
    await box.until(1); // not held back until 'slow' is confirmed
    expect(box.deliveries.map((d) => d.id)).toEqual(['committed-meanwhile']);
    releaseSlow();
    await pass;
    await box.until(2);
    await inner.close();
  });

  it('is woken by the store it watches, and stops watching on stop()', async () => {
    const transport = new InMemoryTransport();
    const box = inbox();
    await transport.consume(NOTIFICATIONS, box.handler);
    const entries: OutboxEntry[] = [];
    let wake: (() => void) | undefined;
    let unwatched = false;
    const store: ClaimingOutboxStore = {
      claim: () => ({ entries: entries.splice(0), settle: () => undefined }),
      watch: (onCommit) => {
        wake = onCommit;
        return async () => void (unwatched = true);
      },
    };
    const relay = new OutboxRelay(transport, store, { intervalMs: 600_000 });
    relay.start();
    await new Promise((resolve) => setTimeout(resolve, 10));
    entries.push(entry('woken'));
    wake!();
    await box.until(1);
    await relay.stop();
    expect(unwatched).toBe(true);
    await transport.close();
  });
});

describe('RegistryBridge.outboxEntry', () => {
  it("writes an after_create in the precommit transaction; relayed later, it reaches the other process's registry", async () => {
    const transport = new InMemoryTransport();
    const store = new InMemoryOutboxStore();
    const server = new CallbackRegistry({ name: 'server' });
    const agent = new CallbackRegistry({ name: 'agent' });
    const serverBridge = new RegistryBridge(transport, { source: 'neutron-server@host-1', logger: quiet });
    const agentBridge = new RegistryBridge(transport, { source: 'l3-agent@host-2', logger: quiet });
    await agentBridge.receive(agent);
    const received: { payload: EventPayload | undefined; trigger: unknown }[] = [];
    agent.subscribe((payload, n) => void received.push({ payload, trigger: n.trigger }), ROUTER, AFTER_CREATE);

    // In the server: the precommit subscriber writes to the transaction the plugin opened.
    let tx = store.begin();
    server.subscribe(
      (payload) => tx.add(serverBridge.outboxEntry(ROUTER, AFTER_CREATE, payload)),
      ROUTER,
      PRECOMMIT_CREATE,
    );
    const router = { id: 'r1', name: 'edge' };
    await server.notify(
      ROUTER,
      PRECOMMIT_CREATE,
      'l3-plugin',
      new DBEventPayload({}, { states: [router], resourceId: 'r1' }),
    );
    tx.rollback(); // the create failed: nothing is sent
    tx = store.begin();
    await server.notify(
      ROUTER,
      PRECOMMIT_CREATE,
      'l3-plugin',
      new DBEventPayload({}, { states: [router], resourceId: 'r1' }),
    );
    tx.commit();

    await new OutboxRelay(transport, store).relay();
    await transport.idle();
    expect(received).toHaveLength(1);
    expect(received[0]!.payload).toBeInstanceOf(DBEventPayload);
    expect((received[0]!.payload as DBEventPayload<typeof router>).latestState).toEqual(router);
    expect(received[0]!.trigger).toBeInstanceOf(RemoteOrigin);
    expect(received[0]!.trigger).toMatchObject({ source: 'neutron-server@host-1' });
    await transport.close();
  });

  it('sends an entry again when its removal failed; the receiving bridge re-notifies it once', async () => {
    const transport = new InMemoryTransport();
    const store = new InMemoryOutboxStore();
    let removals = 0;
    const flaky: OutboxStore = {
      pending: (limit) => store.pending(limit),
      remove: (ids) => {
        // The process "dies" between the publish and the removal, once.
        if (removals++ === 0) throw new Error('database unreachable');
        store.remove(ids);
      },
    };
    const serverBridge = new RegistryBridge(transport, { source: 'neutron-server@host-1', logger: quiet });
    const agentBridge = new RegistryBridge(transport, { source: 'l3-agent@host-2', logger: quiet });
    const agent = new CallbackRegistry({ name: 'agent' });
    const triggers: unknown[] = [];
    agent.subscribe((_payload, n) => void triggers.push(n.trigger), ROUTER, AFTER_CREATE);
    await agentBridge.receive(agent);
    const payload = new DBEventPayload({}, { states: [{ id: 'r1' }], resourceId: 'r1' });
    store.add(serverBridge.outboxEntry(ROUTER, AFTER_CREATE, payload));
    const relay = new OutboxRelay(transport, flaky, { logger: quiet });
    await expect(relay.relay()).resolves.toBe(0); // published, not removed
    await expect(relay.relay()).resolves.toBe(1); // published again, removed
    expect(relay.stats).toEqual({ relayed: 1, failures: 1 });
    await transport.idle();
    expect(triggers).toEqual([expect.any(RemoteOrigin)]);
    expect(store.size).toBe(0);
    await transport.close();
  });

  it('refuses empty names with an InvalidError', () => {
    const bridge = new RegistryBridge(new InMemoryTransport(), { source: 's' });
    expect(invalid(() => bridge.outboxEntry('', AFTER_CREATE)).element).toBe('resource');
    expect(invalid(() => bridge.outboxEntry(ROUTER, '')).element).toBe('event');
  });
});
