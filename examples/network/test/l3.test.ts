import 'reflect-metadata';
import '@herald/testing/jest';
import { describe, expect, it } from '@jest/globals';
import { BEFORE_DELETE, CallbackFailure, DBEventPayload, PORT } from '@herald/core';
import { l3Module, coreModule } from '../src/app.js';
import { DeviceOwner } from '../src/model/models.js';
import { ServicePortInUse } from '../src/model/errors.js';
import { PortService } from '../src/resources/port.service.js';
import { networkContainer, routedSubnet } from './support.js';

describe('L3Service.preventL3PortDeletion', () => {
  it("refuses the direct delete of a router's interface with ServicePortInUse", async () => {
    await using fixture = await networkContainer();
    const { port } = await routedSubnet(fixture);
    const failure = await fixture.api.delete(fixture.ctx, 'port', port.id).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CallbackFailure);
    const [inner] = (failure as CallbackFailure).innerErrors;
    expect(inner).toBeInstanceOf(ServicePortInUse);
    expect(inner).toMatchObject({ portId: port.id, reason: 'has device owner network:router_interface', status: 409 });
    expect(fixture.db.ports.find(port.id)).toBe(port);
    expect(fixture.container.recorder).toHaveVetoed(PORT, BEFORE_DELETE);
  });

  it('lets the router remove its own interface (portCheck: false)', async () => {
    await using fixture = await networkContainer();
    const { router, subnet, port } = await routedSubnet(fixture);
    await fixture.api.removeRouterInterface(fixture.ctx, router.id, subnet.id);
    expect(fixture.db.ports.find(port.id)).toBeUndefined();
    expect(fixture.container.recorder).toHaveNotified(
      PORT,
      BEFORE_DELETE,
      expect.objectContaining({ resourceId: port.id, metadata: { portCheck: false } }),
    );
  });

  it('allows a port that is not owned by a router', async () => {
    await using fixture = await networkContainer();
    const { network } = await routedSubnet(fixture);
    const vm = await fixture.api.create(fixture.ctx, 'port', {
      networkId: network.id,
      deviceOwner: DeviceOwner.COMPUTE,
    });
    await fixture.api.delete(fixture.ctx, 'port', vm.id);
    expect(fixture.db.ports.find(vm.id)).toBeUndefined();
  });

  it('allows a router port without addresses: a stale port', async () => {
    await using fixture = await networkContainer();
    const { network, router } = await routedSubnet(fixture);
    const stale = await fixture.api.create(fixture.ctx, 'port', {
      networkId: network.id,
      deviceOwner: DeviceOwner.ROUTER_INTERFACE,
      deviceId: router.id,
      fixedIps: [],
    });
    await fixture.api.delete(fixture.ctx, 'port', stale.id);
    expect(fixture.narrator.entries).toContainEqual(
      expect.objectContaining({ kind: 'say', source: 'l3', message: expect.stringContaining('no IP address') }),
    );
  });

  it('allows a router port whose router no longer exists', async () => {
    await using fixture = await networkContainer();
    const { network, subnet } = await routedSubnet(fixture);
    const orphan = await fixture.api.create(fixture.ctx, 'port', {
      networkId: network.id,
      deviceOwner: DeviceOwner.ROUTER_INTERFACE,
      deviceId: 'router-gone',
      fixedIps: [{ subnetId: subnet.id }],
    });
    await fixture.api.delete(fixture.ctx, 'port', orphan.id);
    expect(fixture.db.ports.find(orphan.id)).toBeUndefined();
  });

  it('refuses a floating IP port while its floating IP exists, and allows it once it is gone', async () => {
    await using fixture = await networkContainer();
    const { network, router } = await routedSubnet(fixture);
    fixture.db.floatingIps.put({ id: 'fip-1', floatingIpAddress: '203.0.113.10', routerId: router.id });
    const fipPort = await fixture.api.create(fixture.ctx, 'port', {
      networkId: network.id,
      deviceOwner: DeviceOwner.FLOATING_IP,
      deviceId: 'fip-1',
    });
    await expect(fixture.api.delete(fixture.ctx, 'port', fipPort.id)).rejects.toThrow(
      /cannot be deleted directly via the port API: has device owner network:floatingip/,
    );
    fixture.db.floatingIps.remove('fip-1');
    await fixture.api.delete(fixture.ctx, 'port', fipPort.id);
    expect(fixture.db.ports.find(fipPort.id)).toBeUndefined();
  });

  it('allows a port it does not know (another plugin announcing the delete)', async () => {
    await using fixture = await networkContainer();
    const payload = new DBEventPayload(fixture.ctx, { resourceId: 'port-unknown', states: [] });
    await fixture.container.registry.notify(PORT, BEFORE_DELETE, 'elsewhere', payload);
    expect(fixture.container.recorder).not.toHaveVetoed(PORT, BEFORE_DELETE);
  });

  it('tells L3 agents routers_updated when a router port comes and goes', async () => {
    await using fixture = await networkContainer();
    const { router, subnet } = await routedSubnet(fixture);
    await fixture.api.removeRouterInterface(fixture.ctx, router.id, subnet.id);
    await fixture.settle();
    expect(fixture.hosts.received('l3-a').map((d) => d.payload)).toEqual([
      { routers: [router.id], operation: 'add_port' },
      { routers: [router.id], operation: 'delete_port' },
    ]);
  });
});

describe('a deployment without some services', () => {
  it("deletes a router's port directly when no L3 service is loaded: nothing else knew about it", async () => {
    await using fixture = await networkContainer({ modules: (o) => [coreModule(o)] });
    const { port } = await routedSubnet(fixture);
    await fixture.container.get(PortService).delete(fixture.ctx, port.id);
    expect(fixture.db.ports.find(port.id)).toBeUndefined();
    expect(fixture.container.recorder).toHaveNotified(PORT, 'after_delete');
  });

  it('guards router ports with only the core and L3 loaded', async () => {
    await using fixture = await networkContainer({ modules: (o) => [coreModule(o), l3Module()] });
    const { port } = await routedSubnet(fixture);
    await expect(fixture.container.get(PortService).delete(fixture.ctx, port.id)).rejects.toThrow(CallbackFailure);
  });
});
