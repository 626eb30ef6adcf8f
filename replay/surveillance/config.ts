// Surveillance thresholds: defaults here, a JSON file overrides any of them
// (`matchlog surveil --config FILE`); an unknown key is refused, naming the
// file, so that a misspelt threshold never silently keeps its default.

import { readJsonFile } from '../../log/json-file.js';
import { checkTimeZone, US_EQUITY_SESSION } from './session.js';

export interface SurveilConfig {
  spoofing: {
    /** An order is large at this many times the symbol's mean order size (seen so far). */
    largeQtyMultiple: number;
    /** Orders of a symbol seen before any counts as large. */
    minSamples: number;
    /** Large orders cancelled within this many seconds after the trade on the other side. */
    cancelWithinSeconds: number;
    /** Large cancelled orders per trade, at least. */
    minLargeOrders: number;
    /** Their cancelled quantity over the traded quantity, at least. */
    minQtyRatio: number;
  };
  orderToTrade: {
    /** Orders (new and replaces) of an account, at least, before its ratio counts. */
    minOrders: number;
    /** Orders per trade (fill) at which an account is reported. */
    minRatio: number;
  };
  washTrade: {
    /** The two related accounts' orders entered at most this many seconds apart. */
    maxOrderGapSeconds: number;
    /** Trades per pair of related accounts and symbol, at least. */
    minTrades: number;
  };
  markingTheClose: {
    /** The last minutes of the session watched. */
    windowMinutes: number;
    /** Aggressive orders of the account in one direction, at least. */
    minOrders: number;
    /** The price move its orders made, in basis points of the price going into the window, at least. */
    minMoveBps: number;
    /** Its share of the symbol's net move over the window, at least. */
    minShareOfMove: number;
  };
  session: { close: string; timeZone: string };
}

export const DEFAULT_SURVEIL_CONFIG: SurveilConfig = {
  spoofing: { largeQtyMultiple: 5, minSamples: 50, cancelWithinSeconds: 30, minLargeOrders: 2, minQtyRatio: 3 },
  orderToTrade: { minOrders: 200, minRatio: 50 },
  washTrade: { maxOrderGapSeconds: 30, minTrades: 1 },
  markingTheClose: { windowMinutes: 5, minOrders: 3, minMoveBps: 20, minShareOfMove: 0.3 },
  session: { close: US_EQUITY_SESSION.close, timeZone: US_EQUITY_SESSION.timeZone },
};

type Section = keyof SurveilConfig;

/** Defaults overridden by `partial` (parsed JSON); throws naming `where` and the key. */
export function makeSurveilConfig(partial: unknown, where: string): SurveilConfig {
  if (partial === null || typeof partial !== 'object' || Array.isArray(partial)) throw new Error(`${where}: expected a JSON object`);
  const out = structuredClone(DEFAULT_SURVEIL_CONFIG);
  for (const [section, values] of Object.entries(partial)) {
    if (!Object.hasOwn(DEFAULT_SURVEIL_CONFIG, section)) {
      throw new Error(`${where}: unknown setting ${section} (known: ${Object.keys(DEFAULT_SURVEIL_CONFIG).join(', ')})`);
    }
    const known = DEFAULT_SURVEIL_CONFIG[section as Section] as Record<string, number | string>;
    if (values === null || typeof values !== 'object' || Array.isArray(values)) throw new Error(`${where}: ${section} must be an object`);
    const target = out[section as Section] as Record<string, number | string>;
    for (const [key, v] of Object.entries(values as Record<string, unknown>)) {
      if (!Object.hasOwn(known, key)) throw new Error(`${where}: unknown setting ${section}.${key} (known: ${Object.keys(known).join(', ')})`);
      if (typeof known[key] === 'number') {
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${where}: ${section}.${key} must be a number >= 0, got ${JSON.stringify(v)}`);
      } else if (typeof v !== 'string') {
        throw new Error(`${where}: ${section}.${key} must be a string, got ${JSON.stringify(v)}`);
      }
      target[key] = v as number | string;
    }
  }
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(out.session.close)) throw new Error(`${where}: session.close must be HH:MM, got ${JSON.stringify(out.session.close)}`);
  try {
    checkTimeZone(out.session.timeZone);
  } catch (e) {
    throw new Error(`${where}: session.timeZone: ${(e as Error).message}`);
  }
  return out;
}

export function loadSurveilConfig(file: string): SurveilConfig {
  const parsed = readJsonFile(file);
  return makeSurveilConfig(parsed, file);
}

/** Declared related accounts: `{"groups": [["A", "B"], ...]}` (or the bare array); account -> group number. */
export function loadRelated(file: string): Map<string, number> {
  const parsed = readJsonFile(file);
  const groups = Array.isArray(parsed) ? parsed : (parsed as { groups?: unknown } | null)?.groups;
  if (!Array.isArray(groups) || groups.some((g) => !Array.isArray(g) || g.some((a) => typeof a !== 'string'))) {
    throw new Error(`${file}: expected {"groups": [["ACCOUNT", "ACCOUNT", ...], ...]}`);
  }
  const out = new Map<string, number>();
  (groups as string[][]).forEach((g, i) => {
    for (const a of g) {
      if (out.has(a) && out.get(a) !== i) throw new Error(`${file}: account ${a} is in two groups`);
      out.set(a, i);
    }
  });
  return out;
}
