// The sequencer: the single writer of the log. Commands wait in a bounded
// queue (a full queue refuses with BusyError, never buffers without limit).
// Once per turn of the event loop, or as soon as the previous block is
// durable, it takes what is queued (up to a record/byte bound), stamps each
// command with the next seq (gap-free) and a ts that never goes backwards,
// applies it to the engine in seq order, encodes it into one Avro block, and
// writes that block durably. Only then are the submitters answered and
// subscribers given the events: nothing is released before it is durable.
//
// One block is written at a time; while it is, the next one is built (stamped,
// applied, encoded) from what has arrived, so that its write can start the
// moment the previous one is durable. Commands that arrive meanwhile form the
// group commit after that: the block size grows with the offered load.

import { performance } from 'node:perf_hooks';
import type { Command, EngineEvent } from '../engine/index.js';
import { checkString, prepareCommand } from './codec.js';
import { BusyError, ClosedError, InvalidCommandError } from './errors.js';
import { BlockBuilder } from './records.js';
import type { LogStateMachine, SnapshotDue } from './state-machine.js';
import type { BlockInfo, LogWriter } from './writer.js';

export interface SequencerOptions {
  /** Commands that may wait for a block; one more is refused with BusyError. */
  queueCapacity: number;
  /** Bounds of one group commit. */
  maxBlockRecords: number;
  maxBlockBytes: number;
  /** A checkpoint record (state hash) after every this many commands; 0 for none. */
  checkpointEvery: number;
  /** A snapshot after every this many commands; 0 for none. */
  snapshotEvery: number;
  /** Who writes: goes into the epoch record. */
  node: string;
  /** Sequencer time in epoch microseconds (tests inject one). */
  clock?: () => number;
}

export interface StartState {
  lastSeq: number;
  lastTs: number;
  /** Epoch of this writer; recorded before its first command. */
  epoch: number;
}

/** A submitter's answer, once the command is durable. */
export interface Ack {
  seq: number;
  ts: number;
  events: EngineEvent[];
}

/** What subscribers get for each durable command, in seq order. */
export interface Committed {
  seq: number;
  ts: number;
  origin: string;
  cmd: Command;
  events: EngineEvent[];
}

export type { SnapshotDue };

/** A block that is durable here, as replication ships it (a copy: the builder's buffer is reused). */
export interface DurableBlock {
  /** The block as framed in a segment: count, size, records (no sync marker). */
  bytes: Buffer;
  /** Seq of its last command (its first is one after the previous block's last). */
  lastSeq: number;
  /** Epoch of the writer. */
  epoch: number;
}

/**
 * Decides when durable commands may be acknowledged beyond "durable here":
 * quorum mode waits for replicas, a leader under an etcd lease stops when the
 * lease may have lapsed, a fenced primary never again. The owner calls
 * Sequencer.release() whenever the answer may have grown.
 */
export interface AckGate {
  /** Highest seq that may be acknowledged now (Infinity: all that is durable here; -1: none). */
  releasable(): number;
  /** Why new commands are turned away now (e.g. no quorum), or null to take them. */
  refuse?(): Error | null;
}

/** A command on its way through the sequencer; it is also the Ack and the Committed it becomes. */
class Item implements Ack, Committed {
  seq = 0;
  ts = 0;
  events: EngineEvent[] = [];
  // private (#) so that an Ack shows only what it is
  readonly #resolve: (ack: Ack) => void;
  readonly #reject: (err: Error) => void;

  constructor(readonly cmd: Command, readonly origin: string, resolve: (ack: Ack) => void, reject: (err: Error) => void) {
    this.#resolve = resolve;
    this.#reject = reject;
  }

  answer(): void {
    this.#resolve(this);
  }

  refuse(err: Error): void {
    this.#reject(err);
  }
}

interface Block {
  builder: BlockBuilder;
  /** Seq of the last command in it. */
  last: number;
  start: number;
  end: number;
  items: Item[];
  snapshot: SnapshotDue | null;
  info: BlockInfo;
}

function wallMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

export class Sequencer {
  private queue: Item[] = [];
  private head = 0;
  /** The block being written, and the one built while it is. */
  private writing: Block | null = null;
  private prepared: Block | null = null;
  /** Items taken from the queue by a build that has not finished (answered by fail() if it throws). */
  private building: Item[] = [];
  /** Two builders: one's buffer is being written while the other fills. */
  private readonly freeBuilders: BlockBuilder[];
  private scheduled = false;
  private closing = false;
  private failure: Error | null = null;
  private pendingEpoch: boolean;
  private seq: number;
  private ts: number;
  private durable: number;
  private committed: number;
  /** Blocks durable here, waiting for the gate before their submitters hear of them. */
  private held: Block[] = [];
  private heldHead = 0;
  private readonly clock: () => number;
  private drainWaiters: (() => void)[] = [];
  /** Origins repeat (one per session): check each once. */
  private lastOrigin = '';
  /** Durable blocks and commands since start (benchmarks, metrics). */
  blocks = 0;
  commands = 0;
  /** Called with the state at every snapshotEvery-th seq, once that seq is durable. */
  onSnapshot: ((s: SnapshotDue) => void) | null = null;
  /** Called once if a write fails (or the engine throws): the engine is then ahead of the log and the process must restart. */
  onFatal: ((err: Error) => void) | null = null;
  /**
   * Every acknowledged command with its events, in seq order, once its
   * submitter is answered (the Exchange fans it out to its subscribers).
   */
  onCommitted: ((batch: readonly Committed[]) => void) | null = null;
  /** Called with every block once it is durable here, before anyone is answered (replication). */
  onDurable: ((block: DurableBlock) => void) | null = null;
  /** null: acknowledge once durable here (local mode). */
  gate: AckGate | null = null;

  /** `machine` holds the engine at start.lastSeq; every command goes through it. */
  constructor(private readonly machine: LogStateMachine, private readonly writer: LogWriter, start: StartState,
    private readonly opts: SequencerOptions) {
    if (machine.seq !== start.lastSeq) throw new Error(`Sequencer: the state is at seq ${machine.seq}, the log at seq ${start.lastSeq}`);
    this.seq = start.lastSeq;
    this.durable = start.lastSeq;
    this.committed = start.lastSeq;
    this.ts = start.lastTs;
    this.epoch = start.epoch;
    this.pendingEpoch = true;
    this.clock = opts.clock ?? wallMicros;
    this.freeBuilders = [new BlockBuilder(opts.maxBlockBytes), new BlockBuilder(opts.maxBlockBytes)];
  }

  readonly epoch: number;

  /** Seq of the last command durable here. */
  get durableSeq(): number {
    return this.durable;
  }

  /** Seq of the last acknowledged command (durable here and let through by the gate). */
  get committedSeq(): number {
    return this.committed;
  }

  /** Blocks durable here that the gate holds back. */
  get heldBlocks(): number {
    return this.held.length - this.heldHead;
  }

  /** Ts of the last stamped command. */
  get lastTs(): number {
    return this.ts;
  }

  /** Whether a write failed (the engine is then ahead of the log). */
  get failed(): Error | null {
    return this.failure;
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  /**
   * Sequences one command. Resolves once the block holding it is durable;
   * rejects with BusyError (queue full), InvalidCommandError (cannot be
   * logged) or ClosedError without consuming a seq.
   */
  submit(raw: unknown, origin: string): Promise<Ack> {
    if (this.failure !== null) return Promise.reject(new ClosedError(`the log failed: ${this.failure.message}`));
    if (this.closing) return Promise.reject(new ClosedError('the sequencer is shutting down'));
    let cmd: Command;
    try {
      if (origin !== this.lastOrigin) {
        if (typeof origin !== 'string') throw new InvalidCommandError('origin must be a string');
        const bad = checkString(origin, 'origin');
        if (bad !== null) throw new InvalidCommandError(bad);
        this.lastOrigin = origin;
      }
      cmd = prepareCommand(raw);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    if (this.queue.length - this.head >= this.opts.queueCapacity) return Promise.reject(new BusyError(this.opts.queueCapacity));
    return new Promise<Ack>((resolve, reject) => {
      this.queue.push(new Item(cmd, origin, resolve, reject));
      this.schedule();
    });
  }


  /** Stops taking commands and resolves once everything queued is durable. */
  close(): Promise<void> {
    this.closing = true;
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private idle(): boolean {
    return this.writing === null && this.prepared === null && this.queue.length - this.head === 0 && this.held.length === this.heldHead;
  }

  /** Whether every taken command is durable here (some may still be held by the gate). */
  get allWritten(): boolean {
    return this.writing === null && this.prepared === null && this.queue.length - this.head === 0;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  /** Builds a block if there is room for one, and starts a write if none is running. */
  private pump(): void {
    if (this.failure !== null) return;
    if (this.prepared === null && this.queue.length - this.head > 0) {
      try {
        this.prepared = this.build(this.freeBuilders.pop() as BlockBuilder);
      } catch (e) {
        this.fail(e as Error);
        return;
      }
    }
    this.startWrite();
    // the next block is built while this one is written
    if (this.prepared === null && this.queue.length - this.head > 0) this.schedule();
  }

  private startWrite(): void {
    if (this.writing !== null || this.prepared === null) return;
    const block = this.prepared;
    this.prepared = null;
    this.writing = block;
    this.writer.write(block.builder.buf, block.start, block.end, block.info, (err) => this.written(block, err));
  }

  /** Stamps, applies and encodes the next group of queued commands. */
  private build(b: BlockBuilder): Block {
    const o = this.opts;
    b.reset();
    const now = this.clock();
    const stamp = now > this.ts ? now : this.ts;
    if (this.pendingEpoch) {
      b.epoch(this.seq, stamp, this.epoch, o.node);
      this.machine.record({ kind: 'epoch', seq: this.seq, ts: stamp, epoch: this.epoch, node: o.node }, []);
      this.pendingEpoch = false;
    }
    const items: Item[] = (this.building = []);
    let snapshot: SnapshotDue | null = null;
    const q = this.queue;
    let ts = stamp;
    while (this.head < q.length && b.commands < o.maxBlockRecords && !b.full()) {
      const item = q[this.head];
      q[this.head++] = undefined as unknown as Item;
      // every command its own time (never decreasing): the first one takes the block's
      if (items.length > 0) {
        const t = this.clock();
        if (t > ts) ts = t;
      }
      const seq = ++this.seq;
      item.seq = seq;
      item.ts = ts;
      items.push(item); // first: if the engine throws, fail() still answers it
      b.command(seq, ts, item.origin, item.cmd);
      this.machine.command(seq, ts, item.cmd, item.events);
      if (o.checkpointEvery > 0 && seq % o.checkpointEvery === 0) b.checkpoint(seq, ts, this.machine.stateHash());
      if (o.snapshotEvery > 0 && seq % o.snapshotEvery === 0) snapshot = this.machine.snapshot();
    }
    if (this.head === q.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > q.length) {
      this.queue = q.slice(this.head);
      this.head = 0;
    }
    this.ts = ts;
    const { start, end } = b.seal(this.seq, ts);
    this.building = [];
    return {
      builder: b, last: this.seq, start, end, items, snapshot,
      info: { firstCommandSeq: items[0].seq, commands: b.commands, firstSeq: b.firstSeq, firstTs: b.firstTs },
    };
  }

  private written(block: Block, err: Error | null): void {
    if (err !== null) {
      this.fail(err);
      return;
    }
    this.writing = null;
    const ship = this.onDurable;
    if (ship !== null) {
      ship({ bytes: Buffer.from(block.builder.buf.subarray(block.start, block.end)), lastSeq: block.last, epoch: this.epoch });
    }
    this.freeBuilders.push(block.builder);
    // keep the disk busy first: the prepared block goes out before anyone is answered
    this.startWrite();
    this.durable = block.last;
    this.held.push(block);
    this.release();
    if (this.queue.length - this.head > 0) this.schedule();
    else if (this.closing && this.idle()) this.drained();
  }

  /**
   * Answers the submitters of held blocks, in order, as far as the gate lets
   * them through; the gate's owner calls it when that may have changed.
   */
  release(): void {
    if (this.failure !== null) return;
    const limit = this.gate === null ? Infinity : this.gate.releasable();
    while (this.heldHead < this.held.length && this.held[this.heldHead].last <= limit) {
      const block = this.held[this.heldHead];
      this.held[this.heldHead++] = undefined as unknown as Block;
      this.publish(block);
    }
    if (this.heldHead === this.held.length) {
      this.held = [];
      this.heldHead = 0;
    }
    if (this.closing && this.idle()) this.drained();
  }

  private publish(block: Block): void {
    const batch = block.items;
    this.committed = block.last;
    this.blocks++;
    this.commands += batch.length;
    for (const item of batch) item.answer();
    this.onCommitted?.(batch);
    if (block.snapshot !== null) this.onSnapshot?.(block.snapshot);
  }

  private drained(): void {
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const fn of w) fn();
  }

  private fail(err: Error): void {
    if (this.failure !== null) return;
    this.failure = err;
    const closed = new ClosedError(`the log failed: ${err.message}`);
    for (const item of this.writing?.items ?? []) item.refuse(closed);
    for (const item of this.prepared?.items ?? []) item.refuse(closed);
    for (const item of this.building) item.refuse(closed);
    for (let i = this.heldHead; i < this.held.length; i++) for (const item of this.held[i].items) item.refuse(closed);
    this.held = [];
    this.heldHead = 0;
    for (let i = this.head; i < this.queue.length; i++) this.queue[i].refuse(closed);
    this.writing = null;
    this.prepared = null;
    this.building = [];
    this.queue = [];
    this.head = 0;
    this.drained();
    this.onFatal?.(err);
  }
}
