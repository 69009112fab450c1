/**
 * A RabbitMQ node of the test file's own, for tests that stop, restart or kill their broker: on
 * free ports, with its own node name and epmd, stopped by PID in `afterAll` (never the shared
 * broker on 5672). Without `rabbitmq-server` the tests are skipped with a notice, except under
 * CI=true, where they fail.
 */
import { afterAll, beforeAll, describe } from '@jest/globals';
// @ts-expect-error: a plain ES module without types
import { isExecutable, serverPath, startNode } from '../../../scripts/rabbitmq.mjs';

/** A node started by `scripts/rabbitmq.mjs`'s `startNode`. */
export interface OwnBroker {
  readonly url: string;
  readonly pid: number;
  readonly started: true;
  /** Its Erlang node name, its dir (HOME, with its cookie) and ports (its epmd's among them). */
  readonly node: string;
  readonly dir: string;
  readonly ports: { readonly amqp: number; readonly dist: number; readonly epmd: number };
  rabbitmqctl(...args: string[]): Promise<string>;
  /** SIGKILLs the node, as `kill -9`. */
  kill(): Promise<void>;
  /** Starts it again in the same dir, on the same ports: its durable queues come back. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const installed = isExecutable(serverPath()) as boolean;
if (!installed && process.env.CI !== 'true') {
  console.warn(
    `[@herald/amqp] broker chaos tests skipped: ${serverPath()} is not installed (apt-get install rabbitmq-server)`,
  );
}

/** `describe` when a node can be started here (always under CI=true), else `describe.skip`. */
export const describeWithOwnBroker = installed || process.env.CI === 'true' ? describe : describe.skip;

/**
 * Starts a node before the file's tests and stops it after them; `current()` gives it.
 *
 * @example
 * ```ts
 * const broker = ownBroker(['max_message_size = 1048576']);
 * it('…', async () => { await broker.current().rabbitmqctl('stop_app'); });
 * ```
 */
export function ownBroker(config: string[] = []): { current(): OwnBroker } {
  let node: OwnBroker | undefined;
  beforeAll(async () => {
    node = (await startNode({ config, log: (line: string) => console.log(`[own broker] ${line}`) })) as OwnBroker;
  }, 180_000);
  afterAll(async () => {
    await node?.stop();
  }, 60_000);
  return {
    current: () => {
      if (node === undefined) throw new Error('the test broker did not start');
      return node;
    },
  };
}
