// Order entry: validated FIX application messages of a logged-on session
// become engine commands. Prices and quantities stay the decimal strings the
// client sent (the engine converts them once, against the instrument). What
// the engine would reject goes to the engine, so the rejection is in the log
// and replays; only what no command can express (FIX values with no engine
// meaning, ids outside the engine's id rule, gateway limits) is answered here.

import { idProblem, isId, type CancelCommand, type Command, type MassCancelCommand, type NewOrderCommand, type ReplaceCommand, type StpName, type TifName } from '../engine/index.js';
import { BusyError, ClosedError, NoQuorumError, NotPrimaryError } from '../log/errors.js';
import { FixMessage, Tag } from './fix/message.js';
import type { OrderTracker } from './orders.js';
import {
  cancelReject, fixSide, LOCAL_EXEC_ID, massCancelReport, massStatusReports, NO_ORDER_ID, newOrderFacts, rejectReport, statusReport,
  utcTimestamp, type NewOrderFacts,
} from './reports.js';

/** Who sent the message: the session's account, never a tag of the message. */
export interface SessionIdentity {
  readonly account: string;
  readonly marketDataOnly: boolean;
}

export interface OrderEntryOptions {
  /** Live plus in-flight orders an account may have; one more new order is refused (OrdRejReason 3). */
  maxOpenOrders?: number;
  /** Wall clock in epoch ms, for the TransactTime of answers given here (reports from the log use the log's time). */
  clock?: () => number;
}

export const DEFAULT_MAX_OPEN_ORDERS = 10_000;

/** The Text of every refusal caused by the sequencer's full queue. */
export const BUSY_TEXT = 'busy: retry later';

/** Tags of NewOrderSingle whose meaning the engine lacks: ignoring them would trade differently than asked. */
const UNSUPPORTED_NEW_TAGS: readonly [number, string][] = [
  [Tag.StopPx, 'StopPx (99)'], [Tag.MinQty, 'MinQty (110)'], [Tag.MaxFloor, 'MaxFloor (111)'],
  [Tag.ExpireTime, 'ExpireTime (126)'], [Tag.ExpireDate, 'ExpireDate (432)'], [Tag.CashOrderQty, 'CashOrderQty (152)'],
];

const MAX_ORDER_ID = 2 ** 52;

/** OrderID (37) as the engine's integer id, or -1 when it cannot be one of ours. */
function orderIdOf(v: string | undefined): number {
  if (v === undefined || !/^[1-9][0-9]{0,15}$/.test(v)) return -1;
  const n = Number(v);
  return n <= MAX_ORDER_ID ? n : -1;
}

function tifOf(v: string | undefined): TifName | undefined | null {
  switch (v) {
    case undefined: return undefined;
    case '1': return 'GTC';
    case '3': return 'IOC';
    case '4': return 'FOK';
    default: return null;
  }
}

function stpOf(v: string | undefined): StpName | undefined | null {
  switch (v) {
    case undefined: return undefined;
    case '1': return 'cancel_resting';
    case '2': return 'cancel_incoming';
    case '3': return 'cancel_both';
    default: return null;
  }
}

/**
 * A BusinessMessageReject (j). 380: 0 other, 2 unknown security, 3 unsupported
 * message type, 5 conditionally required field missing, 6 not authorized.
 * BusinessRejectRefID: the message's ClOrdID, MDReqID or MassStatusReqID.
 */
export function businessReject(msg: FixMessage, reason: number, text: string): FixMessage {
  const j = new FixMessage([[Tag.MsgType, 'j']]);
  const seq = msg.get(Tag.MsgSeqNum);
  if (seq !== undefined) j.add(Tag.RefSeqNum, seq);
  j.add(Tag.RefMsgType, msg.msgType);
  const ref = msg.get(Tag.ClOrdID) ?? msg.get(Tag.MDReqID) ?? msg.get(Tag.MassStatusReqID);
  if (ref !== undefined) j.add(Tag.BusinessRejectRefID, ref);
  return j.add(Tag.BusinessRejectReason, reason).add(Tag.Text, text);
}

export class OrderEntry {
  private readonly maxOpenOrders: number;
  private readonly clock: () => number;

  constructor(private readonly tracker: OrderTracker, options: OrderEntryOptions = {}) {
    this.maxOpenOrders = options.maxOpenOrders ?? DEFAULT_MAX_OPEN_ORDERS;
    this.clock = options.clock ?? Date.now;
  }

  /**
   * A command for `exchange.submit(cmd, origin)`, or the answer to send back
   * at once. D F G q become commands (or refusals), H is answered from the
   * tracker; any other type is a BusinessMessageReject (route V to market
   * data, x to the security lists and AF to `massStatus` first). A new order
   * that becomes a command counts against the account's open orders until
   * its report is built, or `submitFailed`.
   */
  handle(msg: FixMessage, session: SessionIdentity): Command | FixMessage {
    const type = msg.msgType;
    if (type !== 'D' && type !== 'F' && type !== 'G' && type !== 'H' && type !== 'q') {
      return businessReject(msg, 3, `MsgType ${type} is not taken by order entry`);
    }
    if (session.marketDataOnly) return businessReject(msg, 6, `account ${session.account} is market-data-only: it cannot trade`);
    const acct = msg.get(Tag.Account);
    const notYours = acct !== undefined && acct !== session.account ? `Account (1) ${acct} is not this session's account ${session.account}` : null;
    switch (type) {
      case 'D': return this.newOrder(msg, session.account, notYours);
      case 'F': return this.cancel(msg, session.account, notYours);
      case 'G': return this.replace(msg, session.account, notYours);
      case 'q': return this.massCancel(msg, session.account, notYours);
      default: return this.status(msg, session.account);
    }
  }

  /**
   * The answer to an OrderMassStatusRequest (AF), given at once from the
   * tracker (nothing goes to the log; a replica answers too): the account's
   * live orders, all of them (MassStatusReqType 7) or those of one Symbol (1),
   * as `massStatusReports` builds them. Refused with a BusinessMessageReject:
   * a market-data-only account (380=6, as D F G H q), an Account (1) of
   * someone else (380=6), type 1 without Symbol (380=5), an unknown Symbol
   * (380=2), another FIX type or a Symbol with type 7 (380=0, the Text says
   * what is supported).
   */
  massStatus(msg: FixMessage, session: SessionIdentity): FixMessage[] {
    const account = session.account;
    if (session.marketDataOnly) return [businessReject(msg, 6, `account ${account} is market-data-only: it cannot trade`)];
    const acct = msg.get(Tag.Account);
    if (acct !== undefined && acct !== account) return [businessReject(msg, 6, `Account (1) ${acct} is not this session's account ${account}`)];
    const reqId = msg.get(Tag.MassStatusReqID) ?? '';
    const type = msg.get(Tag.MassStatusReqType);
    const symbol = msg.get(Tag.Symbol);
    const supported = 'supported: 7 all orders, 1 orders of one Symbol (55)';
    if (type !== '1' && type !== '7') return [businessReject(msg, 0, `MassStatusReqType (585) ${type ?? ''} is not supported; ${supported}`)];
    if (type === '7' && symbol !== undefined) return [businessReject(msg, 0, `Symbol (55) is not taken with MassStatusReqType (585) 7 (all orders); ${supported}`)];
    if (type === '1' && symbol === undefined) return [businessReject(msg, 5, 'Symbol (55) is required with MassStatusReqType (585) 1')];
    const instruments = this.tracker.instruments;
    if (symbol !== undefined && instruments.get(symbol) === undefined) return [businessReject(msg, 2, `unknown symbol: ${symbol}`)];
    const orders = this.tracker.liveOrders(account).filter((o) => symbol === undefined || o.symbol === symbol);
    return massStatusReports(orders, (s) => instruments.get(s), account, symbol, reqId, this.now());
  }

  /**
   * The answer to D F G q on a node that does not take orders (a replica, a
   * fenced primary): the usual refusal of that message type (ExecutionReport
   * rejected, OrderCancelReject, OrderMassCancelReport rejected) with `text`,
   * the NotPrimaryError message naming the primary. Nothing is submitted and
   * nothing is reserved. Null for any other type (H is answered from the
   * tracker as on a primary; a market-data-only account still gets j 380=6).
   */
  notPrimary(msg: FixMessage, session: SessionIdentity, text: string): FixMessage | null {
    const type = msg.msgType;
    if (session.marketDataOnly || (type !== 'D' && type !== 'F' && type !== 'G' && type !== 'q')) return null;
    const account = session.account;
    const clOrdId = msg.get(Tag.ClOrdID) ?? '';
    const time = this.now();
    if (type === 'D') {
      const facts: NewOrderFacts = {
        account, clOrdId, symbol: msg.get(Tag.Symbol) ?? '', side: msg.get(Tag.Side) ?? '', ordType: msg.get(Tag.OrdType) ?? '',
        price: msg.get(Tag.Price), qty: msg.get(Tag.OrderQty), tif: msg.get(Tag.TimeInForce) ?? '',
      };
      return rejectReport(facts, LOCAL_EXEC_ID, 99, text, time);
    }
    if (type === 'q') {
      return massCancelReport(NO_ORDER_ID, clOrdId, msg.get(Tag.MassCancelRequestType) ?? '7', msg.get(Tag.Symbol) ?? '', 0, 99, text, time);
    }
    const orig = msg.get(Tag.OrigClOrdID);
    return cancelReject(msg.get(Tag.OrderID) ?? NO_ORDER_ID, clOrdId, orig ?? '', this.liveStatus(account, orig), type === 'G', 99, text, account, time);
  }

  /**
   * The answer when submit() refused `cmd` (it never got a seq): BusyError
   * becomes Text "busy: retry later"; NotPrimaryError (this node lost the
   * primary role between the check and the submit) and NoQuorumError their
   * own message, which names the primary or the quorum; any other error its
   * message. Releases the new order's place in the open-orders count.
   */
  submitFailed(cmd: Command, err: unknown): FixMessage {
    const text = err instanceof BusyError ? BUSY_TEXT
      : err instanceof ClosedError ? `unavailable: ${err.message}`
      : err instanceof NotPrimaryError || err instanceof NoQuorumError ? err.message
      : err instanceof Error ? err.message : String(err);
    const time = this.now();
    switch (cmd.op) {
      case 'new':
        this.tracker.release(cmd.account);
        return rejectReport(newOrderFacts(cmd), LOCAL_EXEC_ID, 99, text, time);
      case 'cancel': case 'replace':
        return cancelReject(typeof cmd.orderId === 'number' ? String(cmd.orderId) : NO_ORDER_ID, cmd.clOrdId, cmd.origClOrdId ?? '',
          this.liveStatus(cmd.account, cmd.origClOrdId), cmd.op === 'replace', 99, text, cmd.account, time);
      case 'massCancel':
        return massCancelReport(NO_ORDER_ID, cmd.clOrdId ?? '', cmd.symbol === undefined ? '7' : '1', cmd.symbol ?? '', 0, 99, text, time);
      default:
        return new FixMessage([[Tag.MsgType, 'j'], [Tag.RefMsgType, 'D'], [Tag.BusinessRejectReason, '0'], [Tag.Text, text]]);
    }
  }

  /**
   * The mass cancel of cancel-on-disconnect (no ClOrdID: no mass-cancel
   * report), or null when nothing is live or on its way (a new order still in
   * the sequencer's queue is sequenced before this and cancelled by it).
   */
  cancelOnDisconnect(account: string): MassCancelCommand | null {
    return this.tracker.openOrders(account) === 0 ? null : { op: 'massCancel', account };
  }

  private now(): string {
    return utcTimestamp(this.clock() * 1000);
  }

  private liveStatus(account: string, clOrdId: string | undefined): string {
    const o = clOrdId === undefined ? undefined : this.tracker.find(account, clOrdId);
    return o === undefined ? '8' : o.cumQty > 0 ? '1' : '0';
  }

  // --- D ---

  private newOrder(msg: FixMessage, account: string, notYours: string | null): Command | FixMessage {
    const clOrdId = msg.get(Tag.ClOrdID) ?? '';
    const symbol = msg.get(Tag.Symbol);
    const side = msg.get(Tag.Side);
    const ordType = msg.get(Tag.OrdType);
    const price = msg.get(Tag.Price);
    const qty = msg.get(Tag.OrderQty);
    const tifText = msg.get(Tag.TimeInForce);
    const facts: NewOrderFacts = {
      // echoed as sent: a refusal of Side 5 still says Side 5
      account, clOrdId, symbol: symbol ?? '', side: side ?? '', ordType: ordType ?? '',
      price, qty, tif: tifText ?? '',
    };
    const refuse = (reason: number, text: string) => rejectReport(facts, LOCAL_EXEC_ID, reason, text, this.now());
    if (notYours !== null) return refuse(99, notYours);
    const badId = idProblem(clOrdId, 'ClOrdID (11)');
    if (badId !== null) return refuse(99, badId);
    if (symbol === undefined) return refuse(1, 'Symbol (55) is required');
    if (!isId(symbol)) return refuse(1, idProblem(symbol, 'Symbol (55)') as string);
    if (side !== '1' && side !== '2') return refuse(11, `Side (54) ${side ?? ''} is not supported: 1 buy or 2 sell`);
    if (ordType !== '1' && ordType !== '2') return refuse(11, `OrdType (40) ${ordType ?? ''} is not supported: 1 market or 2 limit`);
    if (qty === undefined) return refuse(13, 'OrderQty (38) is required');
    const tif = tifOf(tifText);
    if (tif === null) {
      return refuse(11, tifText === '0'
        ? 'TimeInForce (59) 0 Day is not supported: orders rest until cancelled; use 1 GTC, 3 IOC or 4 FOK'
        : `TimeInForce (59) ${tifText ?? ''} is not supported: 1 GTC, 3 IOC or 4 FOK`);
    }
    let postOnly = false;
    const execInst = msg.get(Tag.ExecInst);
    if (execInst !== undefined) {
      for (const v of execInst.split(' ')) {
        if (v === '6') postOnly = true;
        else if (v !== '') return refuse(11, `ExecInst (18) ${v} is not supported: only 6 (post-only)`);
      }
    }
    const stp = stpOf(msg.get(Tag.SelfTradePrevention));
    if (stp === null) return refuse(11, 'SelfTradePrevention (7928) must be 1 cancel resting, 2 cancel incoming or 3 cancel both');
    for (const [tag, name] of UNSUPPORTED_NEW_TAGS) if (msg.has(tag)) return refuse(11, `${name} is not supported`);
    if (this.tracker.openOrders(account) >= this.maxOpenOrders) {
      return refuse(3, `open orders limit: account ${account} has ${this.maxOpenOrders} live or pending orders`);
    }
    const cmd: NewOrderCommand = { op: 'new', account, clOrdId, symbol, side: side === '1' ? 'buy' : 'sell', type: ordType === '1' ? 'market' : 'limit', qty };
    // a market order's price goes to the engine, which rejects it (logged) rather than ignoring it
    if (price !== undefined) cmd.price = price;
    if (tif !== undefined) cmd.tif = tif;
    if (postOnly) cmd.postOnly = true;
    if (stp !== undefined) cmd.stp = stp;
    this.tracker.reserve(account);
    return cmd;
  }

  // --- F, G ---

  /** The fields F and G share; a refusal (OrderCancelReject) when they cannot name an order of ours. */
  private target(msg: FixMessage, account: string, notYours: string | null, toReplace: boolean):
    { clOrdId: string; origClOrdId?: string; orderId?: number; symbol?: string } | FixMessage {
    const clOrdId = msg.get(Tag.ClOrdID) ?? '';
    const orig = msg.get(Tag.OrigClOrdID);
    const orderIdText = msg.get(Tag.OrderID);
    const symbol = msg.get(Tag.Symbol);
    const refuse = (reason: number, text: string) => cancelReject(orderIdText ?? NO_ORDER_ID, clOrdId, orig ?? '',
      this.liveStatus(account, orig), toReplace, reason, text, account, this.now());
    if (notYours !== null) return refuse(99, notYours);
    const badId = idProblem(clOrdId, 'ClOrdID (11)');
    if (badId !== null) return refuse(99, badId);
    // ids outside the engine's rule cannot name an order, and the engine would refuse the command before the log
    if (symbol !== undefined && !isId(symbol)) return refuse(1, `unknown_order: ${idProblem(symbol, 'Symbol (55)') as string}`);
    // OrigClOrdID names the order (the engine's precedence); OrderID only without it
    if (orig !== undefined) {
      if (!isId(orig)) return refuse(1, `unknown_order: ${idProblem(orig, 'OrigClOrdID (41)') as string}`);
      return symbol === undefined ? { clOrdId, origClOrdId: orig } : { clOrdId, origClOrdId: orig, symbol };
    }
    const orderId = orderIdOf(orderIdText);
    if (orderId < 0) return refuse(1, 'unknown_order: OrigClOrdID (41) or an OrderID (37) of this exchange is required');
    return symbol === undefined ? { clOrdId, orderId } : { clOrdId, orderId, symbol };
  }

  private cancel(msg: FixMessage, account: string, notYours: string | null): Command | FixMessage {
    const t = this.target(msg, account, notYours, false);
    if (t instanceof FixMessage) return t;
    const cmd: CancelCommand = { op: 'cancel', account, ...t };
    return cmd;
  }

  private replace(msg: FixMessage, account: string, notYours: string | null): Command | FixMessage {
    const t = this.target(msg, account, notYours, true);
    if (t instanceof FixMessage) return t;
    const refuse = (reason: number, text: string) => cancelReject(msg.get(Tag.OrderID) ?? NO_ORDER_ID, t.clOrdId, t.origClOrdId ?? '',
      this.liveStatus(account, t.origClOrdId), true, reason, text, account, this.now());
    const qty = msg.get(Tag.OrderQty);
    if (qty === undefined) return refuse(99, 'OrderQty (38) is required: the new total quantity, fills included');
    // only a GTC limit order rests, and a replace changes price and quantity only
    if (msg.get(Tag.OrdType) !== '2') return refuse(99, 'OrdType (40) must be 2 (limit): only a limit order rests');
    const tif = msg.get(Tag.TimeInForce);
    if (tif !== undefined && tif !== '1') return refuse(99, 'TimeInForce (59) cannot change: a resting order is GTC (1)');
    const side = msg.get(Tag.Side);
    const live = t.origClOrdId !== undefined ? this.tracker.find(account, t.origClOrdId) : this.tracker.findById(account, t.orderId ?? -1);
    if (live !== undefined && side !== undefined && side !== fixSide(live.side)) return refuse(99, 'Side (54) cannot change on a replace');
    const cmd: ReplaceCommand = { op: 'replace', account, ...t, qty };
    const price = msg.get(Tag.Price);
    if (price !== undefined) cmd.price = price;
    return cmd;
  }

  // --- q ---

  private massCancel(msg: FixMessage, account: string, notYours: string | null): Command | FixMessage {
    const clOrdId = msg.get(Tag.ClOrdID) ?? '';
    const type = msg.get(Tag.MassCancelRequestType);
    const symbol = msg.get(Tag.Symbol);
    const refuse = (reason: number, text: string) => massCancelReport(NO_ORDER_ID, clOrdId, type ?? '7', symbol ?? '', 0, reason, text, this.now());
    if (notYours !== null) return refuse(99, notYours);
    const badId = idProblem(clOrdId, 'ClOrdID (11)');
    if (badId !== null) return refuse(99, badId);
    if (type === '7') return { op: 'massCancel', account, clOrdId };
    if (type !== '1') return refuse(0, `MassCancelRequestType (530) ${type ?? ''} is not supported: 1 by symbol or 7 all`);
    if (symbol === undefined || !isId(symbol)) return refuse(1, symbol === undefined ? 'Symbol (55) is required with MassCancelRequestType 1' : idProblem(symbol, 'Symbol (55)') as string);
    return { op: 'massCancel', account, symbol, clOrdId };
  }

  // --- H ---

  private status(msg: FixMessage, account: string): FixMessage {
    const clOrdId = msg.get(Tag.ClOrdID) ?? '';
    const orderIdText = msg.get(Tag.OrderID);
    const orderId = orderIdOf(orderIdText);
    const o = orderId > 0 ? this.tracker.findById(account, orderId) : this.tracker.find(account, clOrdId);
    const reqId = msg.get(Tag.OrdStatusReqID);
    const time = this.now();
    const inst = o === undefined ? undefined : this.tracker.instruments.get(o.symbol);
    if (o !== undefined && inst !== undefined) return statusReport(o, inst, time, reqId);
    const m = new FixMessage([[Tag.MsgType, '8']]).add(Tag.OrderID, orderIdText ?? NO_ORDER_ID).add(Tag.ClOrdID, clOrdId)
      .add(Tag.ExecID, LOCAL_EXEC_ID).add(Tag.ExecType, 'I').add(Tag.OrdStatus, '8').add(Tag.Account, account);
    const symbol = msg.get(Tag.Symbol);
    if (symbol !== undefined) m.add(Tag.Symbol, symbol);
    const side = msg.get(Tag.Side);
    if (side !== undefined) m.add(Tag.Side, side);
    m.add(Tag.LeavesQty, '0').add(Tag.CumQty, '0').add(Tag.AvgPx, '0').add(Tag.TransactTime, time);
    if (reqId !== undefined) m.add(Tag.OrdStatusReqID, reqId);
    return m.add(Tag.Text, 'unknown order: no live order of this account with that ClOrdID/OrderID (filled and cancelled orders are not kept)');
  }
}
