// The replication wire: plain TCP (the log knows nothing of WebSocket or
// FIX), length-prefixed frames: u32 length of what follows, u8 type, payload.
// Control messages are JSON; blocks and acks are binary, since they are the
// stream. A block travels exactly as it is framed in the primary's segment
// (count, size, records with their Commit CRC): the replica checks it with the
// same CRC and writes the same bytes, only its own sync marker differs.
//
// Authentication is a challenge-response on the shared secret in both
// directions (HMAC-SHA256 over a fresh nonce), compared in constant time: the
// secret never crosses the wire, a replica will not follow an impostor and a
// primary will not serve a stranger.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const enum Msg {
  /** primary → any: {nonce} — the first frame on every connection. */
  Challenge = 1,
  /** replica → primary: Hello. */
  Hello = 2,
  /** primary → replica: Welcome. */
  Welcome = 3,
  /** primary → replica: a snapshot file's bytes. */
  Snapshot = 4,
  /** primary → replica: f64 epoch, f64 first seq, f64 last seq, f64 primary durable seq, block bytes. */
  Block = 5,
  /** replica → primary: f64 seq durable on the replica. */
  Ack = 6,
  /** both ways when idle: f64 durable seq, f64 epoch. */
  Heartbeat = 7,
  /** either way, before closing: {message, fatal}. */
  Error = 8,
  /** a promoted node → its former primary: Fence. */
  Fence = 9,
}

export const PROTOCOL_VERSION = 1;

/** Where a node listens (replication endpoints, a primary a replica follows). */
export interface HostPort { host: string; port: number }

/** HOST:PORT, [v6]:PORT; null when it is not one. */
export function parseHostPort(v: string): HostPort | null {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(v);
  if (m === null) return null;
  const port = Number(m[3]);
  return port <= 65535 ? { host: m[1] ?? m[2], port } : null;
}
/** A frame larger than this is damage (blocks are at most 64 MiB; snapshots are the large ones). */
export const MAX_FRAME = 1 << 30;
const BLOCK_HEADER = 32;

export interface Hello {
  v: number;
  node: string;
  /** null: an empty replica. */
  logId: string | null;
  /** Seq of the last command in the replica's log files. */
  logSeq: number;
  /** CRC of the replica's last block: the primary's block ending at logSeq must have it (else the logs diverged). */
  tailCrc: number | null;
  /** Seq of the replica's engine state. */
  stateSeq: number;
  epoch: number;
  /** Whether the replica can still take a snapshot into its engine (it is not serving yet). */
  wantSnapshot: boolean;
  nonce: string;
  proof: string;
}

export interface Welcome {
  v: number;
  node: string;
  logId: string;
  epoch: number;
  durableSeq: number;
  /** The primary's gateway (HOST:PORT): where a replica sends traders. */
  gateway: string | null;
  /** A snapshot frame follows. */
  snapshot: boolean;
  proof: string;
}

export interface Fence {
  v: number;
  node: string;
  epoch: number;
  /** The new primary's gateway. */
  gateway: string | null;
  proof: string;
}

export interface WireError {
  message: string;
  /** Retrying cannot help (wrong secret, another log, divergence). */
  fatal: boolean;
}

export function frame(type: Msg, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + payload.length);
  out.writeUInt32BE(payload.length + 1, 0);
  out.writeUInt8(type, 4);
  payload.copy(out, 5);
  return out;
}

export function jsonFrame(type: Msg, value: object): Buffer {
  return frame(type, Buffer.from(JSON.stringify(value), 'utf8'));
}

export function blockFrame(epoch: number, firstSeq: number, lastSeq: number, durableSeq: number, bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + BLOCK_HEADER + bytes.length);
  out.writeUInt32BE(1 + BLOCK_HEADER + bytes.length, 0);
  out.writeUInt8(Msg.Block, 4);
  out.writeDoubleBE(epoch, 5);
  out.writeDoubleBE(firstSeq, 13);
  out.writeDoubleBE(lastSeq, 21);
  out.writeDoubleBE(durableSeq, 29);
  bytes.copy(out, 5 + BLOCK_HEADER);
  return out;
}

export interface BlockMessage { epoch: number; firstSeq: number; lastSeq: number; durableSeq: number; bytes: Buffer }

export function readBlockMessage(payload: Buffer): BlockMessage | string {
  if (payload.length < BLOCK_HEADER + 2) return `a block message of ${payload.length} bytes is too short`;
  return {
    epoch: payload.readDoubleBE(0), firstSeq: payload.readDoubleBE(8), lastSeq: payload.readDoubleBE(16),
    durableSeq: payload.readDoubleBE(24), bytes: payload.subarray(BLOCK_HEADER),
  };
}

export function numbersFrame(type: Msg, ...values: number[]): Buffer {
  const payload = Buffer.allocUnsafe(8 * values.length);
  values.forEach((v, i) => payload.writeDoubleBE(v, 8 * i));
  return frame(type, payload);
}

export function readNumbers(payload: Buffer, n: number): number[] | null {
  if (payload.length !== 8 * n) return null;
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(payload.readDoubleBE(8 * i));
  return out;
}

export function parseJson<T>(payload: Buffer): T | null {
  try {
    const v: unknown = JSON.parse(payload.toString('utf8'));
    return v !== null && typeof v === 'object' ? v as T : null;
  } catch {
    return null;
  }
}

/** Splits a TCP stream into frames. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  /** Chunks not yet joined: a large frame (a snapshot) is joined once, when it is whole. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** `maxFrame`: a longer frame is refused before it is buffered (a primary takes only small ones from its peers). */
  constructor(private readonly maxFrame = MAX_FRAME) {}

  push(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
  }

  private have(n: number): boolean {
    if (this.buf.length >= n) return true;
    if (this.buf.length + this.pendingBytes < n) return false;
    this.buf = Buffer.concat([this.buf, ...this.pending]);
    this.pending = [];
    this.pendingBytes = 0;
    return true;
  }

  /** The next whole frame, null if none yet; a string when the stream is not this protocol. */
  next(): { type: Msg; payload: Buffer } | null | string {
    if (!this.have(5)) return null;
    const len = this.buf.readUInt32BE(0);
    if (len < 1 || len > this.maxFrame) return `a frame of ${len} bytes: not the matchlog replication protocol`;
    if (!this.have(4 + len)) return null;
    const type = this.buf.readUInt8(4) as Msg;
    const payload = this.buf.subarray(5, 4 + len);
    this.buf = this.buf.subarray(4 + len);
    return { type, payload };
  }
}

export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

/** HMAC of `label` and `nonce` under the secret; '' without a secret (both sides must then have none). */
export function proof(secret: Buffer | null, label: string, nonce: string): string {
  if (secret === null) return '';
  return createHmac('sha256', secret).update(`${label}\n${nonce}`).digest('hex');
}

/** Constant-time comparison (of fixed-length digests, so that lengths leak nothing either). */
export function proofMatches(expected: string, got: unknown): boolean {
  if (typeof got !== 'string') return false;
  const a = createHmac('sha256', 'cmp').update(expected).digest();
  const b = createHmac('sha256', 'cmp').update(got).digest();
  return timingSafeEqual(a, b) && expected.length === got.length;
}

/** The shared secret from a file (surrounding whitespace trimmed); a clear error naming the file. */
export function readSecretFile(path: string): Buffer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (e) {
    throw new Error(`replication secret file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (text.length < 8) throw new Error(`replication secret file ${path}: the secret must have at least 8 characters`);
  return Buffer.from(text, 'utf8');
}
