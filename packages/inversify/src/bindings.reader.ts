/**
 * What is bound in a container. Inversify 8's container has no method to list its bindings; its
 * plugin API (`container.register(PluginClass)`, from `@inversifyjs/plugin`) hands a plugin the
 * container's binding service, which has one. Boot uses it to find subscribers that the
 * decorated-class registry cannot name (a subclass that only inherits its `@OnResource` methods,
 * a decorated class bound under a token without `bindSubscriber`), to tell each binding of a
 * service apart (its id and its scope), and to notice that a binding is gone.
 * @module
 */

import { Plugin, type PluginApi, type PluginContext } from '@inversifyjs/plugin';
import { bindingTypeValues, type BindingScope, type Container, type ServiceIdentifier } from 'inversify';

type BindingService = PluginContext['bindingService'];

/** The binding service of each container a reader was registered in. */
const services = new WeakMap<Container, BindingService>();

/** Registered once per container; keeps nothing but the binding service, and adds no method. */
class BindingsReader extends Plugin<Container> {
  load(_api: PluginApi): void {
    services.set(this._container, this._context.bindingService);
  }
}

function bindingServiceOf(container: Container): BindingService {
  let service = services.get(container);
  if (service === undefined) {
    container.register(BindingsReader);
    service = services.get(container)!;
  }
  return service;
}

/** What boot reads of one of Inversify's bindings. */
export interface BindingView {
  /** Unique among all containers; a binding bound again (`rebind`, a reloaded module) gets a new one. */
  readonly id: number;
  readonly type: string;
  /** `'Singleton'`, `'Transient'` or `'Request'`; absent for a redirection (`toService`), which has its target's. */
  readonly scope?: BindingScope;
  /** The class of a class binding (`to(Class)`, `toSelf()`). */
  readonly implementationType?: Function;
}

/** The service identifiers bound in `container` itself (not in its parents) to a class with `@OnResource` methods. */
export function servicesBoundToClassesIn(
  container: Container,
  isSubscriber: (cls: Function) => boolean,
): ServiceIdentifier[] {
  const service = bindingServiceOf(container);
  const found: ServiceIdentifier[] = [];
  for (const serviceId of service.getNonParentBoundServices()) {
    for (const binding of service.getNonParentBindings(serviceId) ?? []) {
      if (binding.type === bindingTypeValues.Instance && isSubscriber(binding.implementationType)) {
        found.push(serviceId);
        break;
      }
    }
  }
  return found;
}

/**
 * The bindings of `serviceId` in `container` itself that resolve without a name or tag, in the
 * order `container.getAll(serviceId)` returns their values (the order Inversify plans them in).
 * A binding constrained with `whenNamed`, `whenTagged`, … is left out, as `get` and `getAll` leave
 * it out; so is everything bound in a parent.
 */
export function resolvableBindingsOf(container: Container, serviceId: ServiceIdentifier): BindingView[] {
  const bindings = bindingServiceOf(container).getNonParentBindings(serviceId);
  if (bindings === undefined) return [];
  // The constraints of a root request (`container.get(serviceId)`), as Inversify builds them.
  const root = { getAncestor: () => undefined, name: undefined, serviceIdentifier: serviceId, tags: new Map() };
  const found: BindingView[] = [];
  for (const binding of bindings) if (binding.isSatisfiedBy(root)) found.push(binding);
  return found;
}

/** Whether the binding `id` is still bound (in `container` or a parent). */
export function isStillBound(container: Container, id: number): boolean {
  for (const _binding of bindingServiceOf(container).getById(id) ?? []) return true;
  return false;
}
