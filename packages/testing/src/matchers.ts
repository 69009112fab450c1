/**
 * The Jest matchers `toHaveNotified` and `toHaveVetoed`, as plain matcher functions for
 * `expect.extend`, and their types on `expect`'s `Matchers`. Importing `@herald/testing` registers
 * them with Jest's global `expect` when there is one; `@herald/testing/jest` registers them with
 * `@jest/globals`' `expect` (for `injectGlobals: false`).
 * @module
 */

import { iterableEquality } from '@jest/expect-utils';
import {
  CallbackRegistry,
  formatNotification,
  InvalidError,
  type EventOf,
  type NotificationRecord,
  type PayloadOf,
  type Resource,
} from '@herald/core';
import type { AsymmetricMatchers, MatcherContext, SyncExpectationResult } from 'expect';
import { NotificationRecorder, recorderOf } from './recorder.js';

/** What an asymmetric matcher such as `expect.objectContaining(…)` is. */
type AnyAsymmetricMatcher = ReturnType<AsymmetricMatchers['anything']>;

declare module 'expect' {
  // Merging needs the exact type parameters of expect's own `Matchers`, `T` included.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface Matchers<R extends void | Promise<void>, T = unknown> {
    /**
     * A notification of (`resource`, `event`) was recorded, with a payload equal to `payload`
     * when given (asymmetric matchers work). `expect` takes a recorder, a registry being recorded,
     * anything with a `recorder` (a test container), or an array of records.
     *
     * @example
     * ```ts
     * expect(recorder).toHaveNotified(ROUTER, AFTER_CREATE, expect.objectContaining({ resourceId: 'r-1' }));
     * ```
     */
    toHaveNotified<Res extends Resource, E extends EventOf<Res>>(
      resource: Res,
      event: E,
      payload?: PayloadOf<Res, E> | AnyAsymmetricMatcher,
    ): R;
    /**
     * A vetoed notification of (`resource`, `event`) was recorded: its trigger got a `CallbackFailure`.
     *
     * @example
     * ```ts
     * expect(recorder).toHaveVetoed(PORT, BEFORE_DELETE);
     * ```
     */
    toHaveVetoed<Res extends Resource>(resource: Res, event: EventOf<Res>): R;
  }
}

/**
 * The records behind `actual`: a recorder; a registry being recorded; something with a
 * `recorder` (a `TestContainer`, the handle of `useIsolatedRegistry`); or an array of records.
 */
function recordsOf(actual: unknown, matcher: string): readonly NotificationRecord[] {
  if (actual instanceof NotificationRecorder) return actual.records;
  if (Array.isArray(actual)) return actual as NotificationRecord[];
  if (actual instanceof CallbackRegistry) {
    const recorder = recorderOf(actual);
    if (recorder !== undefined) return recorder.records;
    throw new InvalidError(
      `expect(…) of ${matcher}`,
      actual,
      `nothing records registry ${JSON.stringify(actual.name)}: start recordNotifications(registry) before the code under test runs, then pass the registry or the recorder.`,
    );
  }
  if (actual !== null && typeof actual === 'object' && 'recorder' in actual) {
    const recorder = (actual as { recorder: unknown }).recorder;
    if (recorder instanceof NotificationRecorder) return recorder.records;
  }
  throw new InvalidError(
    `expect(…) of ${matcher}`,
    actual,
    'pass a NotificationRecorder (start one with recordNotifications(registry) before the code under test runs), ' +
      'the registry it records, a test container, or an array of NotificationRecord.',
  );
}

function listing(records: readonly NotificationRecord[]): string {
  if (records.length === 0) return 'Nothing was notified.';
  const lines = records.map((r, i) => `  ${i + 1}. ${formatNotification(r, { time: false })}`);
  return `Notified instead (${records.length}):\n${lines.join('\n')}`;
}

/**
 * Passes when a notification of (`resource`, `event`) was recorded — with a payload equal to
 * `payload` (recursive equality; asymmetric matchers such as `expect.objectContaining` work) when
 * one is given.
 *
 * @example
 * ```ts
 * expect(recorder).toHaveNotified(ROUTER, AFTER_CREATE, expect.objectContaining({ resourceId: 'r-1' }));
 * ```
 */
export function toHaveNotified(
  this: MatcherContext,
  actual: unknown,
  resource: string,
  event: string,
  ...expected: [] | [payload: unknown]
): SyncExpectationResult {
  const records = recordsOf(actual, 'toHaveNotified');
  const { printExpected, printReceived, matcherHint, diff } = this.utils;
  const withPayload = expected.length > 0;
  const sameEvent = records.filter((r) => r.resource === resource && r.event === event);
  // The equality of toEqual: the user's testers, and the contents of Maps, Sets and other iterables.
  const testers = [...this.customTesters, iterableEquality];
  const matching = withPayload ? sameEvent.filter((r) => this.equals(r.payload, expected[0], testers)) : sameEvent;
  const hint = matcherHint('toHaveNotified', 'recorder', withPayload ? 'resource, event, payload' : 'resource, event', {
    isNot: this.isNot,
  });
  const what = `${printExpected(`${resource} ${event}`)}${withPayload ? ` with payload ${printExpected(expected[0])}` : ''}`;
  if (matching.length > 0) {
    return {
      pass: true,
      message: () =>
        `${hint}\n\nExpected no notification of ${what}, but it was notified ${matching.length} time(s):\n` +
        matching.map((r) => `  ${formatNotification(r, { time: false })}`).join('\n'),
    };
  }
  return {
    pass: false,
    message: () => {
      let text = `${hint}\n\nExpected a notification of ${what}.\n`;
      if (withPayload && sameEvent.length > 0) {
        const closest = sameEvent[sameEvent.length - 1]!.payload;
        text +=
          `It was notified ${sameEvent.length} time(s) with other payloads; the last one:\n` +
          `${diff(expected[0], closest) ?? printReceived(closest)}\n`;
      }
      return `${text}${listing(records)}`;
    },
  };
}

/**
 * Passes when a notification of (`resource`, `event`) was vetoed: its trigger got a
 * `CallbackFailure` (a `before_*` or `precommit_*` subscriber failed, or a cancellable one did).
 *
 * @example
 * ```ts
 * await expect(ports.delete(ctx, routerPort.id)).rejects.toThrow(CallbackFailure);
 * expect(recorder).toHaveVetoed(PORT, BEFORE_DELETE);
 * ```
 */
export function toHaveVetoed(
  this: MatcherContext,
  actual: unknown,
  resource: string,
  event: string,
): SyncExpectationResult {
  const records = recordsOf(actual, 'toHaveVetoed');
  const { printExpected, matcherHint } = this.utils;
  const hint = matcherHint('toHaveVetoed', 'recorder', 'resource, event', { isNot: this.isNot });
  const sameEvent = records.filter((r) => r.resource === resource && r.event === event);
  const vetoed = sameEvent.filter((r) => r.failure !== undefined && r.abortOf === undefined);
  const what = printExpected(`${resource} ${event}`);
  if (vetoed.length > 0) {
    return {
      pass: true,
      message: () =>
        `${hint}\n\nExpected ${what} not to be vetoed, but it was:\n` +
        vetoed.map((r) => `  ${formatNotification(r, { time: false })}`).join('\n'),
    };
  }
  return {
    pass: false,
    message: () =>
      `${hint}\n\nExpected ${what} to be vetoed, ` +
      (sameEvent.length > 0
        ? `but its ${sameEvent.length} notification(s) went through.\n`
        : 'but it was never notified.\n') +
      listing(records),
  };
}

/**
 * Both matchers, for `expect.extend(heraldMatchers)`.
 *
 * @example
 * ```ts
 * import { expect } from 'vitest';
 * expect.extend(heraldMatchers);
 * ```
 */
export const heraldMatchers = { toHaveNotified, toHaveVetoed };
