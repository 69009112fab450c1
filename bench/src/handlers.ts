/**
 * Distinct handler functions, each counting its calls. Each one is compiled from its own source
 * text, so that no two share code: a real application's subscribers are different functions, and
 * engines inline calls very differently when many call targets share one piece of code.
 * @module
 */

/** A handler as every library calls it: payload first (Herald adds a second argument). */
export type Handler = (arg: unknown) => void | Promise<void>;

/** A set of handlers and the counts that prove each one ran exactly once per publish. */
export interface HandlerSet {
  readonly fns: Handler[];
  /**
   * Throws unless each of the first `subscribed` handlers (default: all) ran exactly `times` times
   * with the expected payload since `reset`, and the others not at all.
   */
  verify(label: string, times?: number, subscribed?: number): void;
  reset(): void;
}

let serial = 0;

/**
 * `count` synchronous (or `async`) handlers. A handler that receives anything but `payload` counts
 * a thousand, so a check after one publish also proves the payload arrived.
 */
export function makeHandlers(
  count: number,
  payload: unknown,
  { kind = 'sync' }: { kind?: 'sync' | 'async' } = {},
): HandlerSet {
  const counts = new Int32Array(count);
  const fns: Handler[] = [];
  for (let i = 0; i < count; i++) {
    const name = `handler${++serial}`;
    const source = `return ${kind === 'async' ? 'async ' : ''}function ${name}(arg) { counts[${i}] += arg === expected ? 1 : 1000; };`;
    fns.push(new Function('counts', 'expected', source)(counts, payload) as Handler);
  }
  return {
    fns,
    reset: () => counts.fill(0),
    verify(label, times = 1, subscribed = count) {
      const wrong = counts.findIndex((c, i) => c !== (i < subscribed ? times : 0));
      if (wrong >= 0) {
        const expected = wrong < subscribed ? times : 0;
        throw new Error(`${label}: handler ${wrong} of ${count} counted ${counts[wrong]}, expected ${expected}`);
      }
    },
  };
}

/**
 * `count` handlers that share one piece of code (closures): for the heap case, where only the
 * subscriptions are measured and compiling 100,000 sources would take seconds.
 */
export function makeClosures(count: number, payload: unknown): HandlerSet {
  const counts = new Int32Array(count);
  const fns = Array.from({ length: count }, (_, i) => (arg: unknown) => {
    counts[i]! += arg === payload ? 1 : 1000;
  });
  return {
    fns,
    reset: () => counts.fill(0),
    verify(label) {
      const wrong = counts.findIndex((c) => c !== 1);
      if (wrong >= 0) throw new Error(`${label}: handler ${wrong} of ${count} counted ${counts[wrong]}, expected 1`);
    },
  };
}
