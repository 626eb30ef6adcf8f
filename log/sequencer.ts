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
import { checkString, normalizedAsIs, prepareCommand } from './codec.js';
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
  /**
   * A checkpoint record (state hash) after every this many commands; 0 for
   * none. A checkpoint hashes the whole book, so with a big book they are
   * spaced wider: at least CHECKPOINT_STRETCH commands per resting order.
   */
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
  /** Seq of its first command. */
  firstSeq: number;
  /** Seq of its last command. */
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


/**
 * The non-allocating way to submit (Sequencer.submitTicket,
 * Exchange.submitTicket): one sink, registered once, hears of every ticket;
 * a ticket is any number the caller chooses (an index into its own table).
 * Nothing is allocated per command on this path when nobody asks for events
 * and no onCommitted subscriber is set.
 */
export interface TicketSink {
  /**
   * The command submitted with `ticket` is durable (and let through by the
   * gate): answered in seq order, exactly when a promise submitter would be.
   * `ack` is the sequencer's own record, reused once the call returns: read
   * seq and ts during the call, keep nothing but `ack.events` (a new array of
   * the command's events when they were asked for at submit; empty when
   * nobody asked for them).
   */
  acked(ticket: number, ack: Readonly<Ack>): void;
  /** The command submitted with `ticket` was taken but will never be acknowledged (the log failed: a ClosedError). */
  failed(ticket: number, err: Error): void;
}

/** The events of a command nobody asked events for (no promise submitter, no subscriber when it was applied). */
const NO_EVENTS = Object.freeze([]) as unknown as EngineEvent[];

/**
 * A command on its way through the sequencer; for a promise submitter it is
 * also the Ack it resolves with, and for a subscriber the Committed it
 * becomes. Items of ticket submissions that nobody else saw are reused.
 */
class Item implements Ack, Committed {
  seq = 0;
  ts = 0;
  events: EngineEvent[] = NO_EVENTS;
  cmd: Command;
  origin: string;
  // private (#) so that an Ack shows only what it is
  #resolve: ((ack: Ack) => void) | null = null;
  #reject: ((err: Error) => void) | null = null;
  #ticket = -1;
  #want = false;

  constructor(cmd: Command, origin: string) {
    this.cmd = cmd;
    this.origin = origin;
  }

  forPromise(resolve: (ack: Ack) => void, reject: (err: Error) => void): void {
    this.#resolve = resolve;
    this.#reject = reject;
    this.#want = true;
  }

  forTicket(ticket: number, want: boolean): void {
    this.#ticket = ticket;
    this.#want = want;
  }

  /** The array the engine appends this command's events to, or null when nobody wants them. */
  eventsOut(subscribed: boolean): EngineEvent[] | null {
    if (!this.#want && !subscribed) return null;
    this.events = [];
    return this.events;
  }

  answer(sink: TicketSink | null): void {
    if (this.#resolve !== null) this.#resolve(this);
    else (sink as TicketSink).acked(this.#ticket, this);
  }

  refuse(err: Error, sink: TicketSink | null): void {
    if (this.#reject !== null) this.#reject(err);
    else sink?.failed(this.#ticket, err);
  }

  /** A ticket item's fields are the sequencer's own again once answered (a promise's Ack is the submitter's). */
  get reusable(): boolean {
    return this.#resolve === null;
  }

  reset(): void {
    this.cmd = null as unknown as Command;
    this.events = NO_EVENTS;
    this.#ticket = -1;
    this.#want = false;
  }
}

/** One group commit on its way; the records are reused, and so is `items` unless a subscriber was handed it. */
class Block {
  builder: BlockBuilder | null = null;
  /** Seq of the last command in it. */
  last = 0;
  start = 0;
  end = 0;
  /** items[0, n) are this block's commands (slots beyond n are stale or empty). */
  items: Item[] = [];
  n = 0;
  snapshot: SnapshotDue | null = null;
  readonly info: BlockInfo = { firstCommandSeq: 0, commands: 0, firstSeq: 0, firstTs: 0 };
  /** The writer's callback, made once per record. */
  readonly done: (err: Error | null) => void;

  constructor(written: (block: Block, err: Error | null) => void) {
    this.done = (err) => written(this, err);
  }
}

const TIME_ORIGIN = performance.timeOrigin; // its getter allocates

/**
 * Commands between two checkpoints per order resting at the first. Hashing
 * costs ~0.4 µs per resting order on the sequencer's thread (405 ms for a
 * book of 1M orders, on the development VM) and a durable command ~1.4 µs,
 * so 16 commands per resting order keep checkpoints under ~2% of the thread
 * however big the book (every 10,000 commands, a 1M-order book would hash 4 s
 * of every second). Positions stay multiples of checkpointEvery; a book
 * smaller than checkpointEvery / 16 gets them exactly as before.
 */
export const CHECKPOINT_STRETCH = 16;

function wallMicros(): number {
  return Math.floor((TIME_ORIGIN + performance.now()) * 1000);
}

export class Sequencer {
  /** The queue: a ring of queued items, its length a power of two, grown up to queueCapacity. */
  private ring: (Item | undefined)[] = new Array<Item | undefined>(1024);
  private qHead = 0;
  private qCount = 0;
  /** Answered ticket items, for reuse. */
  private readonly pool: Item[] = [];
  private readonly freeBlocks: Block[] = [];
  private readonly writtenFn = (block: Block, err: Error | null): void => this.written(block, err);
  private readonly pumpFn = (): void => {
    this.scheduled = false;
    this.pump();
  };
  /** The block being written, and the one built while it is. */
  private writing: Block | null = null;
  private prepared: Block | null = null;
  /** The block a build has not finished (answered by fail() if it throws). */
  private building: Block | null = null;
  /** Two builders: one's buffer is being written while the other fills. */
  private readonly freeBuilders: BlockBuilder[];
  private scheduled = false;
  private closing = false;
  private failure: Error | null = null;
  private pendingEpoch: boolean;
  private seq: number;
  /** Seq of the next checkpoint record (Infinity: none are written). */
  private nextCheckpoint: number;
  private ts: number;
  private durable: number;
  private committed: number;
  /** Blocks durable here, waiting for the gate before their submitters hear of them: held[heldHead, heldTail). */
  private held: Block[] = [];
  private heldHead = 0;
  private heldTail = 0;
  private readonly clock: () => number;
  private drainWaiters: (() => void)[] = [];
  /** Origins repeat (one per session): check each once. */
  private lastOrigin = '';
  /** The command the last successful take() prepared. */
  private taken: Command | null = null;
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
   * While it is set, every command is applied with event objects; a command
   * applied while it was null carries no events (an empty array), unless its
   * submitter asked for them. Leave it null when nobody listens.
   */
  onCommitted: ((batch: readonly Committed[]) => void) | null = null;
  /** Called with every block once it is durable here, before anyone is answered (replication). */
  onDurable: ((block: DurableBlock) => void) | null = null;
  /** null: acknowledge once durable here (local mode). */
  gate: AckGate | null = null;
  /** Where submitTicket's answers go (register once, before the first submitTicket). */
  tickets: TicketSink | null = null;

  /** `machine` holds the engine at start.lastSeq; every command goes through it. */
  constructor(private readonly machine: LogStateMachine, private readonly writer: LogWriter, start: StartState,
    private readonly opts: SequencerOptions) {
    if (machine.seq !== start.lastSeq) throw new Error(`Sequencer: the state is at seq ${machine.seq}, the log at seq ${start.lastSeq}`);
    this.seq = start.lastSeq;
    this.nextCheckpoint = opts.checkpointEvery > 0 ? (Math.floor(start.lastSeq / opts.checkpointEvery) + 1) * opts.checkpointEvery : Infinity;
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
    return this.heldTail - this.heldHead;
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
    return this.qCount;
  }

  /**
   * The checks every submission passes before it is queued: on success sets
   * this.taken and returns null, else the refusal (no seq consumed).
   * `asIs`: take an already normalized command object itself (no copy).
   */
  private take(raw: unknown, origin: string, asIs: boolean): Error | null {
    if (this.failure !== null) return new ClosedError(`the log failed: ${this.failure.message}`);
    if (this.closing) return new ClosedError('the sequencer is shutting down');
    try {
      if (origin !== this.lastOrigin) {
        if (typeof origin !== 'string') throw new InvalidCommandError('origin must be a string');
        const bad = checkString(origin, 'origin');
        if (bad !== null) throw new InvalidCommandError(bad);
        this.lastOrigin = origin;
      }
      this.taken = (asIs ? normalizedAsIs(raw) : null) ?? prepareCommand(raw);
    } catch (e) {
      return e as Error;
    }
    if (this.qCount >= this.opts.queueCapacity) return new BusyError(this.opts.queueCapacity);
    return null;
  }

  private enqueue(item: Item): void {
    let ring = this.ring;
    if (this.qCount === ring.length) {
      // grow (a power of two, so the index wraps with a mask); queueCapacity bounds qCount
      const bigger = new Array<Item | undefined>(ring.length * 2);
      for (let i = 0; i < this.qCount; i++) bigger[i] = ring[(this.qHead + i) & (ring.length - 1)];
      this.ring = ring = bigger;
      this.qHead = 0;
    }
    ring[(this.qHead + this.qCount) & (ring.length - 1)] = item;
    this.qCount++;
    this.schedule();
  }

  private dequeue(): Item {
    const ring = this.ring;
    const item = ring[this.qHead] as Item;
    ring[this.qHead] = undefined;
    this.qHead = (this.qHead + 1) & (ring.length - 1);
    this.qCount--;
    return item;
  }

  /**
   * Sequences one command. Resolves once the block holding it is durable;
   * rejects with BusyError (queue full), InvalidCommandError (cannot be
   * logged) or ClosedError without consuming a seq. The Ack carries the
   * command's events. Allocates a promise, its Ack and the events per
   * command: submitTicket does not.
   */
  submit(raw: unknown, origin: string): Promise<Ack> {
    const refused = this.take(raw, origin, false);
    if (refused !== null) return Promise.reject(refused);
    const item = new Item(this.taken as Command, origin);
    this.taken = null;
    return new Promise<Ack>((resolve, reject) => {
      item.forPromise(resolve, reject);
      this.enqueue(item);
    });
  }

  /**
   * Sequences one command without allocating: its answer goes to the
   * registered TicketSink (`tickets`) with `ticket`, in seq order, once the
   * block holding it is durable and the gate lets it through. Returns null
   * when it is taken, else the refusal (BusyError, InvalidCommandError,
   * ClosedError): nothing was queued and the sink will not hear of it.
   *
   * `events`: whether the sink wants the command's events (event objects
   * are then built for it; otherwise the engine runs its fast path).
   *
   * A command that is already normalized (a plain object holding only the
   * schema's fields of its op, none null or undefined, well-formed) is taken
   * as it is, not copied: the caller must not change it until it is answered.
   * Anything else is copied and normalized as submit() does.
   */
  submitTicket(raw: unknown, origin: string, ticket: number, events = false): Error | null {
    if (this.tickets === null) throw new Error('Sequencer.submitTicket: register a TicketSink (sequencer.tickets) first');
    const refused = this.take(raw, origin, true);
    if (refused !== null) return refused;
    const item = this.pool.pop() ?? new Item(null as unknown as Command, origin);
    item.cmd = this.taken as Command;
    item.origin = origin;
    this.taken = null;
    item.forTicket(ticket, events);
    this.enqueue(item);
    return null;
  }

  /** Stops taking commands and resolves once everything queued is durable. */
  close(): Promise<void> {
    this.closing = true;
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private idle(): boolean {
    return this.writing === null && this.prepared === null && this.qCount === 0 && this.heldTail === this.heldHead;
  }

  /** Whether every taken command is durable here (some may still be held by the gate). */
  get allWritten(): boolean {
    return this.writing === null && this.prepared === null && this.qCount === 0;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.pumpFn);
  }

  /** Builds a block if there is room for one, and starts a write if none is running. */
  private pump(): void {
    if (this.failure !== null) return;
    if (this.prepared === null && this.qCount > 0) {
      try {
        this.prepared = this.build(this.freeBuilders.pop() as BlockBuilder);
      } catch (e) {
        this.fail(e as Error);
        return;
      }
    }
    this.startWrite();
    // the next block is built while this one is written
    if (this.prepared === null && this.qCount > 0) this.schedule();
  }

  private startWrite(): void {
    if (this.writing !== null || this.prepared === null) return;
    const block = this.prepared;
    this.prepared = null;
    this.writing = block;
    this.writer.write((block.builder as BlockBuilder).buf, block.start, block.end, block.info, block.done);
  }

  /** Stamps, applies and encodes the next group of queued commands, in place. */
  private build(b: BlockBuilder): Block {
    const o = this.opts;
    b.reset();
    const block = this.freeBlocks.pop() ?? new Block(this.writtenFn);
    block.builder = b;
    block.snapshot = null;
    block.n = 0;
    this.building = block;
    const now = this.clock();
    const stamp = now > this.ts ? now : this.ts;
    if (this.pendingEpoch) {
      b.epoch(this.seq, stamp, this.epoch, o.node);
      this.machine.record({ kind: 'epoch', seq: this.seq, ts: stamp, epoch: this.epoch, node: o.node }, null);
      this.pendingEpoch = false;
    }
    const items = block.items;
    const subscribed = this.onCommitted !== null;
    const checkpointEvery = o.checkpointEvery;
    const snapshotEvery = o.snapshotEvery;
    let n = 0;
    let ts = stamp;
    while (this.qCount > 0 && b.commands < o.maxBlockRecords && !b.full()) {
      const item = this.dequeue();
      // every command its own time (never decreasing): the first one takes the block's
      if (n > 0) {
        const t = this.clock();
        if (t > ts) ts = t;
      }
      const seq = ++this.seq;
      item.seq = seq;
      item.ts = ts;
      items[n++] = item; // first: if the engine throws, fail() still answers it
      block.n = n;
      b.command(seq, ts, item.origin, item.cmd);
      this.machine.command(seq, ts, item.cmd, item.eventsOut(subscribed));
      if (seq >= this.nextCheckpoint) {
        b.checkpoint(seq, ts, this.machine.stateHash());
        const gap = Math.max(checkpointEvery, CHECKPOINT_STRETCH * this.machine.restingOrders());
        this.nextCheckpoint = Math.ceil((seq + gap) / checkpointEvery) * checkpointEvery;
      }
      if (snapshotEvery > 0 && seq % snapshotEvery === 0) block.snapshot = this.machine.snapshot();
    }
    this.ts = ts;
    block.end = b.sealAt(this.seq, ts);
    block.start = b.start;
    block.last = this.seq;
    const info = block.info;
    info.firstCommandSeq = items[0].seq;
    info.commands = b.commands;
    info.firstSeq = b.firstSeq;
    info.firstTs = b.firstTs;
    this.building = null;
    return block;
  }

  private written(block: Block, err: Error | null): void {
    if (err !== null) {
      this.fail(err);
      return;
    }
    this.writing = null;
    const builder = block.builder as BlockBuilder;
    const ship = this.onDurable;
    if (ship !== null) {
      ship({ bytes: Buffer.from(builder.buf.subarray(block.start, block.end)), firstSeq: block.info.firstCommandSeq, lastSeq: block.last, epoch: this.epoch });
    }
    block.builder = null;
    this.freeBuilders.push(builder);
    // keep the disk busy first: the prepared block goes out before anyone is answered
    this.startWrite();
    this.durable = block.last;
    this.held[this.heldTail++] = block;
    this.release();
    if (this.qCount > 0) this.schedule();
    else if (this.closing && this.idle()) this.drained();
  }

  /**
   * Answers the submitters of held blocks, in order, as far as the gate lets
   * them through; the gate's owner calls it when that may have changed.
   */
  release(): void {
    if (this.failure !== null) return;
    const limit = this.gate === null ? Infinity : this.gate.releasable();
    const held = this.held;
    while (this.heldHead < this.heldTail && held[this.heldHead].last <= limit) {
      const block = held[this.heldHead];
      held[this.heldHead++] = undefined as unknown as Block;
      this.publish(block);
    }
    if (this.heldHead === this.heldTail) {
      this.heldHead = 0;
      this.heldTail = 0;
    }
    if (this.closing && this.idle()) this.drained();
  }

  private publish(block: Block): void {
    const items = block.items;
    const n = block.n;
    const snapshot = block.snapshot;
    this.committed = block.last;
    this.blocks++;
    this.commands += n;
    const sink = this.tickets;
    for (let i = 0; i < n; i++) items[i].answer(sink);
    const sub = this.onCommitted;
    if (sub !== null) {
      // handed out: neither the array nor its items are reused
      items.length = n;
      block.items = [];
      sub(items);
    } else {
      const pool = this.pool;
      for (let i = 0; i < n; i++) {
        const item = items[i];
        items[i] = undefined as unknown as Item;
        if (item.reusable) {
          item.reset();
          pool.push(item);
        }
      }
    }
    block.n = 0;
    block.snapshot = null;
    this.freeBlocks.push(block);
    if (snapshot !== null) this.onSnapshot?.(snapshot);
  }

  private drained(): void {
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const fn of w) fn();
  }

  private refuseBlock(block: Block | null, err: Error): void {
    if (block === null) return;
    for (let i = 0; i < block.n; i++) block.items[i].refuse(err, this.tickets);
  }

  private fail(err: Error): void {
    if (this.failure !== null) return;
    this.failure = err;
    const closed = new ClosedError(`the log failed: ${err.message}`);
    this.refuseBlock(this.writing, closed);
    this.refuseBlock(this.prepared, closed);
    this.refuseBlock(this.building, closed);
    for (let i = this.heldHead; i < this.heldTail; i++) this.refuseBlock(this.held[i], closed);
    this.held = [];
    this.heldHead = 0;
    this.heldTail = 0;
    while (this.qCount > 0) this.dequeue().refuse(closed, this.tickets);
    this.writing = null;
    this.prepared = null;
    this.building = null;
    this.drained();
    this.onFatal?.(err);
  }
}
