/**
 * Resource names, with the string values of Neutron's `neutron_lib.callbacks.resources`.
 * Users add their own resources as plain strings and declare their types in `ResourceModels`
 * (see `types.ts`).
 *
 * @example
 * ```ts
 * import { ROUTER, resources } from '@herald/core';
 * ROUTER === resources.ROUTER; // 'router'
 * ```
 * @module
 */

export const ADDRESS_GROUP = 'address_group';
export const AGENT = 'agent';
export const ALLOWED_ADDRESS_PAIR = 'allowed_address_pair';
export const FLOATING_IP = 'floatingip';
export const LOCAL_IP_ASSOCIATION = 'local_ip_association';
export const NETWORK = 'network';
export const NETWORKS = 'networks';
export const PORT = 'port';
export const PORTS = 'ports';
export const PORT_BINDING = 'port_binding';
export const PORT_DEVICE = 'port_device';
export const PROCESS = 'process';
export const PVLAN_PLUGIN = 'pvlan_plugin';
export const RBAC_POLICY = 'rbac-policy';
export const ROUTER = 'router';
export const ROUTER_CONTROLLER = 'router_controller';
export const ROUTER_GATEWAY = 'router_gateway';
export const ROUTER_INTERFACE = 'router_interface';
export const SECURITY_GROUP = 'security_group';
export const SECURITY_GROUP_RULE = 'security_group_rule';
export const SEGMENT = 'segment';
export const SEGMENT_HOST_MAPPING = 'segment_host_mapping';
export const SUBNET = 'subnet';
export const SUBNETS = 'subnets';
export const SUBNETPOOL_ADDRESS_SCOPE = 'subnetpool_address_scope';
export const SUBPORTS = 'subports';
export const TRUNK = 'trunk';
export const TRUNK_PLUGIN = 'trunk_plugin';

/** Every resource constant as one frozen object: `resources.ROUTER`. */
export const resources = Object.freeze({
  ADDRESS_GROUP,
  AGENT,
  ALLOWED_ADDRESS_PAIR,
  FLOATING_IP,
  LOCAL_IP_ASSOCIATION,
  NETWORK,
  NETWORKS,
  PORT,
  PORTS,
  PORT_BINDING,
  PORT_DEVICE,
  PROCESS,
  PVLAN_PLUGIN,
  RBAC_POLICY,
  ROUTER,
  ROUTER_CONTROLLER,
  ROUTER_GATEWAY,
  ROUTER_INTERFACE,
  SECURITY_GROUP,
  SECURITY_GROUP_RULE,
  SEGMENT,
  SEGMENT_HOST_MAPPING,
  SUBNET,
  SUBNETS,
  SUBNETPOOL_ADDRESS_SCOPE,
  SUBPORTS,
  TRUNK,
  TRUNK_PLUGIN,
} as const);

/** The name of one of Neutron's resources. */
export type NeutronResource = (typeof resources)[keyof typeof resources];
