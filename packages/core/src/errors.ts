/**
 * Herald's errors. Every error Herald throws extends {@link HeraldError}, so one `instanceof`
 * tells Herald's errors from the rest.
 * @module
 */

/**
 * Base class of every error Herald throws; `name` is the concrete class's name.
 *
 * @example
 * ```ts
 * try { await registry.notify(ROUTER, BEFORE_DELETE, this, payload); }
 * catch (e) { if (e instanceof HeraldError) console.error(e.name, e.message); }
 * ```
 */
export class HeraldError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A short, readable rendering of any value for error messages.
 *
 * @example
 * ```ts
 * describeValue('router'); // '"router"'
 * describeValue(new Map()); // 'an instance of Map'
 * ```
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `an instance of ${name}` : 'a plain object';
}

/**
 * A bad argument. `element` names the parameter (`callback`, `resource`, `event`, `priority`,
 * `payload`…), `value` is the offending value itself. Nothing was changed when it is thrown.
 *
 * @example
 * ```ts
 * registry.subscribe(cb, ROUTER, BEFORE_CREATE, NaN);
 * // InvalidError: The value NaN for priority is not valid: pass a finite number (lower runs first).
 * ```
 */
export class InvalidError extends HeraldError {
  /** The parameter that was wrong. */
  readonly element: string;
  /** The offending value. */
  readonly value: unknown;

  constructor(element: string, value: unknown, hint: string) {
    super(`The value ${describeValue(value)} for ${element} is not valid: ${hint}`);
    this.element = element;
    this.value = value;
  }
}

/**
 * The record of one failed callback in a notification (not thrown by itself: it is collected in
 * a {@link CallbackFailure}, a log line, or an observer's record).
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof CallbackFailure) for (const n of e.errors) console.log(n.callbackId, n.error); }
 * ```
 */
export class NotificationError {
  constructor(
    /** The failing subscription's id (e.g. `L3Service.preventPortDelete#3`). */
    readonly callbackId: string,
    /** Whatever the callback threw or rejected with. */
    readonly error: unknown,
    /** The failing subscription's `cancellable` flag. */
    readonly cancellable = false,
  ) {}

  /** The failure as one line: the callback's id and its error's message. */
  toString(): string {
    return `Callback ${this.callbackId} failed with "${errorText(this.error)}"`;
  }
}

/**
 * The message of an error, or the string form of anything else that was thrown.
 *
 * @example
 * ```ts
 * errorText(new Error('port in use')); // 'port in use'
 * errorText('plain'); // 'plain'
 * ```
 */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Thrown to the trigger when a notification was vetoed: a `before_*` or `precommit_*` callback
 * failed, or a `cancellable` subscription failed on any event. `errors` are the failures in call
 * order; `innerErrors` what each callback threw.
 *
 * @example
 * ```ts
 * try {
 *   await registry.notify(PORT, BEFORE_DELETE, this, payload);
 * } catch (e) {
 *   if (e instanceof CallbackFailure) return refuse(e.innerErrors[0]);
 *   throw e;
 * }
 * ```
 */
export class CallbackFailure extends HeraldError {
  /** The failed callbacks, in call order (frozen). */
  readonly errors: readonly NotificationError[];
  /** The resource of the failed notification. */
  readonly resource: string;
  /** The event of the failed notification. */
  readonly event: string;

  constructor(resource: string, event: string, errors: readonly NotificationError[]) {
    super(`${errors.map(String).join(', ')} (${resource} ${event})`);
    this.resource = resource;
    this.event = event;
    this.errors = Object.isFrozen(errors) ? errors : Object.freeze([...errors]);
  }

  /** What each failed callback threw, in call order. */
  get innerErrors(): unknown[] {
    return this.errors.map((e) => e.error);
  }
}

/**
 * Thrown instead of a {@link CallbackFailure} when the registry's `isRetriable` hook says that one
 * of the callbacks' errors is worth retrying (a deadlock, a stale read…). It is not a
 * `CallbackFailure`, so code that catches vetoes does not swallow a retry. `cause` is the failure.
 *
 * @example
 * ```ts
 * const registry = new CallbackRegistry({ isRetriable: (e) => e instanceof DeadlockError });
 * try { await registry.notify(ROUTER, PRECOMMIT_CREATE, this, payload); }
 * catch (e) { if (e instanceof RetryRequest) return retryTransaction(); throw e; }
 * ```
 */
export class RetryRequest extends HeraldError {
  /** The failure whose errors asked for the retry. */
  declare readonly cause: CallbackFailure;

  constructor(failure: CallbackFailure) {
    super(`Retry requested: ${failure.message}`, { cause: failure });
  }
}
