// STUB: replaced by the etcd coordinator (branch etcd). Interface only.
export interface LeaderInfo { node: string; gateway: string | null; replication: string | null; epoch: number }
export interface CoordinatorOptions { url: string; cluster?: string; node: string; ttlSeconds?: number; log?: (line: string) => void }
export class EtcdCoordinator {
  onLost: ((reason: string, leader: LeaderInfo | null) => void) | null = null;
  static connect(o: CoordinatorOptions): Promise<EtcdCoordinator> { return Promise.reject(new Error(`no coordinator yet: ${o.url}`)); }
  campaign(_me: { gateway: string | null; replication: string | null; minEpoch: number }): Promise<{ won: true; epoch: number } | { won: false; leader: LeaderInfo | null }> { return Promise.reject(new Error('stub')); }
  safeUntil(): number { return 0; }
  reportProgress(_seq: number): void {}
  follow(_hooks: { seq: () => number; me: { gateway: string | null; replication: string | null; minEpoch: () => number }; onLeader: (l: LeaderInfo | null) => void; elected: (epoch: number) => void }): void {}
  leader(): Promise<LeaderInfo | null> { return Promise.resolve(null); }
  close(): Promise<void> { return Promise.resolve(); }
}
