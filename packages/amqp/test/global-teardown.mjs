// Jest globalTeardown of the @herald/amqp project: stops the RabbitMQ node global-setup.mjs
// started, if it started one (a broker it found is left running).
export default async function globalTeardown() {
  const broker = globalThis.heraldAmqpBroker;
  delete globalThis.heraldAmqpBroker;
  if (broker?.started) await broker.stop();
}
