// Avro object container file through avsc's block encoder (the log's own
// container.ts writes one block per group commit; an export just wants avsc's
// size-based blocks). The writer schema in the header is the published
// replay/schema/event.v1.avsc, verbatim, docs included. Decimals are strings
// there (README.md "Exports" says why), so a record is the event itself.

import avro from 'avsc';
import { existsSync, readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { ExternalEvent } from '../../engine/format.js';
import type { EventSink } from './index.js';
import { finish } from './output.js';

export const EVENT_SCHEMA_VERSION = 1;
const SCHEMA_FILE = `event.v${EVENT_SCHEMA_VERSION}.avsc`;

function schemaPath(): string {
  // from source (replay/export/) and from the build (dist/replay/export/) alike
  for (const rel of ['../schema/', '../../../replay/schema/']) {
    const file = fileURLToPath(new URL(rel + SCHEMA_FILE, import.meta.url));
    if (existsSync(file)) return file;
  }
  throw new Error(`matchlog: replay/schema/${SCHEMA_FILE} not found next to the build`);
}

/** The published schema, parsed. */
export const eventSchema = JSON.parse(readFileSync(schemaPath(), 'utf8')) as avro.Schema;

export class AvroSink implements EventSink {
  private readonly encoder: avro.streams.BlockEncoder;
  private readonly flushed: Promise<void>;
  private failure: Error | null = null;
  private blocked: Promise<void> | null = null;
  private count = 0;

  constructor(stream: Writable) {
    const options = {
      // eager: an export of no events is still a readable file with its schema
      writeHeader: 'always' as const,
      // header metadata, as the log's files carry (avsc's typings lack the option)
      metadata: { 'matchlog.kind': Buffer.from('events'), 'matchlog.version': Buffer.from(String(EVENT_SCHEMA_VERSION)) },
    };
    this.encoder = new avro.streams.BlockEncoder(eventSchema, options);
    this.flushed = new Promise<void>((resolve, reject) => {
      this.encoder.on('error', (e: Error) => { this.failure ??= e; reject(e); });
      stream.on('error', reject);
      this.encoder.on('end', () => { finish(stream).then(resolve, reject); });
    });
    this.flushed.catch(() => undefined); // reported by end()
    this.encoder.pipe(stream, { end: false });
  }

  write(ts: number, e: ExternalEvent): void {
    if (this.failure !== null) throw this.failure;
    if (!this.encoder.write({ ...e, ts }) && this.blocked === null) {
      this.blocked = new Promise((resolve) => this.encoder.once('drain', () => { this.blocked = null; resolve(); }));
    }
    this.count++;
  }

  drained(): Promise<void> | undefined {
    return this.blocked === null ? undefined : Promise.race([this.blocked, this.flushed]);
  }

  async end(): Promise<number> {
    this.encoder.end();
    await this.flushed;
    return this.count;
  }
}
