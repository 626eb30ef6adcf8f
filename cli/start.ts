// `matchlog start`: the exchange as primary: the command log, the engine and
// the FIX gateway, optionally the replication endpoint replicas follow and the
// etcd coordinator. Runs until SIGINT/SIGTERM, then shuts down cleanly:
// sessions are logged out, what is queued becomes durable and a final
// snapshot is written. `matchlog replica` shares all of this (exchange-node.ts).

import { readFileSync } from 'node:fs';
import { parseOptions } from './args.js';
import { loadConfig } from '../log/index.js';
import { parseHostPort, readSecretFile } from '../log/replication/protocol.js';
import { ExchangeNode, type NodeOptions } from './exchange-node.js';

const USAGE = `usage: matchlog start [--data DIR] [--listen HOST:PORT] [--accounts FILE] [--config FILE] [--repair]
                     [--replication HOST:PORT [--ack local|quorum] [--quorum K] [--replication-secret-file F]]
                     [--coordinator etcd://HOST:PORT]

  --data DIR           data directory: log segments, indexes, snapshots, FIX sessions (default ./data)
  --listen HOST:PORT   the gateway: WebSocket at /fix, /health, /metrics (default 127.0.0.1:7440; port 0: any free port)
  --accounts FILE      the accounts file (default DIR/accounts.json; on a fresh one two demo
                       accounts are created, their passwords written to DIR/demo-credentials.txt)
  --config FILE        JSON object overriding defaults: instruments, segmentBytes,
                       checkpointEvery, snapshotEvery, queueCapacity, maxBlockRecords,
                       maxBlockBytes, indexEvery, keepSnapshots
  --tls-cert FILE      with --tls-key: serve wss:// (PEM files)
  --tls-key FILE
  --cancel-on-disconnect   cancel an account's live orders when its FIX session ends
  --reset-on-disconnect    every FIX connection starts at MsgSeqNum 1 (QuickFIX's ResetOnDisconnect;
                       for acceptance tests: by default sequence numbers persist across connections and restarts)
  --repair             if the log is damaged (not just a torn last block), truncate it
                       at the damage instead of refusing to start; says what is lost

Replication:
  --replication HOST:PORT   the endpoint replicas follow (TCP; port 0: any free port)
  --ack local|quorum   local (default): a command is acknowledged once durable here;
                       quorum: only once durable here and on --quorum replicas
  --quorum K           replicas a quorum needs (default 1)
  --replication-secret-file F   shared secret (at least 8 characters) replicas must prove
  --coordinator etcd://HOST:PORT   automatic failover: hold the leader key in etcd under a lease;
                       if another node holds it, this one starts as its replica
  --lease SECONDS      the leader key's lease (default 1)
  --node NAME          this node's name in etcd and in epoch records (default host:data-folder)

Logs (JSON lines, pino) go to stderr; MATCHLOG_LOG_LEVEL sets their level (default info).
`;


export const NODE_OPTIONS = {
  data: { type: 'string' }, config: { type: 'string' }, repair: { type: 'boolean' }, listen: { type: 'string' },
  accounts: { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'cancel-on-disconnect': { type: 'boolean' },
  'reset-on-disconnect': { type: 'boolean' }, replication: { type: 'string' }, ack: { type: 'string' }, quorum: { type: 'string' },
  'replication-secret-file': { type: 'string' }, coordinator: { type: 'string' }, lease: { type: 'string' }, node: { type: 'string' },
  primary: { type: 'string' },
} as const;

type Parsed = Exclude<ReturnType<typeof parseOptions<typeof NODE_OPTIONS>>, number>;

/** The node's options from the flags, or the usage error to print. */
export function nodeOptions(role: 'primary' | 'replica', opts: Parsed): NodeOptions | string {
  const listen = parseHostPort(opts.listen ?? '127.0.0.1:7440');
  if (listen === null) return `--listen wants HOST:PORT, got ${JSON.stringify(opts.listen)}`;
  if ((opts['tls-cert'] === undefined) !== (opts['tls-key'] === undefined)) return '--tls-cert and --tls-key go together';
  const replication = opts.replication === undefined ? null : parseHostPort(opts.replication);
  if (replication === null && opts.replication !== undefined) return `--replication wants HOST:PORT, got ${JSON.stringify(opts.replication)}`;
  const primary = opts.primary === undefined ? null : parseHostPort(opts.primary);
  if (primary === null && opts.primary !== undefined) return `--primary wants HOST:PORT, got ${JSON.stringify(opts.primary)}`;
  if (role === 'replica' && primary === null && opts.coordinator === undefined) return 'a replica needs --primary HOST:PORT (the primary\'s --replication address) or --coordinator';
  const ack = opts.ack ?? (opts.quorum !== undefined ? 'quorum' : 'local');
  if (ack !== 'local' && ack !== 'quorum') return `--ack is local or quorum, got ${JSON.stringify(ack)}`;
  const quorum = ack === 'quorum' ? Number(opts.quorum ?? '1') : 0;
  if (!Number.isInteger(quorum) || quorum < 0 || quorum > 16) return `--quorum wants a number of replicas from 1 to 16, got ${JSON.stringify(opts.quorum)}`;
  if (ack === 'quorum' && replication === null && role === 'primary') return '--ack quorum needs --replication HOST:PORT (where replicas connect)';
  if (opts.coordinator !== undefined && !/^(etcd|https?):\/\/[^/]+/.test(opts.coordinator)) return `--coordinator wants etcd://HOST:PORT, got ${JSON.stringify(opts.coordinator)}`;
  const lease = Number(opts.lease ?? '1');
  if (!Number.isInteger(lease) || lease < 1 || lease > 60) return `--lease wants whole seconds from 1 to 60, got ${JSON.stringify(opts.lease)}`;
  return {
    role, dataDir: opts.data ?? './data', config: {}, repair: opts.repair === true, listen, accountsPath: opts.accounts,
    tls: opts['tls-cert'] !== undefined ? { cert: readFileSync(opts['tls-cert']), key: readFileSync(opts['tls-key'] as string) } : undefined,
    cancelOnDisconnect: opts['cancel-on-disconnect'] === true, resetOnDisconnect: opts['reset-on-disconnect'] === true,
    replication, quorum, secret: null, primary, coordinator: opts.coordinator ?? null, node: opts.node ?? null, leaseSeconds: lease,
  };
}

/** Runs a node until SIGINT/SIGTERM or a fatal error; the exit code. */
export async function runNode(role: 'primary' | 'replica', usage: string, argv: string[]): Promise<number> {
  const command = role === 'primary' ? 'start' : 'replica';
  const opts = parseOptions(command, usage, argv, NODE_OPTIONS);
  if (typeof opts === 'number') return opts;
  if (role === 'primary' && opts.primary !== undefined) {
    process.stderr.write(`matchlog start: --primary is for \`matchlog replica\`\n${usage}`);
    return 2;
  }
  let o: NodeOptions | string;
  try {
    o = nodeOptions(role, opts);
    if (typeof o !== 'string') {
      if (opts.config !== undefined) o.config = loadConfig(opts.config);
      if (opts['replication-secret-file'] !== undefined) o.secret = readSecretFile(opts['replication-secret-file']);
    }
  } catch (e) {
    process.stderr.write(`matchlog ${command}: ${(e as Error).message}\n`);
    return 1;
  }
  if (typeof o === 'string') {
    process.stderr.write(`matchlog ${command}: ${o}\n${usage}`);
    return 2;
  }
  let node: ExchangeNode;
  try {
    node = await ExchangeNode.open(o);
  } catch (e) {
    process.stderr.write(`matchlog ${command}: ${(e as Error).message}\n`);
    return 1;
  }
  // before the startup line: whoever reads it may signal at once
  const signalled = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const ex = node.exchange;
  const r = ex.recovery;
  const snap = r.snapshot === null ? 'no snapshot' : `snapshot ${r.snapshot} (seq ${r.snapshotSeq})`;
  const demo = node.demo;
  process.stdout.write(`matchlog: exchange started: data ${o.dataDir}, recovered seq ${r.seq} from ${snap}, `
    + `replayed ${r.tailRecords} tail records${r.truncatedBytes > 0 ? `, truncated ${r.truncatedBytes} torn bytes` : ''}; `
    + `${node.describeState()}; `
    + `gateway ${node.gateway.url} (fix.4.4, fix.json), trading screen ${node.gateway.url.replace(/^ws/, 'http').replace(/\/fix$/, '/')}, accounts ${node.accountsPath}`
    + `${demo !== null ? `; demo accounts ${demo.accounts.map((a) => a.name).join(', ')}: passwords in ${demo.credentialsPath}` : ''}; `
    + `${node.describe()}; pid ${process.pid}\n`);

  const why = await Promise.race([signalled, node.failed]);
  if (why instanceof Error) {
    process.stderr.write(`matchlog ${command}: FATAL: ${why.message}. No further commands are taken; every acknowledged command is in the log. Shutting down.\n`);
  } else {
    process.stdout.write(`matchlog: ${why}: shutting down\n`);
  }
  try {
    await node.close();
  } catch (e) {
    process.stderr.write(`matchlog ${command}: shutdown: ${(e as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`matchlog: stopped at seq ${ex.seq}\n`);
  return why instanceof Error || ex.failure !== null ? 1 : 0;
}

export function run(argv: string[]): Promise<number> {
  return runNode('primary', USAGE, argv);
}
