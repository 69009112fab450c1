/**
 * `herald`: the command line of `@herald/amqp`, for operators.
 *
 * ```sh
 * npx herald dead-letters list   --url amqp://user:pass@rabbit:5672 [--namespace herald]
 * npx herald dead-letters replay --url … [--id <message id>]   # one, or all of them
 * npx herald dead-letters purge  --url …
 * ```
 *
 * `--url` defaults to `$HERALD_AMQP_URL`, then to the local broker as guest. `bin.ts` runs it.
 * @module
 */

import { parseArgs } from 'node:util';
import { errorText } from '@herald/core';
import { describeTarget } from '@herald/messaging';
import { AmqpTransport } from './amqp.transport.js';

const USAGE = `usage: herald dead-letters list|replay|purge [--url amqp://…] [--namespace herald] [--id <message id>]

  list     print the dead letters: id, target, group, attempts, error
  replay   send them back to the queue they failed in (all, or --id one)
  purge    drop them all`;

/**
 * Runs the command line `argv` (without `node` and the script); resolves to the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await main(['dead-letters', 'list', '--url', 'amqp://guest:guest@127.0.0.1:5672']);
 * ```
 */
export async function main(
  argv: readonly string[],
  out: (line: string) => void = (line) => console.log(line),
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { url: { type: 'string' }, namespace: { type: 'string' }, id: { type: 'string' } },
    });
  } catch (error) {
    out(`${errorText(error)}\n${USAGE}`);
    return 2;
  }
  const [subject, action] = parsed.positionals;
  if (subject !== 'dead-letters' || !['list', 'replay', 'purge'].includes(action ?? '')) {
    out(USAGE);
    return 2;
  }
  const { url = process.env.HERALD_AMQP_URL, namespace, id } = parsed.values;
  let transport: AmqpTransport | undefined;
  try {
    transport = await AmqpTransport.connect({ url, namespace, connectionName: 'herald cli' });
    if (action === 'list') {
      const letters = await transport.deadLetters();
      for (const { delivery, target, group, error } of letters) {
        const where = `${describeTarget(target)}${group === undefined ? '' : ` (group ${group})`}`;
        out(`${delivery.id}\t${where}\tattempt ${delivery.attempt}\t${error}`);
      }
      out(`${letters.length} dead letter(s) in ${transport.deadLetterQueue}`);
    } else if (action === 'replay') {
      const replayed = await transport.replayDeadLetters(id === undefined ? {} : { id });
      out(`${replayed} dead letter(s) replayed`);
    } else {
      out(`${await transport.purgeDeadLetters()} dead letter(s) purged`);
    }
    return 0;
  } catch (error) {
    out(`herald: ${errorText(error)}`);
    return 1;
  } finally {
    await transport?.close();
  }
}
