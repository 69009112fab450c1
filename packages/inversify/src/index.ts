/**
 * `@herald/inversify`: Herald in an Inversify 8 container. Load {@link callbacksModule}, bind
 * services with `@OnResource` methods, `await bootCallbacks(container)`, and inject
 * `CallbackRegistry` where events are triggered.
 *
 * @example
 * ```ts
 * const container = new Container();
 * container.load(callbacksModule());
 * container.bind(L3Service).toSelf().inSingletonScope();
 * await bootCallbacks(container);
 * await container.get(CallbackRegistry).notify(PORT, BEFORE_DELETE, 'api', payload);
 * ```
 * @module @herald/inversify
 */

export { callbacksModule } from './callbacks.module.js';
export { bootCallbacks, type CallbacksBoot } from './subscribers.loader.js';
export { bindSubscriber } from './subscriber.binding.js';
export { CallbacksNotBootedError, SubscriberBootError } from './errors.js';
