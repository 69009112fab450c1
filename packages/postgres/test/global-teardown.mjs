// Jest globalTeardown of the @herald/postgres project: deletes the vhost global-setup.mjs made and
// stops the cluster and the broker node it started, if it started them (a server or broker it
// found is left running).
export default async function globalTeardown() {
  const vhost = globalThis.heraldPostgresVhost;
  delete globalThis.heraldPostgresVhost;
  if (vhost) await vhost.delete().catch((error) => console.warn(`[@herald/postgres] ${error.message}`));
  const broker = globalThis.heraldPostgresBroker;
  delete globalThis.heraldPostgresBroker;
  if (broker?.started) await broker.stop();
  const server = globalThis.heraldPostgres;
  delete globalThis.heraldPostgres;
  if (server?.started) await server.stop();
}
