// The type tests: which programs there are, and checking one of them with a given compiler.
// Shared by `npm test` (the workspace's TypeScript, on the sources) and the consumer test
// (TypeScript 6 and 7, on the packed packages), so both run the same programs the same way.
//
// A type-test program is a folder with a tsconfig.json: `<package>/typetest/` (must compile), and
// each `<package>/typetest/<folder>/` (declarations that must not compile; a folder is a program of
// its own because `declare module` augmentations are global to a program).
//
// In any program, the line after a comment `// error TSnnnn: <text>` must have that error, with
// <text> in the first two lines of its message (what an editor shows first); any other error
// fails the check. When compilers disagree on the code, the comment lists the other one per major
// version, `// error TS2345 (TypeScript 7: TS2739): <text>`, and the fixture says why above it.
//
// The compiler is driven through its command line (`tsc -p <folder> --pretty false`) because
// TypeScript 7 (the native compiler) has no compiler API to load in Node; its `file(line,col):
// error TSnnnn: message` lines, with the message's chain indented below, are the same as 6's.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

/** The workspace's own compiler (TypeScript 6). */
export const workspaceTsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

/**
 * Every type-test program of the workspace, as `{ dir, expectsErrors }` (`dir` relative to the
 * repository root): `<workspace>/typetest/` first, then its folders.
 */
export function typeTestPrograms() {
  const workspaces = ['packages', 'examples'].flatMap((dir) =>
    existsSync(join(root, dir)) ? readdirSync(join(root, dir)).map((name) => join(dir, name, 'typetest')) : [],
  );
  return workspaces
    .filter((dir) => existsSync(join(root, dir, 'tsconfig.json')))
    .flatMap((dir) => [
      { dir, expectsErrors: false },
      ...readdirSync(join(root, dir), { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && existsSync(join(root, dir, entry.name, 'tsconfig.json')))
        .map((entry) => ({ dir: join(dir, entry.name), expectsErrors: true })),
    ]);
}

const EXPECT = /^\s*\/\/ error (TS\d+)(?: \((TypeScript \d+: TS\d+(?:, TypeScript \d+: TS\d+)*)\))?: (.*)$/;
const DIAGNOSTIC = /^(.+)\((\d+),(\d+)\): error (TS\d+): (.*)$/;
const GLOBAL_DIAGNOSTIC = /^error (TS\d+): (.*)$/;

const majorVersions = new Map();

/** The major version of the compiler at `tsc` (its bin/tsc script). */
export function compilerMajor(tsc, env = process.env) {
  if (!majorVersions.has(tsc)) {
    const run = spawnSync(process.execPath, [tsc, '--version'], { env, encoding: 'utf8' });
    const match = /Version (\d+)\./.exec(run.stdout ?? '');
    if (match === null) throw new Error(`${tsc} --version did not print a version:\n${run.stdout}${run.stderr}`);
    majorVersions.set(tsc, Number(match[1]));
  }
  return majorVersions.get(tsc);
}

/**
 * Compiles the program of `project` (a tsconfig.json) with the compiler at `tsc` and compares its
 * errors with the `// error` comments of the program's files. Returns `{ ok, report, files }`:
 * `report` has one line per expectation met (✔) or not (✘), one per unexpected error, or
 * "compiles"; `files` lists every file of the program (absolute paths). With `expectsErrors`, a
 * program without any `// error` comment fails (a fixture that lost its expectations would
 * otherwise pass by compiling).
 */
export function checkProgram(
  project,
  { tsc = workspaceTsc, cwd = process.cwd(), env = process.env, expectsErrors = false } = {},
) {
  const major = compilerMajor(tsc, env);
  const run = spawnSync(process.execPath, [tsc, '-p', project, '--noEmit', '--pretty', 'false', '--listFiles'], {
    cwd,
    env,
    encoding: 'utf8',
    timeout: 300_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const shown = (file) => relative(cwd, file) || file;
  const report = [];
  let failures = 0;
  const failure = (line) => {
    failures++;
    report.push(`✘ ${line}`);
  };
  // 0: no errors; 1 or 2: errors reported (2: and files emitted). Anything else is a crash.
  if (run.error || ![0, 1, 2].includes(run.status)) {
    failure(`${shown(project)}: the compiler failed (${run.error ?? `exit ${run.status ?? run.signal}`}):`);
    report.push(`${run.stdout ?? ''}${run.stderr ?? ''}`);
    return { ok: false, report, files: [] };
  }

  const found = new Map(); // "file:line" → [{ code, message }]
  const files = [];
  let last;
  for (const line of run.stdout.split('\n')) {
    if (line === '') continue;
    let m;
    if ((m = DIAGNOSTIC.exec(line))) {
      last = { code: m[4], message: [m[5]] };
      const where = `${resolve(cwd, m[1])}:${m[2]}`;
      found.set(where, [...(found.get(where) ?? []), last]);
    } else if ((m = GLOBAL_DIAGNOSTIC.exec(line))) {
      last = { code: m[1], message: [m[2]] };
      found.set('global', [...(found.get('global') ?? []), last]);
    } else if (line.startsWith(' ') && last !== undefined) {
      last.message.push(line);
    } else if (existsSync(resolve(cwd, line))) {
      files.push(resolve(cwd, line));
    } else {
      // Output this parser does not know (a crash trace, a format change): never read as "compiles".
      failure(`${shown(project)}: unrecognised compiler output: ${line}`);
    }
  }
  if (run.stderr.trim() !== '') failure(`${shown(project)}: the compiler wrote to stderr:\n${run.stderr}`);
  if (run.status === 0 && found.size > 0) failure(`${shown(project)}: errors reported, yet the compiler exited 0`);
  if (run.status !== 0 && found.size === 0) failure(`${shown(project)}: exit ${run.status} and no error reported`);

  // Expectations are read from the program's own files (those under its folder), not from what
  // it imports.
  const programDir = resolve(cwd, project, '..');
  const expected = new Map();
  for (const file of files.filter((f) => f.startsWith(`${programDir}/`) && !f.includes('/node_modules/'))) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const m = EXPECT.exec(line);
        if (m === null) return;
        const perVersion = new Map(
          (m[2] ?? '').split(', ').flatMap((entry) => {
            const v = /^TypeScript (\d+): (TS\d+)$/.exec(entry);
            return v ? [[Number(v[1]), v[2]]] : [];
          }),
        );
        expected.set(`${file}:${i + 2}`, { code: perVersion.get(major) ?? m[1], text: m[3].trim() });
      });
  }
  if (expectsErrors && expected.size === 0) failure(`${shown(project)}: no \`// error\` comment in its files`);
  const where = (key) =>
    key === 'global' ? 'global' : `${shown(key.slice(0, key.lastIndexOf(':')))}:${key.slice(key.lastIndexOf(':') + 1)}`;
  for (const [key, { code, text }] of expected) {
    const diagnostics = found.get(key) ?? [];
    found.delete(key);
    const hit = diagnostics.find((d) => d.code === code && d.message.slice(0, 2).join('\n').includes(text));
    if (hit === undefined) {
      const got = diagnostics.map((d) => `${d.code}: ${d.message.join('\n  ')}`);
      failure(
        `${where(key)}: expected ${code} with "${text}" in its first two lines; got ${got.length ? got.join('\n    ') : 'no error'}`,
      );
    } else {
      report.push(`✔ ${where(key)}: ${code} ${text}`);
    }
  }
  for (const [key, diagnostics] of found) {
    for (const d of diagnostics) failure(`${where(key)}: unexpected ${d.code}: ${d.message.join('\n  ')}`);
  }
  if (failures === 0 && expected.size === 0) report.push(`✔ ${shown(project)}: compiles`);
  return { ok: failures === 0, report, files };
}
