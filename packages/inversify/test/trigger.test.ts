import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { ABORT_DELETE, CallbackFailure, CallbackRegistry, DBEventPayload, OnResource, PORT } from '@herald/core';
import { Container, injectable } from 'inversify';
import { bootCallbacks, callbacksModule } from '../src/index.js';
import {
  DEVICE_OWNER_ROUTER_INTF,
  L3_RPC_NOTIFIER,
  L3Service,
  PortService,
  RecordingNotifier,
  RouterStore,
  ServicePortInUse,
  type Port,
} from './fixtures/network.js';

/** Records the ports whose deletion was aborted. */
@injectable()
class DeleteAudit {
  readonly aborted: string[] = [];

  @OnResource(PORT, ABORT_DELETE)
  onAbortedDelete(payload: DBEventPayload<Port>): void {
    this.aborted.push(String(payload.resourceId));
  }
}

const routerPort: Port = { id: 'p1', deviceOwner: DEVICE_OWNER_ROUTER_INTF, deviceId: 'r1', fixedIps: ['10.0.0.1'] };
const computePort: Port = { id: 'p2', deviceOwner: 'compute:nova', deviceId: 'vm1', fixedIps: ['10.0.0.2'] };

async function network() {
  const container = new Container();
  const notifier = new RecordingNotifier();
  container.load(callbacksModule());
  container.bind(RouterStore).toSelf().inSingletonScope();
  container.bind(L3_RPC_NOTIFIER).toConstantValue(notifier);
  container.bind(L3Service).toSelf().inSingletonScope();
  container.bind(DeleteAudit).toSelf().inSingletonScope();
  container.bind(PortService).toSelf().inSingletonScope();
  await bootCallbacks(container);
  container.get(RouterStore).routers.set('r1', { id: 'r1', name: 'edge' });
  const ports = container.get(PortService);
  ports.ports.set(routerPort.id, routerPort).set(computePort.id, computePort);
  return { container, notifier, ports, audit: container.get(DeleteAudit) };
}

describe('triggering events from an injected registry', () => {
  it('injects the container registry into trigger services', async () => {
    const { container, ports } = await network();
    expect((ports as unknown as { callbacks: unknown }).callbacks).toBe(container.get(CallbackRegistry));
  });

  it("refuses to delete a router's port: the veto reaches the trigger as a CallbackFailure", async () => {
    const { ports } = await network();
    const failure = await ports.deletePort({}, 'p1').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(CallbackFailure);
    const { errors, innerErrors } = failure as CallbackFailure;
    expect(innerErrors[0]).toBeInstanceOf(ServicePortInUse);
    expect(errors[0]!.callbackId).toMatch(/^L3Service\.preventL3PortDeletion#\d+$/);
    expect(ports.ports.has('p1')).toBe(true);
  });

  it('runs the abort_delete subscribers when a before_delete subscriber vetoes', async () => {
    const { ports, audit } = await network();
    await expect(ports.deletePort({}, 'p1')).rejects.toThrow(CallbackFailure);
    expect(audit.aborted).toEqual(['p1']);
  });

  it('deletes other ports, without aborting or telling routers', async () => {
    const { ports, audit, notifier } = await network();
    await ports.deletePort({}, 'p2');
    expect(ports.ports.has('p2')).toBe(false);
    expect(audit.aborted).toEqual([]);
    expect(notifier.updated).toEqual([]);
  });

  it('tells routers they were updated after one of their ports was deleted', async () => {
    const { container, ports, notifier } = await network();
    container.get(RouterStore).routers.delete('r1'); // the router is gone: its port may go
    const context = { tenant: 't1' };
    await ports.deletePort(context, 'p1');
    expect(ports.ports.has('p1')).toBe(false);
    expect(notifier.updated).toEqual([['r1']]);
  });
});
