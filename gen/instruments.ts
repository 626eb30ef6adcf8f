// The instruments of a generated day, with grids as varied as a real venue
// lists: equities (tick 0.01, lot 1), a crypto pair (tick 0.5, lot 0.0001),
// an FX pair (tick 0.00001, lot 1000). Each carries what the order flow
// needs to look like its market: a start price, a daily volatility, and
// the spacing of resting orders and the typical order size in its own units.

import { Instrument, type InstrumentCommand } from '../engine/index.js';

export interface GenInstrument {
  command: InstrumentCommand;
  /** Parsed, to print ticks and lots as the decimal strings the log keeps. */
  rules: Instrument;
  /** Start price in ticks. */
  startTicks: number;
  /** Share of the day's ordinary arrivals on this symbol. */
  weight: number;
  /** Step of the fair price's random walk per arrival on this symbol, in ticks (the daily volatility spread over its arrivals). */
  sigma: number;
  /**
   * Ticks between the price levels traders quote at: a basis point, at least
   * one tick, and no finer than a few steps of the walk (else every quote would be
   * run over by the next move on a thin day).
   */
  level: number;
  /** Daily volatility as a fraction of price. */
  vol: number;
  /** Typical order size in lots. */
  lots: number;
}

interface Template {
  symbol: string;
  tickSize: string;
  lotSize: string;
  price: number;
  /** Decimals of tickSize, to write the reference price on the grid. */
  decimals: number;
  vol: number;
  lots: number;
  maxQty: string;
}

const EQUITY_NAMES = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOG', 'META', 'TSLA', 'JPM', 'XOM', 'KO', 'PEP', 'WMT', 'DIS', 'INTC', 'CSCO', 'ORCL', 'NFLX', 'ADBE', 'CRM', 'AMD'];
const OTHERS: Template[] = [
  { symbol: 'BTC-USD', tickSize: '0.5', lotSize: '0.0001', price: 65_000, decimals: 1, vol: 0.035, lots: 400, maxQty: '1000' },
  { symbol: 'EUR-USD', tickSize: '0.00001', lotSize: '1000', price: 1.08, decimals: 5, vol: 0.005, lots: 500, maxQty: '10000000000' },
  { symbol: 'ETH-USD', tickSize: '0.01', lotSize: '0.001', price: 3_200, decimals: 2, vol: 0.04, lots: 2_000, maxQty: '100000' },
  { symbol: 'USD-JPY', tickSize: '0.001', lotSize: '1000', price: 151.2, decimals: 3, vol: 0.006, lots: 500, maxQty: '10000000000' },
];

/** Start prices near where these names traded, so that a generated book looks like their market. */
const EQUITY_PRICES: Record<string, number> = {
  AAPL: 190, MSFT: 420, NVDA: 120, AMZN: 180, GOOG: 165, META: 500, TSLA: 240, JPM: 200, XOM: 115, KO: 62,
  PEP: 170, WMT: 68, DIS: 95, INTC: 30, CSCO: 50, ORCL: 140, NFLX: 650, ADBE: 520, CRM: 270, AMD: 150,
};

/** The i-th symbol: every third one (from the second) crypto or FX, the rest equities. */
function template(i: number, rnd: () => number): Template {
  if (i % 3 === 1 && Math.floor(i / 3) < OTHERS.length) return OTHERS[Math.floor(i / 3)];
  const e = i - Math.min(Math.floor((i + 1) / 3), OTHERS.length);
  const symbol = e < EQUITY_NAMES.length ? EQUITY_NAMES[e] : `EQ${String(e).padStart(4, '0')}`;
  const drawn = 20 + Math.floor(rnd() * 480);
  return { symbol, tickSize: '0.01', lotSize: '1', price: EQUITY_PRICES[symbol] ?? drawn, decimals: 2, vol: 0.015 + rnd() * 0.02, lots: 100, maxQty: '10000000' };
}

/** `count` instruments for a day of `commands`; the first symbols get most of the flow. */
export function makeInstruments(count: number, commands: number, rnd: () => number): GenInstrument[] {
  const out: GenInstrument[] = [];
  const w = Array.from({ length: count }, (_, k) => 1 / Math.sqrt(k + 1));
  const total = w.reduce((a, b) => a + b, 0);
  for (let i = 0; i < count; i++) {
    const t = template(i, rnd);
    const command: InstrumentCommand = {
      op: 'instrument', symbol: t.symbol, tickSize: t.tickSize, lotSize: t.lotSize, minQty: t.lotSize, maxQty: t.maxQty,
      priceBand: '0.25', referencePrice: t.price.toFixed(t.decimals),
    };
    const rules = Instrument.create(command);
    if (typeof rules === 'string') throw new Error(`generated instrument ${t.symbol}: ${rules}`);
    const startTicks = rules.referencePrice;
    const weight = w[i] / total;
    const sigma = t.vol * startTicks / Math.sqrt(Math.max(1, commands * weight));
    const level = Math.max(1, Math.round(startTicks / 10_000), Math.ceil(2.5 * sigma));
    out.push({ command, rules, startTicks, weight, sigma, level, vol: t.vol, lots: t.lots });
  }
  return out;
}
