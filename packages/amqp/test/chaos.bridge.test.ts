/**
 * The chaos suite, on a broker node of this file's own (see own-broker.ts) that the tests restart,
 * kill and hobble; each test prints its figures.
 *
 * - The durable registry bridge: events forwarded to a slow receiving group while the node does
 *   `stop_app`/`start_app`, and while it is killed with SIGKILL and started again. Expected: 0
 *   events lost, each event re-notified once (a redelivered copy is dropped by the `seen` store,
 *   and counted), and the receiver still consuming afterwards.
 * - A quorum queue without a leader (its Raft server suspended): `consume` gives up after
 *   `connectTimeoutMs` with a `QueueUnavailableError` naming it, and `publish` with a
 *   `TransportError` (not confirmed), instead of hanging; a consumer the broker refuses to start
 *   again keeps trying until it may.
 * - Broker users (AMQP `user_id`, users made with rabbitmqctl and deleted after): a bridge that
 *   ties a source to a user dead-letters an event another user published for it; the user
 *   survives a retry and a replay; the broker refuses a forged `user_id`.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AFTER_CREATE, CallbackRegistry, DBEventPayload, ROUTER, type EventPayload } from '@herald/core';
import {
  DeadLetterError,
  RegistryBridge,
  TransportError,
  RemoteOrigin,
  type Delivery,
  type SeenEvents,
} from '@herald/messaging';
import { AmqpTransport, QueueUnavailableError } from '../src/index.js';
import { describeWithOwnBroker, ownBroker, type OwnBroker } from './own-broker.js';

const quiet = { error: () => undefined, warn: () => undefined };
const amqplib = createRequire(import.meta.url)('amqplib') as typeof import('amqplib');
const EVENTS = 1_000;
/** The slow receiver's time per event. */
const HANDLER_MS = 2;

function router(i: number): DBEventPayload<{ id: string }> {
  return new DBEventPayload({ tenantId: 't1' }, { states: [{ id: `r${i}` }], resourceId: `r${i}` });
}

/** Resolves once `done()` holds, checking every 20 ms; rejects after `timeoutMs` with `describe()`. */
async function until(done: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A `seen` store in memory (the receiving process lives on; only the broker restarts). */
function memorySeen(): SeenEvents {
  const keys = new Set<string>();
  return {
    has: (source, id) => keys.has(`${source} ${id}`),
    add: (source, id) => void keys.add(`${source} ${id}`),
  };
}

describeWithOwnBroker(
  'on a broker of its own: the durable bridge across restarts, queues without a leader, broker users',
  () => {
    const broker = ownBroker();

    /**
     * Forwards {@link EVENTS} router creations at about 1,000 a second to the group `slow`, runs
     * `disrupt` once a third of them were notified, and waits for the receiver to have every one;
     * prints and checks the figures.
     */
    async function scenario(
      name: string,
      disrupt: (node: OwnBroker) => Promise<void>,
      beforeStream: (node: OwnBroker) => Promise<void> = async () => undefined,
    ): Promise<void> {
      const url = broker.current().url;
      const namespace = `chaos-bridge-${randomUUID()}`;
      const transports: AmqpTransport[] = [];
      // What the transports and bridges logged, shown when the scenario times out.
      const logged: string[] = [];
      const logger = {
        error: (message: string) => void logged.push(message),
        warn: (message: string) => void logged.push(message),
      };
      // The receiver's transport keeps no window of handled ids: the bridge's seen store is what
      // drops a copy delivered again.
      const connect = async (deduplicationWindow?: number) => {
        const transport = await AmqpTransport.connect({ url, namespace, logger, deduplicationWindow });
        transports.push(transport);
        return transport;
      };
      const sender = new RegistryBridge(await connect(), { source: 'neutron-server@host-1', logger });
      const receiver = new RegistryBridge(await connect(0), { source: 'l3-agent@host-2', logger });
      try {
        const registry = new CallbackRegistry();
        sender.forward(registry, { resources: [ROUTER], groups: ['slow'] });
        const handled: string[] = [];
        const agent = new CallbackRegistry();
        agent.subscribe(
          async (payload: EventPayload | undefined, { trigger }) => {
            await new Promise((resolve) => setTimeout(resolve, HANDLER_MS));
            handled.push(`${(trigger as RemoteOrigin).eventId} ${String(payload!.resourceId)}`);
          },
          ROUTER,
          AFTER_CREATE,
        );
        await receiver.receive(agent, { group: 'slow', seen: memorySeen() });
        // The first event declares the group's queue.
        await registry.notify(ROUTER, AFTER_CREATE, 'l3', router(-1));
        await sender.flush();
        await until(
          () => handled.length === 1,
          20_000,
          () => 'the first event was not handled',
        );
        handled.length = 0;
        await beforeStream(broker.current());

        const started = Date.now();
        let disrupted: Promise<number> | undefined;
        for (let i = 0; i < EVENTS; i++) {
          await registry.notify(ROUTER, AFTER_CREATE, 'l3', router(i));
          if (i === Math.floor(EVENTS / 3)) {
            const begun = Date.now();
            disrupted = disrupt(broker.current()).then(() => Date.now() - begun);
          }
          if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 10));
        }
        const outageMs = await disrupted!;
        await sender.flush();
        const forwardMs = Date.now() - started;
        const resources = () => new Set(handled.map((line) => line.split(' ')[1]));
        await until(
          () => resources().size >= EVENTS,
          60_000,
          () =>
            `${EVENTS - resources().size} of ${EVENTS} events not handled; ${JSON.stringify(receiver.stats)}; logged: ${logged.slice(-5).join(' | ')}`,
        );
        // Not stalled: an event sent after everything else still comes through.
        await registry.notify(ROUTER, AFTER_CREATE, 'l3', router(EVENTS));
        await until(
          () => resources().has(`r${EVENTS}`),
          20_000,
          () => `the receiver stalled; logged: ${logged.slice(-5).join(' | ')}`,
        );
        // Let a late redelivery show itself before counting.
        await new Promise((resolve) => setTimeout(resolve, 300));
        const distinct = resources().size - 1;
        const stats = receiver.stats;
        console.log(
          `[chaos] durable bridge, ${name}: ${EVENTS} events, broker out for ${outageMs} ms; ` +
            `forwarded ${sender.stats.forwarded} (${sender.stats.forwardRetries} retries, ${sender.stats.forwardFailures} failures) in ${forwardMs} ms; ` +
            `slow receiver (${HANDLER_MS} ms per event): ${distinct}/${EVENTS} distinct, ${EVENTS - distinct} lost, ` +
            `${handled.length - distinct - 1} re-notified twice, ${stats.duplicates} redelivered copies dropped by the seen store, ` +
            `all handled ${Date.now() - started} ms after the first`,
        );
        expect(distinct).toBe(EVENTS);
        expect(handled.length).toBe(EVENTS + 1); // each event re-notified once
        expect(sender.stats).toMatchObject({ forwarded: EVENTS + 2, forwardFailures: 0 });
        expect(stats.rejected).toBe(0);
      } finally {
        await receiver.close();
        await sender.close();
        for (const transport of transports) await transport.close({ drainMs: 0 });
      }
    }

    it('loses no event across stop_app and start_app, each re-notified once', async () => {
      await scenario('stop_app/start_app', async (node) => {
        await node.rabbitmqctl('stop_app');
        await node.rabbitmqctl('start_app');
      });
    }, 90_000);

    it('loses no event across kill -9 of the broker and its restart, each re-notified once', async () => {
      await scenario(
        'kill -9 and restart',
        async (node) => {
          await node.kill();
          await node.restart();
        },
        // RabbitMQ 3.10 writes its queue and binding records down lazily: a queue declared moments
        // before a kill -9 can come back empty, or without a leader. A clean restart of the
        // application writes them down, so that the kill tests what Herald does, not that.
        async (node) => {
          await node.rabbitmqctl('stop_app');
          await node.rabbitmqctl('start_app');
        },
      );
    }, 90_000);

    /** Suspends (or resumes) the Raft server of quorum queue `queue` in vhost `/`: it has no leader meanwhile. */
    async function hobble(queue: string, how: 'suspend' | 'resume'): Promise<void> {
      const name = queue.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
      await broker
        .current()
        .rabbitmqctl(
          'eval',
          `{ok, Q} = rabbit_amqqueue:lookup(rabbit_misc:r(<<"/">>, queue, <<"${name}">>)), {Name, _} = amqqueue:get_pid(Q), sys:${how}(whereis(Name)).`,
        );
    }

    it('gives up on a quorum queue without a leader after connectTimeoutMs: consume with QueueUnavailableError naming it, publish unconfirmed', async () => {
      const namespace = `chaos-leaderless-${randomUUID()}`;
      const connectTimeoutMs = 2_000;
      const transport = await AmqpTransport.connect({ url: broker.current().url, namespace, connectTimeoutMs });
      const queue = `${namespace}.topic.billing audit`;
      let hobbled = false;
      try {
        await (await transport.consume({ topic: 'billing' }, () => undefined, { group: 'audit' })).close();
        await hobble(queue, 'suspend');
        hobbled = true;
        const started = Date.now();
        const error = await transport
          .consume({ topic: 'billing' }, () => undefined, { group: 'audit' })
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        const waitedMs = Date.now() - started;
        // A publish the queue must confirm is not held for ever either.
        const publishStarted = Date.now();
        const unconfirmed = await transport.publish({ topic: 'billing' }, { id: 'held', body: 'held' }).then(
          () => undefined,
          (e: unknown) => e,
        );
        const publishWaitedMs = Date.now() - publishStarted;
        await hobble(queue, 'resume');
        hobbled = false;
        console.log(
          `[chaos] queue without a leader: consume rejected after ${waitedMs} ms: ${String(error)}; publish rejected after ${publishWaitedMs} ms: ${String(unconfirmed)}`,
        );
        expect(unconfirmed).toBeInstanceOf(TransportError);
        expect((unconfirmed as Error).message).toMatch(/did not confirm message held to billing within 2000 ms/);
        expect(publishWaitedMs).toBeLessThan(connectTimeoutMs + 5_000);
        expect(error).toBeInstanceOf(QueueUnavailableError);
        expect(error).toMatchObject({ queue, waitedMs: connectTimeoutMs });
        expect(waitedMs).toBeLessThan(connectTimeoutMs + 5_000);
        // The transport and the queue are fine once it has a leader again.
        const handled: unknown[] = [];
        await transport.consume({ topic: 'billing' }, (d) => void handled.push(d.body), { group: 'audit' });
        await transport.publish({ topic: 'billing' }, { body: 'after' });
        await until(
          () => handled.includes('after'),
          10_000,
          () => 'nothing handled after the queue came back',
        );
      } finally {
        if (hobbled) await hobble(queue, 'resume');
        await transport.close({ drainMs: 0 });
      }
    }, 60_000);

    describe('broker users (AMQP user_id)', () => {
      const users = {
        neutron: `neutron-${randomUUID()}`,
        mallory: `mallory-${randomUUID()}`,
        audit: `audit-${randomUUID()}`,
      };
      beforeAll(async () => {
        for (const user of Object.values(users)) {
          await broker.current().rabbitmqctl('add_user', user, 'secret');
          await broker.current().rabbitmqctl('set_permissions', '-p', '/', user, '.*', '.*', '.*');
        }
      }, 60_000);
      afterAll(async () => {
        for (const user of Object.values(users)) await broker.current().rabbitmqctl('delete_user', user);
      }, 60_000);
      const urlOf = (user: string) => broker.current().url.replace('guest:guest', `${user}:secret`);

      it('dead-letters an event whose broker user is not the one its source is tied to, with the reason', async () => {
        const namespace = `chaos-users-${randomUUID()}`;
        const transports: AmqpTransport[] = [];
        const connect = async (url: string) => {
          const transport = await AmqpTransport.connect({ url, namespace, logger: quiet });
          transports.push(transport);
          return transport;
        };
        try {
          const agent = new CallbackRegistry();
          const handled: string[] = [];
          agent.subscribe(
            (payload: EventPayload | undefined) => void handled.push(String(payload!.resourceId)),
            ROUTER,
            AFTER_CREATE,
          );
          const receiver = new RegistryBridge(await connect(broker.current().url), {
            source: 'l3-agent@host-2',
            logger: quiet,
            trustedUsers: { 'neutron-server@*': users.neutron },
          });
          await receiver.receive(agent, { group: 'agent' });
          for (const [user, id] of [
            [users.neutron, 'from-neutron'],
            [users.mallory, 'from-mallory'],
          ] as const) {
            const registry = new CallbackRegistry();
            const sender = new RegistryBridge(await connect(urlOf(user)), {
              source: 'neutron-server@host-1',
              logger: quiet,
            });
            sender.forward(registry, { resources: [ROUTER], groups: ['agent'] });
            await registry.notify(ROUTER, AFTER_CREATE, 'l3', new DBEventPayload({}, { resourceId: id }));
            await sender.flush();
          }
          const letters = async () => transports[0]!.deadLetters();
          await until(
            () => handled.length === 1,
            10_000,
            () => `handled: ${handled.join(',')}`,
          );
          let dead = await letters();
          for (const started = Date.now(); dead.length === 0 && Date.now() - started < 10_000; dead = await letters()) {
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          console.log(
            `[chaos] broker users: handled ${handled.join(',')}; dead-lettered: ${dead.map((l) => l.error).join(' | ')}`,
          );
          expect(handled).toEqual(['from-neutron']);
          expect(dead).toHaveLength(1);
          expect(dead[0]!.delivery.brokerUser).toBe(users.mallory);
          expect(dead[0]!.error).toMatch(
            new RegExp(
              `that source publishes as broker user '${users.neutron}', but broker user '${users.mallory}' published it`,
            ),
          );
        } finally {
          for (const transport of transports) await transport.close({ drainMs: 0 });
        }
      }, 60_000);

      it('keeps the publisher user across a retry and a replay, and the broker refuses a forged user_id', async () => {
        const namespace = `chaos-users-${randomUUID()}`;
        const consumer = await AmqpTransport.connect({ url: broker.current().url, namespace, logger: quiet });
        const publisher = await AmqpTransport.connect({ url: urlOf(users.neutron), namespace, logger: quiet });
        const forger = await amqplib.connect(urlOf(users.mallory));
        try {
          const seen: Delivery[] = [];
          let failing = true;
          await consumer.consume(
            { topic: 'billing' },
            (delivery) => {
              seen.push(delivery);
              if (failing && delivery.attempt === 1) throw new Error('once');
              if (failing) throw new DeadLetterError('to the dead letters');
            },
            { group: 'audit' },
          );
          await publisher.publish({ topic: 'billing' }, { id: 'm1', body: 1 });
          await until(
            () => seen.length === 2,
            10_000,
            () => `${seen.length} deliveries`,
          );
          for (const started = Date.now(); (await consumer.deadLetters()).length === 0;) {
            if (Date.now() - started > 10_000) throw new Error('no dead letter');
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          failing = false;
          expect(await consumer.replayDeadLetters()).toBe(1);
          await until(
            () => seen.length === 3,
            10_000,
            () => `${seen.length} deliveries`,
          );
          expect(seen.map((d) => [d.attempt, d.brokerUser])).toEqual([
            [1, users.neutron],
            [2, users.neutron],
            [1, users.neutron],
          ]);

          // A raw client connected as mallory claims to be neutron: the broker closes its channel.
          const channel = await forger.createConfirmChannel();
          const closed = new Promise<Error>((resolve) => channel.once('error', resolve));
          channel.publish(namespace, 'topic.billing', Buffer.from('2'), { messageId: 'forged', userId: users.neutron });
          const refusal = await closed;
          console.log(`[chaos] forged user_id: ${refusal.message}`);
          expect(refusal.message).toMatch(
            new RegExp(
              `PRECONDITION_FAILED - user_id property set to '${users.neutron}' but authenticated user was '${users.mallory}'`,
            ),
          );
          await new Promise((resolve) => setTimeout(resolve, 300));
          expect(seen.map((d) => d.id)).toEqual(['m1', 'm1', 'm1']);
        } finally {
          await forger.close().catch(() => undefined);
          await publisher.close({ drainMs: 0 });
          await consumer.close({ drainMs: 0 });
        }
      }, 60_000);

      it('keeps trying to consume again while the broker refuses the queue, and consumes once allowed', async () => {
        const namespace = `chaos-recovery-${randomUUID()}`;
        const queue = `${namespace}.topic.billing audit`;
        const warnings: string[] = [];
        const transport = await AmqpTransport.connect({
          url: urlOf(users.audit),
          namespace,
          logger: { error: (m) => void warnings.push(m), warn: (m) => void warnings.push(m) },
        });
        const admin = await amqplib.connect(broker.current().url);
        const retries = () => warnings.filter((w) => w.includes('trying again'));
        try {
          const handled: unknown[] = [];
          await transport.consume({ topic: 'billing' }, (d) => void handled.push(d.body), { group: 'audit' });
          // The user may no longer declare queues: deleting its queue cancels its consumer, and the
          // declaration of the new one is refused.
          await broker.current().rabbitmqctl('set_permissions', '-p', '/', users.audit, '^$', '.*', '.*');
          await (await admin.createChannel()).deleteQueue(queue);
          await until(
            () => retries().length >= 2,
            10_000,
            () => `warnings: ${warnings.join(' | ')}`,
          );
          await broker.current().rabbitmqctl('set_permissions', '-p', '/', users.audit, '.*', '.*', '.*');
          // Back once its next try declared the queue and consumes it.
          const consumers = async (): Promise<number> => {
            const channel = await admin.createChannel();
            channel.on('error', () => undefined);
            return channel.checkQueue(queue).then(
              ({ consumerCount }) => consumerCount,
              () => 0,
            );
          };
          for (const started = Date.now(); (await consumers()) === 0;) {
            if (Date.now() - started > 15_000) throw new Error(`the consumer stayed stopped: ${warnings.join(' | ')}`);
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          await transport.publish({ topic: 'billing' }, { body: 'after' });
          await until(
            () => handled.length === 1,
            15_000,
            () => `the consumer stayed stopped; warnings: ${warnings.join(' | ')}`,
          );
          console.log(`[chaos] consumer refused its queue: ${retries().length} retries, then consuming again`);
          expect(retries()[0]).toMatch(/ACCESS_REFUSED/);
        } finally {
          await admin.close().catch(() => undefined);
          await transport.close({ drainMs: 0 });
        }
      }, 60_000);
    });
  },
);
