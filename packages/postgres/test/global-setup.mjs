// Jest globalSetup of the @herald/postgres project: a PostgreSQL server for the tests
// (scripts/postgres.mjs: $HERALD_TEST_DATABASE_URL, else 127.0.0.1:5432, else a throwaway cluster
// stopped by global-teardown.mjs). The test files get its URL in process.env.HERALD_TEST_DATABASE_URL
// and make a schema of their own in it. The crash tests run the built package in child processes,
// so it is built here. Without a server the tests are skipped with a notice, except under
// CI=true, where this fails the run.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { obtainDatabase } from '../../../scripts/postgres.mjs';

const root = new URL('../../..', import.meta.url).pathname;

export default async function globalSetup() {
  const log = (line) => console.log(`[@herald/postgres] ${line}`);
  const build = spawnSync(join(root, 'node_modules', '.bin', 'tsc'), ['-b', 'packages/postgres'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`@herald/postgres: tsc -b packages/postgres failed:\n${build.stdout}`);
  try {
    const server = await obtainDatabase({ log });
    process.env.HERALD_TEST_DATABASE_URL = server.url;
    globalThis.heraldPostgres = server;
  } catch (error) {
    delete process.env.HERALD_TEST_DATABASE_URL;
    if (process.env.CI === 'true') {
      throw new Error(
        `@herald/postgres: CI=true and no PostgreSQL server: ${error.message}\n` +
          'Install it (apt-get install -y --no-install-recommends postgresql, as .ci/run does), ' +
          'or point HERALD_TEST_DATABASE_URL at a server.',
        { cause: error },
      );
    }
    console.warn(
      `[@herald/postgres] database tests skipped: ${error.message.split('\n')[0]} ` +
        '(install postgresql or set HERALD_TEST_DATABASE_URL; CI=true makes this an error)',
    );
  }
}
