// A TypeDoc plugin: every export of a package needs a summary and an `@example` in its doc
// comment, and every member of an exported class or interface (property, method, accessor) a
// summary of its own or of what it implements. TypeDoc's own `validation.notDocumented` leaves
// constants out, never asks for examples, and asks for each property of each anonymous object
// type. An entry point must be named after its package (`@module @herald/x`). Each miss is a
// warning, an error under `treatWarningsAsErrors`.
import { Converter, ReflectionKind } from 'typedoc';

const exported =
  ReflectionKind.Class |
  ReflectionKind.Interface |
  ReflectionKind.Function |
  ReflectionKind.Variable |
  ReflectionKind.TypeAlias |
  ReflectionKind.Enum;
const member = ReflectionKind.Property | ReflectionKind.Method | ReflectionKind.Accessor;

/** The doc comments of a reflection: its own and its signatures'. */
function commentsOf(reflection) {
  return [
    reflection.comment,
    ...(reflection.signatures ?? []).map((s) => s.comment),
    reflection.getSignature?.comment,
    reflection.setSignature?.comment,
  ].filter(Boolean);
}

const hasSummary = (reflection) =>
  commentsOf(reflection).some((comment) => comment.summary.some((part) => part.text.trim() !== ''));
const where = (reflection) =>
  reflection.sources?.[0] ? ` (${reflection.sources[0].fileName}:${reflection.sources[0].line})` : '';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => {
    // An entry point is named after its package (`@module @herald/x` in its doc comment); else
    // TypeDoc names it after its folder (`x/src`).
    for (const module of context.project.getChildrenByKind(ReflectionKind.Module)) {
      if (!module.name.startsWith('@')) {
        app.logger.warn(
          `Entry point ${module.name} is not named after its package: end its doc comment with @module <package name>`,
        );
      }
    }
    for (const reflection of context.project.getReflectionsByKind(exported)) {
      if (!reflection.parent?.kindOf(ReflectionKind.Module | ReflectionKind.Project)) continue;
      const name = reflection.getFriendlyFullName();
      if (!hasSummary(reflection)) app.logger.warn(`${name}${where(reflection)} has no summary in its doc comment`);
      if (!commentsOf(reflection).some((comment) => comment.getTag('@example'))) {
        app.logger.warn(`${name}${where(reflection)} has no @example in its doc comment`);
      }
      if (!reflection.kindOf(ReflectionKind.Class | ReflectionKind.Interface)) continue;
      for (const child of reflection.children ?? []) {
        // Inherited and implemented members are documented where they are declared.
        if (!child.kindOf(member) || child.inheritedFrom || child.implementationOf || hasSummary(child)) continue;
        app.logger.warn(`${child.getFriendlyFullName()}${where(child)} has no summary in its doc comment`);
      }
    }
  });
}
