/**
 * The narrator: what the example tells on the terminal, as a list of entries — the script's steps,
 * the API's notifications, what services say they do, every registry notification (seen through
 * `registry.observe`), and the messages other processes received over the transport. The printer
 * renders the entries; tests read them.
 * @module
 */

import {
  errorText,
  formatNotification,
  outcomeOf,
  type CallbackRegistry,
  type Logger,
  type NotificationOutcome,
  type Subscription,
} from '@herald/core';

/** A step of the script. */
export interface StepEntry {
  readonly kind: 'step';
  readonly title: string;
}

/** A message the API layer sent through its notifier (`port.create.start`…). */
export interface ApiEntry {
  readonly kind: 'api';
  readonly eventType: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** Something a service (or a simulated agent) says it did. */
export interface SayEntry {
  readonly kind: 'say';
  readonly source: string;
  readonly message: string;
  readonly level: 'info' | 'error';
}

/** How a message crossed the transport. */
export type MessageVia = 'rpc' | 'notification' | 'bridge';

/**
 * A message another process received over the transport, as that process tells it: an RPC cast
 * an agent ran, a notification a listener took, a registry event re-notified by the bridge.
 */
export interface MessageEntry {
  readonly kind: 'message';
  readonly via: MessageVia;
  /** Who received it, e.g. `dhcp-a@host-a`, `audit`, `metering-agent@host-a`. */
  readonly receiver: string;
  /** What arrived: the RPC method, the notification's event type, or `<resource> <event>`. */
  readonly name: string;
  /** What the receiver made of it. */
  readonly message: string;
}

/** One completed registry notification. */
export interface NotificationEntry {
  readonly kind: 'notification';
  readonly resource: string;
  readonly event: string;
  /** Set for an abort round: the `before_*` event that was vetoed. */
  readonly abortOf: string | undefined;
  readonly trigger: string;
  readonly resourceId: string | number | undefined;
  /** The subscription ids called, in order. */
  readonly subscribers: readonly string[];
  /** The ids of those that failed. */
  readonly failed: readonly string[];
  readonly outcome: NotificationOutcome;
  /** What the first failed subscriber threw. */
  readonly reason: string | undefined;
  readonly durationMs: number;
  /** The one-line rendering (see `formatNotification`). */
  readonly line: string;
}

/** How a step of the script ended. */
export interface ResultEntry {
  readonly kind: 'result';
  readonly ok: boolean;
  readonly message: string;
}

/** One thing the narrator tells. */
export type TraceEntry = StepEntry | ApiEntry | SayEntry | MessageEntry | NotificationEntry | ResultEntry;

/** A told entry, with when it was told (milliseconds since the narrator started). */
export type TimedEntry = TraceEntry & { readonly atMs: number };

/**
 * Collects what the example tells, in order, and hands each entry to `output` as it comes.
 *
 * @example
 * ```ts
 * const narrator = new Narrator((entry) => console.log(entry.kind));
 * using _ = narrator.watch(registry);
 * narrator.say('dhcp', 'scheduled net-1 on host-a');
 * ```
 */
export class Narrator {
  readonly #entries: TimedEntry[] = [];
  readonly #started = performance.now();

  constructor(private readonly output: (entry: TimedEntry) => void = () => undefined) {}

  /** Every entry so far, oldest first. */
  get entries(): readonly TimedEntry[] {
    return this.#entries;
  }

  /** The notification entries so far. */
  notifications(): NotificationEntry[] {
    return this.#entries.filter((e): e is TimedEntry & NotificationEntry => e.kind === 'notification');
  }

  tell(entry: TraceEntry): void {
    const timed = { ...entry, atMs: performance.now() - this.#started };
    this.#entries.push(timed);
    this.output(timed);
  }

  step(title: string): void {
    this.tell({ kind: 'step', title });
  }

  say(source: string, message: string): void {
    this.tell({ kind: 'say', source, message, level: 'info' });
  }

  /** Another process received a message (see {@link MessageEntry}). */
  message(via: MessageVia, receiver: string, name: string, message: string): void {
    this.tell({ kind: 'message', via, receiver, name, message });
  }

  /** The message entries so far. */
  messages(): MessageEntry[] {
    return this.#entries.filter((e): e is TimedEntry & MessageEntry => e.kind === 'message');
  }

  result(ok: boolean, message: string): void {
    this.tell({ kind: 'result', ok, message });
  }

  /** Tell every notification `registry` completes, until the returned subscription ends. */
  watch(registry: CallbackRegistry): Subscription {
    return registry.observe((record) => {
      const failed = record.errors.map((e) => e.callbackId);
      this.tell({
        kind: 'notification',
        resource: record.resource,
        event: record.event,
        abortOf: record.abortOf,
        trigger: nameOf(record.trigger),
        resourceId: record.payload?.resourceId,
        subscribers: record.callbacks,
        failed,
        outcome: outcomeOf(record),
        reason: record.errors.length > 0 ? errorText(record.errors[0]!.error) : undefined,
        durationMs: record.durationMs,
        line: formatNotification(record, { time: false }),
      });
    });
  }

  /** A registry logger that tells the failures the registry swallows (and drops its debug lines). */
  get logger(): Logger {
    return {
      error: (message, ...meta) =>
        this.tell({
          kind: 'say',
          source: 'registry',
          message: meta.length > 0 ? `${message}: ${meta.map(errorText).join(', ')}` : message,
          level: 'error',
        }),
    };
  }
}

/** A service instance by its class name, a function by its name, anything else as a string. */
function nameOf(trigger: unknown): string {
  if (typeof trigger === 'function') return trigger.name;
  if (typeof trigger === 'object' && trigger !== null) return trigger.constructor.name;
  return String(trigger);
}
