// Jest globalTeardown of the @herald/amqp project: stops the RabbitMQ node global-setup.mjs
// started, if it started one (a broker it found is left running), and the run's vhost on a broker
// it found.
export default async function globalTeardown() {
  const vhost = globalThis.heraldAmqpVhost;
  delete globalThis.heraldAmqpVhost;
  if (vhost) await vhost.delete().catch((error) => console.warn(`[@herald/amqp] ${error.message}`));
  const broker = globalThis.heraldAmqpBroker;
  delete globalThis.heraldAmqpBroker;
  if (broker?.started) await broker.stop();
}
