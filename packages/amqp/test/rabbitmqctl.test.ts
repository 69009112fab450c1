/**
 * `scripts/rabbitmq.mjs` hands a test process the way to run rabbitmqctl against a node the global
 * setup started (`rabbitmqctlEnv`, `runRabbitmqctl`): a node on free ports, as the setup starts
 * when 127.0.0.1:5672 is wedged, has an epmd of its own that rabbitmqctl finds only when told its
 * port. The oslo tests make their vhosts this way.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from '@jest/globals';
// @ts-expect-error: a plain ES module without types
import { rabbitmqctlEnv, runRabbitmqctl } from '../../../scripts/rabbitmq.mjs';
import { describeWithOwnBroker, ownBroker } from './own-broker.js';

type Run = (args: string[], options?: { env?: NodeJS.ProcessEnv }) => Promise<string>;
const run = runRabbitmqctl as Run;

describeWithOwnBroker('rabbitmqctl against a node of our own on free ports', () => {
  const broker = ownBroker();

  it('reaches the node with only the environment rabbitmqctlEnv gives', async () => {
    const node = broker.current();
    const given = rabbitmqctlEnv(node) as Record<string, string>;
    expect(given).toEqual({
      HERALD_RABBITMQ_NODE: node.node,
      HERALD_RABBITMQ_HOME: node.dir,
      HERALD_RABBITMQ_EPMD_PORT: String(node.ports.epmd),
    });
    const vhost = `herald-ctl-${randomUUID()}`;
    // As a Jest worker gets it: the variables in its environment, nothing else of the node.
    const env = { ...process.env, ...given };
    await run(['add_vhost', vhost], { env });
    try {
      // The vhost is on this node (not on a broker that happens to listen on 5672).
      expect((await node.rabbitmqctl('list_vhosts', '-q')).split('\n')).toContain(vhost);
    } finally {
      await run(['delete_vhost', vhost], { env });
    }
    expect((await node.rabbitmqctl('list_vhosts', '-q')).split('\n')).not.toContain(vhost);
  }, 120_000); // rabbitmqctl starts an Erlang VM: 0.5 s here, over 10 s on a loaded machine

  it('says which variables are missing when the node is named without its dir or epmd port', async () => {
    const env = { ...process.env, HERALD_RABBITMQ_NODE: broker.current().node, HERALD_RABBITMQ_EPMD_PORT: '' };
    await expect(run(['list_vhosts'], { env })).rejects.toThrow(/HERALD_RABBITMQ_HOME and HERALD_RABBITMQ_EPMD_PORT/);
  });
});
