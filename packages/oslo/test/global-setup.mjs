// Jest globalSetup of the @herald/oslo project: a RabbitMQ broker and oslo.messaging (Python) for
// the interoperation tests. The broker is `$HERALD_AMQP_URL` when set, else one listening on
// 127.0.0.1:5672, else a throwaway node (stopped by global-teardown.mjs); oslo.messaging is
// Debian's python3-oslo.messaging under /usr/bin/python3 (or `$HERALD_OSLO_PYTHON`). The tests
// get them in HERALD_OSLO_AMQP_URL and HERALD_OSLO_PYTHON. Without either the interoperation tests
// are skipped with a notice, except under CI=true, where this fails the run.
import { spawnSync } from 'node:child_process';
import { obtainBroker, rabbitmqctlEnv } from '../../../scripts/rabbitmq.mjs';

const log = (line) => console.warn(`[@herald/oslo] ${line}`);
const INSTALL = 'apt-get install -y --no-install-recommends python3-oslo.messaging rabbitmq-server (as .ci/run does)';

function findPython() {
  const python = process.env.HERALD_OSLO_PYTHON ?? '/usr/bin/python3';
  const probe = spawnSync(python, ['-c', 'import oslo_messaging'], { encoding: 'utf8', timeout: 60_000 });
  if (probe.status === 0) return python;
  throw new Error(
    `${python} cannot import oslo_messaging${probe.stderr ? `: ${probe.stderr.trim().split('\n').pop()}` : ''}`,
  );
}

export default async function globalSetup() {
  try {
    const python = findPython();
    // HERALD_AMQP_URL set by @herald/amqp's setup names that suite's own node, which rabbitmqctl
    // (our vhosts) does not reach: only a URL the user gave counts here.
    const env = globalThis.heraldAmqpBroker?.started ? { ...process.env, HERALD_AMQP_URL: '' } : process.env;
    const broker = await obtainBroker({ env, log: () => undefined });
    globalThis.heraldOsloBroker = broker;
    process.env.HERALD_OSLO_PYTHON = python;
    process.env.HERALD_OSLO_AMQP_URL = broker.url;
    // How the tests' rabbitmqctl (their vhosts) reaches this broker: a node started here (on the
    // default ports, or on free ones when 5672 is wedged) by its name, cookie and epmd port.
    Object.assign(process.env, rabbitmqctlEnv(broker));
  } catch (error) {
    delete process.env.HERALD_OSLO_AMQP_URL;
    if (process.env.CI === 'true') {
      throw new Error(`@herald/oslo: CI=true and no oslo.messaging peer: ${error.message}\nInstall: ${INSTALL}.`, {
        cause: error,
      });
    }
    log(
      `oslo.messaging interoperation tests skipped: ${error.message.split('\n')[0]} (install: ${INSTALL}; CI=true makes this an error)`,
    );
  }
}
