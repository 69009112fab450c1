#!/usr/bin/env node
// Type tests whose point is the compiler's message, not only that there is one: every line after a
// comment `// error TSnnnn: <text>` must have that error, with <text> in its first two lines (what
// an editor shows first); any other error fails. Used by `npm test` for every
// `<package>/typetest/<folder>/tsconfig.json` (each folder one program: augmentations are global).
// Usage: node scripts/expected-errors.mjs <folder with tsconfig.json>…
import ts from 'typescript';
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const EXPECT = /^\s*\/\/ error (TS\d+): (.*)$/;
let failures = 0;

for (const dir of process.argv.slice(2)) {
  const configPath = resolve(dir, 'tsconfig.json');
  const config = ts.getParsedCommandLineOfConfigFile(
    configPath,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  const program = ts.createProgram(config.fileNames, config.options);
  const found = new Map(); // "file:line" → diagnostics
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const where = d.file
      ? `${relative(process.cwd(), d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
      : 'global';
    found.set(where, [...(found.get(where) ?? []), d]);
  }
  const expected = new Map();
  for (const file of config.fileNames) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const m = EXPECT.exec(line);
        if (m) expected.set(`${relative(process.cwd(), file)}:${i + 2}`, { code: m[1], text: m[2].trim() });
      });
  }
  for (const [where, { code, text }] of expected) {
    const diagnostics = found.get(where) ?? [];
    found.delete(where);
    const hit = diagnostics.find((d) => {
      const head = ts.flattenDiagnosticMessageText(d.messageText, '\n').split('\n').slice(0, 2).join('\n');
      return `TS${d.code}` === code && head.includes(text);
    });
    if (hit === undefined) {
      failures++;
      const got = diagnostics.map((d) => `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n  ')}`);
      console.log(
        `✘ ${where}: expected ${code} with "${text}" in its first two lines; got ${got.length ? got.join('\n    ') : 'no error'}`,
      );
    } else {
      console.log(`✔ ${where}: ${code} ${text}`);
    }
  }
  for (const [where, diagnostics] of found) {
    failures++;
    for (const d of diagnostics)
      console.log(`✘ ${where}: unexpected TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n  ')}`);
  }
  if (expected.size === 0 && found.size === 0) console.log(`✔ ${join(dir)}: compiles`);
}
process.exit(failures > 0 ? 1 : 0);
