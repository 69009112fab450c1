// Jest globalTeardown of the @herald/postgres project: stops the cluster global-setup.mjs started,
// if it started one (a server it found is left running).
export default async function globalTeardown() {
  const server = globalThis.heraldPostgres;
  delete globalThis.heraldPostgres;
  if (server?.started) await server.stop();
}
