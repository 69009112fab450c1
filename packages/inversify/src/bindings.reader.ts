/**
 * What is bound in a container. Inversify 8's container has no method to list its bindings; its
 * plugin API (`container.register(PluginClass)`, from `@inversifyjs/plugin`) hands a plugin the
 * container's binding service, which has one. Boot uses it to find subscribers that the
 * decorated-class registry cannot name: a subclass that only inherits its `@OnResource` methods,
 * or a decorated class bound under a token without `bindSubscriber`.
 * @module
 */

import { Plugin, type PluginApi, type PluginContext } from '@inversifyjs/plugin';
import { bindingTypeValues, type Container, type ServiceIdentifier } from 'inversify';

type BindingService = PluginContext['bindingService'];

/** The binding service of each container a reader was registered in. */
const services = new WeakMap<Container, BindingService>();

/** Registered once per container; keeps nothing but the binding service, and adds no method. */
class BindingsReader extends Plugin<Container> {
  load(_api: PluginApi): void {
    services.set(this._container, this._context.bindingService);
  }
}

/** A class that a service identifier of the container resolves to, through a class binding. */
export interface ClassBinding {
  readonly serviceId: ServiceIdentifier;
  readonly implementation: Function;
}

/**
 * The service identifiers bound in `container` itself (not in its parents) to exactly one class
 * (`bind(X).toSelf()`, `bind(TOKEN).to(Class)`). An identifier with several bindings is left out:
 * resolving it without a name or tag would be ambiguous.
 */
export function classBindingsIn(container: Container): ClassBinding[] {
  let service = services.get(container);
  if (service === undefined) {
    container.register(BindingsReader);
    service = services.get(container)!;
  }
  const found: ClassBinding[] = [];
  for (const serviceId of service.getNonParentBoundServices()) {
    const bindings = [...(service.getNonParentBindings(serviceId) ?? [])];
    const [only] = bindings;
    if (bindings.length === 1 && only!.type === bindingTypeValues.Instance) {
      found.push({ serviceId, implementation: only!.implementationType });
    }
  }
  return found;
}
