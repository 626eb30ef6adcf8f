// TEMPORARY (replaced by the export branch): jsonl only.
import type { ExternalEvent, InstrumentSpec } from '../../engine/index.js';
import { createWriteStream } from 'node:fs';
import { OutputBuffer } from '../../cli/output.js';
import { eventRow } from '../rows.js';

export type ExportFormat = 'jsonl' | 'csv' | 'parquet' | 'avro';
export interface ExportContext { instruments: InstrumentSpec[] }
export interface EventSink {
  write(ts: number, e: ExternalEvent): void;
  drained(): Promise<void> | undefined;
  end(): Promise<number>;
}
export function openEventSink(_format: ExportFormat, out: string | undefined, _ctx: ExportContext): EventSink {
  const buf = new OutputBuffer(out === undefined ? process.stdout : createWriteStream(out));
  let n = 0;
  return {
    write(ts, e) { n++; buf.line(JSON.stringify(eventRow(ts, e))); },
    drained() { return buf.drained() ?? undefined; },
    async end() { await buf.end(); return n; },
  };
}
