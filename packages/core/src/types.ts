/**
 * The type layer: which resources exist, which events each has, and the payload of each
 * (resource, event). Declared once, in two interfaces that users extend with declaration merging:
 *
 * - {@link ResourceModels}: `widget: Widget` gives the resource `widget` the whole standard
 *   lifecycle with `Widget` as its model, and gives one of Neutron's resources a model of your own.
 * - {@link HeraldEvents}: one more (resource, event) pair, for example from another package.
 *
 * @example
 * ```ts
 * declare module '@herald/core' {
 *   interface ResourceModels {
 *     widget: Widget;   // a new resource with its standard lifecycle
 *     router: Router;   // Neutron's router, typed with your model
 *   }
 *   interface HeraldEvents {
 *     routerGatewaySet: EventSpec<'router', 'gateway_set', DBEventPayload<Router>>;
 *   }
 * }
 * ```
 * @module
 */

import type { AGENT, PROCESS, NeutronResource } from './resources.js';
import type {
  AFTER_INIT,
  AFTER_REQUEST,
  AFTER_SPAWN,
  BEFORE_INIT,
  BEFORE_RESPONSE,
  BEFORE_SPAWN,
  OVS_RESTARTED,
} from './events.js';
import type { APIEventPayload, DBEventPayload, EventPayload } from './payloads.js';
import type { NotificationRecord } from './registry.js';

/**
 * What an {@link EventSpec} accepts as a resource or event name: a string literal (or a union of
 * them). A plain `string` would declare every name at once, so it is refused with this message.
 *
 * @example
 * ```ts
 * type Ok = EventSpec<'router', 'gateway_set', DBEventPayload<Router>>;
 * type Refused = EventSpec<string, 'gateway_set', DBEventPayload<Router>>; // does not compile
 * ```
 */
export type LiteralName<N> = string extends N ? 'an EventSpec names its resource and event as string literals' : string;

/**
 * One (resource, event) pair and the payload its notifications carry. All three are required: a
 * resource and an event given as string literals, and an `EventPayload` type (one that includes
 * `undefined` makes the payload optional in `notify`).
 *
 * @example
 * ```ts
 * declare module '@herald/core' {
 *   interface HeraldEvents {
 *     routerGatewaySet: EventSpec<'router', 'gateway_set', DBEventPayload<Router>>;
 *   }
 * }
 * ```
 */
export interface EventSpec<R extends LiteralName<R>, E extends LiteralName<E>, P extends EventPayload | undefined> {
  /** The resource's name, e.g. `'router'`. */
  readonly resource: R;
  /** The event's name, e.g. `'gateway_set'`. */
  readonly event: E;
  /** The payload type of the pair's notifications (with `undefined`, the payload is optional). */
  readonly payload: P;
}

/**
 * The create/update/delete phases and the other data-store events of the standard lifecycle.
 *
 * @example
 * ```ts
 * const event: StandardEvent = 'precommit_update';
 * ```
 */
export type StandardEvent =
  | `${'before' | 'precommit' | 'after' | 'abort'}_${'create' | 'update' | 'delete'}`
  | 'before_read'
  | 'after_read'
  | 'abort_read'
  | 'precommit_add_association'
  | 'precommit_delete_associations'
  | 'after_status_update';

/**
 * The API events of the standard lifecycle.
 *
 * @example
 * ```ts
 * const event: ApiEvent = 'before_response';
 * ```
 */
export type ApiEvent = typeof BEFORE_RESPONSE | typeof AFTER_REQUEST;

/**
 * Project-wide type settings, by declaration merging:
 *
 * - `context`: the type of the `context` of every payload of a resource declared in
 *   {@link ResourceModels} (default `unknown`);
 * - `strict: true`: only declared resources exist. Neutron's resources lose their loose lifecycle
 *   until their model is declared, so a typo in a {@link ResourceModels} key shows at the first
 *   `notify` of the resource it meant.
 *
 * @example
 * ```ts
 * declare module '@herald/core' {
 *   interface HeraldTypes { context: RequestContext; strict: true }
 * }
 * // now payload.context is a RequestContext in every typed handler
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface HeraldTypes {}

/**
 * The payload context type declared in {@link HeraldTypes}, or `unknown`.
 *
 * @example
 * ```ts
 * type Ctx = DefaultContext; // RequestContext, once HeraldTypes declares { context: RequestContext }
 * ```
 */
export type DefaultContext = HeraldTypes extends { context: infer C } ? C : unknown;

/**
 * The standard lifecycle of a resource with a declared model: data-store events carry a
 * `DBEventPayload<Model>`, API events an `APIEventPayload<Model>`; the payload is required.
 *
 * @example
 * ```ts
 * type WidgetEvents = Lifecycle<'widget', Widget>; // EventSpec<'widget', 'after_create', DBEventPayload<Widget>> | …
 * ```
 */
export type Lifecycle<R extends LiteralName<R>, Model, Context = DefaultContext> = {
  [E in StandardEvent | ApiEvent]: SpecShape<R, E, LifecycleTable<Model, Context>[E]>;
}[StandardEvent | ApiEvent];

/** An {@link EventSpec} the type layer builds itself (its names are literals by construction). */
interface SpecShape<R extends string, E extends string, P> {
  readonly resource: R;
  readonly event: E;
  readonly payload: P;
}

/**
 * The lifecycle of one of Neutron's resources whose model was not declared: as in Neutron, any
 * payload (or none) is accepted.
 *
 * @example
 * ```ts
 * type PortEvents = LooseLifecycle<'port'>; // any EventPayload, or none, for each standard event
 * ```
 */
export type LooseLifecycle<R extends LiteralName<R>> = EventSpec<R, StandardEvent | ApiEvent, EventPayload | undefined>;

/**
 * Models of resources, by resource name. Declaring one gives that resource the standard lifecycle
 * ({@link Lifecycle}) typed with the model, for a new resource or one of Neutron's.
 *
 * @example
 * ```ts
 * declare module '@herald/core' {
 *   interface ResourceModels { widget: { id: string; size: number } }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface ResourceModels {}

/**
 * Events beyond the standard lifecycle. Each member is an {@link EventSpec} (or a union of them);
 * the member's name is only a label, so any package can add its own without clashing. Two
 * declarations of one (resource, event) must agree on its payload (see {@link PayloadConflict}).
 *
 * @example
 * ```ts
 * declare module '@herald/core' {
 *   interface HeraldEvents {
 *     routerGatewaySet: EventSpec<'router', 'gateway_set', DBEventPayload<Router>>;
 *   }
 * }
 * ```
 */
export interface HeraldEvents {
  /** Neutron's process events: sent by the service launcher, usually without a payload. */
  neutronProcess: EventSpec<
    typeof PROCESS,
    typeof BEFORE_INIT | typeof BEFORE_SPAWN | typeof AFTER_SPAWN | typeof AFTER_INIT,
    EventPayload | undefined
  >;
  /** Neutron's agent event for a restarted Open vSwitch. */
  neutronOvsRestarted: EventSpec<typeof AGENT, typeof OVS_RESTARTED, EventPayload | undefined>;
}

// The machinery below computes one flat table, `EventMap`, keyed by resource then event, once per
// program: every lookup at a call site is then an indexed access (`EventMap[R][E]`) whose cost does
// not depend on how many resources exist. Nothing here distributes over all resources per call.

/** The payloads of the standard lifecycle, by event, for one model. */
type LifecycleTable<Model, Context> = { [E in StandardEvent]: DBEventPayload<Model, Context> } & {
  [E in ApiEvent]: APIEventPayload<Model, Context>;
};

/** The payloads of the standard lifecycle of a Neutron resource without a declared model. */
type LooseTable = { [E in StandardEvent | ApiEvent]: EventPayload | undefined };

/** Neutron's resources that have the standard lifecycle (all but `process`). */
type LifecycleResource = Exclude<NeutronResource, typeof PROCESS>;

/** Whether `HeraldTypes` declares `strict: true`. */
type IsStrict = HeraldTypes extends { strict: true } ? true : false;

/** Every declared extra spec. */
type ExtraSpec = HeraldEvents[keyof HeraldEvents];

/** The extra specs of each resource (a mapped key met twice unions its specs). */
type ExtraSpecsOf = { [S in ExtraSpec as S['resource']]: S };

declare const conflict: unique symbol;

/**
 * The payload of a (resource, event) declared twice with different payloads: no value has this
 * type, so every `notify`, `subscribe` and `@OnResource` of the pair fails to compile and names
 * it. Make the declarations agree, or drop one.
 *
 * @example
 * ```ts
 * // HeraldEvents { a: EventSpec<'router', 'gateway_set', DBEventPayload<Router>>;
 * //                b: EventSpec<'router', 'gateway_set', DBEventPayload<Port>> }
 * type P = PayloadOf<'router', 'gateway_set'>; // PayloadConflict<'router', 'gateway_set', DBEventPayload<Router> | DBEventPayload<Port>>
 * ```
 */
export interface PayloadConflict<R extends string, E extends string, Payloads> {
  /** Says which pair conflicts, in the compiler's error message. */
  readonly [conflict]: `(${R}, ${E}) is declared with different payloads; make its declarations agree`;
  /** The union of the payloads the declarations give. */
  readonly payloads: Payloads;
}

/** Whether the payloads `P` of specs `S` (one union) are all the same type. */
type Agree<S extends { payload: unknown }, P> = true extends (
  S extends unknown ? ([P] extends [S['payload']] ? never : true) : never
)
  ? false
  : true;

/** The payload of (`R`, `E`) given by the specs `S` that declare it, or the conflict. */
type ExtraPayload<R extends string, E extends string, S extends ExtraSpec> =
  Agree<S, S['payload']> extends true ? S['payload'] : PayloadConflict<R, E, S['payload']>;

/** The events of resource `R` declared in `HeraldEvents`, with their payloads. */
type ExtraTable<R extends string, S extends ExtraSpec> = { [T in S as T['event']]: ExtraPayload<R, T['event'], T> };

/** The standard lifecycle of `R`: typed with its model, loose (Neutron's, not strict), or none. */
type BaseTable<R> = R extends keyof ResourceModels
  ? LifecycleTable<ResourceModels[R], DefaultContext>
  : IsStrict extends true
    ? unknown
    : R extends LifecycleResource
      ? LooseTable
      : unknown;

/**
 * `Base` with the events of `Extra`: an extra event replaces a loose one, and must agree with a
 * typed one (a different payload is a {@link PayloadConflict}).
 */
type Merged<R extends string, Base, Extra> = {
  [E in keyof Base | keyof Extra]: E extends keyof Extra
    ? E extends keyof Base
      ? [LooseTable] extends [Base]
        ? Extra[E]
        : [Base[E], Extra[E]] extends [Extra[E], Base[E]]
          ? Extra[E]
          : PayloadConflict<R, E & string, Base[E] | Extra[E]>
      : Extra[E]
    : E extends keyof Base
      ? Base[E]
      : never;
};

/** The table of resource `R`. */
type TableOf<R extends string> = R extends keyof ExtraSpecsOf
  ? Joined<R, BaseTable<R>, ExtraTable<R, ExtraSpecsOf[R]>>
  : BaseTable<R>;

/** `Base` and `Extra` side by side when no event is in both (the usual case), else {@link Merged}. */
type Joined<R extends string, Base, Extra> = [keyof Base & keyof Extra] extends [never]
  ? Base & Extra
  : Merged<R, Base, Extra>;

/**
 * The name of any declared resource: those of `ResourceModels` and `HeraldEvents`, and, unless
 * strict, Neutron's standard ones.
 *
 * @example
 * ```ts
 * function watch<R extends Resource>(resource: R, event: EventOf<R>) {
 *   return registry.subscribe(() => console.log(resource, event), resource, event);
 * }
 * ```
 */
export type Resource =
  (keyof ResourceModels & string) | (keyof ExtraSpecsOf & string) | (IsStrict extends true ? never : LifecycleResource);

/**
 * The payload of every declared (resource, event), keyed by resource then event: the one table
 * all of the registry's types are lookups in.
 *
 * @example
 * ```ts
 * type P = EventMap['widget']['after_create']; // DBEventPayload<Widget>
 * ```
 */
export type EventMap = { [R in Resource]: TableOf<R> };

/** The events of each resource. */
type EventNames = { [R in Resource]: keyof EventMap[R] & string };

/**
 * The events declared for resource `R` (for a union of resources, the events of any of them).
 *
 * @example
 * ```ts
 * type RouterEvents = EventOf<'router'>; // 'before_create' | … | 'gateway_set'
 * ```
 */
export type EventOf<R extends Resource> = EventNames[R];

/**
 * The payload of `E` on `R`, as a subscriber of (`R`, `E`) receives it: for a union of events (or
 * of resources), the union of their payloads.
 *
 * @example
 * ```ts
 * type P = PayloadIn<'widget', 'after_create' | 'before_response'>; // DBEventPayload<Widget> | APIEventPayload<Widget>
 * ```
 */
export type PayloadIn<R extends Resource, E extends string> = R extends unknown
  ? EventMap[R][E & keyof EventMap[R]]
  : never;

/** The parameter of `Fn`; for a union of functions, the intersection of their parameters. */
type ParameterOfAll<Fn> = [Fn] extends [(payload: infer P) => void] ? P : never;

/**
 * The payload type of (`R`, `E`), as `notify` takes it: a payload that fits every event `E` may be
 * (for a union of events, the intersection of their payloads), and the same for `R`; except for
 * `Resource` itself, the cast for a resource computed at run time, which takes any `EventPayload`
 * (or none), as Neutron does.
 *
 * @example
 * ```ts
 * type P = PayloadOf<'widget', 'after_create'>; // DBEventPayload<Widget>
 * ```
 */
export type PayloadOf<R extends Resource, E extends string> = [Resource] extends [R]
  ? EventPayload | undefined
  : ParameterOfAll<R extends unknown ? (E extends unknown ? (payload: PayloadIn<R, E>) => void : never) : never>;

/**
 * Every declared (resource, event, payload) triple.
 *
 * @example
 * ```ts
 * type Widgets = Extract<AnyEventSpec, { resource: 'widget' }>;
 * ```
 */
export type AnyEventSpec = {
  [R in Resource]: {
    [E in EventOf<R>]: SpecShape<R, E, EventMap[R][E]>;
  }[EventOf<R>];
}[Resource];

/**
 * The model declared for resource `R`, or `unknown`.
 *
 * @example
 * ```ts
 * type W = ModelOf<'widget'>; // Widget
 * ```
 */
export type ModelOf<R extends string> = R extends keyof ResourceModels ? ResourceModels[R] : unknown;

/**
 * How the payload is passed to `notify`: optional exactly when the declared type allows `undefined`.
 *
 * @example
 * ```ts
 * type Args = PayloadArgs<PayloadOf<'port', 'after_delete'>>; // [payload?: EventPayload | undefined]
 * ```
 */
export type PayloadArgs<P> = undefined extends P ? [payload?: P] : [payload: P];

/**
 * What a callback learns about the notification besides its payload.
 *
 * @example
 * ```ts
 * registry.subscribe((payload, { resource, event, trigger }) => log(resource, event, trigger), PORT, AFTER_CREATE);
 * ```
 */
export interface Notification<R extends string = string, E extends string = string> {
  /** The resource the event is about. */
  readonly resource: R;
  /** The event. */
  readonly event: E;
  /** Who sent it (Neutron passes the sender object or function). */
  readonly trigger: unknown;
}

/**
 * A subscriber. It is called with its subscription's `owner` as `this`; it fails by throwing or
 * rejecting, and `notify` awaits a returned promise before calling the next subscriber.
 *
 * @example
 * ```ts
 * const onCreate: Callback<DBEventPayload<Router>> = (payload) => index(payload.latestState);
 * ```
 */
export type Callback<P = EventPayload | undefined, R extends string = string, E extends string = string> = (
  payload: P,
  notification: Notification<R, E>,
) => unknown;

/**
 * Any callback, whatever its payload type (for unsubscribing).
 *
 * @example
 * ```ts
 * const cb: AnyCallback = (payload: DBEventPayload<Router>) => audit(payload);
 * registry.unsubscribeAll(cb);
 * ```
 */
export type AnyCallback = (payload: never, notification: never) => unknown;

/**
 * A typed callback for (`R`, `E`): for a union of events, it takes the payload of any of them.
 * (`NoInfer`: `R` and `E` come from the resource and event arguments, never from the callback,
 * whose inference would walk every resource's table.)
 *
 * @example
 * ```ts
 * const check: CallbackFor<'port', 'before_delete'> = (payload) => assertUnused(payload);
 * ```
 */
export type CallbackFor<R extends Resource, E extends string> = Callback<NoInfer<PayloadIn<R, E>>, R, E>;

/**
 * Every declared (resource, event) pair, one member each.
 *
 * @example
 * ```ts
 * type RouterPairs = Extract<EventKey, { resource: 'router' }>['event']; // the router's events
 * ```
 */
export type EventKey = {
  [R in Resource]: { [E in EventOf<R>]: { readonly resource: R; readonly event: E } }[EventOf<R>];
}[Resource];

/**
 * `T` (a subscription, handler or notification record) narrowed by (resource, event): one member per
 * declared pair, so that testing `resource` and `event` narrows the others, and, for a record with a
 * `payload`, the payload to the pair's declared type.
 *
 * @example
 * ```ts
 * registry.observe((record) => {
 *   if (record.resource === 'widget' && record.event === 'after_create') record.payload.latestState; // Widget | undefined
 * });
 * ```
 */
export type ByEvent<T extends { readonly resource: string; readonly event: string }> = T &
  ('payload' extends keyof T ? AnyEventSpec : EventKey);

/**
 * What `observe` calls: a function of the record narrowed by (resource, event). (Declared as a
 * method's type so that the registry can hand it the records it builds, typed by their strings.)
 *
 * @example
 * ```ts
 * const trace: RecordObserver = (record) => console.log(record.resource, record.event);
 * ```
 */
export type RecordObserver = { observe(record: ByEvent<NotificationRecord>): unknown }['observe'];
