/**
 * Seeing the wiring: who subscribes to what ({@link formatSubscriptions}, {@link toMermaid}) and
 * what a notification did ({@link outcomeOf}, {@link formatNotification}). Read-only views of a
 * registry and of its observers' records; nothing here changes a registry.
 * @module
 */

import { ABORT, BEFORE, isCancellableEvent, PRECOMMIT } from './events.js';
import { errorText, InvalidError, RetryRequest } from './errors.js';
import { CallbackRegistry, type NotificationRecord, type SubscriptionInfo } from './registry.js';

/**
 * How a notification ended for its trigger: `ok`; `vetoed` (it got a `CallbackFailure`); `retry`
 * (it got a `RetryRequest`); `errors-logged` (callbacks failed, but the event cannot be vetoed, so
 * the failures were only logged).
 *
 * @example
 * ```ts
 * registry.observe((record) => {
 *   if (outcomeOf(record) === 'vetoed') metrics.increment('vetoes');
 * });
 * ```
 */
export type NotificationOutcome = 'ok' | 'vetoed' | 'retry' | 'errors-logged';

/**
 * The outcome of one observed notification.
 *
 * @example
 * ```ts
 * registry.observe((record) => {
 *   if (outcomeOf(record) === 'vetoed') console.warn(`${record.resource} ${record.event} was vetoed`);
 * });
 * ```
 */
export function outcomeOf(record: NotificationRecord): NotificationOutcome {
  if (record.failure instanceof RetryRequest) return 'retry';
  if (record.failure !== undefined) return 'vetoed';
  return record.errors.length > 0 ? 'errors-logged' : 'ok';
}

/**
 * One line saying what a notification did: resource, event, trigger, the subscribers called in
 * order (a failed one marked `✗`), the outcome with the first error, and the duration.
 *
 * @example
 * ```ts
 * registry.observe((record) => console.log(formatNotification(record)));
 * // port before_delete by PortService → L3Service.preventL3PortDeletion#4 ✗, FirewallService.releasePort#6
 * //   · vetoed: Port p-1 cannot be deleted directly via the port API: has device owner network:router_interface · 0.21 ms
 * ```
 */
export function formatNotification(record: NotificationRecord, options: { time?: boolean } = {}): string {
  const failed = new Set(record.errors.map((e) => e.callbackId));
  const called =
    record.callbacks.length === 0
      ? '(no subscribers)'
      : record.callbacks.map((id) => (failed.has(id) ? `${id} ✗` : id)).join(', ');
  const answering = record.abortOf === undefined ? '' : ` (after ${record.abortOf} was vetoed)`;
  const outcome = outcomeOf(record);
  const why = record.errors.length > 0 ? `: ${errorText(record.errors[0]!.error)}` : '';
  const time = options.time === false ? '' : ` · ${record.durationMs.toFixed(2)} ms`;
  return `${record.resource} ${record.event}${answering} by ${triggerName(record.trigger)} → ${called} · ${outcome}${why}${time}`;
}

/** A readable name for whoever sent a notification. */
function triggerName(trigger: unknown): string {
  if (typeof trigger === 'string') return trigger;
  if (typeof trigger === 'function') return trigger.name || '(anonymous function)';
  if (trigger !== null && typeof trigger === 'object')
    return (trigger.constructor as Function | undefined)?.name || 'an object';
  return String(trigger);
}

/** The service (owner class, or the id's prefix) and the handler (method or function) of a subscription. */
function subscriberOf(info: SubscriptionInfo): { service: string; handler: string } {
  const base = info.id.replace(/#\d+$/, '');
  const ownerClass = (info.owner?.constructor as Function | undefined)?.name;
  if (ownerClass) {
    const prefix = `${ownerClass}.`;
    return { service: ownerClass, handler: base.startsWith(prefix) ? base.slice(prefix.length) : base };
  }
  const dot = base.lastIndexOf('.');
  return dot > 0 ? { service: base.slice(0, dot), handler: base.slice(dot + 1) } : { service: base, handler: base };
}

const ACTIONS = ['create', 'read', 'update', 'delete'];
const PHASES = [BEFORE, PRECOMMIT, 'after_', ABORT];

/**
 * Orders events the way a change happens: by action (create, read, update, delete, then any
 * other), then by phase (before, precommit, after, abort), then by name.
 */
function eventRank(event: string): [number, number, string] {
  const phase = PHASES.findIndex((p) => event.startsWith(p));
  const action = phase < 0 ? -1 : ACTIONS.indexOf(event.slice(PHASES[phase]!.length));
  return action < 0 ? [ACTIONS.length, 0, event] : [action, phase, event];
}

/** The registry's subscriptions sorted by resource, then lifecycle order; call order within a pair. */
function sortedSubscriptions(registry: CallbackRegistry, caller: string): SubscriptionInfo[] {
  if (!(registry instanceof CallbackRegistry)) {
    throw new InvalidError('registry', registry, `pass the CallbackRegistry whose wiring ${caller} should show.`);
  }
  const rank = new Map<string, [number, number, string]>();
  const rankOf = (event: string) => {
    let r = rank.get(event);
    if (r === undefined) rank.set(event, (r = eventRank(event)));
    return r;
  };
  // Array#sort is stable, so subscriptions of one (resource, event) keep their call order.
  return registry.subscriptions().sort((a, b) => {
    if (a.resource !== b.resource) return a.resource < b.resource ? -1 : 1;
    const [x, y] = [rankOf(a.event), rankOf(b.event)];
    return x[0] - y[0] || x[1] - y[1] || (x[2] < y[2] ? -1 : x[2] > y[2] ? 1 : 0);
  });
}

/** `vetoes` when a failure of the subscription vetoes its notification; `cancellable` for the flag. */
function flagsOf(info: SubscriptionInfo): string {
  const flags: string[] = [];
  if (info.cancellable) flags.push('cancellable');
  if (info.cancellable || isCancellableEvent(info.event)) flags.push('vetoes');
  return flags.join(', ');
}

/**
 * A plain-text table of every subscription of `registry`: resource, event, priority, subscriber
 * (the subscription id) and flags (`vetoes` when the subscriber's failure vetoes the notification,
 * `cancellable` for a cancellable subscription). Sorted by resource, then in lifecycle order
 * (before, precommit, after, abort); in call order within one (resource, event).
 *
 * @throws InvalidError when `registry` is not a `CallbackRegistry`
 * @example
 * ```ts
 * console.log(formatSubscriptions(container.get(CallbackRegistry)));
 * // RESOURCE  EVENT          PRIORITY  SUBSCRIBER                         FLAGS
 * // port      before_delete  55550000  L3Service.preventL3PortDeletion#4  vetoes
 * ```
 */
export function formatSubscriptions(registry: CallbackRegistry): string {
  const subs = sortedSubscriptions(registry, 'formatSubscriptions');
  if (subs.length === 0) return `(no subscriptions in registry ${JSON.stringify(registry.name)})`;
  const rows = [
    ['RESOURCE', 'EVENT', 'PRIORITY', 'SUBSCRIBER', 'FLAGS'],
    ...subs.map((s) => [s.resource, s.event, String(s.priority), s.id, flagsOf(s)]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * Options of {@link toMermaid}.
 *
 * @example
 * ```ts
 * console.log(toMermaid(registry, { direction: 'TB' }));
 * ```
 */
export interface MermaidOptions {
  /** Flowchart direction. Default `LR` (events on the left, services on the right). */
  direction?: 'LR' | 'RL' | 'TB' | 'BT';
}

/** Text inside a quoted Mermaid label: Mermaid reads `"` as the end of the label. */
function label(text: string): string {
  return `"${text.replace(/"/g, '#quot;')}"`;
}

/**
 * A Mermaid flowchart of `registry`'s wiring: one box per resource holding its events, one node
 * per service (a subscription's owner class, or the function for owner-less callbacks), and an
 * arrow from each (resource, event) to each service subscribed to it, labelled with the handler.
 * Vetoing phases (`before_*`, `precommit_*`) are drawn as hexagons with the `veto` class; an arrow
 * from a cancellable subscription is thick and says so.
 *
 * @throws InvalidError when `registry` is not a `CallbackRegistry`
 * @example
 * ```ts
 * console.log(toMermaid(container.get(CallbackRegistry)));
 * // flowchart LR
 * //   subgraph r_port["port"]
 * //     e_port_before_delete{{"before_delete"}}:::veto
 * // …
 * ```
 */
export function toMermaid(registry: CallbackRegistry, options: MermaidOptions = {}): string {
  const subs = sortedSubscriptions(registry, 'toMermaid');
  const { direction = 'LR' } = options ?? {};
  if (!['LR', 'RL', 'TB', 'BT'].includes(direction)) {
    throw new InvalidError('direction', direction, "pass 'LR', 'RL', 'TB' or 'BT'.");
  }
  // Mermaid ids allow letters, digits and underscores; a counter keeps sanitised ids distinct.
  const ids = new Map<string, string>();
  const taken = new Set<string>();
  const idOf = (kind: string, key: string) => {
    let id = ids.get(`${kind}:${key}`);
    if (id === undefined) {
      const stem = `${kind}_${key.replace(/[^A-Za-z0-9_]/g, '_')}`;
      id = stem;
      for (let n = 2; taken.has(id); n++) id = `${stem}_${n}`;
      taken.add(id);
      ids.set(`${kind}:${key}`, id);
    }
    return id;
  };

  const lines = [`flowchart ${direction}`];
  const services = new Map<string, string>();
  const edges: string[] = [];
  let resource: string | undefined;
  let event: string | undefined;
  for (const s of subs) {
    if (s.resource !== resource) {
      if (resource !== undefined) lines.push('  end');
      resource = s.resource;
      event = undefined;
      lines.push(`  subgraph ${idOf('r', resource)}[${label(resource)}]`);
    }
    const eventId = idOf('e', `${s.resource} ${s.event}`);
    if (s.event !== event) {
      event = s.event;
      lines.push(
        isCancellableEvent(event) ? `    ${eventId}{{${label(event)}}}:::veto` : `    ${eventId}[${label(event)}]`,
      );
    }
    const { service, handler } = subscriberOf(s);
    const serviceId = idOf('s', service);
    services.set(serviceId, service);
    const text = label(s.cancellable ? `${handler} (cancellable)` : handler);
    edges.push(`  ${eventId} ${s.cancellable ? '==' : '--'}>|${text}| ${serviceId}`);
  }
  if (resource !== undefined) lines.push('  end');
  for (const [id, name] of services) lines.push(`  ${id}([${label(name)}])`);
  lines.push(...edges);
  lines.push('  classDef veto stroke:#c0392b,stroke-width:2px');
  return lines.join('\n');
}
