/** `HeraldEvents`: one more event on existing resources, declared in `gateway-events.ts`. */
import { expectTypeOf } from 'expect-type';
import {
  AFTER_CREATE,
  CallbackRegistry,
  DBEventPayload,
  EventPayload,
  NETWORK,
  PORT,
  ROUTER,
  type EventOf,
  type PayloadOf,
} from '@herald/core';
import { GATEWAY_SET, SEGMENTS_CHANGED } from './gateway-events.js';
import type { Network, Router } from './models.js';

const registry = new CallbackRegistry();
const router: Router = { id: 'r1', name: 'edge' };

expectTypeOf<'gateway_set'>().toExtend<EventOf<'router'>>();
expectTypeOf<PayloadOf<'router', 'gateway_set'>>().toEqualTypeOf<DBEventPayload<Router>>();
// The router's standard events keep Neutron's loose payload.
expectTypeOf<PayloadOf<'router', 'after_create'>>().toEqualTypeOf<EventPayload | undefined>();
expectTypeOf<PayloadOf<'network', 'segments_changed'>>().toEqualTypeOf<DBEventPayload<Network> | undefined>();

registry.subscribe(
  (payload) => expectTypeOf(payload.latestState).toEqualTypeOf<Router | undefined>(),
  ROUTER,
  GATEWAY_SET,
);
void registry.notify(ROUTER, GATEWAY_SET, 'l3', new DBEventPayload(undefined, { states: [router] }));
void registry.notify(ROUTER, AFTER_CREATE, 'l3');
// A payload type that includes undefined makes the payload optional.
void registry.notify(NETWORK, SEGMENTS_CHANGED, 'ml2');

// @ts-expect-error the new event's payload is required
void registry.notify(ROUTER, GATEWAY_SET, 'l3');
// @ts-expect-error the new event was declared for routers only
registry.subscribe(() => undefined, PORT, GATEWAY_SET);
// @ts-expect-error the payload of the new event is a router's
void registry.notify(ROUTER, GATEWAY_SET, 'l3', new DBEventPayload(undefined, { states: [{ id: 'n', mtu: 1 }] }));
