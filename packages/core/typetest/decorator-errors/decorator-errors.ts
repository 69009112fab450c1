/**
 * A decorated method of the wrong type fails with TS1241 ("Unable to resolve signature of method
 * decorator when called as an expression"); the line under it names what `@OnResource` expected:
 * `HandlerFor<resource, event>` for the method's type, `InstancePrototype` for a static method.
 */
import { AFTER_CREATE, BEFORE_DELETE, DBEventPayload, EventPayload, OnResource, PORT } from '@herald/core';

interface Port {
  id: string;
}
interface Network {
  mtu: number;
}

declare module '@herald/core' {
  interface ResourceModels {
    port: Port;
  }
}

export class L3Service {
  // error TS1241: is not assignable to parameter of type 'HandlerFor<"port", "before_delete">'.
  @OnResource(PORT, BEFORE_DELETE)
  preventPortDelete(payload: DBEventPayload<Network>): void {
    void payload;
  }

  // error TS1241: is not assignable to parameter of type 'HandlerFor<"port", "after_create">'.
  @OnResource(PORT, AFTER_CREATE)
  loosePayload(payload: EventPayload | undefined, extra: string): void {
    void [payload, extra];
  }

  // error TS1241: Argument of type 'typeof L3Service' is not assignable to parameter of type 'InstancePrototype'.
  @OnResource(PORT, AFTER_CREATE)
  static onCreate(payload: DBEventPayload<Port>): void {
    void payload;
  }

  // error TS1241: Argument of type 'TypedPropertyDescriptor<number>' is not assignable to parameter of type 'HandlerFor<"port", "after_create">'.
  @OnResource(PORT, AFTER_CREATE)
  get created(): number {
    return 1;
  }

  @OnResource(PORT, AFTER_CREATE)
  onCreated(payload: DBEventPayload<Port>): void {
    void payload;
  }
}
