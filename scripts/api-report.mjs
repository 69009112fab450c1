#!/usr/bin/env node
// The API report of each published package: API Extractor writes what each entry point exports,
// with signatures, to `packages/<name>/etc/<name>[-<entry>].api.md`, so a change of the public
// surface shows in review as a diff of that file.
//   node scripts/api-report.mjs          (`npm run api`) rewrites the reports from `dist` (after `tsc -b`)
//   node scripts/api-report.mjs --check  (`npm test`) fails, naming the report, when one is not current
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { publishedPackages, root } from './packages.mjs';

const check = process.argv.includes('--check');
const temp = mkdtempSync(join(tmpdir(), 'herald-api-'));

/** `[entry, .d.ts path]` for each entry point of a package's `exports` (not `./package.json`). */
function entryPoints(manifest) {
  return Object.entries(manifest.exports)
    .filter(([, target]) => typeof target === 'object' && target.types)
    .map(([entry, target]) => [entry, target.types]);
}

const compilerOptions = {
  target: 'ES2022',
  lib: ['ES2023', 'ESNext.Disposable'],
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  types: ['node'],
  strict: true,
  skipLibCheck: true,
};

let stale = 0;
try {
  for (const { dir, manifest } of publishedPackages()) {
    const unscoped = manifest.name.replace(/^@[^/]+\//, '');
    if (!check) mkdirSync(join(dir, 'etc'), { recursive: true });
    for (const [entry, types] of entryPoints(manifest)) {
      const reportFileName = entry === '.' ? unscoped : `${unscoped}-${entry.slice(2).replaceAll('/', '-')}`;
      const config = ExtractorConfig.prepare({
        configObjectFullPath: join(dir, 'api-extractor.json'),
        packageJsonFullPath: join(dir, 'package.json'),
        configObject: {
          projectFolder: dir,
          mainEntryPointFilePath: join(dir, types),
          // The published declarations alone, resolved as an application resolves them (no
          // `@herald/source` condition): faster than the package's own program, and what users see.
          compiler: { overrideTsconfig: { compilerOptions, files: [join(dir, types)] } },
          apiReport: { enabled: true, reportFileName, reportFolder: join(dir, 'etc'), reportTempFolder: temp },
          docModel: { enabled: false },
          dtsRollup: { enabled: false },
          tsdocMetadata: { enabled: false },
          messages: {
            compilerMessageReporting: { default: { logLevel: 'error' } },
            // Shown in the report itself (e.g. a type used by the API but not exported), for review.
            extractorMessageReporting: {
              default: { logLevel: 'warning', addToApiReportFile: true },
              'ae-missing-release-tag': { logLevel: 'none' },
              // Links are checked by TypeDoc, which resolves them across packages.
              'ae-unresolved-link': { logLevel: 'none' },
            },
            // The TSDoc is checked by TypeDoc (`npm run docs`), which reads the same comments.
            tsdocMessageReporting: { default: { logLevel: 'none' } },
          },
        },
      });
      const result = Extractor.invoke(config, { localBuild: !check, messageCallback: quietUnlessError });
      const report = relative(root, join(dir, 'etc', `${reportFileName}.api.md`));
      if (!result.succeeded && !result.apiReportChanged) {
        console.error(`✘ ${manifest.name} (${entry}): API Extractor failed (${result.errorCount} errors)`);
        stale++;
      } else if (check && result.apiReportChanged) {
        console.error(
          `✘ ${report} is not current: the public API of ${manifest.name} changed. Run \`npm run api\` and review the diff.`,
        );
        stale++;
      } else {
        console.log(`${check ? '✔' : 'wrote'} ${report}`);
      }
    }
  }
} finally {
  rmSync(temp, { recursive: true, force: true });
}
process.exit(stale > 0 ? 1 : 0);

/** API Extractor's progress lines are noise here; errors still print. */
function quietUnlessError(message) {
  if (message.logLevel !== 'error') message.handled = true;
}
