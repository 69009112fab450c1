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

  /**
   * The context again from its JSON copy (what a payload's context becomes on the way to another
   * process: its fields, without its methods).
   *
   * @throws TypeError when `copy` lacks a field
   * @example
   * ```ts
   * await bridge.receive(registry, { context: RequestContext.fromCopy });
   * ```
   */
  static fromCopy(this: void, copy: unknown): RequestContext {
    const { projectId, isAdmin, requestId } = (copy ?? {}) as Record<string, unknown>;
    if (typeof projectId !== 'string' || typeof isAdmin !== 'boolean' || typeof requestId !== 'string') {
      throw new TypeError(`not a copy of a RequestContext: ${JSON.stringify(copy)}`);
    }
    return new RequestContext(projectId, isAdmin, requestId);
  }

  /** An administrator's context (the example's script acts as one). */
  static admin(projectId = 'demo'): RequestContext {
    return new RequestContext(projectId, true);
  }

  /**
   * The context as RPC messages and notifications carry it to other processes: a JSON object in
   * oslo's keys, as Neutron sends `context.to_dict()`.
   *
   * @example
   * ```ts
   * await notifier.info(ctx.toDict(), 'port.create.end', { port });
   * ```
   */
  toDict(): RequestContextDict {
    return { request_id: this.requestId, project_id: this.projectId, is_admin: this.isAdmin };
  }
}

/** A {@link RequestContext} on the wire (see {@link RequestContext.toDict}). */
export interface RequestContextDict {
  readonly request_id: string;
  readonly project_id: string;
  readonly is_admin: boolean;
  readonly [key: string]: unknown;
}
