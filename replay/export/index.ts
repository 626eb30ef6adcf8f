// Event exports of `matchlog replay DIR --events`: the sinks the replay writes
// its reconstructed events into. One column list (columns.ts) shapes CSV,
// Parquet and the Avro schema; JSONL is `matchlog apply`'s line plus `ts`.
// README.md "Exports" documents the formats.

import type { InstrumentSpec } from '../../engine/commands.js';
import type { ExternalEvent } from '../../engine/format.js';
import { AvroSink } from './avro.js';
import { CsvSink } from './csv.js';
import { JsonlSink } from './jsonl.js';
import { openOutput } from './output.js';

export type ExportFormat = 'jsonl' | 'csv' | 'parquet' | 'avro';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['jsonl', 'csv', 'parquet', 'avro'];

export interface ExportContext {
  /** Every instrument in the log: the decimal scales of the typed formats come from them. */
  instruments: InstrumentSpec[];
}

export interface EventSink {
  /** One event: `ts` = the sequencer timestamp of its command (epoch microseconds); `e` = formatEvent(...) output (decimal strings, "buy"/"sell"). */
  write(ts: number, e: ExternalEvent): void;
  /** Resolves when the writer can take more (backpressure), or undefined when it can now. */
  drained(): Promise<void> | undefined;
  /** Flushes and closes; resolves when everything is on disk / stdout. Returns the number of events written. */
  end(): Promise<number>;
  /** True once the reader of stdout went away (`| head`, text formats): the replay may stop early. */
  readonly closed?: boolean;
}

/** Opens the sink; a file that cannot be created throws here, before any replay work. */
export function openEventSink(format: ExportFormat, out: string | undefined /* undefined = stdout */, ctx: ExportContext): EventSink {
  switch (format) {
    case 'jsonl': return new JsonlSink(openOutput(out));
    case 'csv': return new CsvSink(openOutput(out));
    case 'avro': return new AvroSink(openOutput(out));
    case 'parquet': {
      const stream = openOutput(out);
      // apache-arrow and the 5 MB wasm take ~0.4 s to load: only a Parquet export pays for them
      return new LoadingSink(import('./parquet.js').then((m) => new m.ParquetSink(stream, out, ctx)));
    }
    default: throw new Error(`unknown export format ${String(format)} (one of ${EXPORT_FORMATS.join(', ')})`);
  }
}

/** A sink whose code is still loading: events wait in memory until it is there, and drained() waits for it. */
class LoadingSink implements EventSink {
  private sink: EventSink | null = null;
  private early: [number, ExternalEvent][] = [];
  private readonly ready: Promise<void>;

  constructor(loading: Promise<EventSink>) {
    this.ready = loading.then((sink) => {
      this.sink = sink;
      for (const [ts, e] of this.early) sink.write(ts, e);
      this.early = [];
    });
    this.ready.catch(() => undefined); // reported by drained() and end()
  }

  write(ts: number, e: ExternalEvent): void {
    if (this.sink !== null) this.sink.write(ts, e);
    else this.early.push([ts, e]);
  }

  drained(): Promise<void> | undefined {
    return this.sink !== null ? this.sink.drained() : this.ready;
  }

  async end(): Promise<number> {
    await this.ready;
    return (this.sink as EventSink).end();
  }
}

