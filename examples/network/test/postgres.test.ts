/**
 * The example with its rows in PostgreSQL (`HERALD_DATABASE_URL=… npm start`). It runs when a
 * server is known: `npm test` has one, since the @herald/postgres project's global setup obtains
 * it and sets HERALD_TEST_DATABASE_URL for every test worker; alone, this project skips it.
 */
import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { CallbackFailure, PRECOMMIT_CREATE, ROUTER } from '@herald/core';
import { createNetworkApp } from '../src/app.js';
import { run, type Terminal } from '../src/cli.js';
import { RequestContext } from '../src/model/context.js';
import { PostgresRows } from '../src/model/postgres.js';
import { runScenario } from '../src/scenario.js';

const url = process.env.HERALD_TEST_DATABASE_URL;
const describeWithDatabase = url === undefined ? describe.skip : describe;

/** Runs the script; returns its lines without timings and request ids. */
async function script(options: Parameters<typeof run>[2] = {}): Promise<string[]> {
  const lines: string[] = [];
  const terminal: Terminal = { out: (l) => void lines.push(l), err: (l) => void lines.push(`ERR ${l}`), color: false };
  expect(await run([], terminal, options)).toBe(0);
  return lines.map((l) => l.replace(/took [\d.]+ ms, at \+[\d.]+ ms/, '').replace(/\(req-\d+\)/, ''));
}

describeWithDatabase('the network example on PostgreSQL', () => {
  it('tells the same story as in memory, the bridged events going through the outbox', async () => {
    const rows = await PostgresRows.open(url!);
    const onDatabase = await script({ rows });
    const inMemory = await script();
    const peers = (lines: string[]) => lines.filter((l) => /^ {3}(rpc|notify|bridge) /.test(l)).sort();
    expect(onDatabase.filter((l) => l.startsWith('ERR'))).toEqual([]);
    expect(peers(onDatabase)).toEqual(peers(inMemory));
    expect(onDatabase.filter((l) => l.includes('OutboxForwarder.after_'))).toHaveLength(4);
    expect(onDatabase.at(-1)).toBe(inMemory.at(-1));
  });

  it('keeps the resources as rows, committed with the outbox entries of their events', async () => {
    const rows = await PostgresRows.open(url!);
    await using app = await createNetworkApp({ rows });
    await runScenario(app);
    // The story ends with one network and one subnet left.
    expect(await rows.count()).toEqual({ network: 1, subnet: 1, port: 0, router: 0 });
    expect(await rows.outbox.pendingCount()).toBe(0);
  });

  it('rolls back the rows and the outbox entry when a precommit subscriber vetoes', async () => {
    const rows = await PostgresRows.open(url!);
    await using app = await createNetworkApp({ rows });
    app.registry.subscribe(
      () => {
        throw new Error('quota exceeded');
      },
      ROUTER,
      PRECOMMIT_CREATE,
    );
    await expect(app.api.create(RequestContext.admin(), 'router', { name: 'r' })).rejects.toBeInstanceOf(
      CallbackFailure,
    );
    expect(await rows.count()).toEqual({ network: 0, subnet: 0, port: 0, router: 0 });
    expect(await rows.outbox.pendingCount()).toBe(0);
    expect(app.db.routers.list()).toEqual([]);
  });
});
