/**
 * The other side of the interoperation tests: oslo.messaging itself, in one Python process per
 * scenario group (`python/oslo_peer.py`), on a vhost of its own.
 */
import { describe } from '@jest/globals';
import { OsloTransport } from '@herald/oslo';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain ES module without types
import { runRabbitmqctl } from '../../../scripts/rabbitmq.mjs';

/** The broker (an amqp:// URL without a vhost) and Python, when the global setup found both. */
const brokerUrl = process.env.HERALD_OSLO_AMQP_URL;
const python = process.env.HERALD_OSLO_PYTHON;

/** `describe` when oslo.messaging and a broker are there, else `describe.skip` (the setup said why). */
export const describeWithOslo = brokerUrl !== undefined && python !== undefined ? describe : describe.skip;

/** A vhost of the test's own on the test broker, with guest's permissions. */
export interface Vhost {
  readonly name: string;
  /** amqp:// URL of the vhost, for Herald. */
  readonly amqpUrl: string;
  /** rabbit:// URL of the vhost, as oslo's `transport_url`. */
  readonly rabbitUrl: string;
  delete(): Promise<void>;
}

/** rabbitmqctl against the setup's broker (the environment it set names a node of its own). */
const rabbitmqctl = (...args: string[]): Promise<string> => runRabbitmqctl(args) as Promise<string>;

/** Creates `herald-oslo-<random>` (other engineers' tests use the broker at the same time). */
export async function createVhost(): Promise<Vhost> {
  const name = `herald-oslo-${randomBytes(6).toString('hex')}`;
  await rabbitmqctl('add_vhost', name);
  await rabbitmqctl('set_permissions', '-p', name, 'guest', '.*', '.*', '.*');
  const amqpUrl = `${brokerUrl!.replace(/\/+$/, '')}/${name}`;
  return {
    name,
    amqpUrl,
    rabbitUrl: amqpUrl.replace(/^amqp:/, 'rabbit:'),
    delete: async () => void (await rabbitmqctl('delete_vhost', name)),
  };
}

/** One line the peer printed that is not an answer: what its servers and listeners saw. */
export interface PeerEvent {
  readonly event: string;
  readonly [key: string]: unknown;
}

/** A command the peer answered with `ok: false`: what Python raised. */
export class PeerCommandError extends Error {
  constructor(
    readonly op: string,
    readonly error: { type: string; message: string; exc_type?: string; value?: string },
  ) {
    super(`oslo peer ${op} raised ${error.type}: ${error.message}`);
  }
}

interface Answer {
  readonly id: number;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: PeerCommandError['error'];
}

const script = fileURLToPath(new URL('./python/oslo_peer.py', import.meta.url));

/**
 * The Python process. Every wait is bounded, so a peer that hangs fails its test instead of CI.
 */
export class PythonPeer {
  readonly events: PeerEvent[] = [];
  readonly #process: ChildProcessWithoutNullStreams;
  readonly #answers = new Map<number, (answer: Answer) => void>();
  readonly #watchers = new Set<() => void>();
  readonly #exited: Promise<void>;
  #stderr = '';
  #next = 1;

  private constructor(rabbitUrl: string, controlExchange: string) {
    this.#process = spawn(python!, [script, rabbitUrl, controlExchange], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#exited = new Promise((resolve) => this.#process.once('exit', () => resolve()));
    let buffered = '';
    this.#process.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        this.#onLine(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
      }
    });
    this.#process.stderr
      .setEncoding('utf8')
      .on('data', (chunk: string) => (this.#stderr = (this.#stderr + chunk).slice(-4000)));
  }

  /** Starts a peer on `rabbitUrl` with `controlExchange`; resolves once oslo.messaging is loaded. */
  static async start(rabbitUrl: string, controlExchange: string): Promise<PythonPeer> {
    const peer = new PythonPeer(rabbitUrl, controlExchange);
    await peer.waitForEvent((event) => event.event === 'ready', 60_000);
    return peer;
  }

  #onLine(line: string): void {
    const parsed = JSON.parse(line) as Answer | PeerEvent;
    if ('event' in parsed) {
      this.events.push(parsed);
      for (const watcher of [...this.#watchers]) watcher();
    } else {
      this.#answers.get(parsed.id)?.(parsed);
    }
  }

  /** Runs `op` in the peer; resolves to its result, rejects with `PeerCommandError` for what it raised. */
  command(op: string, args: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#answers.delete(id);
        reject(new Error(`oslo peer: no answer to ${op} within ${timeoutMs} ms. stderr:\n${this.#stderr}`));
      }, timeoutMs);
      this.#answers.set(id, (answer) => {
        clearTimeout(timer);
        this.#answers.delete(id);
        if (answer.ok) resolve(answer.result);
        else reject(new PeerCommandError(op, answer.error!));
      });
      this.#process.stdin.write(`${JSON.stringify({ id, op, ...args })}\n`);
    });
  }

  /** The first event (seen so far or later) that `matches`; rejects after `timeoutMs`. */
  waitForEvent(matches: (event: PeerEvent) => boolean, timeoutMs = 20_000): Promise<PeerEvent> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.events.find(matches);
        if (found === undefined) return false;
        clearTimeout(timer);
        this.#watchers.delete(onEvent);
        resolve(found);
        return true;
      };
      const onEvent = (): void => void check();
      const timer = setTimeout(() => {
        this.#watchers.delete(onEvent);
        reject(new Error(`oslo peer: no matching event within ${timeoutMs} ms. stderr:\n${this.#stderr}`));
      }, timeoutMs);
      if (!check()) this.#watchers.add(onEvent);
    });
  }

  /** Stops its servers and listeners and waits for it to exit; kills it (by its PID) after 20 s. */
  async stop(): Promise<void> {
    if (this.#process.exitCode !== null) return;
    const stopped = this.command('stop', {}, 20_000).catch(() => undefined);
    const timer = setTimeout(() => this.#process.kill('SIGKILL'), 20_000);
    await Promise.race([stopped.then(() => this.#exited), this.#exited]);
    clearTimeout(timer);
  }
}

/** A logger that drops what the transport and servers report (tests check behaviour instead). */
export const silentLogger = { error: () => undefined, warn: () => undefined };

/** Waits until `condition()` holds, checking every 20 ms; throws after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A test file's vhost, its Python peer and a Herald transport there, all on control exchange `neutron`. */
export interface OsloScenario {
  readonly vhost: Vhost;
  readonly peer: PythonPeer;
  readonly transport: OsloTransport;
  /** Closes the transport, stops the peer, deletes the vhost. */
  end(): Promise<void>;
}

/** Starts an {@link OsloScenario}; call in `beforeAll` (allow it 90 s: Python imports oslo.messaging). */
export async function startScenario(): Promise<OsloScenario> {
  const vhost = await createVhost();
  const [peer, transport] = await Promise.all([
    PythonPeer.start(vhost.rabbitUrl, 'neutron'),
    OsloTransport.connect({ url: vhost.rabbitUrl, controlExchange: 'neutron', logger: silentLogger }),
  ]);
  return {
    vhost,
    peer,
    transport,
    end: async () => {
      await Promise.allSettled([transport.close(), peer.stop()]);
      await vhost.delete();
    },
  };
}
