/**
 * Publishing as an application does, every library in one process. About a hundred
 * (resource, event) keys with 1, 3 or 10 subscribers each; every subscriber is a method of a
 * service instance (its owner, as `@OnResource` makes it); many publisher functions, each with its
 * resource and event written as literals and a new payload built per call, called in a shuffled
 * order. Every library is first warmed on the whole workload, then all are timed in rounds whose
 * order rotates, so that none profits from running first or last on a shared machine.
 *
 * Herald builds a `DBEventPayload` per publish; the peers build an object literal with the same
 * fields and subscribe the bound method, as their users do. A second table times the payloads
 * alone: each class against an object literal with the same fields. The rows "two-name loop"
 * are references: the least a registry with Herald's shape does, with and without the second
 * argument (see {@link twoNameLoop}).
 *
 * `node bench/dist/application.js [--core <dist/index.js of another build>[=label]]… [--rounds n]`
 * adds a row per other build of the core, in the same process, for comparing commits (see
 * bench/README.md).
 * @module
 */

import { EventEmitter as NodeEmitter } from 'node:events';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EventEmitter as EventEmitter3 } from 'eventemitter3';
import mittModule from 'mitt';
import { EventEmitter as Tseep } from 'tseep';
import type * as Core from '@herald/core';

const mitt = mittModule as unknown as typeof mittModule.default;

const { values: args } = parseArgs({
  options: {
    core: { type: 'string', multiple: true, default: [] },
    rounds: { type: 'string', default: '9' },
    sequence: { type: 'string', default: '20000' },
    /** Only the rows whose names start with one of these (comma-separated), and the peers compared with. */
    only: { type: 'string' },
    /** Leave out the table of payloads. */
    'no-payloads': { type: 'boolean', default: false },
    processes: { type: 'string', default: '6' },
    /** Internal: measure in this process, with the setup order rotated by this much, and print JSON. */
    child: { type: 'string' },
  },
});
const ROUNDS = Number(args.rounds);
const SEQUENCE = Number(args.sequence);
const PROCESSES = Number(args.processes);

const RESOURCES = [
  'router',
  'port',
  'network',
  'subnet',
  'floatingip',
  'security_group',
  'security_group_rule',
  'segment',
  'trunk',
  'subnet_pool',
  'address_scope',
  'qos_policy',
  'agent',
  'network_segment_range',
  'port_forwarding',
  'router_gateway',
  'router_interface',
  'subport',
  'local_ip',
  'address_group',
];
const EVENTS = ['before_create', 'precommit_create', 'after_create', 'after_update', 'after_delete'];
/** The subscribers per key, in turn: 1, 3, 10. */
const FAN_OUT = [1, 3, 10];
/** How many service classes (one instance each) the subscriber methods are spread over. */
const SERVICES = 40;

interface Key {
  readonly resource: string;
  readonly event: string;
  readonly subscribers: number;
}

const keys: Key[] = [];
for (const resource of RESOURCES)
  for (const event of EVENTS) keys.push({ resource, event, subscribers: FAN_OUT[keys.length % FAN_OUT.length]! });

/** A deterministic shuffle, the same for every library and every run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** One subscriber: a method of one service instance, for one key. */
interface Method {
  readonly owner: Service;
  readonly method: (payload: Payload) => void;
  readonly key: Key;
}

type Payload = { readonly resourceId?: string | number };
interface Service {
  calls: number;
  last: unknown;
}

/**
 * Numbers each set of functions compiled for a row (its services, its publishers), written into
 * their source text. The engine keeps what it compiled from a source text and hands it out again,
 * type feedback included, for the same text: rows compiled from the same text would share their
 * publishers' and subscribers' feedback, so that each row would run with every other row's objects
 * in view (which no application does: it uses one library), and the row set up first would come
 * out faster than the others whatever its library.
 */
let compiledSets = 0;

/**
 * The service classes, each with its methods compiled from their own source (real subscribers
 * are different functions), counting calls on the instance.
 */
function services(): Method[] {
  const set = ++compiledSets;
  const methods: Method[] = [];
  const instances: Service[] = [];
  const perService: string[][] = Array.from({ length: SERVICES }, () => []);
  const plan: { service: number; name: string; key: Key }[] = [];
  let n = 0;
  for (const key of keys) {
    for (let s = 0; s < key.subscribers; s++) {
      const service = n++ % SERVICES;
      const name = `on_${key.resource}_${key.event}_${s}`;
      perService[service]!.push(name);
      plan.push({ service, name, key });
    }
  }
  for (let s = 0; s < SERVICES; s++) {
    const body = perService[s]!.map((m) => `${m}(payload) { this.calls++; this.last = payload.resourceId; }`);
    const source = `/* set ${set} */ return class Service${s} { constructor() { this.calls = 0; this.last = undefined; }\n${body.join('\n')}\n};`;
    const Class = new Function(source)() as new () => Service;
    instances.push(new Class());
  }
  for (const { service, name, key } of plan) {
    const owner = instances[service]!;
    methods.push({ owner, method: (owner as unknown as Record<string, Method['method']>)[name]!, key });
  }
  return methods;
}

/** How each library is subscribed to and published to. */
interface Library {
  readonly name: string;
  /** Subscribes every method; returns the publisher of each key, in the order of `keys`. */
  setUp(methods: readonly Method[]): Publisher[];
}

type Publisher = (id: number) => void;

/**
 * One publisher per key, compiled from its own source with its names as literals: `body` is the
 * publishing statement, with `R` and `E` for the names and `PAYLOAD` for the payload's fields.
 */
function publishers(body: (resource: string, event: string) => string, scope: Record<string, unknown>): Publisher[] {
  const names = Object.keys(scope);
  const set = ++compiledSets;
  return keys.map((key, i) => {
    const source = `return function publish_${key.resource}_${key.event}(id) {\n${body(key.resource, key.event)}\n};`;
    const make = new Function(...names, `/* set ${set}, publisher ${i} */\n${source}`) as (
      ...values: unknown[]
    ) => Publisher;
    return make(...names.map((n) => scope[n]));
  });
}

const context = { userId: 'u1', tenantId: 't1' };
const state = { id: 'r1', name: 'router one' };
/** The fields every payload carries: an object literal for the peers, the payload's options for Herald. */
const FIELDS =
  'context: ctx, metadata: {}, requestBody: undefined, states: [state], resourceId: id, desiredState: undefined';
const OPTIONS = '{ states: [state], resourceId: id }';

function herald(core: typeof Core, label: string, method: 'notifySync' | 'notify'): Library {
  return {
    name: `Herald ${method}${label}`,
    setUp(methods) {
      const registry = new core.CallbackRegistry({ name: 'application' });
      const untyped = registry as unknown as {
        subscribe(callback: Function, resource: string, event: string, options: object): unknown;
      };
      for (const { owner, method: fn, key } of methods) untyped.subscribe(fn, key.resource, key.event, { owner });
      const trigger = { name: 'plugin' };
      return publishers((r, e) => `registry.${method}('${r}', '${e}', trigger, new DBEventPayload(ctx, ${OPTIONS}));`, {
        registry,
        trigger,
        DBEventPayload: core.DBEventPayload,
        ctx: context,
        state,
      });
    },
  };
}

/**
 * A reference, not a library: the least a registry does with Herald's shape. It takes the
 * resource and the event as two names, looked up in two `Map`s (as Herald's are); calls each subscriber with its owner as `this` and `(payload, { resource, event, trigger })`,
 * each call in a `try`; and is published to with Herald's `DBEventPayload`. No priorities, no
 * snapshot, no checks, no observers, no abort round. Its distance to node:events is what the
 * shape costs; Herald's distance to it is what Herald's rules and structure cost. With
 * `payloadAlone`, it calls each subscriber with the payload only, as the emitters do: what the
 * second argument and its object cost.
 */
function twoNameLoop(core: typeof Core, payloadAlone: boolean): Library {
  interface Subscriber {
    readonly callback: Function;
    readonly owner: object;
  }
  return {
    name: payloadAlone ? 'two-name loop, payload alone (reference)' : 'two-name loop (reference)',
    setUp(methods) {
      const topics = new Map<string, Map<string, Subscriber[]>>();
      for (const { owner, method, key } of methods) {
        let events = topics.get(key.resource);
        if (events === undefined) topics.set(key.resource, (events = new Map()));
        let list = events.get(key.event);
        if (list === undefined) events.set(key.event, (list = []));
        list.push({ callback: method, owner });
      }
      const registry = {
        notifySync(resource: string, event: string, trigger: unknown, payload: unknown): void {
          const list = topics.get(resource)?.get(event);
          if (list === undefined) return;
          const notification = payloadAlone ? undefined : { resource, event, trigger };
          let failure: unknown;
          for (let i = 0; i < list.length; i++) {
            const subscriber = list[i]!;
            try {
              if (notification === undefined) subscriber.callback.call(subscriber.owner, payload);
              else subscriber.callback.call(subscriber.owner, payload, notification);
            } catch (error) {
              failure = error;
            }
          }
          if (failure !== undefined) throw failure;
        },
      };
      const trigger = { name: 'plugin' };
      return publishers(
        (r, e) => `registry.notifySync('${r}', '${e}', trigger, new DBEventPayload(ctx, ${OPTIONS}));`,
        {
          registry,
          trigger,
          DBEventPayload: core.DBEventPayload,
          ctx: context,
          state,
        },
      );
    },
  };
}

/** A peer whose emitter takes `on(name, fn)` and `emit(name, payload)`, methods bound. */
function emitterPeer(
  name: string,
  create: () => { on(n: string, f: Function): unknown; emit(n: string, p: unknown): unknown },
): Library {
  return {
    name,
    setUp(methods) {
      const emitter = create();
      for (const { owner, method, key } of methods) emitter.on(`${key.resource}.${key.event}`, method.bind(owner));
      return publishers((r, e) => `emitter.emit('${r}.${e}', { ${FIELDS} });`, { emitter, ctx: context, state });
    },
  };
}

const libraries: Library[] = [];
/** The peers each row is compared with. */
const PEERS = ['node:events', 'tseep', 'eventemitter3'];

async function loadCores(): Promise<void> {
  const own = (await import('@herald/core')) as typeof Core;
  libraries.push(herald(own, '', 'notifySync'), herald(own, '', 'notify'));
  for (const spec of args.core) {
    const [path, label = path] = spec.split('=') as [string, string?];
    const other = (await import(pathToFileURL(path).href)) as typeof Core;
    libraries.push(herald(other, ` (${label})`, 'notifySync'), herald(other, ` (${label})`, 'notify'));
  }
}

await loadCores();
libraries.push(
  twoNameLoop((await import('@herald/core')) as typeof Core, false),
  twoNameLoop((await import('@herald/core')) as typeof Core, true),
  emitterPeer('node:events', () => {
    const e = new NodeEmitter();
    e.setMaxListeners(0);
    return e;
  }),
  {
    name: 'eventemitter3',
    setUp(methods) {
      const emitter = new EventEmitter3();
      // eventemitter3's own idiom for methods: the context as the third argument of `on`.
      for (const { owner, method, key } of methods) emitter.on(`${key.resource}.${key.event}`, method, owner);
      return publishers((r, e) => `emitter.emit('${r}.${e}', { ${FIELDS} });`, { emitter, ctx: context, state });
    },
  },
  emitterPeer('tseep', () => new Tseep() as unknown as ReturnType<Parameters<typeof emitterPeer>[1]>),
  emitterPeer('mitt', () => mitt() as unknown as ReturnType<Parameters<typeof emitterPeer>[1]>),
);

/** The publishers called, in order: every key equally often, shuffled. */
const next = random(42);
const order = new Int32Array(SEQUENCE);
for (let i = 0; i < SEQUENCE; i++) order[i] = i % keys.length;
for (let i = SEQUENCE - 1; i > 0; i--) {
  const j = Math.floor(next() * (i + 1));
  [order[i], order[j]] = [order[j]!, order[i]!];
}

function replay(calls: readonly Publisher[]): void {
  for (let i = 0; i < order.length; i++) calls[order[i]!]!(i);
}

interface Row {
  readonly name: string;
  readonly calls: Publisher[];
  readonly methods: Method[];
  readonly timings: number[];
}

const only = args.only?.split(',');
const chosen = libraries.filter(
  (l) => only === undefined || only.some((o) => l.name.startsWith(o)) || PEERS.includes(l.name),
);

/** Checks that every subscriber of every key ran once per publish of its key. */
function verify(row: Row, replays: number): void {
  const perOwner = new Map<Service, number>();
  const published = new Int32Array(keys.length);
  for (const k of order) published[k]!++;
  for (const { owner, key } of row.methods)
    perOwner.set(owner, (perOwner.get(owner) ?? 0) + published[keys.indexOf(key)]! * replays);
  for (const [owner, expected] of perOwner)
    if (owner.calls !== expected)
      throw new Error(`${row.name}: a service was called ${owner.calls} times, expected ${expected}`);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

const WARM = 20;
const REPLAYS = 10;

/**
 * The CPU time this process has used, in nanoseconds. On a shared machine, wall time also counts
 * the time the process waited for a core, which other processes decide; CPU time does not (it
 * does count the engine's own helper threads, such as concurrent marking, which are its work).
 */
function cpuTime(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
}

/**
 * One process's measurement: the rows set up in an order rotated by `offset` (the row set up
 * first came out faster, whatever its library), warmed, then timed in rotated rounds; the
 * median ns per publish of each row.
 */
function measure(offset: number): Record<string, number> {
  const rows: Row[] = chosen.map((_, i) => {
    const library = chosen[(i + offset) % chosen.length]!;
    const methods = services();
    return { name: library.name, calls: library.setUp(methods), methods, timings: [] };
  });
  for (const row of rows) {
    for (let k = 0; k < WARM; k++) replay(row.calls);
    verify(row, WARM);
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (let r = 0; r < rows.length; r++) {
      const row = rows[(r + round) % rows.length]!;
      const start = cpuTime();
      for (let k = 0; k < REPLAYS; k++) replay(row.calls);
      row.timings.push((cpuTime() - start) / (REPLAYS * SEQUENCE));
    }
  }
  for (const row of rows) verify(row, WARM + ROUNDS * REPLAYS);
  return Object.fromEntries(rows.map((row) => [row.name, median(row.timings)]));
}

if (args.child !== undefined) {
  process.stdout.write(JSON.stringify(measure(Number(args.child))));
  process.exit(0);
}

/** Each process's medians, from processes started one after the other, each with the next setup order. */
const runs: Record<string, number>[] = [];
for (let p = 0; p < PROCESSES; p++) {
  const argv = [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2), '--child', String(p)];
  runs.push(JSON.parse(execFileSync(process.execPath, argv, { encoding: 'utf8' })) as Record<string, number>);
}

const lines: string[] = [];
const subscriptions = keys.reduce((sum, k) => sum + k.subscribers, 0);
lines.push(
  `${keys.length} keys, ${subscriptions} subscriptions (methods of ${SERVICES} services), ${keys.length} publishers in a shuffled order of ${SEQUENCE}. ${PROCESSES} processes, each: every row set up (in a rotated order) and warmed with ${WARM} replays, then ${ROUNDS} rotated rounds of ${REPLAYS} replays. Node ${process.version}.`,
  '',
  `| | ns/publish | spread | ${PEERS.map((p) => `× ${p}`).join(' | ')} |`,
  `| --- | ---: | ---: | ${PEERS.map(() => '---:').join(' | ')} |`,
);
for (const { name } of chosen) {
  const each = runs.map((run) => run[name]!);
  const m = median(each);
  const spread = ((Math.max(...each) - Math.min(...each)) / 2 / m) * 100;
  // Each process's own ratio, then their median: the load of the machine moves all rows of a process together.
  const ratios = PEERS.map((peer) => `${median(runs.map((run) => run[name]! / run[peer]!)).toFixed(2)}×`);
  lines.push(`| ${name} | ${m.toFixed(1)} | ±${spread.toFixed(0)}% | ${ratios.join(' | ')} |`);
}
lines.push(
  '',
  "(ns/publish: CPU time, the median over the processes of each process's median; spread: half the range over the processes; × peer: the median of each process's ratio of the times, below 1× is faster.)",
  '',
);
if (!args['no-payloads']) lines.push(...(await payloadTable()));
process.stdout.write(`${lines.join('\n')}\n`);

/**
 * The payloads alone, built by one function per kind and kept in a ring so that none is
 * optimised away: each class against an object literal with the same fields.
 */
async function payloadTable(): Promise<string[]> {
  const core = (await import('@herald/core')) as typeof Core;
  const ring: unknown[] = new Array(1024);
  const scope = { ring, ctx: context, state, ...core };
  const build = (body: string) =>
    new Function(...Object.keys(scope), `return function build(id) { ring[id & 1023] = ${body}; };`)(
      ...Object.values(scope),
    ) as Publisher;
  const kinds: [string, Publisher][] = [
    [
      'object literal (EventPayload fields)',
      build(`{ context: ctx, metadata: {}, requestBody: undefined, states: [state], resourceId: id }`),
    ],
    ['new EventPayload', build(`new EventPayload(ctx, ${OPTIONS})`)],
    ['object literal (DBEventPayload fields)', build(`{ ${FIELDS} }`)],
    ['new DBEventPayload', build(`new DBEventPayload(ctx, ${OPTIONS})`)],
    [
      'object literal (APIEventPayload fields)',
      build(
        `{ context: ctx, metadata: {}, requestBody: undefined, states: [state], resourceId: id, methodName: 'create_router', action: 'create', collectionName: 'routers' }`,
      ),
    ],
    [
      'new APIEventPayload',
      build(
        `new APIEventPayload(ctx, { states: [state], resourceId: id, methodName: 'create_router', action: 'create', collectionName: 'routers' })`,
      ),
    ],
  ];
  const N = 1_000_000;
  for (const [, fn] of kinds) for (let i = 0; i < N; i++) fn(i);
  const timings = kinds.map((): number[] => []);
  for (let round = 0; round < ROUNDS; round++)
    for (let k = 0; k < kinds.length; k++) {
      const at = (k + round) % kinds.length;
      const fn = kinds[at]![1];
      const start = cpuTime();
      for (let i = 0; i < N; i++) fn(i);
      timings[at]!.push((cpuTime() - start) / N);
    }
  const out = ['| payload built alone | ns | × its object literal |', '| --- | ---: | ---: |'];
  for (let k = 0; k < kinds.length; k++) {
    const m = median(timings[k]!);
    const literal = median(timings[k - (k % 2)]!);
    out.push(`| ${kinds[k]![0]} | ${m.toFixed(1)} | ${k % 2 === 0 ? '' : `${(m / literal).toFixed(2)}×`} |`);
  }
  return out;
}
