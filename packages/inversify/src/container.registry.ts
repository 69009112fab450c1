/**
 * The registry each container gets from `callbacksModule()`: a `CallbackRegistry` that refuses to
 * notify until `bootCallbacks` has subscribed the container's subscribers, so that a notification
 * sent too early is an error instead of a silent drop.
 * @module
 */

import { CallbackRegistry, type EventPayload } from '@herald/core';
import { CallbacksNotBootedError } from './errors.js';

type UntypedNotify = (
  this: CallbackRegistry,
  resource: string,
  event: string,
  trigger: unknown,
  payload?: EventPayload,
) => Promise<void>;
type UntypedNotifySync = (
  this: CallbackRegistry,
  resource: string,
  event: string,
  trigger: unknown,
  payload?: EventPayload,
) => void;

/**
 * A container's registry before boot: `notify`, `publish` and `notifySync` refuse. Boot does not
 * flip a flag that every notification would then have to check: it moves the instance onto
 * `CallbackRegistry.prototype` ({@link markBooted}), so a booted container's registry dispatches
 * exactly like a registry made by hand — the guard costs nothing after boot. The instance keeps
 * its state (the registry's fields live on the instance, not on the prototype).
 */
export class ContainerCallbackRegistry extends CallbackRegistry {
  static {
    const notify: UntypedNotify = function (resource, event) {
      return Promise.reject(new CallbacksNotBootedError(this.name, 'notify', resource, event));
    };
    const notifySync: UntypedNotifySync = function (resource, event) {
      throw new CallbacksNotBootedError(this.name, 'notifySync', resource, event);
    };
    const proto = this.prototype;
    proto.notify = notify as unknown as CallbackRegistry['notify'];
    // `publish` is Neutron's name for `notify`; it must be refused too.
    proto.publish = proto.notify;
    proto.notifySync = notifySync as unknown as CallbackRegistry['notifySync'];
  }
}

/** Whether `registry` is a container's registry that has not booted yet. */
export function isUnbooted(registry: CallbackRegistry): boolean {
  return registry instanceof ContainerCallbackRegistry;
}

/** Let `registry` notify from now on (a no-op for registries that are not a container's, or booted). */
export function markBooted(registry: CallbackRegistry): void {
  if (registry instanceof ContainerCallbackRegistry) Object.setPrototypeOf(registry, CallbackRegistry.prototype);
}
