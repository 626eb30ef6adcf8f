// The trader's own orders, fills and refusals, as the exchange reported them
// (ExecutionReport 8, OrderCancelReject 9, OrderMassCancelReport r, and the
// session's refusals 3, j, Y). Orders placed before this logon (the page was
// reloaded) come as order status reports (ExecType I) answering the
// OrderMassStatusRequest the screen sends after Logon; a live one is listed
// like any other. Every number is the exchange's decimal text,
// shown as sent: AvgPx is computed exactly by the exchange
// (gateway/README.md, "AvgPx"), never re-derived here from floats.

import { type FixMessage, Tag } from '../fix/message.js';

/** OrderID of a report about no order (gateway/reports.ts NO_ORDER_ID; that module is not loaded by the page). */
const NO_ORDER_ID = 'NONE';

export interface LiveOrder {
  orderId: string;
  clOrdId: string;
  symbol: string;
  side: 'buy' | 'sell';
  ordType: 'limit' | 'market';
  price: string;
  qty: string;
  leaves: string;
  cum: string;
  avgPx: string;
  status: string;
  tif: string;
  postOnly: boolean;
}

export interface Fill {
  readonly execId: string;
  readonly time: string;
  readonly orderId: string;
  readonly clOrdId: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly lastPx: string;
  readonly lastQty: string;
  readonly cumQty: string;
  readonly avgPx: string;
  readonly liquidity: 'maker' | 'taker' | '';
}

export interface Refusal {
  readonly time: string;
  readonly what: string;
  readonly reason: string;
}

/** The engine's reason codes (engine/README.md) in words. */
const ENGINE_REASONS: Record<string, string> = {
  unknown_symbol: 'unknown symbol',
  halted: 'trading is halted',
  duplicate_clordid: 'an order with this ClOrdID is already live',
  off_lot: 'quantity is not a whole number of lots',
  qty_out_of_range: 'quantity is outside the allowed range',
  off_tick: 'price is not on the tick grid',
  price_out_of_band: 'price is outside the allowed band',
  post_only_would_cross: 'a post-only order would have taken liquidity',
  invalid_order: 'invalid order',
  unknown_order: 'no such live order (filled, cancelled or never yours)',
  busy: 'the exchange is busy; retry',
  throttled: 'too many messages',
  not_primary: 'this node does not take orders',
};

const ORD_STATUS: Record<string, string> = {
  0: 'new', 1: 'partially filled', 2: 'filled', 4: 'cancelled', 5: 'replaced', 8: 'rejected',
};

const ORD_REJ_REASON: Record<string, string> = {
  1: 'unknown symbol', 2: 'exchange closed', 3: 'order exceeds limit', 6: 'duplicate order',
  11: 'unsupported order characteristic', 13: 'incorrect quantity', 99: 'other',
};

const CXL_REJ_REASON: Record<string, string> = { 1: 'unknown order', 2: 'broker / exchange option', 6: 'duplicate ClOrdID', 99: 'other' };

const SESSION_REJECT_REASON: Record<string, string> = {
  0: 'invalid tag number', 1: 'required tag missing', 2: 'tag not defined for this message type', 4: 'tag without a value',
  5: 'value is incorrect (out of range)', 6: 'incorrect data format', 9: 'CompID problem', 10: 'SendingTime accuracy problem',
  11: 'invalid MsgType', 13: 'tag appears more than once', 99: 'other',
};

const BUSINESS_REJECT_REASON: Record<string, string> = {
  0: 'other', 1: 'unknown ID', 2: 'unknown security', 3: 'unsupported message type', 4: 'application not available',
  5: 'conditionally required field missing', 6: 'not authorized',
};

const MD_REJECT_REASON: Record<string, string> = {
  0: 'unknown symbol', 4: 'unsupported subscription type', 5: 'unsupported market depth', 6: 'unsupported update type',
  7: 'unsupported aggregated book', 8: 'unsupported entry type',
};

/** The exchange's Text ("off_tick: price 190.001 is not …") in words, with the FIX code's meaning as a fallback. */
export function reasonInWords(text: string | undefined, code: string | undefined, codes: Record<string, string>): string {
  const t = text ?? '';
  const m = /^([a-z_]+): (.*)$/.exec(t);
  if (m !== null && ENGINE_REASONS[m[1]] !== undefined) return `${ENGINE_REASONS[m[1]]}: ${m[2]}`;
  if (t !== '') return t;
  return code !== undefined ? (codes[code] ?? `reason ${code}`) : 'no reason given';
}

export class MyOrders {
  /** Live orders by OrderID, in the order they were accepted. */
  readonly live = new Map<string, LiveOrder>();
  readonly fills: Fill[] = [];
  readonly refusals: Refusal[] = [];
  /** The highest log sequence number seen in an ExecID (`<seq>.<k>`): the exchange's seq. */
  exchangeSeq = 0;
  version = 0;
  private readonly execIds = new Set<string>();

  constructor(private readonly keep = 200) {}

  /** One message from the exchange; true when it concerned this model. */
  apply(m: FixMessage, time: string): boolean {
    const g = (tag: number): string | undefined => m.get(tag);
    switch (m.msgType) {
      case '8': this.report(m, time); break;
      case '9':
        this.refuse(time, `${g(Tag.CxlRejResponseTo) === '2' ? 'modify' : 'cancel'} of ${g(Tag.OrigClOrdID) ?? '?'}`,
          reasonInWords(g(Tag.Text), g(Tag.CxlRejReason), CXL_REJ_REASON));
        break;
      case 'r':
        this.seeSeq(g(Tag.OrderID));
        if (g(Tag.MassCancelResponse) === '0') this.refuse(time, `mass cancel ${g(Tag.ClOrdID) ?? ''}`.trim(), reasonInWords(g(Tag.Text), g(Tag.MassCancelRejectReason), {}));
        break;
      case '3':
        this.refuse(time, `message ${g(Tag.RefSeqNum) ?? '?'}${g(Tag.RefTagID) !== undefined ? ` (tag ${g(Tag.RefTagID)})` : ''}`,
          reasonInWords(g(Tag.Text), g(Tag.SessionRejectReason), SESSION_REJECT_REASON));
        break;
      case 'j':
        this.refuse(time, `${g(Tag.RefMsgType) ?? '?'} ${g(Tag.BusinessRejectRefID) ?? ''}`.trim(),
          reasonInWords(g(Tag.Text), g(Tag.BusinessRejectReason), BUSINESS_REJECT_REASON));
        break;
      case 'Y':
        this.refuse(time, `market data ${g(Tag.MDReqID) ?? ''}`.trim(), reasonInWords(g(Tag.Text), g(Tag.MDReqRejReason), MD_REJECT_REASON));
        break;
      default:
        return false;
    }
    this.version++;
    return true;
  }

  private report(m: FixMessage, time: string): void {
    const g = (tag: number): string => m.get(tag) ?? '';
    const execId = m.get(Tag.ExecID) ?? '0';
    // a report resent after a reconnect (PossDup) is applied once
    if (execId !== '0') {
      if (this.execIds.has(execId)) return;
      this.execIds.add(execId);
      if (this.execIds.size > 10 * this.keep) this.execIds.delete(this.execIds.values().next().value as string);
    }
    this.seeSeq(execId);
    const execType = g(Tag.ExecType);
    const orderId = g(Tag.OrderID);
    const clOrdId = g(Tag.ClOrdID);
    // the answer to an OrderMassStatusRequest that found no live order: nothing to list, nothing refused
    if (execType === 'I' && orderId === NO_ORDER_ID) return;
    if (execType === '8') {
      this.refuse(time, `order ${clOrdId}`, reasonInWords(m.get(Tag.Text), m.get(Tag.OrdRejReason), ORD_REJ_REASON));
      return;
    }
    const status = g(Tag.OrdStatus);
    const side = g(Tag.Side) === '2' ? 'sell' : 'buy';
    if (execType === 'F') {
      const liq = g(Tag.LastLiquidityInd);
      this.fills.unshift({
        execId, time, orderId, clOrdId, symbol: g(Tag.Symbol), side, lastPx: g(Tag.LastPx), lastQty: g(Tag.LastQty),
        cumQty: g(Tag.CumQty), avgPx: g(Tag.AvgPx), liquidity: liq === '1' ? 'maker' : liq === '2' ? 'taker' : '',
      });
      if (this.fills.length > this.keep) this.fills.length = this.keep;
    }
    if (status !== '0' && status !== '1') {
      this.live.delete(orderId);
      return;
    }
    this.live.set(orderId, {
      orderId, clOrdId, symbol: g(Tag.Symbol), side, ordType: g(Tag.OrdType) === '1' ? 'market' : 'limit',
      price: g(Tag.Price), qty: g(Tag.OrderQty), leaves: g(Tag.LeavesQty), cum: g(Tag.CumQty),
      avgPx: g(Tag.AvgPx), status: ORD_STATUS[status] ?? status, tif: g(Tag.TimeInForce), postOnly: g(Tag.ExecInst) === '6',
    });
  }

  private refuse(time: string, what: string, reason: string): void {
    this.refusals.unshift({ time, what, reason });
    if (this.refusals.length > this.keep) this.refusals.length = this.keep;
  }

  private seeSeq(id: string | undefined): void {
    const seq = Number((id ?? '').split('.')[0]);
    if (Number.isSafeInteger(seq) && seq > this.exchangeSeq) this.exchangeSeq = seq;
  }

  clear(): void {
    this.live.clear();
    this.fills.length = 0;
    this.refusals.length = 0;
    this.execIds.clear();
    this.version++;
  }
}
