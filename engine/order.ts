// A live (or just finished) order as the engine knows it. The ladder holds its
// place in the queue; this record holds everything an execution report needs.

import type { OrdTypeName, StpName, TifName } from './commands.js';
import type { Side } from '../native/ladder.js';
import type { Account } from './accounts.js';
import type { Instrument } from './instrument.js';

export class Order {
  /** Ladder handle while resting, -1 otherwise. */
  handle = -1;
  leavesQty: number;
  cumQty = 0;
  cumNotional = 0;

  constructor(
    readonly orderId: number,
    readonly acct: Account,
    public clOrdId: string,
    readonly instrument: Instrument,
    readonly side: Side,
    readonly ordType: OrdTypeName,
    public tif: TifName,
    public price: number,
    public qty: number,
    readonly postOnly: boolean,
    readonly stp: StpName,
  ) {
    this.leavesQty = qty;
    this.account = acct.name;
    this.owner = acct.owner;
  }

  readonly account: string;
  /** The account's number, for the ladder's self-trade check. */
  readonly owner: number;
}
