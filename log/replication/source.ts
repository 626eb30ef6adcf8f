// The primary's side of replication: a TCP endpoint that replicas connect to.
// Each replica says where its log ends; it gets the primary's newest snapshot
// first if it is empty or far behind (and can still take one), then every
// committed block from there on: from the segment files while it is behind,
// from a ring of recent blocks once it is close, then live as blocks become
// durable here. Its acks (seq durable on the replica) drive the quorum gate:
// in quorum mode no command is acknowledged until K replicas have it on disk.
//
// A replica that is behind is fed as fast as its socket drains (backpressure
// through the socket's buffer, never an unbounded queue here).

import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { NoQuorumError, ReplicationError } from '../errors.js';
import type { Exchange } from '../exchange.js';
import { listSnapshots } from '../files.js';
import { readBlocks, type LogBlock } from '../reader.js';
import { BlockBuilder } from '../records.js';
import { commandRange } from '../scanner.js';
import type { DurableBlock } from '../sequencer.js';
import {
  FrameReader, Msg, PROTOCOL_VERSION, blockFrame, frame, jsonFrame, newNonce, numbersFrame, parseJson, proof, proofMatches, readNumbers,
  type Fence, type Hello, type HostPort, type Welcome, type WireError,
} from './protocol.js';

export interface SourceOptions {
  listen: HostPort;
  exchange: Exchange;
  secret: Buffer | null;
  /** Replicas that must have a block durable before it is acknowledged; 0: local mode. */
  quorum: number;
  /** This node's gateway (HOST:PORT), told to replicas so that they can send traders there. */
  gateway: string | null;
  node: string;
  log: (line: string) => void;
  /** A replica more than this many commands behind the newest snapshot gets the snapshot first. */
  snapshotLag?: number;
  /** Bytes of recent blocks kept in memory for replicas that are close behind. */
  ringBytes?: number;
}

export interface ReplicaStatus {
  node: string;
  address: string;
  /** Seq durable on the replica. */
  acked: number;
  lagRecords: number;
  lagMs: number;
  /** Streaming live (it has caught up at least once since it connected). */
  inSync: boolean;
}

interface RingBlock { first: number; last: number; epoch: number; bytes: Buffer; at: number }

class ReplicaConn {
  /** A replica sends only small messages (Hello, Ack, Heartbeat, Fence): nobody makes the primary buffer a large one. */
  readonly reader = new FrameReader(1 << 16);
  readonly nonce = newNonce();
  hello: Hello | null = null;
  /** Next command seq to send. */
  next = 0;
  acked = 0;
  live = false;
  disk: Generator<LogBlock> | null = null;
  /** The epoch in force where the disk read has got to (epochs only grow along the log). */
  diskEpoch = 0;
  lastHeard = Date.now();
  closed = false;

  constructor(readonly socket: Socket, readonly address: string) {}
}

export class ReplicationSource {
  private readonly conns = new Set<ReplicaConn>();
  private ring: RingBlock[] = [];
  private ringBytes = 0;
  /** Seq of the last command in the ring (the ring's blocks run on without a gap up to it). */
  private ringLast: number;
  private quorumSeq: number;
  private readonly timer: NodeJS.Timeout;

  private constructor(private readonly o: SourceOptions, private readonly server: Server) {
    this.ringLast = o.exchange.durableSeq;
    this.quorumSeq = o.exchange.durableSeq;
    o.exchange.onDurable = (b) => this.durable(b);
    if (o.quorum > 0) {
      o.exchange.addGate({
        releasable: () => this.quorumSeq,
        refuse: () => {
          const n = this.inSync();
          return n < o.quorum ? new NoQuorumError(n, o.quorum) : null;
        },
      });
    }
    this.timer = setInterval(() => this.tick(), 200);
    this.timer.unref();
  }

  static start(o: SourceOptions): Promise<ReplicationSource> {
    // hooked into the exchange only once it listens: a port in use leaves no gate behind
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', (e) => reject(new Error(`replication endpoint ${o.listen.host}:${o.listen.port}: ${e.message}`)));
      server.listen(o.listen.port, o.listen.host, () => {
        const src = new ReplicationSource(o, server);
        server.on('connection', (s) => src.accept(s));
        resolve(src);
      });
    });
  }

  get address(): HostPort {
    const a = this.server.address();
    return typeof a === 'object' && a !== null ? { host: a.address, port: a.port } : { host: this.o.listen.host, port: this.o.listen.port };
  }

  /** The gateway's address, once it is listening (replicas are told it in their Welcome). */
  set gateway(address: string | null) {
    this.o.gateway = address;
  }

  /** Connected replicas in sync (streaming live). */
  inSync(): number {
    let n = 0;
    for (const c of this.conns) if (c.live && !c.closed) n++;
    return n;
  }

  replicas(): ReplicaStatus[] {
    const durable = this.o.exchange.durableSeq;
    const now = Date.now();
    const out: ReplicaStatus[] = [];
    for (const c of this.conns) {
      if (c.hello === null) continue;
      out.push({ node: c.hello.node, address: c.address, acked: c.acked, lagRecords: Math.max(0, durable - c.acked), lagMs: this.lagMs(c.acked, now), inSync: c.live });
    }
    return out;
  }

  /** How long the oldest block this replica has not acknowledged has been durable here. */
  private lagMs(acked: number, now: number): number {
    for (const b of this.ring) if (b.last > acked) return now - b.at;
    return 0;
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    const c = new ReplicaConn(socket, `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`);
    this.conns.add(c);
    socket.on('data', (chunk: Buffer) => this.data(c, chunk));
    socket.on('drain', () => this.pump(c));
    socket.on('error', () => undefined);
    socket.on('close', () => this.gone(c));
    socket.write(jsonFrame(Msg.Challenge, { v: PROTOCOL_VERSION, nonce: c.nonce }));
  }

  private gone(c: ReplicaConn): void {
    if (c.closed) return;
    c.closed = true;
    this.conns.delete(c);
    if (c.hello !== null) this.o.log(`replication: replica ${c.hello.node} (${c.address}) disconnected at seq ${c.acked}`);
    this.recount();
  }

  private refuse(c: ReplicaConn, message: string, fatal: boolean): void {
    this.o.log(`replication: refused ${c.hello?.node ?? c.address}: ${message}`);
    c.socket.end(jsonFrame(Msg.Error, { message, fatal } satisfies WireError));
    c.closed = true;
    this.conns.delete(c);
    this.recount();
  }

  private data(c: ReplicaConn, chunk: Buffer): void {
    c.lastHeard = Date.now();
    c.reader.push(chunk);
    for (;;) {
      if (c.closed) return;
      const f = c.reader.next();
      if (f === null) return;
      if (typeof f === 'string') return this.refuse(c, f, true);
      switch (f.type) {
        case Msg.Hello: {
          const h = parseJson<Hello>(f.payload);
          if (h === null || c.hello !== null) return this.refuse(c, 'a malformed or repeated Hello', true);
          this.hello(c, h);
          break;
        }
        case Msg.Ack: {
          const v = readNumbers(f.payload, 1);
          if (v === null || c.hello === null) return this.refuse(c, 'a malformed Ack', true);
          if (v[0] > c.acked) {
            c.acked = v[0];
            this.recount();
          }
          break;
        }
        case Msg.Heartbeat:
          break;
        case Msg.Fence: {
          const fence = parseJson<Fence>(f.payload);
          if (fence === null) return this.refuse(c, 'a malformed Fence', true);
          this.fenceNotice(c, fence);
          return;
        }
        case Msg.Error: {
          const e = parseJson<WireError>(f.payload);
          this.o.log(`replication: replica ${c.hello?.node ?? c.address} stopped: ${e?.message ?? '(no reason)'}`);
          break;
        }
        default:
          return this.refuse(c, `unexpected message type ${f.type}`, true);
      }
    }
  }

  private hello(c: ReplicaConn, h: Hello): void {
    const ex = this.o.exchange;
    if (!proofMatches(proof(this.o.secret, 'replica', c.nonce), h.proof)) return this.refuse(c, 'wrong replication secret', true);
    if (h.v !== PROTOCOL_VERSION) return this.refuse(c, `protocol version ${String(h.v)}, this primary speaks ${PROTOCOL_VERSION}`, true);
    if (typeof h.logSeq !== 'number' || typeof h.stateSeq !== 'number' || typeof h.epoch !== 'number' || typeof h.node !== 'string') return this.refuse(c, 'a malformed Hello', true);
    c.hello = h;
    if (ex.role !== 'primary' || ex.logId === null) {
      return this.refuse(c, `this node is ${ex.role}, not primary${ex.leader !== null ? `; the primary's gateway is ${ex.leader}` : ''}`, false);
    }
    const logId = ex.logId;
    if (h.logId !== null && h.logId !== logId) return this.refuse(c, `the replica's log ${h.logId} is not this primary's log ${logId}: give the replica an empty data folder`, true);
    if (h.epoch > ex.epoch) {
      this.refuse(c, `the replica has seen epoch ${h.epoch}, this primary is at epoch ${ex.epoch}: this primary was superseded`, true);
      ex.fence(`replica ${h.node} has seen epoch ${h.epoch}, above this node's ${ex.epoch}`, null);
      return;
    }
    const durable = ex.durableSeq;
    if (h.logSeq > durable) return this.refuse(c, `the replica's log reaches seq ${h.logSeq}, this primary's only ${durable}: it cannot follow (promote it, or give it an empty data folder)`, true);
    // the logs must agree where the replica's ends (Raft's log matching, on the last block): a former primary's
    // unacknowledged tail, or a log from another history with the same id, is refused here, not found at a later checkpoint
    if (h.logSeq > 0 && typeof h.tailCrc === 'number') {
      const mine = this.crcOfBlockEndingAt(h.logSeq);
      if (mine !== h.tailCrc) {
        return this.refuse(c, `the replica's log diverged from this primary's at or before seq ${h.logSeq} (${mine === null ? 'no block of this log ends there' : 'its last block differs'}): `
          + 'it holds commands this primary never had; give it an empty data folder', true);
      }
    }
    const snapshot = h.wantSnapshot ? this.snapshotFor(h) : null;
    c.socket.write(jsonFrame(Msg.Welcome, {
      v: PROTOCOL_VERSION, node: this.o.node, logId, epoch: ex.epoch, durableSeq: durable, gateway: this.o.gateway, snapshot: snapshot !== null,
      proof: proof(this.o.secret, 'primary', h.nonce),
    } satisfies Welcome));
    if (snapshot !== null) c.socket.write(frame(Msg.Snapshot, snapshot));
    c.next = h.logSeq + 1;
    c.diskEpoch = h.epoch;
    this.o.log(`replication: replica ${h.node} (${c.address}) connected; its log ends at seq ${h.logSeq}, this primary's at ${durable}`);
    this.pump(c);
  }

  /** The newest snapshot that saves the replica a long replay, if any. */
  private snapshotFor(h: Hello): Buffer | null {
    const lag = this.o.snapshotLag ?? 100_000;
    const ex = this.o.exchange;
    for (const s of listSnapshots(ex.dataDir)) {
      if (s.seq <= h.stateSeq + lag || s.seq > ex.durableSeq) continue;
      let bytes: Buffer;
      try {
        bytes = readFileSync(s.path);
      } catch {
        continue;
      }
      this.o.log(`replication: sending snapshot ${s.name} (seq ${s.seq}) to ${h.node}`);
      return bytes;
    }
    return null;
  }

  /** A promoted node says it is primary now: a higher (or equal: it was promoted past this node's) epoch fences this one. */
  private fenceNotice(c: ReplicaConn, f: Fence): void {
    const ex = this.o.exchange;
    if (!proofMatches(proof(this.o.secret, `fence ${f.epoch}`, c.nonce), f.proof)) return this.refuse(c, 'a Fence with a wrong replication secret', true);
    if (ex.role === 'replica') {
      // a replica acknowledges nothing: there is nothing to fence. This is a former primary restarted on the same
      // replication address (under a coordinator every node starts as a replica and follows the leader key); fencing
      // it would stop it following anyone for good. Should it be promoted later, the notice (repeated every second)
      // finds it primary and the epochs decide.
      c.socket.end(jsonFrame(Msg.Error, { message: `not fenced: this node is a replica (epoch ${ex.epoch})`, fatal: false } satisfies WireError));
    } else if (typeof f.epoch === 'number' && f.epoch >= ex.epoch) {
      ex.fence(`node ${String(f.node)} was promoted to primary at epoch ${f.epoch} (this node: epoch ${ex.epoch})`, f.gateway ?? null);
      c.socket.end(jsonFrame(Msg.Error, { message: 'fenced', fatal: false } satisfies WireError));
    } else {
      c.socket.end(jsonFrame(Msg.Error, { message: `not fenced: this node is at epoch ${ex.epoch}, above ${String(f.epoch)}`, fatal: true } satisfies WireError));
    }
    c.closed = true;
    this.conns.delete(c);
  }

  /** CRC of this log's block whose last command is `seq` (from the ring or the files); null if none ends there. */
  private crcOfBlockEndingAt(seq: number): number | null {
    const r = this.ring;
    for (let i = r.length - 1; i >= 0 && r[i].last >= seq; i--) {
      if (r[i].last === seq) return r[i].bytes.readUInt32BE(r[i].bytes.length - 4);
    }
    try {
      for (const b of readBlocks(this.o.exchange.dataDir, { fromSeq: seq })) {
        const range = commandRange(b.records);
        if (range === null || range.last < seq) continue;
        if (range.last !== seq) return null;
        // what the replica holds of an older-schema block is its re-encoding
        const bytes = b.raw ?? reencode(b);
        return bytes.readUInt32BE(bytes.length - 4);
      }
    } catch {
      // a damaged log answers nothing: the replica is refused
    }
    return null;
  }

  /** Sends what the replica lacks while its socket takes it. */
  private pump(c: ReplicaConn): void {
    if (c.closed || c.hello === null) return;
    const ex = this.o.exchange;
    while (!c.socket.writableNeedDrain) {
      if (c.next > ex.durableSeq) {
        if (!c.live) {
          c.live = true;
          this.o.log(`replication: replica ${c.hello.node} is in sync at seq ${c.next - 1}`);
          this.recount();
        }
        return;
      }
      const b = this.fromRing(c.next) ?? this.fromDisk(c);
      if (b === null) return;
      c.socket.write(blockFrame(b.epoch, b.first, b.last, ex.durableSeq, b.bytes));
      c.next = b.last + 1;
    }
  }

  private fromRing(next: number): RingBlock | null {
    const r = this.ring;
    if (r.length === 0 || next < r[0].first || next > this.ringLast) return null;
    let lo = 0;
    let hi = r.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (r[mid].last < next) lo = mid + 1;
      else hi = mid;
    }
    return r[lo].first === next ? r[lo] : null;
  }

  private fromDisk(c: ReplicaConn): RingBlock | null {
    for (let attempt = 0; attempt < 2; attempt++) {
      c.disk ??= readBlocks(this.o.exchange.dataDir, { fromSeq: c.next });
      for (;;) {
        let r: IteratorResult<LogBlock>;
        try {
          r = c.disk.next();
        } catch (e) {
          this.refuse(c, `reading this primary's log: ${(e as Error).message}`, false);
          return null;
        }
        if (r.done === true) break;
        const range = commandRange(r.value.records);
        if (range === null || range.last < c.next) continue;
        if (range.first !== c.next) {
          this.refuse(c, `the replica's log ends at seq ${c.next - 1}, inside a block of this primary's log (seqs ${range.first}-${range.last}): not the same log`, true);
          return null;
        }
        for (const rec of r.value.records) if (rec.kind === 'epoch' && rec.epoch > c.diskEpoch) c.diskEpoch = rec.epoch;
        return { first: range.first, last: range.last, epoch: c.diskEpoch, bytes: r.value.raw ?? reencode(r.value), at: Date.now() };
      }
      c.disk = null;
    }
    this.refuse(c, `seq ${c.next} is neither in this primary's log files nor in memory`, false);
    return null;
  }

  /** A block became durable here: into the ring, and out to every replica that is live. */
  private durable(b: DurableBlock): void {
    // The ring runs on only over blocks this node's sequencer wrote. A replica
    // promoted to primary grew its log through appendBlock (no onDurable), so
    // its first block as primary does not follow what the ring last saw (seq 0
    // when the source started with an empty replica): counting from there
    // would mislabel the block, and live replicas, waiting for b.firstSeq,
    // would never get it (in quorum mode nothing is ever acknowledged again).
    // Start the ring afresh at this block; replicas behind it read the files.
    if (b.firstSeq !== this.ringLast + 1) {
      this.ring = [];
      this.ringBytes = 0;
    }
    const first = b.firstSeq;
    const rb: RingBlock = { first, last: b.lastSeq, epoch: b.epoch, bytes: b.bytes, at: Date.now() };
    this.ringLast = b.lastSeq;
    this.ring.push(rb);
    this.ringBytes += b.bytes.length;
    const max = this.o.ringBytes ?? 64 << 20;
    let drop = 0;
    while (this.ringBytes > max && drop < this.ring.length - 1) this.ringBytes -= this.ring[drop++].bytes.length;
    if (drop > 0) this.ring = this.ring.slice(drop);
    for (const c of this.conns) {
      if (!c.live || c.closed || c.next !== first) continue;
      if (c.socket.writableNeedDrain) continue; // pumped on drain
      c.socket.write(blockFrame(rb.epoch, rb.first, rb.last, rb.last, rb.bytes));
      c.next = rb.last + 1;
    }
  }

  /** The quorum seq: the K-th highest seq durable on a replica. */
  private recount(): void {
    if (this.o.quorum === 0) return;
    const acks = [...this.conns].filter((c) => c.hello !== null && !c.closed).map((c) => c.acked).sort((a, b) => b - a);
    const q = acks.length >= this.o.quorum ? acks[this.o.quorum - 1] : -1;
    if (q > this.quorumSeq) {
      this.quorumSeq = q;
      this.o.exchange.gateChanged();
    }
  }

  private tick(): void {
    const now = Date.now();
    const ex = this.o.exchange;
    for (const c of this.conns) {
      if (c.closed) continue;
      if (now - c.lastHeard > 3000) {
        this.o.log(`replication: replica ${c.hello?.node ?? c.address} silent for 3 s: dropped`);
        c.socket.destroy();
        this.gone(c);
        continue;
      }
      if (c.hello !== null) c.socket.write(numbersFrame(Msg.Heartbeat, ex.durableSeq, ex.epoch));
    }
  }

  close(): Promise<void> {
    clearInterval(this.timer);
    if (this.o.exchange.onDurable !== null) this.o.exchange.onDurable = null;
    for (const c of this.conns) c.socket.destroy();
    this.conns.clear();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A block of an older record schema, re-encoded in the current one (replicas write the current schema). */
function reencode(b: LogBlock): Buffer {
  const builder = new BlockBuilder(1 << 26, 1 << 26);
  builder.reset();
  for (const r of b.records) {
    switch (r.kind) {
      case 'command': builder.command(r.seq, r.ts, r.origin, r.cmd); break;
      case 'checkpoint': builder.checkpoint(r.seq, r.ts, r.hash); break;
      case 'epoch': builder.epoch(r.seq, r.ts, r.epoch, r.node); break;
      case 'commit': {
        const { start, end } = builder.seal(r.seq, r.ts);
        return Buffer.from(builder.buf.subarray(start, end));
      }
    }
  }
  throw new ReplicationError('a block without its commit record');
}
