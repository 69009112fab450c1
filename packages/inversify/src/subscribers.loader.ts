/**
 * `bootCallbacks`: find the `@OnResource` subscribers bound in a container and subscribe them to
 * the container's registry. "What happens at boot" is {@link bootCallbacks} and the `Boot` class
 * below.
 * @module
 */

import {
  CallbackRegistry,
  decoratedClasses,
  describeValue,
  handlersOf,
  InvalidError,
  subscribeInstance,
  type EventPayload,
  type HandlerInfo,
  type Notification,
  type SubscribeOptions,
  type Subscription,
} from '@herald/core';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';
import { bindingScopeValues, Container, type ServiceIdentifier } from 'inversify';
import { isStillBound, resolvableBindingsOf, servicesBoundToClassesIn, type BindingView } from './bindings.reader.js';
import { bootStateOf, Claim, type BootState } from './boot.state.js';
import { isUnbooted, markBooted } from './container.registry.js';
import { SubscriberBootError } from './errors.js';
import { describeService, GONE, unmatchedValues } from './per.notification.js';
import { contributionsIn } from './subscriber.binding.js';

/**
 * What one `bootCallbacks` run did, and how to undo it.
 *
 * @example
 * ```ts
 * const boot = await bootCallbacks(container);
 * console.log(boot.subscriptions.map((s) => s.id)); // ['L3Service.preventPortDelete#1', …]
 * boot.dispose(); // or: using boot = await bootCallbacks(container);
 * ```
 */
export interface CallbacksBoot extends Disposable {
  /** The registry the subscribers were subscribed to: the one the container resolves. */
  readonly registry: CallbackRegistry;
  /** The subscriptions this run made, one per (handler, event); empty when it found nothing new. */
  readonly subscriptions: readonly Subscription[];
  /**
   * Unsubscribe what this run subscribed, and nothing else (the registry stays booted; bindings
   * stay bound). Calling it again does nothing.
   */
  dispose(): void;
}

/** A service found in the container, and the bindings `get` and `getAll` resolve it to. */
interface Found {
  readonly serviceId: ServiceIdentifier;
  /** The class boot was told of: a decorated class bound as itself, or the class given to `bindSubscriber`. */
  readonly declared: Function | undefined;
  readonly bindings: readonly BindingView[];
}

type UntypedCallback = (payload: EventPayload | undefined, notification: Notification) => unknown;
type UntypedSubscribe = (
  callback: UntypedCallback,
  resource: string,
  event: string,
  options: SubscribeOptions,
) => Subscription;

/**
 * Subscribe every `@OnResource` subscriber bound in `container` to the container's registry, then
 * let the registry notify. Found are the decorated classes bound as themselves in this container,
 * the subscribers bound with {@link bindSubscriber}, and any class with `@OnResource` methods bound
 * under a token; a service bound several times (several subscribers under one token) gives one
 * subscriber per binding. Each is resolved once here, so that a misconfigured one fails now:
 *
 * - a singleton's handlers are subscribed bound to its instance (`this` = the instance, as
 *   `subscribeInstance` does: a notification costs what a hand-made subscription costs); unbinding
 *   it, or unloading its module, unsubscribes them;
 * - a transient or request-scoped subscriber is resolved once per notification, and all its
 *   handlers in that notification share the instance (with `getAsync` when it has asynchronous
 *   dependencies, so those handlers need `notify`, not `notifySync`).
 *
 * Booting again subscribes only what is new (subscribers bound since, or bound again). A child
 * container boots on its own: it subscribes what is bound in the child, to the registry the child
 * resolves (its parent's, which must have booted first, unless the child loaded `callbacksModule`
 * itself).
 *
 * @returns the subscriptions made, and `dispose()` to undo them
 * @throws SubscriberBootError naming the class, its handlers and the failing ones as
 *   `Class.method` when a subscriber cannot be resolved or subscribed (nothing of this run stays
 *   subscribed); InvalidError when `container` is not a container with `callbacksModule()` loaded,
 *   or is the Container of a second installed copy of inversify (the message names the copy this
 *   package uses)
 * @example
 * ```ts
 * container.load(callbacksModule());
 * container.bind(L3Service).toSelf().inSingletonScope();
 * const boot = await bootCallbacks(container);
 * ```
 */
export async function bootCallbacks(container: Container): Promise<CallbacksBoot> {
  if (!(container instanceof Container)) {
    const hint = isContainerOfAnotherCopy(container)
      ? secondCopyHint()
      : 'pass the inversify Container to boot: bootCallbacks(container).';
    throw new InvalidError('container', container, hint);
  }
  if (!container.isBound(CallbackRegistry)) {
    throw new InvalidError(
      'container',
      container,
      'no CallbackRegistry is bound in it: container.load(callbacksModule()) before bootCallbacks(container).',
    );
  }
  const registry = await container.getAsync(CallbackRegistry);
  if (isUnbooted(registry) && !container.isCurrentBound(CallbackRegistry)) {
    throw new InvalidError(
      'container',
      container,
      'its CallbackRegistry comes from a parent container that has not booted: await bootCallbacks(parent) first, then boot the child.',
    );
  }
  const state = bootStateOf(registry);
  state.releaseStale(container, (bindingId) => isStillBound(container, bindingId));
  const boot = new Boot(container, registry, state);
  try {
    for (const found of subscribersIn(container)) await boot.add(found);
  } catch (error) {
    boot.undo();
    throw error;
  }
  boot.hookTeardown();
  markBooted(registry);
  return boot.handle();
}

/**
 * Whether `value` is an inversify `Container`, but not of the copy of inversify this package
 * imports: an application with two copies installed (inversify is a peer dependency, so npm warns
 * at install time; this is where the mistake shows at run time).
 */
function isContainerOfAnotherCopy(value: unknown): boolean {
  const constructor = (value as { constructor?: { name?: unknown } } | null)?.constructor;
  return (
    constructor?.name === 'Container' &&
    ['bind', 'get', 'getAsync', 'load', 'isBound'].every(
      (method) => typeof (value as Record<string, unknown>)[method] === 'function',
    )
  );
}

/** The error hint for {@link isContainerOfAnotherCopy}: it names the copy `@herald/inversify` uses. */
function secondCopyHint(): string {
  let ours = 'the inversify @herald/inversify resolves';
  try {
    const entry = createRequire(import.meta.url).resolve('inversify');
    const folder = entry.slice(0, entry.lastIndexOf(`${sep}inversify${sep}`) + `${sep}inversify`.length);
    const { version } = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { version: string };
    ours = `inversify ${version} at ${folder}`;
  } catch {
    // Resolution is only for the message: without it, the hint still says what to do.
  }
  return (
    `this Container comes from another copy of inversify than the one @herald/inversify uses (${ours}), ` +
    `so two copies are installed. inversify is a peer dependency of @herald/inversify: install one ` +
    `inversify 8 in the application (\`npm ls inversify\` lists the copies; \`npm dedupe\` or matching ` +
    `versions removes the second), and create the Container from it.`
  );
}

/**
 * The services bound in `container` itself that may be subscribers, each service identifier once:
 * decorated classes bound as themselves, contributions of `bindSubscriber`, and any other
 * identifier bound to a class with `@OnResource` methods of its own or inherited. Each comes with
 * its bindings that resolve without a name or tag (a service bound only `whenNamed`, … is left out).
 */
function subscribersIn(container: Container): Found[] {
  const declared = new Map<ServiceIdentifier, Function | undefined>();
  for (const cls of decoratedClasses()) {
    if (container.isCurrentBound(cls)) declared.set(cls, cls);
  }
  for (const { serviceIdentifier, subscriber } of contributionsIn(container)) {
    if (!declared.has(serviceIdentifier)) declared.set(serviceIdentifier, subscriber);
  }
  for (const serviceId of servicesBoundToClassesIn(container, hasHandlers)) {
    if (!declared.has(serviceId)) declared.set(serviceId, undefined);
  }
  const found: Found[] = [];
  for (const [serviceId, cls] of declared) {
    const bindings = resolvableBindingsOf(container, serviceId);
    if (bindings.some(mayBeSubscriber)) found.push({ serviceId, declared: cls, bindings });
  }
  return found;
}

function hasHandlers(cls: Function): boolean {
  return handlersOf(cls).length > 0;
}

/** A binding to a class without handlers is no subscriber; any other binding's value may be one. */
function mayBeSubscriber(binding: BindingView): boolean {
  return binding.implementationType === undefined || hasHandlers(binding.implementationType);
}

/** One `bootCallbacks` run. */
class Boot {
  readonly #claims: Claim[] = [];
  readonly #singletonIds: ServiceIdentifier[] = [];
  /** Subscription ids that existed before this run, by owner (boot must not claim those). */
  #preexisting: Map<object, Set<string>> | undefined;

  constructor(
    readonly container: Container,
    readonly registry: CallbackRegistry,
    readonly state: BootState,
  ) {}

  async add(found: Found): Promise<void> {
    const { serviceId, bindings } = found;
    const { container } = this;
    // Subscribed per notification by an earlier boot, binding by binding: nothing to resolve.
    const claimed = this.state.resolvedIn(container);
    if (bindings.every((binding) => claimed.has(binding.id))) return;
    // `get` resolves a service bound once; `getAll` one bound several times, a value per binding.
    const several = bindings.length > 1;
    let values: readonly unknown[];
    try {
      values = several ? await container.getAllAsync(serviceId) : [await container.getAsync(serviceId)];
    } catch (error) {
      throw serviceFailed(
        found,
        'could not be resolved from the container',
        'bind what it depends on (in this container or a parent), or unbind it',
        error,
      );
    }
    if (values.length !== bindings.length) {
      throw serviceFailed(
        found,
        'could not be told apart',
        'bind each subscriber under an identifier of its own',
        unmatchedValues(serviceId, values.length, bindings.length),
      );
    }
    // The scope is the binding's. A non-singleton is resolved for each notification, synchronously
    // (so that `notifySync` reaches it) when the container can: only resolving it again tells. A
    // redirection (`toService`) has its target's scope: a singleton resolves to the same instance.
    let again: readonly unknown[] | undefined = values;
    if (bindings.some((binding) => binding.scope !== bindingScopeValues.Singleton)) {
      try {
        again = several ? container.getAll(serviceId) : [container.get(serviceId)];
      } catch {
        again = undefined; // only getAsync can resolve it
      }
    }
    for (const [index, binding] of bindings.entries()) {
      const instance = values[index];
      if (typeof instance !== 'object' || instance === null) continue;
      const handlers = handlersOf(instance);
      if (handlers.length === 0) continue; // e.g. a decorated class bound to an implementation without handlers
      const name = subscriberName(serviceId, [binding.implementationType ?? (instance.constructor as Function)]);
      checkHandlers(instance, handlers, name);
      const singleton =
        binding.scope === bindingScopeValues.Singleton || (binding.scope === undefined && again?.[index] === instance);
      if (singleton) this.#addSingleton(serviceId, instance, name);
      else this.#addResolved(serviceId, binding.id, handlers, again === undefined, instance.constructor as Function);
    }
  }

  #addSingleton(serviceId: ServiceIdentifier, instance: object, name: string): void {
    const { singletons } = this.state;
    if (!singletons.has(instance)) {
      const before = this.#preexistingOf(instance);
      let group: { readonly subscriptions: readonly Subscription[] };
      try {
        group = subscribeInstance(this.registry, instance);
      } catch (error) {
        throw new SubscriberBootError(
          name,
          'could not be subscribed',
          'keep each @OnResource member a method of the instance',
          error,
          handlerNames(classNameOf(instance), handlersOf(instance)),
        );
      }
      const claim = new Claim(
        group.subscriptions.filter((s) => !before.has(s.id)),
        () => {
          if (singletons.get(instance) === claim) singletons.delete(instance);
        },
      );
      singletons.set(instance, claim);
      this.#claims.push(claim);
    }
    this.#singletonIds.push(serviceId);
  }

  #addResolved(
    serviceId: ServiceIdentifier,
    bindingId: number,
    handlers: readonly HandlerInfo[],
    async: boolean,
    cls: Function,
  ): void {
    const claimed = this.state.resolvedIn(this.container);
    if (claimed.has(bindingId)) return; // booted meanwhile by a concurrent run
    const resolver = this.state.perNotification(this.container, serviceId);
    const subscriptions: Subscription[] = [];
    const claim = new Claim(subscriptions, () => {
      if (claimed.get(bindingId) === claim) claimed.delete(bindingId);
      resolver.forget(bindingId);
    });
    claimed.set(bindingId, claim);
    resolver.add(bindingId, async);
    this.#claims.push(claim);
    for (const { method, resource, event, priority, cancellable } of handlers) {
      const perNotification: UntypedCallback = (payload, notification) => {
        const instance = resolver.instanceFor(notification, bindingId);
        // No deactivation hook fires for a non-singleton: notice here that it was unbound or unloaded.
        if (instance === GONE) return claim.release();
        if (instance instanceof Promise) {
          return instance.then((resolved: unknown) => callHandler(resolved, method, cls, payload, notification));
        }
        return callHandler(instance, method, cls, payload, notification);
      };
      // Its name makes the subscription's id `L3Service.preventPortDelete#n`, as for a singleton's.
      Object.defineProperty(perNotification, 'name', { value: `${cls.name}.${String(method)}` });
      subscriptions.push(
        (this.registry.subscribe as UntypedSubscribe)(perNotification, resource, event, { priority, cancellable }),
      );
    }
  }

  #preexistingOf(instance: object): Set<string> {
    if (this.#preexisting === undefined) {
      this.#preexisting = new Map();
      for (const { owner, id } of this.registry.subscriptions()) {
        if (owner === undefined) continue;
        let ids = this.#preexisting.get(owner);
        if (ids === undefined) this.#preexisting.set(owner, (ids = new Set()));
        ids.add(id);
      }
    }
    return this.#preexisting.get(instance) ?? new Set();
  }

  hookTeardown(): void {
    for (const serviceId of this.#singletonIds) this.state.hookTeardown(this.container, serviceId);
  }

  undo(): void {
    for (const claim of this.#claims) claim.release();
  }

  handle(): CallbacksBoot {
    const dispose = () => this.undo();
    return {
      registry: this.registry,
      subscriptions: Object.freeze(this.#claims.flatMap((c) => c.subscriptions)),
      dispose,
      [Symbol.dispose]: dispose,
    };
  }
}

/** Call the handler `method` of the `instance` resolved for one notification. */
function callHandler(
  instance: unknown,
  method: string | symbol,
  cls: Function,
  payload: EventPayload | undefined,
  notification: Notification,
): unknown {
  if (typeof instance !== 'object' || instance === null) {
    throw new InvalidError(
      `${cls.name}.${String(method)}`,
      instance,
      'the container resolved the subscriber to this instead of an instance of its class; keep its binding resolving to one.',
    );
  }
  const handler = (instance as Record<string | symbol, unknown>)[method];
  if (typeof handler !== 'function') throw hiddenMethod(instance, method);
  return (handler as UntypedCallback).call(instance, payload, notification);
}

/** Throw the error boot gives for an instance whose own member hides a decorated method. */
function checkHandlers(instance: object, handlers: readonly HandlerInfo[], name: string): void {
  const hidden = handlers.filter((h) => typeof (instance as Record<string | symbol, unknown>)[h.method] !== 'function');
  if (hidden.length === 0) return;
  throw new SubscriberBootError(
    name,
    'could not be subscribed',
    'keep each @OnResource member a method of the instance',
    hiddenMethod(instance, hidden[0]!.method),
    handlerNames(classNameOf(instance), hidden),
  );
}

/** The error `subscribeInstance` gives for it: `Class.method` is not a method on the instance. */
function hiddenMethod(instance: object, method: string | symbol): InvalidError {
  const value = (instance as Record<string | symbol, unknown>)[method];
  return new InvalidError(
    `${classNameOf(instance)}.${String(method)}`,
    value,
    `the instance's ${describeValue(value)} hides the decorated method; keep it a method.`,
  );
}

function classNameOf(instance: object): string {
  return (instance.constructor as Function | undefined)?.name || 'anonymous';
}

/** `['L3Service.preventPortDelete', …]`, each method once. */
function handlerNames(className: string, handlers: readonly HandlerInfo[]): string[] {
  return [...new Set(handlers.map((h) => `${className || '(anonymous class)'}.${String(h.method)}`))];
}

/** The error for a service boot could not set up, naming its subscriber classes and all their handlers. */
function serviceFailed(
  { serviceId, declared, bindings }: Found,
  problem: string,
  hint: string,
  cause: unknown,
): SubscriberBootError {
  const classes = subscriberClasses(bindings, declared);
  return new SubscriberBootError(
    subscriberName(serviceId, classes),
    problem,
    hint,
    cause,
    classes.flatMap((cls) => handlerNames(cls.name, handlersOf(cls))),
  );
}

/** The classes a service's bindings name, that have handlers (for a message about a service that failed). */
function subscriberClasses(bindings: readonly BindingView[], declared: Function | undefined): Function[] {
  const classes = new Set<Function>();
  for (const binding of bindings) {
    const cls = binding.implementationType ?? declared;
    if (cls !== undefined && hasHandlers(cls)) classes.add(cls);
  }
  if (classes.size === 0 && declared !== undefined) classes.add(declared);
  return [...classes];
}

/**
 * `L3Service (handlers: preventPortDelete)`, `Symbol(L3Agent) → L3Service (handlers: …)`, or for a
 * token with several subscribers `Symbol(Agent) → L3Service (handlers: …), Firewall (handlers: …)`.
 */
function subscriberName(serviceId: ServiceIdentifier, classes: readonly Function[]): string {
  const described = classes
    .map((cls) => {
      const methods = [...new Set(handlersOf(cls).map((h) => String(h.method)))].join(', ');
      return `${cls.name || '(anonymous class)'} (handlers: ${methods})`;
    })
    .join(', ');
  return classes.length === 1 && classes[0] === serviceId ? described : `${describeService(serviceId)} → ${described}`;
}
