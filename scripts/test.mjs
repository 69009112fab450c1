#!/usr/bin/env node
// `npm test`: type-check (build, then every package's tests and type tests), lint, run every Jest
// project, and print one last line `N passed, N failed[, N skipped]` that counts Jest's tests plus
// one check per static step. Exits non-zero when anything failed. `--static` stops before Jest
// (`npm run typecheck`).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { typeTestPrograms } from './typetests.mjs';

const root = new URL('..', import.meta.url).pathname;
const bin = (name) => join(root, 'node_modules', '.bin', name);
const results = join(root, '.jest-results.json');

let passed = 0;
let failed = 0;
let skipped = 0;

/**
 * The exit code of a check that could not run here and said why (e.g. no registry access). Only
 * for checks that declare it (`{ maySkip: true }`): other tools exit non-zero for their own reasons
 * (TypeDoc exits 3 on warnings), and those are failures.
 */
const SKIPPED = 3;

function step(label, command, args, { env = {}, maySkip = false } = {}) {
  console.log(`\n▶ ${label}`);
  const started = Date.now();
  const run = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  const outcome = run.status === 0 ? 'passed' : maySkip && run.status === SKIPPED ? 'skipped' : 'failed';
  const mark = { passed: '✔', skipped: '○ skipped:', failed: '✘' }[outcome];
  console.log(`${mark} ${label} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return outcome;
}

function check(label, command, args, options) {
  const outcome = step(label, command, args, options);
  if (outcome === 'passed') passed++;
  else if (outcome === 'skipped') skipped++;
  else failed++;
}

const script = (name, ...args) => [process.execPath, [join(root, 'scripts', name), ...args]];

const workspaces = ['packages', 'examples'].flatMap((dir) =>
  existsSync(join(root, dir)) ? readdirSync(join(root, dir)).map((name) => join(dir, name)) : [],
);
const testProjects = workspaces.filter((dir) => existsSync(join(root, dir, 'tsconfig.test.json')));
const programs = typeTestPrograms();

check('type-check: build (tsc -b)', bin('tsc'), ['-b']);
for (const project of testProjects) {
  check(`type-check: ${project} sources and tests`, bin('tsc'), ['-p', join(project, 'tsconfig.test.json')]);
}
// Type tests are programs of their own (`declare module` augmentations are global to a program):
// every `<package>/typetest/` must compile; each of its folders holds declarations that must not,
// with the errors expected (scripts/typetests.mjs). The consumer test runs them again with
// TypeScript 6 and 7 on the packed packages.
for (const { dir, expectsErrors } of programs) {
  if (expectsErrors)
    check(`type tests: ${dir} (expected errors)`, process.execPath, [join(root, 'scripts/expected-errors.mjs'), dir]);
  else check(`type tests: ${dir}`, bin('tsc'), ['-p', join(dir, 'tsconfig.json')]);
}
// Instantiation counts are exact: a call site's cost must stay within budget and not grow with the
// number of declared resources (bench/src/types/budget.ts; built by `tsc -b` above).
check('type cost: instantiations per call site', process.execPath, [join(root, 'bench/dist/types/budget.js')]);
check('docs: every TypeScript block of the README and docs compiles', ...script('check-docs.mjs'));
check('packages: LICENSE, publint and attw on each packed tarball', ...script('check-packages.mjs'));
check('API reference builds without warnings (TypeDoc: every export has a summary and an example)', bin('typedoc'), [
  '--logLevel',
  'Warn',
]);
check(
  'API reports current (packages/*/etc/*.api.md; `npm run api` rewrites them)',
  ...script('api-report.mjs', '--check'),
);
check('lint (eslint)', bin('eslint'), ['.']);
check('format (prettier --check)', bin('prettier'), ['--check', '--log-level', 'warn', '.']);

if (process.argv.includes('--static')) {
  console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(failed > 0 ? 1 : 0);
}

// Needs the npm registry; skipped with a notice without it (not under CI=true).
check(
  'consumer test: the packed packages in a new application and the type tests on them (TypeScript 6 and 7)',
  ...script('consumer-test.mjs'),
  { maySkip: true },
);

rmSync(results, { force: true });
const jestOk =
  'passed' ===
  step('jest', bin('jest'), ['--json', `--outputFile=${results}`], {
    env: { NODE_OPTIONS: '--experimental-vm-modules --disable-warning=ExperimentalWarning' },
  });
if (existsSync(results)) {
  const report = JSON.parse(readFileSync(results, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
  // A suite that failed to load has no failed tests of its own: count it once.
  failed += report.testResults.filter(
    (s) => s.status === 'failed' && s.assertionResults.every((a) => a.status !== 'failed'),
  ).length;
  if (!jestOk && report.numFailedTests === 0 && report.numRuntimeErrorTestSuites === 0) failed++;
} else {
  failed++;
}

console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
