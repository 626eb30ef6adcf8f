// CSV (RFC 4180): a header row of every column, then one row per event; a
// cell is empty when the event has no such field. Rows end in CRLF as the RFC
// says. A field is quoted when it holds a comma, a quote, CR or LF (quotes
// doubled); reject texts and ids (any printable ASCII) do. An empty string the
// event does carry is written `""`, so a reader that cares can tell it from an
// absent field. Book levels are one JSON cell each.

import type { ExternalEvent } from '../../engine/format.js';
import { OutputBuffer } from '../../cli/output.js';
import { formatTime } from '../time.js';
import { COLUMNS, columnOf } from './columns.js';
import type { EventSink } from './index.js';
import type { Writable } from 'node:stream';

const NEEDS_QUOTES = /[",\r\n]/;
const QUOTE = /"/g;

/** One CSV field. */
export function csvField(s: string): string {
  if (s === '') return '""';
  return NEEDS_QUOTES.test(s) ? `"${s.replace(QUOTE, '""')}"` : s;
}

export const CSV_HEADER = COLUMNS.map((c) => c.name).join(',');
const TS = columnOf('ts', 0);

export class CsvSink implements EventSink {
  private readonly out: OutputBuffer;
  private readonly cells: string[] = COLUMNS.map(() => '');
  private count = 0;

  constructor(stream: Writable) {
    this.out = new OutputBuffer(stream);
    this.out.line(CSV_HEADER + '\r');
  }

  get closed(): boolean {
    return this.out.closed;
  }

  write(ts: number, e: ExternalEvent): void {
    const cells = this.cells;
    cells[TS] = formatTime(ts);
    for (const key in e) {
      const v = e[key];
      cells[columnOf(key, e.seq)] = typeof v === 'string' ? csvField(v)
        : typeof v === 'object' ? csvField(JSON.stringify(v))
          : String(v);
    }
    this.out.line(cells.join(',') + '\r');
    cells.fill('');
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
