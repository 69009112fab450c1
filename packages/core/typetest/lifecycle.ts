/**
 * `ResourceModels`: a new resource with its whole lifecycle, and a Neutron resource with the
 * user's own model. Payloads are checked in `notify`, `notifySync` and `subscribe`.
 */
import { expectTypeOf } from 'expect-type';
import {
  AFTER_CREATE,
  AFTER_DELETE,
  AGENT,
  APIEventPayload,
  BEFORE_CREATE,
  BEFORE_RESPONSE,
  BEFORE_SPAWN,
  CallbackRegistry,
  DBEventPayload,
  EventPayload,
  NETWORK,
  OVS_RESTARTED,
  PORT,
  PRECOMMIT_UPDATE,
  PROCESS,
  type ApiEvent,
  type EventOf,
  type ModelOf,
  type Notification,
  type PayloadOf,
  type Resource,
  type StandardEvent,
} from '@herald/core';
import type { Network, RequestContext, Widget } from './models.js';

const registry = new CallbackRegistry();
const widget: Widget = { id: 'w1', size: 3 };
const network: Network = { id: 'n1', mtu: 1500 };
const ctx: RequestContext = { projectId: 'demo' };

// A declared model gives the whole standard lifecycle: DB events carry a DBEventPayload of the
// model, API events an APIEventPayload of it.
expectTypeOf<'widget'>().toExtend<Resource>();
expectTypeOf<EventOf<'widget'>>().toEqualTypeOf<StandardEvent | ApiEvent>();
expectTypeOf<PayloadOf<'widget', StandardEvent>>().toEqualTypeOf<DBEventPayload<Widget, RequestContext>>();
expectTypeOf<PayloadOf<'widget', ApiEvent>>().toEqualTypeOf<APIEventPayload<Widget, RequestContext>>();
expectTypeOf<ModelOf<'widget'>>().toEqualTypeOf<Widget>();
expectTypeOf<PayloadOf<'network', typeof PRECOMMIT_UPDATE>>().toEqualTypeOf<DBEventPayload<Network, RequestContext>>();

registry.subscribe(
  (payload, notification) => {
    expectTypeOf(payload).toEqualTypeOf<DBEventPayload<Widget, RequestContext>>();
    expectTypeOf(payload.latestState).toEqualTypeOf<Widget | undefined>();
    expectTypeOf(notification).toEqualTypeOf<Notification<'widget', 'before_create'>>();
  },
  'widget',
  BEFORE_CREATE,
);
registry.subscribe((payload) => expectTypeOf(payload.methodName).toBeString(), 'widget', BEFORE_RESPONSE);
registry.subscribe(
  (payload) => expectTypeOf(payload.desiredState).toEqualTypeOf<Network | undefined>(),
  NETWORK,
  AFTER_CREATE,
);

void registry.notify('widget', BEFORE_CREATE, 'trigger', new DBEventPayload(ctx, { desiredState: widget }));
// The context type declared in HeraldTypes reaches every typed handler…
registry.subscribe((payload) => expectTypeOf(payload.context).toEqualTypeOf<RequestContext>(), 'widget', AFTER_CREATE);
// @ts-expect-error …and a payload without that context does not compile
void registry.notify('widget', AFTER_CREATE, 'trigger', new DBEventPayload(undefined, { states: [widget] }));
void registry.notify(
  'widget',
  BEFORE_RESPONSE,
  'trigger',
  new APIEventPayload(ctx, { methodName: 'create_widget', action: 'create', states: [widget] }),
);
registry.notifySync(NETWORK, AFTER_CREATE, 'trigger', new DBEventPayload(ctx, { states: [network] }));

// @ts-expect-error a widget event carries a widget, not a network
void registry.notify('widget', AFTER_CREATE, 'trigger', new DBEventPayload(undefined, { states: [network] }));
// @ts-expect-error an API event carries an APIEventPayload, not a DBEventPayload
void registry.notify('widget', BEFORE_RESPONSE, 'trigger', new DBEventPayload(undefined, { states: [widget] }));
// @ts-expect-error a resource nobody declared
void registry.notify('gadget', AFTER_CREATE, 'trigger');
// @ts-expect-error an event the widget's lifecycle does not have
void registry.notify('widget', 'exploded', 'trigger', new DBEventPayload(undefined, { states: [widget] }));
// @ts-expect-error the payload is required once a model is declared
void registry.notify('widget', AFTER_CREATE, 'trigger');
// @ts-expect-error … also for a Neutron resource with the user's model
registry.notifySync(NETWORK, AFTER_CREATE, 'trigger');
// @ts-expect-error a plain object is not a payload
void registry.notify('widget', AFTER_CREATE, 'trigger', { states: [widget] });

// @ts-expect-error a callback written for networks cannot handle widget events
registry.subscribe((payload: DBEventPayload<Network>) => void payload, 'widget', AFTER_CREATE);
// @ts-expect-error subscribe to an event the resource does not have
registry.subscribe(() => undefined, 'widget', 'exploded');
// @ts-expect-error subscribe to a resource nobody declared
registry.subscribe(() => undefined, 'gadget', AFTER_CREATE);
// @ts-expect-error unsubscribe from a resource nobody declared
registry.unsubscribe(() => undefined, 'gadget', AFTER_CREATE);
// @ts-expect-error unsubscribe by a resource nobody declared
registry.unsubscribeByResource(() => undefined, 'gadget');

// Neutron's resources without a declared model stay as loose as in Neutron: any payload, or none.
expectTypeOf<PayloadOf<typeof PORT, typeof AFTER_DELETE>>().toEqualTypeOf<EventPayload | undefined>();
void registry.notify(PORT, AFTER_DELETE, 'trigger');
void registry.notify(PORT, AFTER_DELETE, 'trigger', new DBEventPayload(undefined, { resourceId: 'p1' }));
void registry.notify(
  PORT,
  BEFORE_RESPONSE,
  'trigger',
  new APIEventPayload(undefined, { methodName: 'm', action: 'a' }),
);
registry.subscribe((payload) => expectTypeOf(payload).toEqualTypeOf<EventPayload | undefined>(), PORT, AFTER_DELETE);
// @ts-expect-error a plain object is not a payload, even for a loose resource
void registry.notify(PORT, AFTER_DELETE, 'trigger', { id: 'p1' });
// @ts-expect-error nor is null: pass undefined or a payload
void registry.notify(PORT, AFTER_DELETE, 'trigger', null);

// The process and agent events have no lifecycle, only their own events.
registry.notifySync(PROCESS, BEFORE_SPAWN, 'launcher');
void registry.notify(AGENT, OVS_RESTARTED, 'agent');
// @ts-expect-error a process is not created
void registry.notify(PROCESS, BEFORE_CREATE, 'launcher');
