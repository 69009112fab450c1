/**
 * Two declarations of one (resource, event) with different payloads: every use of the pair fails
 * to compile, and the message names it (`PayloadConflict<"router", "gateway_set", …>`). Two that
 * agree are one declaration.
 */
import { AFTER_CREATE, CallbackRegistry, DBEventPayload, OnResource, ROUTER, type EventSpec } from '@herald/core';

interface Router {
  id: string;
}
interface Port {
  id: string;
  mac: string;
}
interface Widget {
  size: number;
}

declare module '@herald/core' {
  interface ResourceModels {
    widget: Widget;
  }
  interface HeraldEvents {
    l3GatewaySet: EventSpec<'router', 'gateway_set', DBEventPayload<Router>>;
    auditGatewaySet: EventSpec<'router', 'gateway_set', DBEventPayload<Port>>;
    // Agreeing with another declaration is fine.
    l3Again: EventSpec<'router', 'gateway_set_done', DBEventPayload<Router>>;
    auditAgain: EventSpec<'router', 'gateway_set_done', DBEventPayload<Router>>;
    // A typed lifecycle event redeclared with another payload conflicts too.
    widgetCreated: EventSpec<'widget', 'after_create', DBEventPayload<Port>>;
  }
}

const registry = new CallbackRegistry();
const router: Router = { id: 'r1' };
const port: Port = { id: 'p1', mac: 'fa:16:3e:00:00:01' };

// An argument that lacks properties of its parameter's type: TypeScript 6 says TS2345 "Argument of
// type … is not assignable to parameter of type 'PayloadConflict<…>'", then "Type … is missing the
// following properties…"; TypeScript 7 gives only the second line, as TS2739. Both name the
// conflict's pair (and the union of its payloads, each compiler in its own order).
// error TS2345 (TypeScript 7: TS2739): type 'PayloadConflict<"router", "gateway_set", DBEventPayload<
void registry.notify(ROUTER, 'gateway_set', 'l3', new DBEventPayload(undefined, { states: [router] }));
// error TS2345 (TypeScript 7: TS2739): type 'PayloadConflict<"router", "gateway_set"
void registry.notify(ROUTER, 'gateway_set', 'l3', new DBEventPayload(undefined, { states: [port] }));
// error TS2345: parameter of type 'CallbackFor<"router", "gateway_set">'
registry.subscribe((payload: DBEventPayload<Router>) => void payload, ROUTER, 'gateway_set');
// error TS2345 (TypeScript 7: TS2739): type 'PayloadConflict<"widget", "after_create"
void registry.notify('widget', AFTER_CREATE, 'svc', new DBEventPayload(undefined, { states: [{ size: 1 }] }));

void registry.notify(ROUTER, 'gateway_set_done', 'l3', new DBEventPayload(undefined, { states: [router] }));

export class Audit {
  // error TS1241: 'HandlerFor<"router", "gateway_set">'
  @OnResource(ROUTER, 'gateway_set')
  onGatewaySet(payload: DBEventPayload<Port>): void {
    void payload;
  }
}
