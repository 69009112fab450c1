/**
 * Every case. (f) is loaded only when asked for: it brings Inversify, whose import alone costs a
 * worker process a fifth of a second.
 * @module
 */

import { cases, type Case, type Row } from './cases.js';

export async function allCases(): Promise<Case[]> {
  const { bootCase } = await import('./boot.js');
  return [...cases, bootCase];
}

export async function findRow(caseId: string, rowName: string): Promise<Row> {
  const within = caseId === 'f' ? await allCases() : cases;
  const row = within.find((c) => c.id === caseId)?.rows.find((r) => r.name === rowName);
  if (row === undefined) throw new Error(`no row '${rowName}' in case '${caseId}'`);
  return row;
}
