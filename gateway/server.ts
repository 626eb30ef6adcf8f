// The gateway: one HTTP(S) server carrying the FIX WebSocket endpoint (`/fix`,
// subprotocols `fix.4.4` and `fix.json`), `/health` and `/metrics`. It never
// touches the book: FIX messages become commands submitted to the sequencer,
// and everything that goes out — execution reports, market data — is built
// from durable events (exchange.subscribe), so a report never precedes the
// log and the maker of a trade hears of it like the taker.
//
// Roles (exchange.role): only a primary takes orders. On a replica the
// gateway is read-only — Logon, market data, OrderStatusRequest and
// OrderMassStatusRequest work, and D F G q are refused at once with the
// NotPrimaryError text naming the primary; a fenced node logs every session
// out with that text (clients fail over) and answers /health 503; a promotion
// opens order entry in place.

import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { pino, type Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Command } from '../engine/index.js';
import type { Exchange, Role } from '../log/index.js';
import { NoQuorumError, NotPrimaryError } from '../log/errors.js';
import type { AccountStore } from './accounts.js';
import { decodeJson, encodeJson } from './fix/json.js';
import type { FixMessage } from './fix/message.js';
import { decodeTagValue, encodeTagValue } from './fix/tagvalue.js';
import type { DecodeResult } from './fix/validate.js';
import { MarketData, type MdSink } from './market-data.js';
import { GatewayMetrics } from './metrics.js';
import { businessReject, OrderEntry } from './order-entry.js';
import { Instruments, OrderTracker } from './orders.js';
import { ReportBuilder } from './reports.js';
import { SecurityLists } from './security-list.js';
import { FileSessionStore } from './session-store.js';
import { FixSession, SessionRegistry, type SessionClock, type SessionEvent } from './session.js';
import { TokenBucket } from './token-bucket.js';
import { CONTENT_SECURITY_POLICY, loadWebAssets, type WebAsset } from './web-assets.js';

/** ClOrdIDs remembered per account, for PossResend (oldest forgotten first). */
const MAX_SEEN = 10_000;

export const SUBPROTOCOLS = ['fix.4.4', 'fix.json'] as const;
export type Subprotocol = (typeof SUBPROTOCOLS)[number];

export interface GatewayLimits {
  /** Largest WebSocket frame taken; a larger one closes the connection (1009). */
  maxFrameBytes: number;
  /** Inbound application messages per second per session (token bucket rate), and the burst it allows. */
  messagesPerSecond: number;
  burst: number;
  /** Live plus in-flight orders per account. */
  maxOpenOrders: number;
  /** Market data stalls (and is later conflated into a fresh snapshot) past this many unsent bytes. */
  mdHighWaterBytes: number;
  mdLowWaterBytes: number;
  /** A session whose unsent bytes pass this is logged out as a slow consumer. */
  maxSendBufferBytes: number;
  /** Open WebSocket connections on /fix; one more is refused at the upgrade (HTTP 503). */
  maxConnections: number;
}

export const DEFAULT_LIMITS: GatewayLimits = {
  maxFrameBytes: 64 * 1024,
  messagesPerSecond: 20_000,
  burst: 40_000,
  maxOpenOrders: 10_000,
  mdHighWaterBytes: 1 << 20,
  mdLowWaterBytes: 64 << 10,
  maxSendBufferBytes: 64 << 20,
  maxConnections: 5_000,
};

/** The node's admin API, served on the gateway's port for who holds the secret. */
export interface AdminEndpoint {
  secret: Buffer | null;
  handle(req: IncomingMessage, res: ServerResponse): void;
}

export interface GatewayOptions {
  /** /admin/* requests, authenticated by the Bearer secret. */
  admin?: AdminEndpoint;
  exchange: Exchange;
  listen: { host: string; port: number };
  accounts: AccountStore;
  /** Where each account's FIX session state (sequence numbers, messages to resend) is kept: beside the log. */
  sessionsDir: string;
  logger?: Logger;
  /** wss:// instead of ws://. */
  tls?: { cert: Buffer; key: Buffer };
  limits?: Partial<GatewayLimits>;
  /** Cancel an account's live orders when its session ends (default false). */
  cancelOnDisconnect?: boolean;
  /** QuickFIX's ResetOnDisconnect: every connection starts at MsgSeqNum 1 (the acceptance scripts' setting; default false: sequence numbers persist). */
  resetOnDisconnect?: boolean;
  clock?: SessionClock;
  /**
   * This gateway's address as clients reach it (HOST:PORT), given in /health
   * as `primary` while this node is the primary. Default: the address it
   * listens on.
   */
  advertise?: string;
}

/** Why a node that is not the primary refuses orders, for the NotPrimaryError text. */
function notPrimaryWhy(role: Role): string {
  return role === 'fenced' ? 'this node was fenced (another node is primary now)' : 'this node is a replica';
}

/**
 * A close frame's reason: at most 123 bytes of UTF-8 (RFC 6455 5.5, a control
 * frame carries 125 bytes, 2 of them the code), or ws.close() throws and the
 * connection is never closed. A reason may quote the client's text (a FIX JSON
 * field name), so it is cut by bytes, not characters.
 */
function closeReason(text: string): string {
  let out = text.length > 123 ? text.slice(0, 123) : text;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}

/** One WebSocket connection: its codec, its FIX session, its throttle, its market-data sink. */
class Connection implements MdSink {
  readonly session: FixSession;
  private readonly encode: (m: FixMessage) => string;
  private readonly decode: (frame: string, max: number) => DecodeResult;
  private readonly bucket: TokenBucket;
  /** Set while the message being handed to the session went over the throttle. */
  throttled = false;
  private corked = false;
  private readonly json: boolean;

  constructor(readonly gw: Gateway, readonly ws: WebSocket, readonly protocol: Subprotocol, readonly remote: string) {
    const json = protocol === 'fix.json';
    this.json = json;
    this.encode = json ? encodeJson : encodeTagValue;
    this.decode = json ? decodeJson : decodeTagValue;
    const limits = gw.limits;
    this.bucket = new TokenBucket(limits.messagesPerSecond, limits.burst);
    this.session = new FixSession({
      send: (m, frame) => this.transmit(m, frame),
      close: (reason) => ws.close(1000, closeReason(reason)),
      authenticate: (account, password, address) => gw.accounts.authenticate(account, password, address),
      openStore: (account) => new FileSessionStore(gw.sessionsDir, account),
      registry: gw.registry,
      onApplication: (msg, s) => gw.application(this, msg, s),
      onLogon: (s) => gw.loggedOn(this, s),
      onLogout: (s, reason) => gw.loggedOut(this, s, reason),
      onEvent: (e, s) => gw.sessionEvent(e, s, remote),
      remoteAddress: remote,
      clock: gw.clock,
      resetOnDisconnect: gw.resetOnDisconnect,
    });
    ws.on('message', (data, isBinary) => this.frame(data as Buffer, isBinary));
    ws.on('close', () => this.closed());
    ws.on('error', (err) => gw.log.warn({ remote, err: err.message }, 'websocket error'));
  }

  private frame(data: Buffer, isBinary: boolean): void {
    const gw = this.gw;
    gw.metrics.framesIn.inc();
    if (isBinary) {
      this.session.receive({ ok: false, kind: 'garbled', reason: 'binary frame: FIX messages travel in text frames' });
      return;
    }
    const result = this.decode(data.toString('utf8'), gw.limits.maxFrameBytes);
    this.throttled = !this.bucket.take(gw.clock?.now() ?? Date.now());
    this.session.receive(result);
    this.throttled = false;
  }

  /** Market data (MdSink): through the session, which numbers it; not kept for resend (a gap fill answers). */
  send(msg: FixMessage): void {
    if (this.session.isLoggedOn) this.session.sendApplication(msg, false);
  }

  /** A message the session has finished (header, sequence number): onto the socket. */
  private transmit(msg: FixMessage, encoded: string | undefined): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    const frame = encoded !== undefined && !this.json ? encoded : this.encode(msg);
    this.gw.metrics.messagesOut.inc({ msg_type: msg.msgType });
    if (this.ws.bufferedAmount > this.gw.limits.maxSendBufferBytes) {
      // a consumer this far behind would hold unbounded memory: it goes, with the reason
      this.gw.log.warn({ account: this.session.account, buffered: this.ws.bufferedAmount }, 'slow consumer: closing');
      this.ws.close(1008, 'slow consumer: send buffer limit exceeded');
      return;
    }
    this.cork();
    this.ws.send(frame);
  }

  /**
   * A session sends its messages in bursts (one per turn); corking the socket
   * for the burst makes it one write system call instead of one per frame.
   * Every frame stays a WebSocket message of its own.
   */
  private cork(): void {
    if (this.corked) return;
    const socket = (this.ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    if (socket === undefined) return;
    this.corked = true;
    socket.cork();
    queueMicrotask(() => {
      this.corked = false;
      socket.uncork();
    });
  }

  backlog(): number {
    return this.ws.bufferedAmount;
  }

  private closed(): void {
    this.session.transportClosed();
    this.gw.md.disconnect(this);
    this.gw.connections.delete(this);
  }
}

export class Gateway {
  readonly limits: GatewayLimits;
  readonly registry = new SessionRegistry();
  readonly connections = new Set<Connection>();
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  readonly md: MarketData;
  readonly clock: SessionClock | undefined;
  readonly accounts: AccountStore;
  readonly sessionsDir: string;
  readonly resetOnDisconnect: boolean;
  private readonly tracker: OrderTracker;
  private readonly entry: OrderEntry;
  private readonly reports: ReportBuilder;
  private readonly securityLists: SecurityLists;
  private readonly byAccount = new Map<string, Connection>();
  private readonly clOrdIds = new Map<string, Set<string>>();
  private readonly unsubscribe: () => void;
  private readonly unsubscribeRole: () => void;
  private readonly mdTimer: NodeJS.Timeout;
  private closing: Promise<void> | null = null;
  /** The trading screen (gateway/web/), served at `/`. */
  private readonly assets: ReadonlyMap<string, WebAsset> = loadWebAssets();

  private constructor(private readonly o: GatewayOptions, private readonly server: Server, private readonly wss: WebSocketServer,
    readonly url: string) {
    this.limits = { ...DEFAULT_LIMITS, ...o.limits };
    this.log = o.logger ?? pino({ level: 'silent' });
    this.clock = o.clock;
    this.accounts = o.accounts;
    this.sessionsDir = o.sessionsDir;
    this.resetOnDisconnect = o.resetOnDisconnect === true;
    const ex = o.exchange;
    // the state and the subscription are taken in one turn: no command falls between them
    const snap = ex.engine.snapshot();
    const instruments = Instruments.fromSnapshot(snap);
    this.tracker = OrderTracker.fromSnapshot(snap, instruments);
    this.entry = new OrderEntry(this.tracker, { maxOpenOrders: this.limits.maxOpenOrders });
    this.reports = new ReportBuilder(this.tracker);
    this.md = MarketData.fromSnapshot(snap, instruments, { highWaterBytes: this.limits.mdHighWaterBytes, lowWaterBytes: this.limits.mdLowWaterBytes });
    // follows the instruments that reports and market data learn from each committed batch;
    // SecurityResponseID <start time, base 36>.<n>: unique across restarts too
    this.securityLists = new SecurityLists(instruments, { idPrefix: `${Date.now().toString(36)}.` });
    this.unsubscribe = ex.subscribe((batch) => {
      for (const c of batch) {
        this.reports.build(c, this.deliver, this.hasSession);
        this.md.apply(c);
      }
    });
    // stalled market data is retried as the sockets drain
    this.mdTimer = setInterval(() => this.md.flush(), 50);
    this.mdTimer.unref();
    this.unsubscribeRole = ex.onRole((role, leader) => this.roleChanged(role, leader));
    this.metrics = new GatewayMetrics(() => ({ sessions: this.registry.size, connections: this.connections.size, queued: ex.stats.queued, seq: ex.seq }));
    const logWrite = this.metrics.logWrite;
    ex.observeWrites((ms) => logWrite.observe(ms / 1000));
    wss.on('connection', (ws, req) => this.connected(ws, req));
  }

  /** Listens on o.listen (port 0: any free port); resolves once it does. */
  static async start(o: GatewayOptions): Promise<Gateway> {
    const limits = { ...DEFAULT_LIMITS, ...o.limits };
    let gw: Gateway | null = null;
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      if (gw === null) {
        res.writeHead(503).end();
        return;
      }
      gw.http(req, res);
    };
    const server = o.tls ? createHttpsServer({ cert: o.tls.cert, key: o.tls.key }, handler) : createHttpServer(handler);
    const wss = new WebSocketServer({
      server, path: '/fix', maxPayload: limits.maxFrameBytes,
      // the first protocol we speak, in the client's order; none: the handshake is refused
      handleProtocols: (protocols) => {
        for (const p of protocols) if ((SUBPROTOCOLS as readonly string[]).includes(p)) return p;
        return false;
      },
      // past the bound, refused before the upgrade: no socket buffers, no session, no Logon to check; open connections go on
      verifyClient: (_info, done) => {
        if (gw === null) return done(false, 503, 'the gateway is starting');
        if (gw.connections.size < limits.maxConnections) return done(true);
        gw.metrics.rejects.inc({ reason: 'too_many_connections' });
        done(false, 503, `too many connections: this gateway serves at most ${limits.maxConnections}; try again later`, { 'retry-after': '5' });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.listen.port, o.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    gw = new Gateway(o, server, wss, `${o.tls ? 'wss' : 'ws'}://${host}:${addr.port}/fix`);
    return gw;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** HOST:PORT of this gateway, as /health gives it when this node is the primary. */
  get address(): string {
    if (this.o.advertise !== undefined) return this.o.advertise;
    const u = new URL(this.url);
    return u.host;
  }

  /** The primary's address as far as this node knows: its own when it is the primary. */
  private primaryAddress(): string | null {
    const ex = this.o.exchange;
    return ex.role === 'primary' ? this.address : ex.leader;
  }

  /** The Text of every refusal because this node is not the primary (null while it is). */
  private notPrimaryText(): string | null {
    const ex = this.o.exchange;
    return ex.role === 'primary' ? null : new NotPrimaryError(ex.leader, notPrimaryWhy(ex.role)).message;
  }

  /**
   * A change of role: fenced logs every session out with the reason (clients
   * fail over to the primary it names); replica and primary change nothing
   * here, since every order is checked against the role when it comes.
   */
  private roleChanged(role: Role, leader: string | null): void {
    this.log.warn({ role, leader }, 'role changed');
    if (role !== 'fenced') return;
    const text = this.notPrimaryText() ?? 'not primary';
    for (const c of this.connections) c.session.logout(text);
  }

  private connected(ws: WebSocket, req: IncomingMessage): void {
    const remote = req.socket.remoteAddress ?? 'unknown';
    if (!(SUBPROTOCOLS as readonly string[]).includes(ws.protocol)) {
      ws.close(1002, `a subprotocol is required: ${SUBPROTOCOLS.join(' or ')}`);
      return;
    }
    if (this.closing !== null) {
      ws.close(1001, 'the exchange is shutting down');
      return;
    }
    this.connections.add(new Connection(this, ws, ws.protocol as Subprotocol, remote));
  }

  /** Reports are built only for an account with a live session (the others would be dropped). */
  private readonly hasSession = (account: string): boolean => this.byAccount.has(account);

  /** Reports of durable commands, to the account's live session if it has one (FIX: missed reports are asked for with a status request). */
  private readonly deliver = (account: string, msg: FixMessage): void => {
    const conn = this.byAccount.get(account);
    if (conn !== undefined) conn.session.sendApplication(msg);
  };

  loggedOn(conn: Connection, s: FixSession): void {
    if (this.o.exchange.role === 'fenced') {
      // a fenced node serves nobody: the client goes to the primary the text names
      s.logout(this.notPrimaryText() ?? 'not primary');
      return;
    }
    this.byAccount.set(s.account, conn);
    // "seen on this session": a session that starts over at MsgSeqNum 1 is a new one
    if (this.resetOnDisconnect) this.clOrdIds.delete(s.account);
    this.metrics.logons.inc();
    this.log.info({ account: s.account, protocol: conn.protocol, remote: conn.remote, marketDataOnly: s.marketDataOnly }, 'logon');
  }

  loggedOut(conn: Connection, s: FixSession, reason: string): void {
    if (this.byAccount.get(s.account) === conn) this.byAccount.delete(s.account);
    this.md.disconnect(conn);
    this.log.info({ account: s.account, reason }, 'logout');
    // only the primary submits: a replica's or a fenced node's sessions end without touching the log
    if (this.o.cancelOnDisconnect && this.closing === null && this.o.exchange.role === 'primary') {
      const cmd = this.entry.cancelOnDisconnect(s.account);
      if (cmd !== null) this.submit(cmd, s.account, null);
    }
  }

  sessionEvent(e: SessionEvent, s: FixSession, remote: string): void {
    switch (e.type) {
      case 'reject':
        this.metrics.rejects.inc({ reason: `session_${e.reason}` });
        this.log.info({ account: s.account, remote, ...e }, 'session reject');
        break;
      case 'businessReject':
        this.metrics.rejects.inc({ reason: `business_${e.reason}` });
        this.log.info({ account: s.account, remote, ...e }, 'business reject');
        break;
      case 'refused':
        this.metrics.rejects.inc({ reason: 'logon_refused' });
        this.log.warn({ remote, reason: e.reason }, 'logon refused');
        break;
      case 'garbled':
        this.metrics.rejects.inc({ reason: 'garbled' });
        this.log.info({ account: s.account, remote, reason: e.reason }, 'garbled message ignored');
        break;
      case 'error':
        this.log.error({ account: s.account, remote, err: e.error instanceof Error ? e.error.message : String(e.error) }, 'session error');
        break;
      default:
    }
  }

  /** A validated application message of a logged-on session. */
  application(conn: Connection, msg: FixMessage, s: FixSession): void {
    const type = msg.msgType;
    this.metrics.messagesIn.inc({ msg_type: type });
    if (conn.throttled) {
      this.metrics.rejects.inc({ reason: 'throttled' });
      s.sendApplication(businessReject(msg, 0, `throttled: more than ${this.limits.messagesPerSecond} messages per second`));
      return;
    }
    if (type === 'V') {
      this.md.request(conn, msg);
      return;
    }
    // the instrument list is public and reads no order state: any account, any role, answered at once
    if (type === 'x') {
      for (const y of this.securityLists.request(msg)) s.sendApplication(y);
      return;
    }
    // the account's own live orders, from the tracker: answered at once, on a replica too (as H); nothing is submitted
    if (type === 'AF') {
      const answer = this.entry.massStatus(msg, s);
      if (answer.length === 1 && answer[0].msgType === 'j') this.metrics.rejects.inc({ reason: 'gateway_j' });
      for (const m of answer) s.sendApplication(m);
      return;
    }
    // FIX PossResend (97=Y): the client may have sent it before under another
    // MsgSeqNum; one whose ClOrdID this account already sent is ignored
    // a node that is not the primary takes no orders: refused here, nothing submitted (and no ClOrdID remembered)
    const notPrimary = this.notPrimaryText();
    if (notPrimary !== null) {
      const refusal = this.entry.notPrimary(msg, s, notPrimary);
      if (refusal !== null) {
        this.metrics.rejects.inc({ reason: 'not_primary' });
        s.sendApplication(refusal);
        return;
      }
    }
    const clOrdId = msg.get(11);
    if (clOrdId !== undefined && this.seen(s.account, clOrdId) && msg.get(97) === 'Y') {
      this.log.info({ account: s.account, clOrdId, msgType: type }, 'PossResend of a ClOrdID already seen: ignored');
      return;
    }
    const out = this.entry.handle(msg, s);
    if ('fields' in out) {
      this.metrics.rejects.inc({ reason: `gateway_${out.msgType}` });
      s.sendApplication(out);
      return;
    }
    this.submit(out, s.account, s);
  }

  /** Whether `account` sent `clOrdId` before (the last MAX_SEEN ClOrdIDs of each account); records it. */
  private seen(account: string, clOrdId: string): boolean {
    let ids = this.clOrdIds.get(account);
    if (ids === undefined) {
      ids = new Set();
      this.clOrdIds.set(account, ids);
    }
    if (ids.has(clOrdId)) return true;
    ids.add(clOrdId);
    if (ids.size > MAX_SEEN) ids.delete(ids.values().next().value as string);
    return false;
  }

  private submit(cmd: Command, account: string, s: FixSession | null): void {
    const t0 = performance.now();
    this.o.exchange.submit(cmd, `fix:${account}`).then(
      () => this.metrics.orderLatency.observe((performance.now() - t0) / 1000),
      (err: unknown) => {
        this.metrics.rejects.inc({
          reason: (err as { code?: string }).code === 'BUSY' ? 'busy'
            : err instanceof NotPrimaryError ? 'not_primary' : err instanceof NoQuorumError ? 'no_quorum' : 'refused',
        });
        if (s !== null && s.isLoggedOn) s.sendApplication(this.entry.submitFailed(cmd, err));
      },
    );
  }

  private http(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path.startsWith('/admin/') && this.o.admin !== undefined) {
      this.adminRequest(this.o.admin, req, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/health') {
      const ex = this.o.exchange;
      const failure = ex.failure;
      const fenced = ex.role === 'fenced';
      const body = JSON.stringify({
        status: failure !== null ? 'failed' : fenced ? 'fenced' : 'ok', seq: ex.seq, sessions: this.registry.size,
        role: ex.role, primary: this.primaryAddress(), ...(failure ? { error: failure.message } : {}),
      });
      res.writeHead(failure === null && !fenced ? 200 : 503, { 'content-type': 'application/json' }).end(body);
      return;
    }
    if (path === '/metrics') {
      this.metrics.render().then(
        (text) => res.writeHead(200, { 'content-type': this.metrics.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(err.message),
      );
      return;
    }
    const asset = this.assets.get(path);
    if (asset !== undefined) {
      const headers = {
        'content-type': asset.type, 'content-length': String(asset.body.length), etag: asset.etag, 'cache-control': 'no-cache',
        'content-security-policy': CONTENT_SECURITY_POLICY, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
      };
      if (req.headers['if-none-match'] === asset.etag) res.writeHead(304, headers).end();
      else res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : asset.body);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the trading screen is at /, the FIX endpoint is /fix (WebSocket); /health, /metrics\n');
  }

  /**
   * The node's admin API over the network (POST /admin/promote): only with the
   * shared secret as a Bearer token, compared in constant time; without a
   * configured secret it is closed (promote on the node's own machine).
   */
  private adminRequest(admin: AdminEndpoint, req: IncomingMessage, res: ServerResponse): void {
    const deny = (code: number, error: string): void => {
      res.writeHead(code, { 'content-type': 'application/json', ...(code === 401 ? { 'www-authenticate': 'Bearer' } : {}) }).end(`${JSON.stringify({ error })}\n`);
    };
    if (admin.secret === null) return deny(403, 'the admin API over the network needs --replication-secret-file; on the node\'s machine use matchlog promote --data DIR');
    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7).trim() : '';
    const digest = (v: Buffer | string): Buffer => createHash('sha256').update(v).digest();
    if (!timingSafeEqual(digest(token), digest(admin.secret))) {
      this.log.warn({ remote: req.socket.remoteAddress, path: req.url }, 'admin request with a wrong or missing token');
      return deny(401, 'wrong or missing Bearer token (the replication secret)');
    }
    admin.handle(req, res);
  }

  /** Logs every session out ("the exchange is shutting down"), then closes the server. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.unsubscribe();
    this.unsubscribeRole();
    this.o.exchange.observeWrites(null);
    clearInterval(this.mdTimer);
    for (const c of this.connections) c.session.logout('the exchange is shutting down');
    const deadline = Date.now() + 2000;
    while (this.connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const c of this.connections) c.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

