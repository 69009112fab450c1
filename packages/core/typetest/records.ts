/**
 * What the registry reports is typed by (resource, event): `hasSubscribers`, `unsubscribe*`,
 * `subscriptions()`, `handlersOf()` and observer records narrow to the declared events and payload.
 */
import { expectTypeOf } from 'expect-type';
import {
  AFTER_CREATE,
  CallbackRegistry,
  DBEventPayload,
  EventPayload,
  handlersOf,
  PORT,
  type EventOf,
} from '@herald/core';
import type { RequestContext, Widget } from './models.js';
import { WidgetService } from './decorators.js';

const registry = new CallbackRegistry();

registry.hasSubscribers('widget', AFTER_CREATE);
// @ts-expect-error a resource nobody declared
registry.hasSubscribers('gadget', AFTER_CREATE);
// @ts-expect-error an event the widget does not have
registry.hasSubscribers('widget', 'exploded');
// @ts-expect-error unsubscribe from an event the widget does not have
registry.unsubscribe(() => undefined, 'widget', 'exploded');

registry.observe((record) => {
  if (record.resource === 'widget' && record.event === AFTER_CREATE) {
    expectTypeOf(record.payload).toExtend<DBEventPayload<Widget, RequestContext>>();
    expectTypeOf(record.payload.latestState).toEqualTypeOf<Widget | undefined>();
  }
  if (record.resource === PORT) {
    expectTypeOf(record.event).toEqualTypeOf<EventOf<'port'>>();
    expectTypeOf(record.payload).toExtend<EventPayload | undefined>();
  }
  // @ts-expect-error no such resource is ever reported
  void (record.resource === 'gadget');
});

for (const info of registry.subscriptions()) {
  if (info.resource === 'widget') expectTypeOf(info.event).toEqualTypeOf<EventOf<'widget'>>();
}
for (const handler of handlersOf(WidgetService)) {
  if (handler.resource === 'router') expectTypeOf(handler.event).toEqualTypeOf<EventOf<'router'>>();
}
