/** A declared RPC API types the client's method names, arguments and results; the default stays open. */
import { expectTypeOf } from 'expect-type';
import {
  InMemoryTransport,
  RpcClient,
  RpcServer,
  type RpcArgsOf,
  type RpcContext,
  type RpcMethodOf,
  type RpcResultOf,
} from '@herald/messaging';

interface Network {
  id: string;
  subnets: string[];
}

/** What the DHCP agent's endpoint offers: the server's side implements it, the client's side is typed by it. */
interface DhcpAgentApi {
  port_create_end(context: RpcContext, args: { payload: { port: { id: string } } }): void;
  get_active_networks_info(context: RpcContext, args: { host: string }): Promise<Network[]>;
  report_state(context: RpcContext, args?: { uptime?: number }): 'ok';
  ping(context: RpcContext): true;
  readonly version: string;
}

const transport = new InMemoryTransport();
const ctx: RpcContext = { request_id: 'req-1' };

// The API's methods, not its other members.
expectTypeOf<RpcMethodOf<DhcpAgentApi>>().toEqualTypeOf<
  'port_create_end' | 'get_active_networks_info' | 'report_state' | 'ping'
>();
expectTypeOf<RpcArgsOf<DhcpAgentApi['get_active_networks_info']>>().toEqualTypeOf<[args: { host: string }]>();
expectTypeOf<RpcResultOf<DhcpAgentApi['get_active_networks_info']>>().toEqualTypeOf<Network[]>();

const dhcp = new RpcClient<DhcpAgentApi>(transport, { topic: 'dhcp_agent' });
expectTypeOf(dhcp.call(ctx, 'get_active_networks_info', { host: 'host-1' })).toEqualTypeOf<Promise<Network[]>>();
expectTypeOf(dhcp.call(ctx, 'ping')).toEqualTypeOf<Promise<true>>();
expectTypeOf(dhcp.call(ctx, 'report_state')).toEqualTypeOf<Promise<'ok'>>();
expectTypeOf(dhcp.cast(ctx, 'port_create_end', { payload: { port: { id: 'p1' } } })).toEqualTypeOf<Promise<void>>();
// prepare() keeps the API.
expectTypeOf(dhcp.prepare({ server: 'host-1' })).toEqualTypeOf<RpcClient<DhcpAgentApi>>();

// @ts-expect-error not a method of the API
void dhcp.call(ctx, 'sync_routers', {});
// @ts-expect-error not a method: a property
void dhcp.call(ctx, 'version');
// @ts-expect-error the method requires its arguments
void dhcp.call(ctx, 'get_active_networks_info');
// @ts-expect-error wrong argument type
void dhcp.call(ctx, 'get_active_networks_info', { host: 1 });
// @ts-expect-error a method that takes only the context takes no arguments object with fields
void dhcp.call(ctx, 'ping', { extra: true });

// Without a declared API: any method, optional arguments, unknown results (as before).
const open = new RpcClient(transport, { topic: 'l3_agent' });
expectTypeOf(open.call(ctx, 'sync_routers', { host: 'h' })).toEqualTypeOf<Promise<unknown>>();
expectTypeOf(open.cast(ctx, 'routers_updated')).toEqualTypeOf<Promise<void>>();

// The same interface types the endpoint that serves it.
class DhcpAgentEndpoint implements Omit<DhcpAgentApi, 'version'> {
  port_create_end(_context: RpcContext, _args: { payload: { port: { id: string } } }): void {}
  async get_active_networks_info(_context: RpcContext, args: { host: string }): Promise<Network[]> {
    return [{ id: `net-of-${args.host}`, subnets: [] }];
  }
  report_state(): 'ok' {
    return 'ok';
  }
  ping(): true {
    return true;
  }
}
void new RpcServer(transport, { topic: 'dhcp_agent', server: 'host-1' }, [new DhcpAgentEndpoint()]);

// With the API named, the server's endpoints take their parameter types from it, as the client's
// calls do: an object literal's methods need no annotations.
const seen: string[] = [];
void new RpcServer<DhcpAgentApi>(transport, { topic: 'dhcp_agent', server: 'host-2' }, [
  {
    port_create_end(context, { payload }) {
      expectTypeOf(context).toEqualTypeOf<RpcContext>();
      seen.push(payload.port.id);
    },
    target: { version: '1.1' },
  },
  {
    async get_active_networks_info(_context, { host }) {
      return [{ id: `net-of-${host}`, subnets: [] }];
    },
  },
  new DhcpAgentEndpoint(),
]);
void new RpcServer<DhcpAgentApi>(transport, { topic: 'dhcp_agent', server: 'host-3' }, [
  // @ts-expect-error a method of the API with the wrong parameter type
  { port_create_end(_context: RpcContext, _args: { payload: { port: { id: number } } }) {} },
]);
void new RpcServer<DhcpAgentApi>(transport, { topic: 'dhcp_agent', server: 'host-4' }, [
  // @ts-expect-error an endpoint that serves none of the API's methods
  { sync_routers() {} },
]);
