/**
 * The models this type-test program declares. `declare module` merges into the whole program,
 * which is why the type tests are a program of their own (`typetest/tsconfig.json`).
 */
import '@herald/core';

export interface Widget {
  id: string;
  size: number;
}

export interface Network {
  id: string;
  mtu: number;
}

export interface Router {
  id: string;
  name: string;
}

/** The request context every typed payload carries (declared once, in `HeraldTypes`). */
export interface RequestContext {
  readonly projectId: string;
}

declare module '@herald/core' {
  interface HeraldTypes {
    context: RequestContext;
  }
  interface ResourceModels {
    /** A new resource: its whole standard lifecycle, in one line. */
    widget: Widget;
    /** One of Neutron's resources, typed with the user's own model. */
    network: Network;
  }
}
