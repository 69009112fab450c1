/**
 * Event payloads, as in Neutron: what a trigger hands to its subscribers. Arguments are kept by
 * reference, never copied, so subscribers must not modify them.
 *
 * The fields are `declare`d and set in the constructors only: a class field without `declare`
 * is defined once more on every instance before the constructor sets it, which makes a payload
 * cost more than an object literal with the same fields (bench/src/application.ts measures both).
 * @module
 */

import { InvalidError } from './errors.js';

/**
 * An identifier of a resource instance.
 *
 * @example
 * ```ts
 * const id: ResourceId = payload.resourceId ?? 'router-1';
 * ```
 */
export type ResourceId = string | number;

/**
 * What every payload may carry.
 *
 * @example
 * ```ts
 * new EventPayload(ctx, { resourceId: router.id, states: [router], metadata: { reason: 'resync' } });
 * ```
 */
export interface EventPayloadOptions<State> {
  /** Unstructured extra data (kept by reference; `{}` when left out or `null`, as Neutron's `None`). */
  metadata?: Record<string, unknown> | null;
  /** The API request body that caused the event, if any. */
  requestBody?: Partial<State>;
  /** States of the resource, oldest first; the last one is `latestState` (`[]` when left out or `null`). */
  states?: readonly State[] | null;
  /** The id of the resource, when it has one yet. */
  resourceId?: ResourceId;
}

/**
 * What a {@link DBEventPayload} may carry besides the common fields.
 *
 * @example
 * ```ts
 * new DBEventPayload(ctx, { resourceId: router.id, states: [router], desiredState: { ...router, name: 'edge' } });
 * ```
 */
export interface DBEventPayloadOptions<State> extends EventPayloadOptions<State> {
  /** The state about to be persisted (in `before_*` and `precommit_*` events). */
  desiredState?: State;
}

/**
 * What an {@link APIEventPayload} carries besides the common fields.
 *
 * @example
 * ```ts
 * new APIEventPayload(ctx, { methodName: 'create_router', action: 'create', collectionName: 'routers', states: [router] });
 * ```
 */
export interface APIEventPayloadOptions<State> extends EventPayloadOptions<State> {
  /** The API method that was called (e.g. `create_router`). */
  methodName: string;
  /** The API action (e.g. `create`). */
  action: string;
  /** The collection name (e.g. `routers`). */
  collectionName?: string;
}

/**
 * The base payload. `State` is the resource's model type, `Context` the request context's.
 *
 * @example
 * ```ts
 * const payload = new EventPayload(ctx, { states: [router], resourceId: router.id });
 * payload.latestState; // router
 * ```
 */
export class EventPayload<State = unknown, Context = unknown> {
  /** The request context (who is asking, transaction handle, …). */
  declare readonly context: Context;
  /** Unstructured extra data (`{}` when none was given). */
  declare readonly metadata: Record<string, unknown>;
  /** The API request body that caused the event, if any. */
  declare readonly requestBody: Partial<State> | undefined;
  /** States of the resource, oldest first (`[]` when none were given). */
  declare readonly states: readonly State[];
  /** The id of the resource, if it has one yet. */
  declare readonly resourceId: ResourceId | undefined;

  constructor(context: Context, options: EventPayloadOptions<State> = {}) {
    if (options === null || typeof options !== 'object') {
      throw new InvalidError('payload options', options, 'pass an object such as { states, resourceId }, or nothing.');
    }
    const { metadata, requestBody, states, resourceId } = options;
    // `null` is "none given", as Neutron's `metadata or {}` and `states or []` read `None`.
    if (states != null && !Array.isArray(states)) {
      throw new InvalidError('states', states, 'pass an array of states, oldest first.');
    }
    if (metadata != null && typeof metadata !== 'object') {
      throw new InvalidError('metadata', metadata, 'pass an object of extra key/value pairs.');
    }
    this.context = context;
    this.metadata = metadata ?? {};
    this.requestBody = requestBody;
    this.states = states ?? [];
    this.resourceId = resourceId;
  }

  /** Whether any state was given. */
  get hasStates(): boolean {
    return this.states.length > 0;
  }

  /** The last of `states`, or `undefined` when there are none. */
  get latestState(): State | undefined {
    return this.states.length > 0 ? this.states[this.states.length - 1] : undefined;
  }
}

/**
 * The payload of data-store events (`before_*`, `precommit_*`, `after_*`).
 *
 * @example
 * ```ts
 * const payload = new DBEventPayload(ctx, { desiredState: router });
 * payload.isToBeCommitted; // true
 * payload.latestState;     // router (the desired state wins over `states`)
 * ```
 */
export class DBEventPayload<State = unknown, Context = unknown> extends EventPayload<State, Context> {
  /** The state about to be persisted, if any. */
  declare readonly desiredState: State | undefined;

  constructor(context: Context, options: DBEventPayloadOptions<State> = {}) {
    super(context, options);
    this.desiredState = options.desiredState;
  }

  /** Whether the resource exists in the store: it has an id and at least one state. */
  get isPersisted(): boolean {
    return this.resourceId != null && this.hasStates;
  }

  /** Whether a desired state is about to be committed. */
  get isToBeCommitted(): boolean {
    return this.desiredState != null;
  }

  /** The desired state if there is one, otherwise the last of `states`. */
  override get latestState(): State | undefined {
    return this.desiredState ?? super.latestState;
  }
}

/**
 * The payload of API events (`before_response`, `after_request`).
 *
 * @example
 * ```ts
 * new APIEventPayload(ctx, { methodName: 'create_router', action: 'create', collectionName: 'routers' });
 * ```
 */
export class APIEventPayload<State = unknown, Context = unknown> extends EventPayload<State, Context> {
  /** The API method that was called. */
  declare readonly methodName: string;
  /** The API action. */
  declare readonly action: string;
  /** The collection name, if given. */
  declare readonly collectionName: string | undefined;

  constructor(context: Context, options: APIEventPayloadOptions<State>) {
    super(context, options);
    const { methodName, action, collectionName }: Partial<APIEventPayloadOptions<State>> = options ?? {};
    if (typeof methodName !== 'string' || methodName === '') {
      throw new InvalidError('methodName', methodName, "pass the API method's name, e.g. 'create_router'.");
    }
    if (typeof action !== 'string' || action === '') {
      throw new InvalidError('action', action, "pass the API action, e.g. 'create'.");
    }
    this.methodName = methodName;
    this.action = action;
    this.collectionName = collectionName;
  }
}
