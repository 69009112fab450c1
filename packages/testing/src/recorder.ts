/**
 * A recorder of every notification a registry completes, with its payload and outcome, built on
 * `registry.observe`. What the Jest matchers read.
 * @module
 */

import {
  CallbackRegistry,
  formatNotification,
  InvalidError,
  outcomeOf,
  registry as defaultRegistry,
  type NotificationOutcome,
  type NotificationRecord,
} from '@herald/core';

/** The recorder started last on each registry and still recording (what `expect(registry)` reads). */
const active = new WeakMap<CallbackRegistry, NotificationRecorder>();

/**
 * The recorder started last on `registry` and not stopped since, if any: what the matchers read
 * when given a registry (`expect(registry).toHaveNotified(…)`).
 *
 * @example
 * ```ts
 * recordNotifications(registry);
 * recorderOf(registry)?.trace(); // ['router after_create']
 * ```
 */
export function recorderOf(registry: CallbackRegistry): NotificationRecorder | undefined {
  return active.get(registry);
}

/**
 * A completed notification as the recorder keeps it.
 *
 * @example
 * ```ts
 * const vetoed = recorder.records.filter((n: RecordedNotification) => n.outcome === 'vetoed');
 * ```
 */
export interface RecordedNotification extends NotificationRecord {
  /** How it ended for its trigger. */
  readonly outcome: NotificationOutcome;
}

/**
 * Records every notification of one registry from the moment it is created until `stop()`.
 * Records are in completion order: a vetoed `before_*` completes after the `abort_*` round it
 * caused, so the abort record comes first.
 *
 * @example
 * ```ts
 * using recorder = recordNotifications(registry);
 * await ports.delete(ctx, portId);
 * recorder.trace(); // ['port before_delete', 'port precommit_delete', 'port after_delete']
 * ```
 */
export class NotificationRecorder implements Disposable {
  readonly #records: RecordedNotification[] = [];
  readonly #tap: { unsubscribe(): void };

  constructor(
    /** The registry whose notifications it records. */
    readonly registry: CallbackRegistry,
  ) {
    if (!(registry instanceof CallbackRegistry)) {
      throw new InvalidError('registry', registry, 'pass the CallbackRegistry whose notifications to record.');
    }
    this.#tap = registry.observe((record) => {
      this.#records.push({ ...record, outcome: outcomeOf(record) });
    });
    active.set(registry, this);
  }

  /** Every recorded notification, oldest first (a copy). */
  get records(): RecordedNotification[] {
    return [...this.#records];
  }

  /** The recorded notifications of `resource` (and `event`, when given). */
  find(resource: string, event?: string): RecordedNotification[] {
    return this.#records.filter((r) => r.resource === resource && (event === undefined || r.event === event));
  }

  /** `'<resource> <event>'` per notification, oldest first: a compact trace to compare. */
  trace(): string[] {
    return this.#records.map((r) => `${r.resource} ${r.event}`);
  }

  /** One line per notification (see `formatNotification`), for failure messages and debugging. */
  format(options: { time?: boolean } = {}): string {
    return this.#records.map((r, i) => `${i + 1}. ${formatNotification(r, options)}`).join('\n');
  }

  /** Forget what was recorded so far (recording goes on). */
  clear(): void {
    this.#records.length = 0;
  }

  /** Stop recording; what was recorded stays readable. */
  stop(): void {
    this.#tap.unsubscribe();
    if (active.get(this.registry) === this) active.delete(this.registry);
  }

  /** The same as `stop()`, for `using`. */
  [Symbol.dispose](): void {
    this.stop();
  }
}

/**
 * Start recording the notifications of `registry` (the default `registry` when omitted).
 *
 * @example
 * ```ts
 * const recorder = recordNotifications(container.get(CallbackRegistry));
 * await routers.delete(ctx, routerId);
 * expect(recorder).toHaveNotified(ROUTER, AFTER_DELETE);
 * ```
 */
export function recordNotifications(registry: CallbackRegistry = defaultRegistry): NotificationRecorder {
  return new NotificationRecorder(registry);
}
