import { beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { STEADY_ROUNDS } from '../src/callers.js';

// Where code generation is refused (a CSP, `--disallow-code-generation-from-strings`), the registry
// keeps its semantics: it generates no code. This runs the built package (`tsc -b` runs before Jest
// in `npm test`; a bare `jest` builds it first) in a child process with the flag.
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const root = fileURLToPath(new URL('../../..', import.meta.url));
/** Past the rounds after which a steady list is compiled (or, refused, falls back to the loop). */
const ROUNDS = STEADY_ROUNDS + 50;

beforeAll(() => {
  if (!existsSync(dist))
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-b', 'packages/core'], { cwd: root });
}, 120_000);

const script = `
const ROUNDS = ${ROUNDS};
const { CallbackRegistry, CallbackFailure, DBEventPayload } = await import(${JSON.stringify(dist)});
let codegen = 'allowed';
try { new Function('return 1'); } catch { codegen = 'refused'; }
const calls = [];
const registry = new CallbackRegistry({ logger: { error() {} } });
const owner = { name: 'svc', seen(p, n) { calls.push(this.name + ':' + n.event); } };
registry.subscribe(() => calls.push('first'), 'router', 'before_create', 1);
registry.subscribe(() => { throw new Error('no'); }, 'router', 'before_create', { priority: 2, id: 'veto' });
registry.subscribe(owner.seen, 'router', 'before_create', { priority: 3, owner });
registry.subscribe(owner.seen, 'router', 'abort_create', { owner });
const outcomes = [];
for (let i = 0; i < ROUNDS; i++) {
  try { registry.notifySync('router', 'before_create', 't', new DBEventPayload(undefined)); outcomes.push('ok'); }
  catch (e) { outcomes.push(e instanceof CallbackFailure ? e.errors.map((x) => x.callbackId).join() : String(e)); }
}
const awaited = [];
const later = new CallbackRegistry({ logger: { error() {} } });
later.subscribe(async () => { awaited.push('a'); await null; awaited.push('a:end'); }, 'router', 'after_create');
later.subscribe(() => { awaited.push('b'); throw new Error('b'); }, 'router', 'after_create');
later.subscribe(async () => { awaited.push('c'); }, 'router', 'after_create');
for (let i = 0; i < ROUNDS; i++) await later.notify('router', 'after_create', 't');
console.log(JSON.stringify({ codegen, calls: calls.slice(0, 4), count: calls.length, outcomes: [...new Set(outcomes)], awaited: awaited.slice(0, 4), awaitedCount: awaited.length }));
`;

interface Outcome {
  codegen: string;
  calls: string[];
  count: number;
  outcomes: string[];
  awaited: string[];
  awaitedCount: number;
}

function run(flags: string[]): Outcome {
  const out = execFileSync(process.execPath, [...flags, '--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out) as Outcome;
}

describe.each([
  ['allowed', []],
  ['refused', ['--disallow-code-generation-from-strings']],
])('with code generation %s', (codegen, flags) => {
  it('keeps order, this, veto and abort over many rounds', () => {
    const result = run(flags);
    expect(result.codegen).toBe(codegen);
    expect(result.calls).toEqual(['first', 'svc:before_create', 'svc:abort_create', 'first']);
    expect(result.count).toBe(ROUNDS * 3);
    expect(result.outcomes).toEqual(['veto']);
  });

  it('awaits each callback in turn and goes on after a failure, over many rounds', () => {
    const result = run(flags);
    expect(result.awaited).toEqual(['a', 'a:end', 'b', 'c']);
    expect(result.awaitedCount).toBe(ROUNDS * 4);
  });
});
