// Who is primary is decided in etcd, not by the nodes themselves: two nodes
// that each believe they lead would both acknowledge orders, and a log that
// forks cannot be merged. So the primary holds `${cluster}/leader` under a
// lease, replicas watch it, and when the lease lapses the most caught-up
// replica takes the key (a create-only-if-absent transaction: exactly one
// wins). The key's create revision is the epoch: etcd's revision only grows,
// so every new primary's epoch is above every old one's, and the log fences
// records from an older epoch (it may already hold higher epochs, from
// another etcd cluster or a manual promotion, hence "at least minEpoch").
//
// Losing the key is not something the old primary is told in time: it may be
// paused, partitioned or slow. What it can know is a lower bound on when its
// lease will expire: etcd restarts the TTL when it *receives* a keepalive,
// which is after we *sent* it. So the safe bound is the send time of the
// last keepalive that succeeded + TTL - a margin for clock rate and
// scheduling, computed from timestamps on every call (a process resumed
// after SIGSTOP sees it in the past at once, before any timer or reply has
// run). Nothing here relies on etcd3's own keepalive loop, which records
// reply times and reports a loss only after 2 x TTL.
//
// The epoch is written in the key's value, which is what everyone reads; it
// takes a second transaction (the create revision is known only after the
// create), so a value with epoch 0 means "claimed, epoch not written yet":
// nobody treats it as vacant, nobody reports it as a leader.
//
// Errors from etcd are logged and retried, never thrown out of a timer or a
// watch callback: an outage of etcd must not crash a replica, and a primary
// learns of it through safeUntil() and onLost.

import { Etcd3, EtcdLeaseInvalidError, isRecoverableError, type IKeyValue, type IOptions, type ILeaseKeepAliveResponse, type Watcher } from 'etcd3';

export interface LeaderInfo { node: string; gateway: string | null; replication: string | null; epoch: number }

export interface CoordinatorOptions {
  /** `etcd://127.0.0.1:2379` (or http://); several hosts comma-separated: `etcd://h1:2379,h2:2379`. */
  url: string;
  /** Key prefix, default 'matchlog' → keys `${cluster}/leader`, `${cluster}/replicas/${node}`. */
  cluster?: string;
  /** This node's unique name. */
  node: string;
  /** Lease TTL in seconds (whole seconds, etcd's unit), default 1. */
  ttlSeconds?: number;
  /** Taken off the lease TTL in safeUntil(), default 150 ms. */
  marginMs?: number;
  /** connect() gives up after this long, default 3000 ms. */
  connectTimeoutMs?: number;
  /** Operator log lines. */
  log?: (line: string) => void;
}

export interface CampaignClaim { gateway: string | null; replication: string | null; minEpoch: number }

export interface FollowHooks {
  /** This replica's durable seq (counted as is when choosing who takes over). */
  seq: () => number;
  me: { gateway: string | null; replication: string | null; minEpoch: () => number };
  /** The leader key changed (null = vacant). Not called for this node's own key. */
  onLeader: (l: LeaderInfo | null) => void;
  /** This node won the leader key; from now on it is the leader (safeUntil, onLost). */
  elected: (epoch: number) => void;
}

type Role = 'idle' | 'follower' | 'leader' | 'lost' | 'closed';

interface LeaseRec {
  id: string;
  ttlMs: number;
  /** Send time of the last keepalive (or the grant) that succeeded. */
  okSend: number;
  gone: boolean;
}

/** Throttle of reportProgress: one put per this many ms, the latest value wins. */
const PROGRESS_EVERY_MS = 100;
/** Deadline of one-off calls (gets, puts, transactions). */
const CALL_MS = 2000;
/** Delay before retrying something that failed on an etcd error. */
const RETRY_MS = 200;

type FaultHandling = NonNullable<IOptions['faultHandling']>;
type HostPolicy = ReturnType<NonNullable<FaultHandling['host']>>;
type WatchBackoff = NonNullable<FaultHandling['watchBackoff']>;

/**
 * etcd3's defaults open a circuit breaker for 5 s after 3 failures of a host and
 * back watch reconnects off up to 30 s: with a 1 s lease that would hide a
 * vacancy for many TTLs. Our loops retry on their own schedule, so a call tries
 * each host at most once and a watch reconnects every 250 ms.
 */
function tryEachHost(attempts: number): HostPolicy {
  const none = () => ({ dispose: () => undefined });
  return {
    _altReturn: undefined as never,
    onSuccess: none,
    onFailure: none,
    async execute<T>(fn: (c: { signal: AbortSignal }) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
      let last: unknown = new Error('no attempt');
      for (let i = 0; i < attempts; i++) {
        try {
          return await fn({ signal: signal ?? new AbortController().signal });
        } catch (e) {
          last = e;
          if (!(e instanceof Error && isRecoverableError(e))) throw e;
        }
      }
      throw last;
    },
  };
}

const constantBackoff: WatchBackoff = { duration: 250, next: () => constantBackoff };

/** `etcd://h:p,h2:p2` → ['http://h:p', 'http://h2:p2']. */
export function etcdHosts(url: string): string[] {
  const hosts = url.split(',').map((h) => h.trim()).filter((h) => h !== '').map((h) => {
    if (h.startsWith('etcd://')) return `http://${h.slice('etcd://'.length)}`;
    if (h.startsWith('etcds://')) return `https://${h.slice('etcds://'.length)}`;
    return /^https?:\/\//.test(h) ? h : `http://${h}`;
  }).map((h) => h.replace(/\/+$/, ''));
  if (hosts.length === 0) throw new Error(`no etcd host in '${url}'`);
  return hosts;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The leader key's value; pending = claimed, epoch not written yet. null: not our format. */
export function parseLeader(value: Buffer | string): { info: LeaderInfo; pending: boolean } | null {
  let v: unknown;
  try {
    v = JSON.parse(value.toString());
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  const str = (x: unknown): string | null => (typeof x === 'string' ? x : null);
  if (typeof o.node !== 'string' || typeof o.epoch !== 'number' || !Number.isSafeInteger(o.epoch)) return null;
  const info: LeaderInfo = { node: o.node, gateway: str(o.gateway), replication: str(o.replication), epoch: o.epoch };
  return { info, pending: o.epoch <= 0 };
}

function sameLeader(a: LeaderInfo | null, b: LeaderInfo | null): boolean {
  return a === b || (a !== null && b !== null && a.node === b.node && a.epoch === b.epoch && a.gateway === b.gateway && a.replication === b.replication);
}

export class EtcdCoordinator {
  onLost: ((reason: string, leader: LeaderInfo | null) => void) | null = null;
  readonly node: string;
  readonly cluster: string;
  readonly url: string;
  readonly leaderKey: string;
  readonly replicaKey: string;
  readonly ttlSeconds: number;
  readonly marginMs: number;

  private readonly client: Etcd3;
  private readonly logLine: (line: string) => void;
  private role: Role = 'idle';
  private lease: LeaseRec | null = null;
  private leasePending: Promise<LeaseRec> | null = null;
  /** The lease the leader key was created under, while leader. */
  private leaderLease: LeaseRec | null = null;
  private epoch = 0;
  private keepTimer: NodeJS.Timeout | null = null;
  private keepInFlight = false;
  private keepaliveStopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private watcher: Watcher | null = null;
  private watchPending: Promise<void> | null = null;
  private readonly lastLog = new Map<string, number>();
  // follower
  private hooks: FollowHooks | null = null;
  private lastLeader: LeaderInfo | null = null;
  private vacant: boolean | null = null;
  /** Bumped by every change of the leader key; stale vacancy work checks it. */
  private gen = 0;
  private campaigning = false;
  private maxEpochSeen = 0;
  // progress
  private progressSeq: number | null = null;
  private progressTimer: NodeJS.Timeout | null = null;
  private lastPublishAt = 0;
  private published: { seq: number; lease: string } | null = null;
  private progressChain: Promise<void> = Promise.resolve();

  private constructor(client: Etcd3, o: CoordinatorOptions) {
    this.client = client;
    this.url = o.url;
    this.node = o.node;
    this.cluster = o.cluster ?? 'matchlog';
    this.leaderKey = `${this.cluster}/leader`;
    this.replicaKey = `${this.cluster}/replicas/${this.node}`;
    this.ttlSeconds = o.ttlSeconds ?? 1;
    this.marginMs = o.marginMs ?? 150;
    this.logLine = o.log ?? (() => undefined);
  }

  /** Connects and checks that etcd answers; rejects naming the url if it does not within connectTimeoutMs. */
  static async connect(o: CoordinatorOptions): Promise<EtcdCoordinator> {
    if (!o.node) throw new Error('coordinator: node name is empty');
    const ttl = o.ttlSeconds ?? 1;
    if (!Number.isInteger(ttl) || ttl < 1) throw new Error(`coordinator: ttlSeconds must be a whole number >= 1 (got ${ttl})`);
    const hosts = etcdHosts(o.url);
    const timeout = o.connectTimeoutMs ?? 3000;
    const client = new Etcd3({
      hosts,
      dialTimeout: timeout,
      faultHandling: { host: () => tryEachHost(1), global: tryEachHost(hosts.length), watchBackoff: constantBackoff },
    });
    const c = new EtcdCoordinator(client, o);
    const deadline = Date.now() + timeout;
    for (;;) {
      try {
        await client.get(c.leaderKey).options({ deadline: deadline + 50 }).exec();
        return c;
      } catch (e) {
        if (Date.now() + RETRY_MS >= deadline) {
          client.close();
          throw new Error(`etcd is not reachable at ${o.url} (gave up after ${timeout} ms): ${message(e)}`);
        }
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  // --- leadership ---

  /**
   * Tries to take the leader key under this node's lease (create only if absent).
   * Won: epoch = the key's create revision, at least me.minEpoch, also written in the
   * key's value. Rejects if etcd cannot be reached.
   */
  async campaign(me: CampaignClaim): Promise<{ won: true; epoch: number } | { won: false; leader: LeaderInfo | null }> {
    if (this.role === 'closed') throw new Error('coordinator is closed');
    if (this.role === 'leader') return { won: true, epoch: this.epoch };
    const l = await this.ensureLease();
    const claim = (epoch: number) => JSON.stringify({ node: this.node, gateway: me.gateway, replication: me.replication, epoch });
    const res = await this.client.if(this.leaderKey, 'Create', '==', 0)
      .then(this.client.put(this.leaderKey).value(claim(0)).lease(l.id))
      .else(this.client.get(this.leaderKey))
      .options({ deadline: Date.now() + CALL_MS })
      .commit();
    if (!res.succeeded) return { won: false, leader: await this.settledLeader(res.responses[0]?.response_range?.kvs?.[0] ?? null) };
    const created = Number(res.header.revision);
    const epoch = Math.max(created, me.minEpoch);
    const res2 = await this.client.if(this.leaderKey, 'Create', '==', created)
      .then(this.client.put(this.leaderKey).value(claim(epoch)).lease(l.id))
      .else(this.client.get(this.leaderKey))
      .options({ deadline: Date.now() + CALL_MS })
      .commit();
    if (!res2.succeeded || l.gone || this.state() === 'closed') {
      // the lease lapsed between the two transactions
      return { won: false, leader: res2.succeeded ? null : await this.settledLeader(res2.responses[0]?.response_range?.kvs?.[0] ?? null) };
    }
    this.role = 'leader';
    this.epoch = epoch;
    this.leaderLease = l;
    this.maxEpochSeen = Math.max(this.maxEpochSeen, epoch);
    this.log(`${this.node} is leader, epoch ${epoch} (key created at revision ${created})`);
    this.ensureWatch().catch((e: unknown) => this.logError('watch', e));
    return { won: true, epoch };
  }

  /** Date.now()-ms until which acknowledging is safe; 0 when not leader. */
  safeUntil(): number {
    const l = this.leaderLease;
    if (this.role !== 'leader' || l === null || l.gone) return 0;
    return l.okSend + l.ttlMs - this.marginMs;
  }

  /** The current leader (null = vacant); waits briefly if the key is claimed but its epoch not written yet. */
  async leader(): Promise<LeaderInfo | null> {
    const res = await this.client.get(this.leaderKey).options({ deadline: Date.now() + CALL_MS }).exec();
    return this.settledLeader(res.kvs[0] ?? null);
  }

  private async settledLeader(kv: IKeyValue | null): Promise<LeaderInfo | null> {
    for (let i = 0; ; i++) {
      if (kv === null) return null;
      const p = parseLeader(kv.value);
      if (p === null) return null;
      if (!p.pending || i >= 20) return p.info;
      await new Promise((r) => setTimeout(r, 10));
      const res = await this.client.get(this.leaderKey).options({ deadline: Date.now() + CALL_MS }).exec();
      kv = res.kvs[0] ?? null;
    }
  }

  /** The current role: 'idle' | 'follower' | 'leader' | 'lost' | 'closed'. */
  state(): Role {
    return this.role;
  }

  // --- replica ---

  /** Publishes this replica's durable seq under its lease, at most every 100 ms (latest value wins). */
  reportProgress(seq: number): void {
    if (this.role === 'closed') return;
    this.progressSeq = seq;
    if (this.progressTimer !== null) return;
    const wait = this.lastPublishAt + PROGRESS_EVERY_MS - Date.now();
    if (wait <= 0) {
      void this.publishProgress();
      return;
    }
    this.progressTimer = setTimeout(() => {
      this.progressTimer = null;
      void this.publishProgress();
    }, wait);
  }

  /** Puts the latest progress, one put at a time so that an older value never lands last. */
  private publishProgress(): Promise<void> {
    this.lastPublishAt = Date.now();
    const p = this.progressChain.then(async () => {
      const seq = this.progressSeq;
      if (seq === null || this.role === 'closed' || this.role === 'lost') return;
      try {
        const l = await this.ensureLease();
        if (this.published !== null && this.published.seq === seq && this.published.lease === l.id) return;
        await this.client.put(this.replicaKey).value(JSON.stringify({ node: this.node, seq })).lease(l.id)
          .options({ deadline: Date.now() + CALL_MS }).exec();
        this.published = { seq, lease: l.id };
      } catch (e) {
        this.logError('progress', e);
      }
    });
    this.progressChain = p;
    return p;
  }

  /** Watches the leader key as a replica; takes it over when it is vacant (see the header of this file). */
  follow(hooks: FollowHooks): void {
    if (this.role === 'closed' || this.role === 'leader') throw new Error(`coordinator: cannot follow while ${this.role}`);
    this.hooks = hooks;
    this.role = 'follower';
    this.lastLeader = null;
    this.vacant = null;
    this.progressSeq = hooks.seq();
    void this.publishProgress();
    this.startFollowing();
  }

  private startFollowing(): void {
    if (this.role !== 'follower') return;
    this.ensureWatch().then(() => {
      // a watcher that already existed (we led before) does not replay the key: look at it now
      if (this.role === 'follower' && this.vacant === null) return this.client.get(this.leaderKey).options({ deadline: Date.now() + CALL_MS }).exec()
        .then((res) => this.safely('leader key', () => this.onKey(res.kvs[0] ?? null)));
      return undefined;
    }).catch((e: unknown) => {
      this.logError('follow', e);
      this.later(() => this.startFollowing(), RETRY_MS);
    });
  }

  private onKey(kv: IKeyValue | null): void {
    if (this.role === 'closed') return;
    const parsed = kv === null ? null : parseLeader(kv.value);
    if (this.role === 'leader') {
      const mine = this.leaderLease;
      if (kv === null) this.lose('the leader key was deleted', null);
      else if (mine === null || kv.lease !== mine.id) this.lose(`the leader key is held by ${parsed?.info.node ?? 'another lease'}`, parsed?.info ?? null);
      return;
    }
    if (this.role !== 'follower' || this.hooks === null) return;
    if (kv !== null && this.lease !== null && kv.lease === this.lease.id) return; // our own claim, campaign() is on it
    this.gen++;
    if (kv === null) {
      if (this.vacant !== true) {
        this.vacant = true;
        this.lastLeader = null;
        this.log(`${this.node}: the leader key is vacant`);
        this.notifyLeader(null);
      }
      void this.onVacant(this.gen);
      return;
    }
    this.vacant = false;
    if (parsed === null) {
      this.log(`${this.node}: the leader key holds a value this version cannot read; treating it as taken`);
      return;
    }
    this.maxEpochSeen = Math.max(this.maxEpochSeen, parsed.info.epoch);
    if (parsed.pending || sameLeader(this.lastLeader, parsed.info)) return;
    this.lastLeader = parsed.info;
    this.notifyLeader(parsed.info);
  }

  private notifyLeader(l: LeaderInfo | null): void {
    const hooks = this.hooks;
    if (hooks !== null) this.safely('onLeader', () => hooks.onLeader(l));
  }

  /**
   * The most caught-up live replica campaigns at once; the others after 2 x TTL
   * (if it is still vacant then, that one is dead too). Publishing our own seq
   * before reading everyone's means that of two replicas deciding at once, the
   * one reading last sees the other's fresh value.
   */
  private async onVacant(gen: number): Promise<void> {
    const hooks = this.hooks;
    if (hooks === null) return;
    try {
      const mySeq = hooks.seq();
      this.progressSeq = mySeq;
      await this.publishProgress();
      if (gen !== this.gen || this.role !== 'follower') return;
      const prefix = `${this.cluster}/replicas/`;
      const res = await this.client.getAll().prefix(prefix).options({ deadline: Date.now() + CALL_MS }).exec();
      if (gen !== this.gen || this.role !== 'follower') return;
      let best = { node: this.node, seq: mySeq };
      for (const kv of res.kvs) {
        const node = kv.key.toString().slice(prefix.length);
        if (node === this.node) continue;
        const seq = replicaSeq(kv.value);
        if (seq === null) continue;
        if (seq > best.seq || (seq === best.seq && node < best.node)) best = { node, seq };
      }
      if (best.node === this.node) {
        this.log(`${this.node}: most caught-up replica (seq ${mySeq}), campaigning`);
        await this.tryElect(gen);
      } else {
        this.log(`${this.node}: waiting ${2 * this.ttlSeconds} s for ${best.node} (seq ${best.seq}; ours ${mySeq}) to take over`);
        this.later(() => void this.tryElect(gen), 2 * this.ttlSeconds * 1000);
      }
    } catch (e) {
      this.logError('vacancy', e);
      if (gen === this.gen) this.later(() => void this.onVacant(gen), RETRY_MS);
    }
  }

  private async tryElect(gen: number): Promise<void> {
    const hooks = this.hooks;
    if (hooks === null || gen !== this.gen || this.role !== 'follower' || this.campaigning) return;
    this.campaigning = true;
    try {
      const minEpoch = Math.max(hooks.me.minEpoch(), this.maxEpochSeen + 1);
      const r = await this.campaign({ gateway: hooks.me.gateway, replication: hooks.me.replication, minEpoch });
      if (r.won) this.safely('elected', () => hooks.elected(r.epoch));
      else this.log(`${this.node}: campaign lost to ${r.leader?.node ?? '(vacant again)'}`);
    } catch (e) {
      this.logError('campaign', e);
      if (gen === this.gen) this.later(() => void this.tryElect(gen), RETRY_MS);
    } finally {
      this.campaigning = false;
    }
  }

  // --- lease and keepalive ---

  private ensureLease(): Promise<LeaseRec> {
    if (this.lease !== null && !this.lease.gone) return Promise.resolve(this.lease);
    if (this.role === 'closed') return Promise.reject(new Error('coordinator is closed'));
    this.leasePending ??= this.grant().finally(() => { this.leasePending = null; });
    return this.leasePending;
  }

  private async grant(): Promise<LeaseRec> {
    const sent = Date.now();
    const res = await this.client.leaseClient.leaseGrant({ TTL: this.ttlSeconds }, { deadline: sent + CALL_MS });
    const l: LeaseRec = { id: String(res.ID), ttlMs: Number(res.TTL) * 1000, okSend: sent, gone: false };
    if (this.role === 'closed') {
      await this.revoke(l);
      throw new Error('coordinator is closed');
    }
    if (l.ttlMs !== this.ttlSeconds * 1000) this.log(`etcd granted a ${res.TTL} s lease for a ${this.ttlSeconds} s request`);
    this.lease = l;
    this.keepTimer ??= setInterval(() => this.tick(), Math.max(50, Math.floor(this.ttlSeconds * 250)));
    return l;
  }

  private tick(): void {
    if (this.role === 'closed') return;
    if (this.role === 'follower' && this.hooks !== null) {
      const hooks = this.hooks;
      this.safely('seq', () => this.reportProgress(hooks.seq()));
    }
    const l = this.lease;
    if (l === null || l.gone || this.keepInFlight || this.keepaliveStopped) return;
    this.keepInFlight = true;
    this.keepaliveOnce(l).then((alive) => {
      if (!alive) this.leaseGone(l, 'the lease expired (keepalive: lease not found)');
    }, (e: unknown) => {
      if (e instanceof EtcdLeaseInvalidError) return this.leaseGone(l, 'the lease expired (keepalive: lease not found)');
      this.logError('keepalive', e);
      if (this.role === 'leader' && this.leaderLease === l && Date.now() >= this.safeUntil()) {
        this.lose(`etcd unreachable past the safe bound: ${message(e)}`, null);
      }
    }).finally(() => { this.keepInFlight = false; });
  }

  /** One keepalive; true if etcd renewed the lease, false if it no longer knows it. */
  private async keepaliveOnce(l: LeaseRec): Promise<boolean> {
    const sent = Date.now();
    const stream = await this.client.leaseClient.leaseKeepAlive({ deadline: sent + Math.max(200, l.ttlMs / 2) });
    try {
      const res = await new Promise<ILeaseKeepAliveResponse>((resolve, reject) => {
        stream.on('data', resolve);
        stream.on('error', reject); // stays attached: a late error after end() is swallowed here
        stream.write({ ID: l.id });
      });
      if (Number(res.TTL) <= 0) return false;
      l.okSend = Math.max(l.okSend, sent);
      l.ttlMs = Number(res.TTL) * 1000;
      return true;
    } finally {
      stream.end();
    }
  }

  private leaseGone(l: LeaseRec, reason: string): void {
    if (l.gone) return;
    l.gone = true;
    if (this.lease === l) this.lease = null;
    if (this.role === 'leader' && this.leaderLease === l) {
      this.lose(reason, null);
    } else if (this.role === 'follower') {
      this.log(`${this.node}: ${reason}; taking a new lease`);
      this.published = null;
      void this.publishProgress();
    }
  }

  private lose(reason: string, leader: LeaderInfo | null): void {
    if (this.role !== 'leader') return;
    this.role = 'lost';
    const l = this.leaderLease;
    this.leaderLease = null;
    this.log(`${this.node} lost leadership (epoch ${this.epoch}): ${reason}`);
    if (l !== null && !l.gone) {
      // if the key is still ours (etcd was unreachable), hand it over at once when etcd answers again
      l.gone = true;
      if (this.lease === l) this.lease = null;
      void this.revoke(l);
    }
    const cb = this.onLost;
    if (cb !== null) this.safely('onLost', () => cb(reason, leader));
  }

  private async revoke(l: LeaseRec): Promise<void> {
    try {
      await this.client.leaseClient.leaseRevoke({ ID: l.id }, { deadline: Date.now() + 1000 });
    } catch (e) {
      if (!(e instanceof EtcdLeaseInvalidError)) this.logError('revoke', e);
    }
  }

  /**
   * Gives leadership up (revokes the lease, so the key is free at once) when
   * this node cannot lead after all: its promotion failed, or it was fenced.
   * A node that held the key without taking order entry would keep every
   * other node from taking over for as long as it lives.
   */
  resign(reason: string): void {
    this.lose(reason, null);
  }

  /**
   * Test hook: stop renewing the lease, as a paused or dead process would (the
   * watch keeps running, so a resumed leader learns of its successor).
   */
  stopKeepalive(): void {
    this.keepaliveStopped = true;
  }

  // --- watch ---

  private ensureWatch(): Promise<void> {
    if (this.watcher !== null) return Promise.resolve();
    this.watchPending ??= this.startWatch().finally(() => { this.watchPending = null; });
    return this.watchPending;
  }

  private async startWatch(): Promise<void> {
    const res = await this.client.get(this.leaderKey).options({ deadline: Date.now() + CALL_MS }).exec();
    const w = await this.client.watch().key(this.leaderKey).startRevision(String(Number(res.header.revision) + 1)).create();
    if (this.role === 'closed') {
      await within(w.cancel(), 1000).catch(() => undefined);
      return;
    }
    this.watcher = w;
    w.on('put', (kv) => this.safely('leader key', () => this.onKey(kv)));
    w.on('delete', () => this.safely('leader key', () => this.onKey(null)));
    w.on('disconnected', (e) => this.logError('watch', e));
    w.on('connected', () => this.log(`${this.node}: watching ${this.leaderKey}`));
    w.on('error', (e) => {
      this.logError('watch', e);
      if (this.watcher === w) this.watcher = null;
      w.cancel().catch(() => undefined);
      this.later(() => {
        this.ensureWatch().then(() => this.client.get(this.leaderKey).options({ deadline: Date.now() + CALL_MS }).exec())
          .then((r) => this.safely('leader key', () => this.onKey(r.kvs[0] ?? null)))
          .catch((err: unknown) => this.logError('watch', err));
      }, RETRY_MS);
    });
    this.onKey(res.kvs[0] ?? null);
  }

  // --- shutdown ---

  /** Revokes the lease (a clean stop hands over at once), closes the watcher and the client. */
  async close(): Promise<void> {
    if (this.role === 'closed') return;
    this.role = 'closed';
    if (this.keepTimer !== null) clearInterval(this.keepTimer);
    if (this.progressTimer !== null) clearTimeout(this.progressTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.leaderLease = null;
    // a watch still being set up is cancelled by startWatch(); that needs the client open
    if (this.watchPending !== null) await within(this.watchPending, 2000).catch((e: unknown) => this.logError('close', e));
    const w = this.watcher;
    this.watcher = null;
    // bounded: over a dead connection neither the cancel nor the revoke would ever answer
    if (w !== null) await within(w.cancel(), 1000).catch((e: unknown) => this.logError('close', e));
    const l = this.lease;
    this.lease = null;
    if (l !== null && !l.gone) {
      l.gone = true;
      await this.revoke(l);
    }
    await this.leasePending?.catch(() => undefined);
    this.client.close();
  }

  // --- helpers ---

  private later(fn: () => void, ms: number): void {
    if (this.role === 'closed') return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.role !== 'closed') this.safely('timer', fn);
    }, ms);
    this.timers.add(t);
  }

  private safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.logError(what, e);
    }
  }

  private log(line: string): void {
    try {
      this.logLine(line);
    } catch {
      // a broken logger must not break leadership
    }
  }

  /** etcd errors, at most one line a second per kind (an outage would flood the log). */
  private logError(what: string, e: unknown): void {
    const now = Date.now();
    if (now - (this.lastLog.get(what) ?? 0) < 1000) return;
    this.lastLog.set(what, now);
    this.log(`${this.node}: etcd ${what}: ${message(e)}`);
  }
}

/** p, or a rejection after ms. */
function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms); });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function replicaSeq(value: Buffer): number | null {
  try {
    const v: unknown = JSON.parse(value.toString());
    if (typeof v === 'object' && v !== null && typeof (v as { seq?: unknown }).seq === 'number') return (v as { seq: number }).seq;
  } catch {
    // not ours
  }
  return null;
}
