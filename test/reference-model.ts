// A naive reference model of the matching rules: plain arrays, linear scans,
// sorting on every look, BigInt money. Written to be obviously right, not fast.
// The property tests demand that the engine emits exactly the events this
// model emits. It shares only types with the engine: its grid, band and id
// rules are its own (reference-instrument.ts).

import type { Command, EngineEvent, RejectReason, CancelReason, CancelRejectReason } from '../engine/index.js';
import { RefInstrument, isId, parseDec, unitsOf, type Dec } from './reference-instrument.js';

type Side = 0 | 1;

interface MOrder {
  orderId: number;
  account: string;
  clOrdId: string;
  symbol: string;
  side: Side;
  ordType: 'limit' | 'market';
  tif: 'GTC' | 'IOC' | 'FOK';
  price: number;
  qty: number;
  leavesQty: number;
  cumQty: number;
  cumNotional: bigint;
  postOnly: boolean;
  stp: 'cancel_resting' | 'cancel_incoming' | 'cancel_both';
  time: number; // priority stamp: lower is earlier
  /** For a market order: the worst price it may trade at (the band's edge, taken at entry); null: none. */
  collar: bigint | null;
}

const MAX_INTEGER = 2 ** 52;

export class ReferenceModel {
  instruments: RefInstrument[] = [];
  resting: MOrder[] = [];
  private clock = 0;

  inst(symbol: string): RefInstrument | undefined {
    return this.instruments.find((i) => i.symbol === symbol);
  }

  /** Orders of one side of a book, best first, earliest first within a price. */
  sideOrders(symbol: string, side: Side): MOrder[] {
    return this.resting
      .filter((o) => o.symbol === symbol && o.side === side)
      .sort((a, b) => (a.price === b.price ? a.time - b.time : side === 0 ? b.price - a.price : a.price - b.price));
  }

  private level(symbol: string, side: Side, price: number): { qty: number; orders: number } {
    let qty = 0;
    let orders = 0;
    for (const o of this.resting) {
      if (o.symbol === symbol && o.side === side && o.price === price) { qty += o.leavesQty; orders++; }
    }
    return { qty, orders };
  }

  private delta(out: EngineEvent[], seq: number, symbol: string, side: Side, price: number): void {
    const l = this.level(symbol, side, price);
    out.push({ type: 'bookDelta', seq, symbol, side, price, qty: l.qty, orders: l.orders });
  }

  private view(o: MOrder, seq: number) {
    return {
      seq, orderId: o.orderId, account: o.account, clOrdId: o.clOrdId, symbol: o.symbol, side: o.side,
      ordType: o.ordType, tif: o.tif, price: o.price, qty: o.qty, leavesQty: o.leavesQty, cumQty: o.cumQty,
      cumNotional: o.cumNotional,
    };
  }

  private cancelled(o: MOrder, seq: number, clOrdId: string, reason: CancelReason): EngineEvent {
    return { type: 'cancelled', ...this.view(o, seq), leavesQty: 0, cancelledQty: o.leavesQty, clOrdId, origClOrdId: o.clOrdId, reason };
  }

  private live(account: string, clOrdId: string): MOrder | undefined {
    return this.resting.find((o) => o.account === account && o.clOrdId === clOrdId);
  }

  private unrest(o: MOrder): void {
    this.resting = this.resting.filter((x) => x !== o);
  }

  apply(c: Command, seq: number): EngineEvent[] {
    const out: EngineEvent[] = [];
    const rej = (account: unknown, clOrdId: unknown, symbol: unknown, reason: RejectReason, text = ''): EngineEvent[] => {
      out.push({ type: 'rejected', seq, account: isId(account) ? account : '', clOrdId: isId(clOrdId) ? clOrdId : '', symbol: isId(symbol) ? symbol : '', reason, text });
      return out;
    };
    // a price or quantity as the engine judges its form: parsed, and a price must be positive
    const dec = (s: unknown, positive: boolean): Dec | null => {
      const d = parseDec(s);
      return d && (!positive || d.int > 0n) ? d : null;
    };
    switch (c.op) {
      case 'instrument': {
        if (isId(c.symbol) && this.inst(c.symbol)) return rej('', '', c.symbol, 'invalid_order');
        const i = RefInstrument.create(c);
        if (!i) return rej('', '', c.symbol, 'invalid_order');
        this.instruments.push(i);
        out.push({ type: 'instrument', seq, symbol: i.symbol, status: i.halted ? 'halted' : 'open' });
        return out;
      }
      case 'halt':
      case 'resume': {
        if (!isId(c.symbol)) return rej('', '', c.symbol, 'invalid_order');
        const i = this.inst(c.symbol);
        if (!i) return rej('', '', c.symbol, 'unknown_symbol');
        i.halted = c.op === 'halt';
        out.push({ type: 'status', seq, symbol: c.symbol, status: i.halted ? 'halted' : 'open' });
        return out;
      }
      case 'book': {
        if (!isId(c.symbol)) return rej('', '', c.symbol, 'invalid_order');
        const depth = c.depth ?? 10;
        if (!Number.isInteger(depth) || depth <= 0 || depth > MAX_INTEGER) return rej('', '', c.symbol, 'invalid_order');
        if (!this.inst(c.symbol)) return rej('', '', c.symbol, 'unknown_symbol');
        const lv = (side: Side) => {
          const prices: number[] = [];
          for (const o of this.sideOrders(c.symbol, side)) if (!prices.includes(o.price)) prices.push(o.price);
          return prices.slice(0, Math.min(depth, 10_000)).map((p) => ({ price: p, ...this.level(c.symbol, side, p) }));
        };
        out.push({ type: 'book', seq, symbol: c.symbol, bids: lv(0), asks: lv(1) });
        return out;
      }
      case 'massCancel': {
        if (!isId(c.account) || (c.symbol != null && !isId(c.symbol)) || (c.clOrdId != null && !isId(c.clOrdId))) {
          return rej(c.account, c.clOrdId, c.symbol, 'invalid_order');
        }
        const mine = this.resting
          .filter((o) => o.account === c.account && (c.symbol == null || o.symbol === c.symbol))
          .sort((a, b) => a.orderId - b.orderId);
        // one delta per level, after the last cancel at that level
        const at = (o: MOrder) => `${o.symbol} ${o.side} ${o.price}`;
        mine.forEach((o, i) => {
          this.unrest(o);
          out.push(this.cancelled(o, seq, o.clOrdId, 'mass'));
          if (!mine.slice(i + 1).some((p) => at(p) === at(o))) this.delta(out, seq, o.symbol, o.side, o.price);
        });
        out.push({ type: 'massCancelled', seq, account: c.account, clOrdId: c.clOrdId ?? '', symbol: c.symbol ?? '', count: mine.length });
        return out;
      }
      case 'cancel':
      case 'replace': {
        const byId = c.origClOrdId == null;
        const orderIdOk = c.orderId == null || (Number.isInteger(c.orderId) && c.orderId > 0 && c.orderId <= MAX_INTEGER);
        const origOk = byId ? c.orderId != null : isId(c.origClOrdId);
        if (!isId(c.account) || !isId(c.clOrdId) || !orderIdOk || !origOk || (c.symbol != null && !isId(c.symbol))) {
          return rej(c.account, c.clOrdId, c.symbol, 'invalid_order');
        }
        const o = this.resting.find((x) => x.account === c.account && (byId ? x.orderId === c.orderId : x.clOrdId === c.origClOrdId) &&
          (c.symbol == null || x.symbol === c.symbol));
        const crej = (reason: CancelRejectReason): EngineEvent[] => {
          out.push({
            type: 'cancelRejected', seq, account: c.account, clOrdId: c.clOrdId,
            origClOrdId: typeof c.origClOrdId === 'string' ? c.origClOrdId : o?.clOrdId ?? '',
            orderId: o?.orderId ?? (typeof c.orderId === 'number' ? c.orderId : 0),
            symbol: o?.symbol ?? (typeof c.symbol === 'string' ? c.symbol : ''), reason, text: '',
          });
          return out;
        };
        if (c.op === 'cancel') {
          if (!o) return crej('unknown_order');
          this.unrest(o);
          out.push(this.cancelled(o, seq, c.clOrdId, 'user'));
          this.delta(out, seq, o.symbol, o.side, o.price);
          return out;
        }
        const pd = c.price == null ? null : dec(c.price, true);
        if (c.price != null && !pd) return crej('invalid_order');
        const qd = dec(c.qty, false);
        if (!qd) return crej('invalid_order');
        if (!o) return crej('unknown_order');
        const i = this.inst(o.symbol) as RefInstrument;
        if (i.halted) return crej('halted');
        let price = o.price;
        if (pd) {
          const t = unitsOf(pd, i.tick);
          if (t === 'off_grid') return crej('off_tick');
          if (t === 'too_large') return crej('invalid_order');
          price = t;
        }
        const qty = unitsOf(qd, i.lot);
        if (qty === 'off_grid') return crej('off_lot');
        if (qty === 'too_large') return crej('invalid_order');
        if (qty < i.minQty || qty > i.maxQty) return crej('qty_out_of_range');
        if (qty <= o.cumQty) return crej('invalid_order');
        if (price !== o.price && i.outOfBand(price)) return crej('price_out_of_band');
        if (c.clOrdId !== o.clOrdId && this.live(o.account, c.clOrdId)) return crej('duplicate_clordid');
        if (o.postOnly && price !== o.price && this.crosses(o.symbol, o.side, price)) return crej('post_only_would_cross');
        const orig = o.clOrdId;
        const leaves = qty - o.cumQty;
        o.clOrdId = c.clOrdId;
        o.qty = qty;
        if (price === o.price && leaves <= o.leavesQty) {
          o.leavesQty = leaves;
          out.push({ type: 'replaced', ...this.view(o, seq), origClOrdId: orig });
          this.delta(out, seq, o.symbol, o.side, price);
          return out;
        }
        const oldPrice = o.price;
        this.unrest(o);
        o.price = price;
        o.leavesQty = leaves;
        out.push({ type: 'replaced', ...this.view(o, seq), origClOrdId: orig });
        if (price !== oldPrice) this.delta(out, seq, o.symbol, o.side, oldPrice);
        this.execute(o, seq, out);
        return out;
      }
      case 'new': {
        const { account, clOrdId, symbol } = c;
        if (!isId(account) || !isId(clOrdId) || !isId(symbol)) return rej(account, clOrdId, symbol, 'invalid_order');
        if (c.side !== 'buy' && c.side !== 'sell') return rej(account, clOrdId, symbol, 'invalid_order');
        if (c.type !== 'limit' && c.type !== 'market') return rej(account, clOrdId, symbol, 'invalid_order');
        const tif = c.tif ?? (c.type === 'market' ? 'IOC' : 'GTC');
        if (!['GTC', 'IOC', 'FOK'].includes(tif)) return rej(account, clOrdId, symbol, 'invalid_order');
        const stp = c.stp ?? 'cancel_resting';
        if (!['cancel_resting', 'cancel_incoming', 'cancel_both'].includes(stp)) return rej(account, clOrdId, symbol, 'invalid_order');
        if (c.postOnly != null && typeof c.postOnly !== 'boolean') return rej(account, clOrdId, symbol, 'invalid_order');
        const postOnly = c.postOnly === true;
        if (c.type === 'market' && (c.price != null || postOnly)) return rej(account, clOrdId, symbol, 'invalid_order');
        const pd = c.type === 'limit' ? dec(c.price, true) : null;
        if (c.type === 'limit' && !pd) return rej(account, clOrdId, symbol, 'invalid_order');
        if (postOnly && tif !== 'GTC') return rej(account, clOrdId, symbol, 'invalid_order');
        const qd = dec(c.qty, false);
        if (!qd) return rej(account, clOrdId, symbol, 'invalid_order');
        const i = this.inst(symbol);
        if (!i) return rej(account, clOrdId, symbol, 'unknown_symbol');
        if (i.halted) return rej(account, clOrdId, symbol, 'halted');
        let price = 0;
        if (pd) {
          const t = unitsOf(pd, i.tick);
          if (t === 'off_grid') return rej(account, clOrdId, symbol, 'off_tick');
          if (t === 'too_large') return rej(account, clOrdId, symbol, 'invalid_order');
          price = t;
        }
        const qty = unitsOf(qd, i.lot);
        if (qty === 'off_grid') return rej(account, clOrdId, symbol, 'off_lot');
        if (qty === 'too_large') return rej(account, clOrdId, symbol, 'invalid_order');
        if (qty < i.minQty || qty > i.maxQty) return rej(account, clOrdId, symbol, 'qty_out_of_range');
        if (c.type === 'limit' && i.outOfBand(price)) return rej(account, clOrdId, symbol, 'price_out_of_band');
        if (this.live(account, clOrdId)) return rej(account, clOrdId, symbol, 'duplicate_clordid');
        const side: Side = c.side === 'buy' ? 0 : 1;
        if (postOnly && this.crosses(symbol, side, price)) return rej(account, clOrdId, symbol, 'post_only_would_cross');
        const o: MOrder = {
          orderId: seq, account, clOrdId, symbol, side, ordType: c.type, tif: tif as MOrder['tif'], price, qty,
          leavesQty: qty, cumQty: 0, cumNotional: 0n, postOnly, stp: stp as MOrder['stp'], time: 0,
          // market-order protection: no further than the band from the reference
          collar: c.type === 'market' ? i.collar(side) : null,
        };
        out.push({ type: 'accepted', ...this.view(o, seq), postOnly, stp: o.stp });
        if (tif === 'FOK' && this.fillable(o) < qty) {
          out.push(this.cancelled(o, seq, clOrdId, 'fok'));
          return out;
        }
        this.execute(o, seq, out);
        return out;
      }
      default: {
        const x = c as { account?: unknown; clOrdId?: unknown; symbol?: unknown };
        return rej(x.account, x.clOrdId, x.symbol, 'invalid_order');
      }
    }
  }

  private reaches(o: MOrder, price: number): boolean {
    if (o.ordType === 'market') {
      if (o.collar === null) return true;
      return o.side === 0 ? BigInt(price) <= o.collar : BigInt(price) >= o.collar;
    }
    return o.side === 0 ? price <= o.price : price >= o.price;
  }

  private crosses(symbol: string, side: Side, price: number): boolean {
    const opp = this.sideOrders(symbol, (1 - side) as Side);
    if (opp.length === 0) return false;
    return side === 0 ? opp[0].price <= price : opp[0].price >= price;
  }

  private fillable(o: MOrder): number {
    let sum = 0;
    for (const r of this.sideOrders(o.symbol, (1 - o.side) as Side)) {
      if (!this.reaches(o, r.price)) break;
      if (r.account === o.account) {
        if (o.stp !== 'cancel_resting') break;
        continue;
      }
      sum += r.leavesQty;
    }
    return sum;
  }

  private execute(o: MOrder, seq: number, out: EngineEvent[]): void {
    const opp = (1 - o.side) as Side;
    let levelPrice: number | null = null;
    let selfStop = false;
    let tradeNo = 0;
    const touch = (price: number) => {
      if (levelPrice !== null && levelPrice !== price) this.delta(out, seq, o.symbol, opp, levelPrice);
      levelPrice = price;
    };
    while (o.leavesQty > 0) {
      const r = this.sideOrders(o.symbol, opp)[0];
      if (!r || !this.reaches(o, r.price)) break;
      if (r.account === o.account) {
        if (o.stp === 'cancel_incoming') { selfStop = true; break; }
        touch(r.price);
        this.unrest(r);
        out.push(this.cancelled(r, seq, r.clOrdId, 'stp'));
        if (o.stp === 'cancel_both') { selfStop = true; break; }
        continue;
      }
      touch(r.price);
      const q = Math.min(r.leavesQty, o.leavesQty);
      r.leavesQty -= q; r.cumQty += q; r.cumNotional += BigInt(q) * BigInt(r.price);
      o.leavesQty -= q; o.cumQty += q; o.cumNotional += BigInt(q) * BigInt(r.price);
      if (r.leavesQty === 0) this.unrest(r);
      this.inst(o.symbol)!.lastPrice = r.price;
      out.push({
        type: 'trade', seq, tradeId: `${seq}.${++tradeNo}`, symbol: o.symbol, price: r.price, qty: q, aggressor: o.side,
        makerOrderId: r.orderId, makerAccount: r.account, makerClOrdId: r.clOrdId, makerLeavesQty: r.leavesQty,
        makerCumQty: r.cumQty, makerCumNotional: r.cumNotional,
        takerOrderId: o.orderId, takerAccount: o.account, takerClOrdId: o.clOrdId, takerLeavesQty: o.leavesQty,
        takerCumQty: o.cumQty, takerCumNotional: o.cumNotional,
      });
    }
    if (levelPrice !== null) this.delta(out, seq, o.symbol, opp, levelPrice);
    if (o.leavesQty === 0) return;
    if (selfStop || o.ordType === 'market' || o.tif !== 'GTC') {
      const reason: CancelReason = selfStop ? 'stp' : o.tif === 'FOK' ? 'fok' : o.ordType === 'market' ? 'no_liquidity' : 'ioc';
      out.push(this.cancelled(o, seq, o.clOrdId, reason));
      return;
    }
    o.time = ++this.clock;
    this.resting.push(o);
    this.delta(out, seq, o.symbol, o.side, o.price);
  }
}
