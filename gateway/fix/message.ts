// A FIX message as the gateway handles it, whatever its wire encoding
// (tag=value over `fix.4.4`, FIX JSON over `fix.json`): the fields in wire
// order as (tag, value) pairs, values as the strings FIX defines them to be.
// Repeating groups are kept flat, in order, as on the tag=value wire; the JSON
// codec nests them with the dictionary. BeginString (8), BodyLength (9) and
// CheckSum (10) are not stored: the codecs check and write them.

export type FixField = [tag: number, value: string];

export class FixMessage {
  readonly fields: FixField[];

  constructor(fields: FixField[] = []) {
    this.fields = fields;
  }

  /** MsgType (35), '' when missing. */
  get msgType(): string {
    return this.get(Tag.MsgType) ?? '';
  }

  /** The first value of `tag`, if present. */
  get(tag: number): string | undefined {
    const f = this.fields;
    for (let i = 0; i < f.length; i++) if (f[i][0] === tag) return f[i][1];
    return undefined;
  }

  /** Every value of `tag`, in order (repeating groups). */
  getAll(tag: number): string[] {
    const out: string[] = [];
    for (const [t, v] of this.fields) if (t === tag) out.push(v);
    return out;
  }

  has(tag: number): boolean {
    return this.get(tag) !== undefined;
  }

  /** Appends a field; numbers are written as FIX writes them (no exponent). */
  add(tag: number, value: string | number | bigint): this {
    this.fields.push([tag, typeof value === 'string' ? value : String(value)]);
    return this;
  }

  /** Replaces the first value of `tag`, or appends it. */
  set(tag: number, value: string | number | bigint): this {
    const v = typeof value === 'string' ? value : String(value);
    for (const f of this.fields) {
      if (f[0] === tag) {
        f[1] = v;
        return this;
      }
    }
    return this.add(tag, v);
  }

  remove(tag: number): this {
    for (let i = this.fields.length - 1; i >= 0; i--) if (this.fields[i][0] === tag) this.fields.splice(i, 1);
    return this;
  }

  clone(): FixMessage {
    return new FixMessage(this.fields.map(([t, v]) => [t, v]));
  }

  /** For logs and test failures: `35=D|11=abc|...`. */
  toString(): string {
    return this.fields.map(([t, v]) => `${t}=${v}`).join('|');
  }
}

/** Tag numbers the gateway uses (FIX 4.4 names). */
export const Tag = {
  Account: 1,
  AvgPx: 6,
  BeginSeqNo: 7,
  BeginString: 8,
  BodyLength: 9,
  CheckSum: 10,
  ClOrdID: 11,
  CumQty: 14,
  ExecID: 17,
  ExecInst: 18,
  EndSeqNo: 16,
  LastPx: 31,
  LastQty: 32,
  MsgSeqNum: 34,
  MsgType: 35,
  NewSeqNo: 36,
  OrderID: 37,
  OrderQty: 38,
  OrdStatus: 39,
  OrdType: 40,
  OrigClOrdID: 41,
  PossDupFlag: 43,
  Price: 44,
  RefSeqNum: 45,
  SenderCompID: 49,
  SendingTime: 52,
  Side: 54,
  Symbol: 55,
  TargetCompID: 56,
  Text: 58,
  TimeInForce: 59,
  TransactTime: 60,
  EncryptMethod: 98,
  CxlRejReason: 102,
  OrdRejReason: 103,
  TestReqID: 112,
  HeartBtInt: 108,
  GapFillFlag: 123,
  OrigSendingTime: 122,
  ResetSeqNumFlag: 141,
  ExecType: 150,
  LeavesQty: 151,
  MDReqID: 262,
  SubscriptionRequestType: 263,
  MarketDepth: 264,
  MDUpdateType: 265,
  NoMDEntryTypes: 267,
  NoMDEntries: 268,
  MDEntryType: 269,
  MDEntryPx: 270,
  MDEntrySize: 271,
  MDUpdateAction: 279,
  MDReqRejReason: 281,
  RptSeq: 83,
  NumberOfOrders: 346,
  RefTagID: 371,
  RefMsgType: 372,
  SessionRejectReason: 373,
  BusinessRejectRefID: 379,
  BusinessRejectReason: 380,
  CxlRejResponseTo: 434,
  MassCancelRequestType: 530,
  MassCancelResponse: 531,
  MassCancelRejectReason: 532,
  TotalAffectedOrders: 533,
  Username: 553,
  Password: 554,
  MDEntryID: 278,
  MDEntryDate: 272,
  MDEntryTime: 273,
  /** FIX 5.0 SP2's, in X trade entries (gateway/README.md, extensions): the side of the order that took liquidity. */
  AggressorSide: 2446,
  /** matchlog's user-defined tag (FIX 4.4 has none): 1 cancel resting (default), 2 cancel incoming, 3 cancel both. */
  SelfTradePrevention: 7928,
  StopPx: 99,
  MinQty: 110,
  MaxFloor: 111,
  ExpireTime: 126,
  NoRelatedSym: 146,
  CashOrderQty: 152,
  AggregatedBook: 266,
  ExpireDate: 432,
  OrdStatusReqID: 790,
  MassStatusReqID: 584,
  MassStatusReqType: 585,
  TotNumReports: 911,
  LastRptRequested: 912,
  LastLiquidityInd: 851,
  SecurityReqID: 320,
  SecurityResponseID: 322,
  TotNoRelatedSym: 393,
  SecurityListRequestType: 559,
  SecurityRequestResult: 560,
  RoundLot: 561,
  MinTradeVol: 562,
  LastFragment: 893,
  /** FIX 5.0's tick size, in SecurityList only (EXTENSIONS). */
  MinPriceIncrement: 969,
  /** FIX 5.0's maximum order quantity, in SecurityList only (EXTENSIONS). */
  MaxTradeVol: 1140,
} as const;

/** The gateway's own CompID (TargetCompID of every client message). */
export const GATEWAY_COMP_ID = 'MATCHLOG';
export const BEGIN_STRING = 'FIX.4.4';
export const SOH = '\x01';
