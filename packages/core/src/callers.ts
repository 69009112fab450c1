/**
 * Compiled callers: for a topic whose subscribers stay the same from round to round, a function
 * written for that list, which calls each subscriber from a call site of its own.
 *
 * Why: the loop of a round calls every subscriber of every topic from one call site, so the
 * engine sees that site call hundreds of different functions and treats it as calling anything.
 * A call site per subscriber sees one function only, which the engine calls directly and often
 * inlines. In an application-shaped workload this is the largest single difference in the cost of
 * a round (docs/performance.md, "What each kept piece buys").
 *
 * The rules stay where they are: a compiled caller does what the loop in round.ts does, in the
 * same order, and hands every result and failure to the same functions ({@link withFailure}, the round's
 * {@link Returned}). Only
 * positions (`c0`, `o0`, `r0`, …) are written into the generated text, never a name or any other
 * value from the caller. Each caller is compiled from a text of its own (it carries a serial):
 * the engine shares what it learnt about a function among functions compiled from the same
 * text, which would make the call sites of all topics one again.
 * @module
 */

import { NotificationError } from './errors.js';
import { isPromiseLike } from './observers.js';
import type { EventPayload } from './payloads.js';
import type { Registration } from './subscriptions.js';
import type { Notification } from './types.js';

/** The failures of a round so far, in call order. */
export type Errors = NotificationError[] | undefined;

/** Where an asynchronous round must wait: callback `at` returned `pending`. */
export class Pending {
  constructor(
    readonly at: number,
    readonly pending: PromiseLike<unknown>,
    readonly errors: Errors,
  ) {}
}

/** Calls each subscriber of a list in order; returns the failures. */
export type SyncCaller = (payload: EventPayload | undefined, notification: Notification) => Errors;

/** Calls each subscriber of a list in order until one returns a promise; returns the failures, or where to wait. */
export type AsyncCaller = (payload: EventPayload | undefined, notification: Notification) => Errors | Pending;

/** What a synchronous round does with a callback's result that is not `undefined`: the failures, with its failure added if it is one. */
export type Returned = (errors: Errors, registration: Registration, result: unknown) => Errors;

/** `errors` (made if there are none yet) with the failure of `registration` added: the loop's and the callers' record of a failure. */
export function withFailure(errors: Errors, registration: Registration, error: unknown): NotificationError[] {
  (errors ??= []).push(new NotificationError(registration.id, error, registration.cancellable));
  return errors;
}

/**
 * Lists longer than this are called by the loop: a caller's text grows with its list, and past
 * a few dozen subscribers the engine no longer optimises a function of that size as a whole.
 */
export const MAX_COMPILED = 32;

/**
 * The rounds a list serves unchanged before it is compiled, on the round that reaches it.
 * Compiling takes time, and a new caller runs slower than the loop until the engine has seen it
 * called often enough to optimise it: a list published now and then, or one whose subscribers
 * keep changing, stays with the loop, and compiling happens at most once per this many rounds.
 * A topic published by both `notify` and `notifySync` gets the caller of the kind of that round
 * only. docs/performance.md has what other thresholds measured.
 */
export const STEADY_ROUNDS = 100;

/** Whether this environment compiles code from text; not when Node runs with `--disallow-code-generation-from-strings`, or a policy forbids it. */
let compiling = true;
/** Makes each caller's text its own (see the module's comment). */
let serial = 0;

/** Whether a list of `length` subscribers is compiled once it is steady: not past {@link MAX_COMPILED}, nor where code cannot be generated. */
export function isCompilable(length: number): boolean {
  return compiling && length > 0 && length <= MAX_COMPILED;
}

/** A caller for `registrations` in a synchronous round, or `undefined` where code cannot be compiled. */
export function compileSync(registrations: readonly Registration[], returned: Returned): SyncCaller | undefined {
  return compile(registrations, returned, (i) => `if (result !== undefined) errors = returned(errors, r${i}, result);`);
}

/** A caller for `registrations` in an asynchronous round, or `undefined` where code cannot be compiled. */
export function compileAsync(registrations: readonly Registration[]): AsyncCaller | undefined {
  return compile(
    registrations,
    undefined,
    (i) => `if (result !== undefined && isPromiseLike(result)) return new Pending(${i}, result, errors);`,
  );
}

/**
 * The caller of `registrations`: for each, in order, the statement the loop of round.ts runs for
 * it, with `onResult(i)` for what follows a call that returned.
 */
function compile<Caller>(
  registrations: readonly Registration[],
  returned: Returned | undefined,
  onResult: (i: number) => string,
): Caller | undefined {
  if (!compiling) return undefined;
  const names = ['returned', 'failed', 'isPromiseLike', 'Pending'];
  const values: unknown[] = [returned, withFailure, isPromiseLike, Pending];
  const lines = [
    `/* Herald compiled caller ${++serial} */`,
    'return function call(payload, notification) {',
    'let errors;',
  ];
  registrations.forEach((registration, i) => {
    names.push(`c${i}`, `o${i}`, `r${i}`);
    values.push(registration.callback, registration.owner, registration);
    lines.push(
      `try { const result = c${i}.call(o${i}, payload, notification); ${onResult(i)} }`,
      `catch (error) { errors = failed(errors, r${i}, error); }`,
    );
  });
  lines.push('return errors;', '};');
  try {
    return new Function(...names, lines.join('\n'))(...values) as Caller;
  } catch (error) {
    if (!(error instanceof EvalError)) throw error;
    // Code generation is disallowed here: every round uses the loop from now on.
    compiling = false;
    return undefined;
  }
}
