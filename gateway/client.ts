// A FIX client of the gateway for tests, benchmarks, the replication work and
// people (`matchlog client`): one WebSocket, either subprotocol, the FIX 4.4
// session duties a client has (Logon, heartbeats, TestRequest answers,
// MsgSeqNum checks, ResendRequest answered by a gap fill), order helpers and
// a market-data view. It uses the gateway's own codecs, so what it sends is
// what the gateway accepts; prices and quantities stay decimal strings.
//
// Failover: given a list of `endpoints`, the client logs on only to the one
// whose /health says it is the primary, and when the connection drops
// without being asked to (socket closed, heartbeat timeout, a Logout "not
// primary: ...") it finds the primary again and logs on with its own next
// MsgSeqNum and NextExpectedMsgSeqNum (789), so numbers continue; then it
// asks the status (H) of every order that is not final. While it fails over
// send() and the order helpers throw (nothing is queued: an order sent into a
// failover could not be known to be taken or not).

import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import WebSocket from 'ws';
import { FixMessage, GATEWAY_COMP_ID, Tag } from './fix/message.js';
import { decodeJson, encodeJson } from './fix/json.js';
import { decodeTagValue, encodeTagValue, MAX_FRAME_FROM_GATEWAY } from './fix/tagvalue.js';
import { isHeaderTag } from './fix/dictionary.js';
import { BookView } from './book-view.js';

export { BookView, compareDecimal, type BookApplyResult, type BookLevel, type Trade } from './book-view.js';
import { formatUtcTimestamp } from './fix/validate.js';

export type FixProtocol = 'fix.4.4' | 'fix.json';

export interface ConnectOptions {
  /** `ws://HOST:PORT/fix` (or wss://): one gateway, no failover. Give this or `endpoints`. */
  url?: string;
  /**
   * The gateways of a replicated exchange, `ws://HOST:PORT/fix` each (or
   * wss://). The client logs on to the one whose `GET /health` (same
   * host:port, http or https) says `role: "primary"`, and fails over among
   * them when the connection drops without being asked to.
   */
  endpoints?: string[];
  /** How long a failover (or the first connect with `endpoints`) looks for a primary; default 15 s. */
  failoverDeadlineMs?: number;
  /** Pause between two rounds over the endpoints; default 50 ms. */
  failoverRetryMs?: number;
  account: string;
  password: string;
  protocol?: FixProtocol;
  /** HeartBtInt (108), seconds; default 30. */
  heartBtInt?: number;
  /**
   * ResetSeqNumFlag (141) on the Logon; default true: both sides start at 1.
   * The gateway keeps an account's numbers across connections, so a client
   * that does not keep its own must reset; one that does passes false with
   * `nextSenderSeq` / `nextTargetSeq` from the previous connection.
   */
  resetSeqNum?: boolean;
  nextSenderSeq?: number;
  nextTargetSeq?: number;
  /** Until the Logon is answered; default 10 s (a refused logon is answered after 1 s). */
  timeoutMs?: number;
  /** Inbound messages kept for next() when nobody waits; the oldest is dropped past this. Default 10,000; 0 keeps none. */
  maxQueued?: number;
  /** ClOrdIDs whose reports reports() keeps (the oldest forgotten past this). Default 10,000; 0 keeps none. */
  keepReports?: number;
  /** Prefix of the ClOrdIDs the helpers make; default a per-connection random one. */
  clOrdIdPrefix?: string;
  /** Listeners from the first message on (what happens during the Logon, e.g. a sequence gap, comes before connect() resolves). */
  onMessage?: (msg: FixMessage) => void;
  onEvent?: (e: ClientEvent) => void;
}

/** What happened on the session besides messages, for tests and logs. */
export type ClientEvent =
  | { readonly type: 'gap'; readonly expected: number; readonly received: number }
  | { readonly type: 'tooLow'; readonly expected: number; readonly received: number }
  | { readonly type: 'invalid'; readonly reason: string; readonly frame: string }
  | { readonly type: 'resendRequest'; readonly begin: number; readonly end: number }
  | { readonly type: 'timeout'; readonly silentMs: number }
  | { readonly type: 'closed'; readonly code: number; readonly reason: string }
  /** Logged on again after a drop, on `to` (a ws:// URL); numbers continued. */
  | { readonly type: 'failover'; readonly from: string; readonly to: string }
  /**
   * After a failover, the orders that were not final, refreshed from the new
   * primary's status answers; `lost` ones it does not know (state
   * 'rejected' for a pending order, never acknowledged; 'unknown' for one
   * that was live: filled or cancelled while the client was away).
   */
  | { readonly type: 'resynced'; readonly refreshed: readonly ClientOrder[]; readonly lost: readonly ClientOrder[] }
  /** No primary could be logged on to before the deadline: the client is closed. */
  | { readonly type: 'failoverFailed'; readonly reason: string };

export type Side = 'buy' | 'sell';

export interface NewOrder {
  symbol: string;
  side: Side;
  qty: string;
  /** Required for a limit order; none (and no `type`) makes a market order. */
  price?: string;
  type?: 'limit' | 'market';
  tif?: 'GTC' | 'IOC' | 'FOK';
  postOnly?: boolean;
  stp?: 'cancel_resting' | 'cancel_incoming' | 'cancel_both';
  clOrdId?: string;
}

/**
 * 'unknown': the order was live, and after a failover the new primary no
 * longer has it live (it was filled or cancelled while the client was
 * away; the reports that said so went to the old connection).
 */
export type OrderState = 'pending' | 'new' | 'partially_filled' | 'filled' | 'cancelled' | 'replaced' | 'rejected' | 'unknown';

/** An order as this client knows it from what it sent and the reports it got. */
export interface ClientOrder {
  clOrdId: string;
  /** '' until the first report. */
  orderId: string;
  symbol: string;
  side: Side;
  qty: string;
  price: string | undefined;
  state: OrderState;
  leavesQty: string;
  cumQty: string;
  avgPx: string;
  text: string | undefined;
}

const SIDE_CODE: Record<Side, string> = { buy: '1', sell: '2' };
const TIF_CODE = { GTC: '1', IOC: '3', FOK: '4' } as const;
const STP_CODE = { cancel_resting: '1', cancel_incoming: '2', cancel_both: '3' } as const;
const ORD_STATUS: Readonly<Record<string, OrderState>> = { '0': 'new', '1': 'partially_filled', '2': 'filled', '4': 'cancelled', '5': 'replaced', '8': 'rejected' };

/** Header fields the client writes itself; a message given to send() cannot override them. */
const CLIENT_OWNED = new Set([8, 9, 10, 34, 35, 49, 52, 56]);

/** A logon the gateway answered with a refusal (a Logout or a close with a reason): another try would fare no better. */
class LogonRefused extends Error {}

/** `GET /health` of the gateway behind a ws:// or wss:// URL: its JSON, or why not. */
function health(url: string, timeoutMs: number): Promise<{ role?: unknown; primary?: unknown; status?: unknown } | string> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      resolve(`not a URL: ${url}`);
      return;
    }
    const tls = u.protocol === 'wss:' || u.protocol === 'https:';
    const get = tls ? httpsGet : httpGet;
    const req = get(`${tls ? 'https' : 'http'}://${u.host}/health`, { timeout: Math.max(1, timeoutMs) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { if (body.length < 65_536) body += d; });
      res.on('end', () => {
        try {
          const v: unknown = JSON.parse(body);
          resolve(typeof v === 'object' && v !== null ? v : `health: not a JSON object (HTTP ${res.statusCode ?? 0})`);
        } catch {
          resolve(`health: HTTP ${res.statusCode ?? 0}, not JSON`);
        }
      });
      res.on('error', (e) => resolve(`health: ${e.message}`));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => resolve(`health: ${e.message}`));
  });
}

/** The primary's HOST:PORT in a NotPrimaryError text ("...; the primary is at HOST:PORT"), or null. */
function primaryNamedIn(text: string): string | null {
  const m = /the primary is at ([^\s;]+)/.exec(text);
  return m === null ? null : m[1];
}

function seqOf(msg: FixMessage): number {
  const v = msg.get(Tag.MsgSeqNum);
  return v !== undefined && /^[0-9]{1,15}$/.test(v) ? Number(v) : -1;
}

class Waiter {
  constructor(
    readonly predicate: (m: FixMessage) => boolean,
    readonly resolve: (m: FixMessage) => void,
    readonly reject: (e: Error) => void,
    readonly timer: NodeJS.Timeout | undefined,
  ) {}
}

// --- the client -------------------------------------------------------------------

/** 'failingOver': the connection dropped and the client is looking for the primary (send() throws meanwhile). */
export type ClientState = 'connecting' | 'active' | 'loggingOut' | 'failingOver' | 'closed';

export class FixClient {
  readonly account: string;
  readonly protocol: FixProtocol;
  readonly heartBtInt: number;

  private ws: WebSocket | null = null;
  private readonly encode: (m: FixMessage) => string;
  private readonly decode: typeof decodeTagValue;
  private stateNow: ClientState = 'connecting';
  private senderSeq: number;
  private targetSeq: number;
  private lastSentAt = Date.now();
  private lastRecvAt = Date.now();
  private testRequestOut = false;
  private resendAsked = false;
  /** Messages ahead of a gap, by MsgSeqNum, until the gap is filled. */
  private readonly ahead = new Map<number, FixMessage>();
  /** ResendRequests ahead of a gap, answered when they came: not again when their turn comes. */
  private readonly resendAnswered = new Set<number>();
  private readonly queue: FixMessage[] = [];
  private readonly maxQueued: number;
  private readonly waiters: Waiter[] = [];
  private readonly messageListeners = new Set<(msg: FixMessage) => void>();
  private readonly eventListeners = new Set<(e: ClientEvent) => void>();
  private readonly live = new Map<string, ClientOrder>();
  private readonly history = new Map<string, FixMessage[]>();
  private readonly keepReports: number;
  private readonly views = new Map<string, BookView>();
  private readonly prefix: string;
  private idCounter = 0;
  private timer: NodeJS.Timeout | undefined;
  private closeInfo: { code: number; reason: string } | undefined;
  private readonly closedPromise: Promise<{ code: number; reason: string }>;
  private closedResolve: (v: { code: number; reason: string }) => void = () => undefined;
  private logonSettle: ((err: Error | null) => void) | undefined;
  private readonly options: ConnectOptions;
  /** The failover list ([] with a single `url`: no failover). */
  private readonly endpoints: readonly string[];
  private readonly failoverDeadlineMs: number;
  private readonly failoverRetryMs: number;
  private readonly logonTimeoutMs: number;
  /** The endpoint of the current (or last) connection. */
  private currentUrl: string;
  /** close() or logout() was called: a drop is not failed over. */
  private userClosed = false;
  private failingOver = false;
  /** The primary's HOST:PORT as the last NotPrimaryError text or health answer named it. */
  private hint: string | null = null;
  /** The last WebSocket close seen, for the final close. */
  private lastClose = { code: 1006, reason: '' };
  /** The Logon being answered continues the numbers (789): a lower MsgSeqNum from another node is adopted. */
  private continuing = false;

  /**
   * Connects, logs on, and resolves once the gateway answers the Logon. With
   * `endpoints`, to the one whose /health says it is the primary (within
   * `failoverDeadlineMs`); a logon a primary refuses (wrong password) fails
   * at once.
   */
  static async connect(options: ConnectOptions): Promise<FixClient> {
    const client = new FixClient(options);
    await client.start();
    return client;
  }

  private constructor(options: ConnectOptions) {
    this.options = options;
    this.account = options.account;
    this.protocol = options.protocol ?? 'fix.4.4';
    this.heartBtInt = options.heartBtInt ?? 30;
    this.maxQueued = options.maxQueued ?? 10_000;
    this.keepReports = options.keepReports ?? 10_000;
    this.prefix = options.clOrdIdPrefix ?? `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}-`;
    const reset = options.resetSeqNum ?? true;
    this.senderSeq = reset ? 1 : options.nextSenderSeq ?? 1;
    this.targetSeq = reset ? 1 : options.nextTargetSeq ?? 1;
    if (options.onMessage !== undefined) this.messageListeners.add(options.onMessage);
    if (options.onEvent !== undefined) this.eventListeners.add(options.onEvent);
    this.encode = this.protocol === 'fix.json' ? encodeJson : encodeTagValue;
    this.decode = this.protocol === 'fix.json' ? decodeJson : decodeTagValue;
    this.endpoints = options.endpoints ?? [];
    if (this.endpoints.length === 0 && options.url === undefined) throw new Error('FixClient.connect: give `url` or `endpoints`');
    this.currentUrl = options.url ?? this.endpoints[0];
    this.failoverDeadlineMs = options.failoverDeadlineMs ?? 15_000;
    this.failoverRetryMs = options.failoverRetryMs ?? 50;
    this.logonTimeoutMs = options.timeoutMs ?? 10_000;
    this.closedPromise = new Promise((r) => { this.closedResolve = r; });
  }

  private async start(): Promise<void> {
    const reset = this.options.resetSeqNum ?? true;
    try {
      if (this.endpoints.length === 0) await this.attempt(this.currentUrl, reset, this.logonTimeoutMs);
      else await this.logOnToPrimary(Date.now() + this.failoverDeadlineMs, reset, true);
    } catch (e) {
      this.finalClose(this.lastClose.code, this.lastClose.reason);
      throw e;
    }
  }

  /**
   * One connection and Logon to `url`: resolves once the Logon is answered,
   * rejects (and drops the socket) on a refusal, an error or the timeout.
   * Without `reset` the Logon carries 789 = the next MsgSeqNum expected.
   */
  private attempt(url: string, reset: boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.stopTimer();
      this.currentUrl = url;
      this.stateNow = 'connecting';
      this.continuing = !reset;
      this.resendAsked = false;
      this.ahead.clear();
      this.resendAnswered.clear();
      this.testRequestOut = false;
      this.lastRecvAt = Date.now();
      if (reset) {
        this.senderSeq = 1;
        this.targetSeq = 1;
      }
      const ws = new WebSocket(url, this.protocol, { perMessageDeflate: false, handshakeTimeout: timeoutMs, maxPayload: MAX_FRAME_FROM_GATEWAY });
      this.ws = ws;
      let settled = false;
      const timer = setTimeout(() => this.settleLogon(new Error(`no Logon answer from ${url} within ${timeoutMs} ms`)), timeoutMs);
      this.logonSettle = (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.logonSettle = undefined;
        this.continuing = false;
        if (err !== null) {
          if (this.ws === ws) this.ws = null;
          ws.terminate();
          reject(err);
        } else {
          resolve();
        }
      };
      ws.on('open', () => {
        if (ws.protocol !== this.protocol) {
          this.settleLogon(new LogonRefused(`the server did not agree to subprotocol ${this.protocol} (got '${ws.protocol}')`));
          return;
        }
        const logon = new FixMessage([[Tag.MsgType, 'A'], [Tag.EncryptMethod, '0'], [Tag.HeartBtInt, String(this.heartBtInt)]]);
        if (reset) logon.add(Tag.ResetSeqNumFlag, 'Y');
        // FIX 4.4 NextExpectedMsgSeqNum: the gateway of a new primary continues the numbers
        else logon.add(789, String(this.targetSeq));
        logon.add(Tag.Username, this.account).add(Tag.Password, this.options.password);
        this.transmit(logon);
      });
      ws.on('message', (data: WebSocket.RawData) => { if (this.ws === ws) this.frame(data.toString()); });
      ws.on('error', (e: Error) => { if (this.ws === ws) this.settleLogon(new Error(`connection to ${url} failed: ${e.message}`)); });
      ws.on('close', (code: number, reasonBuf: Buffer) => this.socketClosed(ws, code, reasonBuf.toString()));
    });
  }

  private socketClosed(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws) return;
    this.ws = null;
    this.stopTimer();
    const wasOn = this.stateNow === 'active' || this.stateNow === 'loggingOut';
    this.lastClose = { code, reason };
    this.event({ type: 'closed', code, reason });
    if (this.logonSettle !== undefined) {
      const text = reason !== '' ? reason : `connection closed (code ${code}) before the Logon was answered`;
      const hint = primaryNamedIn(reason);
      if (hint !== null) this.hint = hint;
      this.settleLogon(reason !== '' && !reason.startsWith('not primary') ? new LogonRefused(`logon refused: ${text}`) : new Error(`logon refused: ${text}`));
      return;
    }
    if (wasOn && !this.userClosed && this.endpoints.length > 0) {
      void this.failover(reason);
      return;
    }
    this.finalClose(code, reason);
  }

  /** The end: no more connections; waiters are rejected and `closed` resolves. */
  private finalClose(code: number, reason: string): void {
    if (this.closeInfo !== undefined) return;
    this.stateNow = 'closed';
    this.failingOver = false;
    this.stopTimer();
    this.closeInfo = { code, reason };
    const err = new Error(`connection closed (code ${code}${reason !== '' ? `: ${reason}` : ''})`);
    for (const w of this.waiters.splice(0)) {
      if (w.timer !== undefined) clearTimeout(w.timer);
      w.reject(err);
    }
    this.closedResolve({ code, reason });
  }

  /** The endpoints to try, in order: the one named as primary first, then the others from the one after the current. */
  private candidates(): string[] {
    const list = [...this.endpoints];
    const at = list.indexOf(this.currentUrl);
    const rotated = at < 0 ? list : [...list.slice(at + 1), ...list.slice(0, at + 1)];
    const named = this.hint === null ? null : this.urlOf(this.hint);
    return named === null ? rotated : [named, ...rotated.filter((u) => u !== named)];
  }

  /** The endpoint URL for HOST:PORT: the listed one with that host and port, else one like the current with that host:port. */
  private urlOf(hostPort: string): string | null {
    for (const e of this.endpoints) {
      try {
        if (new URL(e).host === hostPort) return e;
      } catch {
        // not a URL: skipped
      }
    }
    try {
      const u = new URL(this.currentUrl);
      u.host = hostPort;
      return u.host === hostPort ? u.toString() : null;
    } catch {
      return null;
    }
  }

  /**
   * Rounds over the candidates until `deadline`: each is asked GET /health,
   * and only a primary is logged on to. A health answer naming the primary
   * puts it first. Returns the URL logged on to.
   */
  private async logOnToPrimary(deadline: number, reset: boolean, first: boolean): Promise<string> {
    const why = new Map<string, string>();
    for (;;) {
      const queue = this.candidates();
      const tried = new Set<string>();
      while (queue.length > 0) {
        const url = queue.shift() as string;
        if (tried.has(url)) continue;
        tried.add(url);
        if (this.userClosed) throw new Error('closed by the client');
        const left = deadline - Date.now();
        if (left <= 0) break;
        const h = await health(url, Math.min(1000, left));
        if (typeof h === 'string') {
          why.set(url, h);
          continue;
        }
        if (typeof h.primary === 'string' && h.primary !== '') {
          const named = this.urlOf(h.primary);
          if (h.role !== 'primary') this.hint = h.primary;
          if (named !== null && !tried.has(named)) queue.unshift(named);
        }
        if (h.role !== 'primary' || h.status !== 'ok') {
          why.set(url, `role ${String(h.role)}, status ${String(h.status)}`);
          continue;
        }
        try {
          await this.attempt(url, reset, Math.max(1, Math.min(this.logonTimeoutMs, deadline - Date.now())));
          this.hint = null;
          return url;
        } catch (e) {
          if (this.userClosed) throw new Error('closed by the client');
          if (first && e instanceof LogonRefused) throw e;
          why.set(url, (e as Error).message);
        }
      }
      if (Date.now() >= deadline) {
        throw new Error(`no primary logged on to within ${first ? 'the deadline' : `${this.failoverDeadlineMs} ms`}: `
          + [...why].map(([u, w]) => `${u}: ${w}`).join('; '));
      }
      await new Promise((r) => setTimeout(r, this.failoverRetryMs));
    }
  }

  /**
   * The connection dropped unasked: find the primary, log on continuing the
   * numbers, re-subscribe market data, then ask the status of every order
   * that is not final.
   */
  private async failover(reason: string): Promise<void> {
    const from = this.currentUrl;
    this.failingOver = true;
    this.stateNow = 'failingOver';
    let to: string;
    try {
      to = await this.logOnToPrimary(Date.now() + this.failoverDeadlineMs, false, false);
    } catch (e) {
      const why = `${(e as Error).message} (after: ${reason !== '' ? reason : 'connection closed'})`;
      if (!this.userClosed) this.event({ type: 'failoverFailed', reason: why });
      this.finalClose(this.userClosed ? 1000 : this.lastClose.code, this.userClosed ? 'client closed' : `failover failed: ${why}`);
      return;
    }
    this.failingOver = false;
    this.event({ type: 'failover', from, to });
    for (const v of this.views.values()) {
      v.reqId = `md-${this.nextId()}`;
      v.synced = false;
      this.sendMdRequest(v, '1');
    }
    await this.resync();
  }

  /** OrderStatusRequest for every order not final; the answers update them (track()); the unknown ones are lost. */
  private async resync(): Promise<void> {
    const open = [...this.live.values()].filter((o) => o.state === 'pending' || o.state === 'new' || o.state === 'partially_filled');
    const refreshed: ClientOrder[] = [];
    const lost: ClientOrder[] = [];
    await Promise.all(open.map(async (o) => {
      const before = o.state;
      let answer: FixMessage;
      try {
        answer = await this.status(o.clOrdId, this.logonTimeoutMs);
      } catch {
        return; // the connection went again: the next failover asks again
      }
      if (answer.get(Tag.OrdStatus) !== '8') {
        refreshed.push({ ...o });
        return;
      }
      // not live at the new primary: track() has dropped it
      this.live.delete(o.clOrdId);
      if (before === 'pending') {
        o.state = 'rejected';
        o.text = 'lost in failover: the new primary does not know this order; it was never acknowledged (send it again if still wanted)';
      } else {
        o.state = 'unknown';
        o.text = 'failover: the new primary no longer has this order live (filled or cancelled meanwhile; those reports went to the old connection)';
      }
      lost.push({ ...o });
    }));
    this.event({ type: 'resynced', refreshed, lost });
  }

  get state(): ClientState {
    return this.failingOver && this.stateNow !== 'closed' ? 'failingOver' : this.stateNow;
  }

  /** The ws:// URL of the gateway this client is (or was last) connected to. */
  get url(): string {
    return this.currentUrl;
  }


  /** The MsgSeqNum the next message will carry, and the one expected from the gateway: keep them to reconnect without a reset. */
  get nextSenderSeq(): number {
    return this.senderSeq;
  }

  get nextTargetSeq(): number {
    return this.targetSeq;
  }

  /** Resolves when the connection is closed, with the WebSocket close code and reason. */
  get closed(): Promise<{ code: number; reason: string }> {
    return this.closedPromise;
  }

  // --- sending -----------------------------------------------------------------

  /**
   * Sends `msg` (MsgType and body; header fields other than those below kept)
   * with SenderCompID, TargetCompID, MsgSeqNum and SendingTime set here.
   * Returns the MsgSeqNum used.
   */
  send(msg: FixMessage): number {
    if (this.failingOver) {
      throw new Error(`FixClient ${this.account}: failing over from ${this.currentUrl}: nothing is sent until the client is logged on to the primary again (wait for the 'failover' event)`);
    }
    return this.transmit(msg);
  }

  /** send() without the failover check: the session's own messages (Logon, heartbeats, resend requests). */
  private transmit(msg: FixMessage): number {
    const ws = this.ws;
    if (this.stateNow === 'closed' || ws === null || ws.readyState !== WebSocket.OPEN) throw new Error(`FixClient ${this.account}: not connected`);
    const seq = this.senderSeq++;
    const now = Date.now();
    const out = new FixMessage([
      [Tag.MsgType, msg.msgType],
      [Tag.SenderCompID, this.account],
      [Tag.TargetCompID, GATEWAY_COMP_ID],
      [Tag.MsgSeqNum, String(seq)],
      [Tag.SendingTime, formatUtcTimestamp(now)],
    ]);
    const body: [number, string][] = [];
    for (const f of msg.fields) {
      if (CLIENT_OWNED.has(f[0])) continue;
      if (isHeaderTag(f[0])) out.fields.push([f[0], f[1]]);
      else body.push([f[0], f[1]]);
    }
    for (const f of body) out.fields.push(f);
    ws.send(this.encode(out));
    this.lastSentAt = now;
    return seq;
  }

  /** Sends a frame as it is (fuzzing, malformed input): no header is set and no MsgSeqNum is used. */
  sendRaw(frame: string): void {
    if (this.ws === null) throw new Error(`FixClient ${this.account}: not connected`);
    this.ws.send(frame);
  }

  /** A fresh ClOrdID, unique within this client and unlikely to meet another client's. */
  nextId(): string {
    return `${this.prefix}${++this.idCounter}`;
  }

  /** NewOrderSingle (D); returns its ClOrdID. */
  newOrder(o: NewOrder): string {
    const clOrdId = o.clOrdId ?? this.nextId();
    const type = o.type ?? (o.price === undefined ? 'market' : 'limit');
    const m = new FixMessage([[Tag.MsgType, 'D'], [Tag.ClOrdID, clOrdId]]);
    if (o.postOnly === true) m.add(Tag.ExecInst, '6');
    m.add(Tag.Symbol, o.symbol).add(Tag.Side, SIDE_CODE[o.side]).add(Tag.TransactTime, formatUtcTimestamp(Date.now()))
      .add(Tag.OrderQty, o.qty).add(Tag.OrdType, type === 'market' ? '1' : '2');
    if (o.price !== undefined) m.add(Tag.Price, o.price);
    if (o.tif !== undefined) m.add(Tag.TimeInForce, TIF_CODE[o.tif]);
    if (o.stp !== undefined) m.add(Tag.SelfTradePrevention, STP_CODE[o.stp]);
    this.send(m);
    this.live.set(clOrdId, {
      clOrdId, orderId: '', symbol: o.symbol, side: o.side, qty: o.qty, price: o.price, state: 'pending',
      leavesQty: o.qty, cumQty: '0', avgPx: '0', text: undefined,
    });
    return clOrdId;
  }

  /**
   * OrderCancelRequest (F) for the order whose ClOrdID is `origClOrdId`;
   * returns the cancel's ClOrdID. Symbol and Side come from the order when
   * this client knows it (Side is required by FIX; the gateway ignores it).
   */
  cancel(origClOrdId: string, symbol?: string): string {
    const clOrdId = this.nextId();
    const o = this.live.get(origClOrdId);
    const m = new FixMessage([[Tag.MsgType, 'F'], [Tag.OrigClOrdID, origClOrdId], [Tag.ClOrdID, clOrdId]]);
    const sym = symbol ?? o?.symbol;
    if (sym !== undefined) m.add(Tag.Symbol, sym);
    m.add(Tag.Side, SIDE_CODE[o?.side ?? 'buy']).add(Tag.TransactTime, formatUtcTimestamp(Date.now()));
    this.send(m);
    return clOrdId;
  }

  /** OrderCancelReplaceRequest (G): new total quantity (fills included) and optionally price; returns the new ClOrdID. */
  replace(origClOrdId: string, change: { qty: string; price?: string; symbol?: string }): string {
    const clOrdId = this.nextId();
    const o = this.live.get(origClOrdId);
    const m = new FixMessage([[Tag.MsgType, 'G'], [Tag.OrigClOrdID, origClOrdId], [Tag.ClOrdID, clOrdId]]);
    const sym = change.symbol ?? o?.symbol;
    if (sym !== undefined) m.add(Tag.Symbol, sym);
    m.add(Tag.Side, SIDE_CODE[o?.side ?? 'buy']).add(Tag.TransactTime, formatUtcTimestamp(Date.now()))
      .add(Tag.OrderQty, change.qty).add(Tag.OrdType, '2');
    const price = change.price ?? o?.price;
    if (price !== undefined) m.add(Tag.Price, price);
    this.send(m);
    return clOrdId;
  }

  /** OrderMassCancelRequest (q) for one symbol or all; returns its ClOrdID. */
  massCancel(symbol?: string): string {
    const clOrdId = this.nextId();
    const m = new FixMessage([[Tag.MsgType, 'q'], [Tag.ClOrdID, clOrdId], [Tag.MassCancelRequestType, symbol === undefined ? '7' : '1']]);
    if (symbol !== undefined) m.add(Tag.Symbol, symbol);
    m.add(Tag.TransactTime, formatUtcTimestamp(Date.now()));
    this.send(m);
    return clOrdId;
  }

  /** OrderStatusRequest (H); resolves with its ExecutionReport (ExecType I). */
  status(clOrdId: string, timeoutMs = 5000): Promise<FixMessage> {
    const reqId = this.nextId();
    const o = this.live.get(clOrdId);
    const m = new FixMessage([[Tag.MsgType, 'H'], [Tag.ClOrdID, clOrdId], [Tag.OrdStatusReqID, reqId]]);
    if (o !== undefined) m.add(Tag.Symbol, o.symbol);
    m.add(Tag.Side, SIDE_CODE[o?.side ?? 'buy']);
    const answer = this.next((r) => r.msgType === '8' && r.get(Tag.ExecType) === 'I' && r.get(Tag.OrdStatusReqID) === reqId, timeoutMs);
    this.send(m);
    return answer;
  }

  /**
   * MarketDataRequest (V): bids, offers and trades of `symbol`, `depth`
   * levels (0: the whole book). Returns the view the snapshot and increments
   * build; await view.ready() for the snapshot. One subscription per symbol:
   * subscribing again replaces it.
   */
  subscribe(symbol: string, depth = 0): BookView {
    const old = this.views.get(symbol);
    const view = old !== undefined && old.depth === depth ? old : new BookView(symbol, depth);
    this.views.set(symbol, view);
    view.reqId = `md-${this.nextId()}`;
    view.synced = false;
    view.error = undefined;
    this.sendMdRequest(view, '1');
    return view;
  }

  unsubscribe(symbol: string): void {
    const view = this.views.get(symbol);
    if (view === undefined) return;
    this.views.delete(symbol);
    view.synced = false;
    this.sendMdRequest(view, '2');
  }

  /** The view of a subscribed symbol. */
  view(symbol: string): BookView | undefined {
    return this.views.get(symbol);
  }

  private sendMdRequest(view: BookView, type: '1' | '2'): void {
    const m = new FixMessage([[Tag.MsgType, 'V'], [Tag.MDReqID, view.reqId], [Tag.SubscriptionRequestType, type], [Tag.MarketDepth, String(view.depth)]]);
    if (type === '1') m.add(Tag.MDUpdateType, '1');
    m.add(Tag.NoMDEntryTypes, '3').add(Tag.MDEntryType, '0').add(Tag.MDEntryType, '1').add(Tag.MDEntryType, '2');
    m.add(Tag.NoRelatedSym, '1').add(Tag.Symbol, view.symbol);
    this.send(m);
  }

  // --- receiving ---------------------------------------------------------------

  /** Calls `fn` with every inbound message (admin ones too), before next() sees it. Returns the unsubscribe. */
  onMessage(fn: (msg: FixMessage) => void): () => void {
    this.messageListeners.add(fn);
    return () => this.messageListeners.delete(fn);
  }

  onEvent(fn: (e: ClientEvent) => void): () => void {
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  /**
   * The next inbound message matching `predicate` (any message without one):
   * the oldest such message already queued, else the next to arrive. The
   * message returned leaves the queue; others stay for later calls.
   */
  next(predicate: (m: FixMessage) => boolean = () => true, timeoutMs = 5000): Promise<FixMessage> {
    const q = this.queue;
    for (let i = 0; i < q.length; i++) {
      if (predicate(q[i])) return Promise.resolve(q.splice(i, 1)[0]);
    }
    if (this.stateNow === 'closed') {
      const c = this.closeInfo;
      return Promise.reject(new Error(`connection closed (code ${c?.code ?? 0}${c !== undefined && c.reason !== '' ? `: ${c.reason}` : ''})`));
    }
    return new Promise((resolve, reject) => {
      const timer = timeoutMs > 0
        ? setTimeout(() => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new Error(`FixClient ${this.account}: no matching message within ${timeoutMs} ms`));
        }, timeoutMs)
        : undefined;
      const waiter = new Waiter(predicate, resolve, reject, timer);
      this.waiters.push(waiter);
    });
  }

  /** The next ExecutionReport or OrderCancelReject whose ClOrdID (or OrigClOrdID) is `clOrdId`. */
  nextReport(clOrdId: string, timeoutMs = 5000): Promise<FixMessage> {
    return this.next((m) => (m.msgType === '8' || m.msgType === '9') && (m.get(Tag.ClOrdID) === clOrdId || m.get(Tag.OrigClOrdID) === clOrdId), timeoutMs);
  }

  /** Every ExecutionReport and OrderCancelReject received so far naming `clOrdId` as ClOrdID or OrigClOrdID, in order. */
  reports(clOrdId: string): FixMessage[] {
    return [...(this.history.get(clOrdId) ?? [])];
  }

  /** The orders this client sent that are pending or live, as its reports describe them. */
  orders(): ClientOrder[] {
    return [...this.live.values()].map((o) => ({ ...o }));
  }

  order(clOrdId: string): ClientOrder | undefined {
    const o = this.live.get(clOrdId);
    return o === undefined ? undefined : { ...o };
  }

  // --- ending ------------------------------------------------------------------

  /** Logout (5), then waits for the gateway's Logout or the close (at most `timeoutMs`), then closes. */
  async logout(text?: string, timeoutMs = 3000): Promise<void> {
    this.userClosed = true;
    if (this.stateNow === 'active') {
      const m = new FixMessage([[Tag.MsgType, '5']]);
      if (text !== undefined) m.add(Tag.Text, text);
      this.stateNow = 'loggingOut';
      try {
        this.transmit(m);
      } catch {
        // already gone
      }
      const answered = this.next((r) => r.msgType === '5', timeoutMs).then(() => undefined, () => undefined);
      await Promise.race([answered, this.closedPromise]);
    }
    this.close();
    await this.closedPromise;
  }

  /** Closes the connection without a Logout (and ends a failover under way). */
  close(): void {
    this.userClosed = true;
    this.stopTimer();
    const ws = this.ws;
    if (ws !== null && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) ws.close(1000, 'client closed');
    else if (ws === null && !this.failingOver) this.finalClose(1000, 'client closed');
  }

  private terminate(): void {
    this.stopTimer();
    this.ws?.terminate();
  }

  // --- inbound processing ----------------------------------------------------------

  private settleLogon(err: Error | null): void {
    this.logonSettle?.(err);
  }

  private frame(text: string): void {
    this.lastRecvAt = Date.now();
    this.testRequestOut = false;
    // the gateway's own bound on what it sends, not the 64 KiB it takes: a full-book W is as long as the book is deep
    const r = this.decode(text, MAX_FRAME_FROM_GATEWAY);
    if (!r.ok) {
      if (r.kind === 'garbled') {
        this.event({ type: 'invalid', reason: `garbled: ${r.reason}`, frame: text });
        return;
      }
      // the gateway sent something our dictionary refuses: report it, and still act on it
      this.event({ type: 'invalid', reason: r.kind === 'reject' ? r.rejection.text : `BeginString ${r.beginString}`, frame: text });
    }
    const msg = r.ok ? r.msg : (r as { msg: FixMessage }).msg;
    this.sequenced(msg);
  }

  /** MsgSeqNum checks: in order it is processed; ahead of a gap it waits for the resend; behind, only a PossDup is tolerated. */
  private sequenced(msg: FixMessage): void {
    const seq = seqOf(msg);
    const type = msg.msgType;
    // SequenceReset-Reset ignores MsgSeqNum
    if (type === '4' && msg.get(Tag.GapFillFlag) !== 'Y') {
      const n = Number(msg.get(Tag.NewSeqNo));
      if (Number.isInteger(n) && n > this.targetSeq) this.targetSeq = n;
      this.deliver(msg);
      this.drainAhead();
      return;
    }
    // a Logout is acted on whatever its number: a refusal for a too-low Logon comes numbered by the gateway's count
    if (type === '5' && seq !== this.targetSeq) {
      this.loggedOut(msg);
      this.deliver(msg);
      return;
    }
    if (seq > this.targetSeq) {
      this.event({ type: 'gap', expected: this.targetSeq, received: seq });
      // both sides waiting for each other's resend would never end: a ResendRequest is answered at once
      if (type === '2') {
        this.answerResend(msg);
        this.resendAnswered.add(seq);
      }
      // the Logon answer ahead of a gap still logs us on; it is consumed in order once the gap is filled
      if (type === 'A') this.loggedOn();
      if (this.ahead.size < 10_000) this.ahead.set(seq, msg);
      if (!this.resendAsked && this.stateNow === 'active') {
        this.resendAsked = true;
        this.transmit(new FixMessage([[Tag.MsgType, '2'], [Tag.BeginSeqNo, String(this.targetSeq)], [Tag.EndSeqNo, '0']]));
      }
      return;
    }
    if (seq < this.targetSeq) {
      if (msg.get(Tag.PossDupFlag) !== 'Y') this.event({ type: 'tooLow', expected: this.targetSeq, received: seq });
      // after a failover another node answers the Logon: what the old one sent cannot be resent by it, so its count is taken
      if (type === 'A' && this.continuing && seq >= 1) {
        this.targetSeq = seq;
        this.process(msg, seq);
        this.drainAhead();
      }
      return;
    }
    this.process(msg, seq);
    this.drainAhead();
  }

  private drainAhead(): void {
    while (this.ahead.size > 0) {
      const m = this.ahead.get(this.targetSeq);
      if (m === undefined) {
        for (const k of this.ahead.keys()) if (k < this.targetSeq) this.ahead.delete(k);
        if (this.ahead.size === 0) this.resendAsked = false;
        return;
      }
      this.ahead.delete(this.targetSeq);
      this.process(m, this.targetSeq);
    }
    this.resendAsked = false;
  }

  private process(msg: FixMessage, seq: number): void {
    const type = msg.msgType;
    if (type === '4') {
      // GapFill: the next message carries NewSeqNo
      const n = Number(msg.get(Tag.NewSeqNo));
      this.targetSeq = Number.isInteger(n) && n > seq ? n : seq + 1;
    } else if (seq >= 0) {
      this.targetSeq = seq + 1;
    }
    switch (type) {
      case 'A':
        this.loggedOn();
        break;
      case '1':
        this.transmit(new FixMessage([[Tag.MsgType, '0'], [Tag.TestReqID, msg.get(Tag.TestReqID) ?? '']]));
        break;
      case '2':
        if (!this.resendAnswered.delete(seq)) this.answerResend(msg);
        break;
      case '5':
        this.loggedOut(msg);
        break;
      case '8':
      case '9':
        this.track(msg);
        break;
      case 'W':
      case 'X':
        this.marketData(msg);
        break;
      case 'Y': {
        const reqId = msg.get(Tag.MDReqID);
        for (const v of this.views.values()) if (v.reqId === reqId) v.refused(msg.get(Tag.Text) ?? 'MarketDataRequestReject');
        break;
      }
      default:
    }
    this.deliver(msg);
  }

  private loggedOn(): void {
    if (this.stateNow !== 'connecting') return;
    this.stateNow = 'active';
    this.startTimer();
    this.settleLogon(null);
  }

  private loggedOut(msg: FixMessage): void {
    const text = msg.get(Tag.Text) ?? '';
    if (text.startsWith('not primary')) this.hint = primaryNamedIn(text) ?? this.hint;
    if (this.stateNow === 'active') {
      // the gateway ends the session: confirm, and let it close the connection
      this.stateNow = 'loggingOut';
      try {
        this.transmit(new FixMessage([[Tag.MsgType, '5']]));
      } catch {
        // already gone
      }
    } else if (this.stateNow === 'connecting') {
      const why = `logon refused: ${text !== '' ? text : 'Logout'}`;
      this.settleLogon(text.startsWith('not primary') ? new Error(why) : new LogonRefused(why));
    }
  }

  /** The client resends no orders: every message asked for is covered by one SequenceReset-GapFill. */
  private answerResend(msg: FixMessage): void {
    const begin = Math.max(1, Number(msg.get(Tag.BeginSeqNo)));
    const end = Number(msg.get(Tag.EndSeqNo));
    this.event({ type: 'resendRequest', begin, end });
    const ws = this.ws;
    if (!Number.isInteger(begin) || begin >= this.senderSeq || ws === null || ws.readyState !== WebSocket.OPEN) return;
    const now = formatUtcTimestamp(Date.now());
    const gapFill = new FixMessage([
      [Tag.MsgType, '4'], [Tag.SenderCompID, this.account], [Tag.TargetCompID, GATEWAY_COMP_ID], [Tag.MsgSeqNum, String(begin)],
      [Tag.PossDupFlag, 'Y'], [Tag.SendingTime, now], [Tag.OrigSendingTime, now], [Tag.GapFillFlag, 'Y'], [Tag.NewSeqNo, String(this.senderSeq)],
    ]);
    ws.send(this.encode(gapFill));
    this.lastSentAt = Date.now();
  }

  private marketData(msg: FixMessage): void {
    if (msg.msgType === 'W') {
      const v = this.views.get(msg.get(Tag.Symbol) ?? '');
      if (v !== undefined) v.apply(msg);
      return;
    }
    // an X may carry several symbols: each view takes its own entries
    const symbols = new Set(msg.getAll(Tag.Symbol));
    for (const s of symbols) {
      const v = this.views.get(s);
      if (v === undefined) continue;
      if (v.apply(msg) === 'gap' && this.stateNow === 'active') {
        v.reqId = `md-${this.nextId()}`;
        this.sendMdRequest(v, '1');
      }
    }
  }

  /** Keeps the order book of this client (live orders) and the reports by ClOrdID. */
  private track(msg: FixMessage): void {
    const clOrdId = msg.get(Tag.ClOrdID) ?? '';
    const orig = msg.get(Tag.OrigClOrdID);
    if (this.keepReports > 0) {
      this.remember(clOrdId, msg);
      if (orig !== undefined && orig !== clOrdId) this.remember(orig, msg);
    }
    if (msg.msgType !== '8') return;
    const execType = msg.get(Tag.ExecType) ?? '';
    let state = ORD_STATUS[msg.get(Tag.OrdStatus) ?? ''];
    // the order a report is about: a replace moves it to its new ClOrdID; a cancel names it by OrigClOrdID
    let key = clOrdId;
    let o = this.live.get(clOrdId);
    if (execType === '5' && orig !== undefined) {
      o = this.live.get(orig);
      this.live.delete(orig);
    } else if (execType === '4' && orig !== undefined && o === undefined) {
      key = orig;
      o = this.live.get(orig);
    }
    if (execType === '5' && state === 'replaced') state = 'new';
    if (o === undefined) {
      if (execType === 'I' && msg.get(Tag.OrdStatus) === '8') return;
      const side = msg.get(Tag.Side) === '2' ? 'sell' : 'buy';
      o = {
        clOrdId, orderId: '', symbol: msg.get(Tag.Symbol) ?? '', side, qty: msg.get(Tag.OrderQty) ?? '', price: msg.get(Tag.Price),
        state: 'pending', leavesQty: '0', cumQty: '0', avgPx: '0', text: undefined,
      };
    }
    o.clOrdId = key === clOrdId ? clOrdId : o.clOrdId;
    const orderId = msg.get(Tag.OrderID);
    if (orderId !== undefined && orderId !== 'NONE') o.orderId = orderId;
    o.qty = msg.get(Tag.OrderQty) ?? o.qty;
    o.price = msg.get(Tag.Price) ?? o.price;
    o.leavesQty = msg.get(Tag.LeavesQty) ?? o.leavesQty;
    o.cumQty = msg.get(Tag.CumQty) ?? o.cumQty;
    o.avgPx = msg.get(Tag.AvgPx) ?? o.avgPx;
    o.text = msg.get(Tag.Text);
    if (state !== undefined) o.state = state;
    if (o.state === 'new' || o.state === 'partially_filled') this.live.set(o.clOrdId, o);
    else this.live.delete(key);
  }

  private remember(clOrdId: string, msg: FixMessage): void {
    let list = this.history.get(clOrdId);
    if (list === undefined) {
      if (this.history.size >= this.keepReports) {
        const oldest = this.history.keys().next();
        if (oldest.done !== true) this.history.delete(oldest.value);
      }
      list = [];
      this.history.set(clOrdId, list);
    }
    list.push(msg);
  }

  private deliver(msg: FixMessage): void {
    for (const fn of this.messageListeners) fn(msg);
    const ws = this.waiters;
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i];
      let match = false;
      try {
        match = w.predicate(msg);
      } catch (e) {
        ws.splice(i, 1);
        if (w.timer !== undefined) clearTimeout(w.timer);
        w.reject(e as Error);
        i--;
        continue;
      }
      if (match) {
        ws.splice(i, 1);
        if (w.timer !== undefined) clearTimeout(w.timer);
        w.resolve(msg);
        return;
      }
    }
    if (this.maxQueued === 0) return;
    if (this.queue.length >= this.maxQueued) this.queue.shift();
    this.queue.push(msg);
  }

  private event(e: ClientEvent): void {
    for (const fn of this.eventListeners) {
      try {
        fn(e);
      } catch {
        // an observer's failure is its own
      }
    }
  }

  // --- heartbeats --------------------------------------------------------------------

  private startTimer(): void {
    const hbMs = this.heartBtInt * 1000;
    this.timer = setInterval(() => {
      if (this.stateNow !== 'active' && this.stateNow !== 'loggingOut') return;
      const now = Date.now();
      const silent = now - this.lastRecvAt;
      if (silent >= hbMs * 2.4) {
        this.event({ type: 'timeout', silentMs: silent });
        this.terminate();
        return;
      }
      try {
        if (silent >= hbMs * 1.2 && !this.testRequestOut) {
          this.testRequestOut = true;
          this.transmit(new FixMessage([[Tag.MsgType, '1'], [Tag.TestReqID, `T${now}`]]));
        } else if (now - this.lastSentAt >= hbMs) {
          this.transmit(new FixMessage([[Tag.MsgType, '0']]));
        }
      } catch {
        // closing
      }
    }, Math.min(1000, hbMs / 4));
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
