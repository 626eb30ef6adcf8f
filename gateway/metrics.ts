// Prometheus metrics of the gateway (prom-client), in a registry of its own so
// that several gateways in one process (tests) do not collide.

import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface LiveFigures {
  sessions: number;
  /** Open WebSocket connections, logged on or not (GatewayLimits.maxConnections bounds them). */
  connections: number;
  /** Commands waiting in the sequencer's queue. */
  queued: number;
  /** Seq of the last durable command. */
  seq: number;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly framesIn: Counter;
  readonly messagesIn: Counter<'msg_type'>;
  readonly messagesOut: Counter<'msg_type'>;
  readonly rejects: Counter<'reason'>;
  readonly logons: Counter;
  /** Order in (submit) to durable acknowledgement, when its execution report goes out. */
  readonly orderLatency: Histogram;
  /** Each durable write of the log (one block or a group of them): the disk's share of orderLatency. */
  readonly logWrite: Histogram;

  constructor(figures: () => LiveFigures) {
    const registers = [this.registry];
    this.framesIn = new Counter({ name: 'matchlog_gateway_frames_in_total', help: 'WebSocket frames received', registers });
    this.messagesIn = new Counter({ name: 'matchlog_gateway_messages_in_total', help: 'FIX application messages received, by MsgType', labelNames: ['msg_type'], registers });
    this.messagesOut = new Counter({ name: 'matchlog_gateway_messages_out_total', help: 'FIX messages sent, by MsgType', labelNames: ['msg_type'], registers });
    this.rejects = new Counter({ name: 'matchlog_gateway_rejects_total', help: 'Messages refused, by reason', labelNames: ['reason'], registers });
    this.logons = new Counter({ name: 'matchlog_gateway_logons_total', help: 'Successful logons', registers });
    this.orderLatency = new Histogram({
      name: 'matchlog_gateway_order_latency_seconds', help: 'Order received to durable (its execution report goes out)',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers,
    });
    this.logWrite = new Histogram({
      name: 'matchlog_log_write_seconds', help: 'Durable (O_DSYNC) write of a block of the command log',
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.1, 1], registers,
    });
    new Gauge({ name: 'matchlog_gateway_sessions', help: 'Logged-on FIX sessions', registers, collect() { this.set(figures().sessions); } });
    new Gauge({ name: 'matchlog_gateway_connections', help: 'Open WebSocket connections on /fix, logged on or not', registers, collect() { this.set(figures().connections); } });
    new Gauge({ name: 'matchlog_sequencer_queue_depth', help: 'Commands waiting for a group commit', registers, collect() { this.set(figures().queued); } });
    new Gauge({ name: 'matchlog_log_seq', help: 'Seq of the last durable command', registers, collect() { this.set(figures().seq); } });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}

/** What replication reports to /metrics: a primary its replicas, a replica its lag behind the primary. */
export interface ReplicationFigures {
  role: string;
  epoch: number;
  replicas: { node: string; lagRecords: number; lagMs: number; inSync: boolean }[];
  /** A replica's lag behind its primary; null on a primary. */
  lag: { records: number; ms: number; connected: boolean } | null;
}

/** Replica lag (records and ms) on both sides, the node's role and epoch. */
export function addReplicationMetrics(registry: Registry, figures: () => ReplicationFigures): void {
  const registers = [registry];
  new Gauge({
    name: 'matchlog_role', help: 'This node\'s role (1 for the current one): primary, replica or fenced', labelNames: ['role'], registers,
    collect() { this.reset(); this.set({ role: figures().role }, 1); },
  });
  new Gauge({ name: 'matchlog_epoch', help: 'This node\'s epoch', registers, collect() { this.set(figures().epoch); } });
  new Gauge({
    name: 'matchlog_replica_lag_records', help: 'Primary: commands durable here that a replica has not acknowledged as durable', labelNames: ['replica'], registers,
    collect() { this.reset(); for (const r of figures().replicas) this.set({ replica: r.node }, r.lagRecords); },
  });
  new Gauge({
    name: 'matchlog_replica_lag_ms', help: 'Primary: how long the oldest block a replica has not acknowledged has been durable here', labelNames: ['replica'], registers,
    collect() { this.reset(); for (const r of figures().replicas) this.set({ replica: r.node }, r.lagMs); },
  });
  new Gauge({ name: 'matchlog_replicas_in_sync', help: 'Primary: replicas streaming live', registers, collect() { this.set(figures().replicas.filter((r) => r.inSync).length); } });
  new Gauge({ name: 'matchlog_replication_lag_records', help: 'Replica: commands durable on the primary and not yet here', registers, collect() { this.set(figures().lag?.records ?? 0); } });
  new Gauge({ name: 'matchlog_replication_lag_ms', help: 'Replica: how long it has been behind the primary', registers, collect() { this.set(figures().lag?.ms ?? 0); } });
  new Gauge({ name: 'matchlog_replication_connected', help: 'Replica: connected to its primary (1) or not (0)', registers, collect() { this.set(figures().lag?.connected === true ? 1 : 0); } });
}
