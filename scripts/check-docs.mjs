#!/usr/bin/env node
// Docs that compile: every ```ts block of README.md, docs/ and the packages' and examples' READMEs
// is type-checked against the packages' sources, with the project's compiler options. Each
// Markdown file is one program: its `file=` blocks are files of it (they import each other), every
// other block is a module of its own. A block marked `fragment` may use names defined around it
// (they are declared as `any`, a PascalCase one as a class of `any` members; a relative import
// that does not exist is one of those), and only those; one marked `expect-error=TS2322` must fail with
// that error and no other (scripts/markdown-blocks.mjs). A fragment's names that Herald's packages,
// inversify or @jest/globals export are imported from them, so what it does with them is checked;
// the rest are `any`. Every relative link of those files must reach a file, and a heading of it
// when it names one (`guide.md#anchor`), so a doc moved or renamed is noticed. Exits non-zero
// naming file, line and error.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { codeBlocks, headingAnchors, relativeLinks } from './markdown-blocks.mjs';
import { publishedPackages, root } from './packages.mjs';

// Inside the workspace, so that `@herald/*` and the test libraries resolve as they do for tests.
const work = join(root, 'node_modules', '.cache', 'herald-docs');
// Cannot find name 'x' (…Did you mean; …test runner types); no value for the shorthand property 'x'.
const UNDECLARED = new Set([2304, 2552, 2582, 2593, 18004]);

function markdownFiles() {
  const inFolder = (dir, deep) =>
    existsSync(join(root, dir))
      ? readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
          const path = join(dir, entry.name);
          if (entry.isDirectory()) return deep ? inFolder(path, deep) : [];
          return entry.name.endsWith('.md') ? [path] : [];
        })
      : [];
  const readmes = ['packages', 'examples'].flatMap((dir) =>
    existsSync(join(root, dir))
      ? readdirSync(join(root, dir))
          .map((name) => join(dir, name, 'README.md'))
          .filter((path) => existsSync(join(root, path)))
      : [],
  );
  return ['README.md', ...inFolder('docs', true), ...readmes];
}

const base = ts.getParsedCommandLineOfConfigFile(
  join(root, 'tsconfig.base.json'),
  {},
  { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
);
const options = {
  ...base.options,
  noEmit: true,
  composite: false,
  declaration: false,
  declarationMap: false,
  sourceMap: false,
  noUnusedLocals: false,
  noUnusedParameters: false,
  types: ['node'],
};

// One compiler host for every program: library and package files are parsed once.
const host = ts.createCompilerHost(options);
const parsed = new Map();
const getSourceFile = host.getSourceFile.bind(host);
host.getSourceFile = (fileName, language, onError, create) => {
  if (fileName.startsWith(work)) return getSourceFile(fileName, language, onError, create);
  if (!parsed.has(fileName)) parsed.set(fileName, getSourceFile(fileName, language, onError, create));
  return parsed.get(fileName);
};

/** The diagnostics of each of `files` (absolute paths), in one program. */
function diagnose(files) {
  const program = ts.createProgram({ rootNames: files, options, host });
  return new Map(
    files.map((file) => {
      const source = program.getSourceFile(file);
      return [file, [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]];
    }),
  );
}

/** Name → module for what a fragment may use without importing it. */
function importableNames() {
  const modules = [
    ...publishedPackages().flatMap(({ name, manifest }) =>
      Object.keys(manifest.exports)
        .filter((entry) => entry !== './package.json')
        .map((entry) => (entry === '.' ? name : `${name}/${entry.slice(2)}`)),
    ),
    'inversify',
    '@jest/globals',
  ];
  const probe = join(work, 'importable.ts');
  mkdirSync(work, { recursive: true });
  writeFileSync(probe, modules.map((m, i) => `import * as m${i} from '${m}';`).join('\n') + '\nexport {};\n');
  const program = ts.createProgram({ rootNames: [probe], options, host });
  const checker = program.getTypeChecker();
  const names = new Map();
  program.getSourceFile(probe).statements.forEach((statement, i) => {
    const module = checker.getSymbolAtLocation(statement.moduleSpecifier);
    for (const symbol of module ? checker.getExportsOfModule(module) : []) {
      if (!names.has(symbol.name)) names.set(symbol.name, modules[i]);
    }
  });
  return names;
}

const text = (d) => ts.flattenDiagnosticMessageText(d.messageText, '\n');
const lineOf = (d) => (d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0);

/** A block's code as a module (so blocks never share globals), names provided for a fragment. */
function moduleText(code, declared = []) {
  const declarations = declared
    .map((name) =>
      importable.has(name)
        ? `import { ${name} } from '${importable.get(name)}';`
        : /^[A-Z].*[a-z]/.test(name)
          ? `declare class ${name} { constructor(...args: any[]); [key: string]: any; static [key: string]: any }`
          : `declare const ${name}: any; type ${name} = any;`,
    )
    .join(' ');
  // The declarations go on the block's last line, so the block's own line numbers stay as they are.
  return `${code}\n${declarations} export {};\n`;
}

rmSync(work, { recursive: true, force: true });
const importable = importableNames();
let problems = 0;
let checked = 0;
for (const markdown of markdownFiles()) {
  const blocks = codeBlocks(readFileSync(join(root, markdown), 'utf8')).filter(
    (b) => b.lang === 'ts' || b.lang === 'typescript',
  );
  if (blocks.length === 0) continue;
  const folder = join(work, markdown.replace(/[/.]/g, '_'));
  const entries = blocks.map((block) => ({ block, path: join(folder, block.file ?? `block-line-${block.line}.ts`) }));
  const write = (entry, declared) => {
    mkdirSync(dirname(entry.path), { recursive: true });
    writeFileSync(entry.path, moduleText(entry.block.code, declared));
  };
  for (const entry of entries) write(entry, []);
  let results = diagnose(entries.map((e) => e.path));
  // Fragments: declare the names they take from around them, then check again.
  // A name provided can reveal another (`{ port }` is a shorthand until `Port` is known): again.
  const fragments = entries.filter((e) => e.block.fragment);
  const provided = new Map(fragments.map((e) => [e, new Set()]));
  for (let round = 0; round < 3; round++) {
    let more = false;
    for (const entry of fragments) {
      for (const d of results.get(entry.path).filter((d) => UNDECLARED.has(d.code))) {
        const name = /'([^']+)'/.exec(text(d))[1];
        more ||= !provided.get(entry).has(name);
        provided.get(entry).add(name);
      }
      write(entry, [...provided.get(entry)]);
    }
    if (!more) break;
    results = diagnose(entries.map((e) => e.path));
  }
  for (const { block, path } of entries) {
    checked++;
    const diagnostics = results.get(path);
    const where = (d) => `${markdown}:${block.line + 1 + lineOf(d)}`;
    if (block.expectError) {
      const expected = Number(block.expectError.replace(/^TS/i, ''));
      const others = diagnostics.filter((d) => d.code !== expected);
      if (diagnostics.length === others.length || others.length > 0) {
        problems++;
        console.error(
          `✘ ${markdown}:${block.line}: expected only ${block.expectError}, got ${diagnostics.map((d) => `TS${d.code} (${where(d)}: ${text(d)})`).join('; ') || 'no error'}`,
        );
      }
      continue;
    }
    const fromAround = (d) => block.fragment && d.code === 2307 && /'\.\.?\//.test(text(d));
    for (const d of diagnostics.filter((d) => !fromAround(d))) {
      problems++;
      console.error(
        `✘ ${where(d)} (${block.fragment ? 'fragment' : 'block'} at line ${block.line}): TS${d.code}: ${text(d)}`,
      );
    }
  }
}
rmSync(work, { recursive: true, force: true });

let links = 0;
for (const markdown of markdownFiles()) {
  for (const { target, line } of relativeLinks(readFileSync(join(root, markdown), 'utf8'))) {
    links++;
    const [path, anchor] = target.split('#');
    const file = path ? resolve(root, dirname(markdown), decodeURIComponent(path)) : join(root, markdown);
    const problem = !existsSync(file)
      ? 'no such file'
      : anchor && file.endsWith('.md') && !headingAnchors(readFileSync(file, 'utf8')).has(anchor)
        ? 'no such heading'
        : undefined;
    if (problem) {
      problems++;
      console.error(`✘ ${markdown}:${line}: link ${target}: ${problem}`);
    }
  }
}
console.log(`${checked} TypeScript blocks and ${links} relative links checked, ${problems} problem(s)`);
process.exit(problems > 0 ? 1 : 0);
