// Jest globalSetup of the @herald/amqp project: a RabbitMQ broker for the tests that need one.
// `$HERALD_AMQP_URL` when set; else a throwaway node of the suite's own on free ports when
// `rabbitmq-server` is installed (stopped by global-teardown.mjs); else a broker listening on
// 127.0.0.1:5672, in a vhost of the run's own (deleted by global-teardown.mjs). The test files get
// the URL in `process.env.HERALD_AMQP_URL` (workers inherit the environment); tests that restart or
// kill their broker start one of their own (own-broker.ts). Without a broker the broker tests are
// skipped with a notice, except under CI=true, where this fails the run.
import { createTestVhost, isExecutable, obtainBroker, rabbitmqctlEnv, serverPath } from '../../../scripts/rabbitmq.mjs';

export default async function globalSetup() {
  const log = (line) => console.log(`[@herald/amqp] ${line}`);
  try {
    // The suite declares hundreds of durable quorum queues: on a node of its own (free ports, as
    // many file descriptors as the machine allows, removed at the end) when rabbitmq-server is
    // installed, so that it neither fills nor depends on a shared broker; else the broker found.
    const broker = await obtainBroker({ log, privatePorts: isExecutable(serverPath()) });
    process.env.HERALD_AMQP_URL = broker.url;
    globalThis.heraldAmqpBroker = broker;
    if (broker.source === 'listening') {
      // A broker this run shares: its queues go in a vhost of the run's own, removed at the end.
      try {
        const vhost = await createTestVhost(broker.url, { env: { ...process.env, ...rabbitmqctlEnv(broker) } });
        process.env.HERALD_AMQP_URL = vhost.url;
        globalThis.heraldAmqpVhost = vhost;
        log(`using vhost ${vhost.name} on the broker at ${broker.url.replace(/:[^:@/]*@/, ':***@')}`);
      } catch (error) {
        log(`no vhost of this run's own (${error.message.split('\n')[0]}): queues the tests declare stay on "/"`);
      }
    }
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
