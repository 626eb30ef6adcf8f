// One running matchlog node, as `matchlog start` (primary) and `matchlog
// replica` run it: the log and engine (Exchange), the FIX gateway, and the
// replication pieces around them — the endpoint replicas follow, the follower
// of a primary, the etcd coordinator, the local admin endpoint that
// `matchlog promote` talks to, and the fence notices a promoted node sends its
// former primary. Promotion and fencing happen here; what they do to the log
// is in log/exchange.ts.

import { existsSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pino } from 'pino';
import { EtcdCoordinator, type LeaderInfo } from '../log/coordinator.js';
import { NotPrimaryError } from '../log/errors.js';
import { Exchange, type LogConfig } from '../log/index.js';
import { Follower, sendFence } from '../log/replication/follower.js';
import { parseHostPort, type HostPort } from '../log/replication/protocol.js';
import { ReplicationSource } from '../log/replication/source.js';
import { AccountStore, ensureDemoAccounts, type DemoAccounts } from '../gateway/accounts.js';
import { addReplicationMetrics } from '../gateway/metrics.js';
import { Gateway } from '../gateway/server.js';

export interface NodeOptions {
  role: 'primary' | 'replica';
  dataDir: string;
  config: Partial<LogConfig>;
  repair: boolean;
  listen: HostPort;
  accountsPath: string | undefined;
  tls: { cert: Buffer; key: Buffer } | undefined;
  cancelOnDisconnect: boolean;
  resetOnDisconnect: boolean;
  /** Primary: where replicas connect; a replica: where they connect once it is promoted. */
  replication: HostPort | null;
  /** Replicas that must hold a block before it is acknowledged (0: local mode). */
  quorum: number;
  secret: Buffer | null;
  /** Replica: the primary's replication endpoint. */
  primary: HostPort | null;
  /** etcd://HOST:PORT */
  coordinator: string | null;
  node: string | null;
  /** The etcd lease, seconds. */
  leaseSeconds: number;
}

const fmt = (a: HostPort | null): string | null => (a === null ? null : `${a.host}:${a.port}`);

/** The admin endpoint's socket: in the data folder, so that only who can reach the folder can promote. */
export function adminSocketPath(dataDir: string): string {
  return join(resolve(dataDir), 'admin.sock');
}

export class ExchangeNode {
  private source: ReplicationSource | null = null;
  private follower: Follower | null = null;
  /** HOST:PORT the follower follows. */
  private following: HostPort | null = null;
  private coordinator: EtcdCoordinator | null = null;
  private admin: Server | null = null;
  private fencing: NodeJS.Timeout | null = null;
  private promoting: Promise<{ epoch: number; seq: number }> | null = null;
  private stopped = false;
  private readonly name: string;
  gateway!: Gateway;
  demo: DemoAccounts | null = null;
  /** Settles with the reason the node must stop (a fatal log error, a divergence). */
  readonly failed: Promise<Error>;
  private fail: (e: Error) => void = () => undefined;

  private constructor(readonly o: NodeOptions, readonly exchange: Exchange, private readonly say: (line: string) => void) {
    this.name = o.node ?? `${hostname()}:${basename(resolve(o.dataDir))}`;
    this.failed = new Promise<Error>((r) => { this.fail = r; });
  }

  static async open(o: NodeOptions): Promise<ExchangeNode> {
    const say = (l: string): void => { process.stderr.write(`matchlog: ${l}\n`); };
    let fatal: (e: Error) => void = () => undefined;
    // with a coordinator every node starts as a replica: the leader key decides who writes
    const asReplica = o.role === 'replica' || o.coordinator !== null;
    const ex = await Exchange.open({ dataDir: o.dataDir, config: o.config, repair: o.repair, log: say, onFatal: (e) => fatal(e), replica: asReplica });
    const node = new ExchangeNode(o, ex, say);
    fatal = (e) => node.fail(e);
    try {
      await node.boot();
    } catch (e) {
      await node.close().catch(() => undefined);
      throw e;
    }
    return node;
  }

  get accountsPath(): string {
    return this.o.accountsPath ?? join(this.o.dataDir, 'accounts.json');
  }

  private async boot(): Promise<void> {
    const o = this.o;
    const ex = this.exchange;
    // bound at once, so that its real port (even for port 0) is what the leader key and the startup line say;
    // it serves only while this node is primary
    if (o.replication !== null) await this.startSource();
    if (o.role === 'replica' && o.primary !== null) {
      this.follow(o.primary);
      // a snapshot from the primary can only be taken before the gateway serves
      await (this.follower as Follower).ready(3000);
    }
    if (o.role === 'replica' && o.accountsPath === undefined) {
      this.say(`replica: using its own accounts file ${this.accountsPath}; give it the primary's (--accounts) so that traders' passwords work after a failover`);
    }
    this.demo = await ensureDemoAccounts(o.dataDir, this.accountsPath);
    const logger = pino({ level: process.env.MATCHLOG_LOG_LEVEL ?? 'info', base: { pid: process.pid } }, pino.destination(2));
    this.gateway = await Gateway.start({
      exchange: ex, listen: o.listen, accounts: AccountStore.load(this.accountsPath), sessionsDir: join(o.dataDir, 'sessions'), logger,
      cancelOnDisconnect: o.cancelOnDisconnect, resetOnDisconnect: o.resetOnDisconnect, tls: o.tls,
      admin: { secret: o.secret, handle: (req, res) => this.adminRequest(req, res) },
    });
    if (this.source !== null) this.source.gateway = this.gatewayAddress;
    addReplicationMetrics(this.gateway.metrics.registry, () => {
      const f = this.follower?.status() ?? null;
      return {
        role: ex.role, epoch: ex.epoch,
        replicas: this.source?.replicas() ?? [],
        lag: ex.role === 'replica' ? { records: f?.lagRecords ?? 0, ms: f?.lagMs ?? 0, connected: f?.connected ?? false } : null,
      };
    });
    await this.startAdmin();
    if (o.coordinator !== null) await this.startCoordinator(o.coordinator);
  }

  /** The gateway's address as HOST:PORT (what replicas and clients are told). */
  get gatewayAddress(): string {
    const u = new URL(this.gateway.url);
    return `${u.hostname}:${u.port}`;
  }

  private async startSource(): Promise<void> {
    if (this.o.replication === null || this.source !== null) return;
    this.source = await ReplicationSource.start({
      listen: this.o.replication, exchange: this.exchange, secret: this.o.secret, quorum: this.o.quorum,
      gateway: this.gateway === undefined ? `${this.o.listen.host}:${this.o.listen.port}` : this.gatewayAddress, node: this.name, log: this.say,
    });
  }

  /** Follows `primary` (stopping the follower of another one); a no-op if it already does. */
  private follow(primary: HostPort): void {
    if (this.follower !== null) {
      if (fmt(this.following) === fmt(primary)) return;
      void this.follower.stop();
    }
    this.following = primary;
    const f = new Follower({ primary, exchange: this.exchange, secret: this.o.secret, node: this.name, log: this.say });
    f.onFatal = (e) => {
      this.say(`replica stopped: ${e.message}; the data in ${this.o.dataDir} is kept as it was`);
      this.fail(e);
    };
    f.onProgress = (seq) => this.coordinator?.reportProgress(seq);
    this.follower = f;
    f.start();
  }

  private async startCoordinator(url: string): Promise<void> {
    const c = await EtcdCoordinator.connect({ url, node: this.name, ttlSeconds: this.o.leaseSeconds, log: this.say });
    this.coordinator = c;
    const ex = this.exchange;
    c.onLost = (reason, leader) => ex.fence(`the coordinator: ${reason}`, leader?.gateway ?? null);
    // fenced another way (a replica or a promoted node with a higher epoch): do not sit on the leader key
    ex.onRole((role) => { if (role === 'fenced' && c.state() === 'leader') c.resign('this node was fenced'); });
    // a leader under a lease acknowledges only while the lease is certainly held
    // and takes no new command once it may have lapsed (e.g. just resumed from a pause, or etcd unreachable): a
    // command taken then could never be acknowledged, but would sit in this log as a tail the next leader lacks
    ex.addGate({
      releasable: () => (ex.role === 'primary' && Date.now() >= c.safeUntil() ? -1 : Infinity),
      refuse: () => (ex.role === 'primary' && Date.now() >= c.safeUntil()
        ? new NotPrimaryError(null, 'this node cannot renew its lease on the leader key (etcd unreachable, or this process was paused); it takes no order until that is settled')
        : null),
    });
    const me = { gateway: this.gatewayAddress, replication: this.source === null ? null : fmt(this.source.address), minEpoch: () => ex.epoch + 1 };
    if (this.o.role === 'primary') {
      const r = await c.campaign({ ...me, minEpoch: me.minEpoch() });
      if (r.won) {
        await this.promote(r.epoch);
        return;
      }
      this.say(`the leader key is held by ${r.leader?.node ?? '(unknown)'}: starting as its replica`);
      this.followLeader(r.leader);
    } else {
      c.reportProgress(ex.durableSeq);
    }
    c.follow({
      seq: () => ex.durableSeq, me,
      onLeader: (l: LeaderInfo | null) => this.followLeader(l),
      elected: (epoch) => {
        this.promote(epoch).catch((e: Error) => {
          this.say(`promotion at epoch ${epoch} failed: ${e.message}`);
          // holding the key without order entry would stop every other node from taking over
          c.resign(`promotion at epoch ${epoch} failed: ${e.message}`);
        });
      },
    });
  }

  /** A replica under a coordinator follows whoever holds the leader key. */
  private followLeader(l: LeaderInfo | null): void {
    const ex = this.exchange;
    if (l === null || l.node === this.name || ex.role !== 'replica') return;
    ex.setRole('replica', l.gateway);
    const to = l.replication === null ? null : parseHostPort(l.replication);
    if (to !== null) this.follow(to);
  }

  /**
   * Makes this replica the primary. `epoch` is the coordinator's; without one
   * it is one above any epoch this node has seen (its own log's, its
   * primary's). Resolves once order entry is open.
   */
  promote(epoch?: number): Promise<{ epoch: number; seq: number }> {
    this.promoting ??= this.doPromote(epoch).finally(() => { this.promoting = null; });
    return this.promoting;
  }

  private async doPromote(given?: number): Promise<{ epoch: number; seq: number }> {
    const ex = this.exchange;
    if (ex.role !== 'replica') throw new Error(`this node is ${ex.role}, not a replica`);
    // the primary this node followed is the one to fence (under a coordinator, the last leader)
    const formerPrimary = this.following ?? this.o.primary;
    const primaryEpoch = this.follower?.status().primaryEpoch ?? 0;
    await this.follower?.stop();
    this.follower = null;
    this.following = null;
    let epoch = given;
    if (epoch === undefined && this.coordinator !== null) {
      const r = await this.coordinator.campaign({ gateway: this.gatewayAddress, replication: this.source === null ? null : fmt(this.source.address), minEpoch: Math.max(ex.epoch, primaryEpoch) + 1 });
      if (!r.won) throw new Error(`the leader key is held by ${r.leader?.node ?? '(unknown)'} (epoch ${r.leader?.epoch ?? '?'}): not promoted`);
      epoch = r.epoch;
    }
    epoch ??= Math.max(ex.epoch, primaryEpoch) + 1;
    await ex.promote(epoch);
    // a node promoted on an empty log (a fresh cluster under a coordinator) creates the configured instruments
    // (in quorum mode their acknowledgement waits for a replica: not awaited here)
    if (ex.seq === 0) ex.seedConfigured().catch((e: Error) => this.say(`creating the configured instruments: ${e.message}`));
    await this.startSource();
    if (formerPrimary !== null) this.fenceFormer(formerPrimary, epoch);
    this.say(`promoted: this node is primary at epoch ${epoch} from seq ${ex.seq}; order entry is open`);
    return { epoch, seq: ex.seq };
  }

  /** Tells the former primary, now and whenever it comes back, that it was superseded. */
  private fenceFormer(to: HostPort, epoch: number): void {
    let delay = 250;
    const notice = (): void => {
      if (this.stopped || this.exchange.role !== 'primary') return;
      sendFence(to, this.o.secret, { node: this.name, epoch, gateway: this.gatewayAddress }).then((ok) => {
        if (ok && delay === 250) this.say(`fenced the former primary at ${to.host}:${to.port}`);
        delay = ok ? 1000 : 250;
        if (!this.stopped) {
          this.fencing = setTimeout(notice, delay);
          this.fencing.unref();
        }
      }, () => undefined);
    };
    notice();
  }

  private async startAdmin(): Promise<void> {
    const path = adminSocketPath(this.o.dataDir);
    // the data folder's lock is held: a socket file left here is a dead node's
    if (existsSync(path)) rmSync(path, { force: true });
    const server = createServer((req, res) => this.adminRequest(req, res));
    await new Promise<void>((ok, bad) => {
      server.once('error', (e) => bad(new Error(`admin endpoint ${path}: ${e.message}`)));
      server.listen(path, () => ok());
    });
    this.admin = server;
  }

  /** The admin API: POST /admin/promote, GET /admin/status (JSON). */
  adminRequest(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (code: number, body: object): void => { res.writeHead(code, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`); };
    if (path === '/admin/promote' && req.method === 'POST') {
      this.promote().then((r) => reply(200, { role: 'primary', ...r, gateway: this.gatewayAddress }), (e: Error) => reply(409, { error: e.message, role: this.exchange.role }));
      return;
    }
    if (path === '/admin/status' && req.method === 'GET') {
      reply(200, this.status());
      return;
    }
    reply(404, { error: 'the admin endpoints are POST /admin/promote and GET /admin/status' });
  }

  status(): object {
    const ex = this.exchange;
    return {
      node: this.name, role: ex.role, epoch: ex.epoch, seq: ex.seq, durableSeq: ex.durableSeq, leader: ex.leader, gateway: this.gatewayAddress,
      replicas: this.source?.replicas() ?? [], follower: this.follower?.status() ?? null,
    };
  }

  /** The startup line's replication part. */
  /**
   * `epoch E, now at seq S; symbols …` for the start-up line. An empty
   * replica (a new one, before the primary's blocks or snapshot arrive, or
   * whose primary is not reachable yet) has neither an epoch nor an
   * instrument: say so, and why, rather than `epoch 0 … symbols ` with
   * nothing after it.
   */
  describeState(): string {
    const ex = this.exchange;
    const symbols = ex.engine.symbols();
    const epoch = ex.epoch === 0 ? 'epoch 0 (none in this log yet)' : `epoch ${ex.epoch}`;
    let sym = `symbols ${symbols.join(' ')}`;
    if (symbols.length === 0) {
      if (ex.role !== 'replica') sym = 'symbols: none (no instrument defined yet)';
      else {
        const f = this.follower?.status() ?? null;
        const from = this.following !== null ? fmt(this.following) : null;
        sym = from === null || f === null
          ? 'symbols: none yet (waiting for a primary to follow)'
          : f.connected
            ? `symbols: none yet (catching up from the primary at ${from}, its log at seq ${f.primarySeq})`
            : `symbols: none yet (the primary at ${from} is not reachable yet; catching up once it is)`;
      }
    }
    return `${epoch}, now at seq ${ex.seq}; ${sym}`;
  }

  describe(): string {
    const parts = [`role ${this.exchange.role}`, `node ${this.name}`];
    if (this.source !== null) parts.push(`replication ${fmt(this.source.address)} (${this.o.quorum > 0 ? `ack quorum ${this.o.quorum}` : 'ack local'})`);
    if (this.o.primary !== null && this.exchange.role === 'replica') parts.push(`following ${fmt(this.o.primary)}`);
    if (this.o.coordinator !== null) parts.push(`coordinator ${this.o.coordinator}`);
    parts.push(`admin ${adminSocketPath(this.o.dataDir)}`);
    return parts.join(', ');
  }

  /** Stops serving; a primary first lets its replicas catch up (so that a clean stop loses nothing on failover), then hands the lease back. */
  async close(): Promise<void> {
    this.stopped = true;
    if (this.fencing !== null) clearTimeout(this.fencing);
    if (this.gateway !== undefined) await this.gateway.close();
    await this.follower?.stop();
    if (this.admin !== null) {
      const a = this.admin;
      await new Promise<void>((r) => a.close(() => r()));
      rmSync(adminSocketPath(this.o.dataDir), { force: true });
    }
    const ex = this.exchange;
    await ex.close({ snapshot: ex.failure === null });
    if (this.source !== null) {
      const deadline = Date.now() + 2000;
      while (Date.now() < deadline && this.source.replicas().some((r) => r.inSync && r.lagRecords > 0)) await new Promise((r) => setTimeout(r, 10));
      await this.source.close();
    }
    await this.coordinator?.close();
  }
}
