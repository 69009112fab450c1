// Jest globalSetup of the @herald/amqp project: a RabbitMQ broker for the tests that need one.
// `$HERALD_AMQP_URL` when set, else a broker listening on 127.0.0.1:5672, else a throwaway node
// started from `rabbitmq-server` (stopped by global-teardown.mjs). The test files get the URL in
// `process.env.HERALD_AMQP_URL` (workers inherit the environment); tests that restart or kill their
// broker start one of their own instead (own-broker.ts). Without a broker the broker tests are skipped with a notice, except under
// CI=true, where this fails the run.
import { obtainBroker } from '../../../scripts/rabbitmq.mjs';

export default async function globalSetup() {
  const log = (line) => console.log(`[@herald/amqp] ${line}`);
  try {
    const broker = await obtainBroker({ log });
    process.env.HERALD_AMQP_URL = broker.url;
    globalThis.heraldAmqpBroker = broker;
    if (broker.source === 'env') log('using the broker in HERALD_AMQP_URL');
  } catch (error) {
    // A URL that accepts no connection must not reach the tests: they skip instead.
    delete process.env.HERALD_AMQP_URL;
    if (process.env.CI === 'true') {
      throw new Error(
        `@herald/amqp: CI=true and no RabbitMQ broker: ${error.message}\n` +
          'Install it (apt-get install -y --no-install-recommends rabbitmq-server, as .ci/run does), ' +
          'or point HERALD_AMQP_URL at a broker.',
        { cause: error },
      );
    }
    const [reason, ...details] = error.message.split('\n');
    if (details.length > 0) console.warn(details.join('\n'));
    console.warn(
      `[@herald/amqp] broker tests skipped: ${reason} (install rabbitmq-server or set HERALD_AMQP_URL; CI=true makes this an error)`,
    );
  }
}
