#!/usr/bin/env node
/**
 * The planted-bug run: `node scripts/mutants.mjs [--only 3,7]` plants each of the realistic
 * one-line bugs below in the registry's modules or in the Inversify loader, one at a time, runs
 * the tests that guard that code, restores the file, and reports which bugs a test caught. It
 * exits non-zero if any bug survived, or if the tests fail before any bug is planted. It changes
 * the sources while it runs (each file is restored, also on Ctrl-C): run it in a clean worktree,
 * not while editing. Results are recorded in docs/testing-notes.md.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const CORE = 'packages/core/test';
const INVERSIFY = 'packages/inversify/test';

/** Each bug: where (`file`), the one line's text before and after, and what it breaks. */
const bugs = [
  {
    file: 'packages/core/src/subscriptions.ts',
    from: 'while (at > 0 && list[at - 1]!.priority > registration.priority) at--;',
    to: 'while (at > 0 && list[at - 1]!.priority >= registration.priority) at--;',
    breaks: 'rule 2: a new subscription goes before the others of its priority',
  },
  {
    file: 'packages/core/src/subscriptions.ts',
    from: 'if (at === list.length - 1) list.pop();',
    to: 'if (at >= list.length - 2) list.pop();',
    breaks: 'unsubscribing the last but one takes out the last',
  },
  {
    file: 'packages/core/src/subscriptions.ts',
    from: 'let at = list.length - 1;',
    to: 'let at = list.length - 2;',
    breaks: 'the latest subscription of a list cannot be taken out',
  },
  {
    file: 'packages/core/src/subscriptions.ts',
    from: '    this.taken = true;\n    this.rounds++;',
    to: '    this.rounds++;',
    breaks: "rule 4: a round's list is changed in place by a subscribe during it",
  },
  {
    file: 'packages/core/src/subscriptions.ts',
    from: 'const list = this.#changeable();\n    let at = list.length;',
    to: 'const list = this.#changeable().slice();\n    let at = list.length;',
    breaks: 'a subscription made after a round is not called by later rounds',
  },
  {
    file: 'packages/core/src/subscriptions.ts',
    from: 'const list = this.#changeable();\n    let at = list.length - 1;',
    to: 'const list = this.#changeable().slice();\n    let at = list.length - 1;',
    breaks: 'an unsubscribed callback is still called by later rounds',
  },
  {
    file: 'packages/core/src/subscriptions.ts',
    from: 'if (topic.registrations.length === 0) this.#forget(topic);',
    to: 'if (topic.registrations.length === 1) this.#forget(topic);',
    breaks: 'a topic with one subscription left is dropped from the index',
  },
  {
    file: 'packages/core/src/subscriptions.ts',
    from: 'if (events.size === 0) this.#topics.delete(topic.resource);',
    to: 'if (events.size < 0) this.#topics.delete(topic.resource);',
    breaks: 'rule 12: every resource name that came and went is kept',
  },
  {
    file: 'packages/core/src/subscriptions.ts',
    from: 'held[at] = held[held.length - 1]!;',
    to: 'held[at + 1] = held[held.length - 1]!;',
    breaks: "rule 1: a callback's other subscription is forgotten by its index",
  },
  {
    file: 'packages/core/src/subscriptions.ts',
    from: '    if (registration.terms.id !== undefined) this.#ids.delete(registration.terms.id);',
    to: '',
    breaks: 'a custom id stays taken after its subscription is gone',
  },
  {
    file: 'packages/core/src/subscriptions.ts',
    from: '    if (registration.owner !== undefined) this.#handles.get(registration)!.release();\n  }',
    to: '  }',
    breaks: 'rule 12: a kept handle keeps its owner after unsubscribe',
  },
  {
    file: 'packages/core/src/subscriptions.ts',
    from: 'return registration.owner === owner && topic.event === event && topic.resource === resource;',
    to: 'return topic.event === event && topic.resource === resource;',
    breaks: 'rule 1: two owners of one method are one subscription',
  },
  {
    file: 'packages/core/src/subscriptions.ts',
    from: 'const moves = registration.priority !== terms.priority;',
    to: 'const moves = false;',
    breaks: 'rule 1: subscribing again at another priority does not move the subscription',
  },
  {
    file: 'packages/core/src/round.ts',
    from: 'if (errors !== undefined && abortOf === undefined && event.startsWith(BEFORE))\n      this.sync(',
    to: 'if (errors !== undefined && abortOf === undefined && isCancellableEvent(event))\n      this.sync(',
    breaks: 'rule 7: a failed precommit_ event runs an abort round',
  },
  {
    file: 'packages/core/src/round.ts',
    from: '(isCancellableEvent(event) || errors.some((e) => e.cancellable));',
    to: '(isCancellableEvent(event) || errors.every((e) => e.cancellable));',
    breaks: 'rule 8: a cancellable failure next to an ordinary one is swallowed',
  },
  {
    file: 'packages/core/src/round.ts',
    from: 'if (isCancellableEvent(event) || e.cancellable)',
    to: 'if (isCancellableEvent(event))',
    breaks: "a cancellable subscription's failure is logged at error, unlike Neutron",
  },
  {
    file: 'packages/core/src/round.ts',
    from: 'if (result !== undefined && isPromiseLike(result)) await result; // any other value is ignored',
    to: 'if (result !== undefined && isPromiseLike(result)) void result; // any other value is ignored',
    breaks: "rule 5: notify calls the next callback before a callback's promise settles",
  },
  {
    file: 'packages/core/src/round.ts',
    from: '    if (errors === undefined && started === undefined) return RESOLVED;',
    to: '    if (started === undefined) return RESOLVED;',
    breaks: 'rule 6: notify loses the veto of a synchronous callback',
  },
  {
    file: 'packages/core/src/round.ts',
    from: 'return Boolean(isRetriable(e.error)); // a truthy answer',
    to: 'return isRetriable(e.error) === true; // a truthy answer',
    breaks: 'rule 9: a truthy answer of isRetriable that is not true is no retry',
  },
  {
    file: 'packages/core/src/checks.ts',
    from: 'if (payload !== undefined && !(payload instanceof EventPayload))',
    to: 'if (payload != null && !(payload instanceof EventPayload))',
    breaks: 'rule 3: a null payload is accepted',
  },
  {
    file: 'packages/core/src/checks.ts',
    from: 'const plain = priority === PRIORITY_DEFAULT && !cancellable && id === undefined;',
    to: 'const plain = priority === PRIORITY_DEFAULT && !cancellable;',
    breaks: 'a custom id given with the default priority is lost',
  },
  {
    file: 'packages/core/src/registry.ts',
    from: "(typeof logger !== 'object' && typeof logger !== 'function')",
    to: "typeof logger !== 'object'",
    breaks: 'a logger that is a function with an error method is refused',
  },
  {
    file: 'packages/core/src/observers.ts',
    from: '        if (isPromiseLike(result)) result.then(undefined, fail);',
    to: '',
    breaks: "rule 12: an async observer's rejection is left unhandled",
  },
  {
    file: 'packages/core/src/subscriptions.ts',
    from: '    this.syncCaller = undefined;\n',
    to: '',
    breaks: "a steady topic's compiled caller outlives a change: notifySync misses it",
  },
  {
    file: 'packages/core/src/callers.ts',
    from: '(i) => `if (result !== undefined) errors = returned(errors, r${i}, result);`',
    to: '(i) => `/* ${i} */`',
    breaks: 'rule 10: a compiled caller ignores a promise returned to notifySync',
  },
  {
    file: 'packages/core/src/callers.ts',
    from: 'return new Pending(${i}, result, errors);',
    to: 'return new Pending(${i + 1}, result, errors);',
    breaks: 'rule 5: after a compiled caller waits, the next callback is skipped',
  },
  {
    file: 'packages/core/src/callers.ts',
    from: 'catch (error) { errors = failed(errors, r${i}, error); }',
    to: 'catch (error) { errors = failed(errors, r${0}, error); }',
    breaks: "rule 5: a compiled caller records every failure as the first subscriber's",
  },
  {
    file: 'packages/core/src/callers.ts',
    from: 'values.push(registration.callback, registration.owner, registration);',
    to: 'values.push(registration.callback, undefined, registration);',
    breaks: 'a compiled caller calls a method without its owner as this',
  },
  {
    file: 'packages/inversify/src/subscribers.loader.ts',
    from: 'return binding.implementationType === undefined || hasHandlers(binding.implementationType);',
    to: 'return binding.implementationType !== undefined && hasHandlers(binding.implementationType);',
    breaks: 'a subscriber bound with toConstantValue or toDynamicValue is not found',
  },
  {
    file: 'packages/inversify/src/subscriber.binding.ts',
    from: "if (typeof subscriber !== 'function' || handlersOf(subscriber).length === 0) {",
    to: "if (typeof subscriber !== 'function') {",
    breaks: 'bindSubscriber accepts a class with no @OnResource method',
  },
  {
    file: 'packages/inversify/src/subscribers.loader.ts',
    from: '(binding.scope === undefined && again?.[index] === instance);',
    to: 'false;',
    breaks: 'a redirection (toService) to a singleton is resolved again for each notification',
  },
  {
    file: 'packages/inversify/src/subscribers.loader.ts',
    from: 'const several = bindings.length > 1;',
    to: 'const several = bindings.length > 2;',
    breaks: 'a token bound to two subscribers cannot be booted',
  },
];

const { values: args } = parseArgs({ options: { only: { type: 'string' } } });
const chosen = args.only === undefined ? bugs.map((_, i) => i + 1) : args.only.split(',').map(Number);

/** The tests that guard `file`: its package's. */
function testsOf(file) {
  return file.startsWith('packages/inversify') ? INVERSIFY : CORE;
}

/** Runs `tests` (a folder); true when they pass. */
function testsPass(tests) {
  const run = spawnSync(process.execPath, ['node_modules/jest/bin/jest.js', '--bail', '--silent', tests], {
    cwd: root,
    encoding: 'utf8',
    env: {
      ...process.env,
      NODE_OPTIONS: '--experimental-vm-modules --disable-warning=ExperimentalWarning',
      CI: '', // no broker or database is needed here; never fail for want of one
    },
  });
  return run.status === 0;
}

let restore;
process.on('SIGINT', () => {
  restore?.();
  process.exit(130);
});

for (const tests of new Set(chosen.map((n) => testsOf(bugs[n - 1].file))))
  if (!testsPass(tests)) {
    console.error(`${tests} fail before any bug is planted: fix them first.`);
    process.exit(2);
  }

const rows = [];
for (const n of chosen) {
  const bug = bugs[n - 1];
  const path = `${root}/${bug.file}`;
  const original = readFileSync(path, 'utf8');
  if (original.split(bug.from).length !== 2)
    throw new Error(`bug ${n}: its line is not found exactly once in ${bug.file}`);
  restore = () => writeFileSync(path, original);
  writeFileSync(path, original.replace(bug.from, bug.to));
  let caught;
  try {
    caught = !testsPass(testsOf(bug.file));
  } finally {
    restore();
    restore = undefined;
  }
  rows.push({ n, file: bug.file.replace(/^packages\//, ''), breaks: bug.breaks, caught });
  console.log(`${String(n).padStart(2)} ${caught ? 'caught  ' : 'SURVIVED'} ${bug.breaks}`);
}
const survived = rows.filter((r) => !r.caught);
console.log(`\n${rows.length - survived.length} of ${rows.length} planted bugs caught.`);
process.exit(survived.length === 0 ? 0 : 1);
