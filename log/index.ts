// The log's public surface: the exchange (sequencer + log + engine), recovery,
// reading the log, snapshots, errors.

export { Exchange, type ExchangeOptions, type RecoveryInfo, type Role } from './exchange.js';
export { Sequencer, type Ack, type Committed, type SequencerOptions, type TicketSink } from './sequencer.js';
export { DEFAULT_CONFIG, DEMO_INSTRUMENTS, loadConfig, makeConfig, type LogConfig } from './config.js';
export { recover, type RecoverOptions, type Recovery } from './recovery.js';
export { readBlocks, readLog, type LogBlock, type ReadOptions } from './reader.js';
export { prepareCommand, COMMAND_OPS, MAX_STRING } from './codec.js';
export type { LogRecord, CommandRecord, CheckpointRecord, EpochRecord, CommitRecord } from './records.js';
export { readSnapshot, writeSnapshotSync, type SnapshotData } from './snapshot.js';
export { listSegments, listSnapshots, segmentName, snapshotName } from './files.js';
export { BusyError, ClosedError, DamageError, DivergenceError, InvalidCommandError, NoQuorumError, NotPrimaryError, ReplicationError } from './errors.js';
export { RECORD_SCHEMA_VERSION, SNAPSHOT_SCHEMA_VERSION } from './schema.js';
