// One event of history as every output shows it: the formatEvent object with
// the sequencer time of its command right after `seq` (as export/jsonl.ts writes it). Dropping `ts` gives
// back exactly the line `matchlog apply` printed for that event.

import type { ExternalEvent } from '../engine/index.js';
import { formatTime } from './time.js';

export function eventRow(ts: number, e: ExternalEvent): ExternalEvent {
  // key order as jsonl exports it: apply's order with ts right after seq
  const row: ExternalEvent = {};
  for (const k in e) {
    row[k] = e[k];
    if (k === 'seq') row.ts = formatTime(ts);
  }
  return row;
}

/** A one-line human description of an event (after its time and seq). */
export function describe(e: ExternalEvent): string {
  const s = (k: string) => (e[k] === undefined ? '' : String(e[k]));
  switch (e.type) {
    case 'accepted':
      return `accepted #${s('orderId')} ${s('account')} ${s('clOrdId')} ${s('side')} ${s('qty')} ${s('symbol')} ${e.ordType === 'limit' ? `@ ${s('price')}` : 'market'} ${s('tif')}${e.postOnly === true ? ' post-only' : ''}`;
    case 'rejected':
      return `rejected ${s('account')} ${s('clOrdId')} ${s('symbol')}: ${s('reason')} (${s('text')})`;
    case 'cancelled':
      return `cancelled #${s('orderId')} ${s('account')} ${s('clOrdId')} ${s('cancelledQty')} ${s('symbol')} (${s('reason')}), filled ${s('cumQty')} of ${s('qty')}`;
    case 'replaced':
      return `replaced #${s('orderId')} ${s('account')} ${s('origClOrdId')} -> ${s('clOrdId')}: ${s('qty')} @ ${s('price')}, leaves ${s('leavesQty')}`;
    case 'cancelRejected':
      return `cancel/replace rejected ${s('account')} ${s('clOrdId')} for ${s('origClOrdId') || `#${s('orderId')}`}: ${s('reason')} (${s('text')})`;
    case 'trade':
      return `trade ${s('tradeId')} ${s('symbol')} ${s('qty')} @ ${s('price')} ${s('aggressor')} aggressor: maker #${s('makerOrderId')} ${s('makerAccount')} (leaves ${s('makerLeavesQty')}), taker #${s('takerOrderId')} ${s('takerAccount')} (leaves ${s('takerLeavesQty')})`;
    case 'bookDelta':
      return `book ${s('symbol')} ${s('side')} ${s('price')} -> ${s('qty')} (${s('orders')} orders)`;
    case 'massCancelled':
      return `mass cancel ${s('account')} ${s('symbol') || 'all symbols'}: ${s('count')} orders`;
    default:
      return `${s('type')} ${s('symbol')} ${s('status')}`;
  }
}
