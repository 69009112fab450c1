import { describe, expect, it } from '@jest/globals';
import * as core from '@herald/core';
import {
  ABORT,
  abortEventFor,
  BEFORE,
  events,
  isCancellableEvent,
  PRECOMMIT,
  PRIORITY_DEFAULT,
  PRIORITY_ROUTER_CONTROLLER,
  PRIORITY_ROUTER_DEFAULT,
  PRIORITY_ROUTER_DRIVER,
  PRIORITY_ROUTER_EXTENDED_ATTRIBUTE,
  resources,
} from '@herald/core';

/** neutron_lib.callbacks.events, name → value. */
const neutronEvents = {
  BEFORE_CREATE: 'before_create',
  BEFORE_READ: 'before_read',
  BEFORE_UPDATE: 'before_update',
  BEFORE_DELETE: 'before_delete',
  PRECOMMIT_CREATE: 'precommit_create',
  PRECOMMIT_UPDATE: 'precommit_update',
  PRECOMMIT_DELETE: 'precommit_delete',
  PRECOMMIT_ADD_ASSOCIATION: 'precommit_add_association',
  PRECOMMIT_DELETE_ASSOCIATIONS: 'precommit_delete_associations',
  AFTER_CREATE: 'after_create',
  AFTER_READ: 'after_read',
  AFTER_UPDATE: 'after_update',
  AFTER_DELETE: 'after_delete',
  AFTER_STATUS_UPDATE: 'after_status_update',
  BEFORE_RESPONSE: 'before_response',
  AFTER_REQUEST: 'after_request',
  BEFORE_INIT: 'before_init',
  BEFORE_SPAWN: 'before_spawn',
  AFTER_SPAWN: 'after_spawn',
  AFTER_INIT: 'after_init',
  ABORT_CREATE: 'abort_create',
  ABORT_READ: 'abort_read',
  ABORT_UPDATE: 'abort_update',
  ABORT_DELETE: 'abort_delete',
  OVS_RESTARTED: 'ovs_restarted',
  ABORT: 'abort_',
  BEFORE: 'before_',
  PRECOMMIT: 'precommit_',
};

/** neutron_lib.callbacks.resources, name → value. */
const neutronResources = {
  ADDRESS_GROUP: 'address_group',
  AGENT: 'agent',
  ALLOWED_ADDRESS_PAIR: 'allowed_address_pair',
  FLOATING_IP: 'floatingip',
  LOCAL_IP_ASSOCIATION: 'local_ip_association',
  NETWORK: 'network',
  NETWORKS: 'networks',
  PORT: 'port',
  PORTS: 'ports',
  PORT_BINDING: 'port_binding',
  PORT_DEVICE: 'port_device',
  PROCESS: 'process',
  PVLAN_PLUGIN: 'pvlan_plugin',
  RBAC_POLICY: 'rbac-policy',
  ROUTER: 'router',
  ROUTER_CONTROLLER: 'router_controller',
  ROUTER_GATEWAY: 'router_gateway',
  ROUTER_INTERFACE: 'router_interface',
  SECURITY_GROUP: 'security_group',
  SECURITY_GROUP_RULE: 'security_group_rule',
  SEGMENT: 'segment',
  SEGMENT_HOST_MAPPING: 'segment_host_mapping',
  SUBNET: 'subnet',
  SUBNETS: 'subnets',
  SUBNETPOOL_ADDRESS_SCOPE: 'subnetpool_address_scope',
  SUBPORTS: 'subports',
  TRUNK: 'trunk',
  TRUNK_PLUGIN: 'trunk_plugin',
};

describe('event and resource names', () => {
  it("exports every Neutron event with Neutron's value, one by one and in the frozen events object", () => {
    expect(events).toEqual(neutronEvents);
    expect(Object.isFrozen(events)).toBe(true);
    for (const [name, value] of Object.entries(neutronEvents)) {
      expect((core as Record<string, unknown>)[name]).toBe(value);
    }
  });

  it("exports every Neutron resource with Neutron's value, one by one and in the frozen resources object", () => {
    expect(resources).toEqual(neutronResources);
    expect(Object.isFrozen(resources)).toBe(true);
    for (const [name, value] of Object.entries(neutronResources)) {
      expect((core as Record<string, unknown>)[name]).toBe(value);
    }
  });

  it("has Neutron's priority values, lower running first", () => {
    expect(PRIORITY_DEFAULT).toBe(55_550_000);
    expect([
      PRIORITY_ROUTER_EXTENDED_ATTRIBUTE,
      PRIORITY_ROUTER_DEFAULT,
      PRIORITY_ROUTER_CONTROLLER,
      PRIORITY_ROUTER_DRIVER,
    ]).toEqual([55_549_900, 55_550_000, 55_550_100, 55_550_200]);
  });
});

describe('isCancellableEvent', () => {
  it.each([
    ['before_create', true],
    ['before_anything', true],
    ['precommit_update', true],
    ['precommit_add_association', true],
    ['after_create', false],
    ['abort_create', false],
    ['before', false],
    ['xbefore_create', false],
    ['after_init', false],
  ])('%s → %s', (event, cancellable) => {
    expect(isCancellableEvent(event)).toBe(cancellable);
  });

  it.each([undefined, null, 42, {}])('is false for %p, which is not an event name', (event) => {
    expect(isCancellableEvent(event as string)).toBe(false);
  });

  it('holds exactly for the names that start with BEFORE or PRECOMMIT', () => {
    expect([BEFORE, PRECOMMIT]).toEqual(['before_', 'precommit_']);
    for (const name of ['x', 'create', 'router'])
      for (const prefix of [BEFORE, PRECOMMIT, 'after_', 'abort_', ''])
        expect(isCancellableEvent(prefix + name)).toBe(prefix === BEFORE || prefix === PRECOMMIT);
  });
});

describe('abortEventFor', () => {
  it.each([
    ['before_create', 'abort_create'],
    ['before_delete', 'abort_delete'],
    ['before_custom_thing', 'abort_custom_thing'],
    // Neutron quirk fixed: Neutron's str.replace rewrites every 'before_' in the name.
    ['before_before_update', 'abort_before_update'],
    ['before_', 'abort_'],
  ])('%s → %s', (event, abort) => {
    expect(abortEventFor(event)).toBe(abort);
    expect(String(abortEventFor(event)).startsWith(ABORT)).toBe(true);
  });

  it.each(['after_create', 'precommit_create', 'abort_create', 'x_before_create', 'BEFORE_CREATE'])(
    'has no abort event for %s',
    (event) => {
      expect(abortEventFor(event)).toBeUndefined();
    },
  );

  it.each([undefined, null, 42, {}])('has no abort event for %p, which is not an event name', (event) => {
    expect(abortEventFor(event as string)).toBeUndefined();
  });
});
