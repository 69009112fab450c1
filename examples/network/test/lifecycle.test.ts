import 'reflect-metadata';
import '@herald/testing/jest';
import { describe, expect, it } from '@jest/globals';
import {
  AFTER_CREATE,
  AFTER_DELETE,
  AFTER_UPDATE,
  BEFORE_CREATE,
  BEFORE_DELETE,
  BEFORE_UPDATE,
  CallbackFailure,
  DBEventPayload,
  PRECOMMIT_CREATE,
  PRECOMMIT_DELETE,
  PRECOMMIT_UPDATE,
  ROUTER,
  type NotificationRecord,
} from '@herald/core';
import { BadRequest, InUse, NotFound, RouterInUseByVpnService } from '../src/model/errors.js';
import type { Router } from '../src/model/models.js';
import { FirewallService } from '../src/services/firewall.service.js';
import { LoadBalancerService } from '../src/services/load-balancer.service.js';
import { VpnService } from '../src/services/vpn.service.js';
import { networkContainer, routedSubnet } from './support.js';

const payloadOf = (records: NotificationRecord[], event: string) =>
  records.find((r) => r.event === event)!.payload as DBEventPayload<Router>;

describe('the create / update / delete mechanism of the trigger services', () => {
  it('carries the states the concepts prescribe in each phase', async () => {
    await using fixture = await networkContainer();
    const { api, ctx, container } = fixture;
    const router = await api.create(ctx, 'router', { name: 'r' });
    const renamed = await api.update(ctx, 'router', router.id, { name: 'r2' });
    await api.delete(ctx, 'router', router.id);
    const records = container.recorder.find(ROUTER);
    expect(records.map((r) => r.event)).toEqual([
      BEFORE_CREATE,
      PRECOMMIT_CREATE,
      AFTER_CREATE,
      BEFORE_UPDATE,
      PRECOMMIT_UPDATE,
      AFTER_UPDATE,
      BEFORE_DELETE,
      PRECOMMIT_DELETE,
      AFTER_DELETE,
    ]);
    const at = (event: string) => payloadOf(records, event);
    expect(at(BEFORE_CREATE)).toMatchObject({ desiredState: router, requestBody: { name: 'r' }, states: [] });
    expect(at(BEFORE_CREATE).resourceId).toBeUndefined();
    expect(at(PRECOMMIT_CREATE)).toMatchObject({ desiredState: router, resourceId: router.id });
    expect(at(AFTER_CREATE)).toMatchObject({ states: [router], resourceId: router.id, desiredState: undefined });
    for (const event of [BEFORE_UPDATE, PRECOMMIT_UPDATE]) {
      expect(at(event)).toMatchObject({ states: [router], desiredState: renamed, requestBody: { name: 'r2' } });
    }
    expect(at(AFTER_UPDATE)).toMatchObject({ states: [router, renamed], resourceId: router.id });
    for (const event of [BEFORE_DELETE, PRECOMMIT_DELETE, AFTER_DELETE]) {
      expect(at(event)).toMatchObject({ states: [renamed], resourceId: router.id });
    }
    for (const r of records) expect((r.payload as DBEventPayload).context).toBe(ctx);
  });

  it('rolls the transaction back when a precommit subscriber fails, and skips after_create', async () => {
    await using fixture = await networkContainer();
    const { api, ctx, container, db } = fixture;
    container.registry.subscribe(
      function quotaExceeded() {
        throw new Error('router quota exceeded');
      },
      ROUTER,
      PRECOMMIT_CREATE,
    );
    await expect(api.create(ctx, 'router', { name: 'r' })).rejects.toThrow(CallbackFailure);
    expect(db.routers.list()).toEqual([]);
    expect(container.recorder).toHaveVetoed(ROUTER, PRECOMMIT_CREATE);
    expect(container.recorder).not.toHaveNotified(ROUTER, AFTER_CREATE);
    expect(container.recorder).not.toHaveNotified(ROUTER, 'abort_create');
  });

  it('changes nothing when before_update is vetoed', async () => {
    await using fixture = await networkContainer();
    const { api, ctx, container, db } = fixture;
    const router = await api.create(ctx, 'router', { name: 'r' });
    container.registry.subscribe(
      () => {
        throw new Error('frozen');
      },
      ROUTER,
      BEFORE_UPDATE,
    );
    await expect(api.update(ctx, 'router', router.id, { name: 'x' })).rejects.toThrow(CallbackFailure);
    expect(db.routers.get(router.id)).toBe(router);
    expect(container.recorder).not.toHaveNotified(ROUTER, PRECOMMIT_UPDATE);
  });

  it('keeps the change when an after_* subscriber fails: the failure is only logged', async () => {
    await using fixture = await networkContainer();
    const { api, ctx, container, db } = fixture;
    container.registry.subscribe(
      function auditDown() {
        throw new Error('audit store down');
      },
      ROUTER,
      AFTER_CREATE,
    );
    const router = await api.create(ctx, 'router', { name: 'r' });
    expect(db.routers.get(router.id)).toBe(router);
    expect(container.logger.errors().map((l) => l.message)).toEqual([
      expect.stringMatching(/^Error during notification for auditDown#\d+ router, after_create$/),
    ]);
  });
});

describe('the API layer', () => {
  it('sends <resource>.<action>.start and .end around each call, in Neutron shapes', async () => {
    await using fixture = await networkContainer();
    const { api, ctx, narrator } = fixture;
    const net = await api.create(ctx, 'network', { name: 'n' });
    await api.delete(ctx, 'network', net.id);
    expect(narrator.entries.filter((e) => e.kind === 'api')).toEqual([
      expect.objectContaining({ eventType: 'network.create.start', payload: { network: { name: 'n' } } }),
      expect.objectContaining({ eventType: 'network.create.end', payload: { network: net } }),
      expect.objectContaining({ eventType: 'network.delete.start', payload: { network_id: net.id } }),
      expect.objectContaining({ eventType: 'network.delete.end', payload: { network_id: net.id } }),
    ]);
  });

  it('answers bad input with typed errors that name the value and what to do', async () => {
    await using fixture = await networkContainer();
    const { api, ctx } = fixture;
    const net = await api.create(ctx, 'network', { name: 'n' });
    await expect(api.create(ctx, 'subnet', { networkId: net.id, cidr: '10.0.0.0/33' })).rejects.toThrow(
      new BadRequest('cidr', '10.0.0.0/33', "pass an IPv4 CIDR such as '10.0.0.0/24' (prefix length 8 to 30)."),
    );
    await expect(api.create(ctx, 'subnet', { networkId: net.id, cidr: '10.0.0.5/24' })).rejects.toThrow(
      /host bits must be zero: use '10\.0\.0\.0\/24'/,
    );
    await expect(api.create(ctx, 'subnet', { networkId: 'net-9', cidr: '10.0.0.0/24' })).rejects.toThrow(NotFound);
    await expect(api.delete(ctx, 'router', 'router-9')).rejects.toThrow('Router router-9 could not be found');
    const subnet = await api.create(ctx, 'subnet', { networkId: net.id, cidr: '10.0.0.0/30' });
    await api.create(ctx, 'port', { networkId: net.id });
    await expect(api.create(ctx, 'port', { networkId: net.id })).rejects.toThrow(
      `Invalid fixed_ips.subnet_id "${subnet.id}": subnet 10.0.0.0/30 has no free address left.`,
    );
  });

  it('refuses to delete what is still in use', async () => {
    await using fixture = await networkContainer();
    const { network, subnet, router } = await routedSubnet(fixture);
    const { api, ctx, container } = fixture;
    await expect(api.delete(ctx, 'router', router.id)).rejects.toThrow(InUse);
    await expect(api.delete(ctx, 'subnet', subnet.id)).rejects.toThrow(
      /is in use: port\(s\) port-1 have addresses on it/,
    );
    await expect(api.delete(ctx, 'network', network.id)).rejects.toThrow(/has 1 subnet\(s\) and 1 port\(s\)/);
    // The trigger's own checks come first: nobody was told of a delete that could not happen.
    expect(container.recorder.records.filter((r) => r.event === BEFORE_DELETE)).toEqual([]);
  });
});

describe('the advanced services', () => {
  it('VPN vetoes deleting a router that carries a VPN service, until the service is gone', async () => {
    await using fixture = await networkContainer();
    const { api, ctx, container, db } = fixture;
    const router = await api.create(ctx, 'router', { name: 'r' });
    const vpns = container.get(VpnService);
    const vpn = vpns.create({ name: 'to-branch', routerId: router.id });
    const failure = await api.delete(ctx, 'router', router.id).catch((e: unknown) => e);
    expect((failure as CallbackFailure).innerErrors).toEqual([new RouterInUseByVpnService(router.id, vpn.id)]);
    expect(container.recorder).toHaveVetoed(ROUTER, BEFORE_DELETE);
    expect(db.routers.find(router.id)).toBe(router);
    expect(container.get(FirewallService).guardsRouter(router.id)).toBe(true);
    vpns.delete(vpn.id);
    await api.delete(ctx, 'router', router.id);
    expect(db.routers.find(router.id)).toBeUndefined();
    expect(() => vpns.delete(vpn.id)).toThrow(NotFound);
  });

  it('the load balancer follows routers it never asked about', async () => {
    await using fixture = await networkContainer();
    const { api, ctx, container } = fixture;
    const lb = container.get(LoadBalancerService);
    const router = await api.create(ctx, 'router', { name: 'r' });
    expect(lb.usableRouters()).toEqual([router.id]);
    await api.update(ctx, 'router', router.id, { adminStateUp: false });
    expect(lb.usableRouters()).toEqual([]);
    await api.update(ctx, 'router', router.id, { adminStateUp: true });
    await api.delete(ctx, 'router', router.id);
    expect(lb.usableRouters()).toEqual([]);
  });

  it('the firewall guards router interfaces and gets them back when a delete is vetoed', async () => {
    await using fixture = await networkContainer();
    const { port, router, subnet } = await routedSubnet(fixture);
    const firewall = fixture.container.get(FirewallService);
    expect(firewall.protectionOf(port.id)).toBe('guarded');
    await expect(fixture.api.delete(fixture.ctx, 'port', port.id)).rejects.toThrow(CallbackFailure);
    expect(firewall.protectionOf(port.id)).toBe('guarded');
    await fixture.api.removeRouterInterface(fixture.ctx, router.id, subnet.id);
    expect(firewall.protectionOf(port.id)).toBeUndefined();
  });
});
