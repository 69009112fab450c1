/**
 * What must and must not compile with @herald/inversify: a program of its own (typetest/tsconfig.json)
 * that imports the package by its name, as an application does.
 */
import 'reflect-metadata';
import { AFTER_CREATE, OnResource, ROUTER, type CallbackRegistry, type Subscription } from '@herald/core';
import { expectTypeOf } from 'expect-type';
import { Container, ContainerModule, type ServiceIdentifier } from 'inversify';
import { bindSubscriber, bootCallbacks, callbacksModule, type CallbacksBoot } from '@herald/inversify';

interface RouterAuditor {
  readonly seen: number;
}
const ROUTER_AUDITOR: ServiceIdentifier<RouterAuditor> = Symbol('RouterAuditor');

class RouterAudit implements RouterAuditor {
  seen = 0;

  @OnResource(ROUTER, AFTER_CREATE)
  onCreate(): void {
    this.seen++;
  }
}

class Unrelated {
  @OnResource(ROUTER, AFTER_CREATE)
  onCreate(): void {}
}

const container = new Container();
container.load(callbacksModule({ name: 'typetest', isRetriable: (e) => e instanceof RangeError }));

// @ts-expect-error a logger must have an error method
callbacksModule({ logger: { info: () => undefined } });

expectTypeOf(bootCallbacks(container)).toEqualTypeOf<Promise<CallbacksBoot>>();
expectTypeOf<CallbacksBoot['registry']>().toEqualTypeOf<CallbackRegistry>();
expectTypeOf<CallbacksBoot['subscriptions']>().toEqualTypeOf<readonly Subscription[]>();
expectTypeOf<CallbacksBoot>().toMatchTypeOf<Disposable>();

bindSubscriber(container, ROUTER_AUDITOR, RouterAudit).inSingletonScope();
new ContainerModule((options) => {
  bindSubscriber(options, ROUTER_AUDITOR, RouterAudit).inRequestScope();
});

// Inversify's symbol tokens carry no type, so the interface is checked when it is named:
// @ts-expect-error Unrelated does not implement RouterAuditor
bindSubscriber<RouterAuditor>(container, ROUTER_AUDITOR, Unrelated);

// @ts-expect-error bootCallbacks takes a container
void bootCallbacks(new ContainerModule(() => undefined));

// @OnResource's mistakes fail at compile time, before a container ever boots.
export class Misdecorated {
  // @ts-expect-error a static method is not an instance's handler (InstancePrototype)
  @OnResource(ROUTER, AFTER_CREATE)
  static onCreate(): void {}

  // @ts-expect-error a getter is no handler (HandlerFor<'router', 'after_create'>)
  @OnResource(ROUTER, AFTER_CREATE)
  get created(): number {
    return 0;
  }
}
