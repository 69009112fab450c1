#!/usr/bin/env node
// Type tests whose point is the compiler's message, not only that there is one (the `// error`
// comments described in scripts/typetests.mjs). Used by `npm test` for every
// `<package>/typetest/<folder>/tsconfig.json`, with the workspace's TypeScript; the consumer test
// runs the same check with TypeScript 6 and 7 on the packed packages.
// Usage: node scripts/expected-errors.mjs [--tsc <path to bin/tsc>] <folder with tsconfig.json>…
import { join } from 'node:path';
import { checkProgram, workspaceTsc } from './typetests.mjs';

const args = process.argv.slice(2);
let tsc = workspaceTsc;
if (args[0] === '--tsc') [, tsc] = args.splice(0, 2);
let failed = false;
for (const dir of args) {
  const { ok, report } = checkProgram(join(dir, 'tsconfig.json'), { tsc, expectsErrors: true });
  console.log(report.join('\n'));
  failed ||= !ok;
}
process.exit(failed ? 1 : 0);
