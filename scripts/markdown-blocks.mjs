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

/** `{ target, line }` for each relative link (`[text](path#anchor)`) outside code, in order. */
export function relativeLinks(markdown) {
  const prose = markdown.replace(fence, (block) => block.replace(/[^\n]/g, ' ')).replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)]
    .filter((match) => !/^[a-z][a-z+.-]*:/i.test(match[1]))
    .map((match) => ({ target: match[1], line: prose.slice(0, match.index).split('\n').length }));
}

/** The anchors of a Markdown file's headings, as GitHub makes them (`## Who sent it?` → `who-sent-it`). */
export function headingAnchors(markdown) {
  const prose = markdown.replace(fence, '');
  const seen = new Map();
  return new Set(
    [...prose.matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)].map((match) => {
      const slug = match[1]
        .replace(/`/g, '')
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-');
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      return count === 0 ? slug : `${slug}-${count}`;
    }),
  );
}
