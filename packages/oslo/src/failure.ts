/**
 * RPC failures as oslo.messaging carries them: a reply's `failure` is a JSON string of
 * `{ class, module, message, tb, args, kwargs }` (`serialize_remote_exception`). A Python caller
 * gets it back as `oslo_messaging.RemoteError(exc_type=class, value=message, traceback=tb)`, or
 * as the exception class itself when `module` is in its `allowed_remote_exmods`; a Herald caller
 * gets an {@link OsloRemoteError}, a `RemoteError` that keeps the module, traceback and arguments.
 * @module
 */

import { NoSuchMethod, RemoteError, UnsupportedVersion, failureOf } from '@herald/messaging';

/**
 * The module of oslo's RPC dispatcher errors, `NoSuchMethod` and `UnsupportedVersion`.
 *
 * @example
 * ```ts
 * failureFor(new NoSuchMethod('get_routers')).module === OSLO_DISPATCHER_MODULE; // true
 * ```
 */
export const OSLO_DISPATCHER_MODULE = 'oslo_messaging.rpc.dispatcher';

/**
 * The module a failure of a Herald handler names: no Python module of that name exists, so a
 * Python caller always gets it as `oslo_messaging.RemoteError`, never as a rebuilt exception.
 *
 * @example
 * ```ts
 * failureFor(new TypeError('bad port')).module === HERALD_FAILURE_MODULE; // true: 'herald'
 * ```
 */
export const HERALD_FAILURE_MODULE = 'herald';

/**
 * oslo's serialized failure, as the JSON in a reply's `failure`.
 *
 * @example
 * ```ts
 * const failure: OsloFailure = {
 *   class: 'NetworkNotFound', module: 'neutron_lib.exceptions', message: 'Network n1 could not be found.',
 *   tb: ['Traceback (most recent call last):\n', '…'], args: [], kwargs: { net_id: 'n1' },
 * };
 * ```
 */
export interface OsloFailure {
  /** The exception's class name, e.g. `NetworkNotFound`. */
  readonly class: string;
  /** The Python module that defines the class, e.g. `neutron_lib.exceptions`. */
  readonly module: string;
  /** The exception's text (its `str()`). */
  readonly message: string;
  /** The traceback, as lines. */
  readonly tb: readonly string[];
  /** The exception's positional arguments (Python's `args`). */
  readonly args: readonly unknown[];
  /** The exception's keyword arguments (neutron-lib's exceptions keep their message's values there). */
  readonly kwargs: Readonly<Record<string, unknown>>;
}

/**
 * A remote RPC method failed, as oslo reported it: a `RemoteError` (`remoteName` is the Python
 * class, `remoteMessage` its `str()`) with the rest of oslo's failure. Thrown again from a Herald
 * handler, it travels on with the same class, module and arguments.
 *
 * @example
 * ```ts
 * try { await client.call(ctx, 'get_network', { network_id }); }
 * catch (e) {
 *   if (e instanceof OsloRemoteError && e.remoteName === 'NetworkNotFound') return undefined;
 *   throw e;
 * }
 * ```
 */
export class OsloRemoteError extends RemoteError {
  constructor(
    remoteName: string,
    remoteMessage: string,
    /** The Python module of the exception's class, e.g. `neutron_lib.exceptions`. */
    readonly remoteModule: string,
    /** The remote traceback, as lines. */
    readonly remoteTraceback: readonly string[],
    /** The exception's `args`. */
    readonly remoteArgs: readonly unknown[] = [],
    /** The exception's `kwargs` (oslo's and Neutron's exceptions keep them). */
    readonly remoteKwargs: Readonly<Record<string, unknown>> = {},
  ) {
    super(remoteName, remoteMessage);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The traceback lines of a JavaScript error: `<class>: <message>`, then its stack frames (the
 * stack's own first line names the built-in class, `Error`, where Python readers expect the class).
 */
function tracebackOf(error: unknown, name: string, text: string): string[] {
  const stack = error instanceof Error && typeof error.stack === 'string' ? error.stack.split('\n') : [];
  return [`${name}: ${text}`, ...stack.filter((line) => /^\s+at /.test(line))];
}

/**
 * The failure oslo's callers expect for what a Herald handler threw. Herald's `NoSuchMethod` and
 * `UnsupportedVersion` become oslo's (class, module and message as a Python server writes them),
 * an {@link OsloRemoteError} keeps what it came with, anything else is its class name and message
 * in module {@link HERALD_FAILURE_MODULE}, with the JavaScript stack as the traceback.
 *
 * @example
 * ```ts
 * class RouterNotFound extends Error {}
 * failureFor(new RouterNotFound('no router r9')); // { class: 'RouterNotFound', module: 'herald', message: 'no router r9', … }
 * ```
 */
export function failureFor(error: unknown): OsloFailure {
  if (error instanceof OsloRemoteError) {
    return {
      class: error.remoteName,
      module: error.remoteModule,
      message: error.remoteMessage,
      tb: error.remoteTraceback,
      args: error.remoteArgs,
      kwargs: error.remoteKwargs,
    };
  }
  if (error instanceof NoSuchMethod) {
    return dispatcherFailure(error, 'NoSuchMethod', `Endpoint does not support RPC method ${error.method}`);
  }
  if (error instanceof UnsupportedVersion) {
    return dispatcherFailure(
      error,
      'UnsupportedVersion',
      `Endpoint does not support RPC version ${error.version}. Attempted method: ${error.method}`,
    );
  }
  const { name, text } = failureOf(error);
  const tb = tracebackOf(error, name, text);
  return { class: name, module: HERALD_FAILURE_MODULE, message: text, tb, args: [text], kwargs: {} };
}

/** As oslo's dispatcher errors serialize: their `args` are the message alone. */
function dispatcherFailure(error: Error, name: string, message: string): OsloFailure {
  const tb = tracebackOf(error, name, message);
  return { class: name, module: OSLO_DISPATCHER_MODULE, message, tb, args: [message], kwargs: {} };
}

/**
 * The error a caller gets for a reply's `failure` (a JSON string, or an object already parsed).
 * A failure that cannot be read still becomes an {@link OsloRemoteError}, named `RemoteError`,
 * with the text it had: a caller always gets a `RemoteError`.
 *
 * @example
 * ```ts
 * const error = errorOfFailure('{"class": "ValueError", "module": "builtins", "message": "bad", "tb": []}');
 * error.remoteName; // 'ValueError'
 * ```
 */
export function errorOfFailure(failure: unknown): OsloRemoteError {
  let data: unknown = failure;
  if (typeof failure === 'string') {
    try {
      data = JSON.parse(failure);
    } catch {
      data = undefined;
    }
  }
  if (!isRecord(data)) return new OsloRemoteError('RemoteError', String(failure), '', []);
  const text = (value: unknown, fallback: string): string => (typeof value === 'string' ? value : fallback);
  const tb = Array.isArray(data.tb) ? data.tb.map(String) : [];
  return new OsloRemoteError(
    text(data.class, 'RemoteError'),
    text(data.message, ''),
    text(data.module, ''),
    tb,
    Array.isArray(data.args) ? data.args : [],
    isRecord(data.kwargs) ? data.kwargs : {},
  );
}
