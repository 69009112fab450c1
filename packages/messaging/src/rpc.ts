/**
 * oslo.messaging-style RPC: an {@link RpcClient} casts (fire and forget) or calls (waits for the
 * return value) a method on the servers of a topic, and an {@link RpcServer} runs it on the first
 * of its endpoints that is in the message's namespace, compatible with its version, and has the
 * method.
 *
 * On the wire a message's body is an {@link RpcMessage} (`{ method, args, namespace?, version?,
 * context }`), and a cast carries the header `herald-rpc: cast`. The header is how the server
 * tells a cast from a call: a message without it is treated as a call (a reply is expected).
 *
 * One difference from oslo on purpose: a server acknowledges a cast only after its method ran, so
 * a method that throws gets the message again, until the transport's delivery limit
 * (at-least-once; oslo acknowledges first and loses it). Cast methods should be idempotent.
 * @module
 */

import { errorText, HeraldError, InvalidError, type Logger } from '@herald/core';
import { ConsumerSet, consumerSettings, type ConsumerSettings } from './consumers.js';
import { DeadLetterError } from './errors.js';
import { checkTransport, isTopicName } from './transport.kit.js';
import type { ConsumeOptions, Delivery, Target, Transport } from './transport.js';

/**
 * The request context an RPC message carries (oslo's `ctxt`). A JSON object.
 *
 * @example
 * ```ts
 * const ctx: RpcContext = { request_id: 'req-1', tenant_id: 't1' };
 * await client.cast(ctx, 'port_create_end', { port });
 * ```
 */
export type RpcContext = Readonly<Record<string, unknown>>;

/**
 * The arguments of an RPC method, by name (oslo's `kwargs`). A JSON object.
 *
 * @example
 * ```ts
 * const args: RpcArgs = { host: 'host-1' };
 * const networks = await client.call(ctx, 'get_active_networks_info', args);
 * ```
 */
export type RpcArgs = Readonly<Record<string, unknown>>;

/**
 * An RPC client with no declared API: any method name, optional arguments, results of type
 * `unknown`. The default of {@link RpcClient}'s type parameter.
 *
 * @example
 * ```ts
 * const client = new RpcClient<UntypedRpcApi>(transport, { topic: 'dhcp_agent' }); // the same as new RpcClient(…)
 * const anything: unknown = await client.call(ctx, 'any_method', {});
 * ```
 */
export interface UntypedRpcApi {
  /** Any method: a request context and optional arguments in, an `unknown` result out. */
  [method: string]: (context: RpcContext, args?: RpcArgs) => unknown;
}

/**
 * The method names of an RPC API (its function-valued keys). An API is a TypeScript interface
 * whose methods take the context and one object of named arguments, as endpoints implement it.
 *
 * @example
 * ```ts
 * interface DhcpAgentApi {
 *   port_create_end(context: RpcContext, args: { payload: { port: Port } }): void;
 *   get_active_networks_info(context: RpcContext, args: { host: string }): Network[];
 * }
 * type Methods = RpcMethodOf<DhcpAgentApi>; // 'port_create_end' | 'get_active_networks_info'
 * ```
 */
export type RpcMethodOf<Api> = Extract<
  { [K in keyof Api]-?: Api[K] extends (...args: never[]) => unknown ? K : never }[keyof Api],
  string
>;

/**
 * The arguments a client passes for an API method, after the context: the method's `args`
 * parameter (required when the method requires it), or none for a method that takes only the
 * context.
 *
 * @example
 * ```ts
 * type Args = RpcArgsOf<DhcpAgentApi['get_active_networks_info']>; // [args: { host: string }]
 * ```
 */
export type RpcArgsOf<Method> = Method extends (context: never, ...rest: infer Rest) => unknown
  ? Rest extends []
    ? [args?: Readonly<Record<string, never>>]
    : Rest
  : [args?: RpcArgs];

/**
 * What a call of an API method resolves to: the method's (awaited) result. It crossed the wire as
 * JSON, so declare APIs with JSON types (a `Date` arrives as a string).
 *
 * @example
 * ```ts
 * type Networks = RpcResultOf<DhcpAgentApi['get_active_networks_info']>; // Network[]
 * ```
 */
export type RpcResultOf<Method> = Method extends (...args: never[]) => infer Result ? Awaited<Result> : unknown;

/**
 * An RPC message's body on the wire.
 *
 * @example
 * ```ts
 * const body: RpcMessage = {
 *   method: 'port_create_end', args: { payload: { port } }, version: '1.0', context: { request_id: 'req-1' },
 * };
 * ```
 */
export interface RpcMessage {
  /** The method to call on the endpoints. */
  readonly method: string;
  /** Its arguments, by name. */
  readonly args: RpcArgs;
  /** Absent: the default namespace. */
  readonly namespace?: string;
  /** `major.minor`; absent means `1.0`. */
  readonly version?: string;
  /** The caller's request context. */
  readonly context: RpcContext;
}

/** The header that marks a cast, and its value. */
const KIND_HEADER = 'herald-rpc';
const CAST = 'cast';
const CALL = 'call';

/**
 * The headers by which a delivery is a cast for an {@link RpcServer} (a delivery without them is a
 * call, which expects a reply). For transports that carry RPC in another wire format and tell a
 * cast by other means, such as `@herald/oslo` (an oslo message without `_msg_id`).
 *
 * @example
 * ```ts
 * const headers = isCall ? {} : RPC_CAST_HEADERS;
 * await handler({ id, target, headers, body, attempt: 1 });
 * ```
 */
export const RPC_CAST_HEADERS: Readonly<Record<string, string>> = Object.freeze({ [KIND_HEADER]: CAST });

/** The version of a message or an endpoint that does not name one (oslo's default). */
const DEFAULT_VERSION = '1.0';

/**
 * The default {@link RpcClientOptions.timeoutMs}: a minute, as oslo's `rpc_response_timeout`.
 *
 * @example
 * ```ts
 * const client = new RpcClient(transport, { topic: 'l3_agent' }, { timeoutMs: DEFAULT_RPC_TIMEOUT_MS / 6 });
 * ```
 */
export const DEFAULT_RPC_TIMEOUT_MS = 60_000;

const MAX_TIMEOUT_MS = 2 ** 31 - 1;

const consoleLogger: Logger = {
  error: (message, ...meta) => console.error(message, ...meta),
};

interface Version {
  readonly major: number;
  readonly minor: number;
}

const VERSION = /^(\d+)\.(\d+)$/;

/** `major.minor` as numbers, or `undefined` if `value` is not such a string. */
function parseVersion(value: unknown): Version | undefined {
  const match = typeof value === 'string' ? VERSION.exec(value) : null;
  return match === null ? undefined : { major: Number(match[1]), minor: Number(match[2]) };
}

function requireVersion(element: string, value: unknown): Version {
  const version = parseVersion(value);
  if (version === undefined) throw new InvalidError(element, value, `pass a 'major.minor' string, e.g. '1.3'.`);
  return version;
}

/**
 * Whether what implements `available` can serve a request for `requested` (oslo's
 * `version_is_compatible`): the same major version, and at least the requested minor one.
 */
function isCompatible(available: Version, requested: Version): boolean {
  return available.major === requested.major && available.minor >= requested.minor;
}

function requireName(element: string, value: unknown, hint: string): string {
  if (typeof value !== 'string' || value === '') throw new InvalidError(element, value, hint);
  return value;
}

/** A topic: a non-empty string without whitespace, as a transport target's. */
function requireTopic(value: unknown): string {
  if (!isTopicName(value)) {
    throw new InvalidError('topic', value, `pass a non-empty string without whitespace, e.g. 'dhcp_agent'.`);
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireRecord(element: string, value: unknown, hint: string): Record<string, unknown> {
  if (!isRecord(value)) throw new InvalidError(element, value, hint);
  return value;
}

/**
 * The client has a version cap, and the version asked for is above it (oslo's
 * `RPCVersionCapError`). Nothing was sent. Check with {@link RpcClient.canSendVersion} first to
 * fall back to an older form of the message, as Neutron does during rolling upgrades.
 *
 * @example
 * ```ts
 * const client = new RpcClient(transport, { topic: 'q-l3-plugin' }, { versionCap: '1.3' });
 * await client.prepare({ version: '1.5' }).cast(ctx, 'update_ha_routers_states', args);
 * // rejects: RpcVersionCapError
 * ```
 */
export class RpcVersionCapError extends HeraldError {
  constructor(
    /** The version the message asked for. */
    readonly version: string,
    /** The client's cap, which that version exceeds. */
    readonly versionCap: string,
  ) {
    super(
      `Version ${version} is above the client's version cap ${versionCap}: send an older form of the message ` +
        `(check client.canSendVersion(version)), or raise the cap once every server supports ${version}.`,
    );
  }
}

/**
 * A server had endpoints for the message's namespace and version, but none of them has the method
 * (oslo's `NoSuchMethod`). A caller gets it as a `RemoteError` whose `remoteName` is `'NoSuchMethod'`.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof RemoteError && e.remoteName === NoSuchMethod.name) … }
 * ```
 */
export class NoSuchMethod extends HeraldError {
  constructor(
    /** The method no endpoint has. */
    readonly method: string,
  ) {
    super(`No endpoint has a public method '${method}' for this namespace and version.`);
  }
}

/**
 * A server has no endpoint for the message's namespace and version (oslo's `UnsupportedVersion`):
 * another major version, a newer minor one, or an unknown namespace. A caller gets it as a
 * `RemoteError` whose `remoteName` is `'UnsupportedVersion'`.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof RemoteError && e.remoteName === UnsupportedVersion.name) fallBack(); }
 * ```
 */
export class UnsupportedVersion extends HeraldError {
  constructor(
    /** The version the message asked for. */
    readonly version: string,
    /** The method it called. */
    readonly method: string,
    /** The namespace it called, if any. */
    readonly namespace: string | undefined,
  ) {
    super(
      `No endpoint supports version ${version}${namespace === undefined ? '' : ` in namespace '${namespace}'`} ` +
        `(for method '${method}').`,
    );
  }
}

/**
 * Where an {@link RpcClient} sends: a transport {@link Target} plus the namespace and version its
 * messages ask for (oslo's `Target`).
 *
 * @example
 * ```ts
 * const target: RpcTarget = { topic: 'dhcp_agent', version: '1.0' };
 * ```
 */
export interface RpcTarget extends Target {
  /** The endpoints' namespace. Default: the default namespace. */
  readonly namespace?: string;
  /** The version the messages need, `major.minor`. Default: none, which servers read as `1.0`. */
  readonly version?: string;
}

/**
 * Options of an {@link RpcClient}.
 *
 * @example
 * ```ts
 * const client = new RpcClient(transport, { topic: 'l3_agent', version: '1.1' }, { timeoutMs: 10_000, versionCap: '1.3' });
 * ```
 */
export interface RpcClientOptions {
  /** How long `call` waits for a reply, in milliseconds. Default {@link DEFAULT_RPC_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /** The highest version this client may send (`major.minor`); see {@link RpcVersionCapError}. */
  readonly versionCap?: string;
}

/**
 * What {@link RpcClient.prepare} may change. A missing (or `undefined`) option keeps the client's
 * value, as oslo's `prepare`: to go from a fanout client to one server, pass `fanout: false` too.
 *
 * @example
 * ```ts
 * await client.prepare({ server: 'host-1', version: '1.2' }).cast(ctx, 'routers_updated', { routers });
 * ```
 */
export interface RpcPrepareOptions extends RpcClientOptions {
  /** Another topic. */
  readonly topic?: string;
  /** One server (host) of the topic. */
  readonly server?: string;
  /** Every server of the topic (casts only). */
  readonly fanout?: boolean;
  /** The endpoints' namespace. */
  readonly namespace?: string;
  /** The version the message asks for (`major.minor`). */
  readonly version?: string;
}

/**
 * Invokes methods on RPC servers (oslo's `RPCClient`). Where a message goes depends on the target:
 * `{ topic }` to one server of the topic, `{ topic, server }` to that server, `{ topic, fanout:
 * true }` to every server of the topic (casts only). A client is immutable: {@link prepare} makes
 * a variant for one host or version.
 *
 * Every method rejects (never throws) with `InvalidError` for bad arguments, and with
 * {@link RpcVersionCapError} when the version is above the cap; nothing is sent then.
 *
 * @example
 * ```ts
 * const client = new RpcClient(transport, { topic: 'dhcp_agent', version: '1.0' });
 * await client.prepare({ server: 'host-1' }).cast(ctx, 'port_create_end', { payload: { port } });
 * const routers = await client.prepare({ topic: 'q-l3-plugin', version: '1.1' }).call(ctx, 'sync_routers', { host });
 * ```
 */
export class RpcClient<Api extends object = UntypedRpcApi> {
  /** Where messages go, with their namespace and version. */
  readonly target: RpcTarget;
  /** How long `call` waits, in milliseconds. */
  readonly timeoutMs: number;
  /** The highest version this client sends, if capped. */
  readonly versionCap: string | undefined;
  readonly #cap: Version | undefined;

  /**
   * @throws InvalidError for a transport without `publish` and `request`, a bad target (empty
   *   topic or one with whitespace, server with fanout, version not `major.minor`) or options.
   */
  constructor(
    /** The transport it sends on. */
    readonly transport: Transport,
    target: RpcTarget,
    options: RpcClientOptions = {},
  ) {
    checkTransport(transport, ['publish', 'request']);
    requireRecord('target', target, `pass { topic, server?, fanout?, namespace?, version? }.`);
    requireRecord('options', options, `pass { timeoutMs?, versionCap? }.`);
    requireTopic(target.topic);
    if (target.server !== undefined) requireName('server', target.server, `pass a non-empty host name, or no server.`);
    if (target.fanout !== undefined && typeof target.fanout !== 'boolean') {
      throw new InvalidError('fanout', target.fanout, `pass true, false, or nothing.`);
    }
    if (target.server !== undefined && target.fanout === true) {
      throw new InvalidError(
        'fanout',
        target.fanout,
        `a message goes to one server or to all of them: drop server or fanout.`,
      );
    }
    if (target.namespace !== undefined)
      requireName('namespace', target.namespace, `pass a non-empty string, or no namespace.`);
    if (target.version !== undefined) requireVersion('version', target.version);
    const timeoutMs = options.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
    // The upper bound is what timers honour (a longer delay would fire at once).
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || timeoutMs > MAX_TIMEOUT_MS) {
      throw new InvalidError('timeoutMs', timeoutMs, `pass a number of milliseconds above 0, up to ${MAX_TIMEOUT_MS}.`);
    }
    this.#cap = options.versionCap === undefined ? undefined : requireVersion('versionCap', options.versionCap);
    this.versionCap = options.versionCap;
    this.timeoutMs = timeoutMs;
    // Copy only what a target is, so that later changes to the caller's object change nothing here.
    this.target = Object.freeze({
      topic: target.topic,
      ...(target.server !== undefined && { server: target.server }),
      ...(target.fanout !== undefined && { fanout: target.fanout }),
      ...(target.namespace !== undefined && { namespace: target.namespace }),
      ...(target.version !== undefined && { version: target.version }),
    });
  }

  /**
   * A client with some of the target and options changed (oslo's `prepare`); this one is unchanged.
   *
   * @example
   * ```ts
   * const cctxt = client.prepare({ server: host, version: '1.2' });
   * await cctxt.cast(ctx, 'network_delete_end', { payload });
   * ```
   */
  prepare(overrides: RpcPrepareOptions = {}): RpcClient<Api> {
    requireRecord('overrides', overrides, `pass the options to change, e.g. { server: 'host-1' }.`);
    const t = this.target;
    return new RpcClient<Api>(
      this.transport,
      {
        topic: overrides.topic ?? t.topic,
        server: overrides.server ?? t.server,
        fanout: overrides.fanout ?? t.fanout,
        namespace: overrides.namespace ?? t.namespace,
        version: overrides.version ?? t.version,
      },
      { timeoutMs: overrides.timeoutMs ?? this.timeoutMs, versionCap: overrides.versionCap ?? this.versionCap },
    );
  }

  /**
   * Whether this client may send `version` (default: its target's, or `1.0` without one) under its
   * cap (oslo's `can_send_version`). Always true without a cap.
   *
   * @example
   * ```ts
   * const cctxt = client.canSendVersion('1.5') ? client.prepare({ version: '1.5' }) : client;
   * ```
   */
  canSendVersion(version: string | undefined = this.target.version): boolean {
    const requested = requireVersion('version', version ?? DEFAULT_VERSION);
    return this.#cap === undefined || isCompatible(this.#cap, requested);
  }

  /**
   * Sends `method(context, args)` without waiting for it to run: resolves once the transport holds
   * the message. With a `fanout` target every server runs it.
   *
   * @example
   * ```ts
   * await client.prepare({ fanout: true }).cast(ctx, 'agent_updated', { payload: { admin_state_up: true } });
   * ```
   */
  cast<M extends RpcMethodOf<Api>>(context: RpcContext, method: M, ...args: RpcArgsOf<Api[M]>): Promise<void>;
  async cast(context: RpcContext, method: string, ...rest: unknown[]): Promise<void> {
    const message = this.#message(context, method, rest[0] ?? {});
    await this.transport.publish(this.#transportTarget(), { headers: { [KIND_HEADER]: CAST }, body: message });
  }

  /**
   * Runs `method(context, args)` on one server and resolves with what it returned (after its
   * JSON round trip). Rejects with `RemoteError` when the method threw (`remoteName`,
   * `remoteMessage`: its error's class and message, see `RemoteError`; `NoSuchMethod` or
   * `UnsupportedVersion` when the server has no such method), with `CallTimeoutError` when no
   * reply came within `timeoutMs`, and with `InvalidError` for a fanout target (a call has one
   * answer).
   *
   * @example
   * ```ts
   * const routers = await client.call(ctx, 'sync_routers', { host: 'host-1', router_ids: ['r1'] });
   * ```
   */
  call<M extends RpcMethodOf<Api>>(
    context: RpcContext,
    method: M,
    ...args: RpcArgsOf<Api[M]>
  ): Promise<RpcResultOf<Api[M]>>;
  async call(context: RpcContext, method: string, ...rest: unknown[]): Promise<unknown> {
    if (this.target.fanout === true) {
      throw new InvalidError(
        'fanout',
        true,
        `a call waits for one reply: cast to a fanout target, or call one server.`,
      );
    }
    const message = this.#message(context, method, rest[0] ?? {});
    const reply = await this.transport.request(
      this.#transportTarget(),
      { headers: { [KIND_HEADER]: CALL }, body: message },
      { timeoutMs: this.timeoutMs },
    );
    return reply.body;
  }

  /** Checks the arguments and the cap, then builds the body. */
  #message(context: RpcContext, method: string, args: unknown): RpcMessage {
    requireRecord('context', context, `pass the request context as an object ({} for none).`);
    requireName('method', method, `pass the name of the remote method, e.g. 'port_create_end'.`);
    requireRecord('args', args, `pass the method's arguments as an object of named values ({} for none).`);
    const { namespace, version } = this.target;
    if (!this.canSendVersion()) throw new RpcVersionCapError(version ?? DEFAULT_VERSION, this.versionCap!);
    return {
      method,
      args: args as RpcArgs,
      ...(namespace !== undefined && { namespace }),
      ...(version !== undefined && { version }),
      context,
    };
  }

  #transportTarget(): Target {
    const { topic, server, fanout } = this.target;
    if (server !== undefined) return { topic, server };
    return fanout === true ? { topic, fanout: true } : { topic };
  }
}

/**
 * What an RPC endpoint may declare as its `target` property (own or inherited): the namespace it
 * serves and the version it implements (oslo's endpoint `target`).
 *
 * @example
 * ```ts
 * class DhcpRpcCallback { readonly target: RpcEndpointTarget = { version: '1.8' }; … }
 * ```
 */
export interface RpcEndpointTarget {
  /** Default: the default namespace (messages without a namespace). */
  readonly namespace?: string;
  /** `major.minor`. Default `1.0`. */
  readonly version?: string;
}

/**
 * The target of an {@link RpcServer}: the topic it serves, and the host it serves it as.
 *
 * @example
 * ```ts
 * const target: RpcServerTarget = { topic: 'dhcp_agent', server: 'host-1' };
 * const server = new RpcServer(transport, target, [endpoint]);
 * ```
 */
export interface RpcServerTarget {
  /** Non-empty, no whitespace. */
  readonly topic: string;
  /** The host it serves the topic as: non-empty. */
  readonly server: string;
}

/**
 * Options of an {@link RpcServer}.
 *
 * @example
 * ```ts
 * const server = new RpcServer(transport, { topic: 'dhcp_agent', server: 'host-1' }, [endpoint], {
 *   logger: console,
 *   deliveryLimit: 3,
 *   retryBackoff: { initialDelayMs: 1_000 }, // a failed cast waits 1 s, then 2 s
 * });
 * ```
 */
export interface RpcServerOptions extends Pick<
  ConsumeOptions,
  'deliveryLimit' | 'handlerTimeoutMs' | 'retryBackoff' | 'concurrency'
> {
  /**
   * Where failed casts (error) and failed calls (debug) are reported.
   * Default: `console.error` only.
   */
  readonly logger?: Logger;
}

/**
 * An endpoint of an RPC server for the API `Api`: some of the API's methods (an endpoint serves
 * part of an API, another endpoint the rest), whose parameters are typed by it, and an optional
 * `target`. With no declared API, any object.
 *
 * @example
 * ```ts
 * const endpoint: RpcEndpoint<DhcpAgentApi> = {
 *   port_create_end(context, { payload }) { cache.add(payload.port); }, // parameters typed by DhcpAgentApi
 * };
 * ```
 */
export type RpcEndpoint<Api extends object = UntypedRpcApi> = Api extends UntypedRpcApi
  ? object
  : { [M in RpcMethodOf<Api>]?: Api[M] } & { readonly target?: RpcEndpointTarget };

/** An endpoint with its declared target, checked once. */
interface EndpointEntry {
  readonly endpoint: object;
  readonly namespace: string | undefined;
  readonly version: Version;
}

/**
 * The public method `name` of `endpoint`: a function (not a getter) found on the object or its
 * prototypes up to, and not including, `Object.prototype` — so a caller cannot run `toString`,
 * `valueOf` or `hasOwnProperty` — whose name does not start with `_` and is not `constructor`.
 */
function publicMethod(endpoint: object, name: string): Function | undefined {
  if (name.startsWith('_') || name === 'constructor') return undefined;
  for (let o: object | null = endpoint; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    const descriptor = Object.getOwnPropertyDescriptor(o, name);
    if (descriptor !== undefined) return typeof descriptor.value === 'function' ? descriptor.value : undefined;
  }
  return undefined;
}

/**
 * Serves RPC (oslo's RPC server): it consumes `{ topic }` (in the topic's shared group, so each
 * message reaches one server of the topic), `{ topic, server }` and `{ topic, fanout: true }`,
 * and runs each message's method on an endpoint.
 *
 * The endpoint is the first, in the order given, whose namespace is the message's (no namespace
 * on both sides is the default one), whose version is compatible (the same major version, a
 * minor version at least the requested one; a message without a version asks for `1.0`), and
 * that has the method as a public method (see below). It is called as `method(context, args)`
 * with `this` the endpoint: the context and the named arguments as one object (oslo passes them
 * as `ctxt, **kwargs`), so a method reads `({ port }: { port: Port })`. Public methods: functions
 * of the endpoint or its classes, whose name does not start with `_`, other than `constructor` and
 * those every object has (`toString`…).
 *
 * For a call, what the method returns (awaited) is the reply; if it throws, or no endpoint fits,
 * the caller gets a `RemoteError` (`NoSuchMethod` when endpoints of the namespace and version
 * exist but none has the method, `UnsupportedVersion` otherwise), and the message is not retried.
 * For a cast, a method that throws has the message requeued until the delivery limit (logged at
 * error); a cast no endpoint fits goes straight to the transport's dead letters with the reason
 * ({@link DeadLetterError}), since it would not fit on a retry either. A message that is not an
 * RPC message (`{"foo":1}`, `null`) is dead-lettered the same way, or, when a caller waits for
 * it, answered with a `RemoteError` named `DeadLetterError` that says what was wrong.
 *
 * @example
 * ```ts
 * class DhcpAgentEndpoint {
 *   readonly target = { version: '1.0' };
 *   async port_create_end(context: RpcContext, { payload }: { payload: { port: Port } }) { … }
 * }
 * const server = new RpcServer(transport, { topic: 'dhcp_agent', server: 'host-1' }, [new DhcpAgentEndpoint()]);
 * await server.start();
 * // With the API the clients use, an endpoint's parameters are typed by it:
 * new RpcServer<DhcpAgentApi>(transport, target, [{ port_create_end(context, { payload }) { … } }]);
 * ```
 */
export class RpcServer<Api extends object = UntypedRpcApi> {
  /** The topic and host served. */
  readonly target: RpcServerTarget;
  readonly #endpoints: readonly EndpointEntry[];
  readonly #logger: Logger;
  readonly #settings: ConsumerSettings;
  readonly #consumers = new ConsumerSet();

  /**
   * @throws InvalidError for a transport without `consume`, a bad target (empty topic or one with
   *   whitespace, no server) or options, an endpoint that is not an object, or an endpoint
   *   `target` with a bad namespace or version
   */
  constructor(
    /** The transport it consumes from. */
    readonly transport: Transport,
    target: RpcServerTarget,
    endpoints: readonly RpcEndpoint<Api>[],
    options: RpcServerOptions = {},
  ) {
    checkTransport(transport, ['consume']);
    requireRecord('target', target, `pass { topic, server }.`);
    requireRecord(
      'options',
      options,
      `pass { logger?, deliveryLimit?, handlerTimeoutMs?, retryBackoff?, concurrency? }.`,
    );
    requireTopic(target.topic);
    requireName('server', target.server, `pass this host's name, e.g. 'host-1'.`);
    this.target = Object.freeze({ topic: target.topic, server: target.server });
    if (!Array.isArray(endpoints)) throw new InvalidError('endpoints', endpoints, `pass an array of endpoint objects.`);
    this.#endpoints = Object.freeze(
      (endpoints as unknown[]).map((endpoint): EndpointEntry => {
        if (typeof endpoint !== 'object' || endpoint === null) {
          throw new InvalidError('endpoints', endpoint, `each endpoint must be an object whose methods are served.`);
        }
        const declared: unknown = (endpoint as { target?: unknown }).target;
        if (declared !== undefined && !isRecord(declared)) {
          throw new InvalidError('target', declared, `an endpoint's target is { namespace?, version? }.`);
        }
        const namespace = declared?.namespace;
        if (namespace !== undefined)
          requireName('target.namespace', namespace, `pass a non-empty string, or no namespace.`);
        const version = requireVersion('target.version', declared?.version ?? DEFAULT_VERSION);
        return { endpoint, namespace: namespace as string | undefined, version };
      }),
    );
    this.#settings = consumerSettings(options);
    this.#logger = options.logger ?? consoleLogger;
  }

  /** Whether it is consuming. */
  get running(): boolean {
    return this.#consumers.running;
  }

  /**
   * Starts consuming the topic, the host and the fanout; resolves once all three are listening.
   * Starting a running server does nothing. If a consumer cannot be started, those started are
   * closed and the error is thrown.
   *
   * @example
   * ```ts
   * await server.start();
   * ```
   */
  start(): Promise<void> {
    const { topic, server } = this.target;
    const targets = [{ topic }, { topic, server }, { topic, fanout: true }];
    return this.#consumers.start(this.transport, targets, (delivery) => this.#handle(delivery), this.#settings);
  }

  /**
   * Stops consuming; resolves once the deliveries in progress have been settled. Stopping a
   * stopped server does nothing; a stopped server can be started again.
   *
   * @example
   * ```ts
   * await server.stop();
   * ```
   */
  stop(): Promise<void> {
    return this.#consumers.stop();
  }

  /** Handles one delivery: returns the reply of a call, throws to requeue a cast or to fail a call. */
  async #handle(delivery: Delivery): Promise<unknown> {
    const isCast = delivery.headers[KIND_HEADER] === CAST;
    const where = `${delivery.id} on ${this.target.topic}.${this.target.server}`;
    const body = delivery.body;
    const problem = malformed(body);
    if (problem !== undefined) {
      // Not an RPC message: no retry fixes it. A caller gets the reason as a RemoteError; a
      // message that nobody waits for goes to the dead letters with it.
      throw new DeadLetterError(`Message ${where} is not an RPC message: ${problem}`, {
        cause: new InvalidError('message', body, problem),
      });
    }
    const message = body as RpcMessage;
    let method: Function, endpoint: object;
    try {
      [endpoint, method] = this.#find(message);
    } catch (error) {
      if (!isCast) throw error;
      throw new DeadLetterError(`No endpoint takes the cast of '${message.method}' ${where}: ${errorText(error)}`, {
        cause: error,
      });
    }
    try {
      return await method.call(endpoint, message.context ?? {}, message.args ?? {});
    } catch (error) {
      const name = `${endpoint.constructor?.name ?? 'Object'}.${message.method}`;
      if (isCast) {
        this.#logger.error(
          `RPC endpoint ${name} failed on a cast (${where}, attempt ${delivery.attempt}): ${errorText(error)}; ` +
            `the message is requeued.`,
          error,
        );
      } else {
        this.#logger.debug?.(`RPC endpoint ${name} failed on a call (${where}): ${errorText(error)}.`);
      }
      throw error;
    }
  }

  /** oslo's dispatch: the first endpoint of the namespace and version that has the method. */
  #find(message: RpcMessage): [object, Function] {
    const versionText = message.version ?? DEFAULT_VERSION;
    const namespace = message.namespace ?? undefined;
    const requested = parseVersion(versionText);
    let compatible = false;
    if (requested !== undefined) {
      for (const entry of this.#endpoints) {
        if (entry.namespace !== namespace || !isCompatible(entry.version, requested)) continue;
        const method = publicMethod(entry.endpoint, message.method);
        if (method !== undefined) return [entry.endpoint, method];
        compatible = true;
      }
    }
    if (compatible) throw new NoSuchMethod(message.method);
    throw new UnsupportedVersion(String(versionText), message.method, namespace);
  }
}

/** Why `body` is not an {@link RpcMessage}, or `undefined` if it is one. */
function malformed(body: unknown): string | undefined {
  if (!isRecord(body)) return `an RPC message is an object { method, args, context, namespace?, version? }.`;
  if (typeof body.method !== 'string' || body.method === '') return `the message has no method name.`;
  if (body.args !== undefined && !isRecord(body.args)) return `the message's args are not an object.`;
  if (body.context !== undefined && !isRecord(body.context)) return `the message's context is not an object.`;
  if (body.namespace !== undefined && body.namespace !== null && typeof body.namespace !== 'string') {
    return `the message's namespace is not a string.`;
  }
  return undefined;
}
