// A live (or just finished) order as the engine knows it. The ladder holds its
// place in the queue; this record holds everything an execution report needs.
// A million of them may rest at once, so the record is kept small: side, order
// type, time in force, post-only flag and STP mode share one small integer,
// the total quantity is cumQty + leavesQty (leavesQty is not zeroed when the
// rest is cancelled), and the account is reached through its shared object.

import type { OrdTypeName, StpName, TifName } from './commands.js';
import type { Side } from '../native/ladder.js';
import type { Account } from './accounts.js';
import type { Book } from './book.js';
import type { Instrument } from './instrument.js';
import type { Notional } from './notional.js';

const ORD_TYPES: OrdTypeName[] = ['limit', 'market'];
const TIFS: TifName[] = ['GTC', 'IOC', 'FOK'];
const STPS: StpName[] = ['cancel_resting', 'cancel_incoming', 'cancel_both'];

export class Order {
  /** Ladder handle while resting, -1 otherwise. */
  handle = -1;
  leavesQty: number;
  cumQty = 0;
  /** Sum of fill price x qty in ticks x lots, exact (see notional.ts). */
  cumNotional: Notional = 0;
  /** bit 0 market; bits 1-2 tif; bit 3 post-only; bits 4-5 stp; bit 6 sell */
  readonly flags: number;

  constructor(
    readonly orderId: number,
    readonly acct: Account,
    public clOrdId: string,
    /** The book the order belongs to (and through it, its instrument). */
    readonly book: Book,
    side: Side,
    ordType: OrdTypeName,
    tif: TifName,
    public price: number,
    qty: number,
    postOnly: boolean,
    stp: StpName,
  ) {
    this.leavesQty = qty;
    this.flags = ORD_TYPES.indexOf(ordType) | (TIFS.indexOf(tif) << 1) | (postOnly ? 8 : 0) | (STPS.indexOf(stp) << 4) | (side << 6);
  }

  get side(): Side {
    return ((this.flags >> 6) & 1) as Side;
  }

  /** Total quantity, including what has filled. */
  get qty(): number {
    return this.cumQty + this.leavesQty;
  }

  get instrument(): Instrument {
    return this.book.instrument;
  }

  get account(): string {
    return this.acct.name;
  }

  /** The account's number, for the ladder's self-trade check. */
  get owner(): number {
    return this.acct.owner;
  }

  get ordType(): OrdTypeName {
    return ORD_TYPES[this.flags & 1];
  }

  get tif(): TifName {
    return TIFS[(this.flags >> 1) & 3];
  }

  get postOnly(): boolean {
    return (this.flags & 8) !== 0;
  }

  get stp(): StpName {
    return STPS[(this.flags >> 4) & 3];
  }
}
