/** A decorated handler's payload parameter must match its (resource, event). */
import {
  AFTER_CREATE,
  AFTER_DELETE,
  AFTER_UPDATE,
  APIEventPayload,
  BEFORE_CREATE,
  BEFORE_RESPONSE,
  DBEventPayload,
  EventPayload,
  OnResource,
  PORT,
  ROUTER,
  type Notification,
} from '@herald/core';
import { GATEWAY_SET } from './gateway-events.js';
import type { Network, Router, Widget } from './models.js';

export class WidgetService {
  @OnResource('widget', BEFORE_CREATE)
  validate(payload: DBEventPayload<Widget>): void {
    void payload;
  }

  @OnResource('widget', [AFTER_CREATE, AFTER_UPDATE], { priority: 10, cancellable: true })
  audit(payload: DBEventPayload<Widget>, notification: Notification<'widget', 'after_create' | 'after_update'>): void {
    void [payload, notification];
  }

  @OnResource('widget', BEFORE_RESPONSE)
  respond(payload: APIEventPayload<Widget>): void {
    void payload;
  }

  @OnResource(ROUTER, GATEWAY_SET)
  async gatewaySet(payload: DBEventPayload<Router>): Promise<void> {
    await Promise.resolve(payload);
  }

  @OnResource(PORT, AFTER_DELETE)
  portDeleted(): void {}

  @OnResource(PORT, AFTER_DELETE)
  portDeletedWithPayload(payload: EventPayload | undefined): void {
    void payload;
  }

  // @ts-expect-error a network's payload on a widget event
  @OnResource('widget', AFTER_CREATE)
  wrongModel(payload: DBEventPayload<Network>): void {
    void payload;
  }

  // @ts-expect-error an API event's payload is not a DBEventPayload
  @OnResource('widget', BEFORE_RESPONSE)
  wrongKind(payload: DBEventPayload<Widget>): void {
    void payload;
  }

  // @ts-expect-error a Neutron event may come without a payload: the parameter must allow undefined
  @OnResource(PORT, AFTER_DELETE)
  payloadAlwaysThere(payload: EventPayload): void {
    void payload;
  }

  // @ts-expect-error a string is no payload
  @OnResource('widget', AFTER_CREATE)
  notAPayload(payload: string): void {
    void payload;
  }

  // @ts-expect-error a resource nobody declared
  @OnResource('gadget', AFTER_CREATE)
  unknownResource(): void {}

  // @ts-expect-error an event the widget does not have
  @OnResource('widget', 'exploded')
  unknownEvent(): void {}
}
