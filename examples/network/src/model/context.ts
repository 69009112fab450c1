/**
 * The request context every notification carries, as Neutron's `context`: who asks, and a request
 * id that ties a trace together.
 * @module
 */

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
