import { describe, expect, it } from '@jest/globals';
import { InvalidError, type Logger } from '@herald/core';
import {
  CallTimeoutError,
  DeadLetterError,
  DEFAULT_DEDUPLICATION_WINDOW,
  InMemoryTransport,
  isTopicName,
  RemoteError,
  TransportError,
  type Delivery,
  type Target,
} from '../src/index.js';
import { expectInvalid, gate, inbox, rejectionOf, transportContract, turns } from './transport.contract.js';

transportContract('InMemoryTransport', () => new InMemoryTransport());

const TOPIC: Target = { topic: 'dhcp_agent' };
const HOST_1: Target = { topic: 'dhcp_agent', server: 'host-1' };

/** A logger that keeps its lines. */
function recordingLogger(): Logger & { lines: [string, string][] } {
  const lines: [string, string][] = [];
  return {
    lines,
    error: (message) => lines.push(['error', message]),
    warn: (message) => lines.push(['warn', message]),
  };
}

/** Runs `test` with a fresh transport, and closes it. */
async function withTransport(
  test: (transport: InMemoryTransport) => Promise<void>,
  transport = new InMemoryTransport(),
): Promise<void> {
  try {
    await test(transport);
  } finally {
    await transport.close({ drainMs: 0 });
  }
}

describe('InMemoryTransport', () => {
  describe('dead letters', () => {
    it('keeps the message that failed on every delivery, with its last error, and logs a warning', async () => {
      const logger = recordingLogger();
      await withTransport(async (transport) => {
        await transport.consume(
          TOPIC,
          (d) => {
            throw new Error(`failure ${d.attempt}`);
          },
          { group: 'workers', deliveryLimit: 2 },
        );
        await transport.publish(TOPIC, { id: 'm-1', headers: { h: 'v' }, body: { port: 'p-1' } });
        await transport.idle();
        expect(transport.deadLetters()).toEqual([
          {
            target: TOPIC,
            group: 'workers',
            delivery: { id: 'm-1', target: TOPIC, headers: { h: 'v' }, body: { port: 'p-1' }, attempt: 2 },
            error: 'failure 2',
          },
        ]);
        expect(logger.lines).toEqual([
          ['warn', 'Message m-1 to dhcp_agent (group workers) dead-lettered after 2 deliveries: failure 2'],
        ]);
      }, new InMemoryTransport({ logger }));
    });

    it('dead-letters at once, with its reason, a delivery whose handler throws DeadLetterError', async () => {
      await withTransport(async (transport) => {
        const attempts: number[] = [];
        await transport.consume(
          TOPIC,
          (d) => {
            attempts.push(d.attempt);
            throw new DeadLetterError('body is null: not a Herald message');
          },
          { group: 'workers', deliveryLimit: 5 },
        );
        await transport.publish(TOPIC, { id: 'm-2', body: null });
        await transport.idle();
        expect(attempts).toEqual([1]);
        expect(transport.deadLetters().map((l) => [l.delivery.id, l.error])).toEqual([
          ['m-2', 'body is null: not a Herald message'],
        ]);
      });
    });

    it('has no group for a server message, and records what a non-Error throw was', async () => {
      await withTransport(async (transport) => {
        await transport.consume(HOST_1, () => Promise.reject('plain string'), { deliveryLimit: 1 });
        await transport.publish(HOST_1, { body: null });
        await transport.idle();
        expect(transport.deadLetters()).toMatchObject([{ target: HOST_1, group: undefined, error: 'plain string' }]);
      });
    });

    it('takes the delivery limit from the transport, unless the consumer sets one', async () => {
      await withTransport(
        async (transport) => {
          const box = inbox(() => {
            throw new Error('no');
          });
          await transport.consume(TOPIC, box.handler);
          await transport.consume(TOPIC, box.handler, { group: 'patient', deliveryLimit: 3 });
          await transport.publish(TOPIC, { body: 1 });
          await transport.idle();
          expect(transport.deadLetters().map((l) => [l.group, l.delivery.attempt])).toEqual([
            ['dhcp_agent', 2],
            ['patient', 3],
          ]);
        },
        new InMemoryTransport({ deliveryLimit: 2 }),
      );
    });

    it('logs at error level for a logger without warn, and survives a logger that throws', async () => {
      const lines: string[] = [];
      for (const logger of [
        { error: (message: string) => lines.push(message) },
        {
          error: () => {
            throw new Error('logger down');
          },
        },
      ]) {
        await withTransport(async (transport) => {
          await transport.consume(TOPIC, () => Promise.reject(new Error('bad')), { deliveryLimit: 1 });
          await transport.publish(TOPIC, { id: 'x', body: 1 });
          await transport.idle();
          expect(transport.deadLetters()).toHaveLength(1);
        }, new InMemoryTransport({ logger }));
      }
      expect(lines).toEqual(['Message x to dhcp_agent (group dhcp_agent) dead-lettered after 1 deliveries: bad']);
    });

    it('returns a copy of the list', async () => {
      await withTransport(async (transport) => {
        const letters = transport.deadLetters() as unknown[];
        letters.push('x');
        expect(transport.deadLetters()).toEqual([]);
      });
    });
  });

  describe('idle', () => {
    it('resolves at once when nothing is queued or running', async () => {
      await withTransport(async (transport) => {
        await expect(transport.idle()).resolves.toBeUndefined();
      });
    });

    it('waits for handlers, and for the messages they publish', async () => {
      await withTransport(async (transport) => {
        const seen: unknown[] = [];
        await transport.consume(TOPIC, async (d) => {
          await turns(2);
          seen.push(d.body);
          if (typeof d.body === 'number' && d.body < 3) await transport.publish(TOPIC, { body: d.body + 1 });
        });
        await transport.publish(TOPIC, { body: 1 });
        await transport.idle();
        expect(seen).toEqual([1, 2, 3]);
      });
    });

    it('does not wait for messages that no consumer can take', async () => {
      await withTransport(async (transport) => {
        await transport.publish(TOPIC, { body: 'waits for a consumer' });
        await transport.idle();
        const box = inbox();
        await transport.consume(TOPIC, box.handler);
        await transport.idle();
        expect(box.bodies()).toEqual(['waits for a consumer']);
      });
    });

    it('waits for redeliveries', async () => {
      await withTransport(async (transport) => {
        const box = inbox((d) => {
          if (d.attempt < 3) throw new Error('again');
        });
        await transport.consume(TOPIC, box.handler);
        await transport.publish(TOPIC, { body: 'x' });
        await transport.idle();
        expect(box.deliveries.map((d) => d.attempt)).toEqual([1, 2, 3]);
      });
    });
  });

  describe('turns', () => {
    it('hands the messages of a group to its consumers strictly in turn', async () => {
      await withTransport(async (transport) => {
        const [a, b, c] = [inbox(), inbox(), inbox()];
        for (const box of [a, b, c]) await transport.consume(TOPIC, box.handler);
        for (const n of [1, 2, 3, 4, 5, 6, 7]) await transport.publish(TOPIC, { body: n });
        await transport.idle();
        expect([a.bodies(), b.bodies(), c.bodies()]).toEqual([
          [1, 4, 7],
          [2, 5],
          [3, 6],
        ]);
      });
    });

    it('puts a failed message back at the head of its queue', async () => {
      await withTransport(async (transport) => {
        const box = inbox((d) => {
          if (d.body === 'x' && d.attempt === 1) throw new Error('once');
        });
        await transport.consume(TOPIC, box.handler);
        for (const body of ['x', 'y', 'z']) await transport.publish(TOPIC, { body });
        await transport.idle();
        expect(box.deliveries.map((d) => [d.body, d.attempt])).toEqual([
          ['x', 1],
          ['x', 2],
          ['y', 1],
          ['z', 1],
        ]);
      });
    });

    it('gives a failed message to the next consumer in turn', async () => {
      await withTransport(async (transport) => {
        const a = inbox(() => {
          throw new Error('a fails');
        });
        const b = inbox();
        await transport.consume(TOPIC, a.handler);
        await transport.consume(TOPIC, b.handler);
        await transport.publish(TOPIC, { body: 'x' });
        await transport.idle();
        expect(a.deliveries.map((d) => d.attempt)).toEqual([1]);
        expect(b.deliveries.map((d) => d.attempt)).toEqual([2]);
      });
    });

    it('keeps the turn when a consumer leaves', async () => {
      await withTransport(async (transport) => {
        const [a, b, c] = [inbox(), inbox(), inbox()];
        const consumers = [];
        for (const box of [a, b, c]) consumers.push(await transport.consume(TOPIC, box.handler));
        await transport.publish(TOPIC, { body: 1 });
        await transport.idle();
        await consumers[0]!.close();
        for (const n of [2, 3, 4]) await transport.publish(TOPIC, { body: n });
        await transport.idle();
        expect([a.bodies(), b.bodies(), c.bodies()]).toEqual([[1], [2, 4], [3]]);
      });
    });
  });

  describe('deduplication', () => {
    it(`remembers the last ${DEFAULT_DEDUPLICATION_WINDOW} ids per queue by default`, async () => {
      await withTransport(async (transport) => {
        const box = inbox();
        await transport.consume(TOPIC, box.handler);
        for (let i = 0; i <= DEFAULT_DEDUPLICATION_WINDOW; i++) {
          void transport.publish(TOPIC, { id: `id-${i}`, body: i });
        }
        await transport.idle();
        await transport.publish(TOPIC, { id: 'id-1', body: 'remembered' });
        await transport.publish(TOPIC, { id: 'id-0', body: 'forgotten' });
        await transport.idle();
        expect(box.deliveries).toHaveLength(DEFAULT_DEDUPLICATION_WINDOW + 2);
        expect(box.bodies().at(-1)).toBe('forgotten');
      });
    });

    it('forgets the oldest id beyond the window set', async () => {
      await withTransport(
        async (transport) => {
          const box = inbox();
          await transport.consume(TOPIC, box.handler);
          for (const id of ['a', 'b', 'c', 'a', 'b', 'c']) await transport.publish(TOPIC, { id, body: id });
          await transport.idle();
          expect(box.bodies()).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
        },
        new InMemoryTransport({ deduplicationWindow: 2 }),
      );
    });

    it('forgets ids in the order it first handled them: a duplicate does not refresh one', async () => {
      await withTransport(
        async (transport) => {
          const box = inbox();
          await transport.consume(TOPIC, box.handler);
          for (const id of ['a', 'b', 'a', 'c', 'a', 'c']) await transport.publish(TOPIC, { id, body: id });
          await transport.idle();
          expect(box.bodies()).toEqual(['a', 'b', 'c', 'a']);
        },
        new InMemoryTransport({ deduplicationWindow: 2 }),
      );
    });

    it('is off with a window of 0', async () => {
      await withTransport(
        async (transport) => {
          const box = inbox();
          await transport.consume(TOPIC, box.handler);
          for (const id of ['a', 'a']) await transport.publish(TOPIC, { id, body: id });
          await transport.idle();
          expect(box.bodies()).toEqual(['a', 'a']);
        },
        new InMemoryTransport({ deduplicationWindow: 0 }),
      );
    });

    it('retries a failed message before the copy that waited for it, which is then dropped', async () => {
      await withTransport(async (transport) => {
        const held = gate();
        const box = inbox(async (d) => {
          if (d.body !== 'first' || d.attempt > 1) return;
          await held.promise;
          throw new Error('once');
        });
        await transport.consume(TOPIC, box.handler);
        await transport.consume(TOPIC, box.handler);
        await transport.publish(TOPIC, { id: 'same', body: 'first' });
        await box.until(1);
        await transport.publish(TOPIC, { id: 'same', body: 'again' });
        await transport.publish(TOPIC, { id: 'other', body: 'marker' });
        await box.until(2);
        held.open();
        await transport.idle();
        expect(box.deliveries.map((d) => [d.body, d.attempt])).toEqual([
          ['first', 1],
          ['marker', 1],
          ['first', 2],
        ]);
      });
    });

    it('holds copies per queue: another group handles its own copy at the same time', async () => {
      await withTransport(async (transport) => {
        const held = gate();
        const [shared, audit] = [inbox(() => held.promise), inbox()];
        await transport.consume(TOPIC, shared.handler);
        await transport.consume(TOPIC, shared.handler);
        await transport.consume(TOPIC, audit.handler, { group: 'audit' });
        await transport.publish(TOPIC, { id: 'same', body: 1 });
        await transport.publish(TOPIC, { id: 'same', body: 2 });
        await audit.until(1);
        await turns();
        expect(shared.bodies()).toEqual([1]);
        expect(audit.bodies()).toEqual([1]);
        held.open();
        await transport.idle();
        expect(shared.bodies()).toEqual([1]);
        expect(audit.bodies()).toEqual([1]);
      });
    });

    it('holds no copy with a window of 0: consumers handle one id at the same time', async () => {
      await withTransport(
        async (transport) => {
          const held = gate();
          const box = inbox(() => held.promise);
          await transport.consume(TOPIC, box.handler);
          await transport.consume(TOPIC, box.handler);
          await transport.publish(TOPIC, { id: 'same', body: 1 });
          await transport.publish(TOPIC, { id: 'same', body: 2 });
          await box.until(2);
          held.open();
          await transport.idle();
          expect(box.bodies()).toEqual([1, 2]);
        },
        new InMemoryTransport({ deduplicationWindow: 0 }),
      );
    });

    it('does not apply to requests', async () => {
      await withTransport(async (transport) => {
        let calls = 0;
        await transport.consume(TOPIC, () => ++calls);
        await transport.publish(TOPIC, { id: 'same', body: 'cast' });
        const first = await transport.request(TOPIC, { id: 'same', body: 'call' }, { timeoutMs: 1000 });
        const second = await transport.request(TOPIC, { id: 'same', body: 'call' }, { timeoutMs: 1000 });
        expect([first.body, second.body]).toEqual([2, 3]);
      });
    });
  });

  describe('requests', () => {
    it('replies with the request id, no headers, attempt 1 and the request target; frozen', async () => {
      await withTransport(async (transport) => {
        await transport.consume(HOST_1, () => ({ ok: true }));
        const reply = await transport.request(HOST_1, { id: 'call-1', body: 1 }, { timeoutMs: 1000 });
        expect(reply).toEqual({ id: 'call-1', target: HOST_1, headers: {}, body: { ok: true }, attempt: 1 });
        expect(Object.isFrozen(reply)).toBe(true);
      });
    });

    it("waits in the default group's queue of a topic that has no queue yet", async () => {
      await withTransport(async (transport) => {
        const reply = transport.request(TOPIC, { body: 'early' }, { timeoutMs: 1000 });
        await turns();
        await transport.consume(TOPIC, (d) => `got ${String(d.body)}`);
        await expect(reply).resolves.toMatchObject({ body: 'got early' });
      });
    });

    it('goes to the default group only', async () => {
      await withTransport(async (transport) => {
        const [shared, audit] = [inbox(() => 'shared'), inbox(() => 'audit')];
        await transport.consume(TOPIC, audit.handler, { group: 'audit' });
        await transport.consume(TOPIC, shared.handler);
        await expect(transport.request(TOPIC, { body: 1 }, { timeoutMs: 1000 })).resolves.toMatchObject({
          body: 'shared',
        });
        await transport.idle();
        expect(audit.deliveries).toEqual([]);
        // Only other groups: nobody serves requests, so it times out.
        const other = new InMemoryTransport();
        await other.consume(TOPIC, audit.handler, { group: 'audit' });
        await expect(other.request(TOPIC, { body: 2 }, { timeoutMs: 5 })).rejects.toBeInstanceOf(CallTimeoutError);
        await other.close();
        expect(audit.deliveries).toEqual([]);
      });
    });

    it('drops a request that timed out before a consumer took it', async () => {
      await withTransport(async (transport) => {
        await expect(transport.request(TOPIC, { body: 'expired' }, { timeoutMs: 5 })).rejects.toBeInstanceOf(
          CallTimeoutError,
        );
        const box = inbox();
        await transport.consume(TOPIC, box.handler);
        await transport.publish(TOPIC, { body: 'marker' });
        await transport.idle();
        expect(box.bodies()).toEqual(['marker']);
      });
    });

    it('rejects with RemoteError for a reply that JSON cannot carry', async () => {
      await withTransport(async (transport) => {
        await transport.consume(TOPIC, () => ({ size: 1n }));
        const error = await rejectionOf(transport.request(TOPIC, { body: 1 }, { timeoutMs: 1000 }));
        expect(error).toBeInstanceOf(RemoteError);
        expect(error).toMatchObject({ remoteName: 'InvalidError' });
        expect((error as RemoteError).remoteMessage).toMatch(/for reply is not valid/);
      });
    });

    it('reports what was thrown when it is not an Error', async () => {
      await withTransport(async (transport) => {
        await transport.consume(TOPIC, (d) => {
          throw d.body === 'string' ? 'plain' : { name: 'Custom', message: 'duck' };
        });
        await expect(transport.request(TOPIC, { body: 'string' }, { timeoutMs: 1000 })).rejects.toMatchObject({
          remoteName: 'Error',
          remoteMessage: 'plain',
        });
        await expect(transport.request(TOPIC, { body: 'object' }, { timeoutMs: 1000 })).rejects.toMatchObject({
          remoteName: 'Custom',
          remoteMessage: 'duck',
        });
      });
    });

    it('keeps no timer alive: a pending request does not hold the process', async () => {
      await withTransport(async (transport) => {
        const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
        const pending = rejectionOf(transport.request(HOST_1, { body: 1 }, { timeoutMs: 60_000 }));
        const during = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
        expect(during).toBe(before);
        await transport.close();
        await pending;
      });
    });
  });

  describe('deliveries', () => {
    it('are frozen, with frozen headers and target', async () => {
      await withTransport(async (transport) => {
        const box = inbox();
        await transport.consume(TOPIC, box.handler);
        await transport.publish(TOPIC, { headers: { a: 'b' }, body: { x: 1 } });
        await transport.idle();
        const [delivery] = box.deliveries as [Delivery];
        expect([
          Object.isFrozen(delivery),
          Object.isFrozen(delivery.headers),
          Object.isFrozen(delivery.target),
        ]).toEqual([true, true, true]);
      });
    });

    it('carry the target as published, without other keys', async () => {
      await withTransport(async (transport) => {
        const box = inbox();
        await transport.consume(HOST_1, box.handler);
        await transport.publish({ ...HOST_1, fanout: false, extra: 1 } as Target, { body: 1 });
        await transport.idle();
        expect(box.deliveries[0]!.target).toEqual(HOST_1);
      });
    });

    it('start no new delivery while the transport closes', async () => {
      await withTransport(async (transport) => {
        const release = gate();
        const box = inbox(() => release.promise);
        await transport.consume(TOPIC, box.handler);
        await transport.publish(TOPIC, { body: 1 });
        await transport.publish(TOPIC, { body: 2 });
        await box.until(1);
        const closing = transport.close({ drainMs: 1000 });
        release.open();
        await closing;
        await turns();
        expect(box.bodies()).toEqual([1]);
      });
    });
  });

  describe('consumer close', () => {
    it('requeues for the group a message whose handler failed while its consumer closed', async () => {
      await withTransport(async (transport) => {
        const release = gate();
        const failing = inbox(async () => {
          await release.promise;
          throw new Error('failed while closing');
        });
        const first = await transport.consume(TOPIC, failing.handler);
        await transport.publish(TOPIC, { body: 'x' });
        await failing.until(1);
        const closed = first.close();
        release.open();
        await closed;
        const box = inbox();
        await transport.consume(TOPIC, box.handler);
        await transport.idle();
        expect(box.deliveries.map((d) => [d.body, d.attempt])).toEqual([['x', 2]]);
      });
    });
  });

  describe('server and fanout queues', () => {
    it("keep what a server's last consumer left for its next one, but drop what comes meanwhile", async () => {
      await withTransport(async (transport) => {
        const release = gate();
        const first = inbox(() => release.promise);
        const consumer = await transport.consume(HOST_1, first.handler);
        for (const body of [1, 2]) await transport.publish(HOST_1, { body });
        await first.until(1);
        const closed = consumer.close();
        release.open();
        await closed;
        await transport.publish(HOST_1, { body: 'nobody listens' });
        const next = inbox();
        await transport.consume(HOST_1, next.handler);
        await transport.idle();
        expect([first.bodies(), next.bodies()]).toEqual([[1], [2]]);
      });
    });

    it('drop the message a closing fanout consumer fails on', async () => {
      await withTransport(async (transport) => {
        const release = gate();
        const box = inbox(async () => {
          await release.promise;
          throw new Error('fails while closing');
        });
        const consumer = await transport.consume({ topic: 'l3', fanout: true }, box.handler);
        await transport.publish({ topic: 'l3', fanout: true }, { body: 1 });
        await box.until(1);
        const closed = consumer.close();
        release.open();
        await closed;
        await transport.idle();
        expect(box.deliveries).toHaveLength(1);
        expect(transport.deadLetters()).toEqual([]);
      });
    });
  });

  describe('maxQueueLength', () => {
    it('drops the oldest waiting messages beyond the limit, reports it once per queue, and rejects a dropped request', async () => {
      const logger = recordingLogger();
      await withTransport(
        async (transport) => {
          const dropped = rejectionOf(transport.request(TOPIC, { body: 'request' }, { timeoutMs: 2_000 }));
          for (const n of [1, 2, 3, 4]) await transport.publish(TOPIC, { body: n });
          expect(await dropped).toBeInstanceOf(TransportError);
          const box = inbox();
          await transport.consume(TOPIC, box.handler);
          await box.until(3);
          await transport.idle();
          expect(box.bodies()).toEqual([2, 3, 4]);
          expect(logger.lines).toEqual([['warn', expect.stringContaining('holds 3 messages: dropping the oldest')]]);
          // Within the limit nothing is dropped (the burst is queued before the consumer runs).
          for (const n of [5, 6, 7]) await transport.publish(TOPIC, { body: n });
          await box.until(6);
          await transport.idle();
          expect(box.bodies()).toEqual([2, 3, 4, 5, 6, 7]);
          expect(logger.lines).toHaveLength(1);
        },
        new InMemoryTransport({ maxQueueLength: 3, logger }),
      );
    });
  });

  describe('retryBackoff', () => {
    it("is the backoff of consumers that set none; a consumer's own replaces it", async () => {
      await withTransport(
        async (transport) => {
          const times = new Map<string, number[]>();
          const failOnce = (d: Delivery): void => {
            const seen = times.get(d.target.topic) ?? [];
            seen.push(Date.now());
            times.set(d.target.topic, seen);
            if (d.attempt === 1) throw new Error('once');
          };
          const inherits = inbox(failOnce);
          const own = inbox(failOnce);
          await transport.consume({ topic: 'inherits' }, inherits.handler);
          await transport.consume({ topic: 'own' }, own.handler, { retryBackoff: { initialDelayMs: 0 } });
          await transport.publish({ topic: 'inherits' }, { body: 1 });
          await transport.publish({ topic: 'own' }, { body: 1 });
          await own.until(2);
          await inherits.until(2);
          const gap = (topic: string): number => times.get(topic)![1]! - times.get(topic)![0]!;
          expect(gap('inherits')).toBeGreaterThanOrEqual(180);
          expect(gap('own')).toBeLessThan(180);
        },
        new InMemoryTransport({ retryBackoff: { initialDelayMs: 200 } }),
      );
    });

    it('idle() waits for a retry that waits out its backoff', async () => {
      const transport = new InMemoryTransport({ retryBackoff: { initialDelayMs: 50 } });
      const box = inbox((d) => {
        if (d.attempt === 1) throw new Error('once');
      });
      await transport.consume(TOPIC, box.handler);
      await transport.publish(TOPIC, { body: 'waits' });
      await transport.idle();
      expect(box.deliveries.map((d) => d.attempt)).toEqual([1, 2]);
      await transport.close();
    });
  });

  describe('constructor', () => {
    it.each([
      ['options that are not an object', 'fast', 'options'],
      ['a delivery limit of 0', { deliveryLimit: 0 }, 'options.deliveryLimit'],
      ['a delivery limit that is not a number', { deliveryLimit: '5' }, 'options.deliveryLimit'],
      ['a negative window', { deduplicationWindow: -1 }, 'options.deduplicationWindow'],
      ['a fractional window', { deduplicationWindow: 0.5 }, 'options.deduplicationWindow'],
      ['a logger without error', { logger: { warn: () => undefined } }, 'options.logger'],
      ['a null logger', { logger: null }, 'options.logger'],
      ['a zero maxQueueLength', { maxQueueLength: 0 }, 'options.maxQueueLength'],
      ['a fractional maxQueueLength', { maxQueueLength: 2.5 }, 'options.maxQueueLength'],
      ['a retry backoff without its delay', { retryBackoff: {} }, 'options.retryBackoff.initialDelayMs'],
    ])('throws an InvalidError for %s', (_, options, element) => {
      expect(() => new InMemoryTransport(options as never)).toThrow(InvalidError);
      try {
        new InMemoryTransport(options as never);
      } catch (error) {
        expect((error as InvalidError).element).toBe(element);
      }
    });
  });

  it('rejects a request timeout too long for a timer', async () => {
    await withTransport(async (transport) => {
      await expectInvalid(transport.request(TOPIC, { body: 1 }, { timeoutMs: 2 ** 31 }), 'options.timeoutMs');
    });
  });
});

describe('isTopicName', () => {
  it('takes what a target takes as its topic, and nothing else', async () => {
    const transport = new InMemoryTransport();
    for (const topic of ['dhcp_agent', 'notifications.info', 'a', '', ' ', 'dhcp agent', 'tab\there', 7, null]) {
      const accepted = await transport.publish({ topic } as never, { body: 1 }).then(
        () => true,
        () => false,
      );
      expect([topic, isTopicName(topic)]).toEqual([topic, accepted]);
    }
    await transport.close();
  });
});
