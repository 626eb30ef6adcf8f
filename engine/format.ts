// Engine events in their external form (JSON lines, replay exports): sides as
// "buy"/"sell", prices and quantities as decimal strings on the instrument's grid.

import type { SideName } from './commands.js';
import { formatNotional } from './decimal.js';
import type { EngineEvent, LevelView, OrderView } from './events.js';
import type { Instrument } from './instrument.js';

export type ExternalEvent = Record<string, string | number | boolean | ExternalLevel[]>;
export interface ExternalLevel { price: string; qty: string; orders: number }

export interface InstrumentLookup {
  instrument(symbol: string): Instrument | undefined;
}

export function sideName(side: number): SideName {
  return side === 0 ? 'buy' : 'sell';
}

/** The fields every order event starts with, in their external order; the caller adds its own after them. */
function orderEvent(type: string, e: OrderView, inst: Instrument): ExternalEvent {
  // built field by field, not spread: this runs for every order event of a replay export
  const o: ExternalEvent = {
    type, seq: e.seq, orderId: e.orderId, account: e.account, clOrdId: e.clOrdId, symbol: e.symbol,
    side: sideName(e.side), ordType: e.ordType, tif: e.tif,
  };
  if (e.ordType === 'limit') o.price = inst.price(e.price);
  o.qty = inst.qty(e.qty);
  o.leavesQty = inst.qty(e.leavesQty);
  o.cumQty = inst.qty(e.cumQty);
  o.cumNotional = formatNotional(e.cumNotional, inst.tick, inst.lot);
  return o;
}

function levels(ls: LevelView[], inst: Instrument): ExternalLevel[] {
  return ls.map((l) => ({ price: inst.price(l.price), qty: inst.qty(l.qty), orders: l.orders }));
}

/** The external form of an event; events of unknown symbols cannot occur after a valid command. */
export function formatEvent(e: EngineEvent, lookup: InstrumentLookup): ExternalEvent {
  switch (e.type) {
    case 'rejected':
    case 'cancelRejected':
    case 'massCancelled':
    case 'instrument':
    case 'status':
      return { ...e };
    default:
  }
  const inst = lookup.instrument(e.symbol);
  if (inst === undefined) throw new Error(`event for unknown symbol ${e.symbol}`);
  switch (e.type) {
    case 'accepted': {
      const o = orderEvent(e.type, e, inst);
      o.status = 'new';
      o.postOnly = e.postOnly;
      o.stp = e.stp;
      return o;
    }
    case 'cancelled': {
      const o = orderEvent(e.type, e, inst);
      o.cancelledQty = inst.qty(e.cancelledQty);
      o.origClOrdId = e.origClOrdId;
      o.status = 'cancelled';
      o.reason = e.reason;
      return o;
    }
    case 'replaced': {
      const o = orderEvent(e.type, e, inst);
      o.origClOrdId = e.origClOrdId;
      o.status = 'replaced';
      return o;
    }
    case 'trade':
      return {
        type: e.type, seq: e.seq, tradeId: e.tradeId, symbol: e.symbol, price: inst.price(e.price), qty: inst.qty(e.qty),
        aggressor: sideName(e.aggressor),
        makerOrderId: e.makerOrderId, makerAccount: e.makerAccount, makerClOrdId: e.makerClOrdId,
        makerLeavesQty: inst.qty(e.makerLeavesQty), makerCumQty: inst.qty(e.makerCumQty),
        makerCumNotional: formatNotional(e.makerCumNotional, inst.tick, inst.lot),
        takerOrderId: e.takerOrderId, takerAccount: e.takerAccount, takerClOrdId: e.takerClOrdId,
        takerLeavesQty: inst.qty(e.takerLeavesQty), takerCumQty: inst.qty(e.takerCumQty),
        takerCumNotional: formatNotional(e.takerCumNotional, inst.tick, inst.lot),
      };
    case 'bookDelta':
      return { type: e.type, seq: e.seq, symbol: e.symbol, side: sideName(e.side), price: inst.price(e.price), qty: inst.qty(e.qty), orders: e.orders };
    case 'book':
      return { type: e.type, seq: e.seq, symbol: e.symbol, bids: levels(e.bids, inst), asks: levels(e.asks, inst) };
  }
}
