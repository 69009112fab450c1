import { afterEach, describe, expect, it } from '@jest/globals';
import { InvalidError, type Logger } from '@herald/core';
import {
  CallTimeoutError,
  InMemoryTransport,
  NoSuchMethod,
  RemoteError,
  RpcClient,
  RpcServer,
  RpcVersionCapError,
  UnsupportedVersion,
  type Delivery,
  type RpcArgs,
  type RpcContext,
  type RpcEndpointTarget,
  type RpcServerOptions,
  type Transport,
} from '../src/index.js';
import { invalid } from './transport.contract.js';

const CTX: RpcContext = { request_id: 'req-1', project_id: 'p1', is_admin: false };

/** A logger that keeps its lines by level. */
function recordingLogger() {
  const lines: { level: string; message: string }[] = [];
  const log = (level: string) => (message: string) => void lines.push({ level, message });
  const logger: Required<Logger> = { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') };
  return { logger, at: (level: string) => lines.filter((l) => l.level === level).map((l) => l.message) };
}

let transport = new InMemoryTransport({ logger: recordingLogger().logger });
const servers: RpcServer[] = [];

/** A started server on the test's transport, stopped after the test, with a quiet logger by default. */
async function serve(
  server: string,
  endpoints: readonly object[],
  options: RpcServerOptions = {},
  topic = 'agent',
): Promise<RpcServer> {
  const rpc = new RpcServer(transport, { topic, server }, endpoints, { logger: recordingLogger().logger, ...options });
  servers.push(rpc);
  await rpc.start();
  return rpc;
}

/** The rejection of `promise` (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

/** An endpoint that records, per host, what `ping` got. */
class Recorder {
  readonly calls: { method: string; context: RpcContext; args: RpcArgs; self: unknown }[] = [];
  constructor(readonly host = '') {}
  ping(context: RpcContext, args: RpcArgs) {
    this.calls.push({ method: 'ping', context, args, self: this });
    return { pong: this.host, echo: args };
  }
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  await transport.close({ drainMs: 0 });
  transport = new InMemoryTransport({ logger: recordingLogger().logger });
});

describe('RpcClient.cast', () => {
  it('to { topic } reaches exactly one server of the topic', async () => {
    const a = new Recorder('host-1');
    const b = new Recorder('host-2');
    await serve('host-1', [a]);
    await serve('host-2', [b]);
    const client = new RpcClient(transport, { topic: 'agent' });
    await client.cast(CTX, 'ping', { n: 1 });
    await transport.idle();
    expect(a.calls.length + b.calls.length).toBe(1);
    const [call] = [...a.calls, ...b.calls];
    expect(call!.context).toEqual(CTX);
    expect(call!.args).toEqual({ n: 1 });

    for (let n = 2; n <= 5; n++) await client.cast(CTX, 'ping', { n });
    await transport.idle();
    const ns = [...a.calls, ...b.calls].map((c) => c.args.n as number).sort();
    expect(ns).toEqual([1, 2, 3, 4, 5]);
    expect(a.calls.length).toBeGreaterThan(0);
    expect(b.calls.length).toBeGreaterThan(0);
  });

  it('to { topic, server } reaches that server only', async () => {
    const a = new Recorder('host-1');
    const b = new Recorder('host-2');
    await serve('host-1', [a]);
    await serve('host-2', [b]);
    const client = new RpcClient(transport, { topic: 'agent' }).prepare({ server: 'host-2' });
    for (let n = 0; n < 3; n++) await client.cast(CTX, 'ping', { n });
    await transport.idle();
    expect(a.calls).toHaveLength(0);
    expect(b.calls.map((c) => c.args.n)).toEqual([0, 1, 2]);
    expect(b.calls[0]!.self).toBe(b);
  });

  it('to { topic, fanout: true } reaches every server of the topic', async () => {
    const hosts = [new Recorder('host-1'), new Recorder('host-2'), new Recorder('host-3')];
    for (const r of hosts) await serve(r.host, [r]);
    const elsewhere = new Recorder('other');
    await serve('host-1', [elsewhere], {}, 'other_topic');
    await new RpcClient(transport, { topic: 'agent', fanout: true }).cast(CTX, 'ping', { all: true });
    await transport.idle();
    expect(hosts.map((r) => r.calls.length)).toEqual([1, 1, 1]);
    expect(elsewhere.calls).toHaveLength(0);
  });

  it('sends the body { method, args, namespace?, version?, context } with the cast header', async () => {
    const got: Delivery[] = [];
    await transport.consume({ topic: 'agent' }, (d) => void got.push(d));
    await new RpcClient(transport, { topic: 'agent' }).cast(CTX, 'ping');
    await new RpcClient(transport, { topic: 'agent', namespace: 'state', version: '1.2' }).cast(CTX, 'ping', { a: 1 });
    await transport.idle();
    expect(got.map((d) => d.body)).toEqual([
      { method: 'ping', args: {}, context: CTX },
      { method: 'ping', args: { a: 1 }, namespace: 'state', version: '1.2', context: CTX },
    ]);
    expect(got[0]!.headers).toEqual({ 'herald-rpc': 'cast' });
  });

  it('requeues a cast whose method threw, until it succeeds (at-least-once)', async () => {
    const log = recordingLogger();
    const attempts: number[] = [];
    const endpoint = {
      sync_state(_ctx: RpcContext, { failures }: { failures: number }) {
        attempts.push(attempts.length + 1);
        if (attempts.length <= failures) throw new Error('agent busy');
      },
    };
    await serve('host-1', [endpoint], { logger: log.logger });
    await new RpcClient(transport, { topic: 'agent', server: 'host-1' }).cast(CTX, 'sync_state', { failures: 2 });
    await transport.idle();
    expect(attempts).toEqual([1, 2, 3]);
    expect(log.at('error')).toEqual([
      expect.stringMatching(
        /RPC endpoint Object\.sync_state failed on a cast .*attempt 1.*agent busy; the message is requeued/,
      ),
      expect.stringMatching(/attempt 2/),
    ]);
    expect(transport.deadLetters()).toHaveLength(0);
  });

  it('dead-letters a cast that keeps failing, after the delivery limit', async () => {
    let calls = 0;
    const endpoint = {
      sync_state() {
        calls++;
        throw new Error('broken');
      },
    };
    await serve('host-1', [endpoint], { deliveryLimit: 2 });
    await new RpcClient(transport, { topic: 'agent' }).cast(CTX, 'sync_state');
    await transport.idle();
    expect(calls).toBe(2);
    expect(transport.deadLetters().map((l) => l.error)).toEqual(['broken']);
  });

  it('passes retryBackoff and concurrency to its transport: retries wait, casts overlap', async () => {
    const failedAt: number[] = [];
    const flaky = {
      sync_state() {
        failedAt.push(performance.now());
        if (failedAt.length < 3) throw new Error('not yet');
      },
    };
    await serve('host-1', [flaky], { deliveryLimit: 3, retryBackoff: { initialDelayMs: 60, multiplier: 2 } });
    await new RpcClient(transport, { topic: 'agent' }).cast(CTX, 'sync_state');
    await transport.idle();
    expect(failedAt).toHaveLength(3);
    expect(failedAt[1]! - failedAt[0]!).toBeGreaterThanOrEqual(55);
    expect(failedAt[2]! - failedAt[1]!).toBeGreaterThanOrEqual(115);

    let running = 0;
    let most = 0;
    const slow = {
      async work() {
        most = Math.max(most, ++running);
        await new Promise((resolve) => setTimeout(resolve, 30));
        running--;
      },
    };
    await serve('host-2', [slow], { concurrency: 3 }, 'workers');
    const client = new RpcClient(transport, { topic: 'workers' });
    await Promise.all([1, 2, 3].map(() => client.cast(CTX, 'work')));
    await transport.idle();
    expect(most).toBe(3);
  });

  it('refuses bad consumer settings when it is made, not when it starts', () => {
    const make = (options: RpcServerOptions) => () =>
      new RpcServer(transport, { topic: 'a', server: 'h' }, [], options);
    expect(make({ concurrency: 0 })).toThrow(InvalidError);
    expect(make({ retryBackoff: { initialDelayMs: -1 } })).toThrow(InvalidError);
    expect(make({ handlerTimeoutMs: 0 })).toThrow(InvalidError);
    expect(make({ deliveryLimit: 1.5 })).toThrow(InvalidError);
  });

  it('dead-letters, with the reason and without retries, a cast that no endpoint can take or that is not an RPC message', async () => {
    const log = recordingLogger();
    const recorder = new Recorder('host-1');
    await serve('host-1', [recorder], { logger: log.logger });
    const client = new RpcClient(transport, { topic: 'agent' });
    await client.cast(CTX, 'no_such_method');
    await client.prepare({ version: '2.0' }).cast(CTX, 'ping');
    await transport.publish({ topic: 'agent' }, { headers: { 'herald-rpc': 'cast' }, body: 'not a message' });
    // Without the cast header a message counts as a call; nobody waits for it, so it is dead-lettered too.
    await transport.publish({ topic: 'agent' }, { body: { foo: 1 } });
    await transport.publish({ topic: 'agent', server: 'host-1' }, { body: null });
    await transport.idle();
    expect(recorder.calls).toHaveLength(0);
    const letters = transport.deadLetters();
    expect(letters.map((l) => l.delivery.attempt)).toEqual([1, 1, 1, 1, 1]);
    expect(letters.map((l) => l.error)).toEqual([
      expect.stringMatching(/No endpoint takes the cast of 'no_such_method' .*no_such_method/),
      expect.stringMatching(/No endpoint takes the cast of 'ping' .*version 2\.0/),
      expect.stringMatching(/is not an RPC message: an RPC message is an object/),
      expect.stringMatching(/is not an RPC message: the message has no method name/),
      expect.stringMatching(/on agent\.host-1 is not an RPC message: an RPC message is an object/),
    ]);
  });
});

describe('RpcClient.call', () => {
  it("resolves with the endpoint's return value (after its JSON round trip)", async () => {
    const recorder = new Recorder('host-1');
    await serve('host-1', [recorder]);
    const client = new RpcClient(transport, { topic: 'agent' });
    await expect(client.call(CTX, 'ping', { when: new Date(0) })).resolves.toEqual({
      pong: 'host-1',
      echo: { when: '1970-01-01T00:00:00.000Z' },
    });
    expect(recorder.calls[0]!.context).toEqual(CTX);
  });

  it('resolves async methods, and a method that returns nothing with null', async () => {
    const endpoint = {
      async get_routers(_ctx: RpcContext, { host }: { host: string }) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return [{ id: 'r1', host }];
      },
      report_state() {},
    };
    await serve('host-1', [endpoint]);
    const client = new RpcClient(transport, { topic: 'agent', server: 'host-1' });
    await expect(client.call(CTX, 'get_routers', { host: 'host-1' })).resolves.toEqual([{ id: 'r1', host: 'host-1' }]);
    await expect(client.call(CTX, 'report_state')).resolves.toBeNull();
  });

  it("rejects with RemoteError carrying the endpoint error's name and message, without retrying", async () => {
    class RouterNotFound extends Error {
      override name = 'RouterNotFound';
    }
    let calls = 0;
    const endpoint = {
      get_router(_ctx: RpcContext, { id }: { id: string }) {
        calls++;
        throw new RouterNotFound(`Router ${id} could not be found`);
      },
    };
    await serve('host-1', [endpoint]);
    const error = await rejection(new RpcClient(transport, { topic: 'agent' }).call(CTX, 'get_router', { id: 'r9' }));
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({ remoteName: 'RouterNotFound', remoteMessage: 'Router r9 could not be found' });
    await transport.idle();
    expect(calls).toBe(1);
  });

  it('names the remote error by its class when the class sets no name, as oslo does', async () => {
    class RouterNotFound extends Error {}
    const endpoint = {
      get_router(_ctx: RpcContext, { id }: { id: string }) {
        throw new RouterNotFound(`Router ${id} could not be found`);
      },
    };
    await serve('host-1', [endpoint]);
    const error = await rejection(new RpcClient(transport, { topic: 'agent' }).call(CTX, 'get_router', { id: 'r9' }));
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({ remoteName: 'RouterNotFound', remoteMessage: 'Router r9 could not be found' });
  });

  it('rejects with CallTimeoutError when no server answers in time', async () => {
    const client = new RpcClient(transport, { topic: 'agent', server: 'nobody' }, { timeoutMs: 20 });
    const error = await rejection(client.call(CTX, 'ping'));
    expect(error).toBeInstanceOf(CallTimeoutError);
    expect(error).toMatchObject({ timeoutMs: 20, target: { topic: 'agent', server: 'nobody' } });

    const slow = {
      async ping() {
        await new Promise((resolve) => setTimeout(resolve, 60));
        return 'late';
      },
    };
    await serve('host-1', [slow]);
    await expect(client.prepare({ server: 'host-1' }).call(CTX, 'ping')).rejects.toBeInstanceOf(CallTimeoutError);
    await expect(client.prepare({ server: 'host-1', timeoutMs: 2000 }).call(CTX, 'ping')).resolves.toBe('late');
  });

  it('refuses a fanout call (a call has one answer) before sending', async () => {
    const recorder = new Recorder('host-1');
    await serve('host-1', [recorder]);
    const client = new RpcClient(transport, { topic: 'agent', fanout: true });
    await expect(client.call(CTX, 'ping')).rejects.toMatchObject({ name: 'InvalidError', element: 'fanout' });
    await expect(
      new RpcClient(transport, { topic: 'agent' }).prepare({ fanout: true }).call(CTX, 'ping'),
    ).rejects.toBeInstanceOf(InvalidError);
    await transport.idle();
    expect(recorder.calls).toHaveLength(0);
  });

  it('sends the call header, so that the server answers rather than drops', async () => {
    const got: Delivery[] = [];
    await transport.consume({ topic: 'agent' }, (d) => {
      got.push(d);
      return 'ok';
    });
    await expect(new RpcClient(transport, { topic: 'agent' }).call(CTX, 'x')).resolves.toBe('ok');
    expect(got[0]!.headers).toEqual({ 'herald-rpc': 'call' });
  });
});

describe('RpcServer dispatch', () => {
  const versioned = (version: string | undefined, namespace?: string) =>
    new (class Versioned {
      readonly target: RpcEndpointTarget = { ...(version && { version }), ...(namespace && { namespace }) };
      which() {
        return `${namespace ?? 'default'}@${version ?? '1.0'}`;
      }
    })();

  it.each([
    // [endpoint version, requested version, served?]
    ['1.3', undefined, true],
    ['1.3', '1.0', true],
    ['1.3', '1.2', true],
    ['1.3', '1.3', true],
    ['1.3', '1.4', false],
    ['1.3', '2.0', false],
    ['1.3', '0.9', false],
    ['2.0', '1.0', false],
    ['2.0', '2.0', true],
    ['2.1', '2.0', true],
    [undefined, undefined, true],
    [undefined, '1.0', true],
    [undefined, '1.1', false],
    ['1.10', '1.9', true],
    ['1.9', '1.10', false],
  ])('an endpoint at %s serves a request for %s: %s', async (endpointVersion, requested, served) => {
    await serve('host-1', [versioned(endpointVersion)]);
    const result = new RpcClient(transport, { topic: 'agent', ...(requested && { version: requested }) }).call(
      CTX,
      'which',
    );
    if (served) {
      await expect(result).resolves.toBe(`default@${endpointVersion ?? '1.0'}`);
    } else {
      const error = await rejection(result);
      expect(error).toBeInstanceOf(RemoteError);
      expect(error).toMatchObject({ remoteName: 'UnsupportedVersion' });
      expect((error as RemoteError).remoteMessage).toContain(`version ${requested}`);
    }
  });

  it('takes the first compatible endpoint that has the method, in the order given', async () => {
    const noWhich = { target: { version: '1.1' }, other: () => 'other' };
    await serve('host-1', [noWhich, versioned('1.3'), versioned('1.5'), versioned('2.0')]);
    const client = new RpcClient(transport, { topic: 'agent' });
    await expect(client.prepare({ version: '1.1' }).call(CTX, 'which')).resolves.toBe('default@1.3');
    await expect(client.prepare({ version: '1.4' }).call(CTX, 'which')).resolves.toBe('default@1.5');
    await expect(client.prepare({ version: '2.0' }).call(CTX, 'which')).resolves.toBe('default@2.0');
    await expect(client.prepare({ version: '1.0' }).call(CTX, 'other')).resolves.toBe('other');
  });

  it('routes by namespace: the default namespace and named ones are separate', async () => {
    await serve('host-1', [versioned('1.0'), versioned('1.2', 'state'), versioned('1.0', 'resources')]);
    const client = new RpcClient(transport, { topic: 'agent' });
    await expect(client.call(CTX, 'which')).resolves.toBe('default@1.0');
    await expect(client.prepare({ namespace: 'state', version: '1.1' }).call(CTX, 'which')).resolves.toBe('state@1.2');
    await expect(client.prepare({ namespace: 'resources' }).call(CTX, 'which')).resolves.toBe('resources@1.0');
    const unknown = await rejection(client.prepare({ namespace: 'nope' }).call(CTX, 'which'));
    expect(unknown).toMatchObject({ remoteName: UnsupportedVersion.name });
    expect((unknown as RemoteError).remoteMessage).toContain(`namespace 'nope'`);
  });

  it('answers NoSuchMethod when an endpoint fits but has no such public method', async () => {
    class L3Endpoint {
      readonly target = { version: '1.2' };
      secret = 'not a method';
      sync_routers() {
        return [];
      }
      _internal() {
        return 'private';
      }
      get computed() {
        return () => 'a getter is not a method';
      }
    }
    const own = { __proto__: null, hello: () => 'hi' } as object;
    await serve('host-1', [new L3Endpoint(), own]);
    const client = new RpcClient(transport, { topic: 'agent' });
    await expect(client.call(CTX, 'sync_routers')).resolves.toEqual([]);
    await expect(client.call(CTX, 'hello')).resolves.toBe('hi');
    for (const method of [
      'missing',
      '_internal',
      'constructor',
      'toString',
      'hasOwnProperty',
      'valueOf',
      'target',
      'secret',
      'computed',
      '__proto__',
    ]) {
      const error = await rejection(client.call(CTX, method));
      expect([method, error]).toEqual([method, expect.any(RemoteError)]);
      expect((error as RemoteError).remoteName).toBe(NoSuchMethod.name);
      expect((error as RemoteError).remoteMessage).toContain(`'${method}'`);
    }
  });

  it('passes (context, args) with `this` the endpoint, and prototype methods count', async () => {
    class Base {
      greet(this: Base & { name: string }, ctx: RpcContext, { who }: { who: string }) {
        return `${this.name} greets ${who} for ${String(ctx.project_id)}`;
      }
    }
    class Agent extends Base {
      name = 'agent-1';
    }
    await serve('host-1', [new Agent()]);
    await expect(new RpcClient(transport, { topic: 'agent' }).call(CTX, 'greet', { who: 'you' })).resolves.toBe(
      'agent-1 greets you for p1',
    );
  });

  it('answers a call that is not an RPC message with a DeadLetterError saying what is wrong', async () => {
    await serve('host-1', [new Recorder()]);
    const error = await rejection(transport.request({ topic: 'agent' }, { body: { args: {} } }, { timeoutMs: 1000 }));
    expect(error).toMatchObject({ remoteName: 'DeadLetterError' });
    expect((error as RemoteError).remoteMessage).toMatch(/is not an RPC message: the message has no method name/);
  });

  it('stop() stops consuming all three targets; start() again resumes', async () => {
    const recorder = new Recorder('host-1');
    const server = await serve('host-1', [recorder]);
    await server.start(); // twice: nothing
    await server.stop();
    expect(server.running).toBe(false);
    const client = new RpcClient(transport, { topic: 'agent' }, { timeoutMs: 20 });
    await client.prepare({ fanout: true }).cast(CTX, 'ping');
    await expect(client.prepare({ server: 'host-1' }).call(CTX, 'ping')).rejects.toBeInstanceOf(CallTimeoutError);
    await server.start();
    await expect(client.prepare({ server: 'host-1', timeoutMs: 1000 }).call(CTX, 'ping')).resolves.toMatchObject({
      pong: 'host-1',
    });
    expect(recorder.calls).toHaveLength(1);
  });

  it('rejects bad targets and endpoints', () => {
    const make = (target: unknown, endpoints: unknown[] = [{}]) =>
      new RpcServer(transport, target as { topic: string; server: string }, endpoints as object[]);
    expect(() => make({ topic: 'agent' })).toThrow(InvalidError);
    expect(() => make({ topic: '', server: 'h' })).toThrow(InvalidError);
    expect(() => make({ topic: 'agent', server: 'h' }, [null])).toThrow(InvalidError);
    expect(() => make({ topic: 'agent', server: 'h' }, [{ target: { version: '1' } }])).toThrow(/target\.version/);
    expect(() => make({ topic: 'agent', server: 'h' }, [{ target: { namespace: '' } }])).toThrow(InvalidError);
    expect(() => make({ topic: 'agent', server: 'h' }, [{ target: 'v1' }])).toThrow(InvalidError);
    expect(() => new RpcServer(transport, { topic: 'a', server: 'h' }, [], { deliveryLimit: 0 })).toThrow(InvalidError);
    expect(invalid(() => make({ topic: 'dhcp agent', server: 'h' }))).toMatchObject({ element: 'topic' });
    expect(invalid(() => make({ topic: 'agent\n', server: 'h' }))).toMatchObject({ element: 'topic' });
  });

  it.each([
    ['null', null],
    ['a plain object', {}],
    ['an object without consume()', { publish: async () => undefined }],
  ])('refuses %s as its transport, naming it and what to pass', (_, bad) => {
    const error = invalid(() => new RpcServer(bad as unknown as Transport, { topic: 'a', server: 'h' }, []));
    expect(error.element).toBe('transport');
    expect(error.message).toMatch(/pass a Transport \(an object with consume\(\)\)/);
  });
});

describe('RpcClient', () => {
  it('prepare() changes the target and timeout on a new client; the original is unchanged', () => {
    const client = new RpcClient(transport, { topic: 'agent', version: '1.0' }, { timeoutMs: 500, versionCap: '1.5' });
    const prepared = client.prepare({ server: 'host-1', namespace: 'state', version: '1.2', timeoutMs: 10 });
    expect(prepared.target).toEqual({ topic: 'agent', server: 'host-1', namespace: 'state', version: '1.2' });
    expect([prepared.timeoutMs, prepared.versionCap]).toEqual([10, '1.5']);
    expect(client.target).toEqual({ topic: 'agent', version: '1.0' });
    expect(client.timeoutMs).toBe(500);
    expect(client.prepare({ topic: 'other', fanout: true }).target).toEqual({
      topic: 'other',
      fanout: true,
      version: '1.0',
    });
    expect(new RpcClient(transport, { topic: 'agent' }).timeoutMs).toBe(60_000);
    expect(() => prepared.prepare({ fanout: true })).toThrow(InvalidError); // a server and fanout
  });

  it('refuses, before sending, a version above the cap (canSendVersion tells in advance)', async () => {
    const got: Delivery[] = [];
    await transport.consume({ topic: 'agent' }, (d) => void got.push(d));
    const client = new RpcClient(transport, { topic: 'agent' }, { versionCap: '1.3' });
    expect([undefined, '1.0', '1.3', '1.4', '2.0', '0.9'].map((v) => client.canSendVersion(v))).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
    expect(client.prepare({ version: '1.4' }).canSendVersion()).toBe(false);
    const error = await rejection(client.prepare({ version: '1.4' }).cast(CTX, 'ping'));
    expect(error).toBeInstanceOf(RpcVersionCapError);
    expect(error).toMatchObject({ version: '1.4', versionCap: '1.3' });
    await expect(client.prepare({ version: '2.0' }).call(CTX, 'ping')).rejects.toBeInstanceOf(RpcVersionCapError);
    await client.prepare({ version: '1.2' }).cast(CTX, 'ping');
    await client.cast(CTX, 'ping'); // no version: 1.0
    await expect(
      new RpcClient(transport, { topic: 'agent', version: '1.0' }, { versionCap: '2.0' }).cast(CTX, 'ping'),
    ).rejects.toBeInstanceOf(RpcVersionCapError);
    expect(client.prepare({ versionCap: '1.9' }).prepare({ version: '1.4' }).canSendVersion()).toBe(true);
    expect(new RpcClient(transport, { topic: 'agent' }).canSendVersion('9.9')).toBe(true);
    await transport.idle();
    expect(got.map((d) => (d.body as { version?: string }).version)).toEqual(['1.2', undefined]);
  });

  it('rejects bad targets and options with InvalidError', () => {
    const make = (target: object, options?: object) => () =>
      new RpcClient(transport, target as { topic: string }, options);
    expect(make({ topic: '' })).toThrow(InvalidError);
    expect(make({ topic: 'agent', server: '' })).toThrow(InvalidError);
    expect(make({ topic: 'agent', server: 'h', fanout: true })).toThrow(/one server or to all/);
    expect(make({ topic: 'agent', fanout: 'yes' })).toThrow(InvalidError);
    for (const version of ['1', '1.2.3', 'v1.0', '1.x', '', 1.2]) {
      expect(make({ topic: 'agent', version })).toThrow(
        expect.objectContaining({ element: 'version' }) as unknown as Error,
      );
    }
    expect(make({ topic: 'agent', namespace: '' })).toThrow(InvalidError);
    for (const timeoutMs of [0, -1, NaN, Infinity, 2 ** 31, '100']) {
      expect(make({ topic: 'agent' }, { timeoutMs })).toThrow(InvalidError);
    }
    expect(make({ topic: 'agent' }, { versionCap: 'latest' })).toThrow(InvalidError);
    expect(() => new RpcClient(transport, { topic: 'agent' }).canSendVersion('one')).toThrow(InvalidError);
    expect(invalid(make({ topic: 'dhcp agent' }))).toMatchObject({ element: 'topic' });
    expect(invalid(make({ topic: '\tagent' }))).toMatchObject({ element: 'topic' });
    expect(invalid(() => new RpcClient(transport, { topic: 'agent' }).prepare({ topic: 'a b' }))).toMatchObject({
      element: 'topic',
    });
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'amqp://127.0.0.1'],
    ['an object without request()', { publish: async () => undefined, consume: async () => undefined }],
    ['an object without publish()', { request: async () => undefined }],
  ])('refuses %s as its transport, naming it and what to pass', (_, bad) => {
    const error = invalid(() => new RpcClient(bad as unknown as Transport, { topic: 'agent' }));
    expect(error.element).toBe('transport');
    expect(error.message).toMatch(/pass a Transport \(an object with publish\(\) and request\(\)\)/);
  });

  it('rejects bad call and cast arguments with InvalidError, and sends nothing', async () => {
    const got: Delivery[] = [];
    await transport.consume({ topic: 'agent' }, (d) => void got.push(d));
    const client = new RpcClient(transport, { topic: 'agent' });
    await expect(client.cast(CTX, '')).rejects.toMatchObject({ element: 'method' });
    await expect(client.call(CTX, 7 as unknown as string)).rejects.toMatchObject({ element: 'method' });
    await expect(client.cast(null as unknown as RpcContext, 'ping')).rejects.toMatchObject({ element: 'context' });
    await expect(client.cast(CTX, 'ping', [1, 2] as unknown as RpcArgs)).rejects.toMatchObject({ element: 'args' });
    await expect(client.cast(CTX, 'ping', { n: 1n })).rejects.toBeInstanceOf(InvalidError); // the transport's
    await transport.idle();
    expect(got).toHaveLength(0);
  });
});

describe('a Neutron scenario: the DHCP agent notifier', () => {
  interface Port {
    id: string;
    network_id: string;
    fixed_ips: { ip_address: string }[];
  }

  /** The server side (neutron-server): tells the DHCP agents hosting a network about its ports. */
  class DhcpAgentNotifier {
    readonly #client: RpcClient;
    constructor(
      transport: InMemoryTransport,
      private readonly hostsOf: (networkId: string) => string[],
    ) {
      this.#client = new RpcClient(transport, { topic: 'dhcp_agent', version: '1.0' });
    }
    /** Casts `method` to each agent hosting the network, as `_notify_agents` does. */
    async notify(context: RpcContext, payload: { port: Port }, method: string): Promise<void> {
      for (const host of this.hostsOf(payload.port.network_id)) {
        await this.#client.prepare({ server: host }).cast(context, method, { payload });
      }
    }
  }

  /** The plugin's RPC endpoint the agents call back (DhcpRpcCallback). */
  class DhcpRpcCallback {
    readonly target = { version: '1.8' };
    constructor(private readonly ports: Port[]) {}
    get_network_info(_ctx: RpcContext, { network_id, host }: { network_id: string; host: string }) {
      return { id: network_id, served_by: host, ports: this.ports.filter((p) => p.network_id === network_id) };
    }
  }

  /** The agent: caches ports per network; syncs a network it has not seen from the plugin. */
  class DhcpAgent {
    readonly target = { version: '1.0' };
    readonly cache = new Map<string, Map<string, Port>>();
    readonly #plugin: RpcClient;
    constructor(
      readonly host: string,
      transport: InMemoryTransport,
    ) {
      this.#plugin = new RpcClient(transport, { topic: 'q-plugin', version: '1.1' }, { timeoutMs: 1000 });
    }
    async port_create_end(context: RpcContext, { payload }: { payload: { port: Port } }) {
      const { port } = payload;
      if (!this.cache.has(port.network_id)) {
        const network = (await this.#plugin.call(context, 'get_network_info', {
          network_id: port.network_id,
          host: this.host,
        })) as { ports: Port[] };
        this.cache.set(port.network_id, new Map(network.ports.map((p) => [p.id, p])));
      }
      this.cache.get(port.network_id)!.set(port.id, port);
    }
    port_delete_end(_context: RpcContext, { payload }: { payload: { port_id: string; network_id: string } }) {
      this.cache.get(payload.network_id)?.delete(payload.port_id);
    }
  }

  it('casts port_create_end to each agent hosting the network; agents call the plugin back', async () => {
    const existing: Port = { id: 'p0', network_id: 'net-1', fixed_ips: [{ ip_address: '10.0.0.2' }] };
    await serve('controller', [new DhcpRpcCallback([existing])], {}, 'q-plugin');
    const agents = ['host-1', 'host-2', 'host-3'].map((host) => new DhcpAgent(host, transport));
    for (const agent of agents) await serve(agent.host, [agent], {}, 'dhcp_agent');
    const scheduling: Record<string, string[]> = { 'net-1': ['host-1', 'host-2'], 'net-2': ['host-3'] };
    const notifier = new DhcpAgentNotifier(transport, (networkId) => scheduling[networkId] ?? []);

    const port: Port = { id: 'p1', network_id: 'net-1', fixed_ips: [{ ip_address: '10.0.0.3' }] };
    await notifier.notify({ request_id: 'req-9' }, { port }, 'port_create_end');
    await transport.idle();

    const [one, two, three] = agents;
    expect([...one!.cache.get('net-1')!.keys()].sort()).toEqual(['p0', 'p1']);
    expect([...two!.cache.get('net-1')!.keys()].sort()).toEqual(['p0', 'p1']);
    expect(one!.cache.get('net-1')!.get('p1')).toEqual(port);
    expect(three!.cache.size).toBe(0);

    await notifier.notify({}, { port: { ...port, id: 'p2', network_id: 'net-2' } }, 'port_create_end');
    await transport.idle();
    expect([...three!.cache.get('net-2')!.keys()]).toEqual(['p2']);
    expect(one!.cache.has('net-2')).toBe(false);
  });
});
