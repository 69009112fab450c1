import { InvalidError } from '@herald/core';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CallTimeoutError,
  RemoteError,
  RpcClient,
  RpcServer,
  RpcVersionCapError,
  type RpcArgs,
  type RpcContext,
} from '@herald/messaging';
import {
  DEAD_LETTER_QUEUE_HEADER,
  DEAD_LETTER_REASON_HEADER,
  DEFAULT_OSLO_DEAD_LETTER_QUEUE,
  OsloRemoteError,
  OsloTransport,
} from '@herald/oslo';
import { connect, type GetMessage } from 'amqplib';
import {
  describeWithOslo,
  PeerCommandError,
  silentLogger,
  startScenario,
  until,
  type OsloScenario,
  type PythonPeer,
  type Vhost,
} from './peer.js';

class RouterNotFound extends Error {}

/** A Herald endpoint Python calls: version 1.1 of the default namespace. */
class AgentEndpoint {
  readonly target = { version: '1.1' };
  readonly casts: { server: string; args: RpcArgs; context: RpcContext }[] = [];
  constructor(readonly server: string) {}
  echo(context: RpcContext, args: RpcArgs) {
    return { context, args, server: this.server };
  }
  fail(_context: RpcContext, { message }: { message: string }): never {
    throw new RouterNotFound(message);
  }
  record(context: RpcContext, args: RpcArgs) {
    this.casts.push({ server: this.server, args, context });
  }
  explosions = 0;
  explode(): never {
    this.explosions++;
    throw new Error('the agent cannot apply this port');
  }
}

/** Another namespace and major version. */
class HaEndpoint {
  readonly target = { namespace: 'ha', version: '2.3' };
  ping() {
    return 'pong from ha';
  }
}

/** The first message of the dead-letter queue, waiting up to 10 s for it (and for the queue). */
async function takeDeadLetter(url: string): Promise<GetMessage> {
  const connection = await connect(url);
  try {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      // A fresh channel each time: getting from a queue not declared yet closes the channel.
      const channel = await connection.createChannel();
      const letter = await channel.get(DEFAULT_OSLO_DEAD_LETTER_QUEUE, { noAck: true }).catch(() => false as const);
      if (letter !== false) return letter;
      await channel.close().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('no dead letter within 10 s');
  } finally {
    await connection.close();
  }
}

describeWithOslo('RPC between Herald and oslo.messaging (control exchange neutron)', () => {
  let vhost: Vhost;
  let peer: PythonPeer;
  let transport: OsloTransport;

  let scenario: OsloScenario | undefined;

  beforeAll(async () => {
    scenario = await startScenario();
    ({ vhost, peer, transport } = scenario);
  }, 90_000);

  afterAll(async () => {
    await scenario?.end();
  }, 60_000);

  describe('a Python RPCClient calling a Herald RpcServer', () => {
    const hostH = new AgentEndpoint('host-h');
    const hostG = new AgentEndpoint('host-g');
    const servers: RpcServer[] = [];

    beforeAll(async () => {
      servers.push(
        new RpcServer(transport, { topic: 'herald_agent', server: 'host-h' }, [hostH, new HaEndpoint()], {
          logger: silentLogger,
          deliveryLimit: 3,
        }),
        new RpcServer(transport, { topic: 'herald_agent', server: 'host-g' }, [hostG], { logger: silentLogger }),
      );
      await Promise.all(servers.map((server) => server.start()));
    }, 30_000);

    afterAll(() => Promise.all(servers.map((server) => server.stop())));

    it('returns the result of a call by topic, with the context and arguments Python sent', async () => {
      const result = await peer.command('call', {
        topic: 'herald_agent',
        version: '1.1',
        method: 'echo',
        args: { port: { id: 'p1', mtu: 1500 } },
        ctxt: { request_id: 'req-1', project_id: 'demo' },
      });
      expect(result).toMatchObject({
        context: { request_id: 'req-1', project_id: 'demo' },
        args: { port: { id: 'p1', mtu: 1500 } },
      });
    });

    it('routes a call to topic.host to that host', async () => {
      for (const server of ['host-h', 'host-g']) {
        const result = await peer.command('call', { topic: 'herald_agent', server, method: 'echo', args: {} });
        expect(result).toMatchObject({ server });
      }
    });

    it('serves a namespace and a compatible minor version', async () => {
      const result = await peer.command('call', {
        topic: 'herald_agent',
        server: 'host-h',
        namespace: 'ha',
        version: '2.1',
        method: 'ping',
      });
      expect(result).toBe('pong from ha');
    });

    it("gives Python a RemoteError naming the Herald error's class and message", async () => {
      const failure = peer.command('call', {
        topic: 'herald_agent',
        server: 'host-h',
        method: 'fail',
        args: { message: 'Router r9 could not be found' },
      });
      await expect(failure).rejects.toBeInstanceOf(PeerCommandError);
      const { error } = (await failure.catch((e: unknown) => e)) as PeerCommandError;
      expect(error).toMatchObject({
        type: 'RemoteError',
        exc_type: 'RouterNotFound',
        value: 'Router r9 could not be found',
      });
    });

    it("answers an unknown method with oslo's NoSuchMethod and a newer version with UnsupportedVersion", async () => {
      const noMethod = (await peer
        .command('call', { topic: 'herald_agent', server: 'host-h', method: 'nope' })
        .catch((e: unknown) => e)) as PeerCommandError;
      expect(noMethod.error).toMatchObject({
        exc_type: 'NoSuchMethod',
        value: 'Endpoint does not support RPC method nope',
      });
      const newer = (await peer
        .command('call', { topic: 'herald_agent', server: 'host-h', version: '1.5', method: 'echo' })
        .catch((e: unknown) => e)) as PeerCommandError;
      expect(newer.error).toMatchObject({
        exc_type: 'UnsupportedVersion',
        value: 'Endpoint does not support RPC version 1.5. Attempted method: echo',
      });
    });

    it('runs a cast by topic once, on one server of the topic', async () => {
      await peer.command('cast', { topic: 'herald_agent', method: 'record', args: { n: 'any' } });
      const anyServer = () => [...hostH.casts, ...hostG.casts].filter((cast) => cast.args.n === 'any');
      await until(() => anyServer().length === 1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(anyServer()).toHaveLength(1);
      hostH.casts.length = 0;
      hostG.casts.length = 0;
    });

    it('runs a cast to a host once on that host, and a fanout cast on every host', async () => {
      await peer.command('cast', { topic: 'herald_agent', server: 'host-g', method: 'record', args: { n: 1 } });
      await until(() => hostG.casts.length === 1);
      await peer.command('cast', {
        topic: 'herald_agent',
        fanout: true,
        method: 'record',
        args: { n: 2 },
        ctxt: { request_id: 'req-f' },
      });
      await until(() => hostH.casts.length === 1 && hostG.casts.length === 2);
      expect(hostH.casts[0]).toMatchObject({ args: { n: 2 }, context: { request_id: 'req-f' } });
      expect(hostG.casts.map((cast) => cast.args)).toEqual([{ n: 1 }, { n: 2 }]);
    });

    it("dead-letters a cast whose method keeps failing, with the reason, after the server's delivery limit", async () => {
      await peer.command('cast', { topic: 'herald_agent', server: 'host-h', method: 'explode', args: { port: 'p7' } });
      await until(() => hostH.explosions === 3);
      const letter = await takeDeadLetter(vhost.amqpUrl);
      expect(String(letter.properties.headers?.[DEAD_LETTER_REASON_HEADER])).toMatch(
        /failed 3 times.*cannot apply this port/,
      );
      expect(letter.properties.headers?.[DEAD_LETTER_QUEUE_HEADER]).toBe('herald_agent.host-h');
      expect(JSON.parse(JSON.parse(letter.content.toString())['oslo.message'])).toMatchObject({ method: 'explode' });
      expect(hostH.explosions).toBe(3);
    });
  });

  describe('a Herald RpcClient calling a Python RPCServer', () => {
    beforeAll(async () => {
      await peer.command('rpc_server', { topic: 'py_agent', server: 'host-p', endpoints: [{ version: '1.3' }] });
      await peer.command('rpc_server', { topic: 'py_agent', server: 'host-q', endpoints: [{ version: '1.3' }] });
    }, 30_000);

    it('returns what the Python method returned, which got the context and arguments', async () => {
      const client = new RpcClient(
        transport,
        { topic: 'py_agent', server: 'host-p', version: '1.2' },
        { timeoutMs: 10_000 },
      );
      const result = await client.call({ request_id: 'req-2', user_id: 'u1' }, 'echo', { network: { id: 'n1' } });
      expect(result).toMatchObject({
        ctxt: { request_id: 'req-2', user_id: 'u1' },
        args: { network: { id: 'n1' } },
        server: 'host-p',
      });
    });

    it('rejects with an OsloRemoteError carrying the Python class, module, message and traceback', async () => {
      const client = new RpcClient(transport, { topic: 'py_agent' }, { timeoutMs: 10_000 });
      const error = (await client
        .call({}, 'fail', { message: 'no such port' })
        .catch((e: unknown) => e)) as OsloRemoteError;
      expect(error).toBeInstanceOf(OsloRemoteError);
      expect(error).toBeInstanceOf(RemoteError);
      expect(error).toMatchObject({
        remoteName: 'PeerFailure',
        remoteModule: '__main__',
        remoteMessage: 'no such port',
      });
      expect(error.remoteTraceback.join('')).toContain('PeerFailure: no such port');
    });

    it("reads oslo's NoSuchMethod and UnsupportedVersion as RemoteErrors of those names", async () => {
      const client = new RpcClient(transport, { topic: 'py_agent', server: 'host-q' }, { timeoutMs: 10_000 });
      await expect(client.call({}, 'nope')).rejects.toMatchObject({ remoteName: 'NoSuchMethod' });
      await expect(client.prepare({ version: '2.0' }).call({}, 'echo')).rejects.toMatchObject({
        remoteName: 'UnsupportedVersion',
        remoteModule: 'oslo_messaging.rpc.dispatcher',
      });
    });

    it('refuses a version above its cap without sending, and sends one at the cap', async () => {
      const client = new RpcClient(
        transport,
        { topic: 'py_agent', server: 'host-p' },
        { timeoutMs: 10_000, versionCap: '1.3' },
      );
      await expect(client.prepare({ version: '1.4' }).call({}, 'echo')).rejects.toBeInstanceOf(RpcVersionCapError);
      await expect(client.prepare({ version: '1.3' }).call({}, 'echo', { at: 'cap' })).resolves.toMatchObject({
        args: { at: 'cap' },
      });
    });

    it('times out when the method outlasts the timeout, and when no server consumes the topic', async () => {
      const slow = new RpcClient(transport, { topic: 'py_agent', server: 'host-p' }, { timeoutMs: 300 });
      await expect(slow.call({}, 'slow', { seconds: 2 })).rejects.toBeInstanceOf(CallTimeoutError);
      const nobody = new RpcClient(transport, { topic: 'nobody_listens' }, { timeoutMs: 300 });
      await expect(nobody.call({}, 'echo')).rejects.toBeInstanceOf(CallTimeoutError);
    });

    it("refuses, with a hint, to consume when this transport's queue settings differ from the deployment's", async () => {
      const durable = await OsloTransport.connect({
        url: vhost.amqpUrl,
        controlExchange: 'neutron',
        durableQueues: true,
      });
      try {
        await expect(durable.consume({ topic: 'py_agent' }, () => undefined)).rejects.toThrow(
          /PRECONDITION_FAILED.*set durableQueues/s,
        );
      } finally {
        await durable.close();
      }
    });

    it.each([
      ['a retry backoff', { retryBackoff: { initialDelayMs: 100 } }, 'options.retryBackoff'],
      ['a concurrency above 1', { concurrency: 4 }, 'options.concurrency'],
    ])(
      "refuses %s with an InvalidError naming it (oslo's queues retry at once, one at a time)",
      async (_, options, element) => {
        const error = await transport.consume({ topic: 'py_agent' }, () => undefined, options).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidError);
        expect((error as InvalidError).element).toBe(element);
      },
    );

    it('casts to one host, and fanout casts reach every Python server of the topic', async () => {
      const client = new RpcClient(transport, { topic: 'py_agent' });
      await client.prepare({ server: 'host-q' }).cast({ request_id: 'req-c' }, 'echo', { cast: 'one' });
      const one = await peer.waitForEvent((e) => e.event === 'rpc' && (e.args as RpcArgs).cast === 'one');
      expect(one).toMatchObject({ server: 'host-q', ctxt: { request_id: 'req-c' } });
      await client.prepare({ fanout: true }).cast({}, 'echo', { cast: 'all' });
      for (const server of ['host-p', 'host-q']) {
        await peer.waitForEvent((e) => e.event === 'rpc' && e.server === server && (e.args as RpcArgs).cast === 'all');
      }
    });
  });
});
