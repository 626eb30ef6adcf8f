// CSV (RFC 4180): a header row of every column, then one row per event; a
// cell is empty when the event has no such field. Rows end in CRLF as the RFC
// says. A field is quoted when it holds a comma, a quote, CR or LF (quotes
// doubled); reject texts and ids (any printable ASCII) do. An empty string the
// event does carry is written `""`, so a reader that cares can tell it from an
// absent field. Book levels are one JSON cell each.

import type { ExternalEvent } from '../../engine/format.js';
import { OutputBuffer } from '../../cli/output.js';
import { TimeText } from './clock.js';
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
const LAST = COLUMNS.length - 1;
/** COMMAS[k]: the separators that skip k - 1 empty cells. */
const COMMAS = COLUMNS.map((_, k) => ','.repeat(k));

function cell(v: string | number | boolean | object): string {
  return typeof v === 'string' ? csvField(v) : typeof v === 'object' ? csvField(JSON.stringify(v)) : String(v);
}

export class CsvSink implements EventSink {
  private readonly out: OutputBuffer;
  private readonly time = new TimeText();
  private readonly cells: string[] = COLUMNS.map(() => '');
  private count = 0;

  /** `header` false: rows only (a part of an export written in parallel, whose first part has the header). */
  constructor(stream: Writable, header = true) {
    this.out = new OutputBuffer(stream);
    if (header) this.out.line(CSV_HEADER + '\r');
  }

  get closed(): boolean {
    return this.out.closed;
  }

  write(ts: number, e: ExternalEvent): void {
    this.out.line(this.row(this.time.format(ts), e) + '\r');
    this.count++;
  }

  /**
   * Columns follow formatEvent's key order, so a row is one pass over the
   * event's keys, commas standing in for the empty cells between them; an
   * event whose keys go back (a cancelRejected) takes the slower way.
   */
  private row(time: string, e: ExternalEvent): string {
    let line = '';
    let last = -1;
    for (const key in e) {
      const at = columnOf(key, e.seq);
      if (at <= last) return this.rowAnyOrder(time, e);
      if (at > TS && last < TS) {
        line += COMMAS[TS - last] + time;
        last = TS;
      }
      line += (last < 0 ? COMMAS[at] : COMMAS[at - last]) + cell(e[key]);
      last = at;
    }
    return line + COMMAS[LAST - last];
  }

  private rowAnyOrder(time: string, e: ExternalEvent): string {
    const cells = this.cells;
    cells.fill('');
    cells[TS] = time;
    for (const key in e) cells[columnOf(key, e.seq)] = cell(e[key]);
    return cells.join(',');
  }

  drained(): Promise<void> | undefined {
    return this.out.drained() ?? undefined;
  }

  async end(): Promise<number> {
    await this.out.end();
    return this.count;
  }
}
