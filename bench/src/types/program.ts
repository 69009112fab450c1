/**
 * The generated programs of `npm run bench:types`: N resources declared in `ResourceModels`, ten
 * custom events each in `HeraldEvents`, and a fixed set of call sites (`notify`, `notifySync`,
 * `subscribe`, `@OnResource`), all correct; and the same calls written against emittery's
 * `Emittery<Map>`, whose map has one key per (resource, event).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The shape of one generated program. */
export interface ProgramShape {
  /** Resources declared. */
  readonly resources: number;
  /** Call sites of each kind; 0 everywhere gives the declarations alone. */
  readonly notify: number;
  readonly notifySync: number;
  readonly subscribe: number;
  readonly decorated: number;
  /** How many distinct resources the call sites use, round robin (at most `resources`). */
  readonly spread: number;
}

/** The call sites of the issue: 200 notify, 200 notifySync, 200 subscribe, 100 `@OnResource`. */
export const ISSUE_CALLS = { notify: 200, notifySync: 200, subscribe: 200, decorated: 100 } as const;

/** Events of the standard lifecycle the call sites use, with the payload class they carry. */
const LIFECYCLE: readonly (readonly [string, 'DB' | 'API'])[] = [
  ['before_create', 'DB'],
  ['precommit_create', 'DB'],
  ['after_create', 'DB'],
  ['before_update', 'DB'],
  ['after_update', 'DB'],
  ['before_delete', 'DB'],
  ['after_delete', 'DB'],
  ['before_response', 'API'],
];
/** Every event of the standard lifecycle (the emittery map declares them all, as Herald does). */
const ALL_LIFECYCLE = [
  ...['before', 'precommit', 'after', 'abort'].flatMap((p) => ['create', 'update', 'delete'].map((a) => `${p}_${a}`)),
  'before_read',
  'after_read',
  'abort_read',
  'precommit_add_association',
  'precommit_delete_associations',
  'after_status_update',
];
const API_EVENTS = ['before_response', 'after_request'];
const CUSTOM = 10;

const res = (i: number) => `res${i}`;
const model = (i: number) => `Model${i}`;

/** The i-th call site's (resource index, event, payload class): lifecycle and custom events alternate. */
function site(i: number, shape: ProgramShape): { r: number; event: string; kind: 'DB' | 'API' } {
  const r = i % Math.max(1, Math.min(shape.spread, shape.resources));
  if (i % 2 === 0) {
    const [event, kind] = LIFECYCLE[(i >> 1) % LIFECYCLE.length]!;
    return { r, event, kind };
  }
  return { r, event: `custom${(i >> 1) % CUSTOM}`, kind: 'DB' };
}

const payloadClass = (kind: 'DB' | 'API') => (kind === 'DB' ? 'DBEventPayload' : 'APIEventPayload');

function payloadExpr(kind: 'DB' | 'API', r: number): string {
  return kind === 'DB'
    ? `new DBEventPayload(undefined, { states: [m${r}] })`
    : `new APIEventPayload(undefined, { methodName: 'm', action: 'a', states: [m${r}] })`;
}

/** Writes call sites into `body`, noting the resources they use in `used`. */
function siteWriter(shape: ProgramShape) {
  const used = new Set<number>();
  const body: string[] = [];
  const sites = (count: number, write: (s: ReturnType<typeof site>, i: number) => string, into = body) => {
    for (let i = 0; i < count; i++) {
      const s = site(i, shape);
      used.add(s.r);
      into.push(write(s, i));
    }
  };
  /** The import of the models and model values the sites use. */
  const modelImport = () => {
    const names = [...used].sort((a, b) => a - b).map((r) => `m${r}, type ${model(r)}`);
    return names.length > 0 ? `import { ${names.join(', ')} } from './models.js';` : '';
  };
  return { body, sites, modelImport };
}

function modelsSource(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++)
    lines.push(`export interface ${model(i)} { readonly id: string; readonly size${i}: number }`);
  for (let i = 0; i < n; i++) lines.push(`export declare const m${i}: ${model(i)};`);
  return lines.join('\n');
}

function heraldDeclarations(n: number): string {
  const models: string[] = [];
  const events: string[] = [];
  for (let i = 0; i < n; i++) {
    models.push(`    ${res(i)}: ${model(i)};`);
    for (let e = 0; e < CUSTOM; e++) {
      events.push(`    ${res(i)}Custom${e}: EventSpec<'${res(i)}', 'custom${e}', DBEventPayload<${model(i)}>>;`);
    }
  }
  return [
    `import type { DBEventPayload, EventSpec } from '@herald/core';`,
    `import type { ${Array.from({ length: n }, (_, i) => model(i)).join(', ')} } from './models.js';`,
    `declare module '@herald/core' {`,
    `  interface ResourceModels {`,
    ...models,
    `  }`,
    `  interface HeraldEvents {`,
    ...events,
    `  }`,
    `}`,
  ].join('\n');
}

function heraldCalls(shape: ProgramShape): string {
  const { body, sites, modelImport } = siteWriter(shape);
  sites(shape.notify, (s) => `void registry.notify('${res(s.r)}', '${s.event}', 'svc', ${payloadExpr(s.kind, s.r)});`);
  sites(
    shape.notifySync,
    (s) => `registry.notifySync('${res(s.r)}', '${s.event}', 'svc', ${payloadExpr(s.kind, s.r)});`,
  );
  sites(
    shape.subscribe,
    (s) => `registry.subscribe((payload) => payload.latestState?.id, '${res(s.r)}', '${s.event}');`,
  );
  const methods: string[] = [];
  sites(
    shape.decorated,
    (s, i) =>
      `  @OnResource('${res(s.r)}', '${s.event}')\n  on${i}(payload: ${payloadClass(s.kind)}<${model(s.r)}>): void { void payload; }`,
    methods,
  );
  return [
    `import { APIEventPayload, CallbackRegistry, DBEventPayload, OnResource } from '@herald/core';`,
    modelImport(),
    `import './declarations.js';`,
    `export const registry = new CallbackRegistry();`,
    ...body,
    `export class Handlers {`,
    ...methods,
    `}`,
  ].join('\n');
}

function emitteryMap(n: number): string {
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    for (const e of ALL_LIFECYCLE) keys.push(`  '${res(i)}:${e}': DBEventPayload<${model(i)}>;`);
    for (const e of API_EVENTS) keys.push(`  '${res(i)}:${e}': APIEventPayload<${model(i)}>;`);
    for (let e = 0; e < CUSTOM; e++) keys.push(`  '${res(i)}:custom${e}': DBEventPayload<${model(i)}>;`);
  }
  return [
    `import type { APIEventPayload, DBEventPayload } from '@herald/core';`,
    `import type { ${Array.from({ length: n }, (_, i) => model(i)).join(', ')} } from './models.js';`,
    `export interface Events {`,
    ...keys,
    `}`,
  ].join('\n');
}

function emitteryCalls(shape: ProgramShape): string {
  const { body, sites, modelImport } = siteWriter(shape);
  // notifySync has no emittery counterpart: emitSerial (handlers one by one) is the closest.
  // Emittery 2 hands a listener `{ name, data }`; `@OnResource` methods are wired with `on`.
  sites(shape.notify, (s) => `void emitter.emit('${res(s.r)}:${s.event}', ${payloadExpr(s.kind, s.r)});`);
  sites(shape.notifySync, (s) => `void emitter.emitSerial('${res(s.r)}:${s.event}', ${payloadExpr(s.kind, s.r)});`);
  sites(shape.subscribe, (s) => `emitter.on('${res(s.r)}:${s.event}', ({ data }) => void data.latestState?.id);`);
  const methods: string[] = [];
  const wiring: string[] = [];
  sites(
    shape.decorated,
    (s, i) => `  on${i}(payload: ${payloadClass(s.kind)}<${model(s.r)}>): void { void payload; }`,
    methods,
  );
  sites(
    shape.decorated,
    (s, i) => `emitter.on('${res(s.r)}:${s.event}', ({ data }) => handlers.on${i}(data));`,
    wiring,
  );
  return [
    `import Emittery from 'emittery';`,
    `import { APIEventPayload, DBEventPayload } from '@herald/core';`,
    modelImport(),
    `import type { Events } from './declarations.js';`,
    `export const emitter = new Emittery<Events>();`,
    ...body,
    `export class Handlers {`,
    ...methods,
    `}`,
    `const handlers = new Handlers();`,
    ...wiring,
  ].join('\n');
}

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023', 'ESNext.Disposable'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    types: [],
    strict: true,
    experimentalDecorators: true,
    skipLibCheck: true,
    noEmit: true,
  },
  include: ['*.ts'],
};

/** Writes the program into `dir` (replacing what was there) and returns `dir`. */
export function writeProgram(dir: string, peer: 'herald' | 'emittery', shape: ProgramShape): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  writeFileSync(join(dir, 'models.ts'), modelsSource(shape.resources));
  if (peer === 'herald') {
    writeFileSync(join(dir, 'declarations.ts'), heraldDeclarations(shape.resources));
    writeFileSync(join(dir, 'calls.ts'), heraldCalls(shape));
  } else {
    writeFileSync(join(dir, 'declarations.ts'), emitteryMap(shape.resources));
    writeFileSync(join(dir, 'calls.ts'), emitteryCalls(shape));
  }
  return dir;
}
