/**
 * The command line of the example: options, help, and what each mode prints.
 * @module
 */

import { formatSubscriptions, toMermaid } from '@herald/core';
import type { IdleTransport } from '@herald/messaging';
import { createNetworkApp } from './app.js';
import type { PostgresRows } from './model/postgres.js';
import { createPrinter } from './printer.js';
import { runScenario } from './scenario.js';

/** Where the command writes, and whether it may colour its output. */
export interface Terminal {
  out(line: string): void;
  err(line: string): void;
  /** stdout is a terminal (and NO_COLOR is not set). */
  color: boolean;
}

export const HELP = `Usage: npm start -- [--json | --graph | --subscriptions | --help]

Runs Herald's network example: the OpenStack Neutron callbacks scenario as a small Inversify
application with in-memory stores. It creates a network, a subnet and a router, plugs the router
into the subnet, tries to delete the router's port directly (the L3 service vetoes it and the
abort subscribers run), removes the interface and deletes the router. Every notification is
printed as it completes: resource, event, trigger, subscribers in call order, outcome, duration.

Around the server, on an in-memory transport (@herald/messaging; RabbitMQ with HERALD_AMQP_URL,
below): the DHCP and L3 agents run as
RPC servers and print the casts they get (rpc), an audit listener prints the API's notifications
(notify), and a metering agent with a registry of its own prints the router and port events the
registry bridge carries to it (bridge). After each step the script waits until every message has
been handled; at the end it closes the transport.

Options:
  --json            print the trace as JSON lines (one object per entry) instead of text
  --graph           print a Mermaid diagram of which services subscribe to which events, then exit
  --subscriptions   print the table of subscriptions (resource, event, priority, subscriber, flags), then exit
  --help, -h        print this help and exit

Environment:
  HERALD_AMQP_URL   run the agents, listeners and bridge on this RabbitMQ broker (@herald/amqp)
                    instead of in memory, e.g. amqp://guest:guest@127.0.0.1:5672
  HERALD_DATABASE_URL
                    keep networks, subnets, ports and routers as rows in this PostgreSQL database
                    (a schema of the run's own, dropped at the end), one transaction per request,
                    and send the bridged events through the outbox (@herald/postgres),
                    e.g. postgres://postgres@127.0.0.1:5432/postgres
  HERALD_OSLO_URL   run them on an OpenStack broker in oslo.messaging's format (@herald/oslo), e.g.
                    rabbit://guest:guest@127.0.0.1:5672/; HERALD_OSLO_EXCHANGE: its control exchange
                    (default neutron)

Exit status: 0 when the story went as told, 1 when it did not, 2 for an unknown option.`;

const MODES = ['--json', '--graph', '--subscriptions', '--help', '-h'] as const;
type Mode = (typeof MODES)[number];

/**
 * Run the command with `args` (without `node` and the script); resolves to the exit status.
 *
 * @example
 * ```ts
 * process.exitCode = await run(process.argv.slice(2), terminal);
 * ```
 */
export async function run(
  args: readonly string[],
  terminal: Terminal,
  options: { transport?: IdleTransport; transportName?: string; rows?: PostgresRows } = {},
): Promise<number> {
  const unknown = args.filter((a) => !(MODES as readonly string[]).includes(a));
  if (unknown.length > 0 || args.length > 1) {
    const why = unknown.length > 0 ? `unknown option ${unknown.join(', ')}` : `pass one option at a time`;
    terminal.err(`network example: ${why}.\n\n${HELP}`);
    return 2;
  }
  const mode = args[0] as Mode | undefined;
  if (mode === '--help' || mode === '-h') {
    terminal.out(HELP);
    return 0;
  }
  const json = mode === '--json';
  const print = createPrinter({ json, color: terminal.color && !json, write: terminal.out });
  await using app = await createNetworkApp({
    output: mode === undefined || json ? print : undefined,
    transport: options.transport,
    rows: options.rows,
  });
  if (mode === '--graph') {
    terminal.out(toMermaid(app.registry));
    return 0;
  }
  if (mode === '--subscriptions') {
    terminal.out(formatSubscriptions(app.registry));
    return 0;
  }
  if (!json) {
    terminal.out(
      'Herald network example: Neutron callbacks in a small Inversify application, ' +
        `with its agents and listeners on ${options.transportName ?? 'an in-memory transport'}.`,
    );
    if (options.rows) terminal.out(`Rows and outbox in PostgreSQL, schema ${options.rows.schema}.`);
    const bridged = app.registry.subscriptions().length - app.boot.subscriptions.length;
    terminal.out(
      `${app.boot.subscriptions.length} subscriptions made at boot, ${bridged} by the registry bridge; ` +
        'run with --graph to see them.',
    );
  }
  try {
    await runScenario(app);
    return 0;
  } catch (error) {
    terminal.err(failureLine(error));
    return 1;
  }
}

/**
 * How the command reports a failure: one line, the error's class and message and those of its
 * causes, without a stack trace (what went wrong and what to do is in the message).
 *
 * @example
 * ```ts
 * failureLine(new TransportError('broker unreachable', { cause: refused }));
 * // 'network example failed: TransportError: broker unreachable (cause: Error: connect ECONNREFUSED 127.0.0.1:5672)'
 * ```
 */
export function failureLine(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e !== undefined && parts.length < 5; e = e instanceof Error ? e.cause : undefined) {
    parts.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  }
  const line = `network example failed: ${parts.join(' (cause: ')}${')'.repeat(parts.length - 1)}`;
  return line.replace(/\s*\n\s*/g, ' ');
}
