// The single-node exchange: recovery, then the sequencer writing the log and
// driving the engine, periodic and shutdown snapshots. The gateway (later)
// and `matchlog apply --log` talk to it through submit().

import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { Instrument, type Engine, type InstrumentCommand } from '../engine/index.js';
import type { LadderFactory } from '../native/ladder.js';
import { makeConfig, type LogConfig } from './config.js';
import { acquireLock } from './lock.js';
import { recover } from './recovery.js';
import type { LogStateMachine } from './state-machine.js';
import { Sequencer, type Ack, type Committed, type SnapshotDue } from './sequencer.js';
import { pruneSnapshots, writeSnapshot, writeSnapshotSync } from './snapshot.js';
import { LogWriter, type RandomBytes } from './writer.js';

export interface ExchangeOptions {
  dataDir: string;
  config?: Partial<LogConfig>;
  /** Truncate a damaged log at the damage instead of refusing to start. */
  repair?: boolean;
  /** Operator log lines (recovery, snapshots); default: stderr. */
  log?: (line: string) => void;
  /** Create the configured instruments that the engine does not have yet (default true). */
  seedInstruments?: boolean;
  /** Writer name recorded in epoch records. */
  node?: string;
  clock?: () => number;
  /**
   * Source of the log id and the sync markers of segments and snapshots
   * (default crypto randomBytes). With a seeded one, `clock` and `node` the
   * files are reproducible (`matchlog gen`).
   */
  random?: RandomBytes;
  ladder?: LadderFactory;
  /** Called once if a log write fails; the process should exit and restart (recovery fixes the log). */
  onFatal?: (err: Error) => void;
}

/**
 * What this node is to order entry: the primary takes orders; a replica
 * follows one and serves market data; a fenced node was primary until it met
 * a higher epoch, and acknowledges nothing more.
 */
export type Role = 'primary' | 'replica' | 'fenced';

export interface RecoveryInfo {
  dataDir: string;
  /** Seq of the last command recovered. */
  seq: number;
  snapshot: string | null;
  snapshotSeq: number;
  tailRecords: number;
  truncatedBytes: number;
  epoch: number;
}

/** An instrument's spec without its trading status (which halt/resume change), for comparison. */
function sameSpec(i: Instrument): string {
  const { status: _status, ...rest } = i.spec();
  return JSON.stringify(rest);
}

export class Exchange {
  private snapshotting: Promise<void> | null = null;
  private lastSnapshotSeq: number;
  private closed: Promise<void> | null = null;
  private onFatal: ((err: Error) => void) | undefined;
  private currentRole: Role = 'primary';
  private currentLeader: string | null = null;
  private readonly roleListeners = new Set<(role: Role, leader: string | null) => void>();

  private constructor(readonly dataDir: string, readonly config: LogConfig, readonly recovery: RecoveryInfo,
    readonly engine: Engine, private readonly machine: LogStateMachine, private readonly sequencer: Sequencer, private readonly writer: LogWriter,
    private readonly unlock: () => void, private readonly log: (line: string) => void,
    private readonly random: RandomBytes | undefined) {
    this.lastSnapshotSeq = recovery.snapshotSeq;
    sequencer.onSnapshot = (s) => this.periodicSnapshot(s);
    sequencer.onFatal = (err) => {
      // whoever handles it reports it (one clear error), else it is reported here
      if (this.onFatal !== undefined) this.onFatal(err);
      else log(`FATAL: the sequencer failed, no further commands are taken: ${err.message}`);
    };
  }

  static async open(o: ExchangeOptions): Promise<Exchange> {
    const config = makeConfig(o.config);
    const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    for (const spec of config.instruments) {
      const bad = Instrument.create(spec);
      if (typeof bad === 'string') throw new Error(`instrument ${spec.symbol}: ${bad}`);
    }
    mkdirSync(o.dataDir, { recursive: true });
    const unlock = await acquireLock(o.dataDir);
    let ex: Exchange;
    try {
      const r = recover({ dir: o.dataDir, repair: o.repair, log, indexEvery: config.indexEvery, ladder: o.ladder });
      const writer = new LogWriter(o.dataDir, { segmentBytes: config.segmentBytes, indexEvery: config.indexEvery, logId: r.logId ?? undefined, random: o.random }, r.tail);
      const epoch = r.epoch + 1;
      const sequencer = new Sequencer(r.machine, writer, { lastSeq: r.lastSeq, lastTs: r.lastTs, epoch }, {
        queueCapacity: config.queueCapacity, maxBlockRecords: config.maxBlockRecords, maxBlockBytes: config.maxBlockBytes,
        checkpointEvery: config.checkpointEvery, snapshotEvery: config.snapshotEvery,
        node: o.node ?? `${hostname()}:${process.pid}`, clock: o.clock,
      });
      const info: RecoveryInfo = {
        dataDir: o.dataDir, seq: r.lastSeq, snapshot: r.snapshot?.path ?? null, snapshotSeq: r.snapshot?.seq ?? 0,
        tailRecords: r.tailRecords, truncatedBytes: r.truncatedBytes, epoch,
      };
      ex = new Exchange(o.dataDir, config, info, r.engine, r.machine, sequencer, writer, unlock, log, o.random);
      ex.onFatal = o.onFatal;
    } catch (e) {
      unlock();
      throw e;
    }
    if (o.seedInstruments !== false) {
      try {
        await ex.seed();
      } catch (e) {
        await ex.close({ snapshot: false });
        throw e;
      }
    }
    return ex;
  }

  /**
   * Creates the configured instruments through the log — on a fresh log only.
   * On an existing log the log is the truth: a configuration that differs
   * from it is reported, never applied (else every start would append them).
   */
  private async seed(): Promise<void> {
    if (this.recovery.seq > 0) {
      for (const spec of this.config.instruments) {
        const have = this.engine.instrument(spec.symbol);
        if (have === undefined) {
          this.log(`config: instrument ${spec.symbol} is not in the log and is not created (configured instruments are created on a fresh log only; an instrument command adds it)`);
          continue;
        }
        const want = sameSpec(Instrument.create(spec) as Instrument);
        const got = sameSpec(have);
        if (want !== got) this.log(`config: instrument ${spec.symbol} differs from the log's (config ${want}, log ${got}): the log's is kept`);
      }
      return;
    }
    const missing = this.config.instruments;
    const acks = await Promise.all(missing.map((i) => this.submit({ ...i, op: 'instrument' } satisfies InstrumentCommand, 'config')));
    for (const a of acks) {
      const bad = a.events.find((e) => e.type === 'rejected');
      if (bad !== undefined && bad.type === 'rejected') throw new Error(`instrument ${bad.symbol}: ${bad.text}`);
    }
  }

  /** Sequences a command; resolves once it is durable (see Sequencer.submit). */
  submit(cmd: unknown, origin: string): Promise<Ack> {
    return this.sequencer.submit(cmd, origin);
  }

  /** Every durable command with its events, in seq order. */
  subscribe(fn: (batch: readonly Committed[]) => void): () => void {
    return this.sequencer.subscribe(fn);
  }

  /** Whether this node takes orders (see Role). */
  get role(): Role {
    return this.currentRole;
  }

  /** The primary's gateway address (HOST:PORT) when this node is not the primary and knows it. */
  get leader(): string | null {
    return this.currentLeader;
  }

  /** Called on every change of role (or of the known leader); returns an unsubscribe. */
  onRole(fn: (role: Role, leader: string | null) => void): () => void {
    this.roleListeners.add(fn);
    return () => this.roleListeners.delete(fn);
  }

  /** For the replication layer: promotion, fencing, a replica learning its primary. */
  setRole(role: Role, leader: string | null): void {
    if (role === this.currentRole && leader === this.currentLeader) return;
    this.currentRole = role;
    this.currentLeader = leader;
    for (const fn of this.roleListeners) fn(role, leader);
  }

  /** Seq of the last durable command. */
  get seq(): number {
    return this.sequencer.durableSeq;
  }

  get stats(): { blocks: number; commands: number; bytes: number; queued: number } {
    return { blocks: this.sequencer.blocks, commands: this.sequencer.commands, bytes: this.writer.bytesWritten, queued: this.sequencer.queued };
  }

  /**
   * Settles once the periodic snapshot being written (if any) is on disk or
   * has failed. A writer that must not have one skipped (a reproducible
   * generated day) awaits it before submitting more.
   */
  snapshotsWritten(): Promise<void> {
    return this.snapshotting ?? Promise.resolve();
  }

  /** Set when the log failed; the process must restart to recover. */
  get failure(): Error | null {
    return this.sequencer.failed;
  }

  private periodicSnapshot(s: SnapshotDue): void {
    if (this.snapshotting !== null) {
      this.log(`snapshot at seq ${s.seq} skipped: the previous one is still being written`);
      return;
    }
    this.snapshotting = writeSnapshot(this.dataDir, { ...s, logId: this.writer.logId }, this.random)
      .then(() => {
        this.lastSnapshotSeq = Math.max(this.lastSnapshotSeq, s.seq);
        pruneSnapshots(this.dataDir, this.config.keepSnapshots);
      })
      .catch((e: Error) => this.log(`snapshot at seq ${s.seq} failed: ${e.message}`))
      .finally(() => { this.snapshotting = null; });
  }

  /**
   * Clean shutdown: refuses new commands, waits for what is queued to be
   * durable, writes a final snapshot (unless `snapshot: false`), closes files.
   */
  close(opts: { snapshot?: boolean } = {}): Promise<void> {
    this.closed ??= this.doClose(opts.snapshot !== false);
    return this.closed;
  }

  private async doClose(snapshot: boolean): Promise<void> {
    try {
      await this.sequencer.close();
      if (this.snapshotting !== null) await this.snapshotting;
      const seq = this.sequencer.durableSeq;
      if (snapshot && this.sequencer.failed === null && seq > this.lastSnapshotSeq) {
        // a snapshot only shortens the next start: failing to write one (disk full) loses nothing
        try {
          const path = writeSnapshotSync(this.dataDir, { ...this.machine.snapshot(), logId: this.writer.logId }, this.random);
          this.lastSnapshotSeq = seq;
          pruneSnapshots(this.dataDir, this.config.keepSnapshots);
          this.log(`snapshot at seq ${seq} written: ${path}`);
        } catch (e) {
          this.log(`snapshot at seq ${seq} not written (${(e as Error).message}); the log holds every command, the next start replays them`);
        }
      }
      this.writer.close();
    } finally {
      this.unlock();
    }
  }
}
