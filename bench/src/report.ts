/**
 * Turning measurements into the report: medians over rounds, one table per case with the ratios
 * to the physical limit and to the fastest peer, and the targets of the performance issue, judged
 * on the same medians.
 * @module
 */

import type { RowKind } from './cases.js';

/** What the rounds measured for one row: ns per operation (or bytes per subscription). */
export interface RowResult {
  readonly caseId: string;
  readonly name: string;
  readonly kind: RowKind;
  readonly note?: string;
  readonly samples: number[];
  error?: string;
}

export interface CaseResult {
  readonly id: string;
  readonly title: string;
  /** `time`: samples are ns per operation; `heap`: bytes per subscription. */
  readonly unit: 'time' | 'heap';
  readonly rows: RowResult[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Operations per second (time) or bytes (heap): the row's median. */
function value(c: CaseResult, row: RowResult): number {
  const m = median(row.samples);
  return c.unit === 'time' ? 1e9 / m : m;
}

function compact(n: number): string {
  const digits = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  if (n >= 1e9) return `${digits(n / 1e9)} G`;
  if (n >= 1e6) return `${digits(n / 1e6)} M`;
  if (n >= 1e3) return `${digits(n / 1e3)} k`;
  return digits(n);
}

const ratio = (r: number) => `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;

/** `better(a, b)`: how many times `a` beats `b` (ops/s: a / b; bytes: b / a). */
function better(c: CaseResult, a: number, b: number): number {
  return c.unit === 'time' ? a / b : b / a;
}

function measured(c: CaseResult): RowResult[] {
  return c.rows.filter((r) => r.samples.length > 0);
}

function bestPeer(c: CaseResult): RowResult | undefined {
  let best: RowResult | undefined;
  for (const row of measured(c)) {
    if (row.kind !== 'peer') continue;
    if (best === undefined || better(c, value(c, row), value(c, best)) > 1) best = row;
  }
  return best;
}

/** One case as a Markdown table. */
export function caseTable(c: CaseResult): string {
  const limit = c.rows.find((r) => r.kind === 'limit');
  const peer = bestPeer(c);
  const head =
    c.unit === 'time'
      ? `| | ops/s | × ${limit?.name ?? 'limit'} | × fastest peer${peer ? ` (${peer.name})` : ''} | spread |`
      : `| | bytes / subscription | × ${limit?.name ?? 'limit'} | × leanest peer${peer ? ` (${peer.name})` : ''} | spread |`;
  const lines = [`### ${c.title}`, '', head, '| --- | ---: | ---: | ---: | ---: |'];
  const notes: string[] = [];
  for (const row of c.rows) {
    const marker = row.note ? ` [${notes.push(`${row.name}: ${row.note}`)}]` : '';
    const name = `${row.kind === 'herald' ? `**${row.name}**` : row.name}${marker}`;
    if (row.samples.length === 0) {
      lines.push(`| ${name} | failed: ${row.error ?? 'no result'} | | | |`);
      continue;
    }
    const v = value(c, row);
    const vsLimit = limit && limit.samples.length ? ratio(better(c, v, value(c, limit))) : '';
    const vsPeer = peer ? ratio(better(c, v, value(c, peer))) : '';
    const shown = c.unit === 'time' ? compact(v) : v.toFixed(1);
    const spread = `±${((50 * (Math.max(...row.samples) - Math.min(...row.samples))) / median(row.samples)).toFixed(0)}%`;
    lines.push(`| ${name} | ${shown} | ${vsLimit} | ${vsPeer} | ${spread} |`);
  }
  if (notes.length) lines.push('', ...notes.map((n, i) => `- [${i + 1}] ${n}`));
  return lines.join('\n');
}

/** One target of the issue, judged on the medians. */
interface Verdict {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | undefined;
}

/** The issue's targets. `undefined` when a row they need did not run. */
export function verdicts(results: readonly CaseResult[]): Verdict[] {
  const find = (caseId: string, name: string) => {
    const c = results.find((r) => r.id === caseId);
    const row = c?.rows.find((r) => r.name === name);
    return c && row && row.samples.length ? value(c, row) : undefined;
  };
  const out: Verdict[] = [];
  const judge = (target: string, a: number | undefined, b: number | undefined, bound: number, what: string) => {
    if (a === undefined || b === undefined) return out.push({ target, measured: 'not measured', met: undefined });
    const r = a / b;
    out.push({ target, measured: `${what} ${ratio(r)}`, met: r <= bound });
  };
  for (const id of ['a10', 'a100']) {
    const c = results.find((r) => r.id === id);
    const peer = c && bestPeer(c);
    judge(
      `${id}: notifySync at least as fast as the fastest peer`,
      peer && c ? value(c, peer) : undefined,
      find(id, 'Herald notifySync'),
      1,
      `${peer?.name ?? 'peer'} ÷ Herald =`,
    );
  }
  for (const id of ['a1', 'e']) {
    judge(
      `${id}: notifySync faster than node:events`,
      find(id, 'node:events'),
      find(id, 'Herald notifySync'),
      1,
      'node:events ÷ Herald =',
    );
  }
  for (const row of ['Herald notify', 'Herald notify (awaited)']) {
    for (const id of ['a1', 'a10', 'a100']) {
      judge(
        `${id}: ${row.slice('Herald '.length)}, sync handlers, within 2× of notifySync`,
        find(id, 'Herald notifySync'),
        find(id, row),
        2,
        'notifySync ÷ notify =',
      );
    }
  }
  judge(
    'b: notify, async handlers one by one, within 1.2× of a for … await loop',
    find('b1', 'for … await loop'),
    find('b1', 'Herald notify'),
    1.2,
    'loop ÷ Herald =',
  );
  judge(
    'b: notify faster than emittery emitSerial',
    find('b1', 'emittery emitSerial'),
    find('b1', 'Herald notify'),
    1,
    'emittery ÷ Herald =',
  );
  judge(
    'b: notify faster than emittery emit',
    find('b2', 'emittery emit'),
    find('b2', 'Herald notify'),
    1,
    'emittery ÷ Herald =',
  );
  judge(
    'b: notify faster than eventemitter2 emitAsync',
    find('b2', 'eventemitter2 emitAsync'),
    find('b2', 'Herald notify'),
    1,
    'eventemitter2 ÷ Herald =',
  );
  judge(
    'c: subscribe + unsubscribe at least as fast as node:events',
    find('c', 'node:events'),
    find('c', 'Herald subscribe + unsubscribe'),
    1,
    'node:events ÷ Herald =',
  );
  const bytes = find('d', 'Herald subscribe');
  out.push({
    target: 'd: at most 100 bytes per subscription',
    measured: bytes === undefined ? 'not measured' : `${bytes.toFixed(1)} bytes`,
    met: bytes === undefined ? undefined : bytes <= 100,
  });
  judge(
    'f: bootCallbacks within 1.1× of subscribing by hand',
    find('f', 'subscribed by hand'),
    find('f', 'Herald, bootCallbacks'),
    1.1,
    'by hand ÷ boot =',
  );
  // Herald itself, its lookup and checks and all, against the same calls with neither: an upper
  // bound on what error collection costs. (The "+ error checks" row models the checks alone, but
  // both of its rows are Herald-free code whose ratio at 100 handlers moves with the machine.)
  for (const id of ['a10', 'a100']) {
    judge(
      `${id}: error collection costs nothing measurable when nothing fails (Herald notifySync, checks and all, within 10% of the unrolled calls without any)`,
      find(id, 'unrolled calls'),
      find(id, 'Herald notifySync'),
      1.1,
      'unrolled ÷ Herald =',
    );
  }
  return out;
}

export function verdictTable(list: readonly Verdict[]): string {
  const lines = ['| Target | Measured | Met |', '| --- | --- | --- |'];
  for (const v of list)
    lines.push(`| ${v.target} | ${v.measured} | ${v.met === undefined ? '—' : v.met ? 'yes' : 'no'} |`);
  return lines.join('\n');
}
