// The screen's FIX 4.4 session over the gateway's `fix.json` WebSocket
// subprotocol, with the gateway's own codec (gateway/fix/json.ts): what the
// page sends is what the gateway accepts, and what it receives is validated
// against the same dictionary. Only what a trading screen needs: Logon with
// the user's own account (ResetSeqNumFlag=Y: a page keeps no sequence numbers
// between loads), heartbeats, TestRequest answers, a ResendRequest answered
// with one gap fill (a screen never replays an order it sent earlier: that is
// the trader's decision), Logout both ways.

import { decodeJson, encodeJson } from '../fix/json.js';
import { MAX_FRAME_FROM_GATEWAY } from '../fix/tagvalue.js';
import { FixMessage, GATEWAY_COMP_ID, Tag, type FixField } from '../fix/message.js';
import { formatUtcTimestamp } from '../fix/validate.js';

export type SessionState = 'disconnected' | 'connecting' | 'logging on' | 'logged on' | 'logging out';

export interface SessionEvents {
  state(state: SessionState, why: string): void;
  /** An application message, or a session Reject (3), in order. */
  message(msg: FixMessage): void;
  /** A frame the page could not use (it is dropped; the session goes on). */
  fault(why: string): void;
}

const HEARTBEAT_SECONDS = 30;

export class FixJsonSession {
  state: SessionState = 'disconnected';
  /** MsgSeqNum of our next message, and the one we expect next. */
  outSeq = 1;
  inSeq = 1;
  private ws: WebSocket | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastSent = 0;
  private lastReceived = 0;
  private logoutText = '';
  private account = '';

  constructor(private readonly events: SessionEvents, private readonly now: () => number = Date.now) {}

  logon(url: string, account: string, password: string): void {
    this.close('');
    this.outSeq = 1;
    this.inSeq = 1;
    this.logoutText = '';
    this.account = account;
    this.setState('connecting', url);
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, 'fix.json');
    } catch (e) {
      this.setState('disconnected', `not a WebSocket address: ${url} (${(e as Error).message})`);
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (ws.protocol !== 'fix.json') {
        this.close(`the server did not agree to the fix.json subprotocol (got "${ws.protocol}")`);
        return;
      }
      this.setState('logging on', '');
      this.send('A', [[Tag.EncryptMethod, '0'], [Tag.HeartBtInt, String(HEARTBEAT_SECONDS)], [Tag.ResetSeqNumFlag, 'Y'],
        [Tag.Username, account], [Tag.Password, password]]);
    };
    ws.onmessage = (ev: MessageEvent) => this.received(String(ev.data));
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.stopTimer();
      const was = this.state;
      const why = ev.reason !== '' ? ev.reason
        : this.logoutText !== '' ? this.logoutText
          : was === 'logging on' ? 'the exchange closed the connection during log-on'
            : was === 'connecting' ? `cannot reach ${url}` : `connection closed (code ${ev.code})`;
      this.setState('disconnected', was === 'logging out' && this.logoutText === '' ? 'logged out' : why);
    };
  }

  /** Sends an application message (35 first, then the body's fields); false when not logged on. */
  sendApplication(msgType: string, body: FixField[]): boolean {
    if (this.state !== 'logged on') return false;
    this.send(msgType, body);
    return true;
  }

  logout(): void {
    if (this.state !== 'logged on') return;
    this.send('5', []);
    this.setState('logging out', '');
  }

  /** Drops the connection without a Logout (the page is going away, or a fault). */
  close(why: string): void {
    const ws = this.ws;
    this.ws = null;
    this.stopTimer();
    if (ws !== null) ws.close(1000, why.slice(0, 120));
    if (this.state !== 'disconnected') this.setState('disconnected', why);
  }

  private send(msgType: string, body: FixField[]): void {
    if (this.sendAt(this.outSeq, msgType, body, [])) this.outSeq++;
  }

  private sendAt(seq: number, msgType: string, body: FixField[], extra: FixField[]): boolean {
    const ws = this.ws;
    if (ws === null || ws.readyState !== WebSocket.OPEN) return false;
    const msg = new FixMessage([[Tag.MsgType, msgType], [Tag.SenderCompID, this.account], [Tag.TargetCompID, GATEWAY_COMP_ID],
      [Tag.MsgSeqNum, String(seq)], [Tag.SendingTime, formatUtcTimestamp(this.now())], ...extra, ...body]);
    ws.send(encodeJson(msg));
    this.lastSent = this.now();
    return true;
  }

  private received(text: string): void {
    // the gateway's own bound on what it sends, not the 64 KiB it takes: a full-book W is as long as the book is deep
    const r = decodeJson(text, MAX_FRAME_FROM_GATEWAY);
    if (!r.ok) {
      this.events.fault(r.kind === 'reject' ? `the exchange sent an invalid ${r.msg.msgType}: ${r.rejection.text}` : `the exchange sent a frame that is not FIX JSON (${r.kind})`);
      return;
    }
    const msg = r.msg;
    this.lastReceived = this.now();
    const type = msg.msgType;
    const seq = Number(msg.get(Tag.MsgSeqNum));
    if (type === '4') { // SequenceReset, either mode, moves what we expect
      const next = Number(msg.get(Tag.NewSeqNo));
      if (Number.isSafeInteger(next) && next >= this.inSeq) this.inSeq = next;
      return;
    }
    if (Number.isSafeInteger(seq)) {
      if (seq > this.inSeq && type !== '5') this.send('2', [[Tag.BeginSeqNo, String(this.inSeq)], [Tag.EndSeqNo, '0']]);
      if (seq >= this.inSeq) this.inSeq = seq + 1;
    }
    switch (type) {
      case 'A':
        this.setState('logged on', '');
        this.startTimer();
        return;
      case '0':
        return;
      case '1':
        this.send('0', [[Tag.TestReqID, msg.get(Tag.TestReqID) ?? '']]);
        return;
      case '2': { // we keep nothing to resend: one gap fill, at the first number asked for, over the whole range
        const begin = Number(msg.get(Tag.BeginSeqNo));
        if (Number.isSafeInteger(begin) && begin >= 1 && begin < this.outSeq) {
          this.sendAt(begin, '4', [[Tag.GapFillFlag, 'Y'], [Tag.NewSeqNo, String(this.outSeq)]],
            [[Tag.PossDupFlag, 'Y'], [Tag.OrigSendingTime, formatUtcTimestamp(this.now())]]);
        }
        return;
      }
      case '5': {
        const t = msg.get(Tag.Text) ?? '';
        this.logoutText = t !== '' ? `logged out: ${t}` : 'logged out';
        if (this.state !== 'logging out') this.send('5', []);
        this.setState('logging out', '');
        this.ws?.close(1000);
        return;
      }
      default:
        this.events.message(msg);
    }
  }

  private setState(state: SessionState, why: string): void {
    this.state = state;
    this.events.state(state, why);
  }

  private startTimer(): void {
    this.stopTimer();
    this.timer = setInterval(() => {
      const t = this.now();
      if (t - this.lastSent >= HEARTBEAT_SECONDS * 1000) this.send('0', []);
      if (t - this.lastReceived >= HEARTBEAT_SECONDS * 2400) this.close('the exchange stopped answering (no heartbeat)');
    }, 1000);
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
