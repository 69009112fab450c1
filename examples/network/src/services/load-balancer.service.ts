/**
 * `LoadBalancerService`: load balancers reach their members through routers, so it follows the
 * routers' lifecycle to know which ones it can route VIP traffic through.
 * @module
 */

import { AFTER_CREATE, AFTER_DELETE, AFTER_UPDATE, OnResource, ROUTER, type DBEventPayload } from '@herald/core';
import { inject, injectable } from 'inversify';
import type { Router } from '../model/models.js';
import { Narrator } from '../narrator.js';

/**
 * The load-balancer plugin, reduced to the routers it may route VIP traffic through.
 *
 * @example
 * ```ts
 * lb.usableRouters(); // ['router-1']
 * ```
 */
@injectable()
export class LoadBalancerService {
  readonly #usable = new Set<string>();

  constructor(@inject(Narrator) private readonly narrator: Narrator) {}

  /** The routers VIP traffic may go through: existing and administratively up. */
  usableRouters(): string[] {
    return [...this.#usable];
  }

  @OnResource(ROUTER, [AFTER_CREATE, AFTER_UPDATE])
  trackRouter(payload: DBEventPayload<Router>): void {
    const router = payload.latestState!;
    const was = this.#usable.has(router.id);
    if (router.adminStateUp) this.#usable.add(router.id);
    else this.#usable.delete(router.id);
    if (was !== router.adminStateUp) {
      this.narrator.say(
        'lbaas',
        `${router.id} ${router.adminStateUp ? 'can now carry' : 'no longer carries'} VIP traffic`,
      );
    }
  }

  @OnResource(ROUTER, AFTER_DELETE)
  forgetRouter(payload: DBEventPayload<Router>): void {
    if (this.#usable.delete(String(payload.resourceId))) {
      this.narrator.say('lbaas', `${payload.resourceId} is gone: VIP routes through it withdrawn`);
    }
  }
}
