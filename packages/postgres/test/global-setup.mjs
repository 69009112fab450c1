// Jest globalSetup of the @herald/postgres project: a PostgreSQL server for the tests
// (scripts/postgres.mjs: $HERALD_TEST_DATABASE_URL, else 127.0.0.1:5432, else a throwaway cluster
// stopped by global-teardown.mjs), and a RabbitMQ broker for the test of the durable bridge fed
// from the outbox (scripts/rabbitmq.mjs: $HERALD_AMQP_URL, set by the user or by the @herald/amqp
// project's setup when both run, else the broker on 127.0.0.1:5672 in a vhost of this run's own,
// else a throwaway node). The test files get their URLs in process.env.HERALD_TEST_DATABASE_URL
// (each makes a schema of its own in it) and HERALD_POSTGRES_AMQP_URL. The crash tests run the
// built package in child processes, so it is built here. Without a server the tests that need it
// are skipped with a notice, except under CI=true, where this fails the run.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { obtainDatabase } from '../../../scripts/postgres.mjs';
import { createTestVhost, obtainBroker } from '../../../scripts/rabbitmq.mjs';

const root = new URL('../../..', import.meta.url).pathname;
const log = (line) => console.log(`[@herald/postgres] ${line}`);

function unavailable(what, install, error) {
  if (process.env.CI === 'true') {
    throw new Error(`@herald/postgres: CI=true and no ${what}: ${error.message}\n${install}`, { cause: error });
  }
  console.warn(
    `[@herald/postgres] ${what} tests skipped: ${error.message.split('\n')[0]} (${install}; CI=true makes this an error)`,
  );
}

async function obtainAmqp() {
  try {
    const broker = await obtainBroker({ log });
    globalThis.heraldPostgresBroker = broker;
    process.env.HERALD_POSTGRES_AMQP_URL = broker.url;
    if (broker.source !== 'listening') return;
    // A broker other work shares: the test's queues go in a vhost of this run's own, deleted at
    // the end (else they stay on "/" until they expire: the test declares them with an expiry).
    try {
      const vhost = await createTestVhost(broker.url);
      globalThis.heraldPostgresVhost = vhost;
      process.env.HERALD_POSTGRES_AMQP_URL = vhost.url;
    } catch (error) {
      log(`no vhost of this run's own (${error.message.split('\n')[0]}): the test's queues expire on "/"`);
    }
  } catch (error) {
    delete process.env.HERALD_POSTGRES_AMQP_URL;
    unavailable(
      'RabbitMQ broker (outbox to durable bridge)',
      'install rabbitmq-server (apt-get install -y --no-install-recommends rabbitmq-server, as .ci/run does) or set HERALD_AMQP_URL',
      error,
    );
  }
}

export default async function globalSetup() {
  const build = spawnSync(join(root, 'node_modules', '.bin', 'tsc'), ['-b', 'packages/postgres'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`@herald/postgres: tsc -b packages/postgres failed:\n${build.stdout}`);
  try {
    const server = await obtainDatabase({ log });
    process.env.HERALD_TEST_DATABASE_URL = server.url;
    globalThis.heraldPostgres = server;
  } catch (error) {
    delete process.env.HERALD_TEST_DATABASE_URL;
    unavailable(
      'PostgreSQL server (database)',
      'install postgresql (apt-get install -y --no-install-recommends postgresql, as .ci/run does) or set HERALD_TEST_DATABASE_URL',
      error,
    );
    return; // without a database, the broker would serve no test
  }
  await obtainAmqp();
}
