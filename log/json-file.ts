// The one way a JSON file an operator or analyst wrote is read: any failure
// (missing, unreadable, not JSON) is an error that starts with the file's
// name, and for a syntax error the line and column, so the message says
// which of several files to fix and where.

import { readFileSync } from 'node:fs';

export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`${file}${whereIn(text, (e as Error).message)}: ${(e as Error).message}`);
  }
}

/**
 * Line and column (1-based) of the offset a JSON.parse message names ("... at
 * position N": V8 gives no line), or null when it names none.
 */
export function jsonErrorAt(text: string, message: string): { line: number; column: number } | null {
  const m = /at position (\d+)/.exec(message);
  if (m === null) return null;
  const at = Math.min(Number(m[1]), text.length);
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < at; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: at - start + 1 };
}

/** ":LINE:COLUMN" of a JSON.parse error, as an editor takes FILE:LINE:COLUMN; "" when it names no position. */
export function whereIn(text: string, message: string): string {
  const at = jsonErrorAt(text, message);
  return at === null ? '' : `:${at.line}:${at.column}`;
}
