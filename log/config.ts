// Settings of a single-node exchange, with embedded defaults so that
// `matchlog start` runs from a fresh checkout with no file at all.

import { readJsonFile } from './json-file.js';
import type { InstrumentCommand } from '../engine/index.js';
import { DEFAULT_INDEX_EVERY } from './recovery.js';

export interface LogConfig {
  /** Roll segments at this size. */
  segmentBytes: number;
  /** Bytes between sparse index entries. */
  indexEvery: number;
  /** Commands that may wait for a group commit before new ones are refused as busy. */
  queueCapacity: number;
  /** Bounds of one group commit (one Avro block). */
  maxBlockRecords: number;
  maxBlockBytes: number;
  checkpointEvery: number;
  snapshotEvery: number;
  /** Snapshots kept on disk (the newest ones). */
  keepSnapshots: number;
  /** Instruments created (through the log) at start when the engine does not have them yet. */
  instruments: Omit<InstrumentCommand, 'op'>[];
}

/** A few symbols with sensible grids and bands, for a demo exchange. */
export const DEMO_INSTRUMENTS: Omit<InstrumentCommand, 'op'>[] = [
  { symbol: 'AAPL', tickSize: '0.01', lotSize: '1', minQty: '1', maxQty: '100000', priceBand: '0.1', referencePrice: '190.00' },
  { symbol: 'MSFT', tickSize: '0.01', lotSize: '1', minQty: '1', maxQty: '100000', priceBand: '0.1', referencePrice: '420.00' },
  { symbol: 'BTC-USD', tickSize: '0.5', lotSize: '0.0001', minQty: '0.0001', maxQty: '100', priceBand: '0.05', referencePrice: '65000' },
  { symbol: 'EUR-USD', tickSize: '0.00001', lotSize: '1000', minQty: '1000', maxQty: '100000000', priceBand: '0.02', referencePrice: '1.08000' },
];

export const DEFAULT_CONFIG: LogConfig = {
  segmentBytes: 64 * 1024 * 1024,
  indexEvery: DEFAULT_INDEX_EVERY,
  queueCapacity: 100_000,
  maxBlockRecords: 16_384,
  maxBlockBytes: 2 * 1024 * 1024,
  checkpointEvery: 10_000,
  snapshotEvery: 1_000_000,
  keepSnapshots: 2,
  instruments: DEMO_INSTRUMENTS,
};

const NUMERIC: (keyof LogConfig)[] = ['segmentBytes', 'indexEvery', 'queueCapacity', 'maxBlockRecords', 'maxBlockBytes', 'checkpointEvery', 'snapshotEvery', 'keepSnapshots'];
const MAY_BE_ZERO = new Set<keyof LogConfig>(['checkpointEvery', 'snapshotEvery']);

/** Defaults overridden by `partial`; throws naming the first bad setting. */
export function makeConfig(partial: Partial<LogConfig> = {}, where = 'config'): LogConfig {
  const c: LogConfig = { ...DEFAULT_CONFIG };
  for (const [k, v] of Object.entries(partial)) {
    const key = k as keyof LogConfig;
    if (v === undefined) continue;
    if (key === 'instruments') {
      if (!Array.isArray(v) || v.some((i) => i === null || typeof i !== 'object' || typeof (i as { symbol?: unknown }).symbol !== 'string')) {
        throw new Error(`${where}: instruments must be an array of instrument objects with a symbol`);
      }
      c.instruments = v as LogConfig['instruments'];
    } else if (NUMERIC.includes(key)) {
      const min = MAY_BE_ZERO.has(key) ? 0 : 1;
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new Error(`${where}: ${k} must be an integer >= ${min}`);
      (c as unknown as Record<string, number>)[key] = v;
    } else {
      throw new Error(`${where}: unknown setting ${k} (known: ${[...NUMERIC, 'instruments'].join(', ')})`);
    }
  }
  return c;
}

/** Reads a JSON config file: any subset of LogConfig. */
export function loadConfig(file: string): LogConfig {
  const parsed = readJsonFile(file);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${file}: expected a JSON object`);
  return makeConfig(parsed as Partial<LogConfig>, file);
}
