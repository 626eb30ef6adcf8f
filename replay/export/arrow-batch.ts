// Events into Arrow record batches, column by column, with the buffers filled
// by hand: apache-arrow's generic builders cost several hundred ns a value,
// and an export must keep up with a replay of millions of events a second.
// The buffers are reused from batch to batch; a finished batch is only valid
// until the next add (the Parquet sink serializes it at once).

import {
  Bool, Decimal, Dictionary, Field, Int32, Int64, List, RecordBatch, Schema, Struct, TimestampMicrosecond, Utf8,
  makeData, makeVector, type Data, type DataType,
} from 'apache-arrow';
import type { ExternalEvent, ExternalLevel } from '../../engine/format.js';
import { COLUMNS, DECIMAL_PRECISION, columnOf, type Column, type Scales } from './columns.js';
import { writeDecimal128 } from './decimal128.js';

const TWO32 = 2 ** 32;

abstract class Builder {
  abstract readonly type: DataType;
  protected valid: Uint8Array;
  protected present = 0;

  constructor(protected readonly capacity: number) {
    this.valid = new Uint8Array((capacity + 7) >> 3);
  }

  protected mark(row: number): void {
    this.valid[row >> 3] |= 1 << (row & 7);
    this.present++;
  }

  /** Stores `v` (never null: absent fields are simply not added) at `row`. */
  abstract add(row: number, v: unknown): void;
  abstract finish(rows: number): Data;

  reset(): void {
    this.valid.fill(0);
    this.present = 0;
  }

  protected nulls(rows: number): { nullCount: number; nullBitmap: Uint8Array } {
    return { nullCount: rows - this.present, nullBitmap: this.valid.subarray(0, (rows + 7) >> 3) };
  }
}

function expect(ok: boolean, what: string, v: unknown): void {
  if (!ok) throw new TypeError(`expected ${what}, got ${JSON.stringify(v)}`);
}

/** Int64 and timestamps: written as two 32-bit halves, no BigInt per value. */
class Int64Builder extends Builder {
  private readonly values: BigInt64Array;
  private readonly words: Uint32Array;

  constructor(readonly type: Int64 | TimestampMicrosecond, capacity: number) {
    super(capacity);
    this.values = new BigInt64Array(capacity);
    this.words = new Uint32Array(this.values.buffer);
  }

  add(row: number, v: unknown): void {
    expect(Number.isSafeInteger(v), 'an integer', v);
    const n = v as number;
    const hi = Math.floor(n / TWO32);
    this.words[row * 2] = n - hi * TWO32;
    this.words[row * 2 + 1] = hi; // a negative hi wraps to its two's complement
    this.mark(row);
  }

  finish(rows: number): Data {
    const data = this.values.subarray(0, rows);
    return this.type instanceof Int64
      ? makeData({ type: this.type, length: rows, ...this.nulls(rows), data })
      : makeData({ type: this.type, length: rows, ...this.nulls(rows), data });
  }

  override reset(): void {
    super.reset();
    this.values.fill(0n);
  }
}

class Int32Builder extends Builder {
  readonly type = new Int32();
  private readonly values: Int32Array;

  constructor(capacity: number) {
    super(capacity);
    this.values = new Int32Array(capacity);
  }

  add(row: number, v: unknown): void {
    expect(Number.isInteger(v) && (v as number) >= -(2 ** 31) && (v as number) < 2 ** 31, 'a 32-bit integer', v);
    this.values[row] = v as number;
    this.mark(row);
  }

  finish(rows: number): Data {
    return makeData({ type: this.type, length: rows, ...this.nulls(rows), data: this.values.subarray(0, rows) });
  }

  override reset(): void {
    super.reset();
    this.values.fill(0);
  }
}

class BoolBuilder extends Builder {
  readonly type = new Bool();
  private readonly bits: Uint8Array;

  constructor(capacity: number) {
    super(capacity);
    this.bits = new Uint8Array((capacity + 7) >> 3);
  }

  add(row: number, v: unknown): void {
    expect(typeof v === 'boolean', 'a boolean', v);
    if (v === true) this.bits[row >> 3] |= 1 << (row & 7);
    this.mark(row);
  }

  finish(rows: number): Data {
    return makeData({ type: this.type, length: rows, ...this.nulls(rows), data: this.bits.subarray(0, (rows + 7) >> 3) });
  }

  override reset(): void {
    super.reset();
    this.bits.fill(0);
  }
}

class DecimalBuilder extends Builder {
  readonly type: Decimal;
  private readonly words: Uint32Array;

  constructor(private readonly scale: number, capacity: number) {
    super(capacity);
    this.type = new Decimal(scale, DECIMAL_PRECISION, 128);
    this.words = new Uint32Array(capacity * 4);
  }

  add(row: number, v: unknown): void {
    expect(typeof v === 'string', 'a decimal string', v);
    writeDecimal128(this.words, row * 4, v as string, this.scale);
    this.mark(row);
  }

  finish(rows: number): Data {
    return makeData({ type: this.type, length: rows, ...this.nulls(rows), data: this.words.subarray(0, rows * 4) });
  }

  override reset(): void {
    super.reset();
    this.words.fill(0);
  }
}

/** UTF-8 bytes and offsets of `strings` in one pass over a joined string: ids are ASCII, so the lengths are the offsets. */
function utf8Data(strings: string[]): Data<Utf8> {
  const joined = strings.join('');
  const bytes = Buffer.from(joined, 'utf8');
  const offsets = new Int32Array(strings.length + 1);
  const ascii = bytes.length === joined.length;
  let at = 0;
  for (let i = 0; i < strings.length; i++) {
    at += ascii ? strings[i].length : Buffer.byteLength(strings[i], 'utf8');
    offsets[i + 1] = at;
  }
  return makeData({ type: new Utf8(), length: strings.length, nullCount: 0, valueOffsets: offsets, data: bytes });
}

class Utf8Builder extends Builder {
  readonly type = new Utf8();
  private readonly values: string[];

  constructor(capacity: number) {
    super(capacity);
    this.values = new Array<string>(capacity).fill('');
  }

  add(row: number, v: unknown): void {
    expect(typeof v === 'string', 'a string', v);
    this.values[row] = v as string;
    this.mark(row);
  }

  finish(rows: number): Data {
    const d = utf8Data(rows === this.capacity ? this.values : this.values.slice(0, rows));
    return makeData({ type: this.type, length: rows, ...this.nulls(rows), valueOffsets: d.valueOffsets, data: d.values });
  }

  override reset(): void {
    super.reset();
    this.values.fill('');
  }
}

/** Few distinct values (types, symbols, sides, accounts): each batch carries its own small dictionary. */
class CategoryBuilder extends Builder {
  readonly type: Dictionary<Utf8, Int32>;
  private readonly indices: Int32Array;
  private codes = new Map<string, number>();
  private words: string[] = [];

  constructor(id: number, capacity: number) {
    super(capacity);
    this.type = new Dictionary(new Utf8(), new Int32(), id);
    this.indices = new Int32Array(capacity);
  }

  add(row: number, v: unknown): void {
    expect(typeof v === 'string', 'a string', v);
    let code = this.codes.get(v as string);
    if (code === undefined) {
      code = this.words.length;
      this.codes.set(v as string, code);
      this.words.push(v as string);
    }
    this.indices[row] = code;
    this.mark(row);
  }

  finish(rows: number): Data {
    return makeData({ type: this.type, length: rows, ...this.nulls(rows), data: this.indices.subarray(0, rows), dictionary: makeVector(utf8Data(this.words)) });
  }

  override reset(): void {
    super.reset();
    this.indices.fill(0);
    this.codes = new Map();
    this.words = [];
  }
}

/** Book levels as List<Struct<price, qty, orders>>: typed like the rest, not a JSON string. */
class LevelsBuilder extends Builder {
  readonly type: List<Struct>;
  private readonly level: Struct;
  private readonly offsets: Int32Array;
  private prices: string[] = [];
  private qtys: string[] = [];
  private orders: number[] = [];

  constructor(private readonly scales: Scales, capacity: number) {
    super(capacity);
    this.level = levelType(scales);
    this.type = new List(new Field('item', this.level, false));
    this.offsets = new Int32Array(capacity + 1);
  }

  add(row: number, v: unknown): void {
    expect(Array.isArray(v), 'a list of levels', v);
    // rows without levels in between (null) repeat the offset
    for (let r = row; r > 0 && this.offsets[r] < this.prices.length; r--) this.offsets[r] = this.prices.length;
    for (const l of v as ExternalLevel[]) {
      this.prices.push(l.price);
      this.qtys.push(l.qty);
      this.orders.push(l.orders);
    }
    this.offsets[row + 1] = this.prices.length;
    this.mark(row);
  }

  finish(rows: number): Data {
    const n = this.prices.length;
    for (let r = rows; r > 0 && this.offsets[r] < n; r--) this.offsets[r] = n;
    const price = new DecimalBuilder(this.scales.price, n);
    const qty = new DecimalBuilder(this.scales.qty, n);
    const orders = new Int32Builder(n);
    for (let i = 0; i < n; i++) {
      price.add(i, this.prices[i]);
      qty.add(i, this.qtys[i]);
      orders.add(i, this.orders[i]);
    }
    const child = makeData({ type: this.level, length: n, nullCount: 0, children: [price.finish(n), qty.finish(n), orders.finish(n)] });
    return makeData({ type: this.type, length: rows, ...this.nulls(rows), valueOffsets: this.offsets.subarray(0, rows + 1), child });
  }

  override reset(): void {
    super.reset();
    this.offsets.fill(0);
    this.prices = [];
    this.qtys = [];
    this.orders = [];
  }
}

function levelType(scales: Scales): Struct {
  return new Struct([
    new Field('price', new Decimal(scales.price, DECIMAL_PRECISION, 128), false),
    new Field('qty', new Decimal(scales.qty, DECIMAL_PRECISION, 128), false),
    new Field('orders', new Int32(), false),
  ]);
}

function builderFor(c: Column, index: number, scales: Scales, capacity: number): Builder {
  switch (c.kind) {
    case 'int64': return new Int64Builder(new Int64(), capacity);
    case 'timestamp': return new Int64Builder(new TimestampMicrosecond('UTC'), capacity);
    case 'int32': return new Int32Builder(capacity);
    case 'bool': return new BoolBuilder(capacity);
    case 'price':
    case 'qty':
    case 'notional': return new DecimalBuilder(scales[c.kind], capacity);
    case 'string': return new Utf8Builder(capacity);
    case 'category': return new CategoryBuilder(index, capacity);
    case 'levels': return new LevelsBuilder(scales, capacity);
  }
}

const TS = columnOf('ts', 0);

/** Up to `capacity` events as one RecordBatch of the export schema. */
export class EventBatch {
  readonly schema: Schema;
  private readonly builders: Builder[];
  rows = 0;

  constructor(scales: Scales, readonly capacity: number) {
    this.builders = COLUMNS.map((c, i) => builderFor(c, i, scales, capacity));
    // one Schema object for every batch: the Parquet writer takes its schema from the first batch
    this.schema = new Schema(COLUMNS.map((c, i) => new Field(c.name, this.builders[i].type, c.required !== true)));
  }

  get full(): boolean {
    return this.rows === this.capacity;
  }

  add(ts: number, e: ExternalEvent): void {
    const row = this.rows;
    let key = 'ts';
    try {
      this.builders[TS].add(row, ts);
      for (key in e) this.builders[columnOf(key, e.seq)].add(row, e[key]);
    } catch (err) {
      // the row is half written: the export is broken either way, so name the culprit
      throw new Error(`event export: seq ${String(e.seq)} (${String(e.type)}) field ${key}: ${(err as Error).message}`);
    }
    this.rows++;
  }

  /** The batch so far; valid until the next add or reset. */
  finish(): RecordBatch {
    const children = this.builders.map((b) => b.finish(this.rows));
    return new RecordBatch(this.schema, makeData({ type: new Struct(this.schema.fields), length: this.rows, nullCount: 0, children }));
  }

  reset(): void {
    for (const b of this.builders) b.reset();
    this.rows = 0;
  }
}
