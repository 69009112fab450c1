// A process of the crash tests (outbox.crash.test.ts), on the built package. Its parent kills it
// with SIGKILL. Messages to the parent go over IPC.
//   node outbox.child.mjs write <url> <schema> <count>   commits <count> entries, one transaction each,
//       then leaves one more transaction open and reports { committed }
//   node outbox.child.mjs relay <url> <schema> <options>  relays into the `sink` table (the "broker"):
//       options { batchSize, hangAfter, downMs, retryInitialMs } as JSON; reports { ready }, and
//       { hung } once `hangAfter` publishes were made and the next publishes never complete
import { OutboxRelay } from '@herald/messaging';
import pg from 'pg';
import { PostgresOutboxStore, withTransaction } from '../dist/index.js';

const [mode, url, schema, arg] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: url, max: 6 });
pool.on('error', () => undefined);
const send = (message) => process.send?.(message);
// A pending timer keeps the process alive until the parent kills it.
const forever = () => new Promise(() => setTimeout(forever, 2 ** 31 - 1));

function entry(n) {
  return { target: { topic: 'notifications.info' }, message: { id: `w${n}`, body: { n } } };
}

async function write(count) {
  const store = new PostgresOutboxStore(pool, { schema });
  for (let n = 0; n < count; n++) await withTransaction(pool, (tx) => store.add(tx, entry(n)));
  const open = await pool.connect();
  await open.query('BEGIN');
  await store.add(open, entry('uncommitted'));
  send({ committed: count });
  await forever();
}

async function relay({ batchSize = 100, hangAfter, downMs = 0, retryInitialMs = 500 }) {
  const store = new PostgresOutboxStore(pool, { schema, retryInitialMs, retryMaxMs: retryInitialMs * 4 });
  const upAt = Date.now() + downMs;
  const published = [];
  const sink = {
    publish: async (_target, message) => {
      if (Date.now() < upAt) throw new Error('broker unreachable');
      if (hangAfter !== undefined && published.length >= hangAfter) {
        // The broker has the first ones; the relay will never hear back about the rest.
        await Promise.all(published);
        send({ hung: published.length });
        return forever();
      }
      const insert = pool.query(`INSERT INTO "${schema}".sink (id, relay) VALUES ($1, $2)`, [message.id, process.pid]);
      published.push(insert);
      await insert;
    },
    consume: () => Promise.reject(new Error('publish only')),
    request: () => Promise.reject(new Error('publish only')),
    close: async () => undefined,
  };
  new OutboxRelay(sink, store, { batchSize, intervalMs: 100 }).start();
  send({ ready: true });
  await forever();
}

if (mode === 'write') await write(Number(arg));
else if (mode === 'relay') await relay(JSON.parse(arg));
else throw new Error(`unknown mode ${mode}`);
