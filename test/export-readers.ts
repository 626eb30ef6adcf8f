// Reading the event exports back with the tools an analyst would use
// (csv-parse, parquet-wasm + apache-arrow, avsc), into plain rows comparable
// with the JSONL export: decimals as minimal decimal strings, `ts` as epoch µs
// in the typed formats, absent values left out.

import { readFileSync } from 'node:fs';
import { type Table, type Vector, tableFromIPC } from 'apache-arrow';
import avro from 'avsc';
import { parse as parseCsv } from 'csv-parse/sync';
import { readParquet } from 'parquet-wasm';
import { COLUMNS, type Scales } from '../replay/export/columns.js';

/** A Decimal128 value (4 little-endian 32-bit words, two's complement) as a minimal decimal string. */
export function decimalText(words: Uint32Array, scale: number): string {
  let v = 0n;
  for (let i = 3; i >= 0; i--) v = (v << 32n) | BigInt(words[i]);
  if (v >= 1n << 127n) v -= 1n << 128n;
  const neg = v < 0n;
  let s = (neg ? -v : v).toString().padStart(scale + 1, '0');
  if (scale > 0) s = `${s.slice(0, -scale)}.${s.slice(-scale)}`.replace(/\.?0+$/, '');
  return (neg ? '-' : '') + s;
}

/** Every value of an Int64 or Timestamp column, exactly (Vector.get of a timestamp rounds to ms). */
export function int64Values(v: Vector): bigint[] {
  const out: bigint[] = [];
  for (const d of v.data) for (let i = 0; i < d.length; i++) out.push((d.values as BigInt64Array)[d.offset + i]);
  return out;
}

export function readParquetFile(file: string): Table {
  return tableFromIPC(readParquet(readFileSync(file)).intoIPCStream());
}

/** Parquet rows: ts in epoch µs, decimals as strings, nulls left out. */
export function parquetRows(file: string, scales: Scales): Record<string, unknown>[] {
  const t = readParquetFile(file);
  const rows: Record<string, unknown>[] = Array.from({ length: t.numRows }, () => ({}));
  for (const c of COLUMNS) {
    const col = t.getChild(c.name) as Vector;
    const ints = c.kind === 'int64' || c.kind === 'timestamp' ? int64Values(col) : [];
    for (let i = 0; i < t.numRows; i++) {
      if (!col.isValid(i)) continue;
      const v: unknown = col.get(i);
      switch (c.kind) {
        case 'int64': case 'timestamp': rows[i][c.name] = Number(ints[i]); break;
        case 'price': case 'qty': case 'notional': rows[i][c.name] = decimalText(v as Uint32Array, scales[c.kind]); break;
        case 'levels':
          rows[i][c.name] = (v as Vector).toArray().map((l: { price: Uint32Array; qty: Uint32Array; orders: number }) =>
            ({ price: decimalText(l.price, scales.price), qty: decimalText(l.qty, scales.qty), orders: l.orders }));
          break;
        default: rows[i][c.name] = v;
      }
    }
  }
  return rows;
}

/** CSV rows as csv-parse reads them: every cell a string, '' for absent. */
export function csvRows(file: string): Record<string, string>[] {
  return parseCsv(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];
}

/** The JSONL row as a CSV row (what csvRows should give for it). */
export function asCsvRow(o: Record<string, unknown>): Record<string, string> {
  const want: Record<string, string> = {};
  for (const c of COLUMNS) {
    const v = o[c.name];
    want[c.name] = v === undefined ? '' : typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return want;
}

/** Avro records as plain objects, nulls left out (ts in epoch µs). */
export async function avroRows(file: string): Promise<Record<string, unknown>[]> {
  const records: unknown[] = [];
  await new Promise<void>((resolve, reject) => {
    avro.createFileDecoder(file).on('data', (r: unknown) => records.push(r)).on('end', resolve).on('error', reject);
  });
  return records.map((r) => {
    const plain = JSON.parse(JSON.stringify(r)) as Record<string, unknown>;
    for (const k of Object.keys(plain)) if (plain[k] === null) delete plain[k];
    return plain;
  });
}
