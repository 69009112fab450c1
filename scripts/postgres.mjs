#!/usr/bin/env node
// A PostgreSQL server for tests and benchmarks: `$HERALD_TEST_DATABASE_URL` when set, else the one
// listening on 127.0.0.1:5432, else a throwaway cluster made with Debian's binaries
// (/usr/lib/postgresql/<version>/bin: initdb, postgres) in a fresh temp dir on a random free port,
// stopped by PID and removed. Used by `packages/postgres/test/global-setup.mjs`; as a CLI:
//   node scripts/postgres.mjs check   find or start a server, connect, stop it, print timings
//   node scripts/postgres.mjs start   start a throwaway cluster and keep it until Ctrl-C
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { holdUntilSignal } from './hold.mjs';
import { isAlive, isExecutable, isListening } from './rabbitmq.mjs';

export const HOST = '127.0.0.1';
export const DEFAULT_PORT = 5432;
export const DEFAULT_URL = `postgres://postgres@${HOST}:${DEFAULT_PORT}/postgres`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** No server could be had (none listening, the binaries not installed, or the cluster failed to start). */
export class DatabaseUnavailableError extends Error {
  name = 'DatabaseUnavailableError';
}

/** The newest `/usr/lib/postgresql/<version>/bin` that has `initdb` and `postgres`, or undefined. */
export function binDir(root = '/usr/lib/postgresql') {
  if (!existsSync(root)) return undefined;
  return readdirSync(root)
    .filter((version) => /^\d+$/.test(version))
    .sort((a, b) => Number(b) - Number(a))
    .map((version) => join(root, version, 'bin'))
    .find((dir) => isExecutable(join(dir, 'initdb')) && isExecutable(join(dir, 'postgres')));
}

/** A TCP port nobody listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

let pg;
/** One connection to `url`, opened and closed; rejects when that fails. */
export async function ping(url, timeoutMs = 5000) {
  pg ??= (await import('pg')).default;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** uid and gid of the `postgres` account (initdb and postgres refuse to run as root). */
function postgresAccount() {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('postgres:'));
    if (!line) return undefined;
    const [, , uid, gid] = line.split(':');
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

/**
 * A throwaway cluster: initdb in a fresh temp dir (trust auth, user `postgres`), `postgres` on a
 * random free port of 127.0.0.1. Resolves to `{ url, pid, dir, port, started: true, stop() }` once
 * it accepts connections; `stop()` ends it by PID (SIGINT: fast shutdown) and removes its dir.
 */
export async function startCluster({ log = () => undefined, bin = binDir(), startTimeoutMs = 60_000 } = {}) {
  if (bin === undefined) {
    throw new DatabaseUnavailableError('the PostgreSQL server binaries (/usr/lib/postgresql/*/bin) are not installed');
  }
  const asUser = process.getuid?.() === 0 ? postgresAccount() : undefined;
  if (process.getuid?.() === 0 && asUser === undefined) {
    throw new DatabaseUnavailableError('running as root and there is no postgres account to run initdb as');
  }
  const begun = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'herald-postgres-'));
  const data = join(dir, 'data');
  if (asUser) chownSync(dir, asUser.uid, asUser.gid);
  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'],
    {
      ...asUser,
      encoding: 'utf8',
    },
  );
  if (init.status !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new DatabaseUnavailableError(`initdb failed: ${init.stderr || init.error?.message}`);
  }
  const port = await freePort();
  const out = openSync(join(dir, 'server.log'), 'a');
  if (asUser) chownSync(join(dir, 'server.log'), asUser.uid, asUser.gid);
  const child = spawn(
    join(bin, 'postgres'),
    ['-D', data, '-p', String(port), '-k', dir, '-c', `listen_addresses=${HOST}`, '-c', 'fsync=off'],
    { ...asUser, detached: true, stdio: ['ignore', out, out] },
  );
  closeSync(out);
  child.unref();
  let exited;
  child.once('exit', (code, sig) => (exited = sig ?? `exit code ${code}`));
  child.once('error', (error) => (exited = error.message));
  const onExit = () => {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  const url = `postgres://postgres@${HOST}:${port}/postgres`;
  let stopped;
  const stop = () =>
    (stopped ??= (async () => {
      process.removeListener('exit', onExit);
      try {
        process.kill(child.pid, 'SIGINT');
      } catch {
        // already gone
      }
      for (let waited = 0; isAlive(child.pid) && waited < 30_000; waited += 100) await sleep(100);
      if (isAlive(child.pid)) process.kill(child.pid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
      log(`cluster (pid ${child.pid}) stopped`);
    })());
  for (;;) {
    if (exited) {
      const logText = readFileSync(join(dir, 'server.log'), 'utf8');
      await stop();
      throw new DatabaseUnavailableError(`postgres exited (${exited}):\n${logText}`);
    }
    try {
      await ping(url, 1000);
      break;
    } catch (error) {
      if (Date.now() - begun > startTimeoutMs) {
        await stop();
        throw new DatabaseUnavailableError(`postgres did not accept connections in time: ${error.message}`);
      }
      await sleep(200);
    }
  }
  log(`started a cluster on ${HOST}:${port} (pid ${child.pid}) in ${dir}, ready after ${Date.now() - begun} ms`);
  return { url, pid: child.pid, dir, port, started: true, stop };
}

/**
 * The server for the tests: `$HERALD_TEST_DATABASE_URL` when set (checked once), else the one on
 * 127.0.0.1:5432, else `startCluster()`. Resolves to `{ url, started, source, stop() }`;
 * `source` is `'env'`, `'listening'` or `'started'`. Rejects with `DatabaseUnavailableError`.
 */
export async function obtainDatabase({ env = process.env, log = () => undefined } = {}) {
  const given = env.HERALD_TEST_DATABASE_URL;
  if (given) {
    try {
      await ping(given, 10_000);
    } catch (error) {
      throw new DatabaseUnavailableError(`HERALD_TEST_DATABASE_URL accepts no connection: ${error.message}`);
    }
    return { url: given, started: false, source: 'env', stop: async () => undefined };
  }
  if (await isListening(DEFAULT_PORT)) {
    try {
      await ping(DEFAULT_URL, 10_000);
      log(`using the server on ${HOST}:${DEFAULT_PORT}`);
      return { url: DEFAULT_URL, started: false, source: 'listening', stop: async () => undefined };
    } catch (error) {
      log(`${HOST}:${DEFAULT_PORT} answers but refuses ${DEFAULT_URL} (${error.message}): starting a cluster`);
    }
  }
  const cluster = await startCluster({ log });
  return { ...cluster, source: 'started' };
}

async function cli(command) {
  const log = (line) => console.log(`[postgres] ${line}`);
  if (command === 'check') {
    const begun = Date.now();
    const server = await obtainDatabase({ log });
    await ping(server.url);
    log(`connected to ${server.url} (${server.source}) in ${Date.now() - begun} ms`);
    await server.stop();
  } else if (command === 'start') {
    const cluster = await startCluster({ log });
    console.log(cluster.url);
    await holdUntilSignal(log, cluster.stop);
  } else {
    console.error('usage: node scripts/postgres.mjs check|start');
    process.exitCode = 2;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  cli(process.argv[2]).catch((error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
