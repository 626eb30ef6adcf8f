// The single-node exchange: recovery, then the sequencer writing the log and
// driving the engine, periodic and shutdown snapshots. The gateway (later)
// and `matchlog apply --log` talk to it through submit().

import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { Instrument, restoreEngine, type Engine, type EngineEvent, type InstrumentCommand } from '../engine/index.js';
import type { LadderFactory } from '../native/ladder.js';
import { makeConfig, type LogConfig } from './config.js';
import { readLong } from './container.js';
import { crc32 } from './crc32.js';
import { NotPrimaryError, ReplicationError } from './errors.js';
import { acquireLock } from './lock.js';
import { decodeBlock } from './records.js';
import { readBlocks } from './reader.js';
import { BlockDamage, checkSeqs, commandRange } from './scanner.js';
import { recover } from './recovery.js';
import { LogStateMachine } from './state-machine.js';
import { Sequencer, type Ack, type AckGate, type Committed, type DurableBlock, type SnapshotDue, type TicketSink } from './sequencer.js';
import { decodeSnapshot, pruneSnapshots, writeSnapshot, writeSnapshotSync, type SnapshotData } from './snapshot.js';
import { LogWriter, type RandomBytes, type SealedBlock, type WriteObserver } from './writer.js';

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
  /**
   * Open as a replica: no sequencer and no configured instruments; blocks
   * from the primary arrive through appendBlock() until promote().
   */
  replica?: boolean;
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

/** A block a replica has applied, on its way to disk. */
interface UnwrittenBlock extends SealedBlock {
  last: number;
  batch: Committed[];
  snapshot: SnapshotDue | null;
  resolve: (seq: number) => void;
  reject: (err: Error) => void;
}

/** CRC (the Commit record's) of the block of the log in `dir` whose last command is `seq`; null if none ends there. */
export function lastBlockCrc(dir: string, seq: number): number | null {
  for (const b of readBlocks(dir, { fromSeq: seq })) {
    const range = commandRange(b.records);
    if (range === null || range.last < seq) continue;
    return range.last === seq && b.raw !== null ? b.raw.readUInt32BE(b.raw.length - 4) : null;
  }
  return null;
}

/** A replica's view of where its log ends, for the replication handshake. */
export interface ReplicaPosition {
  logId: string | null;
  /** Seq of the last command in this node's log files. */
  logSeq: number;
  /** CRC of the block that ends the log (its Commit record's): the primary checks it is its own block at logSeq. null: empty log. */
  tailCrc: number | null;
  /** Seq the engine is at (beyond logSeq after a primary's snapshot was adopted). */
  stateSeq: number;
  epoch: number;
}

function sequencerOptions(config: LogConfig, node: string, clock: (() => number) | undefined): ConstructorParameters<typeof Sequencer>[3] {
  return {
    queueCapacity: config.queueCapacity, maxBlockRecords: config.maxBlockRecords, maxBlockBytes: config.maxBlockBytes,
    checkpointEvery: config.checkpointEvery, snapshotEvery: config.snapshotEvery, node, clock,
  };
}

export class Exchange {
  private snapshotting: Promise<void> | null = null;
  private lastSnapshotSeq: number;
  private closed: Promise<void> | null = null;
  private onFatal: ((err: Error) => void) | undefined;
  private currentRole: Role;
  private currentLeader: string | null = null;
  private readonly roleListeners = new Set<(role: Role, leader: string | null) => void>();
  private readonly listeners = new Set<(batch: readonly Committed[]) => void>();
  private ticketSink: TicketSink | null = null;
  private sequencer: Sequencer | null = null;
  private writer: LogWriter | null;
  private writeObserver: WriteObserver | null = null;
  private machine: LogStateMachine;
  /** Replica: seq of the last command durable in this node's log files. */
  private logSeq: number;
  /** Replica: seq of the last command taken (applied, its write queued); blocks must run on from it. */
  private takenSeq: number;
  /** Replica: CRC of the block that ends at takenSeq (undefined: not read from the log yet). */
  private tailCrc: number | null | undefined = undefined;
  /** Replica: blocks applied and waiting for their write (in order), the write in flight, and a promise of its end. */
  private unwritten: UnwrittenBlock[] = [];
  private replicaWriting = false;
  private replicaWrites: Promise<void> = Promise.resolve();
  private replicaFailure: Error | null = null;
  /** Replica: a primary's snapshot adopted into the engine, written here once the log reaches its seq. */
  private adopted: SnapshotData | null = null;
  private fencedBy: string | null = null;
  private readonly gates = new Set<AckGate>();
  private gateTimer: NodeJS.Timeout | null = null;
  private durableListener: ((block: DurableBlock) => void) | null = null;

  /**
   * Called with every block durable here (the replication server ships them).
   * Only while one is set does the sequencer copy each block for it.
   */
  get onDurable(): ((block: DurableBlock) => void) | null {
    return this.durableListener;
  }

  set onDurable(fn: ((block: DurableBlock) => void) | null) {
    this.durableListener = fn;
    if (this.sequencer !== null) this.sequencer.onDurable = fn;
  }
  /** Replica: called with the seq durable here after each write, before subscribers hear of it (the follower acks). */
  onReplicaDurable: ((seq: number) => void) | null = null;

  private constructor(readonly dataDir: string, readonly config: LogConfig, readonly recovery: RecoveryInfo,
    machine: LogStateMachine, writer: LogWriter | null,
    private readonly unlock: () => void, private readonly log: (line: string) => void,
    private readonly o: ExchangeOptions, private readonly node: string) {
    this.lastSnapshotSeq = recovery.snapshotSeq;
    this.machine = machine;
    this.writer = writer;
    this.logSeq = recovery.seq;
    this.takenSeq = recovery.seq;
    this.currentRole = o.replica === true ? 'replica' : 'primary';
    this.onFatal = o.onFatal;
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
      // an empty replica learns its log id from the primary
      const writer = o.replica === true && r.logId === null ? null
        : new LogWriter(o.dataDir, { segmentBytes: config.segmentBytes, indexEvery: config.indexEvery, logId: r.logId ?? undefined, random: o.random }, r.tail);
      const epoch = o.replica === true ? r.epoch : r.epoch + 1;
      const info: RecoveryInfo = {
        dataDir: o.dataDir, seq: r.lastSeq, snapshot: r.snapshot?.path ?? null, snapshotSeq: r.snapshot?.seq ?? 0,
        tailRecords: r.tailRecords, truncatedBytes: r.truncatedBytes, epoch,
      };
      ex = new Exchange(o.dataDir, config, info, r.machine, writer, unlock, log, o, o.node ?? `${hostname()}:${process.pid}`);
      if (o.replica !== true) ex.startSequencer(r.lastSeq, r.lastTs, epoch);
    } catch (e) {
      unlock();
      throw e;
    }
    if (o.seedInstruments !== false && o.replica !== true) {
      try {
        await ex.seedConfigured();
      } catch (e) {
        await ex.close({ snapshot: false });
        throw e;
      }
    }
    return ex;
  }

  private startSequencer(lastSeq: number, lastTs: number, epoch: number): void {
    const seq = new Sequencer(this.machine, this.writer as LogWriter, { lastSeq, lastTs, epoch }, sequencerOptions(this.config, this.node, this.o.clock));
    seq.onSnapshot = (s) => this.periodicSnapshot(s);
    seq.onFatal = (err) => {
      // whoever handles it reports it (one clear error), else it is reported here
      if (this.onFatal !== undefined) this.onFatal(err);
      else this.log(`FATAL: the sequencer failed, no further commands are taken: ${err.message}`);
    };
    seq.onDurable = this.durableListener;
    seq.tickets = this.ticketSink;
    if (this.gates.size > 0) seq.gate = this.gate;
    this.sequencer = seq;
    this.syncCommitted();
  }

  /**
   * Creates the configured instruments through the log — on a fresh log only.
   * On an existing log the log is the truth: a configuration that differs
   * from it is reported, never applied (else every start would append them).
   */
  async seedConfigured(): Promise<void> {
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
    // not through submit(): a quorum that is not there yet must not refuse them; their acknowledgement waits for it
    const seq = this.sequencer;
    if (seq === null) throw new Error('the configured instruments are created by a primary');
    const acks = await Promise.all(missing.map((i) => seq.submit({ ...i, op: 'instrument' } satisfies InstrumentCommand, 'config')));
    for (const a of acks) {
      const bad = a.events.find((e) => e.type === 'rejected');
      if (bad !== undefined && bad.type === 'rejected') throw new Error(`instrument ${bad.symbol}: ${bad.text}`);
    }
  }

  /** The engine behind the log (a replica's changes once, when it adopts a primary's snapshot before serving). */
  get engine(): Engine {
    return this.machine.engine;
  }

  /** The log's identity (null: an empty replica that has not met its primary yet). */
  get logId(): string | null {
    return this.writer?.logId ?? null;
  }

  /** Epoch of this node: its writer's once primary, else the highest in its log. */
  get epoch(): number {
    return this.sequencer?.epoch ?? this.machine.epoch;
  }

  /**
   * Sequences a command; resolves once it is durable (see Sequencer.submit)
   * and the ack gates let it through. A node that is not primary refuses
   * with NotPrimaryError, naming the primary when it knows it.
   */
  submit(cmd: unknown, origin: string): Promise<Ack> {
    const refused = this.refusal();
    if (refused !== null) return Promise.reject(refused);
    return (this.sequencer as Sequencer).submit(cmd, origin);
  }

  /** Why this node takes no command now (not primary, a gate refuses), or null. */
  private refusal(): Error | null {
    if (this.currentRole !== 'primary' || this.sequencer === null) {
      return new NotPrimaryError(this.currentLeader, this.fencedBy ?? (this.currentRole === 'fenced' ? 'this node was fenced' : 'this node is a replica'));
    }
    if (this.gates.size > 0) {
      for (const g of this.gates) {
        const why = g.refuse?.() ?? null;
        if (why !== null) return why;
      }
    }
    return null;
  }

  /**
   * Where submitTicket's answers go: set once (it carries over to the
   * sequencer of a later promotion). See Sequencer.submitTicket.
   */
  set tickets(sink: TicketSink | null) {
    this.ticketSink = sink;
    if (this.sequencer !== null) this.sequencer.tickets = sink;
  }

  /**
   * submit() without a promise, and without allocating (Sequencer.submitTicket):
   * returns null once the command is queued (its answer goes to `tickets`
   * with `ticket`), else the refusal — NotPrimaryError, a gate's (e.g.
   * NoQuorumError), BusyError, InvalidCommandError, ClosedError.
   * `events`: whether the sink gets the command's events.
   */
  submitTicket(cmd: unknown, origin: string, ticket: number, events = false): Error | null {
    const refused = this.refusal();
    if (refused !== null) return refused;
    return (this.sequencer as Sequencer).submitTicket(cmd, origin, ticket, events);
  }

  /**
   * Every acknowledged command with its events, in seq order (on a replica: every command durable here).
   * Commands applied before the first subscriber came may carry no events
   * (nobody asked the engine for them): a subscriber that starts from the
   * engine's current state, as the gateway does, has them in that state.
   */
  subscribe(fn: (batch: readonly Committed[]) => void): () => void {
    this.listeners.add(fn);
    this.syncCommitted();
    return () => {
      this.listeners.delete(fn);
      this.syncCommitted();
    };
  }

  /** The sequencer builds event objects and hands out its batches only while someone listens. */
  private syncCommitted(): void {
    if (this.sequencer !== null) this.sequencer.onCommitted = this.listeners.size > 0 ? this.publishFn : null;
  }

  private readonly publishFn = (batch: readonly Committed[]): void => this.publish(batch);

  private publish(batch: readonly Committed[]): void {
    if (batch.length === 0) return;
    for (const fn of this.listeners) {
      try {
        fn(batch);
      } catch (e) {
        // a subscriber's bug must not stall the log; surface it outside this callback
        queueMicrotask(() => { throw e; });
      }
    }
  }

  /** Whether anyone consumes this node's committed commands (a gateway): a replica then takes no more snapshots into its engine. */
  get serving(): boolean {
    return this.listeners.size > 0;
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

  /** For the replication layer: a replica learning its primary (promotion and fencing have their own methods). */
  setRole(role: Role, leader: string | null): void {
    if (role === this.currentRole && leader === this.currentLeader) return;
    this.currentRole = role;
    this.currentLeader = leader;
    for (const fn of this.roleListeners) fn(role, leader);
  }

  /** Seq of the last acknowledged command (a replica: of the last command durable here). */
  get seq(): number {
    return this.sequencer?.committedSeq ?? this.logSeq;
  }

  /** Seq of the last command durable on this node's disk (ahead of seq while the ack gates hold). */
  get durableSeq(): number {
    return this.sequencer?.durableSeq ?? this.logSeq;
  }

  /** Tells `fn` the time and size of every durable write of this node's log, a replica's included. */
  observeWrites(fn: WriteObserver | null): void {
    this.writeObserver = fn;
    if (this.writer !== null) this.writer.writeObserver = fn;
  }

  get stats(): { blocks: number; commands: number; bytes: number; queued: number; held: number } {
    const s = this.sequencer;
    return { blocks: s?.blocks ?? 0, commands: s?.commands ?? 0, bytes: this.writer?.bytesWritten ?? 0, queued: s?.queued ?? 0, held: s?.heldBlocks ?? 0 };
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
    return this.sequencer?.failed ?? this.replicaFailure;
  }

  // ---- acknowledgement gates (quorum, lease, fencing) ----

  /** The composition of every gate: the least any of them lets through. */
  private readonly gate: AckGate = {
    releasable: () => {
      if (this.currentRole === 'fenced') return -1;
      let limit = Infinity;
      for (const g of this.gates) limit = Math.min(limit, g.releasable());
      return limit;
    },
  };

  /**
   * Adds a condition for acknowledging (quorum of replicas, a lease). Its
   * owner calls gateChanged() when it may let more through; `refuse` turns
   * new commands away while it cannot (e.g. no quorum).
   */
  addGate(g: AckGate): void {
    this.gates.add(g);
    if (this.sequencer !== null) this.sequencer.gate = this.gate;
    // a gate that opens with time (a renewed lease) is polled while blocks are held
    this.gateTimer ??= setInterval(() => { if ((this.sequencer?.heldBlocks ?? 0) > 0) this.sequencer?.release(); }, 20);
    this.gateTimer.unref();
  }

  gateChanged(): void {
    this.sequencer?.release();
  }

  /**
   * This primary met a higher epoch (a replica's, the coordinator's, a
   * promoted node's notice): it acknowledges nothing more, and says so once.
   */
  fence(why: string, leader: string | null): void {
    if (this.currentRole === 'fenced') return;
    this.fencedBy = why;
    this.log(`FENCED: ${why}; acknowledging nothing more${leader !== null ? `; the primary is at ${leader}` : ''}`);
    this.setRole('fenced', leader);
  }

  // ---- replica ----

  /** Where this replica's log ends, for the handshake with its primary. */
  position(): ReplicaPosition {
    // blocks taken are durable soon or the replica fails: the primary resumes after them
    if (this.tailCrc === undefined) this.tailCrc = this.takenSeq === 0 ? null : lastBlockCrc(this.dataDir, this.takenSeq);
    return { logId: this.logId, logSeq: this.takenSeq, tailCrc: this.tailCrc, stateSeq: this.machine.seq, epoch: this.machine.epoch };
  }

  /**
   * An empty replica takes its primary's log id (its segments must say they
   * belong to that log); a replica with a log of another id refuses.
   */
  adoptLogId(logId: string): void {
    if (this.writer !== null) {
      if (this.writer.logId !== logId) throw new ReplicationError(`this replica's log ${this.writer.logId} (in ${this.dataDir}) is not the primary's log ${logId}: give the replica an empty data folder`);
      return;
    }
    this.writer = new LogWriter(this.dataDir, { segmentBytes: this.config.segmentBytes, indexEvery: this.config.indexEvery, logId, random: this.o.random }, null);
    this.writer.writeObserver = this.writeObserver;
  }

  /**
   * A replica that is far behind takes its primary's snapshot into its engine
   * (not into its log: the blocks before it still arrive and are written, but
   * not applied). Only before anyone subscribes: the gateway is built on the
   * engine it starts with. The file is written here once the log reaches it.
   */
  adoptSnapshot(bytes: Buffer): void {
    if (this.listeners.size > 0) throw new ReplicationError('a snapshot arrived after the gateway started; reconnect without one');
    const snap = decodeSnapshot(bytes);
    if (snap.logId !== undefined && snap.logId !== this.logId) throw new ReplicationError(`the primary's snapshot at seq ${snap.seq} belongs to log ${snap.logId}, not ${this.logId ?? '(none)'}`);
    if (snap.seq <= this.machine.seq) return;
    const engine = restoreEngine(snap.state, this.o.ladder);
    const hash = engine.stateHash();
    if (hash !== snap.hash) throw new ReplicationError(`the primary's snapshot at seq ${snap.seq} restores to hash ${hash}, not its recorded ${snap.hash}`);
    this.machine = new LogStateMachine(engine, { seq: snap.seq, ts: snap.ts, epoch: Math.max(snap.epoch, this.machine.epoch) }, `primary snapshot at seq ${snap.seq}`);
    this.adopted = snap;
    this.log(`replica: adopted the primary's snapshot at seq ${snap.seq}; the log before it is copied, not replayed`);
  }

  /**
   * One block from the primary, exactly as framed in its segment: checked
   * (frame, CRC, seqs running on from this log, epoch not older than this
   * node's), applied (checkpoints verified: a divergence throws and nothing
   * of the block is written), then written durably. Resolves with the seq
   * of its last command once it is on disk. Blocks are taken in order; the
   * next may be given before this one resolves.
   */
  appendBlock(bytes: Buffer, epoch: number): Promise<number> {
    if (this.currentRole !== 'replica') return Promise.reject(new ReplicationError('not a replica any more: blocks are refused'));
    if (this.replicaFailure !== null) return Promise.reject(this.replicaFailure);
    let buf: Buffer;
    let batch: Committed[];
    let info: { firstCommandSeq: number; commands: number; firstSeq: number; firstTs: number };
    let last: number;
    let snapshot: SnapshotDue | null = null;
    try {
      if (this.writer === null) throw new ReplicationError('a block arrived before the log id');
      if (epoch < this.machine.epoch) throw new ReplicationError(`refused a block of epoch ${epoch}: this replica is at epoch ${this.machine.epoch} (the primary was superseded)`);
      // the writer appends its segment's sync marker after the block
      buf = Buffer.allocUnsafe(bytes.length + 16);
      bytes.copy(buf, 0);
      const count = readLong(buf, 0, bytes.length);
      const size = count === null ? null : readLong(buf, count.next, bytes.length);
      if (count === null || size === null || size.next + size.value !== bytes.length || size.value < 4 || count.value < 1) {
        throw new ReplicationError(`corrupted block after seq ${this.takenSeq}: its frame does not match its ${bytes.length} bytes`);
      }
      const frame = { offset: 0, count: count.value, dataStart: size.next, dataEnd: bytes.length, end: bytes.length + 16 };
      if (crc32(buf, frame.dataStart, frame.dataEnd - 4) !== buf.readUInt32BE(frame.dataEnd - 4)) {
        throw new ReplicationError(`corrupted block after seq ${this.takenSeq}: CRC mismatch`);
      }
      let records;
      try {
        records = decodeBlock(buf, frame, undefined);
        checkSeqs(records, this.takenSeq, 0);
      } catch (e) {
        throw new ReplicationError(`corrupted block after seq ${this.takenSeq}: ${e instanceof BlockDamage ? e.reason : (e as Error).message}`);
      }
      batch = [];
      let firstCommand = -1;
      let commands = 0;
      const every = this.config.snapshotEvery;
      for (const rec of records) {
        if (rec.kind === 'epoch' && rec.epoch < this.machine.epoch) throw new ReplicationError(`refused a block with epoch record ${rec.epoch} at seq ${rec.seq}: this replica is at epoch ${this.machine.epoch}`);
        if (rec.kind !== 'command') {
          this.machine.record(rec, []);
          continue;
        }
        if (firstCommand < 0) firstCommand = rec.seq;
        commands++;
        const events: EngineEvent[] = [];
        if (this.machine.record(rec, events)) {
          batch.push({ seq: rec.seq, ts: rec.ts, origin: rec.origin, cmd: rec.cmd, events });
          if (every > 0 && rec.seq % every === 0) snapshot = this.machine.snapshot();
        }
      }
      if (commands === 0) throw new ReplicationError(`corrupted block after seq ${this.takenSeq}: it holds no command`);
      last = firstCommand + commands - 1;
      this.takenSeq = last;
      this.tailCrc = bytes.readUInt32BE(bytes.length - 4);
      info = { firstCommandSeq: firstCommand, commands, firstSeq: records[0].seq, firstTs: records[0].ts };
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return new Promise<number>((resolve, reject) => {
      this.unwritten.push({ buf, start: 0, end: bytes.length, info, last, batch, snapshot, resolve, reject });
      this.flushReplicaWrites();
    });
  }

  /**
   * Writes what has been taken, as one group: while one write is on its way
   * the next blocks gather, so that a replica keeps up with a primary that
   * commits many small blocks.
   */
  private flushReplicaWrites(): void {
    const writer = this.writer;
    if (this.replicaWriting || this.unwritten.length === 0 || writer === null) return;
    this.replicaWriting = true;
    const pending = this.unwritten;
    let settle: () => void = () => undefined;
    this.replicaWrites = new Promise<void>((r) => { settle = r; });
    const taken = writer.writeBlocks(pending, (err) => {
      this.replicaWriting = false;
      const done = pending.splice(0, taken);
      if (err !== null) {
        this.replicaFailure ??= err;
        for (const w of [...done, ...pending]) w.reject(err);
        pending.length = 0;
        settle();
        return;
      }
      // the primary hears first (its quorum waits on this), the local subscribers after
      this.logSeq = done[done.length - 1].last;
      this.onReplicaDurable?.(this.logSeq);
      for (const w of done) {
        this.publish(w.batch);
        if (w.snapshot !== null) this.periodicSnapshot(w.snapshot);
      }
      this.writeAdopted();
      for (const w of done) w.resolve(w.last);
      settle();
      this.flushReplicaWrites();
    });
  }

  /** Resolves once every block taken is written (or the writes failed). */
  private async replicaDrained(): Promise<void> {
    while (this.replicaWriting || (this.unwritten.length > 0 && this.replicaFailure === null)) await this.replicaWrites;
  }

  private writeAdopted(): void {
    const snap = this.adopted;
    if (snap === null || this.logSeq < snap.seq) return;
    this.adopted = null;
    try {
      writeSnapshotSync(this.dataDir, snap, this.o.random);
      this.lastSnapshotSeq = Math.max(this.lastSnapshotSeq, snap.seq);
    } catch (e) {
      this.log(`replica: the primary's snapshot at seq ${snap.seq} not written here (${(e as Error).message}); the log holds every command`);
    }
  }

  /**
   * Makes this replica the primary: waits for the blocks in flight to be
   * durable, then opens order entry with a sequencer whose first block
   * carries the epoch record. `epoch` must exceed every epoch this node has
   * seen (the coordinator's key revision, or the highest known + 1).
   */
  async promote(epoch: number): Promise<void> {
    if (this.currentRole !== 'replica') throw new ReplicationError(`cannot promote: this node is ${this.currentRole}`);
    await this.replicaDrained();
    if (this.replicaFailure !== null) throw new ReplicationError(`cannot promote: the log failed (${this.replicaFailure.message})`);
    if (this.currentRole !== 'replica') throw new ReplicationError(`cannot promote: this node is ${this.currentRole}`);
    if (epoch <= this.machine.epoch) throw new ReplicationError(`cannot promote to epoch ${epoch}: this node has seen epoch ${this.machine.epoch}`);
    if (this.writer === null) {
      this.writer = new LogWriter(this.dataDir, { segmentBytes: this.config.segmentBytes, indexEvery: this.config.indexEvery, random: this.o.random }, null);
      this.writer.writeObserver = this.writeObserver;
    }
    if (this.machine.seq !== this.logSeq) throw new ReplicationError(`cannot promote: the engine is at seq ${this.machine.seq} but the log ends at seq ${this.logSeq} (the primary's snapshot is ahead of the copied log)`);
    this.startSequencer(this.logSeq, this.machine.ts, epoch);
    this.setRole('primary', null);
    this.log(`promoted: primary at epoch ${epoch} from seq ${this.logSeq}`);
  }

  private periodicSnapshot(s: SnapshotDue): void {
    if (this.snapshotting !== null) {
      this.log(`snapshot at seq ${s.seq} skipped: the previous one is still being written`);
      return;
    }
    this.snapshotting = writeSnapshot(this.dataDir, { ...s, logId: this.logId ?? undefined }, this.o.random)
      .then(() => {
        this.lastSnapshotSeq = Math.max(this.lastSnapshotSeq, s.seq);
        pruneSnapshots(this.dataDir, this.config.keepSnapshots);
      })
      .catch((e: Error) => this.log(`snapshot at seq ${s.seq} failed: ${e.message}`))
      .finally(() => { this.snapshotting = null; });
  }

  /**
   * Clean shutdown: refuses new commands, waits for what is queued to be
   * durable (and, up to `holdMs`, acknowledged through the gates), writes a
   * final snapshot (unless `snapshot: false`), closes files.
   */
  close(opts: { snapshot?: boolean; holdMs?: number } = {}): Promise<void> {
    this.closed ??= this.doClose(opts.snapshot !== false, opts.holdMs ?? 2000);
    return this.closed;
  }

  private async doClose(snapshot: boolean, holdMs: number): Promise<void> {
    try {
      if (this.gateTimer !== null) clearInterval(this.gateTimer);
      const seqr = this.sequencer;
      if (seqr !== null) {
        const drained = seqr.close();
        if (seqr.heldBlocks > 0 || this.gates.size > 0) {
          // held blocks may never be let through (no quorum, fenced): they are durable; the next start has them
          let timer: NodeJS.Timeout | undefined;
          const poll = setInterval(() => seqr.release(), 20);
          await Promise.race([drained, new Promise<void>((r) => { timer = setTimeout(r, holdMs); })]);
          clearTimeout(timer);
          clearInterval(poll);
          while (!seqr.allWritten) await new Promise((r) => setTimeout(r, 5));
        } else {
          await drained;
        }
      }
      await this.replicaDrained();
      if (this.snapshotting !== null) await this.snapshotting;
      const seq = this.durableSeq;
      if (snapshot && this.failure === null && seq > this.lastSnapshotSeq && this.machine.seq === seq && this.writer !== null) {
        // a snapshot only shortens the next start: failing to write one (disk full) loses nothing
        try {
          const path = writeSnapshotSync(this.dataDir, { ...this.machine.snapshot(), logId: this.writer.logId }, this.o.random);
          this.lastSnapshotSeq = seq;
          pruneSnapshots(this.dataDir, this.config.keepSnapshots);
          this.log(`snapshot at seq ${seq} written: ${path}`);
        } catch (e) {
          this.log(`snapshot at seq ${seq} not written (${(e as Error).message}); the log holds every command, the next start replays them`);
        }
      }
      this.writer?.close();
    } finally {
      this.unlock();
    }
  }
}
