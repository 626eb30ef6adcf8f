// The FIX 4.4 session layer, between a transport that delivers decoded frames
// and an application that takes validated orders. It knows neither: frames
// arrive as DecodeResults through receive(), messages leave through the
// injected send(), and the clock and timers are injected so that tests run
// heartbeat scenarios in virtual time.
//
// Where the rules come from:
//  [V2]  FIX 4.4 Volume 2, "Session Protocol": Logon first, sequence numbers,
//        heartbeats and TestRequest, ResendRequest / SequenceReset-GapFill,
//        PossDupFlag and OrigSendingTime, Reject, Logout.
//  [QF]  QuickFIX's Session.cpp, which the acceptance scripts were written
//        for, where FIX 4.4 leaves a choice: the order of the checks in
//        verify() (SendingTime, CompIDs, then too high / too low), the
//        timer arithmetic (TestRequest after 1.2 HeartBtInt of silence,
//        disconnect after 2.4), Logout and ResendRequest answered whatever
//        their MsgSeqNum, the Reject texts, the refused Logon answered by a
//        disconnect without a Logout.
//  [ML]  matchlog's own choice, as an exchange. Among them:
//        - one live session per account; a second Logon is disconnected;
//        - sequence numbers continue across a failover: a Logon carrying
//          NextExpectedMsgSeqNum (789) and MsgSeqNum N > 1 to a store with no
//          history (both next numbers 1, nothing sent) — the new primary
//          after a failover has no session file for the account, the order
//          state is in the log — is taken as the continuation of the
//          client's session: N + 1 is expected next, and the Logon answer
//          carries MsgSeqNum = the 789 value (what the client expects), with
//          no ResendRequest and no reset. A ResendRequest for older numbers
//          is gap-filled. Without 789, or with a store that has history, 789
//          is ignored and the rules above apply unchanged.

import { FixMessage, GATEWAY_COMP_ID } from './fix/message.js';
import { decodeTagValue, encodedBody, encodeTagValue, encodeWithBody } from './fix/tagvalue.js';
import { type DecodeResult, type Rejection, RejectReason, formatUtcTimestamp, parseUtcTimestamp, rejection } from './fix/validate.js';
import type { SessionStore } from './session-store.js';

export type SessionAuthResult = { ok: true; marketDataOnly: boolean } | { ok: false; reason: string };

export interface SessionClock {
  /** Epoch milliseconds (UTC). */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: SessionClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export type SessionState = 'connected' | 'authenticating' | 'active' | 'loggingOut' | 'closed';

/** What happened, for logs and metrics. */
export type SessionEvent =
  | { readonly type: 'logon'; readonly account: string; readonly marketDataOnly: boolean; readonly reset: boolean }
  | { readonly type: 'refused'; readonly reason: string }
  | { readonly type: 'logout'; readonly reason: string }
  | { readonly type: 'reject'; readonly reason: number; readonly refTagId?: number; readonly refMsgType: string; readonly text: string }
  | { readonly type: 'businessReject'; readonly reason: number; readonly refMsgType: string; readonly text: string }
  | { readonly type: 'garbled'; readonly reason: string }
  | { readonly type: 'gap'; readonly expected: number; readonly received: number }
  | { readonly type: 'resend'; readonly begin: number; readonly end: number }
  | { readonly type: 'error'; readonly error: unknown };

export interface FixSessionOptions {
  /**
   * Hands one message to the transport, which encodes it; `frame` is its
   * tag=value encoding when the session already made one (for the store), so
   * a `fix.4.4` transport need not encode it twice.
   */
  send(msg: FixMessage, frame: string | undefined): void;
  /** Closes the transport; every message already given to send() goes first. */
  close(reason: string): void;
  authenticate(account: string, password: string, remoteAddress: string): Promise<SessionAuthResult>;
  /** The account's sequence numbers and resendable messages; opened once the Logon is accepted. */
  openStore(account: string): SessionStore;
  /** One live session per account, shared by every session of the gateway. */
  registry: SessionRegistry;
  /** A validated application message of a type in `applicationMsgTypes`, in MsgSeqNum order. */
  onApplication(msg: FixMessage, session: FixSession): void;
  onLogon?(session: FixSession): void;
  /** After a session that was logged on ends, however it ends. */
  onLogout?(session: FixSession, reason: string): void;
  onEvent?(event: SessionEvent, session: FixSession): void;
  remoteAddress?: string;
  clock?: SessionClock;
  /** Inbound application messages taken; any other is answered 35=j 380=3. Default D F G H q V x AF. */
  applicationMsgTypes?: ReadonlySet<string>;
  /** [V2] "SendingTime accuracy": default 2 minutes, the value the scripts test (2o). */
  sendingTimeToleranceMs?: number;
  /** [ML] a connection that has not logged on by then is closed. */
  logonTimeoutMs?: number;
  /** [QF] LogoutTimeout: how long a Logout we sent waits for the peer's. */
  logoutTimeoutMs?: number;
  /** [ML] HeartBtInt (108) accepted, seconds. */
  minHeartBtInt?: number;
  maxHeartBtInt?: number;
  /** [QF] ResetOnDisconnect: sequence numbers back to 1 when a logged-on session ends. Default false: they persist. */
  resetOnDisconnect?: boolean;
  /** Messages ahead of a gap kept until it is filled; past this they are dropped and asked for again. */
  maxQueued?: number;
  /** The same bound in bytes (decodedSize): past it, too, they are dropped and asked for again. */
  maxQueuedBytes?: number;
}

export const DEFAULT_APPLICATION_MSG_TYPES: ReadonlySet<string> = new Set(['D', 'F', 'G', 'H', 'q', 'V', 'x', 'AF']);

/** [ML] One live session per account (FIX: one session per CompID pair); a second Logon is refused. */
export class SessionRegistry {
  private readonly live = new Map<string, FixSession>();

  claim(account: string, session: FixSession): boolean {
    if (this.live.has(account)) return false;
    this.live.set(account, session);
    return true;
  }

  release(account: string, session: FixSession): void {
    if (this.live.get(account) === session) this.live.delete(account);
  }

  /** The account's logged-on session, to deliver its reports. */
  get(account: string): FixSession | undefined {
    return this.live.get(account);
  }

  get size(): number {
    return this.live.size;
  }

  sessions(): IterableIterator<FixSession> {
    return this.live.values();
  }
}

/** Header fields the session owns on the way out; an application cannot set them. */
const SESSION_OWNED = new Set([8, 9, 10, 34, 35, 43, 49, 52, 56, 122]);

/**
 * [QF] Reject and BusinessMessageReject route back the way the message came:
 * OnBehalfOf* (115, 116, 144) become DeliverTo* (128, 129, 145) and back.
 */
const REVERSE_ROUTE: readonly [from: number, to: number][] = [
  [115, 128],
  [116, 129],
  [144, 145],
  [128, 115],
  [129, 116],
  [145, 144],
];

const MAX_PENDING_BEFORE_LOGON = 64;
/**
 * [ML] and their size: a decoded message keeps its whole frame (its values are
 * slices of it), so 64 frames of 64 KiB would hold 4 MiB per connection for as
 * long as a Logon is checked (seconds while scrypt is queued), before anyone
 * is authenticated. What a client sends ahead of the Logon answer is small.
 */
const MAX_PENDING_BYTES_BEFORE_LOGON = 64 * 1024;

/**
 * [ML] What waits ahead of a MsgSeqNum gap, in bytes: 1,000 messages of up to
 * 64 KiB, each holding its frame, would be 64 MiB per session for as long as
 * the client leaves the gap open. A client's ordinary messages are a few
 * hundred bytes, so the message count still bounds it for them.
 */
export const DEFAULT_MAX_QUEUED_BYTES = 1 << 20;

/** About the characters a decoded message holds: its values and, per field, a tag and two delimiters. */
function messageSize(msg: FixMessage): number {
  let n = 0;
  for (const f of msg.fields) n += f[1].length + 8;
  return n;
}

function decodedSize(input: DecodeResult): number {
  if (input.ok === false && input.kind === 'garbled') return input.reason.length;
  return messageSize(input.msg);
}

function seqOf(msg: FixMessage): number | undefined {
  const v = msg.get(34);
  if (v === undefined || v.length === 0 || v.length > 15) return undefined;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return Number(v);
}

export class FixSession {
  private readonly opts: FixSessionOptions;
  private readonly clock: SessionClock;
  private readonly inbound: ReadonlySet<string>;
  private readonly toleranceMs: number;
  private readonly logoutTimeoutMs: number;
  private readonly maxQueued: number;
  private readonly maxQueuedBytes: number;
  private readonly createdAt: number;

  private stateNow: SessionState = 'connected';
  private accountName = '';
  private mdOnly = false;
  private claimed = false;
  private loggedOn = false;
  private finished = false;
  private store: SessionStore | undefined;
  private logon: FixMessage | undefined;
  private readonly pending: DecodeResult[] = [];
  private pendingBytes = 0;

  private heartBtMs = 0;
  private lastRecvAt = 0;
  private lastSentAt = 0;
  private testRequests = 0;
  private logoutSentAt = 0;
  /** The gap asked for with our ResendRequest, [from, to]; from 0 when none is outstanding. */
  private resendFrom = 0;
  private resendTo = 0;
  /** Messages ahead of a gap, by MsgSeqNum, and their messageSize in all. */
  private readonly queued = new Map<number, FixMessage>();
  private queuedBytes = 0;

  private outbox: FixMessage[] = [];
  private spare: FixMessage[] = [];
  /** The tag=value frame of each outbox message, when the store needed one. */
  private outFrames: (string | undefined)[] = [];
  private spareFrames: (string | undefined)[] = [];
  private flushScheduled = false;
  private closeReason: string | undefined;
  private timer: unknown;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(options: FixSessionOptions) {
    this.opts = options;
    this.clock = options.clock ?? systemClock;
    this.inbound = options.applicationMsgTypes ?? DEFAULT_APPLICATION_MSG_TYPES;
    this.toleranceMs = options.sendingTimeToleranceMs ?? 120_000;
    this.logoutTimeoutMs = options.logoutTimeoutMs ?? 2_000;
    this.maxQueued = options.maxQueued ?? 1_000;
    this.maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.createdAt = this.clock.now();
    this.armTimer();
  }

  get state(): SessionState {
    return this.stateNow;
  }

  /** The account (SenderCompID) once logged on, '' before. */
  get account(): string {
    return this.accountName;
  }

  get marketDataOnly(): boolean {
    return this.mdOnly;
  }

  get isLoggedOn(): boolean {
    return this.stateNow === 'active';
  }

  // --- input -----------------------------------------------------------------

  /** One decoded frame from the transport. Never throws. */
  receive(input: DecodeResult): void {
    if (this.stateNow === 'closed') return;
    try {
      if (this.stateNow === 'authenticating') {
        // the Logon is being checked: what follows waits for its answer, within reason
        this.pendingBytes += decodedSize(input);
        if (this.pending.length >= MAX_PENDING_BEFORE_LOGON || this.pendingBytes > MAX_PENDING_BYTES_BEFORE_LOGON) {
          this.closeAfter('too many messages before the Logon was answered');
        } else this.pending.push(input);
        return;
      }
      if (this.stateNow === 'connected') {
        this.first(input);
        return;
      }
      this.message(input);
      this.drainQueue();
    } catch (e) {
      this.fail(e);
    }
  }

  /** The transport is gone (peer closed, error, or after our close()). Idempotent. */
  transportClosed(): void {
    this.outbox.length = 0;
    this.outFrames.length = 0;
    this.finish('connection closed');
  }

  /**
   * Sends an application message: MsgSeqNum, SendingTime and the CompIDs are
   * set here, and it is kept for resend unless `resendable` is false (market
   * data: a stale book update is worse than none, and keeping every one for
   * every subscriber would cost the store a frame each; a resend request
   * gets a gap fill instead). False when the session is not logged on ([V2]:
   * no application messages before the Logon or after a Logout was sent):
   * the caller's report then waits for the client to ask.
   */
  sendApplication(body: FixMessage, resendable = true): boolean {
    if (this.stateNow !== 'active' || this.store === undefined) return false;
    const msg = this.header(body.msgType);
    if (!resendable) {
      // fan-out (market data): the body is encoded once for every subscriber, only the header here
      const frame = encodeWithBody(msg, encodedBody(body, SESSION_OWNED));
      for (const f of body.fields) if (!SESSION_OWNED.has(f[0])) msg.fields.push(f);
      const store = this.requireStore();
      store.recordSent(store.nextSenderSeq, undefined);
      this.push(msg, frame);
      return true;
    }
    for (const f of body.fields) if (!SESSION_OWNED.has(f[0])) msg.fields.push([f[0], f[1]]);
    this.emit(msg, resendable);
    return true;
  }

  /** Starts a Logout (shutdown, slow consumer, ...); the session closes on the peer's Logout or after logoutTimeoutMs. */
  logout(text?: string): void {
    if (this.stateNow === 'active') this.startLogout(text);
    else if (this.stateNow === 'connected' || this.stateNow === 'authenticating') this.closeAfter(text ?? 'closed');
  }

  // --- logon -------------------------------------------------------------------

  /** [V2] The first message must be a Logon; [QF] anything wrong with it is answered by a disconnect. */
  private first(input: DecodeResult): void {
    if (!input.ok) {
      this.closeAfter(input.kind === 'reject' ? `invalid Logon: ${input.rejection.text}` : 'the first message is not a valid FIX 4.4 Logon');
      return;
    }
    const msg = input.msg;
    if (msg.msgType !== 'A') return this.closeAfter('the first message must be a Logon (35=A)');
    if (msg.get(56) !== GATEWAY_COMP_ID) return this.closeAfter(`TargetCompID (56) must be ${GATEWAY_COMP_ID}`);
    if (msg.get(98) !== '0') return this.closeAfter('EncryptMethod (98) must be 0');
    const hbi = Number(msg.get(108));
    const min = this.opts.minHeartBtInt ?? 1;
    const max = this.opts.maxHeartBtInt ?? 300;
    if (!Number.isInteger(hbi) || hbi < min || hbi > max) return this.closeAfter(`HeartBtInt (108) must be ${min} to ${max} seconds`);
    if (!this.sendingTimeOk(msg)) return this.closeAfter('SendingTime accuracy problem');
    const account = msg.get(49) ?? '';
    const password = msg.get(554);
    if (msg.get(553) !== account) return this.closeAfter('Username (553) must equal SenderCompID (49)');
    if (password === undefined) return this.closeAfter('Password (554) missing');
    this.stateNow = 'authenticating';
    this.logon = msg;
    this.heartBtMs = hbi * 1000;
    this.opts.authenticate(account, password, this.opts.remoteAddress ?? '').then(this.authenticated, this.authFailed);
  }

  private readonly authFailed = (e: unknown): void => {
    if (this.stateNow !== 'authenticating') return;
    this.event({ type: 'error', error: e });
    this.closeAfter('authentication failed');
  };

  private readonly authenticated = (result: SessionAuthResult): void => {
    const msg = this.logon;
    this.logon = undefined;
    if (this.stateNow !== 'authenticating' || msg === undefined) return;
    try {
      if (!result.ok) return this.closeAfter(result.reason);
      const account = msg.get(49) ?? '';
      // [ML] scripts 1b and AlreadyLoggedOn: the second Logon is disconnected, the first session goes on
      if (!this.opts.registry.claim(account, this)) return this.closeAfter('the account is already logged on');
      this.claimed = true;
      this.accountName = account;
      this.mdOnly = result.marketDataOnly;
      let store: SessionStore;
      try {
        store = this.opts.openStore(account);
      } catch (e) {
        this.event({ type: 'error', error: e });
        return this.closeAfter('the session store cannot be opened');
      }
      this.store = store;
      this.logonAccepted(msg);
      this.pendingBytes = 0;
      for (const input of this.pending.splice(0)) {
        if (this.finished || this.closeReason !== undefined) break;
        this.message(input);
        this.drainQueue();
      }
    } catch (e) {
      this.fail(e);
    }
  };

  private logonAccepted(msg: FixMessage): void {
    const store = this.requireStore();
    const seq = seqOf(msg) ?? 0;
    // [V2] ResetSeqNumFlag: both sides start again at 1
    const reset = msg.get(141) === 'Y';
    if (reset) store.reset();
    // [ML] failover: a fresh store adopts the counterparty's numbers (see the header)
    const nextExpected = Number(msg.get(789));
    if (!reset && seq > 1 && Number.isSafeInteger(nextExpected) && nextExpected >= 1
      && store.nextSenderSeq === 1 && store.nextTargetSeq === 1) {
      store.setNextTargetSeq(seq);
      if (nextExpected > 1) store.recordSent(nextExpected - 1, undefined);
    }
    const expected = store.nextTargetSeq;
    if (!reset && seq < expected) {
      // [QF] verify(logon, false, true): too low is a Logout and a disconnect
      this.stateNow = 'active';
      this.logoutAndClose(`MsgSeqNum too low, expecting ${expected} but received ${seq}`);
      return;
    }
    this.stateNow = 'active';
    this.loggedOn = true;
    this.lastRecvAt = this.clock.now();
    const answer = this.header('A').add(98, '0').add(108, msg.get(108) ?? '30');
    if (reset) answer.add(141, 'Y');
    this.emit(answer, false);
    this.event({ type: 'logon', account: this.accountName, marketDataOnly: this.mdOnly, reset });
    if (!reset && seq > expected) this.tooHigh(msg, seq);
    else store.setNextTargetSeq(seq + 1);
    this.armTimer();
    this.opts.onLogon?.(this);
  }

  /** [QF] A Logon on a live session: with ResetSeqNumFlag it restarts the sequences, otherwise it ends the session. */
  private logonAgain(msg: FixMessage, seq: number): void {
    if (msg.get(141) !== 'Y') return this.logoutAndClose('Logon received on a logged-on session');
    if (!this.verify(msg, seq, false, false)) return;
    const store = this.requireStore();
    store.reset();
    this.clearQueue();
    this.resendFrom = 0;
    const hbi = Number(msg.get(108));
    if (Number.isInteger(hbi) && hbi >= (this.opts.minHeartBtInt ?? 1) && hbi <= (this.opts.maxHeartBtInt ?? 300)) this.heartBtMs = hbi * 1000;
    this.emit(this.header('A').add(98, '0').add(108, msg.get(108) ?? '30').add(141, 'Y'), false);
    store.setNextTargetSeq(seq + 1);
  }

  // --- messages ------------------------------------------------------------------

  private message(input: DecodeResult): void {
    if (!input.ok) {
      if (input.kind === 'garbled') {
        // [V2] a garbled message is ignored: the gap it leaves is found with the next one
        this.event({ type: 'garbled', reason: input.reason });
        return;
      }
      const msg = input.msg;
      const seq = seqOf(msg);
      if (seq === undefined) return this.logoutAndClose('MsgSeqNum (34) missing or malformed');
      if (input.kind === 'beginString') {
        // [QF] a Logout is taken whatever its version; anything else is answered with a Logout
        if (msg.msgType === '5' && this.verify(msg, seq, false, false)) return this.logoutReceived(seq);
        this.startLogout('Incorrect BeginString');
        this.consume(seq);
        return;
      }
      this.reject(msg, seq, input.rejection);
      return;
    }
    const msg = input.msg;
    const seq = seqOf(msg);
    if (seq === undefined) return this.logoutAndClose('MsgSeqNum (34) missing or malformed');
    switch (msg.msgType) {
      case 'A':
        return this.logonAgain(msg, seq);
      case '5':
        // [QF] nextLogout: no sequence check, a Logout is always answered
        if (this.verify(msg, seq, false, false)) this.logoutReceived(seq);
        return;
      case '2': {
        // [V2] a ResendRequest is answered at once, even ahead of a gap, or two
        // sides waiting for each other's resend would deadlock (script 20)
        if (!this.verify(msg, seq, false, false)) return;
        this.answerResend(msg);
        const expected = this.requireStore().nextTargetSeq;
        if (seq === expected) this.consume(seq);
        else if (seq > expected) this.tooHigh(msg, seq);
        return;
      }
      case '4': {
        // [V2] Reset mode ignores MsgSeqNum; GapFill mode is sequenced like any message
        const gapFill = msg.get(123) === 'Y';
        if (this.verify(msg, seq, gapFill, gapFill)) this.sequenceReset(msg);
        return;
      }
      default:
        if (this.verify(msg, seq, true, true)) this.process(msg, seq);
    }
  }

  /** A verified message whose MsgSeqNum is the expected one (live or from the queue). */
  private process(msg: FixMessage, seq: number): void {
    switch (msg.msgType) {
      case '0':
      case '3':
      case 'A': // a queued Logon: answered when it came
      case '2': // a queued ResendRequest: answered when it came
        return this.consume(seq);
      case '1':
        this.emit(this.header('0').add(112, msg.get(112) ?? ''), false);
        return this.consume(seq);
      case '4':
        return this.sequenceReset(msg);
      default:
        return this.application(msg, seq);
    }
  }

  private application(msg: FixMessage, seq: number): void {
    if (!this.inbound.has(msg.msgType)) return this.businessReject(msg, seq, 3, 'Unsupported Message Type');
    // [ML] once our Logout is out, orders are no longer taken
    if (this.stateNow !== 'active') return this.consume(seq);
    try {
      this.opts.onApplication(msg, this);
    } catch (e) {
      this.event({ type: 'error', error: e });
      return this.businessReject(msg, seq, 4, 'Application not available');
    }
    this.consume(seq);
  }

  private sequenceReset(msg: FixMessage): void {
    const store = this.requireStore();
    const newSeq = Number(msg.get(36));
    const expected = store.nextTargetSeq;
    if (newSeq > expected) {
      store.setNextTargetSeq(newSeq);
      for (const k of this.queued.keys()) if (k < newSeq) this.unqueue(k);
      if (this.resendFrom !== 0 && newSeq > this.resendTo) this.resendFrom = 0;
    } else if (newSeq < expected) {
      // [V2] NewSeqNo lower than expected: Reject 373=5, sequence untouched ([QF] script 11c)
      this.reject(msg, seqOf(msg) ?? 0, rejection(RejectReason.ValueIncorrect, 36));
    }
  }

  private logoutReceived(seq: number): void {
    this.consume(seq);
    if (this.stateNow === 'loggingOut') return this.closeAfter('logout confirmed by the client');
    this.emit(this.header('5'), false);
    this.closeAfter('logout requested by the client');
  }

  /**
   * [QF] verify(): SendingTime within the tolerance, then the CompIDs (both a
   * Reject and a Logout), then the sequence: too high queues the message and
   * asks for the gap, too low is a Logout unless PossDupFlag says it is a
   * duplicate, which is checked and ignored.
   */
  private verify(msg: FixMessage, seq: number, checkHigh: boolean, checkLow: boolean): boolean {
    if (!this.sendingTimeOk(msg)) {
      this.reject(msg, seq, rejection(RejectReason.SendingTimeAccuracy, 52));
      this.startLogout();
      return false;
    }
    if (msg.get(49) !== this.accountName || msg.get(56) !== GATEWAY_COMP_ID) {
      this.reject(msg, seq, rejection(RejectReason.CompIdProblem, msg.get(49) !== this.accountName ? 49 : 56));
      this.startLogout();
      return false;
    }
    this.lastRecvAt = this.clock.now();
    if (this.testRequests !== 0) {
      // the heartbeat, held back while a TestRequest was out, is due again: maybe before the armed timer
      this.testRequests = 0;
      this.armTimer();
    }
    const expected = this.requireStore().nextTargetSeq;
    if (checkHigh && seq > expected) {
      this.tooHigh(msg, seq);
      return false;
    }
    if (checkLow && seq < expected) {
      this.tooLow(msg, seq, expected);
      return false;
    }
    if ((checkHigh || checkLow) && this.resendFrom !== 0 && seq >= this.resendTo) this.resendFrom = 0;
    return true;
  }

  private tooHigh(msg: FixMessage, seq: number): void {
    const expected = this.requireStore().nextTargetSeq;
    this.event({ type: 'gap', expected, received: seq });
    // the same number again replaces what waits under it
    this.unqueue(seq);
    const size = messageSize(msg);
    if (this.queued.size < this.maxQueued && this.queuedBytes + size <= this.maxQueuedBytes) {
      this.queued.set(seq, msg);
      this.queuedBytes += size;
    }
    // [QF] one ResendRequest covers the gap to infinity: no new one while it is outstanding
    if (this.resendFrom !== 0 && seq >= this.resendFrom) return;
    this.resendFrom = expected;
    this.resendTo = seq - 1;
    // [V2] FIX 4.2 and later: EndSeqNo 0 means "up to the last"
    this.emit(this.header('2').add(7, expected).add(16, 0), false);
  }

  private tooLow(msg: FixMessage, seq: number, expected: number): void {
    if (msg.get(43) !== 'Y') {
      this.logoutAndClose(`MsgSeqNum too low, expecting ${expected} but received ${seq}`);
      return;
    }
    // [V2] a possible duplicate must say when it was first sent, and not later than now
    if (msg.msgType === '4') return;
    const orig = msg.get(122);
    if (orig === undefined) {
      this.reject(msg, seq, rejection(RejectReason.RequiredTagMissing, 122));
      return;
    }
    if (parseUtcTimestamp(orig) > parseUtcTimestamp(msg.get(52) ?? '')) {
      this.reject(msg, seq, rejection(RejectReason.SendingTimeAccuracy, 122));
      this.startLogout();
    }
    // otherwise: a duplicate already processed, ignored
  }

  private drainQueue(): void {
    const store = this.store;
    if (store === undefined) return;
    while (this.stateNow === 'active' || this.stateNow === 'loggingOut') {
      const seq = store.nextTargetSeq;
      const msg = this.unqueue(seq);
      if (msg === undefined) return;
      this.process(msg, seq);
      // a message that did not move the sequence (a SequenceReset lower than expected) cannot loop
      if (store.nextTargetSeq === seq) return;
    }
  }

  private unqueue(seq: number): FixMessage | undefined {
    const msg = this.queued.get(seq);
    if (msg === undefined) return undefined;
    this.queued.delete(seq);
    this.queuedBytes -= messageSize(msg);
    return msg;
  }

  private clearQueue(): void {
    this.queued.clear();
    this.queuedBytes = 0;
  }

  private consume(seq: number): void {
    const store = this.requireStore();
    if (seq === store.nextTargetSeq) store.setNextTargetSeq(seq + 1);
  }

  // --- answers -------------------------------------------------------------------

  /** [QF] generateReject: the inbound MsgSeqNum is consumed unless it was a Logon or a SequenceReset, or out of sequence. */
  private reject(ref: FixMessage, seq: number, r: Rejection): void {
    const msg = this.header('3');
    this.reverseRoute(ref, msg);
    msg.add(45, seq).add(58, r.text);
    if (r.refTagId !== undefined) msg.add(371, r.refTagId);
    const refType = ref.msgType;
    if (refType !== '') msg.add(372, refType);
    msg.add(373, r.reason);
    this.emit(msg, false);
    this.event({ type: 'reject', reason: r.reason, refTagId: r.refTagId, refMsgType: refType, text: r.text });
    if (refType !== 'A' && refType !== '4') this.consume(seq);
  }

  /** [V2] BusinessMessageReject (j) for a well-formed message the application will not take; it is an application message. */
  private businessReject(ref: FixMessage, seq: number, reason: number, text: string): void {
    const msg = this.header('j');
    this.reverseRoute(ref, msg);
    msg.add(45, seq).add(58, text).add(372, ref.msgType).add(380, reason);
    this.emit(msg, true);
    this.event({ type: 'businessReject', reason, refMsgType: ref.msgType, text });
    this.consume(seq);
  }

  private reverseRoute(from: FixMessage, to: FixMessage): void {
    for (const [a, b] of REVERSE_ROUTE) {
      const v = from.get(a);
      if (v !== undefined && v !== '') to.add(b, v);
    }
  }

  /**
   * [V2] Answers a ResendRequest: kept application messages again, with
   * PossDupFlag=Y and the first SendingTime as OrigSendingTime; every run of
   * session-level (or no longer kept) messages as one SequenceReset-GapFill
   * carrying the first MsgSeqNum of the run.
   */
  private answerResend(request: FixMessage): void {
    const store = this.requireStore();
    let begin = Number(request.get(7));
    let end = Number(request.get(16));
    const last = store.nextSenderSeq - 1;
    if (end === 0 || end > last) end = last;
    if (begin < 1) begin = 1;
    if (begin > end) return;
    this.event({ type: 'resend', begin, end });
    let gapFrom = begin;
    for (const [seq, frame] of store.sentMessages(begin, end)) {
      const r = decodeTagValue(frame);
      if (!r.ok && r.kind !== 'reject') continue; // unreadable: covered by the next gap fill
      if (seq > gapFrom) this.gapFill(gapFrom, seq);
      this.push(this.possDup(r.msg));
      gapFrom = seq + 1;
    }
    if (gapFrom <= end) this.gapFill(gapFrom, end + 1);
  }

  private possDup(original: FixMessage): FixMessage {
    const now = formatUtcTimestamp(this.clock.now());
    const msg = new FixMessage([
      [35, original.msgType],
      [34, original.get(34) ?? '0'],
      [49, GATEWAY_COMP_ID],
      [52, now],
      [56, this.accountName],
      [43, 'Y'],
      [122, original.get(52) ?? now],
    ]);
    for (const f of original.fields) if (!SESSION_OWNED.has(f[0])) msg.fields.push(f);
    return msg;
  }

  private gapFill(from: number, newSeq: number): void {
    const now = formatUtcTimestamp(this.clock.now());
    this.push(
      new FixMessage([
        [35, '4'],
        [34, String(from)],
        [49, GATEWAY_COMP_ID],
        [52, now],
        [56, this.accountName],
        [43, 'Y'],
        [122, now],
        [36, String(newSeq)],
        [123, 'Y'],
      ]),
    );
  }

  private startLogout(text?: string): void {
    if (this.stateNow !== 'active') return;
    const msg = this.header('5');
    if (text !== undefined) msg.add(58, text);
    this.emit(msg, false);
    this.stateNow = 'loggingOut';
    this.logoutSentAt = this.clock.now();
    this.armTimer();
  }

  private logoutAndClose(text: string): void {
    if (this.store !== undefined && (this.stateNow === 'active' || this.stateNow === 'loggingOut')) {
      this.emit(this.header('5').add(58, text), false);
    }
    this.closeAfter(text);
  }

  // --- output --------------------------------------------------------------------

  private header(msgType: string): FixMessage {
    return new FixMessage([
      [35, msgType],
      [34, String(this.requireStore().nextSenderSeq)],
      [49, GATEWAY_COMP_ID],
      [52, formatUtcTimestamp(this.clock.now())],
      [56, this.accountName],
    ]);
  }

  /** Takes the message's MsgSeqNum; an application message is kept for resend. */
  private emit(msg: FixMessage, resendable: boolean): void {
    const store = this.requireStore();
    const frame = resendable ? encodeTagValue(msg) : undefined;
    store.recordSent(store.nextSenderSeq, frame);
    this.push(msg, frame);
  }

  private push(msg: FixMessage, frame?: string): void {
    this.outbox.push(msg);
    this.outFrames.push(frame);
    this.lastSentAt = this.clock.now();
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flush);
    }
  }

  /**
   * Once per burst: the store's records first, then the messages they
   * describe ([V2] a message that may be resent is stored before it is sent).
   */
  private readonly flush = (): void => {
    this.flushScheduled = false;
    const batch = this.outbox;
    const frames = this.outFrames;
    this.outbox = this.spare;
    this.outFrames = this.spareFrames;
    this.spare = batch;
    this.spareFrames = frames;
    try {
      this.store?.flush();
      for (let i = 0; i < batch.length; i++) this.opts.send(batch[i], frames[i]);
    } catch (e) {
      this.event({ type: 'error', error: e });
      this.closeReason ??= 'the session could not write or send';
    }
    batch.length = 0;
    frames.length = 0;
    const reason = this.closeReason;
    if (reason !== undefined && !this.finished) {
      this.finish(reason);
      try {
        this.opts.close(reason);
      } catch (e) {
        this.event({ type: 'error', error: e });
      }
    }
  };

  private closeAfter(reason: string): void {
    this.closeReason ??= reason;
    this.stateNow = 'closed';
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flush);
    }
  }

  private finish(reason: string): void {
    if (this.finished) return;
    this.finished = true;
    this.stateNow = 'closed';
    this.clearTimer();
    this.clearQueue();
    this.pending.length = 0;
    const store = this.store;
    this.store = undefined;
    if (store !== undefined) {
      try {
        if (this.loggedOn && this.opts.resetOnDisconnect === true) store.reset();
        store.close();
      } catch (e) {
        this.event({ type: 'error', error: e });
      }
    }
    if (this.claimed) this.opts.registry.release(this.accountName, this);
    if (this.loggedOn) {
      this.event({ type: 'logout', reason });
      try {
        this.opts.onLogout?.(this, reason);
      } catch (e) {
        this.event({ type: 'error', error: e });
      }
    } else {
      this.event({ type: 'refused', reason });
    }
  }

  private fail(e: unknown): void {
    this.event({ type: 'error', error: e });
    this.closeAfter('internal error');
  }

  private event(e: SessionEvent): void {
    try {
      this.opts.onEvent?.(e, this);
    } catch {
      // a failing observer must not take the session down
    }
  }

  private requireStore(): SessionStore {
    if (this.store === undefined) throw new Error('FixSession: no store before the Logon is accepted');
    return this.store;
  }

  private sendingTimeOk(msg: FixMessage): boolean {
    const t = parseUtcTimestamp(msg.get(52) ?? '');
    return Math.abs(this.clock.now() - t) <= this.toleranceMs;
  }

  // --- timers --------------------------------------------------------------------
  //
  // One timer per session, armed for the earliest deadline and re-armed when
  // it fires: traffic moves deadlines later without touching the timer.

  private deadline(): number {
    if (this.stateNow === 'connected' || this.stateNow === 'authenticating') {
      return this.createdAt + (this.opts.logonTimeoutMs ?? 10_000);
    }
    const hb = this.heartBtMs;
    // [QF] needTestRequest: 1.2 x HeartBtInt of silence per TestRequest sent; timedOut: 2.4 x
    let at = Math.min(this.lastRecvAt + (hb * 12) / 5, this.lastRecvAt + (hb * 6 * (this.testRequests + 1)) / 5);
    if (this.testRequests === 0) at = Math.min(at, this.lastSentAt + hb);
    if (this.stateNow === 'loggingOut') at = Math.min(at, this.logoutSentAt + this.logoutTimeoutMs);
    return at;
  }

  private armTimer(): void {
    if (this.stateNow === 'closed') return;
    const at = this.deadline();
    if (this.timer !== undefined && this.timerAt <= at) return;
    this.clearTimer();
    this.timerAt = at;
    this.timer = this.clock.setTimeout(this.onTimer, Math.max(0, at - this.clock.now()));
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    if (this.stateNow === 'closed') return;
    try {
      const now = this.clock.now();
      if (this.stateNow === 'connected' || this.stateNow === 'authenticating') {
        if (now >= this.deadline()) return this.closeAfter('no Logon in time');
      } else {
        const hb = this.heartBtMs;
        const silent = now - this.lastRecvAt;
        if (this.stateNow === 'loggingOut' && now >= this.logoutSentAt + this.logoutTimeoutMs) {
          return this.closeAfter('no Logout answer in time');
        }
        // [QF] timed out: disconnect, no Logout (script 6)
        if (silent >= (hb * 12) / 5) return this.closeAfter('no message from the client within 2.4 x HeartBtInt');
        if (silent >= (hb * 6 * (this.testRequests + 1)) / 5) {
          this.emit(this.header('1').add(112, 'TEST'), false);
          this.testRequests++;
        } else if (this.testRequests === 0 && now - this.lastSentAt >= hb) {
          this.emit(this.header('0'), false);
        }
      }
      this.armTimer();
    } catch (e) {
      this.fail(e);
    }
  };
}
