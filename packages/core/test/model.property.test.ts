/**
 * Model-based property test of `CallbackRegistry`: random command sequences run against the real
 * registry and against a small reference model (plain arrays, written from the rules in docs/concepts.md), and
 * after every step the two must agree on the calls made (callback, `this`, resource, event,
 * trigger, payload, in order), each notification's outcome, the observers' records, how many
 * failures were logged at error level, `subscriptions()` and `hasSubscribers()`.
 *
 * The callbacks succeed, throw, throw a retriable error, reject, resolve later, or subscribe,
 * unsubscribe, clear or notify re-entrantly (nested notifications go at most two deep).
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  CallbackFailure,
  EventPayload,
  HeraldError,
  InvalidError,
  RetryRequest,
  type CallbackRegistry,
  type NotificationError,
  type Notification,
  type NotificationRecord,
  type Subscription,
} from '@herald/core';
import { nextTurn, quietRegistry, untyped, watchUnhandledRejections } from './support.js';

/**
 * Runs of the property, each a sequence of up to 40 commands: 2,000 take 4–6 s on the 2-core
 * reference machine (the whole core project about 8 s). Search harder locally with e.g.
 * HERALD_MODEL_RUNS=50000. Every deliberate bug planted in the model while writing it (12: tie
 * order, abort round, cancellable veto, snapshot, re-subscription, ids, logging, retry…) failed.
 */
const NUM_RUNS = Number(process.env.HERALD_MODEL_RUNS ?? 2000);

const RESOURCES = ['router', 'port'] as const;
const EVENTS = ['before_create', 'abort_create', 'precommit_update', 'after_delete', 'before_update'] as const;
type Resource = (typeof RESOURCES)[number];
const MAX_DEPTH = 2;

// ---------------------------------------------------------------------------------------------
// The real side: callbacks and owners.

class Alpha {}
class Beta {}
const OWNERS = { a1: new Alpha(), a2: new Alpha(), b: new Beta() };
type OwnerName = keyof typeof OWNERS;

class ModelError extends Error {}
class Retriable extends ModelError {}

type Trace =
  | { call: string; self: string; resource: string; event: string; trigger: unknown; payload: string }
  | { nested: Outcome };

/** What the callbacks of one run share with the harness. */
interface Harness {
  registry: CallbackRegistry;
  trace: Trace[];
  /** Ids returned by every subscribe call, in order (the model takes them in the same order). */
  issued: (string | { invalid: string })[];
  sync: boolean;
  depth: number;
}
let h: Harness;

function nameOf(self: unknown): string {
  if (self === undefined) return '-';
  const found = Object.entries(OWNERS).find(([, owner]) => owner === self);
  return found ? found[0] : `unknown ${String(self)}`;
}

function payloadLabel(payload: unknown): string {
  return payload instanceof EventPayload ? String(payload.metadata.label) : String(payload);
}

/** Records the call; returns its index in the trace (errors carry it, so they can be told apart). */
function record(name: string, self: unknown, payload: unknown, n: Notification) {
  h.trace.push({
    call: name,
    self: nameOf(self),
    resource: n.resource,
    event: n.event,
    trigger: n.trigger,
    payload: payloadLabel(payload),
  });
  return h.trace.length - 1;
}

const other = (resource: string) => (resource === 'router' ? 'port' : 'router');

/** A nested notification of the same event on the other resource; its outcome goes to the trace. */
function nestSync(n: Notification): void {
  h.depth++;
  try {
    untyped(h.registry).notifySync(other(n.resource), n.event, 'nested');
    h.trace.push({ nested: 'resolved' });
  } catch (error) {
    h.trace.push({ nested: outcomeOf(error) });
  } finally {
    h.depth--;
  }
}

async function nestAsync(n: Notification): Promise<void> {
  h.depth++;
  try {
    await untyped(h.registry).notify(other(n.resource), n.event, 'nested');
    h.trace.push({ nested: 'resolved' });
  } catch (error) {
    h.trace.push({ nested: outcomeOf(error) });
  } finally {
    h.depth--;
  }
}

const CALLBACKS = {
  ok: function ok(this: unknown, p: unknown, n: Notification) {
    record('ok', this, p, n);
  },
  late: function late(this: unknown, p: unknown, n: Notification) {
    record('late', this, p, n);
  },
  thrower: function thrower(this: unknown, p: unknown, n: Notification) {
    throw new ModelError(`#${record('thrower', this, p, n)}`);
  },
  retrier: function retrier(this: unknown, p: unknown, n: Notification) {
    throw new Retriable(`#${record('retrier', this, p, n)}`);
  },
  rejecter: function rejecter(this: unknown, p: unknown, n: Notification) {
    const at = record('rejecter', this, p, n);
    return (async () => {
      await null;
      throw new ModelError(`#${at}`);
    })();
  },
  waiter: function waiter(this: unknown, p: unknown, n: Notification) {
    record('waiter', this, p, n);
    return (async () => {
      await null;
    })();
  },
  subscriber: function subscriber(this: unknown, p: unknown, n: Notification) {
    record('subscriber', this, p, n);
    h.issued.push(untyped(h.registry).subscribe(CALLBACKS.late, n.resource, 'before_create').id);
  },
  unsubscriber: function unsubscriber(this: unknown, p: unknown, n: Notification) {
    record('unsubscriber', this, p, n);
    untyped(h.registry).unsubscribeByResource(CALLBACKS.ok, n.resource);
  },
  clearer: function clearer(this: unknown, p: unknown, n: Notification) {
    record('clearer', this, p, n);
    h.registry.clear();
  },
  notifier: function notifier(this: unknown, p: unknown, n: Notification) {
    record('notifier', this, p, n);
    if (h.depth >= MAX_DEPTH) return undefined;
    if (h.sync) return nestSync(n);
    return nestAsync(n);
  },
  asyncNotifier: function asyncNotifier(this: unknown, p: unknown, n: Notification) {
    record('asyncNotifier', this, p, n);
    if (h.sync) return Promise.resolve(); // a failure in notifySync; it does nothing later
    return (async () => {
      await null;
      if (h.depth < MAX_DEPTH) await nestAsync(n);
    })();
  },
};
type CallbackName = keyof typeof CALLBACKS;
const CALLBACK_NAMES = Object.keys(CALLBACKS) as CallbackName[];

// ---------------------------------------------------------------------------------------------
// Outcomes and records, as comparable plain data.

interface ErrorInfo {
  id: string;
  error: string;
  cancellable: boolean;
}
type Outcome =
  | 'resolved'
  | { failure: { resource: string; event: string; errors: ErrorInfo[] } }
  | { retry: { resource: string; event: string; errors: ErrorInfo[] } }
  | { invalid: string }
  | { unexpected: string };

function describeError(error: unknown): string {
  if (error instanceof Retriable) return `retriable ${error.message}`;
  if (error instanceof ModelError) return `error ${error.message}`;
  if (error instanceof HeraldError && / use notify /.test(error.message)) return 'promise in notifySync';
  return `unexpected ${String(error)}`;
}

const errorInfo = (e: NotificationError): ErrorInfo => ({
  id: e.callbackId,
  error: describeError(e.error),
  cancellable: e.cancellable,
});

function outcomeOf(error: unknown): Outcome {
  if (error instanceof RetryRequest && !(error instanceof CallbackFailure)) {
    const { resource, event, errors } = error.cause;
    return { retry: { resource, event, errors: errors.map(errorInfo) } };
  }
  if (error instanceof CallbackFailure) {
    return { failure: { resource: error.resource, event: error.event, errors: error.errors.map(errorInfo) } };
  }
  if (error instanceof InvalidError) return { invalid: error.element };
  return { unexpected: String(error) };
}

interface RecordInfo {
  resource: string;
  event: string;
  trigger: unknown;
  payload: string;
  callbacks: string[];
  errors: ErrorInfo[];
  failure: 'failure' | 'retry' | undefined;
  abortOf: string | undefined;
  sync: boolean;
}

function recordInfo(r: NotificationRecord): RecordInfo {
  return {
    resource: r.resource,
    event: r.event,
    trigger: r.trigger,
    payload: payloadLabel(r.payload),
    callbacks: [...r.callbacks],
    errors: r.errors.map(errorInfo),
    failure: r.failure === undefined ? undefined : r.failure instanceof RetryRequest ? 'retry' : 'failure',
    abortOf: r.abortOf,
    sync: r.sync,
  };
}

// ---------------------------------------------------------------------------------------------
// The reference model.

interface ModelSub {
  cb: CallbackName;
  owner: OwnerName | undefined;
  resource: string;
  event: string;
  priority: number;
  cancellable: boolean;
  id: string;
  live: boolean;
}

interface SubscribeArgs {
  cb: CallbackName;
  owner: OwnerName | undefined;
  resource: string;
  event: string;
  priority: number | undefined;
  cancellable: boolean | undefined;
  id: string | undefined;
}

const DEFAULT_PRIORITY = 55_550_000;

class Model {
  /** Subscriptions by `resource event`, each list in call order. */
  buckets = new Map<string, ModelSub[]>();
  trace: Trace[] = [];
  records: RecordInfo[] = [];
  errorLogs = 0;
  sync = false;
  depth = 0;
  /** Every derived id the registry gave out in this run. */
  derivedIds = new Set<string>();
  consumed = 0;

  constructor(private readonly issued: Harness['issued']) {}

  private live(): ModelSub[] {
    return [...this.buckets.values()].flat();
  }

  private nextIssued(): string | { invalid: string } {
    if (this.consumed >= this.issued.length) throw new Error('the model expected one more subscribe call');
    return this.issued[this.consumed++]!;
  }

  private insert(sub: ModelSub): void {
    const key = `${sub.resource} ${sub.event}`;
    const list = this.buckets.get(key) ?? [];
    let at = list.length;
    while (at > 0 && list[at - 1]!.priority > sub.priority) at--;
    list.splice(at, 0, sub);
    this.buckets.set(key, list);
  }

  private detach(sub: ModelSub): void {
    const key = `${sub.resource} ${sub.event}`;
    const list = this.buckets.get(key)!.filter((s) => s !== sub);
    if (list.length === 0) this.buckets.delete(key);
    else this.buckets.set(key, list);
  }

  remove(sub: ModelSub): void {
    if (!sub.live) return;
    sub.live = false;
    this.detach(sub);
  }

  /** Rule 1 and the ids (docs/concepts.md, "The rules"): identity, re-subscription, ids. Returns the subscription, or the refusal. */
  subscribe(args: SubscribeArgs): ModelSub | { invalid: string } {
    const got = this.nextIssued();
    const { cb, owner, resource, event, id } = args;
    const priority = args.priority ?? DEFAULT_PRIORITY;
    const cancellable = args.cancellable ?? false;
    const existing = this.live().find(
      (s) => s.cb === cb && s.owner === owner && s.resource === resource && s.event === event,
    );
    if (id !== undefined) {
      const holder = this.live().find((s) => s.id === id);
      if (holder !== undefined && holder !== existing) {
        check(got, { invalid: 'id' }, 'a taken custom id is refused');
        return { invalid: 'id' };
      }
    }
    if (existing !== undefined) {
      if (existing.priority !== priority) {
        this.detach(existing);
        existing.priority = priority;
        this.insert(existing);
      }
      existing.cancellable = cancellable;
      if (id !== undefined) existing.id = id;
      check(got, existing.id, 're-subscribing returns the same subscription');
      return existing;
    }
    let newId: string;
    if (id !== undefined) {
      check(got, id, 'a custom id is used as given');
      newId = id;
    } else {
      const prefix = owner === undefined ? '' : `${OWNERS[owner].constructor.name}.`;
      if (typeof got !== 'string' || !got.startsWith(`${prefix}${cb}#`) || !/#\d+$/.test(got)) {
        check(got, `${prefix}${cb}#<n>`, 'a derived id is Class.method#n');
      }
      if (this.derivedIds.has(got as string)) check(got, 'a fresh id', 'derived ids are never reused');
      newId = got as string;
      this.derivedIds.add(newId);
    }
    const sub: ModelSub = { cb, owner, resource, event, priority, cancellable, id: newId, live: true };
    this.insert(sub);
    return sub;
  }

  unsubscribe(cb: CallbackName, owner: OwnerName | undefined, resource?: string, event?: string): void {
    for (const s of this.live()) {
      if (s.cb !== cb || s.owner !== owner) continue;
      if (resource !== undefined && s.resource !== resource) continue;
      if (event !== undefined && s.event !== event) continue;
      this.remove(s);
    }
  }

  clear(): void {
    for (const s of this.live()) s.live = false;
    this.buckets = new Map();
  }

  /** Rules 4–10 (docs/concepts.md): one round (and its abort round); returns what the trigger gets. */
  notify(resource: string, event: string, trigger: unknown, payload: string, abortOf?: string): Outcome {
    const snapshot = [...(this.buckets.get(`${resource} ${event}`) ?? [])];
    const errors: ErrorInfo[] = [];
    for (const sub of snapshot) {
      this.trace.push({ call: sub.cb, self: sub.owner ?? '-', resource, event, trigger, payload });
      const error = this.behave(sub.cb, this.trace.length - 1, resource, event);
      if (error !== undefined) errors.push({ id: sub.id, error, cancellable: sub.cancellable });
    }
    if (errors.length > 0 && abortOf === undefined && event.startsWith('before_')) {
      this.notify(resource, `abort_${event.slice('before_'.length)}`, trigger, payload, event);
    }
    const vetoes =
      errors.length > 0 &&
      abortOf === undefined &&
      (event.startsWith('before_') || event.startsWith('precommit_') || errors.some((e) => e.cancellable));
    let outcome: Outcome = 'resolved';
    if (vetoes) {
      const failure = { resource, event, errors };
      outcome = errors.some((e) => e.error.startsWith('retriable')) ? { retry: failure } : { failure };
    }
    // Logged as neutron-lib does: at debug for a before_/precommit_ event or a cancellable subscription.
    const abortable = event.startsWith('before_') || event.startsWith('precommit_');
    if (!abortable) this.errorLogs += errors.filter((e) => !e.cancellable).length;
    this.records.push({
      resource,
      event,
      trigger,
      payload,
      callbacks: snapshot.map((s) => s.id),
      errors,
      failure: outcome === 'resolved' ? undefined : 'failure' in outcome ? 'failure' : 'retry',
      abortOf,
      sync: this.sync,
    });
    return outcome;
  }

  /** What callback `cb` does in the model; returns its error, if it fails. */
  private behave(cb: CallbackName, at: number, resource: string, event: string): string | undefined {
    const promiseInSync = 'promise in notifySync';
    switch (cb) {
      case 'ok':
      case 'late':
        return undefined;
      case 'thrower':
        return `error #${at}`;
      case 'retrier':
        return `retriable #${at}`;
      case 'rejecter':
        return this.sync ? promiseInSync : `error #${at}`;
      case 'waiter':
        return this.sync ? promiseInSync : undefined;
      case 'subscriber':
        this.subscribe({
          cb: 'late',
          owner: undefined,
          resource,
          event: 'before_create',
          priority: undefined,
          cancellable: undefined,
          id: undefined,
        });
        return undefined;
      case 'unsubscriber':
        this.unsubscribe('ok', undefined, resource);
        return undefined;
      case 'clearer':
        this.clear();
        return undefined;
      case 'notifier':
      case 'asyncNotifier':
        if (cb === 'asyncNotifier' && this.sync) return promiseInSync;
        if (this.depth < MAX_DEPTH) {
          this.depth++;
          this.trace.push({ nested: this.notify(other(resource), event, 'nested', String(undefined)) });
          this.depth--;
        }
        return undefined;
    }
  }
}

/** Fails the property with a readable message when the registry and the model disagree. */
function check(actual: unknown, expected: unknown, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: registry ${JSON.stringify(actual)}, model ${JSON.stringify(expected)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Commands.

type Command =
  | ({ kind: 'subscribe'; asNumber: boolean } & SubscribeArgs)
  | { kind: 'unsubscribe'; cb: CallbackName; owner: OwnerName | undefined; resource: Resource; event: string }
  | { kind: 'unsubscribeByResource'; cb: CallbackName; owner: OwnerName | undefined; resource: Resource }
  | { kind: 'unsubscribeAll'; cb: CallbackName; owner: OwnerName | undefined }
  | { kind: 'dispose'; handle: number }
  | {
      kind: 'resubscribe';
      handle: number;
      priority: number | undefined;
      cancellable: boolean | undefined;
      id: string | undefined;
    }
  | { kind: 'clear' }
  | {
      kind: 'notify';
      /** When set and something is subscribed: notify the (resource, event) of live subscription `pick % n`. */
      pick: number | undefined;
      resource: Resource;
      event: string;
      payload: boolean;
      times: number;
      sync: boolean;
    }
  | { kind: 'invalid'; what: 'priority' | 'payload' | 'event' };

const cbArb = fc.constantFrom(...CALLBACK_NAMES);
const ownerArb = fc.constantFrom<OwnerName | undefined>(undefined, undefined, 'a1', 'a2', 'b');
const resourceArb = fc.constantFrom(...RESOURCES);
const eventArb = fc.constantFrom(...EVENTS);

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('subscribe' as const),
      cb: cbArb,
      owner: ownerArb,
      resource: resourceArb,
      event: eventArb,
      priority: fc.constantFrom(undefined, 1, 2, 3),
      cancellable: fc.constantFrom(undefined, false, true),
      id: fc.option(fc.constantFrom('x', 'y'), { freq: 6, nil: undefined }),
      asNumber: fc.boolean(),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('notify' as const),
      pick: fc.option(fc.nat(20), { freq: 4, nil: undefined }),
      resource: resourceArb,
      event: eventArb,
      payload: fc.boolean(),
      times: fc.constantFrom(1, 1, 1, 10),
      sync: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('unsubscribe' as const),
      cb: cbArb,
      owner: ownerArb,
      resource: resourceArb,
      event: eventArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('unsubscribeByResource' as const),
      cb: cbArb,
      owner: ownerArb,
      resource: resourceArb,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unsubscribeAll' as const), cb: cbArb, owner: ownerArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('dispose' as const), handle: fc.nat(30) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('resubscribe' as const),
      handle: fc.nat(30),
      priority: fc.constantFrom(undefined, 1, 2, 3),
      cancellable: fc.constantFrom(undefined, false, true),
      id: fc.option(fc.constantFrom('x', 'y'), { freq: 6, nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('invalid' as const),
      what: fc.constantFrom('priority' as const, 'payload' as const, 'event' as const),
    }),
  },
);

// ---------------------------------------------------------------------------------------------
// Running one sequence on both sides.

function subscribeReal(c: SubscribeArgs & { asNumber: boolean }): Subscription | undefined {
  const plain = c.owner === undefined && c.cancellable === undefined && c.id === undefined;
  const options =
    c.asNumber && plain
      ? c.priority
      : { priority: c.priority, cancellable: c.cancellable, owner: c.owner && OWNERS[c.owner], id: c.id };
  try {
    const sub = untyped(h.registry).subscribe(CALLBACKS[c.cb], c.resource, c.event, options);
    h.issued.push(sub.id);
    return sub;
  } catch (error) {
    h.issued.push(outcomeOf(error) as { invalid: string });
    return undefined;
  }
}

async function notifyReal(c: Extract<Command, { kind: 'notify' }>, label: string): Promise<Outcome> {
  const payload = c.payload ? new EventPayload(undefined, { metadata: { label } }) : undefined;
  h.sync = c.sync;
  if (c.sync) {
    try {
      untyped(h.registry).notifySync(c.resource, c.event, label, payload);
      return 'resolved';
    } catch (error) {
      return outcomeOf(error);
    }
  }
  let pending: Promise<void>;
  try {
    pending = untyped(h.registry).notify(c.resource, c.event, label, payload);
  } catch (error) {
    return { unexpected: `notify threw synchronously: ${String(error)}` };
  }
  return pending.then(
    () => 'resolved' as const,
    (error: unknown) => outcomeOf(error),
  );
}

/** Runs one invalid call on the registry; returns what it threw or rejected with. */
async function invalidReal(what: 'priority' | 'payload' | 'event'): Promise<Outcome> {
  const registry = untyped(h.registry);
  try {
    if (what === 'priority') registry.subscribe(CALLBACKS.ok, 'router', 'after_delete', Number.NaN);
    else if (what === 'event') registry.unsubscribe(CALLBACKS.ok, 'router', '');
    else await registry.notify('router', 'after_delete', 'invalid', null);
    return 'resolved';
  } catch (error) {
    return outcomeOf(error);
  }
}

function subscriptionsOf(registry: CallbackRegistry): [string, unknown[]][] {
  const groups = new Map<string, unknown[]>();
  let last: string | undefined;
  for (const s of registry.subscriptions()) {
    const key = `${s.resource} ${s.event}`;
    if (key !== last && groups.has(key)) throw new Error(`subscriptions() split the group ${key}`);
    last = key;
    const list = groups.get(key) ?? [];
    list.push({ id: s.id, priority: s.priority, cancellable: s.cancellable, owner: nameOf(s.owner) });
    groups.set(key, list);
  }
  return [...groups].sort(([a], [b]) => (a < b ? -1 : 1));
}

function modelSubscriptions(model: Model): [string, unknown[]][] {
  return [...model.buckets]
    .map(([key, list]): [string, unknown[]] => [
      key,
      list.map((s) => ({ id: s.id, priority: s.priority, cancellable: s.cancellable, owner: s.owner ?? '-' })),
    ])
    .sort(([a], [b]) => (a < b ? -1 : 1));
}

async function runSequence(commands: Command[]): Promise<void> {
  const { registry, logger } = quietRegistry({ isRetriable: (e) => e instanceof Retriable });
  h = { registry, trace: [], issued: [], sync: false, depth: 0 };
  const records: RecordInfo[] = [];
  registry.observe((r) => void records.push(recordInfo(r)));
  const model = new Model(h.issued);
  const realHandles: (Subscription | undefined)[] = [];
  const modelHandles: (ModelSub | undefined)[] = [];

  for (const [step, c] of commands.entries()) {
    const label = `t${step}`;
    let real: Outcome | undefined;
    let expected: Outcome | undefined;
    switch (c.kind) {
      case 'subscribe': {
        realHandles.push(subscribeReal(c));
        const sub = model.subscribe(c);
        modelHandles.push('invalid' in sub ? undefined : sub);
        break;
      }
      case 'unsubscribe':
        untyped(registry).unsubscribe(CALLBACKS[c.cb], c.resource, c.event, c.owner && OWNERS[c.owner]);
        model.unsubscribe(c.cb, c.owner, c.resource, c.event);
        break;
      case 'unsubscribeByResource':
        untyped(registry).unsubscribeByResource(CALLBACKS[c.cb], c.resource, c.owner && OWNERS[c.owner]);
        model.unsubscribe(c.cb, c.owner, c.resource);
        break;
      case 'unsubscribeAll':
        untyped(registry).unsubscribeAll(CALLBACKS[c.cb], c.owner && OWNERS[c.owner]);
        model.unsubscribe(c.cb, c.owner);
        break;
      case 'dispose': {
        const k = realHandles.length === 0 ? -1 : c.handle % realHandles.length;
        realHandles[k]?.[Symbol.dispose]();
        const sub = modelHandles[k];
        if (sub !== undefined) model.remove(sub);
        break;
      }
      case 'resubscribe': {
        // Subscribe the identity of an earlier subscription again, with new options.
        const earlier = modelHandles.filter((sub) => sub !== undefined);
        if (earlier.length === 0) break;
        const { cb, owner, resource, event } = earlier[c.handle % earlier.length]!;
        const args = { cb, owner, resource, event, priority: c.priority, cancellable: c.cancellable, id: c.id };
        realHandles.push(subscribeReal({ ...args, asNumber: false }));
        const sub = model.subscribe(args);
        modelHandles.push('invalid' in sub ? undefined : sub);
        break;
      }
      case 'clear':
        registry.clear();
        model.clear();
        break;
      case 'notify':
        for (let i = 0; i < c.times; i++) {
          const round = `${label}.${i}`;
          const live = [...model.buckets.keys()];
          const [resource, event] =
            c.pick !== undefined && live.length > 0 ? live[c.pick % live.length]!.split(' ') : [c.resource, c.event];
          real = await notifyReal({ ...c, resource: resource as Resource, event: event! }, round);
          model.sync = c.sync;
          expected = model.notify(resource!, event!, round, c.payload ? round : String(undefined));
          check(real, expected, `outcome of ${c.sync ? 'notifySync' : 'notify'} ${round}`);
        }
        break;
      case 'invalid':
        real = await invalidReal(c.what);
        expected = { invalid: c.what };
        break;
    }
    const where = `after step ${step} (${JSON.stringify(c)})`;
    check(real, expected, `outcome ${where}`);
    check(h.trace, model.trace, `calls ${where}`);
    check(records, model.records, `observer records ${where}`);
    check(logger.at('error').length, model.errorLogs, `failures logged at error level ${where}`);
    check(h.issued.length, model.consumed, `subscribe calls ${where}`);
    check(subscriptionsOf(registry), modelSubscriptions(model), `subscriptions() ${where}`);
    for (const resource of RESOURCES) {
      for (const event of EVENTS) {
        const expectedHas = model.buckets.has(`${resource} ${event}`);
        check(registry.hasSubscribers(resource, event), expectedHas, `hasSubscribers(${resource}, ${event}) ${where}`);
      }
    }
  }
}

describe('CallbackRegistry against a reference model', () => {
  it(`agrees with the model on ${NUM_RUNS} random command sequences`, async () => {
    const unhandled = watchUnhandledRejections();
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(commandArb, { minLength: 1, maxLength: 40, size: 'max' }), runSequence),
        {
          numRuns: NUM_RUNS,
        },
      );
      await nextTurn();
      expect(unhandled.reasons).toEqual([]);
    } finally {
      unhandled.stop();
    }
  }, 60_000);
});
