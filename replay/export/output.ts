// Where an export goes: a file (opened now, so a bad path fails before the
// replay starts, not halfway through it) or stdout.

import { createWriteStream, openSync } from 'node:fs';
import type { Writable } from 'node:stream';

/** Lets several 64 KiB OutputBuffer flushes queue up instead of each waiting for the last write (default 16 KiB). */
const FILE_BUFFER = 1 << 20;

export function openOutput(out: string | undefined): Writable {
  if (out === undefined) return process.stdout;
  return createWriteStream(out, { fd: openSync(out, 'w'), highWaterMark: FILE_BUFFER });
}

/** Ends a file stream, or waits until what was written to stdout has left (stdout is never closed). */
export function finish(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (e?: Error | null): void => (e ? reject(e) : resolve());
    if (stream === process.stdout) stream.write('', done);
    else stream.end(done);
  });
}
