// Parquet through parquet-wasm (arrow-rs compiled to WebAssembly). Its one
// incremental writer is `transformParquetStream`: a ReadableStream of record
// batches in, a ReadableStream of file bytes out, with arrow-rs's
// AsyncArrowWriter between them, which closes a row group every
// ROW_GROUP_ROWS rows and hands its bytes on. So an export holds at most one
// batch being built in JS and one row group being encoded in wasm memory,
// however many events the day has. Batches cross into wasm as Arrow IPC.
//
// The wasm writer ignores a failed batch write (it does not end the stream),
// so after writing a file we read its footer back and compare the row count.

import { openAsBlob } from 'node:fs';
import type { Writable } from 'node:stream';
import { RecordBatchStreamWriter } from 'apache-arrow';
import {
  Compression, ParquetFile, Table as WasmTable, WriterPropertiesBuilder, transformParquetStream,
  type RecordBatch as WasmRecordBatch,
} from 'parquet-wasm';
import type { ExternalEvent } from '../../engine/format.js';
import { EventBatch } from './arrow-batch.js';
import { scalesOf } from './columns.js';
import type { EventSink, ExportContext } from './index.js';
import { finish } from './output.js';

/** Rows per Arrow batch handed to wasm: large enough to amortise the IPC crossing, small next to a row group. */
const BATCH_ROWS = 1 << 16;
/** Rows per row group: DuckDB and Spark parallelise by row group; ~0.5M rows is ~tens of MB encoded. */
const ROW_GROUP_ROWS = 1 << 19;

export class ParquetSink implements EventSink {
  private readonly batch: EventBatch;
  private controller!: ReadableStreamDefaultController<WasmRecordBatch>;
  private readonly input: ReadableStream<WasmRecordBatch>;
  private wake: (() => void) | null = null;
  private waiting: Promise<void> | null = null;
  private readonly written: Promise<void>;
  private count = 0;
  private batches = 0;

  constructor(private readonly stream: Writable, private readonly path: string | undefined, ctx: ExportContext) {
    this.batch = new EventBatch(scalesOf(ctx.instruments), BATCH_ROWS);
    this.input = new ReadableStream<WasmRecordBatch>({
      start: (c) => { this.controller = c; },
      pull: () => { this.wake?.(); },
    }, { highWaterMark: 1 });
    this.written = this.pump();
    // end() reports a failure; until then it must not count as unhandled
    this.written.catch(() => undefined);
  }

  private async pump(): Promise<void> {
    const props = new WriterPropertiesBuilder()
      .setCompression(Compression.SNAPPY)
      .setMaxRowGroupSize(ROW_GROUP_ROWS)
      .setCreatedBy('matchlog replay --events')
      .build();
    const bytes = await transformParquetStream(this.input, props) as ReadableStream<Uint8Array>;
    for await (const chunk of bytes) {
      if (!this.stream.write(chunk)) await new Promise((resolve) => this.stream.once('drain', resolve));
    }
    await finish(this.stream);
  }

  write(ts: number, e: ExternalEvent): void {
    this.batch.add(ts, e);
    this.count++;
    if (this.batch.full) this.send();
  }

  private send(): void {
    const ipc = RecordBatchStreamWriter.writeAll([this.batch.finish()]).toUint8Array(true);
    this.batch.reset();
    const table = WasmTable.fromIPCStream(ipc);
    for (const b of table.recordBatches()) this.controller.enqueue(b);
    table.free();
    this.batches++;
  }

  drained(): Promise<void> | undefined {
    if ((this.controller.desiredSize ?? 1) > 0) return undefined;
    if (this.waiting === null) {
      this.waiting = new Promise<void>((resolve) => {
        this.wake = () => { this.wake = null; this.waiting = null; resolve(); };
      });
    }
    // a writer that failed never pulls again: let the failure through instead of waiting forever
    return Promise.race([this.waiting, this.written]);
  }

  async end(): Promise<number> {
    // an empty export still needs one (empty) batch: the writer takes the schema from it
    if (this.batch.rows > 0 || this.batches === 0) this.send();
    this.controller.close();
    await this.written;
    if (this.path !== undefined) {
      const file = await ParquetFile.fromFile(await openAsBlob(this.path));
      const rows = file.metadata().fileMetadata().numRows();
      file.free();
      if (rows !== this.count) throw new Error(`parquet export: ${this.path} holds ${rows} rows, ${this.count} events were written`);
    }
    return this.count;
  }
}
