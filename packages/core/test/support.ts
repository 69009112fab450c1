/**
 * Helpers shared by the core tests (not a test file: Jest only collects `*.test.ts`).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach } from '@jest/globals';
import {
  CallbackRegistry,
  setDefaultRegistry,
  type Logger,
  type RegistryOptions,
  type Subscription,
} from '@herald/core';

/** A logger that keeps what it was given, level by level. */
export interface RecordingLogger extends Required<Logger> {
  readonly lines: { level: 'error' | 'warn' | 'info' | 'debug'; message: string; meta: unknown[] }[];
  /** The messages logged at `level`. */
  at(level: 'error' | 'warn' | 'info' | 'debug'): string[];
}

export function recordingLogger(): RecordingLogger {
  const lines: RecordingLogger['lines'] = [];
  const log =
    (level: RecordingLogger['lines'][number]['level']) =>
    (message: string, ...meta: unknown[]) => {
      lines.push({ level, message, meta });
    };
  return {
    lines,
    error: log('error'),
    warn: log('warn'),
    info: log('info'),
    debug: log('debug'),
    at: (level) => lines.filter((l) => l.level === level).map((l) => l.message),
  };
}

/** A registry whose logger records instead of printing. */
export function quietRegistry(options: Omit<RegistryOptions, 'logger'> = {}): {
  registry: CallbackRegistry;
  logger: RecordingLogger;
} {
  const logger = recordingLogger();
  return { registry: new CallbackRegistry({ ...options, logger }), logger };
}

/** Resolves after every pending microtask and one turn of the event loop. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Node's own `process`. Jest runs each test file in a VM context whose `process` is a copy with
 * its own listener table, so `process.on('unhandledRejection')` there never fires; a host
 * function's constructor (here `setImmediate`'s) evaluates in the host realm, where `process` is
 * the real one.
 */
function hostProcess(): NodeJS.Process {
  const HostFunction = setImmediate.constructor as FunctionConstructor;
  return HostFunction('return process')() as NodeJS.Process;
}

/** Collects the `unhandledRejection`s raised while it listens (on Node's real `process`). */
export function watchUnhandledRejections(): { readonly reasons: unknown[]; stop(): void } {
  const host = hostProcess();
  const reasons: unknown[] = [];
  const listener = (reason: unknown) => {
    reasons.push(reason);
  };
  host.prependListener('unhandledRejection', listener);
  return { reasons, stop: () => host.off('unhandledRejection', listener) };
}

/**
 * A full garbage collection. Node only exposes `gc` with `--expose-gc`; setting the flag at run
 * time and reading `gc` from a fresh context gives the same function without changing how Jest
 * is started.
 */
export async function collectGarbage(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  // WeakRef targets read in this job stay alive until it ends: let it end first.
  await nextTurn();
  gc();
  await nextTurn();
  gc();
}

/**
 * The registry's methods with plain string resources and events and unchecked payloads, for
 * resources the tests make up and for arguments the types would refuse.
 */
export interface UntypedRegistry {
  subscribe(callback: unknown, resource: unknown, event: unknown, options?: unknown): Subscription;
  unsubscribe(callback: unknown, resource: unknown, event: unknown, owner?: unknown): void;
  unsubscribeByResource(callback: unknown, resource: unknown, owner?: unknown): void;
  unsubscribeAll(callback: unknown, owner?: unknown): void;
  notify(resource: unknown, event: unknown, trigger: unknown, payload?: unknown): Promise<void>;
  publish(resource: unknown, event: unknown, trigger: unknown, payload?: unknown): Promise<void>;
  notifySync(resource: unknown, event: unknown, trigger: unknown, payload?: unknown): void;
  hasSubscribers(resource: unknown, event: unknown): boolean;
}

export function untyped(registry: CallbackRegistry): UntypedRegistry {
  return registry as unknown as UntypedRegistry;
}

/**
 * Herald's counterpart of neutron-lib's `CallbackRegistryFixture`: before each test the default
 * `registry` is swapped for a fresh quiet one (`current`), restored after it.
 */
export function isolateDefaultRegistry(): { readonly current: CallbackRegistry } {
  const state = { current: new CallbackRegistry() };
  let restore: (() => void) | undefined;
  beforeEach(() => {
    state.current = quietRegistry().registry;
    restore = setDefaultRegistry(state.current);
  });
  afterEach(() => {
    restore?.();
    restore = undefined;
  });
  return state;
}
