import 'reflect-metadata';
import '@herald/testing/jest';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { BEFORE_DELETE, PORT, toMermaid } from '@herald/core';
import { recordNotifications } from '@herald/testing';
import { Agents } from '../src/agents/agents.js';
import { coreModule, createNetworkApp } from '../src/app.js';
import { run, type Terminal } from '../src/cli.js';
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
    using app = await createNetworkApp();
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
    using app = await createNetworkApp();
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
    using app = await createNetworkApp();
    const outcome = await runScenario(app);
    expect(outcome.remaining).toEqual({ networks: 1, subnets: 1, ports: 0, routers: 0 });
    expect(outcome.dhcpAgents).toEqual(['dhcp-a', 'dhcp-b']);
    const agents = app.container.get(Agents);
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
    using fixture = await networkContainer({ modules: (o) => [coreModule(o)] });
    const { container, narrator, api, db } = fixture;
    const app = { container, narrator, api, db, registry: container.registry, boot: container.boot };
    const dispose = () => container.dispose();
    await expect(runScenario({ ...app, dispose, [Symbol.dispose]: dispose })).rejects.toThrow(
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
      '✔ refused, as it should be: Port port-1 cannot be deleted directly via the port API: has device owner network:router_interface.',
    );
    expect(text).toMatch(
      /callbacks {2}port abort_delete \(after before_delete was vetoed\) by PortService → FirewallService\.restorePort#\d+ · ok · took \d+\.\d\d ms, at \+\d+\.\d ms/,
    );
    expect(text).not.toContain('\u001b[');
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
  });

  it('prints the wiring as Mermaid with --graph, the same diagram the walkthrough shows', async () => {
    const { t, out } = terminal();
    expect(await run(['--graph'], t)).toBe(0);
    using app = await createNetworkApp();
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
