// The replica's side of replication: connects to the primary's endpoint, says
// where its log ends, and then takes what comes: maybe a snapshot (only before
// it serves), then blocks, each checked, applied and written by
// Exchange.appendBlock and acknowledged once durable. A dropped connection is
// retried; a refusal that retrying cannot mend (wrong secret, another log, a
// corrupted block, a divergence, an older epoch) stops the replica with the
// reason, and what it has written stays as it is.

import { connect, type Socket } from 'node:net';
import { DivergenceError, ReplicationError } from '../errors.js';
import type { Exchange } from '../exchange.js';
import {
  FrameReader, Msg, PROTOCOL_VERSION, jsonFrame, newNonce, numbersFrame, parseJson, proof, proofMatches, readBlockMessage, readNumbers,
  type Fence, type Hello, type HostPort, type Welcome, type WireError,
} from './protocol.js';

export interface FollowerOptions {
  primary: HostPort;
  exchange: Exchange;
  secret: Buffer | null;
  node: string;
  log: (line: string) => void;
  /** Reconnect delay after a dropped connection. */
  retryMs?: number;
}

export interface FollowerStatus {
  connected: boolean;
  /** The primary's durable seq, as last heard. */
  primarySeq: number;
  primaryEpoch: number;
  primaryNode: string | null;
  /** The primary's gateway (HOST:PORT). */
  primaryGateway: string | null;
  lagRecords: number;
  lagMs: number;
}

export class Follower {
  private socket: Socket | null = null;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private primarySeq = 0;
  private primaryEpoch = 0;
  private primaryNode: string | null = null;
  private primaryGateway: string | null = null;
  private behindSince = 0;
  private lastHeard = 0;
  private readyWaiters: (() => void)[] = [];
  private welcomed = false;
  private unreachable = false;
  /** Set once following stopped for a reason retrying cannot mend. */
  failure: Error | null = null;
  /** Called once with that reason. */
  onFatal: ((err: Error) => void) | null = null;
  /** Called whenever the primary's durable seq or this replica's changes (coordinator progress). */
  onProgress: ((durableSeq: number) => void) | null = null;

  constructor(private readonly o: FollowerOptions) {}

  start(): void {
    this.stopped = false;
    this.connect();
    this.heartbeat = setInterval(() => this.tick(), 200);
    this.heartbeat.unref();
  }

  /**
   * Resolves once the first handshake is done (and a snapshot, if one came,
   * is adopted), or after `timeoutMs` — a primary that is down must not keep
   * the replica's gateway from serving what it has.
   */
  ready(timeoutMs: number): Promise<void> {
    if (this.welcomed || this.failure !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.readyWaiters.push(() => { clearTimeout(t); resolve(); });
    });
  }

  status(): FollowerStatus {
    const ex = this.o.exchange;
    const lag = Math.max(0, this.primarySeq - ex.durableSeq);
    return {
      connected: this.socket !== null && this.welcomed, primarySeq: this.primarySeq, primaryEpoch: this.primaryEpoch, primaryNode: this.primaryNode,
      primaryGateway: this.primaryGateway, lagRecords: lag, lagMs: lag > 0 && this.behindSince > 0 ? Date.now() - this.behindSince : 0,
    };
  }

  /** Stops following (promotion, shutdown); resolves once the connection is closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.o.exchange.onReplicaDurable = null;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    const s = this.socket;
    this.socket = null;
    if (s !== null && !s.destroyed) await new Promise<void>((resolve) => { s.once('close', () => resolve()); s.destroy(); });
  }

  private connect(): void {
    if (this.stopped) return;
    const { host, port } = this.o.primary;
    const s = connect({ host, port });
    s.setNoDelay(true);
    this.socket = s;
    this.welcomed = false;
    const reader = new FrameReader();
    let nonce = '';
    let chain: Promise<void> = Promise.resolve();
    s.on('data', (chunk: Buffer) => {
      this.lastHeard = Date.now();
      reader.push(chunk);
      for (;;) {
        if (this.socket !== s) return;
        const f = reader.next();
        if (f === null) return;
        if (typeof f === 'string') return this.fatal(new ReplicationError(`the primary at ${host}:${port}: ${f}`));
        switch (f.type) {
          case Msg.Challenge: {
            const c = parseJson<{ nonce: string }>(f.payload);
            if (c === null || typeof c.nonce !== 'string') return this.fatal(new ReplicationError(`the primary at ${host}:${port} sent a malformed challenge`));
            nonce = newNonce();
            const pos = this.o.exchange.position();
            const hello: Hello = {
              v: PROTOCOL_VERSION, node: this.o.node, logId: pos.logId, logSeq: pos.logSeq, tailCrc: pos.tailCrc, stateSeq: pos.stateSeq, epoch: pos.epoch,
              wantSnapshot: !this.o.exchange.serving, nonce, proof: proof(this.o.secret, 'replica', c.nonce),
            };
            s.write(jsonFrame(Msg.Hello, hello));
            break;
          }
          case Msg.Welcome: {
            const w = parseJson<Welcome>(f.payload);
            if (w === null) return this.fatal(new ReplicationError('a malformed Welcome'));
            if (!proofMatches(proof(this.o.secret, 'primary', nonce), w.proof)) return this.fatal(new ReplicationError(`the primary at ${host}:${port} does not know the replication secret: not following it`));
            try {
              this.o.exchange.adoptLogId(w.logId);
            } catch (e) {
              return this.fatal(e as Error);
            }
            this.primaryNode = w.node;
            this.primaryEpoch = w.epoch;
            this.primaryGateway = w.gateway;
            this.seen(w.durableSeq);
            this.o.exchange.setRole('replica', w.gateway);
            this.o.log(`replica: following ${w.node} at ${host}:${port} (epoch ${w.epoch}, its log at seq ${w.durableSeq}, this one at ${this.o.exchange.durableSeq})`);
            this.welcomed = true;
            this.unreachable = false;
            // acknowledged the moment it is on disk, before this node's own subscribers are served
            this.o.exchange.onReplicaDurable = (seq) => { if (this.socket === s) s.write(numbersFrame(Msg.Ack, seq)); };
            // a snapshot, if one comes, is the next frame: ready once it is taken
            if (!w.snapshot) this.fireReady();
            break;
          }
          case Msg.Snapshot:
            try {
              this.o.exchange.adoptSnapshot(f.payload);
            } catch (e) {
              return this.fatal(e as Error);
            }
            this.fireReady();
            break;
          case Msg.Block: {
            const b = readBlockMessage(f.payload);
            if (typeof b === 'string') return this.fatal(new ReplicationError(b));
            if (b.epoch > this.primaryEpoch) this.primaryEpoch = b.epoch;
            this.seen(b.durableSeq);
            const done = this.o.exchange.appendBlock(b.bytes, b.epoch);
            chain = chain.then(() => done.then(
              (seq) => {
                if (this.primarySeq <= seq) this.behindSince = 0;
                this.onProgress?.(seq);
              },
              (e: Error) => this.fatal(e),
            ));
            done.catch(() => undefined);
            break;
          }
          case Msg.Heartbeat: {
            const v = readNumbers(f.payload, 2);
            if (v !== null) {
              this.seen(v[0]);
              if (v[1] > this.primaryEpoch) this.primaryEpoch = v[1];
            }
            break;
          }
          case Msg.Error: {
            const e = parseJson<WireError>(f.payload);
            const msg = `the primary at ${host}:${port} refused: ${e?.message ?? '(no reason)'}`;
            if (e?.fatal !== false) return this.fatal(new ReplicationError(msg));
            this.o.log(`replica: ${msg}; retrying`);
            break;
          }
          default:
            return this.fatal(new ReplicationError(`the primary at ${host}:${port} sent message type ${f.type}`));
        }
      }
    });
    s.on('error', (e) => {
      // said once per outage, not on every retry
      if (this.socket === s && !this.welcomed && !this.unreachable) {
        this.unreachable = true;
        this.o.log(`replica: cannot reach the primary at ${host}:${port} (${e.message}); retrying every ${this.o.retryMs ?? 100} ms`);
      }
    });
    s.on('close', () => {
      if (this.socket !== s) return;
      this.socket = null;
      if (this.welcomed) this.o.log(`replica: lost the primary at ${host}:${port} at seq ${this.o.exchange.durableSeq}; reconnecting`);
      this.welcomed = false;
      if (!this.stopped) this.timer = setTimeout(() => this.connect(), this.o.retryMs ?? 100);
    });
  }

  private seen(primarySeq: number): void {
    if (primarySeq > this.primarySeq) this.primarySeq = primarySeq;
    if (this.primarySeq > this.o.exchange.durableSeq && this.behindSince === 0) this.behindSince = Date.now();
  }

  private fireReady(): void {
    const w = this.readyWaiters;
    this.readyWaiters = [];
    for (const fn of w) fn();
  }

  private tick(): void {
    const s = this.socket;
    if (s === null || !this.welcomed) return;
    s.write(numbersFrame(Msg.Heartbeat, this.o.exchange.durableSeq, this.o.exchange.epoch));
    // a primary that is paused (or a cable that is cut) sends nothing: give up on it and reconnect
    if (Date.now() - this.lastHeard > 3000) {
      this.o.log(`replica: the primary at ${this.o.primary.host}:${this.o.primary.port} silent for 3 s; reconnecting`);
      s.destroy();
    }
  }

  private fatal(err: Error): void {
    if (this.failure !== null) return;
    this.failure = err;
    const s = this.socket;
    if (s !== null && !s.destroyed) {
      const message = err instanceof DivergenceError || err instanceof ReplicationError ? err.message : `replica failed: ${err.message}`;
      s.end(jsonFrame(Msg.Error, { message, fatal: true } satisfies WireError));
    }
    void this.stop();
    this.fireReady();
    this.onFatal?.(err);
  }
}

/**
 * Tells a former primary that this node is primary now (epoch `epoch`): it
 * fences itself. Resolves true once it answered, false if it could not be
 * reached (it may be down; the caller repeats).
 */
export function sendFence(to: HostPort, secret: Buffer | null, fence: Omit<Fence, 'proof' | 'v'>, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(to);
    const reader = new FrameReader();
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(t);
      s.destroy();
      resolve(ok);
    };
    const t = setTimeout(() => finish(false), timeoutMs);
    s.on('error', () => finish(false));
    s.on('close', () => finish(false));
    s.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      const f = reader.next();
      if (f === null || typeof f === 'string') return;
      if (f.type === Msg.Challenge) {
        const c = parseJson<{ nonce: string }>(f.payload);
        if (c === null) return finish(false);
        s.write(jsonFrame(Msg.Fence, { ...fence, v: PROTOCOL_VERSION, proof: proof(secret, `fence ${fence.epoch}`, c.nonce) } satisfies Fence));
      } else {
        finish(f.type === Msg.Error);
      }
    });
  });
}
