// SecurityListRequest (x) → SecurityList (y): the instruments a client may
// trade and each one's grid, from the gateway's `Instruments` (the engine's
// snapshot at start-up, then every committed `instrument` command), so an
// instrument created later is listed. Answered at once: it reads no order
// state and changes nothing, so nothing goes to the log. The list is public:
// every logged-on account may ask, market-data-only ones too.
//
// Per instrument, sorted by symbol: Symbol 55, RoundLot 561 (the lot size),
// MinTradeVol 562 (the minimum order quantity), MinPriceIncrement 969 (the
// tick size; FIX 5.0's field, FIX 4.4 has none) and, when the instrument has
// a maximum order quantity, MaxTradeVol 1140 (FIX 5.0's too). Every value is
// the engine's decimal string, never a float.
//
// A long list is fragmented (FIX 4.4 Vol 3, SecurityList): every fragment
// carries the same SecurityReqID, SecurityResponseID and TotNoRelatedSym,
// LastFragment N but the last, which has Y. A fragment holds at most
// `maxEntryBytes` of entries measured in their FIX JSON form (the longer of
// the two encodings), so a y stays within the 64 KiB frame limit that the
// gateway and its own client decode with.

import type { Instrument } from '../engine/index.js';
import { jsonEntryBytes } from './fix/json.js';
import { FixMessage, Tag } from './fix/message.js';
import type { Instruments } from './orders.js';

/** SecurityRequestResult (560). */
export const SecurityRequestResult = {
  Valid: '0',
  InvalidOrUnsupported: '1',
  NoInstrumentsFound: '2',
} as const;

/** Entries per SecurityList message, in bytes of their FIX JSON form. */
export const DEFAULT_MAX_ENTRY_BYTES = 32 * 1024;

export interface SecurityListOptions {
  /** SecurityResponseID (322) is `<idPrefix><n>`, n counting answers from 1. */
  idPrefix?: string;
  maxEntryBytes?: number;
}

/** One NoRelatedSym entry, in the group's order. */
function entryOf(inst: Instrument): [number, string][] {
  const fields: [number, string][] = [
    [Tag.Symbol, inst.symbol],
    [Tag.RoundLot, inst.lot.text],
    [Tag.MinTradeVol, inst.qty(inst.minQty)],
    [Tag.MinPriceIncrement, inst.tick.text],
  ];
  if (inst.maxQty !== Number.MAX_SAFE_INTEGER) fields.push([Tag.MaxTradeVol, inst.qty(inst.maxQty)]);
  return fields;
}

export class SecurityLists {
  private answered = 0;
  private readonly idPrefix: string;
  private readonly maxEntryBytes: number;

  constructor(private readonly instruments: Instruments, options: SecurityListOptions = {}) {
    this.idPrefix = options.idPrefix ?? '';
    this.maxEntryBytes = options.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  }

  /** The answer to a validated SecurityListRequest: one SecurityList, or several fragments of one. */
  request(msg: FixMessage): FixMessage[] {
    const reqId = msg.get(Tag.SecurityReqID) ?? '';
    const responseId = `${this.idPrefix}${++this.answered}`;
    const head = (result: string, total: number): FixMessage =>
      new FixMessage([[Tag.MsgType, 'y']]).add(Tag.SecurityReqID, reqId).add(Tag.SecurityResponseID, responseId)
        .add(Tag.SecurityRequestResult, result).add(Tag.TotNoRelatedSym, total);
    const empty = (result: string): FixMessage[] => [head(result, 0).add(Tag.LastFragment, 'Y')];

    // the session checked 320 and 559 (required, 559 one of FIX's values) and 263 (one of FIX's values)
    const sub = msg.get(Tag.SubscriptionRequestType);
    if (sub !== undefined && sub !== '0') return empty(SecurityRequestResult.InvalidOrUnsupported); // no updates: a snapshot only
    const type = msg.get(Tag.SecurityListRequestType);
    const symbol = msg.get(Tag.Symbol);
    let list: Instrument[];
    if (type === '4') {
      // all securities: a Symbol would narrow it, and type 0 is the way to ask for one
      if (symbol !== undefined) return empty(SecurityRequestResult.InvalidOrUnsupported);
      list = this.instruments.symbols().map((s) => this.instruments.get(s) as Instrument);
    } else if (type === '0') {
      if (symbol === undefined) return empty(SecurityRequestResult.InvalidOrUnsupported);
      const inst = this.instruments.get(symbol);
      if (inst === undefined) return empty(SecurityRequestResult.NoInstrumentsFound);
      list = [inst];
    } else {
      // 1 SecurityType/CFICode, 2 Product, 3 TradingSessionID: the exchange has none of them
      return empty(SecurityRequestResult.InvalidOrUnsupported);
    }
    if (list.length === 0) return empty(SecurityRequestResult.NoInstrumentsFound);

    // fragments: at least one entry each, whatever its size
    const fragments: [number, string][][][] = [];
    let bytes = 0;
    for (const inst of list) {
      const entry = entryOf(inst);
      const size = jsonEntryBytes(entry);
      const current = fragments.at(-1);
      if (current === undefined || bytes + size > this.maxEntryBytes) {
        fragments.push([entry]);
        bytes = size;
      } else {
        current.push(entry);
        bytes += size;
      }
    }
    const out = fragments.map((entries, k) => {
      const y = head(SecurityRequestResult.Valid, list.length)
        .add(Tag.LastFragment, k === fragments.length - 1 ? 'Y' : 'N').add(Tag.NoRelatedSym, entries.length);
      for (const entry of entries) y.fields.push(...entry);
      return y;
    });
    return out;
  }
}
