/**
 * The Jest matchers `toHaveNotified` and `toHaveVetoed`, as plain matcher functions for
 * `expect.extend` (`@herald/testing/jest` registers them and declares their types).
 * @module
 */

import { formatNotification, InvalidError, type NotificationRecord } from '@herald/core';
import type { MatcherContext, SyncExpectationResult } from 'expect';
import { NotificationRecorder } from './recorder.js';

/** The records behind `actual`: a recorder, or an array of observed records. */
function recordsOf(actual: unknown, matcher: string): readonly NotificationRecord[] {
  if (actual instanceof NotificationRecorder) return actual.records;
  if (Array.isArray(actual)) return actual as NotificationRecord[];
  throw new InvalidError(
    `expect(…) of ${matcher}`,
    actual,
    'pass a NotificationRecorder (start one with recordNotifications(registry) before the code under test runs) ' +
      'or an array of NotificationRecord.',
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
  const matching = withPayload ? sameEvent.filter((r) => this.equals(r.payload, expected[0])) : sameEvent;
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

/** Both matchers, for `expect.extend(heraldMatchers)`. */
export const heraldMatchers = { toHaveNotified, toHaveVetoed };
