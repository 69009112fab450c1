/** @jest-config-loader-options {"transpileOnly": true, "compilerOptions": {"target": "ES2022"}} */
import { existsSync, readdirSync } from 'node:fs';
import { createDefaultEsmPreset, type JestConfigWithTsJest } from 'ts-jest';

const preset = createDefaultEsmPreset({ tsconfig: '<rootDir>/../../tsconfig.test.json' });

/** One Jest project per workspace package; each resolves sibling packages to their sources. */
function project(dir: string): NonNullable<JestConfigWithTsJest['projects']>[number] {
  return {
    ...preset,
    displayName: dir,
    rootDir: `<rootDir>/${dir}`,
    testMatch: ['<rootDir>/test/**/*.test.ts'],
    testEnvironment: 'node',
    testEnvironmentOptions: { customExportConditions: ['@herald/source', 'node', 'node-addons'] },
    moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
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
