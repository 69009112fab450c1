/** Constants keep their literal types; payloads, errors and subscriptions read as documentation. */
import { expectTypeOf } from 'expect-type';
import {
  ABORT_CREATE,
  AFTER_CREATE,
  BEFORE_CREATE,
  CallbackFailure,
  CallbackRegistry,
  DBEventPayload,
  EventPayload,
  InvalidError,
  NotificationError,
  RBAC_POLICY,
  RetryRequest,
  abortEventFor,
  events,
  registry,
  resources,
  type Subscription,
} from '@herald/core';
import type { Widget } from './models.js';

expectTypeOf(events.BEFORE_CREATE).toEqualTypeOf<'before_create'>();
expectTypeOf<typeof BEFORE_CREATE>().toEqualTypeOf<'before_create'>();
expectTypeOf(resources.FLOATING_IP).toEqualTypeOf<'floatingip'>();
expectTypeOf<typeof RBAC_POLICY>().toEqualTypeOf<'rbac-policy'>();
expectTypeOf(abortEventFor(BEFORE_CREATE)).toEqualTypeOf<typeof ABORT_CREATE>();
expectTypeOf(abortEventFor('before_before_update')).toEqualTypeOf<'abort_before_update'>();
expectTypeOf(abortEventFor(AFTER_CREATE)).toEqualTypeOf<undefined>();
// @ts-expect-error the namespaces are read-only
events.BEFORE_CREATE = 'x';

const context = { user: 'admin', tenant: 't1' };
const widget: Widget = { id: 'w', size: 1 };
const payload = new DBEventPayload(context, { desiredState: widget, states: [widget], resourceId: widget.id });
expectTypeOf(payload.context).toEqualTypeOf<{ user: string; tenant: string }>();
expectTypeOf(payload.latestState).toEqualTypeOf<Widget | undefined>();
expectTypeOf(payload.states).toEqualTypeOf<readonly Widget[]>();
expectTypeOf(payload.requestBody).toEqualTypeOf<Partial<Widget> | undefined>();
expectTypeOf(payload).toExtend<EventPayload<Widget, typeof context>>();
// @ts-expect-error a desired state must be of the payload's model
new DBEventPayload<Widget>(context, { desiredState: { id: 'w' } });

declare const failure: CallbackFailure;
expectTypeOf(failure.errors).toEqualTypeOf<readonly NotificationError[]>();
expectTypeOf(failure.innerErrors).toEqualTypeOf<unknown[]>();
expectTypeOf(failure).toExtend<Error>();
declare const retry: RetryRequest;
expectTypeOf(retry.cause).toEqualTypeOf<CallbackFailure>();
expectTypeOf<RetryRequest>().not.toExtend<CallbackFailure>();
expectTypeOf<NotificationError>().not.toExtend<Error>();
declare const invalid: InvalidError;
expectTypeOf(invalid.element).toBeString();
expectTypeOf(invalid.value).toBeUnknown();

expectTypeOf(registry).toEqualTypeOf<CallbackRegistry>();
expectTypeOf(registry.publish).toEqualTypeOf(registry.notify);
expectTypeOf(registry.subscribe(() => undefined, resources.ROUTER, events.AFTER_CREATE)).toEqualTypeOf<Subscription>();

export function scoped(): void {
  using subscription = registry.subscribe(() => undefined, resources.ROUTER, events.AFTER_CREATE);
  expectTypeOf(subscription.id).toBeString();
}
