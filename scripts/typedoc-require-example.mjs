// A TypeDoc plugin: every export of a package (not its members) needs a summary and an `@example`
// in its doc comment; TypeDoc's own `validation.notDocumented` leaves constants out and never
// asks for examples. A missing one is a warning, an error under `treatWarningsAsErrors`.
import { Converter, ReflectionKind } from 'typedoc';

const exported =
  ReflectionKind.Class |
  ReflectionKind.Interface |
  ReflectionKind.Function |
  ReflectionKind.Variable |
  ReflectionKind.TypeAlias |
  ReflectionKind.Enum;

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => {
    for (const reflection of context.project.getReflectionsByKind(exported)) {
      if (!reflection.parent?.kindOf(ReflectionKind.Module | ReflectionKind.Project)) continue;
      const comments = [reflection.comment, ...(reflection.signatures ?? []).map((s) => s.comment)].filter(Boolean);
      const where = reflection.sources?.[0] ? ` (${reflection.sources[0].fileName}:${reflection.sources[0].line})` : '';
      if (!comments.some((comment) => comment.summary.some((part) => part.text.trim() !== ''))) {
        app.logger.warn(`${reflection.getFriendlyFullName()}${where} has no summary in its doc comment`);
      }
      if (!comments.some((comment) => comment.getTag('@example'))) {
        app.logger.warn(`${reflection.getFriendlyFullName()}${where} has no @example in its doc comment`);
      }
    }
  });
}
