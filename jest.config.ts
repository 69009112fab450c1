/** @jest-config-loader-options {"transpileOnly": true, "compilerOptions": {"target": "ES2022"}} */
import { existsSync, readdirSync } from 'node:fs';
import { createDefaultEsmPreset, type JestConfigWithTsJest } from 'ts-jest';

const preset = createDefaultEsmPreset({ tsconfig: '<rootDir>/../../tsconfig.test.json' });

/** One Jest project per workspace package; each resolves sibling packages to their sources. */
function project(dir: string): NonNullable<JestConfigWithTsJest['projects']>[number] {
  // A project's own `test/global-setup.mjs` and `test/global-teardown.mjs` (e.g. a broker), when it has them.
  const hooks = {
    ...(existsSync(`${dir}/test/global-setup.mjs`) && { globalSetup: '<rootDir>/test/global-setup.mjs' }),
    ...(existsSync(`${dir}/test/global-teardown.mjs`) && { globalTeardown: '<rootDir>/test/global-teardown.mjs' }),
  };
  return {
    ...preset,
    displayName: dir,
    rootDir: `<rootDir>/${dir}`,
    testMatch: ['<rootDir>/test/**/*.test.ts'],
    testEnvironment: 'node',
    testEnvironmentOptions: { customExportConditions: ['@herald/source', 'node', 'node-addons'] },
    moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
    ...hooks,
  };
}

/** Every workspace folder (packages/*, examples/*) that has a `test` folder is a project. */
const projects = ['packages', 'examples'].flatMap((dir) =>
  readdirSync(dir)
    .map((name) => `${dir}/${name}`)
    .filter((path) => existsSync(`${path}/test`)),
);

const config: JestConfigWithTsJest = { projects: projects.map(project) };

export default config;
