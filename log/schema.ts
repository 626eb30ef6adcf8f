// The Avro schemas of the log and of snapshots, loaded from log/schema/*.avsc
// (the files are the interface; this module only finds and parses them).
// Every file we write carries its writer schema in its header, so a newer
// reader resolves an older file against the schema it was written with.

import avro from 'avsc';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Bumped with every schema change; a new version must still read every older file. */
export const RECORD_SCHEMA_VERSION = 1;
export const SNAPSHOT_SCHEMA_VERSION = 2;

/** Fully qualified names of the record body branches. */
export const NS = 'matchlog.log.';

function schemaDir(): string {
  // from source (log/) and from the build (dist/log/) alike
  for (const rel of ['./schema/', '../../log/schema/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}record.v${RECORD_SCHEMA_VERSION}.avsc`)) return dir;
  }
  throw new Error('matchlog: log/schema/*.avsc not found next to the build');
}

const dir = schemaDir();

function load(name: string): { json: string; type: avro.Type } {
  const parsed: unknown = JSON.parse(readFileSync(`${dir}${name}`, 'utf8'));
  // compact, but with docs: the file header is the documentation any Avro tool shows
  return { json: JSON.stringify(parsed), type: avro.Type.forSchema(parsed as avro.Schema) };
}

const record = load(`record.v${RECORD_SCHEMA_VERSION}.avsc`);
const snapshot = load(`snapshot.v${SNAPSHOT_SCHEMA_VERSION}.avsc`);

export const recordSchemaJson = record.json;
export const recordType = record.type;
export const snapshotSchemaJson = snapshot.json;
export const snapshotType = snapshot.type;

/** How to read data written with `writerJson` as `reader`: null when they are the same schema. */
export type Resolver = ReturnType<avro.Type['createResolver']>;

export class SchemaReader {
  private readonly cache = new Map<string, Resolver | null>();

  constructor(readonly reader: avro.Type, private readonly readerJson: string) {}

  /** Throws when the writer schema cannot be resolved (an incompatible or corrupt header). */
  resolver(writerJson: string): Resolver | undefined {
    if (writerJson === this.readerJson) return undefined;
    let r = this.cache.get(writerJson);
    if (r === undefined) {
      const writer = avro.Type.forSchema(JSON.parse(writerJson) as avro.Schema);
      r = writer.equals(this.reader) ? null : this.reader.createResolver(writer);
      this.cache.set(writerJson, r);
    }
    return r === null ? undefined : r;
  }
}

export const recordReader = new SchemaReader(recordType, recordSchemaJson);
export const snapshotReader = new SchemaReader(snapshotType, snapshotSchemaJson);
