// The one way a JSON file an operator or analyst wrote is read: any failure
// (missing, unreadable, not JSON) is an error that starts with the file's
// name, so the message says which of several files to fix.

import { readFileSync } from 'node:fs';

export function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
}
