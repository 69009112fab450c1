/**
 * Generic code over all resources compiles without casts: a wrapper with `notify`'s own signature,
 * helpers over `keyof ResourceModels`, and a resource computed at run time (`as Resource`). An
 * event held in a union-typed variable takes a payload that fits every event it may be.
 */
import { expectTypeOf } from 'expect-type';
import {
  AFTER_CREATE,
  APIEventPayload,
  BEFORE_RESPONSE,
  CallbackRegistry,
  DBEventPayload,
  EventPayload,
  type EventOf,
  type PayloadArgs,
  type PayloadOf,
  type Resource,
  type ResourceModels,
} from '@herald/core';
import type { Network, RequestContext, Widget } from './models.js';

const registry = new CallbackRegistry();
const ctx: RequestContext = { projectId: 'demo' };
const widget: Widget = { id: 'w1', size: 3 };

// A wrapper with notify's own signature (tracing, retrying, auditing), with and without explicit
// type arguments.
function traced<R extends Resource, E extends EventOf<R>>(
  resource: R,
  event: E,
  ...payload: PayloadArgs<PayloadOf<R, E>>
): Promise<void> {
  return registry.notify(resource, event, 'tracer', ...payload);
}
void traced('widget', AFTER_CREATE, new DBEventPayload(ctx, { states: [widget] }));
void traced<'widget', 'after_create'>('widget', AFTER_CREATE, new DBEventPayload(ctx, { states: [widget] }));
void traced('port', AFTER_CREATE);
// @ts-expect-error the wrapper checks the payload as notify does
void traced('widget', AFTER_CREATE, new DBEventPayload(ctx, { states: [{ id: 'n1', mtu: 1 }] }));

// Helpers over every resource with a model: pass AFTER_CREATE, read latestState.
function created<R extends keyof ResourceModels>(resource: R, payload: PayloadOf<R, typeof AFTER_CREATE>) {
  return registry.notify(resource, AFTER_CREATE, 'audit', payload);
}
function watchCreated<R extends keyof ResourceModels>(resource: R, seen: unknown[]) {
  return registry.subscribe(
    (payload) => {
      expectTypeOf(payload.latestState).toEqualTypeOf<Widget | Network | undefined>();
      seen.push(payload.latestState);
    },
    resource,
    AFTER_CREATE,
  );
}
void created('widget', new DBEventPayload(ctx, { states: [widget] }));
watchCreated('network', []);
// @ts-expect-error still checked at the helper's call site
void created('network', new DBEventPayload(ctx, { states: [widget] }));

// A resource computed at run time: the documented cast, and any EventPayload (as in Neutron).
declare const computed: string;
void registry.notify(computed as Resource, AFTER_CREATE, 'bridge', new DBEventPayload(ctx, { states: [widget] }));
void registry.notify(computed as Resource, AFTER_CREATE, 'bridge');
expectTypeOf<PayloadOf<Resource, 'after_create'>>().toEqualTypeOf<EventPayload | undefined>();
registry.subscribe(
  (payload) => expectTypeOf(payload).toExtend<EventPayload | undefined>(),
  computed as Resource,
  AFTER_CREATE,
);

// A union-typed event: the payload must fit every event the variable may hold.
declare const early: boolean;
const event = early ? AFTER_CREATE : BEFORE_RESPONSE;
const dbPayload = new DBEventPayload(ctx, { states: [widget] });
const apiPayload = new APIEventPayload(ctx, { methodName: 'create_widget', action: 'create', states: [widget] });
// @ts-expect-error a data-store payload is no API payload: the before_response subscriber would read methodName
void registry.notify('widget', event, 'svc', dbPayload);
// @ts-expect-error nor the other way round
void registry.notify('widget', event, 'svc', apiPayload);
// A subscriber of both receives either.
registry.subscribe(
  (payload) =>
    expectTypeOf(payload).toEqualTypeOf<
      DBEventPayload<Widget, RequestContext> | APIEventPayload<Widget, RequestContext>
    >(),
  'widget',
  event,
);
expectTypeOf<PayloadOf<'widget', 'after_create' | 'before_response'>>().toEqualTypeOf<
  DBEventPayload<Widget, RequestContext> & APIEventPayload<Widget, RequestContext>
>();
