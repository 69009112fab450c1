/**
 * How the narrator's entries look on a terminal: indented plain text (coloured on a TTY), or one
 * JSON object per line.
 * @module
 */

import type { TimedEntry } from './narrator.js';

/** Options of {@link createPrinter}. */
export interface PrinterOptions {
  /** One JSON object per entry instead of text. */
  json: boolean;
  /** ANSI colours (only for text; only on a terminal). */
  color: boolean;
  /** Where lines go. */
  write: (line: string) => void;
}

const ANSI = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36 } as const;
type Style = keyof typeof ANSI;

/** The longest API payload shown in text mode; `--json` has them whole. */
const PAYLOAD_WIDTH = 100;

/** The label of a message entry, by how it travelled. */
const VIA_LABEL = { rpc: 'rpc', notification: 'notify', bridge: 'bridge' } as const;

/** Times in `--json` as the text shows them: durations to 0.01 ms, offsets to 0.1 ms. */
function roundedTimes(key: string, value: unknown): unknown {
  if (typeof value !== 'number') return value;
  if (key === 'durationMs') return Math.round(value * 100) / 100;
  if (key === 'atMs') return Math.round(value * 10) / 10;
  return value;
}

/**
 * A function that prints one entry.
 *
 * @example
 * ```ts
 * const narrator = new Narrator(createPrinter({ json: false, color: process.stdout.isTTY, write: console.log }));
 * ```
 */
export function createPrinter({ json, color, write }: PrinterOptions): (entry: TimedEntry) => void {
  if (json) return (entry) => write(JSON.stringify(entry, roundedTimes));
  const paint = (style: Style, text: string) => (color ? `\u001b[${ANSI[style]}m${text}\u001b[0m` : text);
  const label = (name: string) => `   ${name.padEnd(10)} `;
  let steps = 0;
  return (entry) => {
    switch (entry.kind) {
      case 'step':
        write('');
        write(paint('bold', `${++steps}. ${entry.title}`));
        break;
      case 'api': {
        const payload = JSON.stringify(entry.payload);
        const shown = payload.length > PAYLOAD_WIDTH ? `${payload.slice(0, PAYLOAD_WIDTH - 1)}…` : payload;
        write(paint('cyan', `${label('api')}${entry.eventType} ${shown}`));
        break;
      }
      case 'say':
        write(`${paint(entry.level === 'error' ? 'red' : 'magenta', label(entry.source))}${entry.message}`);
        break;
      case 'message':
        write(`${paint('blue', label(VIA_LABEL[entry.via]))}${entry.receiver} ← ${entry.name} ${entry.message}`);
        break;
      case 'notification': {
        const text = `${label('callbacks')}${entry.line} · took ${entry.durationMs.toFixed(2)} ms, at +${entry.atMs.toFixed(1)} ms`;
        const style: Style | undefined =
          entry.outcome === 'vetoed' || entry.outcome === 'retry'
            ? 'red'
            : entry.outcome === 'errors-logged' || entry.abortOf !== undefined
              ? 'yellow'
              : entry.subscribers.length === 0
                ? 'dim'
                : undefined;
        write(style === undefined ? text : paint(style, text));
        break;
      }
      case 'result':
        write(paint(entry.ok ? 'green' : 'red', `   ${entry.ok ? '✔' : '✘'} ${entry.message}`));
        break;
    }
  };
}
