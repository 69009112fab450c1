/**
 * An `EventSpec` must name its resource, event and payload: left with no type arguments, or given
 * a plain `string` name or a payload that is no `EventPayload`, it does not compile (it used to
 * turn every resource into `string` and accept any payload for a typed resource).
 */
import { AFTER_CREATE, CallbackRegistry, ROUTER, type EventPayload, type EventSpec } from '@herald/core';

declare module '@herald/core' {
  interface ResourceModels {
    router: { id: string };
  }
  interface HeraldEvents {
    // error TS2314: Generic type 'EventSpec<R, E, P>' requires 3 type argument(s).
    misc: EventSpec;
    // error TS2344: Type 'string' does not satisfy the constraint '"an EventSpec names its resource and event as string literals"'.
    anyResource: EventSpec<string, 'poked', EventPayload>;
    // error TS2344: Type 'string' does not satisfy the constraint 'EventPayload<unknown, unknown>'.
    notAPayload: EventSpec<'router', 'poked', string>;
  }
}

const registry = new CallbackRegistry();
// error TS2345: Argument of type 'string' is not assignable to parameter of type
void registry.notify(ROUTER, AFTER_CREATE, 'x', 'any payload at all');
