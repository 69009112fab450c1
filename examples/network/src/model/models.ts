/**
 * The example's resources, modelled on Neutron's API objects, and their declaration to Herald:
 * after the `declare module` below, a `port` notification only compiles with a
 * `DBEventPayload<Port, RequestContext>`, and an `@OnResource(PORT, …)` handler gets one.
 * @module
 */

import type { RequestContext } from './context.js';

/** A layer-2 network. */
export interface Network {
  readonly id: string;
  readonly name: string;
  readonly projectId: string;
  readonly adminStateUp: boolean;
}

/** An IPv4 subnet of a network. */
export interface Subnet {
  readonly id: string;
  readonly name: string;
  readonly networkId: string;
  readonly cidr: string;
  readonly gatewayIp: string;
  readonly enableDhcp: boolean;
}

/** An address of a port on one subnet. */
export interface FixedIp {
  readonly subnetId: string;
  readonly ipAddress: string;
}

/** A port on a network: what a VM, a router interface, a DHCP server or a floating IP plugs in. */
export interface Port {
  readonly id: string;
  readonly name: string;
  readonly networkId: string;
  readonly macAddress: string;
  /** Who uses the port, e.g. `network:router_interface` or `compute:nova` (see {@link DeviceOwner}). */
  readonly deviceOwner: string;
  /** The id of the device that owns the port (a router's id for a router interface). */
  readonly deviceId: string;
  readonly fixedIps: readonly FixedIp[];
}

/** A router; its interfaces are the ports whose `deviceId` is the router's id. */
export interface Router {
  readonly id: string;
  readonly name: string;
  readonly projectId: string;
  readonly adminStateUp: boolean;
}

/** A floating IP; its port's `deviceId` is the floating IP's id. */
export interface FloatingIp {
  readonly id: string;
  readonly floatingIpAddress: string;
  readonly routerId: string | undefined;
}

/** The `deviceOwner` values the example's services care about (Neutron's strings). */
export const DeviceOwner = Object.freeze({
  ROUTER_INTERFACE: 'network:router_interface',
  ROUTER_INTERFACE_DISTRIBUTED: 'network:router_interface_distributed',
  ROUTER_HA_INTERFACE: 'network:ha_router_replicated_interface',
  ROUTER_GATEWAY: 'network:router_gateway',
  ROUTER_SNAT: 'network:router_centralized_snat',
  FLOATING_IP: 'network:floatingip',
  DHCP: 'network:dhcp',
  COMPUTE: 'compute:nova',
} as const);

/** Ports whose owner is a router (an interface of it, its gateway, its SNAT port). */
export const ROUTER_INTERFACE_OWNERS: readonly string[] = [
  DeviceOwner.ROUTER_INTERFACE,
  DeviceOwner.ROUTER_INTERFACE_DISTRIBUTED,
  DeviceOwner.ROUTER_HA_INTERFACE,
  DeviceOwner.ROUTER_SNAT,
];

/** Ports that L3 protects from a direct delete: router ports, the gateway, floating IP ports. */
export const ROUTER_DEVICE_OWNERS: readonly string[] = [
  ...ROUTER_INTERFACE_OWNERS,
  DeviceOwner.ROUTER_GATEWAY,
  DeviceOwner.FLOATING_IP,
];

declare module '@herald/core' {
  interface HeraldTypes {
    context: RequestContext;
  }
  interface ResourceModels {
    network: Network;
    subnet: Subnet;
    port: Port;
    router: Router;
  }
}

/** The resources the example's trigger services manage, with their models. */
export interface Models {
  network: Network;
  subnet: Subnet;
  port: Port;
  router: Router;
}

/** The name of a managed resource. */
export type Managed = keyof Models;
