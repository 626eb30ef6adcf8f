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
 * ":LINE:COLUMN" (1-based) of the offset a JSON.parse message names ("... at
 * position N"; V8 says no line for it), or "" when it names none. An
 * editor jumps to FILE:LINE:COLUMN.
 */
export function whereIn(text: string, message: string): string {
  const m = /at position (\d+)/.exec(message);
  if (m === null) return '';
  const at = Math.min(Number(m[1]), text.length);
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < at; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return `:${line}:${at - start + 1}`;
}
