/**
 * `@OnResource`: declare that a method handles (resource, event) notifications. The decorator
 * only records metadata; {@link subscribeInstance} (or `@herald/inversify` at container boot)
 * subscribes an instance's handlers with the instance as owner.
 * @module
 */

import { describeValue, InvalidError } from './errors.js';
import { PRIORITY_DEFAULT } from './priorities.js';
import type { CallbackRegistry, Subscription } from './registry.js';
import type { ByEvent, CallbackFor, EventOf, Resource } from './types.js';

/**
 * Options of one `@OnResource`.
 *
 * @example
 * ```ts
 * @OnResource(ROUTER, BEFORE_DELETE, { priority: PRIORITY_DEFAULT - 100, cancellable: true })
 * checkRouterInUse(payload: DBEventPayload<Router>): void {}
 * ```
 */
export interface HandlerOptions {
  /** Lower runs first. Default `PRIORITY_DEFAULT`. */
  priority?: number;
  /** A failure of this handler vetoes any event, not only `before_*` / `precommit_*`. */
  cancellable?: boolean;
}

/**
 * One (method, resource, event) that a class handles. `handlersOf` returns them narrowed by
 * (resource, event) ({@link ByEvent}).
 *
 * @example
 * ```ts
 * const info: HandlerInfo = { method: 'audit', resource: 'port', event: 'after_create', priority: 1000, cancellable: false };
 * ```
 */
export interface HandlerInfo {
  /** The method's name (or symbol) on the class. */
  readonly method: string | symbol;
  /** The resource it subscribes to. */
  readonly resource: string;
  /** The event it subscribes to. */
  readonly event: string;
  /** Its priority: lower runs first. */
  readonly priority: number;
  /** Whether its failure vetoes any event, not only `before_*` and `precommit_*` ones. */
  readonly cancellable: boolean;
}

/**
 * What `@OnResource` requires of the decorated method, named so that a mismatch reads on the first
 * line of the compiler's explanation: "… is not assignable to parameter of type
 * 'HandlerFor<"port", "before_delete">'". The lines below it say which parameter differs.
 *
 * @example
 * ```ts
 * const handler: HandlerFor<'port', 'before_delete'> = { value: (payload) => void payload };
 * ```
 */
export interface HandlerFor<R extends Resource, E extends string> {
  /** The method: it takes the payload of (`R`, `E`) (and the notification). */
  readonly value?: CallbackFor<R, E>;
}

/**
 * Where an `@OnResource` method may be: on a class's prototype (an instance method). A static
 * method is on the class itself, which has a `prototype`, and fails with "… is not assignable to
 * parameter of type 'InstancePrototype'".
 *
 * @example
 * ```ts
 * const target: InstancePrototype = L3Service.prototype;
 * ```
 */
export interface InstancePrototype {
  /** The class whose instances have the method. */
  readonly constructor: Function;
  /** Classes have one: a static method is not subscribed. */
  readonly prototype?: never;
}

type Constructor = abstract new (...args: never[]) => object;

/** The handlers each prototype declares itself, by method name. */
const ownHandlers = new WeakMap<object, Map<string | symbol, HandlerInfo[]>>();
/** Every class with at least one decorated method of its own, in decoration order. */
const decorated = new Set<Constructor>();
/** handlersOf results, per class; decorators run before any class is instantiated. */
const resolved = new WeakMap<object, readonly HandlerInfo[]>();

function memberName(target: object, member: string | symbol): string {
  const isClass = typeof target === 'function';
  const cls = isClass ? (target as Function).name : (target.constructor as Function | undefined)?.name;
  if (member === undefined) return cls || '(anonymous class)'; // used as a class decorator
  return `${cls || '(anonymous class)'}${isClass ? '.' : '.prototype.'}${String(member)}`;
}

/**
 * Declare that this method handles `event` (or each of `events`) on `resource`. Stackable.
 * The method is called with its instance as `this` and `(payload, notification)`; its payload
 * parameter must match the declared payload of (resource, event), or it does not compile: the
 * error (TS1241, "Unable to resolve signature of method decorator") names the expected
 * {@link HandlerFor} on its next line. A static method fails to compile too ({@link InstancePrototype}).
 *
 * @throws InvalidError at decoration time, naming the class and member, when it decorates
 *   something that is not an instance method or gets an invalid resource, event or option
 * @example
 * ```ts
 * class L3Service {
 *   @OnResource(PORT, BEFORE_DELETE)
 *   preventPortDelete(payload: DBEventPayload<Port>) { if (inUse(payload.latestState)) throw new ServicePortInUse(); }
 * }
 * ```
 */
export function OnResource<R extends Resource, E extends EventOf<R>>(
  resource: R,
  event: E | readonly E[],
  options?: HandlerOptions,
): (target: InstancePrototype, member: string | symbol, descriptor: HandlerFor<R, E>) => void;
export function OnResource(
  resource: string,
  event: string | readonly string[],
  options: HandlerOptions = {},
): (target: object, member: string | symbol, descriptor?: PropertyDescriptor) => void {
  return (target, member, descriptor) => {
    const where = memberName(target, member);
    const fail = (element: string, value: unknown, hint: string): never => {
      throw new InvalidError(element, value, `${hint} (@OnResource on ${where})`);
    };
    if (typeof target === 'function' && member === undefined) fail('member', target, 'decorate a method, not a class');
    if (typeof target === 'function') fail('member', member, 'decorate an instance method, not a static one');
    if (descriptor === undefined || typeof descriptor.value !== 'function') {
      fail('member', member, 'decorate a method; properties and accessors cannot be subscribed');
    }
    if (typeof resource !== 'string' || resource === '') fail('resource', resource, 'pass a non-empty resource name');
    const eventList: readonly unknown[] = Array.isArray(event) ? event : [event];
    if (eventList.length === 0) fail('event', event, 'pass at least one event');
    for (const e of eventList) if (typeof e !== 'string' || e === '') fail('event', e, 'pass non-empty event names');
    if (options === null || typeof options !== 'object')
      fail('options', options, 'pass { priority, cancellable } or nothing');
    const { priority = PRIORITY_DEFAULT, cancellable = false } = options;
    if (typeof priority !== 'number' || !Number.isFinite(priority)) fail('priority', priority, 'pass a finite number');
    if (typeof cancellable !== 'boolean') fail('cancellable', cancellable, 'pass true or false');

    let methods = ownHandlers.get(target);
    if (methods === undefined) ownHandlers.set(target, (methods = new Map()));
    const list = methods.get(member) ?? [];
    for (const e of eventList as readonly string[]) {
      // The same (resource, event) twice on one method is one registration; the last options win.
      const info: HandlerInfo = { method: member, resource, event: e, priority, cancellable };
      const at = list.findIndex((h) => h.resource === resource && h.event === e);
      if (at >= 0) list[at] = info;
      else list.push(info);
    }
    methods.set(member, list);
    decorated.add(target.constructor as Constructor);
  };
}

/**
 * The handlers of a class (or of an instance's class), one per (method, event), including
 * inherited ones. For each method name the most-derived definition decides: a subclass that
 * overrides a decorated method without decorating it handles nothing through it (as in Neutron
 * and NestJS).
 *
 * @example
 * ```ts
 * handlersOf(L3Service); // [{ method: 'preventPortDelete', resource: 'port', event: 'before_delete', … }]
 * ```
 */
export function handlersOf(classOrInstance: object): ByEvent<HandlerInfo>[];
export function handlersOf(classOrInstance: object): HandlerInfo[] {
  if (classOrInstance === null || (typeof classOrInstance !== 'object' && typeof classOrInstance !== 'function')) {
    throw new InvalidError('classOrInstance', classOrInstance, 'pass a class or an instance of one.');
  }
  const proto: object | null =
    typeof classOrInstance === 'function'
      ? (classOrInstance as Function).prototype
      : Object.getPrototypeOf(classOrInstance);
  if (proto === null || proto === undefined) return [];
  let found = resolved.get(proto);
  if (found === undefined) {
    const list: HandlerInfo[] = [];
    const seen = new Set<string | symbol>();
    for (
      let level: object | null = proto;
      level !== null && level !== Object.prototype;
      level = Object.getPrototypeOf(level)
    ) {
      const own = ownHandlers.get(level);
      for (const name of Reflect.ownKeys(level)) {
        if (seen.has(name)) continue;
        seen.add(name);
        const handlers = own?.get(name);
        if (handlers !== undefined) list.push(...handlers);
      }
    }
    found = Object.freeze(list);
    resolved.set(proto, found);
  }
  return [...found];
}

/**
 * The classes that declare `@OnResource` methods of their own, in the order they were
 * decorated (what `@herald/inversify` looks for in a container).
 *
 * @example
 * ```ts
 * for (const cls of decoratedClasses()) if (container.isBound(cls)) …
 * ```
 */
export function decoratedClasses(): Constructor[] {
  return [...decorated];
}

let groupSerial = 0;

/**
 * Subscribe every decorated method of `instance`, called with `this` = `instance` (which is the
 * owner of each subscription). Subscribing the same instance twice changes nothing.
 *
 * @returns one subscription that unsubscribes all of them; its `subscriptions` lists them until
 *   then, and is empty afterwards (so a handle kept after unsubscribing does not keep `instance`)
 * @example
 * ```ts
 * const l3 = new L3Service(plugin);
 * using handlers = subscribeInstance(registry, l3);
 * ```
 */
export function subscribeInstance(
  registry: CallbackRegistry,
  instance: object,
): Subscription & { readonly subscriptions: readonly Subscription[] } {
  if (instance === null || typeof instance !== 'object') {
    throw new InvalidError('instance', instance, 'pass an instance of a class with @OnResource methods.');
  }
  const handlers = handlersOf(instance);
  const cls = (instance.constructor as Function | undefined)?.name || 'anonymous';
  const subscriptions: Subscription[] = [];
  const unsubscribe = () => {
    for (const s of subscriptions) s.unsubscribe();
    subscriptions.length = 0; // a handle kept after unsubscribing keeps no subscription, nor the instance
  };
  try {
    for (const h of handlers) {
      const method: unknown = (instance as Record<string | symbol, unknown>)[h.method];
      if (typeof method !== 'function') {
        throw new InvalidError(
          `${cls}.${String(h.method)}`,
          method,
          `the instance's ${describeValue(method)} hides the decorated method; keep it a method.`,
        );
      }
      subscriptions.push(
        (registry.subscribe as (cb: Function, r: string, e: string, o: object) => Subscription)(
          method,
          h.resource,
          h.event,
          {
            priority: h.priority,
            cancellable: h.cancellable,
            owner: instance,
          },
        ),
      );
    }
  } catch (error) {
    unsubscribe();
    throw error;
  }
  return { id: `${cls}#handlers${++groupSerial}`, subscriptions, unsubscribe, [Symbol.dispose]: unsubscribe };
}
