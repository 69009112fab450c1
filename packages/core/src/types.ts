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

/**
 * One (resource, event) pair and the payload its notifications carry. A payload type that
 * includes `undefined` makes the payload optional in `notify`.
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
export interface EventSpec<R extends string = string, E extends string = string, P = EventPayload | undefined> {
  /** The resource. */
  readonly resource: R;
  /** The event. */
  readonly event: E;
  /** The type of the payload its notifications carry. */
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
 * Project-wide type settings, by declaration merging. Today one: `context`, the type of the
 * `context` of every payload of a resource declared in {@link ResourceModels} (default `unknown`).
 *
 * @example
 * ```ts
 * declare module '@herald/core' {
 *   interface HeraldTypes { context: RequestContext }
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
 * declare module '@herald/core' {
 *   interface HeraldTypes {
 *     context: RequestContext; // DefaultContext is now RequestContext
 *   }
 * }
 * ```
 */
export type DefaultContext = HeraldTypes extends { context: infer C } ? C : unknown;

/**
 * The standard lifecycle of a resource with a declared model: data-store events carry a
 * `DBEventPayload<Model>`, API events an `APIEventPayload<Model>`; the payload is required.
 *
 * @example
 * ```ts
 * type InvoiceEvents = Lifecycle<'invoice', Invoice>; // what ResourceModels { invoice: Invoice } declares
 * ```
 */
export type Lifecycle<R extends string, Model, Context = DefaultContext> =
  | { [E in StandardEvent]: EventSpec<R, E, DBEventPayload<Model, Context>> }[StandardEvent]
  | { [E in ApiEvent]: EventSpec<R, E, APIEventPayload<Model, Context>> }[ApiEvent];

/**
 * The lifecycle of one of Neutron's resources whose model was not declared: as in Neutron, any
 * payload (or none) is accepted.
 *
 * @example
 * ```ts
 * type AgentEvents = LooseLifecycle<'agent'>; // any payload, or none
 * ```
 */
export type LooseLifecycle<R extends string> = EventSpec<R, StandardEvent | ApiEvent, EventPayload | undefined>;

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
 * the member's name is only a label, so any package can add its own without clashing.
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

/** Neutron's resources that have the standard lifecycle (all but `process`). */
type LifecycleResource = Exclude<NeutronResource, typeof PROCESS>;

/**
 * Every declared (resource, event, payload) triple.
 *
 * @example
 * ```ts
 * type RouterSpecs = Extract<AnyEventSpec, { resource: 'router' }>;
 * ```
 */
export type AnyEventSpec =
  | HeraldEvents[keyof HeraldEvents]
  | { [R in keyof ResourceModels & string]: Lifecycle<R, ResourceModels[R]> }[keyof ResourceModels & string]
  | { [R in Exclude<LifecycleResource, keyof ResourceModels>]: LooseLifecycle<R> }[Exclude<
      LifecycleResource,
      keyof ResourceModels
    >];

/**
 * The name of any declared resource.
 *
 * @example
 * ```ts
 * const resource: Resource = 'router';
 * ```
 */
export type Resource = AnyEventSpec['resource'];

/**
 * The events declared for resource `R`.
 *
 * @example
 * ```ts
 * function on(event: EventOf<'router'>) { registry.subscribe(audit, ROUTER, event); }
 * ```
 */
export type EventOf<R extends string> = Extract<AnyEventSpec, { resource: R }>['event'];

/** The payload of `E` on `R` in spec `S` (distributes over the specs and over `E`). */
type SpecPayload<S, R extends string, E extends string> =
  S extends EventSpec<infer SR, infer SE, infer SP> ? ([R] extends [SR] ? (E extends SE ? SP : never) : never) : never;

/**
 * The payload type of (`R`, `E`); a union when `E` is.
 *
 * @example
 * ```ts
 * type Created = PayloadOf<'router', 'after_create'>; // DBEventPayload<Router> once the model is declared
 * ```
 */
export type PayloadOf<R extends string, E extends string> = SpecPayload<AnyEventSpec, R, E>;

/**
 * The model declared for resource `R`, or `unknown`.
 *
 * @example
 * ```ts
 * const latest: ModelOf<'router'> | undefined = payload.latestState;
 * ```
 */
export type ModelOf<R extends string> = R extends keyof ResourceModels ? ResourceModels[R] : unknown;

/**
 * How the payload is passed to `notify`: optional exactly when the declared type allows `undefined`.
 *
 * @example
 * ```ts
 * function send<P>(...args: PayloadArgs<P>) { return args[0]; }
 * ```
 */
export type PayloadArgs<P> = undefined extends P ? [payload?: P] : [payload: P];

/**
 * What a callback learns about the notification besides its payload.
 *
 * @example
 * ```ts
 * registry.subscribe((payload, { resource, event, trigger }) => log(resource, event, trigger), ROUTER, AFTER_CREATE);
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
 * const audit: Callback = (payload, { resource, event }) => console.log(resource, event, payload?.resourceId);
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
 * const subscribed: AnyCallback[] = [audit, checkQuota];
 * ```
 */
export type AnyCallback = (payload: never, notification: never) => unknown;

/**
 * A typed callback for (`R`, `E`).
 *
 * @example
 * ```ts
 * const checkQuota: CallbackFor<'router', 'before_create'> = (payload) => quota.check(payload.desiredState);
 * ```
 */
export type CallbackFor<R extends string, E extends string> = Callback<PayloadOf<R, E>, R, E>;
