import 'reflect-metadata';
import '@herald/testing/jest';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { BEFORE_DELETE, PORT, toMermaid } from '@herald/core';
import { TransportError } from '@herald/messaging';
import { recordNotifications } from '@herald/testing';
import { coreModule, createNetworkApp } from '../src/app.js';
import { failureLine, run, type Terminal } from '../src/cli.js';
import type { NotificationEntry, TimedEntry } from '../src/narrator.js';
import { FirewallService } from '../src/services/firewall.service.js';
import { runScenario, ScenarioFailure } from '../src/scenario.js';
import { networkContainer } from './support.js';

function terminal() {
  const out: string[] = [];
  const err: string[] = [];
  const t: Terminal = { out: (l) => void out.push(l), err: (l) => void err.push(l), color: false };
  return { t, out, err };
}

/** `resource event → outcome` of each notification, in completion order. */
const summary = (entries: readonly NotificationEntry[]) =>
  entries.map((e) => `${e.resource} ${e.event} → ${e.outcome}${e.failed.length ? ` (${e.failed.join(', ')})` : ''}`);

describe('the network scenario, end to end', () => {
  it('announces every phase of every change, in order', async () => {
    await using app = await createNetworkApp();
    await runScenario(app);
    const lifecycle = (resource: string, action: string) =>
      ['before', 'precommit', 'after'].map((phase) => `${resource} ${phase}_${action} → ok`);
    expect(summary(app.narrator.notifications())).toEqual([
      ...lifecycle('network', 'create'),
      ...lifecycle('subnet', 'create'),
      ...lifecycle('router', 'create'),
      ...lifecycle('port', 'create'),
      'port abort_delete → ok',
      expect.stringMatching(/^port before_delete → vetoed \(L3Service\.preventL3PortDeletion#\d+\)$/),
      ...lifecycle('port', 'delete'),
      ...lifecycle('router', 'delete'),
    ]);
  });

  it("vetoes the direct delete of the router's port, and the abort subscribers undo what they prepared", async () => {
    await using app = await createNetworkApp();
    const recorder = recordNotifications(app.registry);
    const outcome = await runScenario(app);

    expect(outcome.vetoReason).toBe(
      'Port port-1 cannot be deleted directly via the port API: has device owner network:router_interface.',
    );
    expect(recorder).toHaveVetoed(PORT, BEFORE_DELETE);
    const [vetoed] = recorder.find(PORT, BEFORE_DELETE);
    // Every subscriber ran although the first one refused.
    expect(vetoed!.callbacks).toEqual([
      expect.stringMatching(/^L3Service\.preventL3PortDeletion#/),
      expect.stringMatching(/^FirewallService\.releasePort#/),
    ]);
    const [abort] = recorder.find(PORT, 'abort_delete');
    expect(abort!.callbacks).toEqual([expect.stringMatching(/^FirewallService\.restorePort#/)]);
    const said = app.narrator.entries.filter((e) => e.kind === 'say').map((e) => e.message);
    expect(said).toContain('port-1 stays (its delete was vetoed): its rules are back');
    // The API sent no port.delete.end for the refused delete.
    const api = app.narrator.entries.filter((e) => e.kind === 'api').map((e) => e.eventType);
    expect(api).toContain('port.delete.start');
    expect(api).not.toContain('port.delete.end');
  });

  it('leaves one network and subnet, no port, no router, the network on two DHCP agents', async () => {
    await using app = await createNetworkApp();
    const outcome = await runScenario(app);
    expect(outcome.remaining).toEqual({ networks: 1, subnets: 1, ports: 0, routers: 0 });
    expect(outcome.dhcpAgents).toEqual(['dhcp-a', 'dhcp-b']);
    const agents = app.peers.agents;
    expect(agents.received('dhcp-a').map((d) => d.method)).toEqual([
      'network_create_end',
      'port_create_end',
      'port_delete_end',
    ]);
    expect(agents.received('dhcp-c')).toEqual([]);
    expect(agents.received('l3-a').map((d) => d.method)).toEqual([
      'routers_updated',
      'routers_updated',
      'router_deleted',
    ]);
    expect(app.container.get(FirewallService).protectionOf('port-1')).toBeUndefined();
  });
});

describe('the script without an L3 service', () => {
  it('fails with ScenarioFailure: nothing refuses the router port delete', async () => {
    await using fixture = await networkContainer({ modules: (o) => [coreModule(o)] });
    await expect(runScenario(fixture)).rejects.toThrow(
      new ScenarioFailure("port-1 was deleted, but L3Service should have vetoed deleting a router's port"),
    );
  });
});

describe('the command', () => {
  it('prints the story as text and exits 0, with the veto reason', async () => {
    const { t, out, err } = terminal();
    expect(await run([], t)).toBe(0);
    expect(err).toEqual([]);
    const text = out.join('\n');
    expect(text).toContain("5. Delete port-1, the router's port, directly through the port API");
    expect(text).toContain(
      '✔ refused, as it should be: the port API got CallbackFailure: Port port-1 cannot be deleted directly via the port API: has device owner network:router_interface.',
    );
    expect(text).toMatch(
      /callbacks {2}port abort_delete \(after before_delete was vetoed\) by PortService → FirewallService\.restorePort#\d+ · ok · took \d+\.\d\d ms, at \+\d+\.\d ms/,
    );
    expect(text).not.toContain('\u001b[');
  });

  it('prints what the other processes received after each step, before the next one', async () => {
    const { t, out } = terminal();
    expect(await run([], t)).toBe(0);
    const audit = (action: string) =>
      ['start', 'end'].map(
        (phase) => `notify     audit ← ${action}.${phase} from network.controller (req-N): recorded`,
      );
    const meter = (what: string, action: string) =>
      `bridge     metering-agent@host-a ← ${what} (DBEventPayload from network@controller): ${action}`;
    const rpc = (agent: string, method: string, payload: object, action: string) =>
      `rpc        ${agent} ← ${method} ${JSON.stringify(payload)}: ${action}`;
    // The step titles and what crossed the transport, request ids aside.
    const lines = out
      .filter((l) => /^\d\. |^ {3}(rpc|notify|bridge) /.test(l))
      .map((l) => l.trim().replace(/req-\d+/, 'req-N'));
    expect(lines).toEqual([
      '1. Create network "private"',
      ...audit('network.create'),
      '2. Create subnet 10.0.0.0/24 on net-1',
      ...audit('subnet.create'),
      '3. Create router "router1"',
      ...audit('router.create'),
      meter('router after_create router-1', 'counts the traffic of router-1 ("router1")'),
      '4. Add an interface on subnet-1 to router-1',
      ...audit('router.interface.create'),
      // One queue per (topic, host): each in order, the queues one after the other.
      rpc('dhcp-a@host-a', 'network_create_end', { network: { id: 'net-1' } }, 'enables DHCP for net-1'),
      rpc('dhcp-a@host-a', 'port_create_end', { port: { id: 'port-1' } }, 'adds a host entry for port-1'),
      rpc('dhcp-b@host-b', 'network_create_end', { network: { id: 'net-1' } }, 'enables DHCP for net-1'),
      rpc('dhcp-b@host-b', 'port_create_end', { port: { id: 'port-1' } }, 'adds a host entry for port-1'),
      rpc('l3-a@host-a', 'routers_updated', { routers: ['router-1'], operation: 'add_port' }, 'resyncs router-1'),
      meter('port after_create port-1', 'counts port-1 (10.0.0.1) on router-1'),
      "5. Delete port-1, the router's port, directly through the port API",
      // Vetoed: no .end, no cast, nothing bridged.
      audit('port.delete')[0],
      '6. Remove the interface from router-1',
      ...audit('router.interface.delete'),
      rpc('dhcp-a@host-a', 'port_delete_end', { port: { id: 'port-1' } }, 'removes the host entry of port-1'),
      rpc('dhcp-b@host-b', 'port_delete_end', { port: { id: 'port-1' } }, 'removes the host entry of port-1'),
      rpc('l3-a@host-a', 'routers_updated', { routers: ['router-1'], operation: 'delete_port' }, 'resyncs router-1'),
      meter('port after_delete port-1', 'no longer counts port-1 (10.0.0.1) on router-1'),
      '7. Delete router-1',
      ...audit('router.delete'),
      rpc('l3-a@host-a', 'router_deleted', { router_id: 'router-1' }, 'tears down router-1'),
      meter('router after_delete router-1', 'stops counting router-1'),
    ]);
    // Each step's messages are told before the step's result line.
    const result = out.findIndex((l) => l.includes('✔ router-1 answers on 10.0.0.1 through port-1'));
    expect(out[result - 1]).toMatch(/^ {3}bridge {5}metering-agent@host-a ← port after_create port-1 /);
  });

  it('prints one JSON object per line with --json', async () => {
    const { t, out } = terminal();
    expect(await run(['--json'], t)).toBe(0);
    const entries = out.map((line) => JSON.parse(line) as TimedEntry);
    expect(entries.length).toBeGreaterThan(30);
    expect(entries.filter((e) => e.kind === 'step')).toHaveLength(7);
    const vetoed = entries.find((e) => e.kind === 'notification' && e.outcome === 'vetoed') as NotificationEntry;
    expect(vetoed).toMatchObject({ resource: 'port', event: 'before_delete', trigger: 'PortService' });
    expect(vetoed.reason).toMatch(/cannot be deleted directly via the port API/);
    const vias = entries.filter((e) => e.kind === 'message').map((e) => e.via);
    expect(new Set(vias)).toEqual(new Set(['rpc', 'notification', 'bridge']));
    // Times as the text shows them (no 36.36981700000001).
    expect(out.join('\n')).not.toMatch(/"atMs":\d+\.\d{2}/);
    expect(out.join('\n')).not.toMatch(/"durationMs":\d+\.\d{3}/);
    expect(entries.filter((e) => e.kind === 'notification').every((e) => Number.isFinite(e.durationMs))).toBe(true);
  });

  it('reports a failure as one line with its causes and no stack trace', () => {
    const refused = new Error('connect ECONNREFUSED 127.0.0.1:1');
    const line = failureLine(new TransportError('the broker stayed unreachable\nfor 10 s', { cause: refused }));
    expect(line).toBe(
      'network example failed: TransportError: the broker stayed unreachable for 10 s (cause: Error: connect ECONNREFUSED 127.0.0.1:1)',
    );
    expect(failureLine('plain')).toBe('network example failed: plain');
  });

  it('prints the wiring as Mermaid with --graph, the same diagram the walkthrough shows', async () => {
    const { t, out } = terminal();
    expect(await run(['--graph'], t)).toBe(0);
    await using app = await createNetworkApp();
    expect(out.join('\n')).toBe(toMermaid(app.registry));
    const doc = readFileSync(new URL('../../../docs/guide/network-example.md', import.meta.url), 'utf8');
    const diagram = /```mermaid\n([\s\S]*?)\n```/.exec(doc)?.[1];
    expect(diagram).toBe(out.join('\n'));
  });

  it('prints the subscriptions table with --subscriptions', async () => {
    const { t, out } = terminal();
    expect(await run(['--subscriptions'], t)).toBe(0);
    expect(out.join('\n')).toMatch(/^port +before_delete +55549000 +L3Service\.preventL3PortDeletion#\d+ +vetoes$/m);
  });

  it('explains itself with --help and refuses unknown options with status 2', async () => {
    const help = terminal();
    expect(await run(['--help'], help.t)).toBe(0);
    expect(help.out.join('\n')).toMatch(/^Usage: npm start -- /);
    const bad = terminal();
    expect(await run(['--verbose'], bad.t)).toBe(2);
    expect(bad.err.join('\n')).toMatch(/unknown option --verbose[\s\S]*Usage:/);
    const two = terminal();
    expect(await run(['--json', '--graph'], two.t)).toBe(2);
    expect(two.err.join('\n')).toMatch(/one option at a time/);
  });
});
