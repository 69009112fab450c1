/**
 * `bindSubscriber`: bind a subscriber under a token (an interface's service identifier), checking
 * at once that it has `@OnResource` methods, and record it for `bootCallbacks`. Boot also finds
 * plain class bindings on its own (`bind(TOKEN).to(Class)`, `bind(Class).toSelf()`).
 * @module
 */

import { describeValue, handlersOf, InvalidError } from '@herald/core';
import type { Bind, BindInWhenOnFluentSyntax, Container, Newable, ServiceIdentifier } from 'inversify';

/** A subscriber bound under a token, as `bindSubscriber` records it in the container. */
export interface SubscriberContribution {
  readonly serviceIdentifier: ServiceIdentifier;
  readonly subscriber: Newable<object>;
}

/**
 * The service identifier of the contributions: a multi-binding, so that each contribution lives
 * in the container (or module) that bound its subscriber, and goes away with it.
 */
const SUBSCRIBERS: ServiceIdentifier<SubscriberContribution> = Symbol('@herald/inversify subscribers');

/**
 * Bind `serviceIdentifier` to the `@OnResource` class `subscriber`, and tell `bootCallbacks` to
 * subscribe it. Returns Inversify's fluent syntax, so the scope is chosen as usual (Inversify's
 * default scope is transient: a singleton needs `.inSingletonScope()`). `target` is the container,
 * or the options a `ContainerModule` receives (then unloading the module unbinds both). Several
 * subscribers may be bound under one token: each is subscribed, with its own scope.
 *
 * @throws InvalidError naming `bindSubscriber` when `subscriber` is not a class with `@OnResource`
 *   methods, or `serviceIdentifier` is not a string, symbol or class
 * @example
 * ```ts
 * const L3_AGENT: ServiceIdentifier<L3Agent> = Symbol('L3Agent');
 * bindSubscriber(container, L3_AGENT, L3Service).inSingletonScope();
 * // or in a module:
 * new ContainerModule((options) => { bindSubscriber(options, L3_AGENT, L3Service).inSingletonScope(); });
 * // several under one token, as a multi-binding: both are subscribed
 * bindSubscriber(container, AGENTS, L3Service).inSingletonScope();
 * bindSubscriber(container, AGENTS, DhcpAgentNotifier);
 * ```
 */
export function bindSubscriber<T extends object>(
  target: { readonly bind: Bind },
  serviceIdentifier: ServiceIdentifier<T>,
  subscriber: Newable<T>,
): BindInWhenOnFluentSyntax<T> {
  if (target === null || typeof target !== 'object' || typeof target.bind !== 'function') {
    throw new InvalidError(
      'target',
      target,
      'pass the Container, or the options a ContainerModule receives (bindSubscriber(options, TOKEN, Class)).',
    );
  }
  if (!isServiceIdentifier(serviceIdentifier)) {
    throw new InvalidError(
      'serviceIdentifier',
      serviceIdentifier,
      'pass a string, symbol or class to bind the subscriber under (bindSubscriber(container, TOKEN, Class)).',
    );
  }
  if (typeof subscriber !== 'function' || handlersOf(subscriber).length === 0) {
    throw new InvalidError(
      'subscriber',
      subscriber,
      `bindSubscriber(container, ${describeValue(serviceIdentifier)}, Class) needs a class with @OnResource methods; ` +
        'bind other services with container.bind().',
    );
  }
  target.bind(SUBSCRIBERS).toConstantValue({ serviceIdentifier, subscriber });
  return target.bind(serviceIdentifier).to(subscriber);
}

function isServiceIdentifier(value: unknown): value is ServiceIdentifier {
  return (typeof value === 'string' && value !== '') || typeof value === 'symbol' || typeof value === 'function';
}

/** The contributions bound in `container` itself (not in its ancestors, which boot on their own). */
export function contributionsIn(container: Container): readonly SubscriberContribution[] {
  return container.isCurrentBound(SUBSCRIBERS) ? container.getAll(SUBSCRIBERS) : [];
}
