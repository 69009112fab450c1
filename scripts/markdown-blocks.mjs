// The fenced code blocks of a Markdown file, with what their info string says about them:
//   ```ts                         a TypeScript module, type-checked as it is
//   ```ts file=src/billing.ts     the same, as that file of the doc's project (others import it)
//   ```ts fragment                part of a program (names from around it): checked with those names declared as `any`
//   ```ts expect-error=TS2322     must fail to compile with that error
//   ```ts fragment file=api.ts    both: a file of the program (others import it) that uses names from around it
// Used by the docs check (scripts/check-docs.mjs) and the consumer test, which builds its
// application from getting-started's `file=` blocks.

const fence =
  /^(?<indent> {0,3})(?<ticks>`{3,})(?<lang>[\w-]*)(?<rest>[^\n`]*)\n(?<code>[\s\S]*?)^\k<indent>\k<ticks>[ \t]*$/gm;

/** `{ lang, file, fragment, expectError, code, line }` for each fenced block, in order. */
export function codeBlocks(markdown) {
  const blocks = [];
  for (const match of markdown.matchAll(fence)) {
    const { lang, rest, code } = match.groups;
    const options = Object.fromEntries(
      rest
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map((word) => {
          const [key, value] = word.split('=');
          return [key, value ?? true];
        }),
    );
    blocks.push({
      lang,
      file: options.file,
      fragment: options.fragment === true,
      expectError: options['expect-error'],
      code,
      line: markdown.slice(0, match.index).split('\n').length,
    });
  }
  return blocks;
}
