// The event exports of `matchlog replay --events`, read back by the tools
// analysts use: every format must say exactly what the JSONL says, and the
// JSONL without `ts` must be `matchlog apply`'s line (formatEvent's JSON).

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type Table, Type, type Decimal, type Dictionary, type Timestamp, type TimeUnit as TimeUnitT } from 'apache-arrow';
import { TimeUnit } from 'apache-arrow';
import avro from 'avsc';
import { avroRows, decimalText, parquetRows, readParquetFile } from './export-readers.js';
import { parse as parseCsv } from 'csv-parse/sync';
import fc from 'fast-check';
import { createEngine, formatEvent, type Command, type EngineEvent, type ExternalEvent, type InstrumentSpec } from '../engine/index.js';
import { COLUMNS, scalesOf, type Scales } from '../replay/export/columns.js';
import { writeDecimal128 } from '../replay/export/decimal128.js';
import { openEventSink, type ExportFormat } from '../replay/export/index.js';
import { formatTime } from '../replay/time.js';
import { INSTRUMENTS, commandArb } from './command-gen.js';

const dir = mkdtempSync(join(tmpdir(), 'matchlog-export-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Stamped { ts: number; e: ExternalEvent }

/** Ids may hold any printable ASCII: this account and clOrdId need CSV quoting. */
const QUOTED: Command[] = [
  { op: 'new', account: 'x,"y"', clOrdId: 'a"b,c', symbol: 'AAA', side: 'buy', type: 'limit', price: '95', qty: '3', tif: 'GTC' },
  { op: 'new', account: 'z', clOrdId: 'q', symbol: 'AAA', side: 'sell', type: 'limit', price: '95', qty: '1', tif: 'IOC' },
  { op: 'book', symbol: 'AAA', depth: 3 },
];

/** A real event stream: random commands through the engine, formatted as `matchlog apply` does, with increasing times. */
function eventStream(): { events: Stamped[]; instruments: InstrumentSpec[] } {
  const engine = createEngine();
  const cmds: Command[] = [...INSTRUMENTS, ...QUOTED, ...fc.sample(commandArb, { seed: 9, numRuns: 4000 }), ...QUOTED];
  const events: Stamped[] = [];
  let ts = 1_763_650_800_000_000; // 2025-11-20T15:00:00Z
  const out: EngineEvent[] = [];
  cmds.forEach((cmd, i) => {
    ts += 1 + ((i * 7919) % 5000);
    out.length = 0;
    engine.apply(cmd, i + 1, out);
    for (const e of out) events.push({ ts, e: formatEvent(e, engine) });
  });
  // texts with every character CSV must quote (the engine's own never carry raw newlines)
  events.push({ ts: ts + 1, e: { type: 'rejected', seq: cmds.length + 1, account: '', clOrdId: 'n\r\n1', symbol: 'AAA', reason: 'invalid_order', text: 'a, "b"\nc\r\nd,,"' } });
  const instruments = INSTRUMENTS.map((c) => {
    const { op: _op, ...spec } = c as Command & InstrumentSpec;
    return spec as InstrumentSpec;
  });
  return { events, instruments };
}

const { events, instruments } = eventStream();
const scales = scalesOf(instruments);

async function exportTo(format: ExportFormat, file: string, list: Stamped[], ins = instruments): Promise<number> {
  const sink = openEventSink(format, file, { instruments: ins });
  for (const { ts, e } of list) {
    sink.write(ts, e);
    const wait = sink.drained();
    if (wait) await wait;
  }
  return sink.end();
}

const files = Object.fromEntries((['jsonl', 'csv', 'parquet', 'avro'] as const).map((f) => [f, join(dir, `events.${f}`)])) as Record<ExportFormat, string>;
let exported: Promise<void> | null = null;
/** All four exports of the stream, once. */
function exportAll(): Promise<void> {
  exported ??= (async () => {
    for (const f of ['jsonl', 'csv', 'parquet', 'avro'] as const) assert.equal(await exportTo(f, files[f], events), events.length);
  })();
  return exported;
}

/** The JSONL export as objects, `ts` as epoch µs (the typed formats' form). */
function jsonlRows(): Record<string, unknown>[] {
  return readFileSync(files.jsonl, 'utf8').split('\n').filter((l) => l !== '').map((l, i) => {
    const o = JSON.parse(l) as Record<string, unknown>;
    assert.equal(o.ts, formatTime(events[i].ts));
    return { ...o, ts: events[i].ts };
  });
}

test('the stream covers every event type, both decimal paths and CSV-hostile strings', () => {
  const types = new Set(events.map((x) => x.e.type));
  for (const t of ['accepted', 'rejected', 'cancelled', 'replaced', 'cancelRejected', 'trade', 'bookDelta', 'book', 'massCancelled', 'instrument', 'status']) assert.ok(types.has(t), t);
  assert.deepEqual(scales, { price: 2, qty: 8, notional: 10 });
  assert.ok(events.some((x) => x.e.symbol === 'CCC' && x.e.type === 'trade'), 'CCC notionals pass 2^53 at scale 10');
});

test('JSONL: seq, then ts, and without ts exactly the apply line', async () => {
  await exportAll();
  const lines = readFileSync(files.jsonl, 'utf8').split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines.length, events.length);
  lines.forEach((line, i) => {
    const { ts, e } = events[i];
    const o = JSON.parse(line) as Record<string, unknown>;
    assert.equal(o.ts, formatTime(ts));
    const keys = Object.keys(o);
    assert.equal(keys[keys.indexOf('seq') + 1], 'ts');
    assert.equal(line.replace(`,"ts":"${formatTime(ts)}"`, ''), JSON.stringify(e));
  });
});

test('CSV parses with csv-parse into the JSONL rows, quoted strings intact', async () => {
  await exportAll();
  const text = readFileSync(files.csv, 'utf8');
  const rows = parseCsv(text, { columns: true }) as Record<string, string>[];
  const jsonl = jsonlRows();
  assert.equal(rows.length, jsonl.length);
  assert.deepEqual(Object.keys(rows[0]), COLUMNS.map((c) => c.name));
  rows.forEach((row, i) => {
    const want: Record<string, string> = {};
    for (const c of COLUMNS) {
      const v = c.name === 'ts' ? formatTime(events[i].ts) : jsonl[i][c.name];
      want[c.name] = v === undefined ? '' : typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
    }
    assert.deepEqual(row, want, `row ${i + 1}`);
  });
  const last = rows[rows.length - 1];
  assert.equal(last.text, 'a, "b"\nc\r\nd,,"');
  assert.equal(last.clOrdId, 'n\r\n1');
  assert.ok(rows.some((r) => r.account === 'x,"y"' && r.clOrdId === 'a"b,c'));
  assert.ok(text.startsWith(`${COLUMNS.map((c) => c.name).join(',')}\r\n`));
});

function assertArrowTypes(t: Table, s: Scales): void {
  for (const c of COLUMNS) {
    const f = t.schema.fields.find((x) => x.name === c.name);
    assert.ok(f, c.name);
    assert.equal(f.nullable, c.required !== true, `${c.name} nullable`);
    const type = f.type;
    switch (c.kind) {
      case 'int64': assert.equal(type.typeId, Type.Int); assert.equal(String(type), 'Int64', c.name); break;
      case 'int32': assert.equal(String(type), 'Int32', c.name); break;
      case 'timestamp':
        assert.equal(type.typeId, Type.Timestamp);
        assert.equal((type as Timestamp).unit, TimeUnit.MICROSECOND as TimeUnitT);
        assert.equal((type as Timestamp).timezone, 'UTC');
        break;
      case 'price': case 'qty': case 'notional':
        assert.equal(type.typeId, Type.Decimal, c.name);
        assert.equal((type as Decimal).precision, 38);
        assert.equal((type as Decimal).scale, s[c.kind], c.name);
        assert.equal((type as Decimal).bitWidth, 128);
        break;
      case 'category':
        assert.equal(type.typeId, Type.Dictionary, c.name);
        assert.equal((type as Dictionary).dictionary.typeId, Type.Utf8);
        break;
      case 'string': assert.equal(type.typeId, Type.Utf8, c.name); break;
      case 'bool': assert.equal(type.typeId, Type.Bool, c.name); break;
      case 'levels': assert.equal(String(type), `List<Struct<{price:Decimal[38e+${s.price}], qty:Decimal[38e+${s.qty}], orders:Int32}>>`); break;
    }
  }
}

test('Parquet reads back (parquet-wasm, apache-arrow) with the documented types and the JSONL values', async () => {
  await exportAll();
  const t = readParquetFile(files.parquet);
  assertArrowTypes(t, scales);
  const jsonl = jsonlRows();
  assert.equal(t.numRows, jsonl.length);
  const rows = parquetRows(files.parquet, scales);
  rows.forEach((r, i) => assert.deepEqual(r, jsonl[i], `row ${i + 1}`));
});

test('Avro reads back with avsc: the published schema in the header, the JSONL values', async () => {
  await exportAll();
  const published: unknown = JSON.parse(readFileSync(new URL('../../replay/schema/event.v1.avsc', import.meta.url), 'utf8'));
  const header = avro.extractFileHeader(files.avro, { decode: false }) as { meta: Record<string, Buffer> };
  assert.deepEqual(JSON.parse(header.meta['avro.schema'].toString('utf8')), published);
  const records = await avroRows(files.avro);
  const jsonl = jsonlRows();
  assert.equal(records.length, jsonl.length);
  records.forEach((r, i) => assert.deepEqual(r, jsonl[i], `record ${i + 1}`));
});

test('the published Avro schema has exactly the export columns, in order, nullable where not required', () => {
  const schema = JSON.parse(readFileSync(new URL('../../replay/schema/event.v1.avsc', import.meta.url), 'utf8')) as { fields: { name: string; type: unknown; doc?: string }[] };
  assert.deepEqual(schema.fields.map((f) => f.name), COLUMNS.map((c) => c.name));
  schema.fields.forEach((f, i) => {
    assert.equal(Array.isArray(f.type) && f.type[0] === 'null', COLUMNS[i].required !== true, f.name);
    assert.ok(f.doc, `${f.name} is documented`);
  });
});

test('a decimal that does not fit its column scale is an error, never rounded', async () => {
  const words = new Uint32Array(4);
  assert.throws(() => writeDecimal128(words, 0, '1.05', 1), /does not fit Decimal128\(38, 1\)/);
  assert.throws(() => writeDecimal128(words, 0, '1'.repeat(39), 0), /more than 38 digits/);
  writeDecimal128(words, 0, '1.50', 1);
  assert.equal(decimalText(words, 1), '1.5');
  for (const [s, scale] of [['65000.01', 10], ['9007199254740993', 0], ['0.00000001', 8], ['12345678901234567890.123456789', 18]] as const) {
    writeDecimal128(words, 0, s, scale);
    assert.equal(decimalText(words, scale), s);
  }
  // an export whose instruments claim integer ticks, fed a CCC price
  const coarse = instruments.map((i) => ({ ...i, tickSize: '1', lotSize: '1', minQty: undefined, maxQty: undefined }));
  await assert.rejects(exportTo('parquet', join(dir, 'coarse.parquet'), events, coarse), /field price: decimal "\d+\.\d+" does not fit Decimal128\(38, 0\)/);
});

test('an export of no events is a valid empty file in every format', async () => {
  for (const f of ['jsonl', 'csv', 'parquet', 'avro'] as const) assert.equal(await exportTo(f, join(dir, `empty.${f}`), []), 0);
  assert.equal(readFileSync(join(dir, 'empty.jsonl'), 'utf8'), '');
  assert.equal(readFileSync(join(dir, 'empty.csv'), 'utf8'), `${COLUMNS.map((c) => c.name).join(',')}\r\n`);
  const t = readParquetFile(join(dir, 'empty.parquet'));
  assert.equal(t.numRows, 0);
  assertArrowTypes(t, scales);
  assert.ok(avro.extractFileHeader(join(dir, 'empty.avro')));
});

test('an event field without an export column is an error naming it', async () => {
  const odd: Stamped = { ts: 1, e: { type: 'trade', seq: 1, novel: 'x' } };
  for (const f of ['csv', 'parquet'] as const) await assert.rejects(exportTo(f, join(dir, `odd.${f}`), [odd]), /"novel"/);
});

test('a path that cannot be written fails at open, before any replay work', () => {
  for (const f of ['jsonl', 'csv', 'parquet', 'avro'] as const) assert.throws(() => openEventSink(f, join(dir, 'no', 'such', 'dir', `x.${f}`), { instruments }), /ENOENT/);
});
