/**
 * What another package adds: one more event on existing resources, one loosely typed in Neutron
 * (`router`) and one with a declared model (`network`).
 */
import type { DBEventPayload, EventSpec } from '@herald/core';
import type { Network, Router } from './models.js';

export const GATEWAY_SET = 'gateway_set';
export const SEGMENTS_CHANGED = 'segments_changed';

declare module '@herald/core' {
  interface HeraldEvents {
    routerGatewaySet: EventSpec<'router', typeof GATEWAY_SET, DBEventPayload<Router>>;
    networkSegmentsChanged: EventSpec<'network', typeof SEGMENTS_CHANGED, DBEventPayload<Network> | undefined>;
  }
}
