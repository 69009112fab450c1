// What `node scripts/rabbitmq.mjs start|node` and `node scripts/postgres.mjs start` share: keep a
// server this process started until Ctrl-C (or SIGTERM), then stop it.

/** Keeps the process alive until SIGINT or SIGTERM, then awaits `stop()`. */
export async function holdUntilSignal(log, stop) {
  log('Ctrl-C stops it');
  const keepAlive = setTimeout(() => undefined, 2 ** 31 - 1); // the server's own handles are unref'd
  await new Promise((resolve) => ['SIGINT', 'SIGTERM'].forEach((name) => process.once(name, resolve)));
  clearTimeout(keepAlive);
  await stop();
}
