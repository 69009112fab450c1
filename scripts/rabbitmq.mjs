#!/usr/bin/env node
// Throwaway RabbitMQ nodes for tests and CI (on 127.0.0.1:5672, or on free ports): started from the Debian package's
// `rabbitmq-server` in a fresh temp dir (no systemd), stopped by PID, its temp dir removed. Used by
// `packages/amqp/test/global-setup.mjs`; as a CLI:
//   node scripts/rabbitmq.mjs check   start a node on free ports, handshake, stop it, print timings
//   node scripts/rabbitmq.mjs start   start a node (or find one on 5672) and keep it until Ctrl-C
//   node scripts/rabbitmq.mjs node    start a node of its own on free ports, print its URL, keep it until Ctrl-C
// `startNode` starts nodes on chosen (or free) ports with their own name, dist port and epmd
// (`ERL_EPMD_PORT`), for tests that restart or kill their broker (packages/amqp/test/own-broker.ts).
// `rabbitmqctlEnv(broker)` and `runRabbitmqctl(args)` run rabbitmqctl from another process (a Jest
// worker) against whichever broker a setup obtained: a node of its own or the system's.
// `HERALD_RABBITMQ_SERVER` overrides where the `rabbitmq-server` script is.
import { execFile, spawn } from 'node:child_process';
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
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { holdUntilSignal } from './hold.mjs';

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

function logTail(dir, nodeName) {
  const parts = [
    [join(dir, 'server.out'), 'rabbitmq-server output'],
    [join(dir, 'log', `${nodeName}.log`), `${nodeName}.log`],
  ]
    .map(([path, label]) => [label, tail(path)])
    .filter(([, text]) => text)
    .map(([label, text]) => `--- ${label} (tail) ---\n${text}`);
  return parts.length > 0 ? parts.join('\n') : '(no log written)';
}

// ---- rabbitmqctl -------------------------------------------------------------------------------

/**
 * What rabbitmqctl needs to reach a node started here: its HOME (which holds the node's Erlang
 * cookie) and the port of its epmd (a node on free ports registers with an epmd of its own, which
 * rabbitmqctl finds only through `ERL_EPMD_PORT`), on top of `base`.
 */
function nodeEnv(home, epmdPort, base = process.env) {
  return {
    ...base,
    HOME: home,
    RABBITMQ_CONF_ENV_FILE: '/dev/null',
    ERL_EPMD_ADDRESS: HOST,
    ERL_EPMD_PORT: String(epmdPort),
  };
}

function execRabbitmqctl(ctl, args, env, timeoutMs) {
  return new Promise((resolve, reject) =>
    execFile(ctl, args, { env, timeout: timeoutMs }, (error, stdout, stderr) =>
      error ? reject(new Error(`rabbitmqctl ${args.join(' ')}: ${stderr || error.message}`)) : resolve(stdout),
    ),
  );
}

/**
 * The environment variables that let another process (a Jest worker, a child process) run
 * rabbitmqctl against `broker` (from {@link startBroker}, {@link obtainBroker} or
 * {@link startNode}) with {@link runRabbitmqctl}: for a node started here, its name, dir and epmd
 * port (`HERALD_RABBITMQ_NODE`, `HERALD_RABBITMQ_HOME`, `HERALD_RABBITMQ_EPMD_PORT`); for a broker
 * found running, the same keys empty (the system's node, reached by the PATH's rabbitmqctl).
 */
export function rabbitmqctlEnv(broker) {
  const own = broker.started === true;
  return {
    HERALD_RABBITMQ_NODE: own ? broker.node : '',
    HERALD_RABBITMQ_HOME: own ? broker.dir : '',
    HERALD_RABBITMQ_EPMD_PORT: own ? String(broker.ports.epmd) : '',
  };
}

/**
 * Runs rabbitmqctl with `args` against the broker that `env` names ({@link rabbitmqctlEnv}'s
 * variables): a node started here is reached with the `rabbitmqctl` next to `rabbitmq-server`, as
 * this user, with the node's HOME and epmd port; without those variables, the PATH's rabbitmqctl
 * reaches the system's broker (Debian's runs as the rabbitmq user, with its cookie). Resolves to
 * its output; rejects with its error output.
 */
export function runRabbitmqctl(args, { env = process.env, timeoutMs = 60_000 } = {}) {
  const { HERALD_RABBITMQ_NODE: node, HERALD_RABBITMQ_HOME: home, HERALD_RABBITMQ_EPMD_PORT: epmdPort } = env;
  if (!node) return execRabbitmqctl('rabbitmqctl', args, env, timeoutMs);
  if (!home || !epmdPort) {
    return Promise.reject(
      new Error(`HERALD_RABBITMQ_NODE (${node}) needs HERALD_RABBITMQ_HOME and HERALD_RABBITMQ_EPMD_PORT too`),
    );
  }
  const ctl = join(serverPath(env), '..', 'rabbitmqctl');
  return execRabbitmqctl(ctl, ['-n', node, ...args], nodeEnv(home, epmdPort, env), timeoutMs);
}

// ---- the broker --------------------------------------------------------------------------------

/** A TCP port nothing listens on now (the kernel's choice; free until someone takes it). */
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

/**
 * Starts a RabbitMQ node of its own: on `amqpPort`, its Erlang distribution on `distPort`, with an
 * epmd of its own on `epmdPort` (`ERL_EPMD_PORT`), named `nodeName`, in `dir` (a fresh temp dir
 * unless given: a node started again in the same dir keeps its durable queues and messages).
 * Ports left out are chosen free. `config` lines are added to its `rabbitmq.conf`. Resolves once
 * an AMQP handshake succeeded, to `{ url, started: true, pid, dir, node, ports, env, timings,
 * rabbitmqctl(...args), kill(), restart(), stop() }`: `kill()` SIGKILLs the node (as `kill -9`),
 * `restart()` starts it again in its dir, `stop()` stops it and its epmd by PID and removes its
 * dir. Nothing is ever stopped by name. Rejects with `BrokerUnavailableError` (with the log tail).
 */
export async function startNode({
  amqpPort,
  distPort,
  epmdPort,
  nodeName = `herald-${process.pid}-${Math.random().toString(36).slice(2, 8)}@localhost`,
  dir,
  config = [],
  log = () => undefined,
  server = serverPath(),
  startTimeoutMs = 60_000,
  handshakeTimeoutMs = 30_000,
  stopTimeoutMs = 30_000,
} = {}) {
  if (!isExecutable(server)) throw new BrokerUnavailableError(`${server} is not installed`);
  const ports = {
    amqp: amqpPort ?? (await freePort()),
    dist: distPort ?? (await freePort()),
    epmd: epmdPort ?? (await freePort()),
  };
  const epmdWasListening = await isListening(ports.epmd);
  const home = dir ?? (await mkdtemp(join(tmpdir(), 'herald-rabbitmq-')));
  await writeFile(
    join(home, 'rabbitmq.conf'),
    [
      `listeners.tcp.default = ${HOST}:${ports.amqp}`,
      `distribution.listener.interface = ${HOST}`,
      `distribution.listener.port_range.min = ${ports.dist}`,
      `distribution.listener.port_range.max = ${ports.dist}`,
      ...config,
      '',
    ].join('\n'),
  );
  await writeFile(join(home, 'enabled_plugins'), '[].\n');
  // What both the node and rabbitmqctl need to find each other (HOME holds the Erlang cookie).
  const env = {
    ...nodeEnv(home, ports.epmd),
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_CONFIG_FILE: join(home, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(home, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(home, 'mnesia'),
    RABBITMQ_LOG_BASE: join(home, 'log'),
    // The node checks these before it reads its config: without them it expects AMQP port + 20000.
    RABBITMQ_NODE_PORT: String(ports.amqp),
    RABBITMQ_DIST_PORT: String(ports.dist),
  };
  const url = `amqp://guest:guest@${HOST}:${ports.amqp}`;
  const node = { url, started: true, pid: undefined, dir: home, node: nodeName, ports, env, timings: {} };
  let child;
  let exited;
  // A safety net when this process exits without stop(): SIGKILL the node, remove its dir.
  const onExit = () => {
    if (child) {
      signal(child.pid, 'SIGKILL', true);
      for (const pid of processTree(child.pid)) signal(pid, 'SIGKILL');
    }
    for (const pid of ourEpmds(ports.epmd, home)) signal(pid, 'SIGKILL');
    rmSync(home, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const launch = async () => {
    const begun = Date.now();
    const out = openSync(join(home, 'server.out'), 'a');
    // A quorum queue holds a few file handles, and RabbitMQ refuses new connections once its
    // handle cache is full: with the usual limit of 1,024 descriptors, a few hundred queues wedge
    // the node. The node gets as many descriptors as this machine allows (the shell `exec`s it, so
    // its pid stays the child's).
    child = spawn('/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0"', server], {
      cwd: home,
      detached: true,
      stdio: ['ignore', out, out],
      env,
    });
    closeSync(out);
    child.unref();
    exited = undefined;
    const launched = child;
    launched.once('exit', (code, sig) => {
      if (child === launched) exited = sig ?? `exit code ${code}`;
    });
    const spawnFailed = new Promise((resolve) => launched.once('error', resolve));
    node.pid = launched.pid;
    log(`starting ${server} as ${nodeName} (pid ${launched.pid}, AMQP port ${ports.amqp}) in ${home}`);
    const fail = async (reason) => {
      const logs = logTail(home, nodeName);
      await stop();
      return new BrokerUnavailableError(`RabbitMQ (${server}) did not start: ${reason}\n${logs}`);
    };
    const portDeadline = Date.now() + startTimeoutMs;
    for (;;) {
      const error = await Promise.race([spawnFailed, sleep(200)]);
      if (error) throw await fail(error.message);
      if (exited) throw await fail(`it exited (${exited})`);
      if (await isListening(ports.amqp)) break;
      if (Date.now() >= portDeadline) throw await fail(`port ${ports.amqp} not open after ${seconds(startTimeoutMs)}`);
    }
    node.timings.portMs = Date.now() - begun;
    try {
      await waitForHandshake(url, handshakeTimeoutMs, () => exited !== undefined);
    } catch (error) {
      throw await fail(
        `no AMQP handshake within ${seconds(handshakeTimeoutMs)} after the port opened: ${error.message}`,
      );
    }
    node.timings.readyMs = Date.now() - begun;
    log(
      `ready on ${HOST}:${ports.amqp}: port open after ${seconds(node.timings.portMs)}, AMQP after ${seconds(node.timings.readyMs)}`,
    );
  };

  /** SIGKILLs the node's processes (its epmd stays, as after a crash). */
  const kill = async () => {
    const tree = processTree(child.pid);
    signal(child.pid, 'SIGKILL', true);
    for (const pid of tree) signal(pid, 'SIGKILL');
    await waitGone(tree, 10_000);
    log(`node (pid ${child.pid}) killed`);
  };

  let stopped;
  const stop = () =>
    (stopped ??= (async () => {
      const begunStop = Date.now();
      process.removeListener('exit', onExit);
      if (child) {
        if (exited) await terminate(processTree(child.pid), 5000, child.pid);
        else {
          const graceful = await terminate(processTree(child.pid), stopTimeoutMs, child.pid);
          log(`node (pid ${child.pid}) ${graceful ? 'stopped' : 'killed after SIGTERM timed out'}`);
        }
      }
      if (!epmdWasListening) {
        for (const pid of ourEpmds(ports.epmd, home)) {
          await terminate([pid], 5000);
          log(`epmd (pid ${pid}) stopped`);
        }
      }
      await rm(home, { recursive: true, force: true });
      node.timings.stopMs = Date.now() - begunStop;
      log(`stopped in ${seconds(node.timings.stopMs)}`);
    })());

  /** Runs rabbitmqctl against this node; resolves to its output. */
  const rabbitmqctl = (...args) => execRabbitmqctl(join(server, '..', 'rabbitmqctl'), ['-n', nodeName, ...args], env);

  Object.assign(node, { kill, restart: launch, stop, rabbitmqctl });
  await launch();
  return node;
}

/** The epmd processes listening on `port` that a node in `dir` started. */
function ourEpmds(port, dir) {
  return listenerPids(port).filter((pid) => isOurEpmd(pid, dir));
}

/**
 * A RabbitMQ broker on 127.0.0.1:5672: the one already listening there (left running), else a
 * throwaway node started by {@link startNode} on the default ports. Resolves once an AMQP
 * handshake succeeded, to `{ url, started, pid, dir, node, timings, stop() }`; `stop()` stops only
 * a node this call started. Rejects with `BrokerUnavailableError` when no broker can be had.
 */
export async function startBroker({
  log = () => undefined,
  server = serverPath(),
  privatePorts = false,
  ...options
} = {}) {
  const begun = Date.now();
  const url = DEFAULT_URL;
  if (privatePorts) {
    if (!isExecutable(server)) throw new BrokerUnavailableError(`${server} is not installed`);
    return startNode({ ...options, log, server });
  }
  if (await isListening(AMQP_PORT)) {
    log(`something listens on ${HOST}:${AMQP_PORT}: using it, not stopping it`);
    try {
      await waitForHandshake(url, options.handshakeTimeoutMs ?? 15_000);
      const readyMs = Date.now() - begun;
      return { url, started: false, timings: { readyMs }, stop: async () => undefined };
    } catch (error) {
      // A wedged broker (it takes connections but never answers) must not fail every test that
      // needs one: a node of our own, on free ports, serves instead when it can be started.
      if (!isExecutable(server)) {
        throw new BrokerUnavailableError(
          `${HOST}:${AMQP_PORT} is in use but accepts no AMQP connection as guest (${error.message})`,
        );
      }
      log(`${HOST}:${AMQP_PORT} accepts no AMQP connection (${error.message}): starting a node of our own`);
      return startNode({ ...options, log, server });
    }
  }
  if (!isExecutable(server)) {
    throw new BrokerUnavailableError(`nothing listens on ${HOST}:${AMQP_PORT} and ${server} is not installed`);
  }
  return startNode({
    ...options,
    log,
    server,
    amqpPort: AMQP_PORT,
    distPort: DIST_PORT,
    epmdPort: EPMD_PORT,
    nodeName: NODE_NAME,
  });
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

/**
 * A vhost of this test run's own on a broker it shares (`herald-test-<random>`), so that the
 * queues a run declares (durable dead-letter queues among them) go with the vhost when
 * `delete()` removes it: a shared broker that keeps every run's queues runs out of file handles
 * and stops answering. Made with {@link runRabbitmqctl} (`env`: the system's broker unless it
 * names a node, {@link rabbitmqctlEnv}); rejects when it cannot, and the caller then uses the
 * broker as it is.
 */
export async function createTestVhost(url, { env = process.env, timeoutMs = 60_000 } = {}) {
  const run = (...args) => runRabbitmqctl(args, { env, timeoutMs });
  const name = `herald-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const user = decodeURIComponent(new URL(url).username || 'guest');
  await run('add_vhost', name);
  try {
    await run('set_permissions', '-p', name, user, '.*', '.*', '.*');
  } catch (error) {
    await run('delete_vhost', name).catch(() => undefined);
    throw error;
  }
  return { name, url: `${url.replace(/\/+$/, '')}/${name}`, delete: () => run('delete_vhost', name) };
}

// ---- CLI ---------------------------------------------------------------------------------------

async function cli(command) {
  const log = (line) => console.log(`[rabbitmq] ${line}`);
  if (command === 'check') {
    // A node of its own on free ports: works whether or not a broker already listens on 5672.
    const broker = await startNode({ log });
    const begun = Date.now();
    await handshake(broker.url);
    log(`handshake on ${broker.url.replace(/:[^:@/]*@/, ':***@')} ok in ${seconds(Date.now() - begun)}`);
    await broker.stop();
    if (broker.started) {
      const listeners = (port) => listenerPids(port).join(', ') || 'none';
      const left = processTree(broker.pid).filter(isAlive).join(', ') || 'none';
      const { amqp, epmd } = broker.ports;
      log(
        `after stop: pids on ${amqp}: ${listeners(amqp)}; on ${epmd}: ${listeners(epmd)}; node processes left: ${left}`,
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
    await holdUntilSignal(log, broker.stop);
  } else if (command === 'node') {
    // A node of its own on free ports, whatever listens on 5672 (point HERALD_AMQP_URL at it).
    const node = await startNode({ log });
    console.log(node.url);
    await holdUntilSignal(log, node.stop);
  } else {
    console.error('usage: node scripts/rabbitmq.mjs check|start|node');
    process.exitCode = 2;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  cli(process.argv[2]).catch((error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
