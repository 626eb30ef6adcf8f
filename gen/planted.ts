// Abuse planted in a generated day, each on accounts of its own and mixed into
// the normal flow by time: what `matchlog surveil` must find. Each scenario
// is a script of timed steps; a step builds its command when its time comes
// (so prices follow the market then) and reads its acknowledgement, so that
// planted.json records what really happened: the seqs, the trades. A
// scenario that did not come off (its trade never filled) is left out of
// planted.json rather than counted as missed.

import type { Command, EngineEvent, SideName } from '../engine/index.js';
import type { Ack } from '../log/sequencer.js';
import { formatTime } from '../replay/time.js';
import type { NormalFlow } from './flow.js';
import type { Market } from './market.js';

/** One entry of planted.json. */
export interface PlantedPattern {
  kind: 'spoofing' | 'order-to-trade' | 'wash-trade' | 'marking-close';
  account: string;
  symbol: string;
  /** The related account on the other side of wash trades. */
  counterparty?: string;
  /** Side of the large orders (spoofing) or of the aggression (marking the close). */
  side?: SideName;
  /** Seqs of the commands that make the pattern. */
  seqs: number[];
  from: string;
  to: string;
  /** Counts that make the pattern (orders, trades). */
  orders?: number;
  trades?: number;
}

export interface Step {
  /** Epoch µs at which the command arrives. */
  at: number;
  make(): Command;
  acked(ack: Ack): void;
}

export interface PlantContext {
  market: Market;
  flow: NormalFlow;
  rnd: () => number;
  /** Session bounds, epoch µs. */
  open: number;
  close: number;
  /** Picks an ordinary account (a counterparty that is nobody's accomplice). */
  anyone: () => string;
}

const SECOND = 1_000_000;
const opposite = (s: SideName): SideName => (s === 'buy' ? 'sell' : 'buy');

function trades(events: readonly EngineEvent[]): Extract<EngineEvent, { type: 'trade' }>[] {
  return events.filter((e): e is Extract<EngineEvent, { type: 'trade' }> => e.type === 'trade');
}

export abstract class Scenario {
  readonly steps: Step[] = [];
  protected readonly seqs: number[] = [];
  protected first = Infinity;
  protected last = 0;

  constructor(protected readonly cx: PlantContext, readonly account: string, readonly sym: number) {}

  get symbol(): string {
    return this.cx.market.instruments[this.sym].command.symbol;
  }

  protected step(at: number, make: () => Command, acked: (ack: Ack) => void = () => undefined): void {
    this.steps.push({
      at: Math.floor(at), make, acked: (ack) => {
        this.first = Math.min(this.first, ack.ts);
        this.last = Math.max(this.last, ack.ts);
        acked(ack);
      },
    });
  }

  protected span(): { from: string; to: string } {
    return { from: formatTime(this.first), to: formatTime(this.last) };
  }

  /** The planted.json entry, or null when the pattern did not come off. */
  abstract result(): PlantedPattern | null;
}

/**
 * Layering: several large orders on one side, a small trade on the other side,
 * then the large orders cancelled within seconds of the trade.
 */
export class Spoofing extends Scenario {
  private readonly layers: string[] = [];
  private readonly layerPrices: number[] = [];
  private tradePrice = 0;
  private traded = false;
  private cancelled = 0;

  constructor(cx: PlantContext, account: string, sym: number, at: number, readonly side: SideName) {
    super(cx, account, sym);
    const m = cx.market;
    const inst = m.instruments[sym];
    const away = side === 'buy' ? -1 : 1;
    const n = 3 + Math.floor(cx.rnd() * 2);
    for (let k = 0; k < n; k++) {
      this.step(at + k * 0.3 * SECOND, () => {
        const price = m.levelPrice(sym, away * (2 + k));
        const cmd = m.limit(account, sym, side, price, Math.round(inst.lots * (12 + 6 * cx.rnd())));
        this.layers.push(cmd.clOrdId);
        this.layerPrices.push(price);
        return cmd;
      }, (ack) => this.seqs.push(ack.seq));
    }
    // someone to trade with, on the spoofed side, a level short of the layers
    this.step(at + 2 * SECOND, () => {
      const nearest = side === 'buy' ? Math.max(...this.layerPrices) : Math.min(...this.layerPrices);
      const touch = m.levelPrice(sym, away);
      this.tradePrice = side === 'buy' ? Math.max(touch, nearest + inst.level) : Math.min(touch, nearest - inst.level);
      return m.limit(cx.anyone(), sym, side, this.tradePrice, 2 * inst.lots);
    });
    this.step(at + 2.2 * SECOND, () => m.limit(account, sym, opposite(side), this.tradePrice, inst.lots, 'IOC'), (ack) => {
      this.seqs.push(ack.seq);
      this.traded = trades(ack.events).some((t) => t.takerAccount === account);
    });
    for (let k = 0; k < n; k++) {
      this.step(at + (3 + 0.4 * k) * SECOND, () => m.cancelId(account, sym, this.layers[k]), (ack) => {
        this.seqs.push(ack.seq);
        if (ack.events.some((e) => e.type === 'cancelled')) this.cancelled++;
      });
    }
  }

  result(): PlantedPattern | null {
    if (!this.traded || this.cancelled < 2) return null;
    return { kind: 'spoofing', account: this.account, symbol: this.symbol, side: this.side, seqs: this.seqs, ...this.span() };
  }
}

/** An account that sends hundreds of orders far from the touch and cancels them all: orders without trades. */
export class OrderToTrade extends Scenario {
  private orders = 0;
  private fills = 0;

  constructor(cx: PlantContext, account: string, sym: number, count: number) {
    super(cx, account, sym);
    const m = cx.market;
    const span = cx.close - cx.open;
    for (let k = 0; k < count; k++) {
      const at = cx.open + span * (0.05 + 0.9 * cx.rnd());
      let id = '';
      this.step(at, () => {
        const side: SideName = cx.rnd() < 0.5 ? 'buy' : 'sell';
        const levels = 20 + Math.floor(cx.rnd() * 20);
        const cmd = m.limit(account, sym, side, m.levelPrice(sym, side === 'buy' ? -levels : levels), cx.flow.lots(sym));
        id = cmd.clOrdId;
        return cmd;
      }, (ack) => this.count(ack));
      this.step(at + (1 + 9 * cx.rnd()) * SECOND, () => m.cancelId(account, sym, id), (ack) => this.count(ack));
    }
    // the steps must be in time order within a scenario as well
    this.steps.sort((a, b) => a.at - b.at);
  }

  private count(ack: Ack): void {
    for (const e of ack.events) {
      if (e.type === 'accepted') this.orders++;
      else if (e.type === 'trade') this.fills++;
    }
    if (this.seqs.length < 20) this.seqs.push(ack.seq);
  }

  result(): PlantedPattern {
    return { kind: 'order-to-trade', account: this.account, symbol: this.symbol, seqs: this.seqs, orders: this.orders, trades: this.fills, ...this.span() };
  }
}

/** Two related accounts trading with each other: one rests an order, the other takes it seconds later. */
export class WashTrades extends Scenario {
  private readonly tradeSeqs: number[] = [];

  constructor(cx: PlantContext, account: string, readonly counterparty: string, sym: number, times: number[]) {
    super(cx, account, sym);
    const m = cx.market;
    const inst = m.instruments[sym];
    for (const at of times) {
      const side: SideName = cx.rnd() < 0.5 ? 'buy' : 'sell';
      let price = 0;
      let lots = 0;
      this.step(at, () => {
        price = m.levelPrice(sym, side === 'buy' ? -1 : 1);
        lots = inst.lots * (1 + Math.floor(cx.rnd() * 2));
        return m.limit(account, sym, side, price, lots);
      }, (ack) => this.seqs.push(ack.seq));
      // the taker sweeps everything up to that price, so it reaches the partner's order whatever queues ahead
      this.step(at + 1.5 * SECOND, () => m.limit(counterparty, sym, opposite(side), price, m.depth(sym, side, price) + lots, 'IOC'), (ack) => {
        this.seqs.push(ack.seq);
        if (trades(ack.events).some((t) => t.makerAccount === account && t.takerAccount === counterparty)) this.tradeSeqs.push(ack.seq);
      });
    }
  }

  result(): PlantedPattern | null {
    if (this.tradeSeqs.length === 0) return null;
    return {
      kind: 'wash-trade', account: this.account, counterparty: this.counterparty, symbol: this.symbol, seqs: this.seqs,
      trades: this.tradeSeqs.length, ...this.span(),
    };
  }
}

/** Aggressive orders in the last minutes that walk the book and leave the price there at the close. */
export class MarkingTheClose extends Scenario {
  private hits = 0;

  constructor(cx: PlantContext, account: string, sym: number, readonly side: SideName) {
    super(cx, account, sym);
    const m = cx.market;
    const inst = m.instruments[sym];
    const dir = side === 'buy' ? 1 : -1;
    for (const before of [240, 180, 120, 60]) {
      this.step(cx.close - (before - 10 * cx.rnd()) * SECOND, () => {
        const price = m.levelPrice(sym, dir * 12);
        // the fair price follows: the book is re-quoted around the marked price
        m.mid[sym] = price;
        return m.limit(account, sym, side, price, m.depth(sym, opposite(side), price) + inst.lots, 'IOC');
      }, (ack) => {
        this.seqs.push(ack.seq);
        if (trades(ack.events).length > 0) this.hits++;
      });
    }
  }

  result(): PlantedPattern | null {
    if (this.hits < 3) return null;
    return { kind: 'marking-close', account: this.account, symbol: this.symbol, side: this.side, seqs: this.seqs, ...this.span() };
  }
}
