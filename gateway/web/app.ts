// The trading screen: wires the FIX session, the book view, the trader's
// orders and the DOM. Everything the page knows comes from the exchange over
// `fix.json` with the user's own account; nothing here is privileged.
//
// Rendering is once per animation frame, whatever the message rate: messages
// only update the models and mark what changed; the frame redraws the parts
// marked, touching a DOM node only when its text changes. That keeps the page
// responsive under a fast book (1,000 updates/s, see test/web-screen.test.ts).
//
// Numbers: prices and sizes are the exchange's decimal strings. What the page
// computes (cumulative size, spread) it computes in integer ticks and lots of
// the instrument with the engine's own conversion (engine/decimal.ts), so it is
// exact; only the size bars and the chart's pixels are ratios.

import { fromUnits, parseUnit, toUnits, type Unit } from '../../engine/decimal.js';
import { BookView, type BookLevel } from '../book-view.js';
import { type FixField, type FixMessage, Tag } from '../fix/message.js';
import { formatUtcTimestamp } from '../fix/validate.js';
import { FixJsonSession, type SessionState } from './fix-session.js';
import { MyOrders } from './my-orders.js';
import { PriceChart } from './price-chart.js';

const DEPTH = 10;
const TAPE_ROWS = 60;

interface InstrumentInfo {
  readonly symbol: string;
  readonly tick: Unit;
  readonly lot: Unit;
  readonly minQty: string;
}

function el<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`the page has no #${id}`);
  return e as T;
}

function setText(node: Element, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

/** HH:MM:SS.sss of a FIX UTCTimestamp (or a UTCTimeOnly as it is). */
function clockOf(fixTime: string): string {
  const i = fixTime.indexOf('-');
  return i >= 0 ? fixTime.slice(i + 1) : fixTime;
}

/** Pads a minimal decimal ("190", "190.5") to `places` decimals ("190.00") for aligned columns. */
function withPlaces(text: string, places: number): string {
  if (places <= 0 || text === '') return text;
  const dot = text.indexOf('.');
  const have = dot < 0 ? 0 : text.length - dot - 1;
  return have >= places ? text : (dot < 0 ? `${text}.` : text) + '0'.repeat(places - have);
}

/** The shape of a decimal the exchange takes; the grid (tick, lot, band) is the exchange's to judge. */
const DECIMAL = /^(\d+(\.\d+)?|\.\d+)$/;

class LadderRow {
  readonly tr: HTMLTableRowElement;
  private readonly cells: HTMLTableCellElement[] = [];
  private readonly bar: HTMLSpanElement;
  private readonly sizeText: Text;
  price = '';

  constructor(readonly side: 'bid' | 'ask', onPick: (row: LadderRow) => void) {
    this.tr = document.createElement('tr');
    this.tr.dataset.side = side;
    for (const cls of ['bid-orders', 'bid-cum', 'bid-size', 'px', 'ask-size', 'ask-cum', 'ask-orders']) {
      const td = document.createElement('td');
      td.className = cls;
      this.tr.appendChild(td);
      this.cells.push(td);
    }
    this.bar = document.createElement('span');
    this.bar.className = 'bar';
    this.sizeText = document.createTextNode('');
    this.cells[side === 'bid' ? 2 : 4].append(this.bar, this.sizeText);
    this.cells[3].addEventListener('click', () => onPick(this));
  }

  show(level: BookLevel | undefined, cum: string, widthPct: number, places: number): void {
    const [orders, cumCell] = this.side === 'bid' ? [this.cells[0], this.cells[1]] : [this.cells[6], this.cells[5]];
    const price = level?.price ?? '';
    this.price = price;
    this.tr.classList.toggle('empty', level === undefined);
    if (level === undefined) this.tr.removeAttribute('data-price');
    else if (this.tr.dataset.price !== price) this.tr.dataset.price = price;
    setText(this.cells[3], withPlaces(price, places));
    const size = level?.qty ?? '';
    if (this.sizeText.data !== size) this.sizeText.data = size;
    setText(cumCell, level === undefined ? '' : cum);
    setText(orders, level === undefined ? '' : String(level.orders));
    const w = `${widthPct}%`;
    if (this.bar.style.width !== w) this.bar.style.width = w;
  }
}

class Screen {
  private readonly session = new FixJsonSession({
    state: (s, why) => this.onState(s, why), message: (m) => this.onMessage(m), fault: (why) => this.mdStatus('error', why),
  });
  private readonly mine = new MyOrders();
  private readonly instruments = new Map<string, InstrumentInfo>();
  /** One view per symbol subscribed this session: its trades outlive a switch to another symbol. */
  private readonly views = new Map<string, BookView>();
  private readonly chart = new PriceChart(el<HTMLCanvasElement>('chart'));
  private readonly asks: LadderRow[] = [];
  private readonly bids: LadderRow[] = [];
  private readonly sent = new Map<string, number>();
  private view: BookView | null = null;
  private info: InstrumentInfo | null = null;
  private mdReqId = '';
  private mdRequests = 0;
  private massStatusRequests = 0;
  private clOrdIds = 0;
  private readonly idPrefix = Date.now().toString(36);
  private account = '';
  private latencyMs: number | null = null;
  private modifying: string | null = null;
  private charted = 0;
  private gapShown = false;
  private dirty = { ladder: true, tape: true, orders: true, status: true };
  private frameRequested = false;

  constructor() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    el<HTMLInputElement>('logon-url').value = `${proto}//${location.host}/fix`;
    for (let i = 0; i < DEPTH; i++) {
      this.asks.push(new LadderRow('ask', (r) => this.pick(r)));
      this.bids.push(new LadderRow('bid', (r) => this.pick(r)));
    }
    // asks above the spread, the best ask nearest to it
    for (let i = DEPTH - 1; i >= 0; i--) el('asks').appendChild(this.asks[i].tr);
    for (const b of this.bids) el('bids').appendChild(b.tr);

    el<HTMLFormElement>('logon-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.account = el<HTMLInputElement>('logon-account').value.trim();
      setText(el('logon-error'), '');
      el<HTMLButtonElement>('logon-submit').disabled = true;
      this.session.logon(el<HTMLInputElement>('logon-url').value.trim(), this.account, el<HTMLInputElement>('logon-password').value);
    });
    el('logout').addEventListener('click', () => this.session.logout());
    el<HTMLSelectElement>('symbol').addEventListener('change', () => this.subscribe(el<HTMLSelectElement>('symbol').value));
    el<HTMLFormElement>('ticket').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.sendOrder();
    });
    el<HTMLSelectElement>('ticket-type').addEventListener('change', () => this.ticketTypeChanged());
    el<HTMLFormElement>('modify').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.sendModify();
    });
    el('modify-close').addEventListener('click', () => this.closeModify());
    el('orders').addEventListener('click', (ev) => {
      const button = (ev.target as HTMLElement).closest('button');
      const orderId = button?.closest('tr')?.dataset.orderId;
      if (button === null || button === undefined || orderId === undefined) return;
      if (button.classList.contains('cancel')) this.sendCancel(orderId);
      else if (button.classList.contains('modify')) this.openModify(orderId);
    });
    addEventListener('pagehide', () => this.session.close('the page was closed'));
    this.render();
  }

  // --- session ------------------------------------------------------------------

  private onState(state: SessionState, why: string): void {
    const pill = el('conn-state');
    setText(pill, state);
    pill.dataset.state = state;
    setText(el('conn-why'), state === 'logged on' ? '' : why);
    el('logout').hidden = state !== 'logged on';
    if (state === 'logged on') {
      el('logon').hidden = true;
      el('screen').hidden = false;
      setText(el('account'), this.account);
      this.mine.clear();
      this.views.clear();
      this.session.sendApplication('x', [[Tag.SecurityReqID, `sl-${this.idPrefix}`], [Tag.SecurityListRequestType, '4']]);
      // the account's live orders placed before this logon (a reload, another screen): one status report each
      this.session.sendApplication('AF', [[Tag.MassStatusReqID, `ms-${this.idPrefix}-${++this.massStatusRequests}`], [Tag.MassStatusReqType, '7']]);
    } else if (state === 'disconnected') {
      el<HTMLButtonElement>('logon-submit').disabled = false;
      // a refusal keeps the form filled in, so the trader can correct it
      el('logon').hidden = false;
      el('screen').hidden = true;
      setText(el('logon-error'), why === 'logged out' ? '' : why);
      this.view = null;
      this.mdReqId = '';
    }
    this.mark('status');
  }

  private onMessage(m: FixMessage): void {
    switch (m.msgType) {
      case 'y': this.onSecurityList(m); break;
      case 'W':
      case 'X': this.onMarketData(m); break;
      default: {
        const time = clockOf(m.get(Tag.TransactTime) ?? m.get(Tag.SendingTime) ?? '');
        if (!this.mine.apply(m, time)) break;
        // the first answer to a request of ours (a j names it in BusinessRejectRefID)
        const id = m.get(Tag.ClOrdID) ?? m.get(Tag.BusinessRejectRefID) ?? '';
        const t0 = this.sent.get(id);
        if (t0 !== undefined) {
          this.latencyMs = performance.now() - t0;
          this.sent.delete(id);
        }
        this.mark('orders');
      }
    }
    this.mark('status');
  }

  // --- instruments and market data ------------------------------------------

  private onSecurityList(m: FixMessage): void {
    this.instruments.clear();
    // NoRelatedSym entries: Symbol starts each one
    let entry: Map<number, string> | null = null;
    const take = (): void => {
      if (entry === null) return;
      const tick = parseUnit(entry.get(Tag.MinPriceIncrement));
      const lot = parseUnit(entry.get(Tag.RoundLot));
      const symbol = entry.get(Tag.Symbol) ?? '';
      if (typeof tick !== 'number' && typeof lot !== 'number' && symbol !== '') {
        this.instruments.set(symbol, { symbol, tick, lot, minQty: entry.get(Tag.MinTradeVol) ?? '' });
      }
    };
    let inGroup = false;
    for (const [tag, v] of m.fields) {
      if (tag === Tag.NoRelatedSym) inGroup = true;
      else if (!inGroup) continue;
      else if (tag === Tag.Symbol) {
        take();
        entry = new Map([[tag, v]]);
      } else entry?.set(tag, v);
    }
    take();
    const select = el<HTMLSelectElement>('symbol');
    select.replaceChildren(...[...this.instruments.keys()].map((s) => new Option(s, s)));
    const current = this.info?.symbol ?? '';
    const keep = this.instruments.has(current) ? current : (select.options[0]?.value ?? '');
    if (keep === '') {
      this.mdStatus('error', 'the exchange lists no instruments');
      return;
    }
    select.value = keep;
    this.subscribe(keep);
  }

  private subscribe(symbol: string): void {
    const info = this.instruments.get(symbol);
    if (info === undefined) return;
    const old = this.info;
    if (this.mdReqId !== '' && old !== null && old.symbol !== symbol) {
      this.session.sendApplication('V', [[Tag.MDReqID, this.mdReqId], [Tag.SubscriptionRequestType, '2'], [Tag.MarketDepth, '0'],
        [Tag.NoMDEntryTypes, '1'], [Tag.MDEntryType, '0'], [Tag.NoRelatedSym, '1'], [Tag.Symbol, old.symbol]]);
    }
    this.info = info;
    let view = this.views.get(symbol);
    if (view === undefined) {
      view = new BookView(symbol, 0, TAPE_ROWS);
      this.views.set(symbol, view);
    }
    this.view = view;
    this.chart.clear();
    this.charted = 0;
    this.chartTrades(view);
    this.requestSnapshot();
    setText(el('instrument'), `tick ${info.tick.text} · lot ${info.lot.text}${info.minQty !== '' ? ` · min ${info.minQty}` : ''}`);
    el<HTMLInputElement>('ticket-price').placeholder = info.tick.text;
    el<HTMLInputElement>('ticket-qty').placeholder = info.minQty || info.lot.text;
    this.mark('ladder');
    this.mark('tape');
  }

  /** Full book and every entry type: a snapshot, then increments; a new request replaces the subscription. */
  private requestSnapshot(): void {
    if (this.info === null) return;
    this.mdReqId = `md-${this.idPrefix}-${++this.mdRequests}`;
    this.session.sendApplication('V', [[Tag.MDReqID, this.mdReqId], [Tag.SubscriptionRequestType, '1'], [Tag.MarketDepth, '0'],
      [Tag.MDUpdateType, '1'], [Tag.NoMDEntryTypes, '3'], [Tag.MDEntryType, '0'], [Tag.MDEntryType, '1'], [Tag.MDEntryType, '2'],
      [Tag.NoRelatedSym, '1'], [Tag.Symbol, this.info.symbol]]);
  }

  private onMarketData(m: FixMessage): void {
    const view = this.view;
    if (view === null) return;
    if (m.msgType === 'W' && m.get(Tag.MDReqID) !== this.mdReqId) return;
    const before = view.rptSeq;
    const r = view.apply(m);
    if (r === 'gap') {
      const got = m.getAll(Tag.RptSeq).map(Number).find((n) => n > before + 1);
      this.gapShown = true;
      this.mdStatus('gap', got !== undefined
        ? `market data gap: RptSeq ${before + 1} expected, ${got} received; fresh snapshot requested`
        : `market data inconsistent after RptSeq ${before}; fresh snapshot requested`);
      this.requestSnapshot();
    } else if (r === 'applied') {
      if (m.msgType === 'W') {
        // after a gap the warning stays up (with the repair said) until the book moves again
        if (this.gapShown) this.mdStatus('gap', `${el('md-status').textContent ?? ''}; snapshot received, book rebuilt`);
        else this.mdStatus('live', `snapshot of ${view.symbol}`);
      } else {
        // the gap message stays until the fresh snapshot has been followed by a first increment
        this.mdStatus(this.gapShown ? 'recovered' : 'live', `RptSeq ${view.rptSeq}${this.gapShown ? ' (recovered from a gap)' : ''}`);
        this.gapShown = false;
      }
      if (this.chartTrades(view)) this.mark('tape');
    }
    this.mark('ladder');
  }

  /** Feeds the chart the view's trades it has not seen; true when there were any. */
  private chartTrades(view: BookView): boolean {
    const info = this.info;
    let any = false;
    for (const t of view.trades) {
      if (t.rptSeq <= this.charted || info === null) continue;
      const ticks = toUnits(t.price, info.tick);
      if (ticks >= 0) this.chart.add(ticks);
      this.charted = t.rptSeq;
      any = true;
    }
    return any;
  }

  private mdStatus(state: 'live' | 'gap' | 'recovered' | 'error', text: string): void {
    const st = el('md-status');
    if (st.dataset.state !== state) st.dataset.state = state;
    setText(st, text);
  }

  // --- orders -----------------------------------------------------------------

  private nextClOrdId(): string {
    return `${this.idPrefix}-${++this.clOrdIds}`;
  }

  private pick(row: LadderRow): void {
    if (row.price === '' || this.info === null) return;
    el<HTMLInputElement>('ticket-price').value = withPlaces(row.price, this.info.tick.scale);
    // clicking an offer is buying it; clicking a bid is selling to it
    el<HTMLInputElement>(row.side === 'ask' ? 'ticket-buy' : 'ticket-sell').checked = true;
    el<HTMLSelectElement>('ticket-type').value = '2';
    this.ticketTypeChanged();
    el<HTMLInputElement>('ticket-qty').focus();
  }

  private ticketTypeChanged(): void {
    const market = el<HTMLSelectElement>('ticket-type').value === '1';
    el<HTMLInputElement>('ticket-price').disabled = market;
    el<HTMLInputElement>('ticket-post-only').disabled = market;
    const tif = el<HTMLSelectElement>('ticket-tif');
    tif.options[0].disabled = market; // a market order never rests
    if (market && tif.value === '1') tif.value = '3';
  }

  private sendOrder(): void {
    const err = el('ticket-error');
    const market = el<HTMLSelectElement>('ticket-type').value === '1';
    const price = el<HTMLInputElement>('ticket-price').value.trim();
    const qty = el<HTMLInputElement>('ticket-qty').value.trim();
    if (this.info === null) return setText(err, 'no instrument selected');
    if (!DECIMAL.test(qty)) return setText(err, 'quantity must be a decimal number such as 10 or 0.5');
    if (!market && !DECIMAL.test(price)) return setText(err, 'a limit order needs a price, a decimal number such as 190.05');
    setText(err, '');
    const clOrdId = this.nextClOrdId();
    const fields: FixField[] = [[Tag.ClOrdID, clOrdId]];
    if (!market && el<HTMLInputElement>('ticket-post-only').checked) fields.push([Tag.ExecInst, '6']);
    fields.push([Tag.Symbol, this.info.symbol], [Tag.Side, el<HTMLInputElement>('ticket-sell').checked ? '2' : '1'],
      [Tag.TransactTime, formatUtcTimestamp(Date.now())], [Tag.OrderQty, qty], [Tag.OrdType, market ? '1' : '2']);
    if (!market) fields.push([Tag.Price, price]);
    fields.push([Tag.TimeInForce, el<HTMLSelectElement>('ticket-tif').value]);
    this.request(clOrdId, 'D', fields);
  }

  private sendCancel(orderId: string): void {
    const o = this.mine.live.get(orderId);
    if (o === undefined) return;
    const clOrdId = this.nextClOrdId();
    this.request(clOrdId, 'F', [[Tag.OrigClOrdID, o.clOrdId], [Tag.ClOrdID, clOrdId], [Tag.Symbol, o.symbol],
      [Tag.Side, o.side === 'sell' ? '2' : '1'], [Tag.TransactTime, formatUtcTimestamp(Date.now())]]);
  }

  private openModify(orderId: string): void {
    const o = this.mine.live.get(orderId);
    if (o === undefined) return;
    this.modifying = orderId;
    el('modify').hidden = false;
    setText(el('modify-what'), `${o.clOrdId}: ${o.side} ${o.symbol}`);
    el<HTMLInputElement>('modify-price').value = o.price;
    el<HTMLInputElement>('modify-qty').value = o.qty;
  }

  private closeModify(): void {
    this.modifying = null;
    el('modify').hidden = true;
  }

  private sendModify(): void {
    const o = this.modifying === null ? undefined : this.mine.live.get(this.modifying);
    if (o === undefined) return this.closeModify();
    const price = el<HTMLInputElement>('modify-price').value.trim();
    const qty = el<HTMLInputElement>('modify-qty').value.trim();
    if (!DECIMAL.test(price) || !DECIMAL.test(qty)) return setText(el('ticket-error'), 'a modify needs a decimal price and quantity');
    const clOrdId = this.nextClOrdId();
    this.request(clOrdId, 'G', [[Tag.OrigClOrdID, o.clOrdId], [Tag.ClOrdID, clOrdId], [Tag.Symbol, o.symbol],
      [Tag.Side, o.side === 'sell' ? '2' : '1'], [Tag.TransactTime, formatUtcTimestamp(Date.now())], [Tag.OrderQty, qty],
      [Tag.OrdType, '2'], [Tag.Price, price]]);
    this.closeModify();
  }

  private request(clOrdId: string, msgType: string, fields: FixField[]): void {
    const t0 = performance.now();
    if (this.session.sendApplication(msgType, fields)) this.sent.set(clOrdId, t0);
    else setText(el('ticket-error'), 'not logged on');
  }

  // --- rendering --------------------------------------------------------------

  private mark(part: keyof Screen['dirty']): void {
    this.dirty[part] = true;
    if (!this.frameRequested) {
      this.frameRequested = true;
      requestAnimationFrame(() => this.render());
    }
  }

  private render(): void {
    this.frameRequested = false;
    const d = this.dirty;
    this.dirty = { ladder: false, tape: false, orders: false, status: false };
    if (d.ladder) this.renderLadder();
    if (d.tape) this.renderTape();
    if (d.orders) this.renderOrders();
    if (d.status) this.renderStatus();
  }

  private renderLadder(): void {
    const view = this.view;
    const info = this.info;
    el('ladder').classList.toggle('stale', view !== null && !view.synced);
    const asks = view?.asks() ?? [];
    const bids = view?.bids() ?? [];
    const lots = (l: BookLevel | undefined): number => (l === undefined || info === null ? 0 : Math.max(0, toUnits(l.qty, info.lot)));
    let max = 1;
    for (let i = 0; i < DEPTH; i++) max = Math.max(max, lots(asks[i]), lots(bids[i]));
    const places = info?.tick.scale ?? 0;
    const side = (rows: LadderRow[], levels: BookLevel[]): void => {
      let cum = 0;
      for (let i = 0; i < DEPTH; i++) {
        const n = lots(levels[i]);
        cum += n;
        rows[i].show(levels[i], info === null ? '' : fromUnits(cum, info.lot), Math.round((n / max) * 100), places);
      }
    };
    side(this.asks, asks);
    side(this.bids, bids);
    let spread = '–';
    if (info !== null && asks.length > 0 && bids.length > 0) {
      const d = toUnits(asks[0].price, info.tick) - toUnits(bids[0].price, info.tick);
      spread = withPlaces(d < 0 ? `-${fromUnits(-d, info.tick)}` : fromUnits(d, info.tick), places);
    }
    setText(el('spread'), spread);
    const last = view?.trades[view.trades.length - 1];
    setText(el('last-trade'), last === undefined ? '–' : withPlaces(last.price, places));
  }

  private renderTape(): void {
    const view = this.view;
    const trades = view?.trades ?? [];
    const places = this.info?.tick.scale ?? 0;
    const body = el('tape');
    const rows = Math.min(trades.length, TAPE_ROWS);
    while (body.children.length < rows) {
      const tr = document.createElement('tr');
      for (let i = 0; i < 4; i++) tr.appendChild(document.createElement('td'));
      body.appendChild(tr);
    }
    while (body.children.length > rows) body.lastElementChild?.remove();
    for (let i = 0; i < rows; i++) {
      const t = trades[trades.length - 1 - i]; // newest first
      const tds = (body.children[i] as HTMLTableRowElement).cells;
      setText(tds[0], t.time);
      setText(tds[1], withPlaces(t.price, places));
      setText(tds[2], t.qty);
      setText(tds[3], t.aggressor);
      if (tds[3].className !== t.aggressor) tds[3].className = t.aggressor;
    }
    this.chart.draw((ticks) => (this.info === null ? '' : withPlaces(fromUnits(ticks, this.info.tick), places)));
  }

  private renderOrders(): void {
    el('orders').replaceChildren(...[...this.mine.live.values()].map((o) => {
      const tr = row([o.clOrdId, o.symbol, o.side, o.ordType === 'market' ? 'market' : o.price, o.qty, o.leaves, o.cum, o.avgPx,
        o.status + (o.postOnly ? ' · post-only' : '')]);
      tr.dataset.orderId = o.orderId;
      tr.dataset.clOrdId = o.clOrdId;
      tr.cells[2].className = o.side;
      const actions = document.createElement('td');
      actions.append(button('modify', 'Modify'), button('cancel', 'Cancel'));
      tr.appendChild(actions);
      return tr;
    }));
    el('fills').replaceChildren(...this.mine.fills.slice(0, 50).map((f) => {
      const tr = row([f.time, f.clOrdId, f.symbol, f.side, f.lastPx, f.lastQty, f.cumQty, f.avgPx, f.liquidity]);
      tr.dataset.execId = f.execId;
      tr.cells[3].className = f.side;
      return tr;
    }));
    el('rejects').replaceChildren(...this.mine.refusals.slice(0, 50).map((r) => {
      const li = document.createElement('li');
      li.append(span('time', r.time), span('what', r.what), span('reason', r.reason));
      return li;
    }));
  }

  private renderStatus(): void {
    setText(el('exchange-seq'), this.mine.exchangeSeq > 0 ? String(this.mine.exchangeSeq) : '–');
    setText(el('latency'), this.latencyMs === null ? '–' : `${this.latencyMs.toFixed(1)} ms`);
    setText(el('msg-seq'), this.session.state === 'disconnected' ? '–' : `${this.session.inSeq - 1} / ${this.session.outSeq - 1}`);
  }
}

function row(cells: string[]): HTMLTableRowElement {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement('td');
    td.textContent = c;
    tr.appendChild(td);
  }
  return tr;
}

function button(cls: string, text: string): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = cls;
  b.textContent = text;
  return b;
}

function span(cls: string, text: string): HTMLSpanElement {
  const s = document.createElement('span');
  s.className = cls;
  s.textContent = text;
  return s;
}

new Screen();
