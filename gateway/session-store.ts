// What a FIX session must remember across connections and restarts (FIX 4.4
// Vol 2, "Sequence numbers" and "Message Recovery"): the next MsgSeqNum to
// send, the next one expected, and the application messages sent, so that a
// ResendRequest can be answered. Session-level messages are not kept: FIX
// says they are never resent but gap-filled (SequenceReset-GapFill).
//
// Bounded: only the last `keep` application messages are kept; a request for
// older ones is gap-filled, as for admin messages. A client that lost reports
// that old asks the exchange for order status instead.

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface SessionStore {
  /** The MsgSeqNum of the next message sent. */
  readonly nextSenderSeq: number;
  /** The MsgSeqNum expected next from the peer. */
  readonly nextTargetSeq: number;
  /**
   * Records that message `seq` went out (nextSenderSeq becomes seq + 1);
   * `frame` is the tag=value text of an application message, kept for resend,
   * and undefined for a session-level message.
   */
  recordSent(seq: number, frame: string | undefined): void;
  setNextTargetSeq(seq: number): void;
  /** The kept application messages with begin <= seq <= end, ascending. */
  sentMessages(begin: number, end: number): [seq: number, frame: string][];
  /** Both sequence numbers back to 1 and the kept messages dropped (ResetSeqNumFlag, 141=Y). */
  reset(): void;
  /** Makes every record so far reach the file (before the messages it covers are sent). */
  flush(): void;
  close(): void;
}

export interface StoreOptions {
  /** Application messages kept for resend. */
  keep?: number;
}

export const DEFAULT_KEEP = 10_000;

/** The kept messages, oldest first, trimmed in halves so trimming is amortised O(1). */
class SentRing {
  seqs: number[] = [];
  frames: string[] = [];

  constructor(private readonly keep: number) {}

  add(seq: number, frame: string): void {
    // a reset or a rewind makes older numbers ambiguous: what follows replaces them
    while (this.seqs.length > 0 && this.seqs[this.seqs.length - 1] >= seq) {
      this.seqs.pop();
      this.frames.pop();
    }
    this.seqs.push(seq);
    this.frames.push(frame);
    if (this.seqs.length >= 2 * this.keep) {
      this.seqs = this.seqs.slice(-this.keep);
      this.frames = this.frames.slice(-this.keep);
    }
  }

  range(begin: number, end: number): [number, string][] {
    const out: [number, string][] = [];
    let lo = 0;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.seqs[mid] < begin) lo = mid + 1;
      else hi = mid;
    }
    // the ring holds up to 2*keep; answer with the newest `keep` at most
    const oldest = Math.max(lo, this.seqs.length - this.keep);
    for (let i = oldest; i < this.seqs.length && this.seqs[i] <= end; i++) out.push([this.seqs[i], this.frames[i]]);
    return out;
  }

  clear(): void {
    this.seqs = [];
    this.frames = [];
  }

  /** The newest `keep` entries. */
  *kept(): Generator<[number, string]> {
    for (let i = Math.max(0, this.seqs.length - this.keep); i < this.seqs.length; i++) yield [this.seqs[i], this.frames[i]];
  }
}

/** For tests and for sessions that need not survive a restart; FileSessionStore adds the file. */
export class MemorySessionStore implements SessionStore {
  nextSenderSeq = 1;
  nextTargetSeq = 1;
  protected readonly keep: number;
  protected readonly sent: SentRing;

  constructor(options: StoreOptions = {}) {
    this.keep = Math.max(1, options.keep ?? DEFAULT_KEEP);
    this.sent = new SentRing(this.keep);
  }

  recordSent(seq: number, frame: string | undefined): void {
    this.nextSenderSeq = seq + 1;
    if (frame !== undefined) this.sent.add(seq, frame);
  }

  setNextTargetSeq(seq: number): void {
    this.nextTargetSeq = seq;
  }

  sentMessages(begin: number, end: number): [number, string][] {
    return this.sent.range(begin, end);
  }

  reset(): void {
    this.nextSenderSeq = 1;
    this.nextTargetSeq = 1;
    this.sent.clear();
  }

  flush(): void {}

  close(): void {}
}

const MAGIC = 'matchlog.fixsession 1';

/**
 * One append-only text file per account, `<dir>/<account>.fixsession`, one
 * record per line:
 *   `T <n>`        the next MsgSeqNum expected from the peer is n
 *   `S <n>`        session-level message n was sent
 *   `M <n> <json>` application message n was sent; <json> is its frame as a JSON string
 *   `R`            sequence numbers reset to 1
 * Records are buffered and written by flush(), which the session calls before
 * it hands the messages they describe to the transport. A last line without
 * its newline is a write torn by a crash and is dropped; damage elsewhere is
 * an error naming the file and line. When the file holds about twice the
 * kept messages it is rewritten (temporary file, then rename) with only the
 * state and the kept messages. `fsync: true` also survives a power cut, at the
 * price of an fsync per flush; without it a crash of the process loses
 * nothing (the kernel holds the writes), a crash of the machine may.
 */
export class FileSessionStore extends MemorySessionStore {
  readonly path: string;
  private readonly fsync: boolean;
  private fd = -1;
  private pending = '';
  private records = 0;

  constructor(dir: string, account: string, options: StoreOptions & { fsync?: boolean } = {}) {
    super(options);
    this.fsync = options.fsync ?? false;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // account names are printable ASCII and may hold '/' or '.': encode them into one file name
    this.path = join(dir, `${encodeURIComponent(account).replaceAll('.', '%2E')}.fixsession`);
    if (existsSync(this.path)) this.load(readFileSync(this.path, 'utf8'));
    this.rewrite();
  }

  private load(text: string): void {
    const lines = text.split('\n');
    // no newline at the end: the last write was torn
    if (lines[lines.length - 1] !== '') lines[lines.length - 1] = '';
    if (lines.length > 1 && lines[0] !== MAGIC) throw new Error(`${this.path}: not a matchlog FIX session file`);
    for (let i = 1; i < lines.length - 1; i++) {
      if (!this.apply(lines[i])) {
        throw new Error(
          `${this.path}, line ${i + 1}: damaged session record; remove the file to start the account's FIX session afresh (its client must then log on with ResetSeqNumFlag=Y)`,
        );
      }
    }
  }

  private apply(line: string): boolean {
    const kind = line.charAt(0);
    if (kind === 'R' && line.length === 1) {
      super.reset();
      return true;
    }
    if (line.charAt(1) !== ' ') return false;
    const space = line.indexOf(' ', 2);
    const n = Number(line.slice(2, space < 0 ? undefined : space));
    if (!Number.isSafeInteger(n) || n < 1) return false;
    if (kind === 'T' && space < 0) {
      super.setNextTargetSeq(n);
      return true;
    }
    if (kind === 'S' && space < 0) {
      super.recordSent(n, undefined);
      return true;
    }
    if (kind === 'M' && space > 0) {
      let frame: unknown;
      try {
        frame = JSON.parse(line.slice(space + 1));
      } catch {
        return false;
      }
      if (typeof frame !== 'string') return false;
      super.recordSent(n, frame);
      return true;
    }
    return false;
  }

  /** Writes the whole state to a new file and makes it the store (start, compaction). */
  private rewrite(): void {
    let text = `${MAGIC}\nT ${this.nextTargetSeq}\n`;
    let lastKept = 0;
    for (const [seq, frame] of this.sent.kept()) {
      text += `M ${seq} ${JSON.stringify(frame)}\n`;
      lastKept = seq;
    }
    if (this.nextSenderSeq - 1 > lastKept) text += `S ${this.nextSenderSeq - 1}\n`;
    const temp = `${this.path}.tmp`;
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.path);
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = openSync(this.path, 'a', 0o600);
    this.records = 0;
  }

  override recordSent(seq: number, frame: string | undefined): void {
    super.recordSent(seq, frame);
    this.pending += frame === undefined ? `S ${seq}\n` : `M ${seq} ${JSON.stringify(frame)}\n`;
    this.records++;
  }

  override setNextTargetSeq(seq: number): void {
    super.setNextTargetSeq(seq);
    this.pending += `T ${seq}\n`;
    this.records++;
  }

  override reset(): void {
    super.reset();
    this.pending += 'R\n';
    this.records++;
  }

  override flush(): void {
    if (this.pending.length === 0) return;
    if (this.fd < 0) throw new Error(`${this.path}: store is closed`);
    writeSync(this.fd, this.pending);
    this.pending = '';
    if (this.fsync) fsyncSync(this.fd);
    if (this.records > 2 * this.keep + 1000) this.rewrite();
  }

  override close(): void {
    if (this.fd < 0) return;
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
      this.fd = -1;
    }
  }
}
