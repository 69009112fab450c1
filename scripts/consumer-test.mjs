#!/usr/bin/env node
// The consumer test: Herald as an application gets it from the registry, without this workspace.
// Packs every published package, installs the tarballs into a new application in a temporary
// folder (outside the workspace: nothing resolves from its node_modules) with the latest
// inversify 8 and the oldest inversify the peer range allows, then compiles that application with
// TypeScript 6.0 and the latest TypeScript 7, as `module` NodeNext and as `moduleResolution`
// Bundler, runs it and its Jest tests. The application is getting-started's `file=` blocks
// (docs/guide/getting-started.md), so the guide is what is tested, plus one test of this script's
// own that boots a container of a second copy of inversify.
// It proves: one copy of inversify is installed, the container boots, the veto reaches the caller
// as a CallbackFailure, the testing kit's matchers work, and two copies are named when they exist.
// Then the type tests (every `<package>/typetest/` program, scripts/typetests.mjs) are copied into
// the application and checked with each compiler (`module` NodeNext) against the installed
// packages' declarations: the compiling ones compile, and each fixture gives its expected errors
// on the expected lines, so what the workspace's type tests show holds for an application, with
// TypeScript 6 and 7 alike.
// Needs the npm registry (one install per inversify version, from npm's cache when it can): without
// it, exits 3 (skipped) with a notice, except under CI=true, where it fails.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { codeBlocks } from './markdown-blocks.mjs';
import { packAll, publishedPackages, root } from './packages.mjs';
import { checkProgram, typeTestPrograms } from './typetests.mjs';

const SKIPPED = 3;
const started = Date.now();
const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
// The application's environment: not what `npm test` sets for the workspace (its prefix, its
// package, Node options); the user's npm settings (registry, cache) stay.
const workspaceOnly =
  /^(npm_package_|npm_lifecycle_|npm_config_(local_prefix|prefix|workspaces?)$|NODE_OPTIONS$|NODE_PATH$|INIT_CWD$)/i;
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !workspaceOnly.test(key)));

function run(command, args, cwd, timeoutSeconds = 180) {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: timeoutSeconds * 1000 });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ?? ''}` };
}

function fail(message) {
  console.error(`✘ consumer test: ${message}`);
  process.exit(1);
}

/** The versions of `spec` the registry offers (stable ones, as npm's ranges pick), oldest first. */
function versions(spec) {
  const result = run(
    'npm',
    ['view', spec, 'version', '--json', '--fetch-retries=1', '--fetch-timeout=20000'],
    tmpdir(),
    90,
  );
  if (!result.ok) return undefined;
  const parsed = JSON.parse(result.output);
  return (Array.isArray(parsed) ? parsed : [parsed]).sort(bySemver);
}

/** Orders `x.y.z` versions (the registry lists them in publishing order). */
function bySemver(a, b) {
  const [pa, pb] = [a, b].map((v) => v.split(/[.-]/).map(Number));
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

const inversifyRange = publishedPackages().find((p) => p.name === '@herald/inversify').manifest.peerDependencies
  .inversify;
const inversifyVersions = versions(`inversify@${inversifyRange}`);
if (inversifyVersions === undefined) {
  if (process.env.CI === 'true') fail('the npm registry does not answer (`npm view inversify` failed), and CI=true');
  console.log('notice: consumer test skipped: the npm registry does not answer (`npm view inversify` failed).');
  process.exit(SKIPPED);
}
const typescript6 = versions('typescript@~6.0').at(-1);
const typescript7 = versions('typescript@^7').at(-1);
const latest = inversifyVersions.at(-1);
const oldest = inversifyVersions[0];

const work = mkdtempSync(join(tmpdir(), 'herald-consumer-'));
if (`${work}${sep}`.startsWith(root)) fail(`${work} is inside the workspace`);
for (let dir = dirname(work); dir !== dirname(dir); dir = dirname(dir)) {
  if (existsSync(join(dir, 'node_modules'))) fail(`${join(dir, 'node_modules')} would be visible to the application`);
}

const guide = join(root, 'docs', 'guide', 'getting-started.md');
const appFiles = codeBlocks(readFileSync(guide, 'utf8')).filter((block) => block.file);
const secondCopyTest = `import 'reflect-metadata';
import { expect, it } from '@jest/globals';
import { bootCallbacks } from '@herald/inversify';
import { Container } from 'inversify-second-copy';

it('names the copy of inversify it uses when the container comes from a second copy', async () => {
  const container = new Container();
  await expect(bootCallbacks(container as never)).rejects.toThrow(
    /another copy of inversify than the one @herald\\/inversify uses \\(inversify [\\d.]+ at .*node_modules\\/inversify\\)/,
  );
});
`;

/**
 * Each inversify version gets one install; each runs the compiler and module settings listed, some
 * with the type tests (`true`). The type tests run once per compiler: with Bundler they would
 * resolve the same declarations (the packages' `types` condition), which the getting-started
 * build already resolves that way.
 */
const variants = [
  {
    inversify: latest,
    secondCopy: oldest,
    builds: [
      [6, 'NodeNext', true],
      [6, 'Bundler', false],
      [7, 'NodeNext', true],
      [7, 'Bundler', false],
    ],
  },
  ...(oldest === latest
    ? []
    : [
        {
          inversify: oldest,
          secondCopy: latest,
          builds: [
            [6, 'NodeNext', false],
            [7, 'Bundler', false],
          ],
        },
      ]),
];
const typescriptBin = { 6: 'node_modules/typescript/bin/tsc', 7: 'node_modules/typescript-7/bin/tsc' };
const moduleOptions = {
  NodeNext: { module: 'NodeNext', moduleResolution: 'NodeNext' },
  Bundler: { module: 'ESNext', moduleResolution: 'Bundler' },
};

const typeTests = typeTestPrograms();
/**
 * The compiler options the type tests are written for (the workspace's), without what only the
 * workspace has: the `@herald/source` condition (which would resolve `@herald/*` to their sources),
 * project references and emitted files; each program names its own `types`. `skipLibCheck` as the
 * guide's tsconfig.json sets it: what the packed declarations offer is what the type tests check.
 */
function typeTestOptions(moduleKind) {
  const readOptions = (file) => JSON.parse(readFileSync(join(root, file), 'utf8')).compilerOptions;
  const options = { ...readOptions('tsconfig.base.json'), ...readOptions('tsconfig.test.json') };
  for (const key of ['customConditions', 'composite', 'declaration', 'declarationMap', 'sourceMap', 'types'])
    delete options[key];
  return { ...options, ...moduleOptions[moduleKind], noEmit: true, skipLibCheck: true };
}

/**
 * Copies each type-test program into `<app>/typetests/` (its folder's own files; its folders are
 * programs of their own), with a tsconfig.json that extends the application's
 * tsconfig.typetests.json in place of the workspace's. Returns the copies' tsconfig paths.
 */
function writeTypeTests(app) {
  return typeTests.map(({ dir, expectsErrors }) => {
    const copy = join(app, 'typetests', relative('packages', dir));
    mkdirSync(copy, { recursive: true });
    const config = JSON.parse(readFileSync(join(root, dir, 'tsconfig.json'), 'utf8'));
    if (!/tsconfig\.test\.json$/.test(config.extends ?? ''))
      fail(`${dir}/tsconfig.json extends ${config.extends}, not the workspace's tsconfig.test.json`);
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      if (entry.isFile() && entry.name !== 'tsconfig.json')
        writeFileSync(join(copy, entry.name), readFileSync(join(root, dir, entry.name)));
    }
    writeFileSync(
      join(copy, 'tsconfig.json'),
      JSON.stringify({ ...config, extends: relative(copy, join(app, 'tsconfig.typetests.json')) }, null, 2),
    );
    return { dir, expectsErrors, project: join(copy, 'tsconfig.json') };
  });
}

try {
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  const packed = packAll(tarballs);
  console.log(`packed ${packed.map((p) => p.name).join(', ')}`);
  console.log(
    `TypeScript ${typescript6} and ${typescript7}; inversify ${latest} and ${oldest} (peer range ${inversifyRange})`,
  );
  for (const variant of variants) {
    const app = join(work, `app-inversify-${variant.inversify}`);
    mkdirSync(join(app, 'src'), { recursive: true });
    for (const { file, code } of appFiles) writeFileSync(join(app, file), code);
    writeFileSync(join(app, 'src', 'second-copy.test.ts'), secondCopyTest);
    const manifest = {
      name: 'herald-consumer',
      private: true,
      type: 'module',
      dependencies: {
        ...Object.fromEntries(packed.map((p) => [p.name, `file:${p.tarball}`])),
        inversify: variant.inversify,
        'reflect-metadata': '^0.2.2',
      },
      devDependencies: {
        '@jest/globals': rootManifest.devDependencies['@jest/globals'],
        '@types/node': rootManifest.devDependencies['@types/node'],
        'expect-type': rootManifest.devDependencies['expect-type'],
        jest: rootManifest.devDependencies.jest,
        typescript: typescript6,
        'typescript-7': `npm:typescript@${typescript7}`,
        'inversify-second-copy': `npm:inversify@${variant.secondCopy}`,
      },
    };
    writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
    let step = Date.now();
    const install = run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'],
      app,
      600,
    );
    if (!install.ok) fail(`npm install (inversify ${variant.inversify}) failed:\n${install.output}`);
    console.log(`inversify ${variant.inversify}: installed (${seconds(step)})`);
    const copies = copiesOf('inversify', join(app, 'node_modules')).filter(
      (dir) => !dir.includes('inversify-second-copy'),
    );
    if (copies.length !== 1) fail(`expected one copy of inversify, found ${copies.length}: ${copies.join(', ')}`);
    const typeTestProjects = variant.builds.some(([, , withTypeTests]) => withTypeTests) ? writeTypeTests(app) : [];

    for (const [typescript, moduleKind, withTypeTests] of variant.builds) {
      const label = `inversify ${variant.inversify}, TypeScript ${typescript === 6 ? typescript6 : typescript7}, ${moduleKind}`;
      step = Date.now();
      rmSync(join(app, 'dist'), { recursive: true, force: true });
      const tsconfig = { extends: './tsconfig.json', compilerOptions: moduleOptions[moduleKind] };
      writeFileSync(join(app, 'tsconfig.variant.json'), JSON.stringify(tsconfig));
      const compile = run(process.execPath, [typescriptBin[typescript], '-p', 'tsconfig.variant.json'], app);
      if (!compile.ok) fail(`${label}: tsc failed:\n${compile.output}`);
      const main = run(process.execPath, ['dist/main.js'], app, 60);
      if (!main.ok || !/^vetoed: .*inv-1 is paid/m.test(main.output))
        fail(`${label}: dist/main.js did not report the veto:\n${main.output}`);
      const jest = run(
        process.execPath,
        ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '--ci', '--json'],
        app,
      );
      const report = jestReport(jest.output);
      if (!jest.ok || report?.numPassedTests !== 2) fail(`${label}: jest failed:\n${jest.output}`);
      console.log(`✔ ${label}: compiled, ran, ${report.numPassedTests} Jest tests passed (${seconds(step)})`);

      if (!withTypeTests) continue;
      step = Date.now();
      writeFileSync(
        join(app, 'tsconfig.typetests.json'),
        JSON.stringify({ compilerOptions: typeTestOptions(moduleKind) }, null, 2),
      );
      let expectations = 0;
      for (const { dir, expectsErrors, project } of typeTestProjects) {
        const checked = checkProgram(project, {
          tsc: join(app, typescriptBin[typescript]),
          cwd: app,
          env,
          expectsErrors,
        });
        if (!checked.ok) fail(`${label}: type tests of ${dir}:\n${checked.report.join('\n')}`);
        const fromWorkspace = checked.files.filter((file) => file.startsWith(root));
        if (fromWorkspace.length > 0)
          fail(`${label}: ${dir} compiled files of the workspace: ${fromWorkspace.join(', ')}`);
        if (!checked.files.some((file) => file.includes('/node_modules/@herald/core/dist/')))
          fail(`${label}: ${dir} did not compile against the installed @herald/core's declarations`);
        expectations += checked.report.filter((line) => !line.endsWith(': compiles')).length;
      }
      console.log(
        `✔ ${label}: ${typeTestProjects.length} type-test programs, ${expectations} expected errors where expected (${seconds(step)})`,
      );
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`consumer test passed (${seconds(started)})`);

function seconds(since) {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

/** Jest's `--json` report, printed on stdout among its other output. */
function jestReport(output) {
  const start = output.indexOf('{"numFailedTestSuites"');
  if (start < 0) return undefined;
  try {
    return JSON.parse(output.slice(start, output.indexOf('\n', start) >>> 0 || undefined));
  } catch {
    return undefined;
  }
}

/** The folders under `nodeModules` that hold package `name`. */
function copiesOf(name, nodeModules, found = []) {
  if (!existsSync(nodeModules)) return found;
  for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(nodeModules, entry.name);
    if (entry.name.startsWith('@')) {
      for (const scoped of readdirSync(dir)) copiesOf(name, join(dir, scoped, 'node_modules'), found);
      continue;
    }
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === name) found.push(dir);
    copiesOf(name, join(dir, 'node_modules'), found);
  }
  return found;
}
