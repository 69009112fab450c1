/**
 * The request context every notification carries, as Neutron's `context`: who asks, and a request
 * id that ties a trace together.
 * @module
 */

import { InvalidError } from '@herald/core';

let requests = 0;

/**
 * Who is asking. Payloads carry it as their `context`.
 *
 * @example
 * ```ts
 * const ctx = RequestContext.admin();
 * await api.create(ctx, 'network', { name: 'private' });
 * ```
 */
export class RequestContext {
  constructor(
    readonly projectId: string,
    readonly isAdmin = false,
    readonly requestId = `req-${++requests}`,
  ) {}

  /** An administrator's context (the example's script acts as one). */
  static admin(projectId = 'demo'): RequestContext {
    return new RequestContext(projectId, true);
  }
}

/**
 * The request context of a payload. Herald types a payload's context as `unknown` (the model is
 * declared per resource, the context is not), so handlers that need it check it here.
 *
 * @example
 * ```ts
 * const ctx = contextOf(payload);
 * ```
 */
export function contextOf(payload: { readonly context: unknown }): RequestContext {
  if (payload.context instanceof RequestContext) return payload.context;
  throw new InvalidError('payload.context', payload.context, 'notify with a RequestContext as the payload context.');
}
