import { describe, expect, it } from '@jest/globals';
import {
  AFTER_CREATE,
  AFTER_DELETE,
  BEFORE_CREATE,
  BEFORE_DELETE,
  CallbackRegistry,
  EventPayload,
  formatNotification,
  formatSubscriptions,
  InvalidError,
  outcomeOf,
  PORT,
  PRECOMMIT_CREATE,
  ROUTER,
  SUBNET,
  toMermaid,
  type NotificationRecord,
} from '@herald/core';

const quiet = { error: () => undefined };

/**
 * The registry without its type layer: these tests are about what the wiring views show, and the
 * core test program declares models (in its type tests) that would make every payload mandatory.
 */
interface Untyped {
  subscribe(callback: Function, resource: string, event: string, options?: object): unknown;
  notify(resource: string, event: string, trigger: unknown, payload?: EventPayload): Promise<void>;
}
const untyped = (registry: CallbackRegistry) => registry as unknown as Untyped;

class L3Service {
  preventPortDelete(): void {
    throw new Error('port in use');
  }
  routersUpdated(): void {}
}

class Firewall {
  releasePort(): void {}
  restorePort(): void {}
}

function wiredRegistry(): CallbackRegistry {
  const wired = new CallbackRegistry({ logger: quiet, name: 'wired' });
  const registry = untyped(wired);
  const l3 = new L3Service();
  const fw = new Firewall();
  registry.subscribe(l3.routersUpdated, PORT, AFTER_DELETE, { owner: l3 });
  registry.subscribe(fw.releasePort, PORT, BEFORE_DELETE, { owner: fw });
  registry.subscribe(l3.preventPortDelete, PORT, BEFORE_DELETE, { owner: l3, priority: 10 });
  registry.subscribe(fw.restorePort, PORT, 'abort_delete', { owner: fw });
  registry.subscribe(function audit() {}, ROUTER, AFTER_CREATE, { cancellable: true });
  return wired;
}

async function recordsOf(
  registry: CallbackRegistry,
  run: (r: Untyped) => Promise<unknown>,
): Promise<NotificationRecord[]> {
  const records: NotificationRecord[] = [];
  const tap = registry.observe((r) => void records.push(r));
  try {
    await run(untyped(registry)).catch(() => undefined);
  } finally {
    tap.unsubscribe();
  }
  return records;
}

describe('formatSubscriptions', () => {
  it('lists every subscription with resource, event, priority, id and flags, one row each', () => {
    const table = formatSubscriptions(wiredRegistry()).split('\n');
    expect(table).toHaveLength(6);
    expect(table[0]!.split(/\s{2,}/)).toEqual(['RESOURCE', 'EVENT', 'PRIORITY', 'SUBSCRIBER', 'FLAGS']);
    const rows = table.slice(1).map((line) => line.split(/\s{2,}/));
    expect(rows).toEqual([
      ['port', 'before_delete', '10', 'L3Service.preventPortDelete#3', 'vetoes'],
      ['port', 'before_delete', '55550000', 'Firewall.releasePort#2', 'vetoes'],
      ['port', 'after_delete', '55550000', 'L3Service.routersUpdated#1'],
      ['port', 'abort_delete', '55550000', 'Firewall.restorePort#4'],
      ['router', 'after_create', '55550000', 'audit#5', 'cancellable, vetoes'],
    ]);
  });

  it('aligns the columns', () => {
    const lines = formatSubscriptions(wiredRegistry()).split('\n');
    const column = (name: string) => lines[0]!.indexOf(name);
    for (const line of lines.slice(1)) expect(line.slice(column('SUBSCRIBER') - 2, column('SUBSCRIBER'))).toBe('  ');
  });

  it('says so when the registry has no subscriptions', () => {
    expect(formatSubscriptions(new CallbackRegistry({ name: 'empty' }))).toBe('(no subscriptions in registry "empty")');
  });

  it('rejects something that is not a registry with an InvalidError naming it', () => {
    expect(() => formatSubscriptions({} as CallbackRegistry)).toThrow(InvalidError);
    expect(() => formatSubscriptions(undefined as unknown as CallbackRegistry)).toThrow(
      /undefined for registry .*pass the CallbackRegistry/,
    );
  });
});

describe('toMermaid', () => {
  it('draws one box per resource, one node per service and an arrow per subscription', () => {
    const diagram = toMermaid(wiredRegistry());
    const lines = diagram.split('\n').map((l) => l.trim());
    expect(lines[0]).toBe('flowchart LR');
    expect(lines).toContain('subgraph r_port["port"]');
    expect(lines).toContain('subgraph r_router["router"]');
    expect(lines).toContain('s_L3Service(["L3Service"])');
    expect(lines).toContain('s_Firewall(["Firewall"])');
    expect(lines).toContain('e_port_before_delete -->|"preventPortDelete"| s_L3Service');
    expect(lines).toContain('e_port_before_delete -->|"releasePort"| s_Firewall');
    expect(lines).toContain('e_port_after_delete -->|"routersUpdated"| s_L3Service');
    expect(lines.filter((l) => l.includes('-->') || l.includes('==>'))).toHaveLength(5);
  });

  it('marks vetoing phases and cancellable subscriptions', () => {
    const lines = toMermaid(wiredRegistry())
      .split('\n')
      .map((l) => l.trim());
    expect(lines).toContain('e_port_before_delete{{"before_delete"}}:::veto');
    expect(lines).toContain('e_port_after_delete["after_delete"]');
    expect(lines).toContain('e_router_after_create ==>|"audit (cancellable)"| s_audit');
    expect(lines).toContain('classDef veto stroke:#c0392b,stroke-width:2px');
  });

  it('keeps ids distinct and labels quoted when names need sanitising', () => {
    const registry = new CallbackRegistry();
    untyped(registry).subscribe(() => undefined, 'rbac-policy', BEFORE_CREATE, { id: 'say "hi".now' });
    untyped(registry).subscribe(() => undefined, 'rbac_policy', PRECOMMIT_CREATE);
    const diagram = toMermaid(registry);
    expect(diagram).toContain('subgraph r_rbac_policy["rbac-policy"]');
    expect(diagram).toContain('subgraph r_rbac_policy_2["rbac_policy"]');
    expect(diagram).toContain('s_say__hi_(["say #quot;hi#quot;"])');
    expect(diagram).toContain('|"now"|');
  });

  it('draws an empty flowchart for an empty registry and rejects a bad direction', () => {
    const registry = new CallbackRegistry();
    expect(toMermaid(registry, { direction: 'TB' }).split('\n')[0]).toBe('flowchart TB');
    expect(() => toMermaid(registry, { direction: 'UP' as 'LR' })).toThrow(/"UP" for direction/);
  });
});

describe('outcomeOf and formatNotification', () => {
  it('describes a vetoed before_delete and the abort round that answered it', async () => {
    const registry = wiredRegistry();
    const trigger = new (class PortService {})();
    const records = await recordsOf(registry, (r) =>
      r.notify(PORT, BEFORE_DELETE, trigger, new EventPayload(null, { resourceId: 'p1' })),
    );
    expect(records.map((r) => [r.event, outcomeOf(r)])).toEqual([
      ['abort_delete', 'ok'],
      ['before_delete', 'vetoed'],
    ]);
    expect(formatNotification(records[1]!, { time: false })).toBe(
      'port before_delete by PortService → L3Service.preventPortDelete#3 ✗, Firewall.releasePort#2 · vetoed: port in use',
    );
    expect(formatNotification(records[0]!, { time: false })).toBe(
      'port abort_delete (after before_delete was vetoed) by PortService → Firewall.restorePort#4 · ok',
    );
    expect(formatNotification(records[0]!)).toMatch(/ · ok · \d+\.\d\d ms$/);
  });

  it('tells swallowed failures, retries and unheard notifications apart', async () => {
    const retrying = new CallbackRegistry({ logger: quiet, isRetriable: () => true });
    const fail = (message: string) => () => {
      throw new Error(message);
    };
    untyped(retrying).subscribe(fail('deadlock'), ROUTER, PRECOMMIT_CREATE);
    untyped(retrying).subscribe(fail('audit down'), ROUTER, AFTER_CREATE);
    const records = await recordsOf(retrying, async (r) => {
      await r.notify(ROUTER, AFTER_CREATE, 'svc');
      await r.notify(SUBNET, BEFORE_CREATE, doNotify);
      await r.notify(ROUTER, PRECOMMIT_CREATE, 'svc');
    });
    expect(records.map(outcomeOf)).toEqual(['errors-logged', 'ok', 'retry']);
    expect(formatNotification(records[1]!, { time: false })).toBe(
      'subnet before_create by doNotify → (no subscribers) · ok',
    );
  });
});

function doNotify(): void {}
