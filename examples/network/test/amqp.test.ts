/**
 * The example's script on RabbitMQ (`HERALD_AMQP_URL=… npm start`). It runs when a broker is
 * known: `npm test` has one, since the @herald/amqp project's global setup obtains it and sets
 * HERALD_AMQP_URL for every test worker; alone, this project skips it.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { AmqpTransport } from '@herald/amqp';
import { run, type Terminal } from '../src/cli.js';

const url = process.env.HERALD_AMQP_URL;
const describeWithBroker = url === undefined ? describe.skip : describe;

/** Runs the script; returns its lines without timings. */
async function script(options: Parameters<typeof run>[2] = {}): Promise<{ status: number; lines: string[] }> {
  const lines: string[] = [];
  const terminal: Terminal = { out: (l) => void lines.push(l), err: (l) => void lines.push(`ERR ${l}`), color: false };
  const status = await run([], terminal, options);
  return { status, lines: lines.map((l) => l.replace(/took [\d.]+ ms, at \+[\d.]+ ms/, 'took …')) };
}

/**
 * What the other processes printed (rpc, notify, bridge), as a sorted list: their order may
 * differ. Request ids count across runs in one process, so they are left out.
 */
function peers(lines: readonly string[]): string[] {
  return lines
    .filter((l) => /^ {3}(rpc|notify|bridge) /.test(l))
    .map((l) => l.replace(/\(req-\d+\)/, '(req-…)'))
    .sort();
}

describeWithBroker('the network example on RabbitMQ', () => {
  it('tells the same story as in memory: same steps, same messages to the same peers, same outcome', async () => {
    const namespace = `test-example-${randomUUID().slice(0, 8)}`;
    const transport = await AmqpTransport.connect({ url, namespace, queueExpiresMs: 60_000 });
    const onBroker = await script({ transport, transportName: 'RabbitMQ' });
    const inMemory = await script();

    expect(onBroker.status).toBe(0);
    expect(onBroker.lines.filter((l) => l.startsWith('ERR'))).toEqual([]);
    expect(onBroker.lines[0]).toContain('on RabbitMQ');
    expect(peers(onBroker.lines)).toEqual(peers(inMemory.lines));
    expect(peers(onBroker.lines).length).toBeGreaterThan(20);
    expect(onBroker.lines.filter((l) => /^\d+\. /.test(l))).toEqual(inMemory.lines.filter((l) => /^\d+\. /.test(l)));
    expect(onBroker.lines.at(-1)).toBe(inMemory.lines.at(-1));
    // run() closed the transport, as the app does with the one it is given.
    await expect(transport.publish({ topic: 'dhcp_agent' }, { body: null })).rejects.toThrow(/closed/);
  });
});
