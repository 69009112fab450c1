// A TypeDoc plugin: every exported declaration needs an `@example` (TypeDoc's own validation
// checks only for a summary). A missing one is a warning, an error under `treatWarningsAsErrors`.
import { Converter, ReflectionKind } from 'typedoc';

const checked =
  ReflectionKind.Class |
  ReflectionKind.Interface |
  ReflectionKind.Function |
  ReflectionKind.Variable |
  ReflectionKind.TypeAlias |
  ReflectionKind.Enum;

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => {
    for (const reflection of context.project.getReflectionsByKind(checked)) {
      if (!reflection.parent?.kindOf(ReflectionKind.Module | ReflectionKind.Project)) continue;
      const comments = [reflection.comment, ...(reflection.signatures ?? []).map((s) => s.comment)];
      if (comments.some((comment) => comment?.getTag('@example'))) continue;
      app.logger.warn(
        `${reflection.getFriendlyFullName()} has no @example in its doc comment`,
        reflection.sources?.[0] ? undefined : undefined,
      );
    }
  });
}
