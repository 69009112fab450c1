/**
 * Case (f): a singleton's `@OnResource` handler discovered by `bootCallbacks` in an Inversify
 * container, against the same handler subscribed by hand with its instance as owner.
 * @module
 */

import 'reflect-metadata';
import { AFTER_CREATE, CallbackRegistry, EventPayload, OnResource, ROUTER, type DBEventPayload } from '@herald/core';
import { bootCallbacks, callbacksModule } from '@herald/inversify';
import { Container, injectable } from 'inversify';
import type { Case, Prepared } from './cases.js';
import { payload } from './cases.js';

@injectable()
class RouterAudit {
  created = 0;

  @OnResource(ROUTER, AFTER_CREATE)
  onRouterCreated(received: DBEventPayload | EventPayload | undefined): void {
    this.created += received === payload ? 1 : 1000;
  }
}

function audited(registry: CallbackRegistry, audit: RouterAudit, label: string): Prepared {
  const op = () => registry.notifySync(ROUTER, AFTER_CREATE, undefined, payload);
  return {
    op,
    check() {
      audit.created = 0;
      op();
      if (audit.created !== 1) throw new Error(`${label}: the handler counted ${audit.created}, expected 1`);
    },
  };
}

export const bootCase: Case = {
  id: 'f',
  title: '(f) a singleton handler: discovered by `bootCallbacks` or subscribed by hand (notifySync)',
  rows: [
    {
      name: 'subscribed by hand',
      kind: 'limit',
      note: '`registry.subscribe(audit.onRouterCreated, ROUTER, AFTER_CREATE, { owner: audit })`',
      async prepare() {
        const registry = new CallbackRegistry();
        const audit = new RouterAudit();
        registry.subscribe(audit.onRouterCreated, ROUTER, AFTER_CREATE, { owner: audit });
        return audited(registry, audit, this.name);
      },
    },
    {
      name: 'Herald, bootCallbacks',
      kind: 'herald',
      note: "a singleton bound in an Inversify container, found at boot; notified through the container's registry",
      async prepare() {
        const container = new Container();
        container.load(callbacksModule());
        container.bind(RouterAudit).toSelf().inSingletonScope();
        await bootCallbacks(container);
        return audited(container.get(CallbackRegistry), container.get(RouterAudit), this.name);
      },
    },
  ],
};
