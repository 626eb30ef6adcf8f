// Errors the log raises. Each names what an operator needs to act on: the
// file and byte offset of damage, the seq of a divergence, why a command was
// refused before it got a seq.

/** The input queue is full: the command was not taken (no seq consumed). Retry later. */
export class BusyError extends Error {
  readonly code = 'BUSY';
  constructor(capacity: number) {
    super(`busy: the sequencer queue is full (${capacity} commands waiting); retry later`);
    this.name = 'BusyError';
  }
}

/** The command cannot be logged (wrong shape or types): refused before it got a seq. */
export class InvalidCommandError extends Error {
  readonly code = 'INVALID_COMMAND';
  constructor(reason: string) {
    super(`invalid command: ${reason}`);
    this.name = 'InvalidCommandError';
  }
}

/** The sequencer is closed or has failed; nothing more is accepted. */
export class ClosedError extends Error {
  readonly code = 'CLOSED';
  constructor(why: string) {
    super(why);
    this.name = 'ClosedError';
  }
}

/** Writing the log failed (disk full, I/O error): fatal, the engine is ahead of the log. */
export class LogWriteError extends Error {
  readonly code = 'LOG_WRITE_FAILED';
  /** The errno name (ENOSPC, EIO, EFBIG, ...). */
  readonly errno: string;
  constructor(readonly file: string, what: string, cause: NodeJS.ErrnoException) {
    const errno = cause.code ?? 'EIO';
    super(`${what} ${file} failed: ${errno}${cause.message.includes(errno) ? ` (${cause.message})` : `: ${cause.message}`}`);
    this.errno = errno;
    this.name = 'LogWriteError';
  }
}

/** A log file is damaged somewhere other than its torn last block. */
export class DamageError extends Error {
  readonly code = 'LOG_DAMAGED';
  constructor(readonly file: string, readonly offset: number, readonly reason: string) {
    super(`log damaged: ${file} at byte offset ${offset}: ${reason}`);
    this.name = 'DamageError';
  }
}

/**
 * Replay computed another state hash than a checkpoint recorded. `from` names
 * the snapshot the replay started from, if any: a snapshot of another log is
 * the likeliest cause, and the operator must know which file to move aside.
 */
export class DivergenceError extends Error {
  readonly code = 'DIVERGENCE';
  constructor(readonly seq: number, readonly expected: string, readonly actual: string, readonly from: string | null = null) {
    super(`divergence at seq ${seq}: checkpoint hash ${expected}, replay computed ${actual}`
      + (from !== null ? `, replaying from snapshot ${from}; that snapshot may belong to another log (move it aside to replay from the first record)` : ', replaying from the first record'));
    this.name = 'DivergenceError';
  }
}

/**
 * This node does not take orders: it is a replica, or a primary that met a
 * higher epoch (fenced). `leader` is the primary's gateway address
 * (HOST:PORT) when known, so that a client can go there.
 */
export class NotPrimaryError extends Error {
  readonly code = 'NOT_PRIMARY';
  constructor(readonly leader: string | null, why = 'this node is a replica') {
    super(`not primary: ${why}${leader !== null ? `; the primary is at ${leader}` : '; the primary is not known'}`);
    this.name = 'NotPrimaryError';
  }
}

/** Quorum mode: fewer replicas in sync than the quorum needs, so nothing could be acknowledged. */
export class NoQuorumError extends Error {
  readonly code = 'NO_QUORUM';
  constructor(inSync: number, quorum: number) {
    super(`no quorum: ${inSync} of ${quorum} replicas in sync; retry later`);
    this.name = 'NoQuorumError';
  }
}

/**
 * Replication refused something: a corrupted block, a block of an older
 * epoch, a log of another id, a wrong secret. The replica stops following
 * and keeps what it has.
 */
export class ReplicationError extends Error {
  readonly code = 'REPLICATION';
  constructor(reason: string) {
    super(reason);
    this.name = 'ReplicationError';
  }
}
