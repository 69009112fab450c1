/**
 * The durable registry bridge fed from the PostgreSQL outbox, on a real RabbitMQ: writers commit
 * router updates and their events in one transaction each, two relays publish the events to the
 * durable queue of the receiving group, and only once everything is published (and the relays are
 * gone) does the receiving service start. It must get every event, once, and each router's events
 * in the order they were committed.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import { AFTER_UPDATE, CallbackRegistry, DBEventPayload, ROUTER, type EventPayload } from '@herald/core';
import { OutboxRelay, RegistryBridge, RemoteOrigin, type OutboxEntry } from '@herald/messaging';
import { AmqpTransport } from '@herald/amqp';
import { PostgresOutboxStore, withTransaction } from '../src/index.js';
import { databaseUrl, useDatabase } from './database.js';

/** The broker (set by the global setup), or `undefined` when there is none: the test is skipped. */
const brokerUrl = process.env.HERALD_POSTGRES_AMQP_URL;
const describeWithBoth = brokerUrl === undefined || databaseUrl === undefined ? describe.skip : describe;

const quiet = { error: () => undefined, warn: () => undefined };
/** Every process on one namespace must declare the group's queue with the same arguments. */
const QUEUE_EXPIRES_MS = 120_000;
const ROUTERS = 8;
const UPDATES = 400;
const WRITERS = 4;
const GROUP = 'l3-agent';

async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: () => string,
): Promise<void> {
  for (const started = Date.now(); !(await check()); await new Promise((resolve) => setTimeout(resolve, 20))) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what()}`);
  }
}

describeWithBoth('the durable bridge fed from the outbox (PostgreSQL + RabbitMQ)', () => {
  const db = useDatabase();
  let closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
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

  it('a receiving service that starts after the relay still gets every event, once, each router in commit order', async () => {
    const namespace = `test-outbox-bridge-${randomUUID().slice(0, 8)}`;
    const routers = `"${db.schema}".routers`;
    await db.pool.query(`CREATE TABLE ${routers} (id text PRIMARY KEY, revision int NOT NULL)`);
    await db.pool.query(`INSERT INTO ${routers} SELECT 'r' || n, 0 FROM generate_series(0, $1 - 1) AS n`, [ROUTERS]);
    const store = new PostgresOutboxStore(db.pool, { schema: db.schema, logger: quiet });

    // The server side: the bridge only builds the events; the outbox carries them.
    const serverTransport = await connect(namespace);
    const serverBridge = new RegistryBridge(serverTransport, { source: 'neutron-server@host-1', logger: quiet });
    closers.push(() => serverBridge.close());
    // WRITERS concurrent loops; each transaction bumps one router's revision (its row lock orders
    // the writers of one router) and adds the event, keyed by router, in the same transaction.
    let next = 0;
    const write = (until: number) =>
      Promise.all(
        Array.from({ length: WRITERS }, async () => {
          while (next < until) {
            const n = next++;
            await withTransaction(db.pool, async (tx) => {
              const id = `r${(n * 7) % ROUTERS}`;
              const { rows } = await tx.query(
                `UPDATE ${routers} SET revision = revision + 1 WHERE id = $1 RETURNING revision`,
                [id],
              );
              const payload = new DBEventPayload(
                { tenantId: 't1' },
                { resourceId: id, states: [{ id, revision: rows[0]!.revision as number }] },
              );
              const entries: OutboxEntry[] = serverBridge
                .outboxEntries(ROUTER, AFTER_UPDATE, payload, [GROUP])
                .map((entry) => ({ ...entry, key: `router:${id}` }));
              await store.add(tx, entries);
            });
          }
        }),
      );
    // A backlog first (the relays claim it in several batches at once), then a stream while they run.
    await write(UPDATES / 2);
    const relays = await Promise.all(
      [1, 2].map(async () => {
        // Two relays on connections of their own, as two server processes would run them.
        const relay = new OutboxRelay(await connect(namespace), store, {
          batchSize: 20,
          concurrency: 2,
          intervalMs: 50,
          logger: quiet,
        });
        relay.start();
        closers.push(() => relay.stop());
        return relay;
      }),
    );

    await write(UPDATES);
    await eventually(
      async () => (await store.pendingCount()) === 0,
      30_000,
      () => 'the relays to publish everything',
    );
    // The relays' processes go away before the receiver exists: what they published is on the broker.
    await Promise.all(relays.map((relay) => relay.stop()));
    await serverTransport.close({ drainMs: 0 });
    expect(relays.reduce((sum, relay) => sum + relay.stats.relayed, 0)).toBe(UPDATES);

    // The receiving service starts now: a registry with its subscribers, and the bridge receiver.
    const received: { source: string; eventId: string; router: string; revision: number }[] = [];
    const classes = new Set<string>();
    const registry = new CallbackRegistry();
    registry.subscribe(
      (payload: EventPayload | undefined, { trigger }) => {
        const event = payload as DBEventPayload<{ id: string; revision: number }>;
        classes.add(event.constructor.name);
        const origin = trigger as RemoteOrigin;
        received.push({
          source: origin.source,
          eventId: origin.eventId,
          router: event.resourceId as string,
          revision: event.latestState!.revision,
        });
      },
      ROUTER,
      AFTER_UPDATE,
    );
    const audited: string[] = [];
    registry.subscribe(
      (payload: EventPayload | undefined) => void audited.push(String(payload?.resourceId)),
      ROUTER,
      AFTER_UPDATE,
    );
    const agentBridge = new RegistryBridge(await connect(namespace), { source: `${GROUP}@host-2`, logger: quiet });
    closers.push(() => agentBridge.close());
    await agentBridge.receive(registry, { group: GROUP });
    await eventually(
      () => received.length >= UPDATES,
      30_000,
      () => `${UPDATES} events at the receiver (${received.length} came)`,
    );
    // Let a late duplicate show itself before counting.
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(received).toHaveLength(UPDATES);
    expect(new Set(received.map((r) => r.eventId)).size).toBe(UPDATES);
    expect(new Set(received.map((r) => r.source))).toEqual(new Set(['neutron-server@host-1']));
    expect([...classes]).toEqual(['DBEventPayload']);
    expect(audited).toHaveLength(UPDATES);
    // Each router's revisions arrive 1, 2, 3, …: its commit order, none missing, none twice.
    const byRouter = new Map<string, number[]>();
    for (const { router, revision } of received) byRouter.set(router, [...(byRouter.get(router) ?? []), revision]);
    const { rows } = await db.pool.query(`SELECT id, revision FROM ${routers}`);
    expect(byRouter.size).toBe(ROUTERS);
    for (const row of rows) {
      const revisions = Array.from({ length: row.revision as number }, (_, i) => i + 1);
      expect({ router: row.id, revisions: byRouter.get(row.id as string) }).toEqual({ router: row.id, revisions });
    }
  }, 120_000);
});
