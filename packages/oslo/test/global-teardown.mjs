// Jest globalTeardown of the @herald/oslo project: stops the RabbitMQ node global-setup.mjs started, if any.
export default async function globalTeardown() {
  const broker = globalThis.heraldOsloBroker;
  delete globalThis.heraldOsloBroker;
  if (broker?.started) await broker.stop();
}
