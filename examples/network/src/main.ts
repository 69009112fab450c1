import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { AmqpTransport } from '@herald/amqp';
import { OsloTransport } from '@herald/oslo';
import { failureLine, run, type Terminal } from './cli.js';
import { PostgresRows } from './model/postgres.js';

// `npm start -- --json | head` closes the pipe early: that is the reader's choice, not a failure.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

const terminal = {
  out: (line: string) => process.stdout.write(`${line}\n`),
  err: (line: string) => process.stderr.write(`${line}\n`),
  color: process.stdout.isTTY === true && !process.env['NO_COLOR'],
};
// A transport or database that cannot start (no broker at HERALD_AMQP_URL…) is one line and exit status 1.
process.exitCode = await Promise.all([chooseTransport(terminal), chooseDatabase()]).then(
  ([transport, database]) => run(process.argv.slice(2), terminal, { ...transport, ...database }),
  (error: unknown) => {
    terminal.err(failureLine(error));
    return 1;
  },
);

/** PostgreSQL when `HERALD_DATABASE_URL` names a database; else the rows stay in memory. */
async function chooseDatabase(): Promise<{ rows?: PostgresRows }> {
  const url = process.env['HERALD_DATABASE_URL'];
  if (url === undefined || url === '') return {};
  return { rows: await PostgresRows.open(url) };
}

/**
 * oslo.messaging's wire format when `HERALD_OSLO_URL` names an OpenStack broker; RabbitMQ when
 * `HERALD_AMQP_URL` names one; else the app's own in-memory transport.
 */
async function chooseTransport(terminal: Terminal): Promise<Parameters<typeof run>[2]> {
  const osloUrl = process.env['HERALD_OSLO_URL'];
  if (osloUrl !== undefined && osloUrl !== '') {
    const controlExchange = process.env['HERALD_OSLO_EXCHANGE'] || 'neutron';
    const transport = await OsloTransport.connect({
      url: osloUrl,
      controlExchange,
      logger: { error: (m) => terminal.err(m), warn: (m) => terminal.err(m) },
    });
    return { transport, transportName: `oslo.messaging's RabbitMQ format (control exchange ${controlExchange})` };
  }
  const url = process.env['HERALD_AMQP_URL'];
  if (url === undefined || url === '') return {};
  // A namespace of its own per run: queues left by an earlier run are not this run's business.
  const namespace = `herald-example-${randomUUID().slice(0, 8)}`;
  const transport = await AmqpTransport.connect({
    url,
    namespace,
    queueExpiresMs: 60_000,
    logger: { error: (m) => terminal.err(m), warn: (m) => terminal.err(m) },
  });
  return { transport, transportName: `RabbitMQ (namespace ${namespace})` };
}
