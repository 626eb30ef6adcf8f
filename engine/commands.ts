// Commands: what enters the engine. They are the source of truth in the log, so
// prices and quantities stay decimal strings exactly as the client sent them;
// the engine converts them once, against the instrument, into ticks and lots.

export type SideName = 'buy' | 'sell';
export type OrdTypeName = 'limit' | 'market';
export type TifName = 'GTC' | 'IOC' | 'FOK';
export type StpName = 'cancel_resting' | 'cancel_incoming' | 'cancel_both';

/** An instrument's definition, as configured and as a snapshot keeps it. */
export interface InstrumentSpec {
  symbol: string;
  tickSize: string;
  lotSize: string;
  minQty?: string;
  maxQty?: string;
  /** Fraction, e.g. "0.1": a limit price more than 10% from the reference is rejected. */
  priceBand?: string;
  /** Reference for the band until the first trade. */
  referencePrice?: string;
  status?: 'open' | 'halted';
}

export interface InstrumentCommand extends InstrumentSpec {
  op: 'instrument';
}

export interface NewOrderCommand {
  op: 'new';
  account: string;
  clOrdId: string;
  symbol: string;
  side: SideName;
  type: OrdTypeName;
  price?: string;
  qty: string;
  tif?: TifName;
  postOnly?: boolean;
  stp?: StpName;
}

export interface CancelCommand {
  op: 'cancel';
  account: string;
  clOrdId: string;
  origClOrdId?: string;
  orderId?: number;
  symbol?: string;
}

export interface ReplaceCommand {
  op: 'replace';
  account: string;
  clOrdId: string;
  origClOrdId?: string;
  orderId?: number;
  symbol?: string;
  price?: string;
  /** New total quantity, including what has already filled (FIX semantics). */
  qty: string;
}

export interface MassCancelCommand {
  op: 'massCancel';
  account: string;
  symbol?: string;
  clOrdId?: string;
}

export interface HaltCommand {
  op: 'halt' | 'resume';
  symbol: string;
}

export interface BookQueryCommand {
  op: 'book';
  symbol: string;
  depth?: number;
}

export type Command =
  | InstrumentCommand
  | NewOrderCommand
  | CancelCommand
  | ReplaceCommand
  | MassCancelCommand
  | HaltCommand
  | BookQueryCommand;

export type CommandOp = Command['op'];
