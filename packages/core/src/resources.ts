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

/**
 * Neutron's `address_group` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, ADDRESS_GROUP, AFTER_CREATE);
 * ```
 */
export const ADDRESS_GROUP = 'address_group';

/**
 * Neutron's `agent` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, AGENT, AFTER_UPDATE);
 * ```
 */
export const AGENT = 'agent';

/**
 * Neutron's `allowed_address_pair` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, ALLOWED_ADDRESS_PAIR, AFTER_CREATE);
 * ```
 */
export const ALLOWED_ADDRESS_PAIR = 'allowed_address_pair';

/**
 * Neutron's `floatingip` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, FLOATING_IP, AFTER_CREATE);
 * ```
 */
export const FLOATING_IP = 'floatingip';

/**
 * Neutron's `local_ip_association` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, LOCAL_IP_ASSOCIATION, AFTER_CREATE);
 * ```
 */
export const LOCAL_IP_ASSOCIATION = 'local_ip_association';

/**
 * Neutron's `network` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, NETWORK, AFTER_CREATE);
 * ```
 */
export const NETWORK = 'network';

/**
 * Neutron's `networks` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, NETWORKS, AFTER_CREATE);
 * ```
 */
export const NETWORKS = 'networks';

/**
 * Neutron's `port` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, PORT, AFTER_CREATE);
 * ```
 */
export const PORT = 'port';

/**
 * Neutron's `ports` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, PORTS, AFTER_CREATE);
 * ```
 */
export const PORTS = 'ports';

/**
 * Neutron's `port_binding` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, PORT_BINDING, AFTER_CREATE);
 * ```
 */
export const PORT_BINDING = 'port_binding';

/**
 * Neutron's `port_device` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, PORT_DEVICE, AFTER_CREATE);
 * ```
 */
export const PORT_DEVICE = 'port_device';

/**
 * Neutron's `process` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, PROCESS, BEFORE_SPAWN);
 * ```
 */
export const PROCESS = 'process';

/**
 * Neutron's `pvlan_plugin` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, PVLAN_PLUGIN, AFTER_CREATE);
 * ```
 */
export const PVLAN_PLUGIN = 'pvlan_plugin';

/**
 * Neutron's `rbac-policy` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, RBAC_POLICY, AFTER_CREATE);
 * ```
 */
export const RBAC_POLICY = 'rbac-policy';

/**
 * Neutron's `router` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, ROUTER, AFTER_CREATE);
 * ```
 */
export const ROUTER = 'router';

/**
 * Neutron's `router_controller` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, ROUTER_CONTROLLER, AFTER_CREATE);
 * ```
 */
export const ROUTER_CONTROLLER = 'router_controller';

/**
 * Neutron's `router_gateway` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, ROUTER_GATEWAY, AFTER_CREATE);
 * ```
 */
export const ROUTER_GATEWAY = 'router_gateway';

/**
 * Neutron's `router_interface` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, ROUTER_INTERFACE, AFTER_CREATE);
 * ```
 */
export const ROUTER_INTERFACE = 'router_interface';

/**
 * Neutron's `security_group` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, SECURITY_GROUP, AFTER_CREATE);
 * ```
 */
export const SECURITY_GROUP = 'security_group';

/**
 * Neutron's `security_group_rule` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, SECURITY_GROUP_RULE, AFTER_CREATE);
 * ```
 */
export const SECURITY_GROUP_RULE = 'security_group_rule';

/**
 * Neutron's `segment` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, SEGMENT, AFTER_CREATE);
 * ```
 */
export const SEGMENT = 'segment';

/**
 * Neutron's `segment_host_mapping` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, SEGMENT_HOST_MAPPING, AFTER_CREATE);
 * ```
 */
export const SEGMENT_HOST_MAPPING = 'segment_host_mapping';

/**
 * Neutron's `subnet` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, SUBNET, AFTER_CREATE);
 * ```
 */
export const SUBNET = 'subnet';

/**
 * Neutron's `subnets` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, SUBNETS, AFTER_CREATE);
 * ```
 */
export const SUBNETS = 'subnets';

/**
 * Neutron's `subnetpool_address_scope` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, SUBNETPOOL_ADDRESS_SCOPE, AFTER_CREATE);
 * ```
 */
export const SUBNETPOOL_ADDRESS_SCOPE = 'subnetpool_address_scope';

/**
 * Neutron's `subports` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, SUBPORTS, AFTER_CREATE);
 * ```
 */
export const SUBPORTS = 'subports';

/**
 * Neutron's `trunk` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, TRUNK, AFTER_CREATE);
 * ```
 */
export const TRUNK = 'trunk';

/**
 * Neutron's `trunk_plugin` resource: the name its events are sent under.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, TRUNK_PLUGIN, AFTER_CREATE);
 * ```
 */
export const TRUNK_PLUGIN = 'trunk_plugin';

/**
 * Every resource constant as one frozen object: `resources.ROUTER`.
 *
 * @example
 * ```ts
 * registry.subscribe(onChange, resources.ROUTER, AFTER_CREATE);
 * ```
 */
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

/**
 * The name of one of Neutron's resources.
 *
 * @example
 * ```ts
 * const resource: NeutronResource = 'router';
 * ```
 */
export type NeutronResource = (typeof resources)[keyof typeof resources];
