// TypeDoc: the API reference of every published package, from its TSDoc, into docs/api/
// (`npm run docs`; built, not committed: docs/decisions/packaging-and-api-reference.md). Entry
// points are each package's `exports`, read from its source condition, so a new package under
// packages/ is documented without editing this file (its entry point's doc comment names it:
// `@module @herald/<name>`, checked by the plugin). Warnings are errors: an export without a
// summary or an example, a broken {@link}, a type the API uses but does not export.
import { join } from 'node:path';
import { publishedPackages, root } from './scripts/packages.mjs';

const packages = publishedPackages();
const entryPoints = packages.flatMap(({ dir, manifest }) =>
  Object.values(manifest.exports)
    .filter((target) => typeof target === 'object' && target['@herald/source'])
    .map((target) => `${dir}/${target['@herald/source'].replace(/^\.\//, '')}`),
);
// Source links point at the repository named in the packages' manifests, at `main`, without asking
// git: a clone without an `origin` remote (or a tarball) would otherwise warn, and warnings fail.
const repository = packages[0].manifest.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');

/** @type {Partial<import('typedoc').TypeDocOptions>} */
const config = {
  name: 'Herald',
  entryPoints,
  entryPointStrategy: 'resolve',
  tsconfig: join(root, 'tsconfig.docs.json'),
  out: join(root, 'docs', 'api', 'reference'),
  readme: 'none',
  plugin: [join(root, 'scripts', 'typedoc-require-example.mjs')],
  excludePrivate: true,
  excludeInternal: true,
  treatWarningsAsErrors: true,
  // Summaries and examples of the exports are checked by scripts/typedoc-require-example.mjs:
  // TypeDoc's own notDocumented would also ask for each property of each anonymous object type.
  validation: { notExported: true, invalidLink: true, invalidPath: true, rewrittenLink: true },
  disableGit: true,
  displayBasePath: root,
  gitRevision: 'main',
  sourceLinkTemplate: `${repository}/blob/{gitRevision}/{path}#L{line}`,
  githubPages: false,
  hideGenerator: true,
};

export default config;
