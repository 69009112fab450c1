/**
 * The cases and their rows. A row's `prepare` builds everything, and returns the operation to time
 * and a check that one operation (one rotation in case e) reached every handler exactly once. Each
 * row is prepared and measured in a process of its own (see run.ts), so no row sees the code paths
 * and inline caches another row warmed up.
 * @module
 */

import {
  AFTER_CREATE,
  CallbackRegistry,
  EventPayload,
  events as heraldEvents,
  ROUTER,
  type Subscription,
} from '@herald/core';
import Emittery from 'emittery';
import eventemitter2 from 'eventemitter2';
import { makeHandlers, type Handler, type HandlerSet } from './handlers.js';
import { peers, type Peer, type PeerEmitter } from './peers.js';

/** `limit`: the physical limit (a loop over pre-resolved handlers); `reference`: a variant of it. */
export type RowKind = 'limit' | 'reference' | 'herald' | 'peer';

export interface Prepared {
  /** What is timed: one publish (or subscribe + unsubscribe). */
  readonly op: () => unknown;
  /** Throws unless one operation (or one rotation) reached every handler exactly once. */
  readonly check: () => unknown;
  readonly close?: () => Promise<void>;
}

export interface Row {
  readonly name: string;
  readonly kind: RowKind;
  /** Shown under the table (how the row differs from the others). */
  readonly note?: string;
  /** Why `npm run bench:instructions` does not count this row, where it cannot. */
  readonly uncounted?: string;
  prepare(): Promise<Prepared>;
}

/** Case (d): subscribe `fns`; returns a publish, to check after measuring the heap. */
export interface HeapRow {
  readonly name: string;
  readonly kind: RowKind;
  subscribe(fns: readonly Handler[]): () => unknown;
}

export interface Case {
  readonly id: string;
  readonly title: string;
  readonly rows: readonly Row[];
  /**
   * The fewest operations `npm run bench:instructions` counts for this case, whatever `--ops`
   * says: where a garbage collection or a late compilation inside a shorter run moves the count.
   */
  readonly countAtLeast?: number;
}

/** The registry methods with plain strings, for generated (resource, event) keys. */
interface UntypedRegistry {
  notifySync(resource: string, event: string, trigger: unknown, payload?: EventPayload): void;
  notify(resource: string, event: string, trigger: unknown, payload?: EventPayload): Promise<void>;
  subscribe(callback: Handler, resource: string, event: string): Subscription;
  unsubscribe(callback: Handler, resource: string, event: string): void;
}

const untyped = (registry: CallbackRegistry) => registry as unknown as UntypedRegistry;

/** The one small payload every library publishes. */
export const payload = new EventPayload({ user: 'bench' }, { resourceId: 'router-1', states: [{ id: 'router-1' }] });
const NAME = `${ROUTER}.${AFTER_CREATE}`;
const syncPeers = peers.filter((p) => !p.async);
const { EventEmitter2 } = eventemitter2;

/** Prepared from an operation and a check that runs it once after resetting `handlers`. */
function prepared(handlers: HandlerSet, label: string, op: () => unknown, close?: () => Promise<void>): Prepared {
  return {
    op,
    async check() {
      handlers.reset();
      await op();
      handlers.verify(label);
    },
    close,
  };
}

/**
 * Herald's timed operations, each built as `peers.ts` builds a peer's: a closure of its own over
 * its parameters. When the engine optimises a closure made once, it reads the values the closure
 * captured as constants; a module binding (the imported `ROUTER`, the exported `payload`) it
 * loads and checks on every use instead. The peers' rows publish `payload` under a name they
 * captured, so Herald's rows (and the limit rows) capture theirs too: the engine then sees the
 * same constants in every row, and in particular can fold each handler's check of the payload it
 * received (an identity comparison with `payload`) alike.
 */
const heraldOps = {
  notifySync: (registry: UntypedRegistry, resource: string, event: string, payload: EventPayload) => () =>
    registry.notifySync(resource, event, undefined, payload),
  notify: (registry: UntypedRegistry, resource: string, event: string, payload: EventPayload) => () => {
    void registry.notify(resource, event, undefined, payload);
  },
  notifyAwaited: (registry: UntypedRegistry, resource: string, event: string, payload: EventPayload) => () =>
    registry.notify(resource, event, undefined, payload),
  churn: (registry: UntypedRegistry, resource: string, event: string, fn: Handler) => () => {
    registry.subscribe(fn, resource, event);
    registry.unsubscribe(fn, resource, event);
  },
  churnByHandle: (registry: UntypedRegistry, resource: string, event: string, fn: Handler) => () =>
    registry.subscribe(fn, resource, event).unsubscribe(),
  rotateSync: (registry: UntypedRegistry, keys: readonly RotationKey[], payload: EventPayload) => {
    let i = 0;
    return () => {
      const key = keys[i]!;
      i = i + 1 === keys.length ? 0 : i + 1;
      registry.notifySync(key.resource, key.event, undefined, payload);
    };
  },
  rotateAwaited: (registry: UntypedRegistry, keys: readonly RotationKey[], payload: EventPayload) => {
    let i = 0;
    return () => {
      const key = keys[i]!;
      i = i + 1 === keys.length ? 0 : i + 1;
      return registry.notify(key.resource, key.event, undefined, payload);
    };
  },
};

/** The limit rows' loops, built alike (see {@link heraldOps}). */
const loops = {
  calls: (fns: readonly Handler[], payload: unknown) => () => {
    for (let i = 0; i < fns.length; i++) fns[i]!(payload);
  },
  awaits: (fns: readonly Handler[], payload: unknown) => async () => {
    for (let i = 0; i < fns.length; i++) await fns[i]!(payload);
  },
  together: (fns: readonly Handler[], payload: unknown) => () => Promise.all(fns.map((fn) => fn(payload))),
  rotate: (lists: readonly (readonly Handler[])[], payload: unknown) => {
    let i = 0;
    return () => {
      const fns = lists[i]!;
      i = i + 1 === lists.length ? 0 : i + 1;
      for (let j = 0; j < fns.length; j++) fns[j]!(payload);
    };
  },
};

/** Publishing on the emitters this file drives itself (emittery, eventemitter2, Nest), built alike. */
const emits = {
  emit: (emitter: { emit(name: string, data: unknown): unknown }, name: string, payload: unknown) => () =>
    emitter.emit(name, payload),
  emitSerial: (emitter: { emitSerial(name: string, data: unknown): unknown }, name: string, payload: unknown) => () =>
    emitter.emitSerial(name, payload),
  emitAsync: (emitter: { emitAsync(name: string, data: unknown): unknown }, name: string, payload: unknown) => () =>
    emitter.emitAsync(name, payload),
};

/**
 * The other keys of case (g), as an application has them: 40 resources with 15 events each,
 * subscribed before the key that is published.
 */
const OTHER_KEYS: readonly RotationKey[] = Array.from({ length: 40 }, (_, r) =>
  Object.values(heraldEvents)
    .slice(0, 15)
    .map((event) => ({ resource: `resource${r}`, event, name: `resource${r}.${event}` })),
).flat();

const noop = (): void => undefined;

/** A registry with `fns` on (ROUTER, AFTER_CREATE), after a no-op on each of `others`. */
function heraldWith(fns: readonly Handler[], others: readonly RotationKey[] = []): UntypedRegistry {
  const registry = untyped(new CallbackRegistry({ name: 'bench' }));
  for (const key of others) registry.subscribe(noop, key.resource, key.event);
  for (const fn of fns) registry.subscribe(fn, ROUTER, AFTER_CREATE);
  return registry;
}

function peerWith(peer: Peer, fns: readonly Handler[], name = NAME, others: readonly RotationKey[] = []): PeerEmitter {
  const emitter = peer.create();
  for (const key of others) emitter.on(key.name, noop);
  for (const fn of fns) emitter.on(name, fn);
  return emitter;
}

// (a) ------------------------------------------------------------------------------------------

/**
 * `fns` called with the payload one after the other by one generated function, as a baked caller does; with
 * `checked`, each call also has its result checked for a promise and the position of a throwing
 * one recorded, the checks Herald's compiled rounds make. The two differ only by those checks.
 */
function unrolled(fns: readonly Handler[], checked: boolean): () => unknown {
  let body = '';
  for (let i = 0; i < fns.length; i++) {
    body += checked
      ? `i = ${i}; if ((r = f[${i}](p)) !== undefined && isThenable(r)) return ${i + 1};\n`
      : `f[${i}](p);\n`;
  }
  const source = checked
    ? `return () => { let i = 0, r; try {\n${body} return 0; } catch (error) { return -i - 1; } };`
    : `return () => {\n${body} };`;
  const isThenable = (value: unknown) =>
    value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
  // Constants rather than array loads, as in a baked caller.
  const names = fns.map((_, i) => `f${i}`);
  const make = new Function(...names, 'isThenable', 'p', source.replaceAll(/f\[(\d+)\]/g, 'f$1'));
  return make(...fns, isThenable, payload) as () => unknown;
}

/**
 * Case (a): one key with `count` handlers. With `among`, case (g): the same publish while those
 * other keys are subscribed, as in an application.
 */
function publishCase(count: number, among: readonly RotationKey[] = []): Case {
  const handlers = () => makeHandlers(count, payload);
  const rows: Row[] = [
    {
      name: 'for loop',
      kind: 'limit',
      async prepare() {
        const h = handlers();
        return prepared(h, this.name, loops.calls(h.fns, payload));
      },
    },
    {
      name: 'unrolled calls',
      kind: 'reference',
      note: 'one generated function calling each handler in turn: no lookup, no error handling',
      async prepare() {
        const h = handlers();
        return prepared(h, this.name, unrolled(h.fns, false));
      },
    },
    {
      name: 'unrolled calls + error checks',
      kind: 'reference',
      note: "the same with Herald's per-call checks: one try for all calls, and a promise check of each result",
      async prepare() {
        const h = handlers();
        return prepared(h, this.name, unrolled(h.fns, true));
      },
    },
    {
      name: 'Herald notifySync',
      kind: 'herald',
      async prepare() {
        const h = handlers();
        return prepared(h, this.name, heraldOps.notifySync(heraldWith(h.fns, among), ROUTER, AFTER_CREATE, payload));
      },
    },
    {
      name: 'Herald notify',
      kind: 'herald',
      note: 'the cost of `notify` itself: its promise is not awaited (the handlers are synchronous, so the round is over when it returns)',
      async prepare() {
        const h = handlers();
        return prepared(h, this.name, heraldOps.notify(heraldWith(h.fns, among), ROUTER, AFTER_CREATE, payload));
      },
    },
    {
      name: 'Herald notify (awaited)',
      kind: 'herald',
      note: 'every publish awaited, as callers of `notify` do: adds one turn of the microtask queue (see `await` alone)',
      async prepare() {
        const h = handlers();
        return prepared(h, this.name, heraldOps.notifyAwaited(heraldWith(h.fns, among), ROUTER, AFTER_CREATE, payload));
      },
    },
    {
      name: '`await` alone',
      kind: 'reference',
      note: 'what awaiting an already settled promise costs in this loop, with no handler at all',
      async prepare() {
        const settled = Promise.resolve();
        return { op: () => settled, check: () => settled };
      },
    },
    ...syncPeers.map((peer): Row => ({
      name: peer.name,
      kind: 'peer',
      async prepare() {
        const h = handlers();
        return prepared(h, this.name, peerWith(peer, h.fns, NAME, among).publisher(NAME, payload));
      },
    })),
    {
      name: '@nestjs/event-emitter',
      kind: 'peer',
      note: '`@OnEvent` methods of providers in a Nest application context; Nest wraps each in an async try/catch',
      // Counted, it ran 18 minutes under valgrind before valgrind gave up on it.
      ...(count >= 100 ? { uncounted: 'valgrind stops on it: "FATAL: VG_N_SEGMENTS is too low"' } : {}),
      async prepare() {
        const h = handlers();
        const app = await (await import('./nest.js')).nestApp(h.fns, NAME);
        const emitter = app.emitter;
        return prepared(h, this.name, emits.emit(emitter, NAME, payload), () => app.close());
      },
    },
  ];
  const shownHere = (name: string): boolean => {
    // The unrolled calls look nothing up, and matter where there are several handlers.
    if (name.startsWith('unrolled')) return count > 1 && among.length === 0;
    // Awaiting costs the same for any number of handlers: shown once in (a), and again beside (g)'s awaited row.
    if (name === '`await` alone') return count === 1 || among.length > 0;
    // Nest's application is built around its handlers' one event.
    if (name === '@nestjs/event-emitter') return among.length === 0;
    return true;
  };
  const shown = rows.filter((r) => shownHere(r.name));
  const handlersTitle = `${count} handler${count === 1 ? '' : 's'}`;
  if (among.length > 0) {
    return {
      id: 'g',
      title: `(g) publish to ${handlersTitle} of one key while ${among.length.toLocaleString('en')} other keys are subscribed`,
      rows: shown,
    };
  }
  return { id: `a${count}`, title: `(a) publish to ${handlersTitle}`, rows: shown };
}

// (b) ------------------------------------------------------------------------------------------

const ASYNC_HANDLERS = 10;

function asyncCase(mode: 'serial' | 'together'): Case {
  const handlers = () => makeHandlers(ASYNC_HANDLERS, payload, { kind: 'async' });
  const heraldRow: Row = {
    name: 'Herald notify',
    kind: 'herald',
    note: mode === 'together' ? 'Herald awaits each callback before the next (rule 5), never together' : undefined,
    async prepare() {
      const h = handlers();
      return prepared(h, this.name, heraldOps.notifyAwaited(heraldWith(h.fns), ROUTER, AFTER_CREATE, payload));
    },
  };
  const emitteryRow = (method: 'emit' | 'emitSerial'): Row => ({
    name: `emittery ${method}`,
    kind: 'peer',
    async prepare() {
      const h = makeHandlers(ASYNC_HANDLERS, payload, { kind: 'async' });
      const emitter = new Emittery();
      for (const fn of h.fns) emitter.on(NAME, fn);
      return prepared(h, this.name, emits[method](emitter, NAME, payload));
    },
  });
  const rows: Row[] =
    mode === 'serial'
      ? [
          {
            name: 'for … await loop',
            kind: 'limit',
            async prepare() {
              const h = handlers();
              return prepared(h, this.name, loops.awaits(h.fns, payload));
            },
          },
          heraldRow,
          emitteryRow('emitSerial'),
        ]
      : [
          {
            name: 'Promise.all',
            kind: 'limit',
            async prepare() {
              const h = handlers();
              return prepared(h, this.name, loops.together(h.fns, payload));
            },
          },
          heraldRow,
          emitteryRow('emit'),
          {
            name: 'eventemitter2 emitAsync',
            kind: 'peer',
            async prepare() {
              const h = handlers();
              const emitter = new EventEmitter2({ maxListeners: 0 });
              for (const fn of h.fns) emitter.on(NAME, fn);
              return prepared(h, this.name, emits.emitAsync(emitter, NAME, payload));
            },
          },
          {
            name: '@nestjs/event-emitter emitAsync',
            kind: 'peer',
            async prepare() {
              const h = handlers();
              const app = await (await import('./nest.js')).nestApp(h.fns, NAME);
              const emitter = app.emitter;
              return prepared(h, this.name, emits.emitAsync(emitter, NAME, payload), () => app.close());
            },
          },
        ];
  return {
    id: mode === 'serial' ? 'b1' : 'b2',
    title: `(b) ${ASYNC_HANDLERS} async handlers, awaited ${mode === 'serial' ? 'one by one' : 'together'}`,
    rows,
  };
}

// (c) ------------------------------------------------------------------------------------------

const CHURN_BASE = 1_000;

function churnCase(): Case {
  /** The 1,000 subscribed handlers plus the one that comes and goes (index 1,000, never called). */
  const handlers = () => makeHandlers(CHURN_BASE + 1, payload);
  const churnPrepared = (h: HandlerSet, label: string, op: () => unknown, publish: () => unknown): Prepared => ({
    op,
    async check() {
      op();
      h.reset();
      await publish();
      // Every one of the 1,000 ran once; the churned one (the last) did not.
      h.verify(label, 1, CHURN_BASE);
    },
  });
  const rows: Row[] = [
    {
      name: 'array push + splice',
      kind: 'limit',
      async prepare() {
        const h = handlers();
        const list = h.fns.slice(0, CHURN_BASE);
        const extra = h.fns[CHURN_BASE]!;
        const op = () => {
          list.push(extra);
          list.splice(list.lastIndexOf(extra), 1);
        };
        return churnPrepared(h, this.name, op, () => {
          for (const fn of list) fn(payload);
        });
      },
    },
    {
      name: 'Herald subscribe + unsubscribe',
      kind: 'herald',
      note: '`registry.unsubscribe(callback, resource, event)`, as `off(name, fn)`',
      async prepare() {
        const h = handlers();
        const registry = heraldWith(h.fns.slice(0, CHURN_BASE));
        const extra = h.fns[CHURN_BASE]!;
        const op = heraldOps.churn(registry, ROUTER, AFTER_CREATE, extra);
        return churnPrepared(h, this.name, op, () => registry.notifySync(ROUTER, AFTER_CREATE, undefined, payload));
      },
    },
    {
      name: 'Herald subscribe + Subscription.unsubscribe',
      kind: 'herald',
      note: 'the handle `subscribe` returns',
      async prepare() {
        const h = handlers();
        const registry = heraldWith(h.fns.slice(0, CHURN_BASE));
        const extra = h.fns[CHURN_BASE]!;
        const op = heraldOps.churnByHandle(registry, ROUTER, AFTER_CREATE, extra);
        return churnPrepared(h, this.name, op, () => registry.notifySync(ROUTER, AFTER_CREATE, undefined, payload));
      },
    },
    ...peers.map((peer): Row => ({
      name: peer.name,
      kind: 'peer',
      async prepare() {
        const h = makeHandlers(CHURN_BASE + 1, payload);
        const emitter = peerWith(peer, h.fns.slice(0, CHURN_BASE));
        const publish = emitter.publisher(NAME, payload);
        return churnPrepared(h, this.name, emitter.churn(NAME, h.fns[CHURN_BASE]!), publish);
      },
    })),
  ];
  return {
    id: 'c',
    title: `(c) subscribe + unsubscribe one handler while ${CHURN_BASE.toLocaleString('en')} are subscribed`,
    rows,
  };
}

// (d) ------------------------------------------------------------------------------------------

export const HEAP_SUBSCRIPTIONS = 100_000;

/** Case (d) is measured by heap.ts in its own processes; these say how each row subscribes. */
export const heapRows: readonly HeapRow[] = [
  {
    name: 'array of handlers',
    kind: 'limit',
    subscribe(fns) {
      const list: Handler[] = [];
      for (const fn of fns) list.push(fn);
      return () => {
        for (const fn of list) fn(payload);
      };
    },
  },
  {
    name: 'Herald subscribe',
    kind: 'herald',
    subscribe(fns) {
      const registry = heraldWith(fns);
      return () => registry.notifySync(ROUTER, AFTER_CREATE, undefined, payload);
    },
  },
  ...peers.map((peer): HeapRow => ({
    name: peer.name,
    kind: 'peer',
    subscribe(fns) {
      return peerWith(peer, fns).publisher(NAME, payload);
    },
  })),
];

// (e) ------------------------------------------------------------------------------------------

const RESOURCES = 50;
const EVENTS = 20;
const PER_KEY = 3;

/** One key of cases (e) and (g): Herald's (resource, event), and the peers' single name for it. */
interface RotationKey {
  readonly resource: string;
  readonly event: string;
  readonly name: string;
}

/**
 * 1,000 (resource, event) keys: 50 resources × 20 of Neutron's events, in a fixed shuffled order.
 * Like the constants of a real program, each name is one internalized string (the engine then
 * compares keys by identity).
 */
function rotationKeys(): RotationKey[] {
  const eventNames = Object.values(heraldEvents).slice(0, EVENTS);
  const keys = [];
  for (let r = 0; r < RESOURCES; r++) {
    const resource = internalized(`resource${String(r).padStart(2, '0')}`);
    for (const event of eventNames) keys.push({ resource, event, name: internalized(`${resource}.${event}`) });
  }
  // A fixed shuffle: publishing in no particular order, so that no layout of the keys is favoured.
  let seed = 1;
  for (let i = keys.length - 1; i > 0; i--) {
    seed = (seed * 48271) % 2147483647;
    const j = seed % (i + 1);
    [keys[i], keys[j]] = [keys[j]!, keys[i]!];
  }
  return keys;
}

/** The engine's one copy of `text` (a property key is internalized). */
function internalized(text: string): string {
  return Object.keys({ [text]: 0 })[0]!;
}

function rotationCase(): Case {
  const keys = rotationKeys();
  const handlers = () => makeHandlers(keys.length * PER_KEY, payload);
  const perKey = (fns: readonly Handler[], k: number) => fns.slice(k * PER_KEY, (k + 1) * PER_KEY);
  const rotation = (h: HandlerSet, label: string, op: () => unknown): Prepared => ({
    op,
    async check() {
      h.reset();
      for (let i = 0; i < keys.length; i++) await op();
      h.verify(label);
    },
  });
  const heraldRow = (method: 'notifySync' | 'notify'): Row => ({
    name: `Herald ${method}${method === 'notify' ? ' (awaited)' : ''}`,
    kind: 'herald',
    async prepare() {
      const h = handlers();
      const registry = untyped(new CallbackRegistry({ name: 'bench' }));
      keys.forEach((key, k) => {
        for (const fn of perKey(h.fns, k)) registry.subscribe(fn, key.resource, key.event);
      });
      const rotate = method === 'notifySync' ? heraldOps.rotateSync : heraldOps.rotateAwaited;
      return rotation(h, this.name, rotate(registry, keys, payload));
    },
  });
  const rows: Row[] = [
    {
      name: 'for loop',
      kind: 'limit',
      note: 'over pre-resolved arrays: no lookup by key',
      async prepare() {
        const h = handlers();
        const lists = keys.map((_, k) => perKey(h.fns, k));
        return rotation(h, this.name, loops.rotate(lists, payload));
      },
    },
    heraldRow('notifySync'),
    heraldRow('notify'),
    ...syncPeers.map((peer): Row => ({
      name: peer.name,
      kind: 'peer',
      async prepare() {
        const h = handlers();
        const emitter = peer.create();
        keys.forEach((key, k) => {
          for (const fn of perKey(h.fns, k)) emitter.on(key.name, fn);
        });
        return rotation(
          h,
          this.name,
          emitter.rotator(
            keys.map((k) => k.name),
            payload,
          ),
        );
      },
    })),
  ];
  return {
    id: 'e',
    title: `(e) publish rotating over ${keys.length.toLocaleString('en')} keys, ${PER_KEY} handlers each`,
    rows,
    // At 100,000 publishes, whether a collection falls inside the counted run moved Herald's row
    // by a few hundred instructions per publish; at 300,000 the rows repeat.
    countAtLeast: 300_000,
  };
}

export const cases: readonly Case[] = [
  publishCase(1),
  publishCase(10),
  publishCase(100),
  publishCase(10, OTHER_KEYS),
  asyncCase('serial'),
  asyncCase('together'),
  churnCase(),
  rotationCase(),
];
