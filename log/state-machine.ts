// The seam between the log and the engine, in the spirit of Aeron Cluster's
// ClusteredService: everything that turns log records into engine state goes
// through here — the sequencer (live), recovery (start-up), and later the
// replica and the replay tool — so that they cannot drift apart. It applies
// commands strictly in seq order, verifies checkpoints, follows epochs and
// takes snapshots; it knows nothing of files.

import type { Command, Engine, EngineEvent, EngineSnapshot } from '../engine/index.js';
import { DivergenceError } from './errors.js';
import type { LogRecord } from './records.js';

export interface MachineState {
  /** Seq of the last command applied (0 for none). */
  seq: number;
  /** Greatest ts seen. */
  ts: number;
  /** Highest epoch seen. */
  epoch: number;
}

export interface SnapshotDue {
  seq: number;
  ts: number;
  epoch: number;
  hash: string;
  state: EngineSnapshot;
}

export class LogStateMachine implements MachineState {
  seq: number;
  ts: number;
  epoch: number;

  /**
   * `from`: where the state came from when it is not the first record (a
   * snapshot file): a divergence names it, since a snapshot of another log is
   * the likeliest cause.
   */
  constructor(readonly engine: Engine, base: MachineState = { seq: 0, ts: 0, epoch: 0 }, readonly from: string | null = null) {
    this.seq = base.seq;
    this.ts = base.ts;
    this.epoch = base.epoch;
  }

  /**
   * Applies the command that comes next (seq = this.seq + 1), appending its
   * events to `out`; with `out` null no event objects are asked for
   * (`engine.apply(cmd, seq)`, the engine's fast path: whatever it returns is
   * ignored).
   */
  command(seq: number, ts: number, cmd: Command, out: EngineEvent[] | null): void {
    if (seq !== this.seq + 1) throw new Error(`command seq ${seq} does not follow seq ${this.seq}`);
    if (out === null) this.engine.apply(cmd, seq);
    else this.engine.apply(cmd, seq, out);
    this.seq = seq;
    if (ts > this.ts) this.ts = ts;
  }

  /**
   * Applies one decoded log record. Records at or before the state's seq are
   * already in it (a snapshot covers them) and only move ts and epoch; a
   * checkpoint of the current seq is verified. Returns whether a command was applied.
   * `out`: as for command().
   */
  record(rec: LogRecord, out: EngineEvent[] | null): boolean {
    switch (rec.kind) {
      case 'command':
        if (rec.seq <= this.seq) {
          if (rec.ts > this.ts) this.ts = rec.ts;
          return false;
        }
        this.command(rec.seq, rec.ts, rec.cmd, out);
        return true;
      case 'checkpoint':
        if (rec.seq === this.seq) this.verify(rec.seq, rec.hash);
        break;
      case 'epoch':
        if (rec.epoch > this.epoch) this.epoch = rec.epoch;
        break;
      case 'commit':
        break;
    }
    if (rec.ts > this.ts) this.ts = rec.ts;
    return false;
  }

  /** Throws a DivergenceError when the state after `seq` does not have the recorded hash. */
  verify(seq: number, hash: string): void {
    const actual = this.engine.stateHash();
    if (actual !== hash) throw new DivergenceError(seq, hash, actual, this.from);
  }

  /** Orders resting in the engine: what a state hash has to walk. */
  restingOrders(): number {
    return this.engine.slotsInUse();
  }

  stateHash(): string {
    return this.engine.stateHash();
  }

  /** The full state at the current seq, for a snapshot file. */
  snapshot(): SnapshotDue {
    return { seq: this.seq, ts: this.ts, epoch: this.epoch, hash: this.engine.stateHash(), state: this.engine.snapshot() };
  }
}
