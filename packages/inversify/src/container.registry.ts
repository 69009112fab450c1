/**
 * The registry each container gets from `callbacksModule()`: a `CallbackRegistry` that refuses to
 * notify until `bootCallbacks` has subscribed the container's subscribers, so that a notification
 * sent too early is an error instead of a silent drop.
 * @module
 */

import { CallbackRegistry, type EventPayload } from '@herald/core';
import { CallbacksNotBootedError } from './errors.js';

type UntypedNotify = (
  this: ContainerCallbackRegistry,
  resource: string,
  event: string,
  trigger: unknown,
  payload?: EventPayload,
) => Promise<void>;
type UntypedNotifySync = (
  this: ContainerCallbackRegistry,
  resource: string,
  event: string,
  trigger: unknown,
  payload?: EventPayload,
) => void;

// Called directly rather than through `super.notify(...rest)`, which would allocate the rest
// array on every notification.
const baseNotify = CallbackRegistry.prototype.notify as unknown as UntypedNotify;
const baseNotifySync = CallbackRegistry.prototype.notifySync as unknown as UntypedNotifySync;

let setBooted: (registry: ContainerCallbackRegistry) => void;

/**
 * A `CallbackRegistry` that refuses notifications until its container has booted. Its `notify`,
 * `publish` and `notifySync` are the base ones behind one boolean check; they are installed on
 * the prototype (below) so that they keep the base class's typed signatures.
 */
export class ContainerCallbackRegistry extends CallbackRegistry {
  #booted = false;

  /** Whether `bootCallbacks` has finished once with this registry. */
  get booted(): boolean {
    return this.#booted;
  }

  static {
    const notify: UntypedNotify = function (resource, event, trigger, payload) {
      // After boot this is the whole cost of the guard: one boolean check per notification.
      if (!this.#booted) return Promise.reject(new CallbacksNotBootedError(this.name, 'notify', resource, event));
      return baseNotify.call(this, resource, event, trigger, payload);
    };
    const notifySync: UntypedNotifySync = function (resource, event, trigger, payload) {
      if (!this.#booted) throw new CallbacksNotBootedError(this.name, 'notifySync', resource, event);
      baseNotifySync.call(this, resource, event, trigger, payload);
    };
    const proto = this.prototype;
    proto.notify = notify as unknown as CallbackRegistry['notify'];
    // `publish` is Neutron's name for `notify`; it must go through the same guard.
    proto.publish = proto.notify;
    proto.notifySync = notifySync as unknown as CallbackRegistry['notifySync'];
    setBooted = (registry) => {
      registry.#booted = true;
    };
  }
}

/** Let `registry` notify from now on (a no-op for registries that are not a container's). */
export function markBooted(registry: CallbackRegistry): void {
  if (registry instanceof ContainerCallbackRegistry) setBooted(registry);
}
