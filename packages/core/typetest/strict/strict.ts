/**
 * Strict mode, declared once: only declared resources and events exist, so a typo in a model's
 * key (`routr`) shows at the first `notify` of the resource it meant.
 */
import {
  AFTER_CREATE,
  BEFORE_SPAWN,
  CallbackRegistry,
  DBEventPayload,
  PORT,
  PROCESS,
  ROUTER,
  type Resource,
} from '@herald/core';
import { expectTypeOf } from 'expect-type';

interface Router {
  id: string;
}

declare module '@herald/core' {
  interface HeraldTypes {
    strict: true;
  }
  interface ResourceModels {
    routr: Router; // the typo
  }
}

const registry = new CallbackRegistry();
const payload = new DBEventPayload(undefined, { states: [{ id: 'r1' }] });

// error TS2345: Argument of type '"router"' is not assignable to parameter of type 'Resource'.
void registry.notify(ROUTER, AFTER_CREATE, 'l3', payload);
// error TS2345: Argument of type '"port"' is not assignable to parameter of type 'Resource'.
registry.subscribe(() => undefined, PORT, AFTER_CREATE);

// What is declared works as usual; Neutron's process and agent events are declarations too.
void registry.notify('routr', AFTER_CREATE, 'l3', payload);
registry.notifySync(PROCESS, BEFORE_SPAWN, 'launcher');
expectTypeOf<Resource>().toEqualTypeOf<'routr' | 'process' | 'agent'>();
