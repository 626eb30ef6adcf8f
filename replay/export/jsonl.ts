// JSON lines: the `matchlog apply` line of each event with `ts` (ISO-8601 UTC,
// microseconds) inserted right after `seq`. Every other key keeps formatEvent's
// order, so deleting `ts` gives back apply's line byte for byte, and tools that
// diff a replay against a live capture need no normalisation.

import type { ExternalEvent } from '../../engine/format.js';
import { OutputBuffer } from '../../cli/output.js';
import { TimeText } from './clock.js';
import type { EventSink } from './index.js';
import type { Writable } from 'node:stream';

const SEQ_KEY = '"seq":';

/** The JSONL line of one event. */
export function jsonlLine(time: string, e: ExternalEvent): string {
  const json = JSON.stringify(e);
  // Inside a JSON string every quote is escaped, so the first unescaped `"seq":`
  // is the key; its value is a number, which ends at the next , or }.
  const at = json.indexOf(SEQ_KEY);
  if (at < 0) throw new Error(`event export: event without seq: ${json.slice(0, 200)}`);
  let end = at + SEQ_KEY.length;
  while (end < json.length && json[end] !== ',' && json[end] !== '}') end++;
  return `${json.slice(0, end)},"ts":"${time}"${json.slice(end)}`;
}

export class JsonlSink implements EventSink {
  private readonly out: OutputBuffer;
  private readonly time = new TimeText();
  private count = 0;

  constructor(stream: Writable) {
    this.out = new OutputBuffer(stream);
  }

  get closed(): boolean {
    return this.out.closed;
  }

  write(ts: number, e: ExternalEvent): void {
    this.out.line(jsonlLine(this.time.format(ts), e));
    this.count++;
  }

  drained(): Promise<void> | undefined {
    return this.out.drained() ?? undefined;
  }

  async end(): Promise<number> {
    await this.out.end();
    return this.count;
  }
}
