// Execution reports: one durable command's events become the FIX messages of
// each account they concern. This is the one place that maps engine events to
// FIX (a later change moves events into a typed buffer; only this file and
// orders.ts read them). Reports derive everything from the command record
// (seq, ts) and its events, so replaying the log rebuilds them byte for byte:
// ExecIDs included.

import type { EngineEvent, NewOrderCommand, Instrument, Notional, RejectReason, CancelRejectReason, TifName } from '../engine/index.js';
import { formatScaled, type Unit } from '../engine/decimal.js';
import type { Committed } from '../log/sequencer.js';
import { BUY, SELL, type Side } from '../native/ladder.js';
import { FixMessage, Tag, type FixField } from './fix/message.js';
import { fillStatus, type OrderTracker, type TrackedOrder } from './orders.js';

/**
 * AvgPx is exact whenever cumNotional / cumQty has a terminating decimal
 * expansion; otherwise it is rounded half-even to this many decimals beyond
 * the tick's (tick 0.01: 10 decimals).
 */
export const AVGPX_EXTRA_DECIMALS = 8;

/** ExecID of answers the gateway gives itself (status, refusals before the log): they are not executions. */
export const LOCAL_EXEC_ID = '0';

/** OrderID where the engine assigned none (a rejected order, an unknown order). */
export const NO_ORDER_ID = 'NONE';

export type ReportSink = (account: string, msg: FixMessage) => void;

/** Every account wants its reports (tests); the gateway builds them only for accounts with a live session. */
const ALL = (): boolean => true;

// --- FIX values -----------------------------------------------------------------

export function fixSide(side: Side): string {
  return side === BUY ? '1' : '2';
}

export function fixTif(t: TifName): string {
  return t === 'GTC' ? '1' : t === 'IOC' ? '3' : '4';
}

/** OrdRejReason (103) for an engine rejection: the FIX 4.4 code where one fits, else 99 Other. */
export function ordRejReason(r: RejectReason): number {
  switch (r) {
    case 'unknown_symbol': return 1;
    case 'halted': return 2; // exchange closed
    case 'duplicate_clordid': return 6; // duplicate order
    case 'off_lot': case 'qty_out_of_range': return 13; // incorrect quantity
    default: return 99; // off_tick, price_out_of_band, post_only_would_cross, invalid_order: FIX 4.4 has no closer code
  }
}

/**
 * CxlRejReason (102). The engine says `unknown_order` for an order that never
 * was, is another account's, or is no longer live (it reveals nothing more),
 * so 0 (too late) is never sent; nothing is ever pending, so neither is 3.
 */
export function cxlRejReason(r: CancelRejectReason): number {
  switch (r) {
    case 'unknown_order': return 1;
    case 'duplicate_clordid': return 6;
    case 'halted': case 'price_out_of_band': case 'post_only_would_cross': return 2; // exchange option
    default: return 99;
  }
}

const CANCEL_TEXT = {
  user: 'user: cancelled on request',
  ioc: 'ioc: the unfilled remainder of an IOC order',
  fok: 'fok: a FOK order that could not fill in full',
  no_liquidity: 'no_liquidity: the unfilled remainder of a market order (no more liquidity within the price band)',
  stp: 'stp: self-trade prevention',
  mass: 'mass: mass cancel',
} as const;

// --- values ---------------------------------------------------------------------

function p2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

// the date and time to the second change rarely between commands: formatting them is most of the cost
let tsSecond = NaN;
let tsPrefix = '';

/** Epoch microseconds as a FIX UTCTimestamp with milliseconds: `YYYYMMDD-HH:MM:SS.sss` (truncated, never rounded up). */
export function utcTimestamp(tsMicros: number): string {
  const ms = Math.floor(tsMicros / 1000);
  const sec = Math.floor(ms / 1000);
  if (sec !== tsSecond) {
    const d = new Date(sec * 1000);
    tsPrefix = `${d.getUTCFullYear()}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}-${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.`;
    tsSecond = sec;
  }
  const milli = ms - sec * 1000;
  return tsPrefix + (milli < 10 ? `00${milli}` : milli < 100 ? `0${milli}` : `${milli}`);
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function gcdNum(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Below this, a remainder times 10 stays a safe integer. */
const SAFE_DIVISOR = 2 ** 49;

/**
 * The average price cumNotional / cumQty (ticks x lots over lots) as a
 * decimal price, without a float: exact when the expansion terminates, else
 * rounded half-even to AVGPX_EXTRA_DECIMALS beyond the tick's decimals (a
 * tie cannot occur then: it would make the expansion terminate).
 */
export function avgPx(cumNotional: Notional, cumQty: number, tick: Unit): string {
  if (cumQty === 0) return '0';
  if (typeof cumNotional === 'number') {
    // integer arithmetic on doubles, each step checked to stay a safe integer (hence exact)
    const num = cumNotional * tick.mantissa;
    if (num <= MAX_SAFE && cumQty < SAFE_DIVISOR) {
      const r0 = num % cumQty;
      const whole = (num - r0) / cumQty;
      if (r0 === 0) return formatScaled(whole, tick.scale);
      let den = cumQty / gcdNum(num, cumQty);
      let twos = 0;
      let fives = 0;
      while (den % 2 === 0) { den /= 2; twos++; }
      while (den % 5 === 0) { den /= 5; fives++; }
      const places = den === 1 ? Math.max(twos, fives) : AVGPX_EXTRA_DECIMALS;
      let scaled = whole;
      let r = r0;
      for (let i = 0; i < places; i++) {
        r *= 10;
        const digit = (r - (r % cumQty)) / cumQty;
        r -= digit * cumQty;
        scaled = scaled * 10 + digit;
      }
      if (den !== 1 && 2 * r > cumQty) scaled++;
      // an exact value past MAX_SAFE comes out >= 2^53 (rounding is monotonic), so this test is exact
      if (scaled <= MAX_SAFE) return formatScaled(scaled, tick.scale + places);
      // too many digits for a double: the exact path below
    }
  }
  return avgPxBig(BigInt(cumNotional) * BigInt(tick.mantissa), BigInt(cumQty), tick.scale);
}

function avgPxBig(num: bigint, den: bigint, scale: number): string {
  const g = gcd(num, den);
  num /= g;
  den /= g;
  let rest = den;
  let twos = 0;
  let fives = 0;
  while (rest % 2n === 0n) { rest /= 2n; twos++; }
  while (rest % 5n === 0n) { rest /= 5n; fives++; }
  if (rest === 1n) {
    // den = 2^a 5^b: num/den * 10^max(a,b) is an integer
    const k = Math.max(twos, fives);
    return formatScaled((num * 10n ** BigInt(k)) / den, scale + k);
  }
  const scaled = num * 10n ** BigInt(AVGPX_EXTRA_DECIMALS);
  let q = scaled / den;
  const twice = (scaled % den) * 2n;
  if (twice > den || (twice === den && q % 2n === 1n)) q++;
  return formatScaled(q, scale + AVGPX_EXTRA_DECIMALS);
}

// --- messages -------------------------------------------------------------------

/** What an ExecutionReport says about an order. */
export type OrderFacts = Pick<TrackedOrder,
  'orderId' | 'account' | 'symbol' | 'side' | 'ordType' | 'tif' | 'price' | 'qty' | 'leavesQty' | 'cumQty' | 'cumNotional' | 'postOnly'>;

/**
 * An ExecutionReport (8) for an order the engine knows. `lastQty` > 0 makes
 * it a fill report (LastPx, LastQty, LastLiquidityInd 1 maker / 2 taker).
 */
export function orderReport(o: OrderFacts, inst: Instrument, clOrdId: string, origClOrdId: string | null, execId: string,
  execType: string, ordStatus: string, time: string, lastPx: number, lastQty: number, maker: boolean, text: string | null): FixMessage {
  // one array literal: this runs for every report, and chained add()s cost a third more
  const f: FixField[] = [[Tag.MsgType, '8'], [Tag.OrderID, String(o.orderId)], [Tag.ClOrdID, clOrdId]];
  if (origClOrdId !== null) f.push([Tag.OrigClOrdID, origClOrdId]);
  f.push([Tag.ExecID, execId], [Tag.ExecType, execType], [Tag.OrdStatus, ordStatus], [Tag.Account, o.account], [Tag.Symbol, o.symbol],
    [Tag.Side, o.side === BUY ? '1' : '2'], [Tag.OrderQty, inst.qty(o.qty)], [Tag.OrdType, o.ordType === 'market' ? '1' : '2']);
  if (o.ordType === 'limit' && o.price > 0) f.push([Tag.Price, inst.price(o.price)]);
  f.push([Tag.TimeInForce, fixTif(o.tif)]);
  if (o.postOnly) f.push([Tag.ExecInst, '6']);
  if (lastQty > 0) f.push([Tag.LastQty, inst.qty(lastQty)], [Tag.LastPx, inst.price(lastPx)]);
  f.push([Tag.LeavesQty, inst.qty(o.leavesQty)], [Tag.CumQty, inst.qty(o.cumQty)],
    [Tag.AvgPx, avgPx(o.cumNotional, o.cumQty, inst.tick)], [Tag.TransactTime, time]);
  if (lastQty > 0) f.push([Tag.LastLiquidityInd, maker ? '1' : '2']);
  if (text !== null) f.push([Tag.Text, text]);
  return new FixMessage(f);
}

/** What a refused new order said about itself, as the client sent it. */
export interface NewOrderFacts {
  account: string;
  clOrdId: string;
  symbol: string;
  /** FIX Side (54) as sent, '' when absent. */
  side: string;
  /** FIX OrdType (40) as sent, '' when absent. */
  ordType: string;
  price: string | undefined;
  qty: string | undefined;
  /** FIX TimeInForce (59), '' when absent. */
  tif: string;
}

/** An ExecutionReport (8) rejecting a new order: ExecType 8, OrdStatus 8, OrdRejReason, Text. */
export function rejectReport(f: NewOrderFacts, execId: string, ordRejReason: number, text: string, time: string): FixMessage {
  const m = new FixMessage([[Tag.MsgType, '8']]);
  m.add(Tag.OrderID, NO_ORDER_ID).add(Tag.ClOrdID, f.clOrdId).add(Tag.ExecID, execId).add(Tag.ExecType, '8')
    .add(Tag.OrdStatus, '8').add(Tag.OrdRejReason, ordRejReason).add(Tag.Account, f.account);
  if (f.symbol !== '') m.add(Tag.Symbol, f.symbol);
  if (f.side !== '') m.add(Tag.Side, f.side);
  if (f.qty !== undefined) m.add(Tag.OrderQty, f.qty);
  if (f.ordType !== '') m.add(Tag.OrdType, f.ordType);
  if (f.price !== undefined) m.add(Tag.Price, f.price);
  if (f.tif !== '') m.add(Tag.TimeInForce, f.tif);
  return m.add(Tag.LeavesQty, '0').add(Tag.CumQty, '0').add(Tag.AvgPx, '0').add(Tag.TransactTime, time).add(Tag.Text, text);
}

/** NewOrderFacts of a `new` command (order entry builds them from valid FIX, so only the raw strings are echoed). */
export function newOrderFacts(cmd: NewOrderCommand): NewOrderFacts {
  // a command from the log is checked by the log's codec for types, not values
  const c: Readonly<Partial<Record<keyof NewOrderCommand, unknown>>> = cmd;
  const s = (v: unknown): string => (typeof v === 'string' ? v : '');
  return {
    account: s(c.account), clOrdId: s(c.clOrdId), symbol: s(c.symbol),
    side: c.side === 'buy' ? '1' : c.side === 'sell' ? '2' : '',
    ordType: c.type === 'market' ? '1' : c.type === 'limit' ? '2' : '',
    price: typeof c.price === 'string' ? c.price : undefined,
    qty: typeof c.qty === 'string' ? c.qty : undefined,
    tif: c.tif === 'GTC' ? '1' : c.tif === 'IOC' ? '3' : c.tif === 'FOK' ? '4' : '',
  };
}

/** An OrderCancelReject (9). `toReplace`: CxlRejResponseTo 2 (G) rather than 1 (F). */
export function cancelReject(orderId: string, clOrdId: string, origClOrdId: string, ordStatus: string, toReplace: boolean,
  reason: number, text: string, account: string, time: string): FixMessage {
  return new FixMessage([[Tag.MsgType, '9']]).add(Tag.OrderID, orderId).add(Tag.ClOrdID, clOrdId)
    .add(Tag.OrigClOrdID, origClOrdId === '' ? NO_ORDER_ID : origClOrdId).add(Tag.OrdStatus, ordStatus).add(Tag.Account, account)
    .add(Tag.TransactTime, time).add(Tag.CxlRejResponseTo, toReplace ? '2' : '1').add(Tag.CxlRejReason, reason).add(Tag.Text, text);
}

/**
 * An OrderMassCancelReport (r). MassCancelResponse echoes the request type
 * (1 one symbol, 7 all) or is 0 with MassCancelRejectReason when refused.
 */
export function massCancelReport(id: string, clOrdId: string, type: string, symbol: string, affected: number, rejectReason: number | null,
  text: string | null, time: string): FixMessage {
  const m = new FixMessage([[Tag.MsgType, 'r']]);
  if (clOrdId !== '') m.add(Tag.ClOrdID, clOrdId);
  m.add(Tag.OrderID, id).add(Tag.MassCancelRequestType, type).add(Tag.MassCancelResponse, rejectReason === null ? type : '0');
  if (rejectReason !== null) m.add(Tag.MassCancelRejectReason, rejectReason);
  if (rejectReason === null) m.add(Tag.TotalAffectedOrders, affected);
  if (symbol !== '') m.add(Tag.Symbol, symbol);
  m.add(Tag.TransactTime, time);
  if (text !== null) m.add(Tag.Text, text);
  return m;
}

/** An ExecutionReport answering OrderStatusRequest (ExecType I) for a live order. */
export function statusReport(o: TrackedOrder, inst: Instrument, time: string, statusReqId: string | undefined): FixMessage {
  const m = orderReport(o, inst, o.clOrdId, null, LOCAL_EXEC_ID, 'I', fillStatus(o), time, 0, 0, false, null);
  if (statusReqId !== undefined) m.add(Tag.OrdStatusReqID, statusReqId);
  return m;
}

/** Side (54) of the answer to an OrderMassStatusRequest that found no order: FIX requires a Side in every ExecutionReport, and there is no order to take one from. */
export const NO_ORDER_SIDE = '7'; // Undisclosed

/**
 * The answer to an OrderMassStatusRequest (AF): one ExecutionReport per live
 * order, in orderId order, each the OrderStatusRequest answer for that order
 * (ExecType I, ExecID 0, the order's OrdStatus) plus MassStatusReqID 584,
 * TotNumReports 911 and LastRptRequested 912 (Y on the last one only). With
 * no order, one report that says so: OrderID NONE, OrdStatus 8, 911=0, 912=Y,
 * Side 7 (undisclosed), the Symbol asked for (if any) and a Text.
 */
export function massStatusReports(orders: readonly TrackedOrder[], instrumentOf: (symbol: string) => Instrument | undefined,
  account: string, symbol: string | undefined, reqId: string, time: string): FixMessage[] {
  const out: FixMessage[] = [];
  for (const o of orders) {
    const inst = instrumentOf(o.symbol);
    if (inst !== undefined) out.push(statusReport(o, inst, time, undefined));
  }
  out.forEach((m, i) => m.add(Tag.MassStatusReqID, reqId).add(Tag.TotNumReports, out.length).add(Tag.LastRptRequested, i === out.length - 1 ? 'Y' : 'N'));
  if (out.length > 0) return out;
  const m = new FixMessage([[Tag.MsgType, '8']]).add(Tag.OrderID, NO_ORDER_ID).add(Tag.ExecID, LOCAL_EXEC_ID).add(Tag.ExecType, 'I')
    .add(Tag.OrdStatus, '8').add(Tag.Account, account);
  if (symbol !== undefined) m.add(Tag.Symbol, symbol);
  m.add(Tag.Side, NO_ORDER_SIDE).add(Tag.LeavesQty, '0').add(Tag.CumQty, '0').add(Tag.AvgPx, '0').add(Tag.TransactTime, time)
    .add(Tag.MassStatusReqID, reqId).add(Tag.TotNumReports, 0).add(Tag.LastRptRequested, 'Y');
  return [m.add(Tag.Text, symbol === undefined ? 'no live orders' : `no live orders in ${symbol}`)];
}

// --- the builder ----------------------------------------------------------------

/** A resting order the tracker lost (it cannot, once built from the snapshot): a fill report still goes out. */
function restingLike(orderId: number, account: string, clOrdId: string, symbol: string, side: Side, price: number,
  leaves: number, cum: number, notional: Notional): TrackedOrder {
  return {
    orderId, account, clOrdId, symbol, side, ordType: 'limit', tif: 'GTC', price, qty: leaves + cum,
    leavesQty: leaves, cumQty: cum, cumNotional: notional, postOnly: false,
  };
}

export class ReportBuilder {
  constructor(readonly tracker: OrderTracker) {}

  /**
   * The reports of one durable command, in event order, to `emit` per
   * account; the tracker is brought up to date as the events go by. ExecID
   * is `<seq>.<k>` for the report of the command's k-th event (0-based), and
   * `<seq>.<k>.m` for the maker's report of a trade.
   */
  build(c: Committed, emit: ReportSink, wants: (account: string) => boolean = ALL): void {
    const tracker = this.tracker;
    const instruments = tracker.instruments;
    instruments.learn(c);
    const cmd = c.cmd;
    if (cmd.op === 'new') tracker.release(cmd.account);
    const events = c.events;
    const time = utcTimestamp(c.ts);
    for (let k = 0; k < events.length; k++) {
      const e: EngineEvent = events[k];
      switch (e.type) {
        case 'accepted': {
          tracker.apply(e);
          const inst = instruments.get(e.symbol);
          if (inst === undefined) break;
          const o = tracker.get(e.orderId) ?? e;
          if (wants(e.account)) emit(e.account, orderReport(o, inst, e.clOrdId, null, `${c.seq}.${k}`, '0', '0', time, 0, 0, false, null));
          break;
        }
        case 'trade': {
          const inst = instruments.get(e.symbol);
          const maker = tracker.get(e.makerOrderId);
          const taker = tracker.get(e.takerOrderId);
          tracker.apply(e);
          if (inst === undefined) break;
          const t = taker ?? restingLike(e.takerOrderId, e.takerAccount, e.takerClOrdId, e.symbol, e.aggressor, 0, e.takerLeavesQty, e.takerCumQty, e.takerCumNotional);
          const m = maker ?? restingLike(e.makerOrderId, e.makerAccount, e.makerClOrdId, e.symbol, e.aggressor === BUY ? SELL : BUY, e.price, e.makerLeavesQty, e.makerCumQty, e.makerCumNotional);
          const execId = `${c.seq}.${k}`;
          if (wants(e.takerAccount)) emit(e.takerAccount, orderReport(t, inst, e.takerClOrdId, null, execId, 'F', fillStatus(t), time, e.price, e.qty, false, null));
          if (wants(e.makerAccount)) emit(e.makerAccount, orderReport(m, inst, e.makerClOrdId, null, `${execId}.m`, 'F', fillStatus(m), time, e.price, e.qty, true, null));
          break;
        }
        case 'cancelled': {
          const o = tracker.get(e.orderId);
          tracker.apply(e);
          const inst = instruments.get(e.symbol);
          if (inst === undefined) break;
          const facts: OrderFacts = o ?? { ...e, postOnly: false };
          const orig = e.origClOrdId !== e.clOrdId ? e.origClOrdId : null;
          if (wants(e.account)) emit(e.account, orderReport(facts, inst, e.clOrdId, orig, `${c.seq}.${k}`, '4', '4', time, 0, 0, false, CANCEL_TEXT[e.reason]));
          break;
        }
        case 'replaced': {
          tracker.apply(e);
          const inst = instruments.get(e.symbol);
          if (inst === undefined) break;
          const o = tracker.get(e.orderId) ?? { ...e, postOnly: false };
          if (wants(e.account)) emit(e.account, orderReport(o, inst, e.clOrdId, e.origClOrdId, `${c.seq}.${k}`, '5', fillStatus(o), time, 0, 0, false, null));
          break;
        }
        case 'rejected':
          this.rejected(c, e.reason, `${e.reason}: ${e.text}`, `${c.seq}.${k}`, time, emit, wants);
          break;
        case 'cancelRejected': {
          const live = e.orderId !== 0 ? tracker.findById(e.account, e.orderId) : undefined;
          if (wants(e.account)) emit(e.account, cancelReject(e.orderId !== 0 ? String(e.orderId) : NO_ORDER_ID, e.clOrdId, e.origClOrdId,
            live !== undefined ? fillStatus(live) : '8', cmd.op === 'replace', cxlRejReason(e.reason), `${e.reason}: ${e.text}`, e.account, time));
          break;
        }
        case 'massCancelled':
          // cancel-on-disconnect sends no ClOrdID: nobody asked, so no report (each order's cancel report went out)
          if (e.clOrdId !== '' && wants(e.account)) emit(e.account, massCancelReport(String(c.seq), e.clOrdId, e.symbol === '' ? '7' : '1', e.symbol, e.count, null, null, time));
          break;
        default:
          // bookDelta, book, instrument, status: market data's, or nobody's
      }
    }
  }

  /** A `rejected` event answers the command that caused it, in that command's message type. */
  private rejected(c: Committed, reason: RejectReason, text: string, execId: string, time: string, emit: ReportSink, wants: (account: string) => boolean): void {
    const cmd = c.cmd;
    switch (cmd.op) {
      case 'new': {
        const f = newOrderFacts(cmd);
        if (f.account !== '' && wants(f.account)) emit(f.account, rejectReport(f, execId, ordRejReason(reason), text, time));
        return;
      }
      case 'cancel': case 'replace':
        if (typeof cmd.account === 'string' && cmd.account !== '') {
          if (wants(cmd.account)) emit(cmd.account, cancelReject(typeof cmd.orderId === 'number' ? String(cmd.orderId) : NO_ORDER_ID, cmd.clOrdId,
            cmd.origClOrdId ?? '', '8', cmd.op === 'replace', cxlRejReason(reason), text, cmd.account, time));
        }
        return;
      case 'massCancel':
        if (typeof cmd.account === 'string' && cmd.account !== '') {
          if (wants(cmd.account)) emit(cmd.account, massCancelReport(String(c.seq), cmd.clOrdId ?? '', cmd.symbol === undefined ? '7' : '1', cmd.symbol ?? '', 0, 99, text, time));
        }
        return;
      default:
        // instrument, halt, resume, book: operators' commands, no session to answer
    }
  }
}
