/**
 * Which callbacks can be called with the payload alone. A call that passes more arguments than
 * the callee declares takes V8's slower path for a mismatch of arity when the callee is not
 * inlined; a compiled round (see `compile` in registry.ts) therefore passes only the payload to a
 * callback that cannot see a second argument, and `(payload, notification)` to every other one.
 *
 * `Function.length` cannot tell: it counts neither a rest parameter nor those after a default
 * value, so `(payload, ...rest)` and `(payload, n = {})` have length 1 and read the notification.
 * The decision is made from the function's source text instead, and only says "payload only" when
 * that is certain: one plain identifier parameter (or none), and, for a function that has its own
 * `arguments`, no `arguments`, `eval` or unicode escape anywhere in its text. Anything else
 * (native and bound functions, proxies, destructuring, comments in the parameter list, non-ASCII
 * names) gets both arguments. What remains unseen is the legacy `f.arguments` read from outside a
 * sloppy-mode function; see docs/decisions/snapshot-and-compiled-callers.md.
 * @module
 */

/** An arrow function with one plain parameter (or none): it has no `arguments` of its own. */
const ARROW = /^(?:async\s*)?(?:\(\s*[\w$]*\s*\)|[\w$]+)\s*=>/;

/** A function or method (optionally async or a generator) with one plain parameter, or none. */
const FUNCTION = /^(?:async\s+)?(?:function\b\s*)?\*?\s*[\w$]*\s*\(\s*[\w$]*\s*\)\s*\{/;

/** What could read a second argument through the function's own `arguments`. */
const READS_ARGUMENTS = /\barguments\b|\beval\b|\\u|\[native code\]/;

const toSource = Function.prototype.toString;

/** Decisions already made, by function (a callback is compiled again after each change of its bucket). */
const known = new WeakMap<Function, boolean>();

/**
 * Whether `callback` cannot observe any argument after the first, so that calling it with the
 * payload alone is the same as calling it with `(payload, notification)`.
 */
export function takesPayloadOnly(callback: Function): boolean {
  let answer = known.get(callback);
  if (answer === undefined) known.set(callback, (answer = readsPayloadOnly(callback)));
  return answer;
}

function readsPayloadOnly(callback: Function): boolean {
  if (callback.length > 1) return false;
  let source: string;
  try {
    source = toSource.call(callback);
  } catch {
    return false; // e.g. a revoked proxy
  }
  if (ARROW.test(source)) return true;
  return FUNCTION.test(source) && !READS_ARGUMENTS.test(source);
}
