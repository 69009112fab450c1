#!/usr/bin/env node
// A throwaway RabbitMQ node on 127.0.0.1:5672 for tests and CI: started from the Debian package's
// `rabbitmq-server` in a fresh temp dir (no systemd), stopped by PID, its temp dir removed. Used by
// `packages/amqp/test/global-setup.mjs`; as a CLI:
//   node scripts/rabbitmq.mjs check   start a node (or find one), handshake, stop it, print timings
//   node scripts/rabbitmq.mjs start   start a node and keep it until Ctrl-C
// `HERALD_RABBITMQ_SERVER` overrides where the `rabbitmq-server` script is.
import { spawn } from 'node:child_process';
import {
  accessSync,
  constants,
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
} from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const DEFAULT_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
export const HOST = '127.0.0.1';
export const AMQP_PORT = 5672;
export const EPMD_PORT = 4369;
export const DIST_PORT = 25672;
export const DEFAULT_URL = `amqp://guest:guest@${HOST}:${AMQP_PORT}`;
/** The started node's name (`rabbitmqctl -n`; its cookie is in `$HOME/.erlang.cookie`, HOME = its dir). */
export const NODE_NAME = 'rabbit@localhost';

const root = new URL('..', import.meta.url).pathname;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** No broker could be had (none listening, `rabbitmq-server` not installed, or it failed to start). */
export class BrokerUnavailableError extends Error {
  name = 'BrokerUnavailableError';
}

/** Where the `rabbitmq-server` script is: `$HERALD_RABBITMQ_SERVER`, else the Debian package's. */
export function serverPath(env = process.env) {
  return env.HERALD_RABBITMQ_SERVER || DEFAULT_SERVER;
}

/** Whether `path` is an executable file. */
export function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether something accepts TCP connections on `host:port`. */
export function isListening(port, host = HOST, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const done = (result) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

let amqplib;
/** amqplib, from the root `node_modules` or else from `@herald/amqp`'s. */
async function loadAmqplib() {
  if (!amqplib) {
    try {
      amqplib = await import('amqplib');
    } catch {
      const require = createRequire(join(root, 'packages', 'amqp', 'package.json'));
      amqplib = await import(pathToFileURL(require.resolve('amqplib')).href);
    }
  }
  return amqplib.default ?? amqplib;
}

/** Opens and closes one AMQP connection to `url`; rejects when the handshake fails. */
export async function handshake(url = DEFAULT_URL, timeoutMs = 5000) {
  const { connect } = await loadAmqplib();
  const connection = await connect(url, { timeout: timeoutMs });
  connection.on('error', () => undefined);
  await connection.close();
}

/** Retries `handshake(url)` until it succeeds; rejects with the last error after `timeoutMs`. */
export async function waitForHandshake(url = DEFAULT_URL, timeoutMs = 30_000, isDead = () => false) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await handshake(url, Math.min(5000, Math.max(500, deadline - Date.now())));
    } catch (error) {
      if (isDead() || Date.now() >= deadline) throw error;
      await sleep(250);
    }
  }
}

// ---- processes, without stopping anything by name ----------------------------------------------

/** `{ state, ppid, pgid }` of a process from /proc, or undefined when it is gone. */
function procStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid, pgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state, ppid: Number(ppid), pgid: Number(pgid) };
  } catch {
    return undefined;
  }
}

/** Whether `pid` runs (a zombie counts as gone: a container's PID 1 may never reap it). */
export function isAlive(pid) {
  if (existsSync('/proc/self/stat')) {
    const stat = procStat(pid);
    return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function allPids() {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

/** `pid`, its process group's members and all their descendants (erl_child_setup has a session of its own). */
function processTree(pid) {
  const stats = new Map(allPids().map((p) => [p, procStat(p)]));
  const tree = new Set([pid]);
  for (const [p, stat] of stats) if (stat?.pgid === pid) tree.add(p);
  for (let grown = true; grown;) {
    grown = false;
    for (const [p, stat] of stats) {
      if (stat && !tree.has(p) && tree.has(stat.ppid)) {
        tree.add(p);
        grown = true;
      }
    }
  }
  return [...tree];
}

function signal(pid, name, group = false) {
  try {
    process.kill(group ? -pid : pid, name);
  } catch {
    // already gone
  }
}

async function waitGone(pids, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}

/** SIGTERM, wait up to `timeoutMs`, then SIGKILL. Resolves whether SIGTERM sufficed. */
async function terminate(pids, timeoutMs, group) {
  if (group !== undefined) signal(group, 'SIGTERM', true);
  for (const pid of pids) signal(pid, 'SIGTERM');
  if (await waitGone(pids, timeoutMs)) return true;
  if (group !== undefined) signal(group, 'SIGKILL', true);
  for (const pid of pids.filter(isAlive)) signal(pid, 'SIGKILL');
  await waitGone(pids, 5000);
  return false;
}

/** PIDs of the processes holding a TCP socket that listens on `port` (from /proc/net/tcp{,6}). */
export function listenerPids(port) {
  const inodes = new Set();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      // no IPv6, or no /proc
    }
    for (const line of text.trim().split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const localPort = parseInt(fields[1].split(':').pop(), 16);
      if (localPort === port && fields[3] === '0A') inodes.add(`socket:[${fields[9]}]`);
    }
  }
  if (inodes.size === 0) return [];
  return allPids().filter((pid) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => {
        try {
          return inodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`));
        } catch {
          return false;
        }
      });
    } catch {
      return false;
    }
  });
}

/** Whether `pid` is an epmd that inherited our node's environment (so the node in `dir` started it). */
function isOurEpmd(pid, dir) {
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    return comm === 'epmd' && env.includes(`RABBITMQ_MNESIA_BASE=${join(dir, 'mnesia')}`);
  } catch {
    return false;
  }
}

function tail(path, lines = 30) {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return undefined;
  }
}

function logTail(dir, node = NODE_NAME) {
  const parts = [
    [join(dir, 'server.out'), 'rabbitmq-server output'],
    [join(dir, 'log', `${node}.log`), `${node}.log`],
  ]
    .map(([path, label]) => [label, tail(path)])
    .filter(([, text]) => text)
    .map(([label, text]) => `--- ${label} (tail) ---\n${text}`);
  return parts.length > 0 ? parts.join('\n') : '(no log written)';
}

// ---- the broker --------------------------------------------------------------------------------

/** Free TCP ports of 127.0.0.1, as many as asked (each one is free when checked). */
async function freePorts(count) {
  const { createServer } = await import('node:net');
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, HOST, () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => server.address().port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/**
 * A RabbitMQ broker on 127.0.0.1:5672: the one already listening there (left running), else a
 * throwaway node started from `rabbitmq-server` in a fresh temp dir. Resolves once an AMQP
 * handshake succeeded, to `{ url, started, pid, dir, node, timings, stop() }`; `stop()` stops only a node
 * this call started (its process group, then the epmd it started) and removes its temp dir.
 * With `privatePorts: true`, always a throwaway node of its own, on random free AMQP, distribution
 * and epmd ports (`ERL_EPMD_PORT`) with a node name of its own: beside any other broker.
 * Rejects with `BrokerUnavailableError` when no broker can be had (the log tail in the message).
 */
export async function startBroker({
  log = () => undefined,
  server = serverPath(),
  startTimeoutMs = 60_000,
  handshakeTimeoutMs = 30_000,
  stopTimeoutMs = 30_000,
  privatePorts = false,
} = {}) {
  const begun = Date.now();
  const [AMQP_PORT, DIST_PORT, EPMD_PORT] = privatePorts ? await freePorts(3) : [5672, 25672, 4369];
  const NODE_NAME = privatePorts ? `rabbit-${AMQP_PORT}@localhost` : 'rabbit@localhost';
  const url = `amqp://guest:guest@${HOST}:${AMQP_PORT}`;
  if (!privatePorts && (await isListening(AMQP_PORT))) {
    log(`something listens on ${HOST}:${AMQP_PORT}: using it, not stopping it`);
    try {
      await waitForHandshake(url, handshakeTimeoutMs);
    } catch (error) {
      throw new BrokerUnavailableError(
        `${HOST}:${AMQP_PORT} is in use but accepts no AMQP connection as guest (${error.message})`,
      );
    }
    const readyMs = Date.now() - begun;
    return { url, started: false, timings: { readyMs }, stop: async () => undefined };
  }
  if (!isExecutable(server)) {
    throw new BrokerUnavailableError(`nothing listens on ${HOST}:${AMQP_PORT} and ${server} is not installed`);
  }

  const epmdWasListening = await isListening(EPMD_PORT);
  const dir = await mkdtemp(join(tmpdir(), 'herald-rabbitmq-'));
  await writeFile(
    join(dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.default = ${HOST}:${AMQP_PORT}`,
      `distribution.listener.interface = ${HOST}`,
      `distribution.listener.port_range.min = ${DIST_PORT}`,
      `distribution.listener.port_range.max = ${DIST_PORT}`,
      '',
    ].join('\n'),
  );
  await writeFile(join(dir, 'enabled_plugins'), '[].\n');
  const out = openSync(join(dir, 'server.out'), 'a');
  const child = spawn(server, [], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      HOME: dir,
      RABBITMQ_NODENAME: NODE_NAME,
      RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_CONF_ENV_FILE: '/dev/null',
      ERL_EPMD_ADDRESS: HOST,
      ...(privatePorts && {
        ERL_EPMD_PORT: String(EPMD_PORT),
        RABBITMQ_NODE_PORT: String(AMQP_PORT),
        RABBITMQ_DIST_PORT: String(DIST_PORT),
      }),
    },
  });
  closeSync(out);
  child.unref();
  let exited;
  child.once('exit', (code, sig) => (exited = sig ?? `exit code ${code}`));
  const spawnFailed = new Promise((resolve) => child.once('error', resolve));
  // A safety net when this process exits without stop(): SIGKILL the node, remove its dir (its epmd stays).
  const onExit = () => {
    signal(child.pid, 'SIGKILL', true);
    for (const pid of processTree(child.pid)) signal(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  log(`starting ${server} (pid ${child.pid}) in ${dir}`);

  let stopped;
  const stop = () =>
    (stopped ??= (async () => {
      const begunStop = Date.now();
      process.removeListener('exit', onExit);
      if (exited) {
        log(`node (pid ${child.pid}) had exited (${exited})`);
        await terminate(processTree(child.pid), 5000, child.pid);
      } else {
        const graceful = await terminate(processTree(child.pid), stopTimeoutMs, child.pid);
        log(`node (pid ${child.pid}) ${graceful ? 'stopped' : 'killed after SIGTERM timed out'}`);
      }
      if (!epmdWasListening) {
        for (const pid of listenerPids(EPMD_PORT)) {
          if (isOurEpmd(pid, dir)) {
            await terminate([pid], 5000);
            log(`epmd (pid ${pid}) stopped`);
          } else {
            log(`left epmd-port listener pid ${pid} alone: not started by this node`);
          }
        }
      }
      await rm(dir, { recursive: true, force: true });
      const stopMs = Date.now() - begunStop;
      broker.timings.stopMs = stopMs;
      log(`stopped in ${seconds(stopMs)}`);
    })());

  const broker = { url, started: true, pid: child.pid, dir, node: NODE_NAME, timings: {}, stop };
  const fail = async (reason) => {
    const logs = logTail(dir, NODE_NAME);
    await stop();
    return new BrokerUnavailableError(`RabbitMQ (${server}) did not start: ${reason}\n${logs}`);
  };

  const portDeadline = Date.now() + startTimeoutMs;
  for (;;) {
    const error = await Promise.race([spawnFailed, sleep(200)]);
    if (error) throw await fail(error.message);
    if (exited) throw await fail(`it exited (${exited})`);
    if (await isListening(AMQP_PORT)) break;
    if (Date.now() >= portDeadline) throw await fail(`port ${AMQP_PORT} not open after ${seconds(startTimeoutMs)}`);
  }
  broker.timings.portMs = Date.now() - begun;
  try {
    await waitForHandshake(url, handshakeTimeoutMs, () => exited !== undefined);
  } catch (error) {
    throw await fail(`no AMQP handshake within ${seconds(handshakeTimeoutMs)} after the port opened: ${error.message}`);
  }
  broker.timings.readyMs = Date.now() - begun;
  log(
    `ready on ${HOST}:${AMQP_PORT}: port open after ${seconds(broker.timings.portMs)}, AMQP after ${seconds(broker.timings.readyMs)}`,
  );
  return broker;
}

/**
 * The broker for the tests: `$HERALD_AMQP_URL` when set (used as is), else `startBroker()`.
 * Same result and errors as `startBroker`, plus `source`: `'env'`, `'listening'` or `'started'`.
 */
export async function obtainBroker({ env = process.env, ...options } = {}) {
  if (env.HERALD_AMQP_URL) {
    // Checked here, once: a wrong URL would otherwise cost every test its connect timeout.
    try {
      await waitForHandshake(env.HERALD_AMQP_URL, 10_000);
    } catch (error) {
      throw new BrokerUnavailableError(
        `HERALD_AMQP_URL (${env.HERALD_AMQP_URL.replace(/:[^:@/]*@/, ':***@')}) accepts no AMQP connection: ${error.message}`,
      );
    }
    return { url: env.HERALD_AMQP_URL, started: false, source: 'env', timings: {}, stop: async () => undefined };
  }
  const broker = await startBroker({ server: serverPath(env), ...options });
  return { ...broker, source: broker.started ? 'started' : 'listening' };
}

// ---- CLI ---------------------------------------------------------------------------------------

async function cli(command) {
  const log = (line) => console.log(`[rabbitmq] ${line}`);
  if (command === 'check') {
    const broker = await startBroker({ log });
    const begun = Date.now();
    await handshake(broker.url);
    log(`handshake on ${broker.url.replace(/:[^:@/]*@/, ':***@')} ok in ${seconds(Date.now() - begun)}`);
    await broker.stop();
    if (broker.started) {
      const listeners = (port) => listenerPids(port).join(', ') || 'none';
      const left = processTree(broker.pid).filter(isAlive).join(', ') || 'none';
      log(
        `after stop: pids on ${AMQP_PORT}: ${listeners(AMQP_PORT)}; on ${EPMD_PORT}: ${listeners(EPMD_PORT)}; node processes left: ${left}`,
      );
    }
    const t = broker.timings;
    console.log(
      `started: ${broker.started}, port open: ${t.portMs ?? '-'} ms, AMQP ready: ${t.readyMs} ms, stop: ${t.stopMs ?? '-'} ms`,
    );
  } else if (command === 'start') {
    const broker = await startBroker({ log });
    console.log(broker.url);
    if (!broker.started) return;
    log('Ctrl-C stops it');
    const keepAlive = setTimeout(() => undefined, 2 ** 31 - 1); // the node's handle is unref'd
    await new Promise((resolve) => ['SIGINT', 'SIGTERM'].forEach((name) => process.once(name, resolve)));
    clearTimeout(keepAlive);
    await broker.stop();
  } else {
    console.error('usage: node scripts/rabbitmq.mjs check|start');
    process.exitCode = 2;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  cli(process.argv[2]).catch((error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
