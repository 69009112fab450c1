/**
 * How a compiled round (see `compile` in registry.ts) calls each callback, decided once per
 * function from its source text: with the payload alone or with the notification too, and whether
 * what it returns needs looking at. Each decision says "yes" only when that is certain; anything
 * else gets the general call.
 *
 * **The payload alone.** A call that passes more arguments than the callee declares takes V8's
 * slower path for a mismatch of arity when the callee is not inlined. `Function.length` cannot
 * tell whether a callback reads a second argument: it counts neither a rest parameter nor those
 * after a default value, so `(payload, ...rest)` and `(payload, n = {})` have length 1 and read
 * the notification. "Payload alone" needs one plain identifier parameter (or none), and, for a
 * function that has its own `arguments`, no `arguments`, `eval` or unicode escape anywhere in its
 * text. Native and bound functions, proxies, destructuring, comments in the parameter list and
 * non-ASCII names get both arguments. What remains unseen is the legacy `f.arguments` read from
 * outside a sloppy-mode function; see docs/decisions/snapshot-and-compiled-callers.md.
 *
 * **Nothing returned.** A round looks at each result: `notify` awaits a thenable before the next
 * callback (rule 5), `notifySync` fails it (rule 10). A function whose body is a block returns
 * `undefined` unless a `return` statement says otherwise, so a callback that is not `async`, not
 * a generator, not an arrow with an expression body, and has no `return` anywhere in its text
 * (a nested function's `return` counts too) returns nothing, and its result is not looked at.
 * Keywords cannot be spelled with escapes, and `eval` cannot return for its caller, so the text
 * cannot hide a `return`.
 * @module
 */

/**
 * How a compiled round calls a callback: `p` with the payload alone, `n` with the payload and the
 * notification; in upper case (`P`, `N`) the callback returns nothing, and its result is not
 * looked at.
 */
export type CallLetter = 'p' | 'n' | 'P' | 'N';

/** An arrow function with one plain parameter (or none): it has no `arguments` of its own. */
const ARROW = /^(?:async\s*)?(?:\(\s*[\w$]*\s*\)|[\w$]+)\s*=>/;

/** A function or method (optionally async or a generator) with one plain parameter, or none. */
const FUNCTION = /^(?:async\s+)?(?:function\b\s*)?\*?\s*[\w$]*\s*\(\s*[\w$]*\s*\)\s*\{/;

/** What could read a second argument through the function's own `arguments`. */
const READS_ARGUMENTS = /\barguments\b|\beval\b|\\u|\[native code\]/;

/**
 * A body that is a block and no `async` function or generator: a `function` (not `function*`), a
 * method named by a plain identifier (not `async`, `get`, `set` or `static`, which may begin
 * something else), or an arrow with plain parameters and a block body.
 */
const BLOCK_BODY =
  /^(?:function\b(?!\s*\*)|(?!(?:async|get|set|static|class)\b)[\w$]+\s*\(|(?:\(\s*(?:[\w$]+\s*(?:,\s*[\w$]+\s*)*)?\)|[\w$]+)\s*=>\s*\{)/;

/** What could make a block-bodied function return something, or hide its real code. */
const MAY_RETURN = /\breturn\b|\[native code\]/;

const toSource = Function.prototype.toString;

/** Decisions already made, by function (a callback is compiled again after each change of its bucket). */
const known = new WeakMap<Function, CallLetter>();

/**
 * How a compiled round calls `callback` (see {@link CallLetter}).
 *
 * @example
 * ```ts
 * callLetterOf((payload) => { audit(payload); });          // 'P'
 * callLetterOf(async (payload, n) => { await audit(n); }); // 'n'
 * ```
 */
export function callLetterOf(callback: Function): CallLetter {
  let letter = known.get(callback);
  if (letter === undefined) known.set(callback, (letter = readLetter(callback)));
  return letter;
}

function readLetter(callback: Function): CallLetter {
  let source: string;
  try {
    source = toSource.call(callback);
  } catch {
    return 'n'; // e.g. a revoked proxy
  }
  const payloadOnly = callback.length <= 1 && readsPayloadOnly(source);
  const returnsNothing = BLOCK_BODY.test(source) && !MAY_RETURN.test(source);
  return payloadOnly ? (returnsNothing ? 'P' : 'p') : returnsNothing ? 'N' : 'n';
}

function readsPayloadOnly(source: string): boolean {
  if (ARROW.test(source)) return true;
  return FUNCTION.test(source) && !READS_ARGUMENTS.test(source);
}
