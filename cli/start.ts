// `matchlog start`: the single-node exchange: the command log, the engine and
// the FIX gateway. Runs until SIGINT/SIGTERM, then shuts down cleanly:
// sessions are logged out, what is queued becomes durable and a final
// snapshot is written.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseOptions } from './args.js';
import { Exchange, loadConfig, type LogConfig } from '../log/index.js';
import { AccountStore, ensureDemoAccounts, type DemoAccounts } from '../gateway/accounts.js';
import { Gateway } from '../gateway/server.js';

const USAGE = `usage: matchlog start [--data DIR] [--listen HOST:PORT] [--accounts FILE] [--config FILE] [--repair]

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

Logs (JSON lines, pino) go to stderr; MATCHLOG_LOG_LEVEL sets their level (default info).
`;

/** HOST:PORT, [v6]:PORT; null when it is not one. */
export function parseListen(v: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(v);
  if (m === null) return null;
  const port = Number(m[3]);
  return port <= 65535 ? { host: m[1] ?? m[2], port } : null;
}

export async function run(argv: string[]): Promise<number> {
  const opts = parseOptions('start', USAGE, argv, {
    data: { type: 'string' }, config: { type: 'string' }, repair: { type: 'boolean' }, listen: { type: 'string' },
    accounts: { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'cancel-on-disconnect': { type: 'boolean' },
    'reset-on-disconnect': { type: 'boolean' },
  });
  if (typeof opts === 'number') return opts;
  const dataDir = opts.data ?? './data';
  const listen = parseListen(opts.listen ?? '127.0.0.1:7440');
  if (listen === null) {
    process.stderr.write(`matchlog start: --listen wants HOST:PORT, got ${JSON.stringify(opts.listen)}\n${USAGE}`);
    return 2;
  }
  if ((opts['tls-cert'] === undefined) !== (opts['tls-key'] === undefined)) {
    process.stderr.write(`matchlog start: --tls-cert and --tls-key go together\n${USAGE}`);
    return 2;
  }
  let config: Partial<LogConfig> = {};
  let ex: Exchange;
  let fatal: (err: Error) => void = () => undefined;
  const failed = new Promise<Error>((resolve) => { fatal = resolve; });
  try {
    if (opts.config !== undefined) config = loadConfig(opts.config);
    ex = await Exchange.open({ dataDir, config, repair: opts.repair === true, log: (l) => process.stderr.write(`matchlog: ${l}\n`), onFatal: fatal });
  } catch (e) {
    process.stderr.write(`matchlog start: ${(e as Error).message}\n`);
    return 1;
  }
  const accountsPath = opts.accounts ?? join(dataDir, 'accounts.json');
  let gateway: Gateway;
  let demo: DemoAccounts | null = null;
  try {
    demo = await ensureDemoAccounts(dataDir, accountsPath);
    const logger = pino({ level: process.env.MATCHLOG_LOG_LEVEL ?? 'info', base: { pid: process.pid } }, pino.destination(2));
    gateway = await Gateway.start({
      exchange: ex, listen, accounts: AccountStore.load(accountsPath), sessionsDir: join(dataDir, 'sessions'), logger,
      cancelOnDisconnect: opts['cancel-on-disconnect'] === true, resetOnDisconnect: opts['reset-on-disconnect'] === true,
      tls: opts['tls-cert'] !== undefined ? { cert: readFileSync(opts['tls-cert']), key: readFileSync(opts['tls-key'] as string) } : undefined,
    });
  } catch (e) {
    process.stderr.write(`matchlog start: the gateway: ${(e as Error).message}\n`);
    await ex.close().catch(() => undefined);
    return 1;
  }
  // before the startup line: whoever reads it may signal at once
  const signalled = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const r = ex.recovery;
  const snap = r.snapshot === null ? 'no snapshot' : `snapshot ${r.snapshot} (seq ${r.snapshotSeq})`;
  process.stdout.write(`matchlog: exchange started: data ${dataDir}, recovered seq ${r.seq} from ${snap}, `
    + `replayed ${r.tailRecords} tail records${r.truncatedBytes > 0 ? `, truncated ${r.truncatedBytes} torn bytes` : ''}; `
    + `epoch ${r.epoch}, now at seq ${ex.seq}; symbols ${ex.engine.symbols().join(' ')}; `
    + `gateway ${gateway.url} (fix.4.4, fix.json), accounts ${accountsPath}`
    + `${demo !== null ? `; demo accounts ${demo.accounts.map((a) => a.name).join(', ')}: passwords in ${demo.credentialsPath}` : ''}; pid ${process.pid}\n`);

  const why = await Promise.race([signalled, failed.then((e) => e)]);
  await gateway.close();
  if (why instanceof Error) {
    process.stderr.write(`matchlog start: FATAL: ${why.message}. No further commands are taken; every acknowledged command is in the log, `
      + 'and the next start truncates the unacknowledged tail. Shutting down.\n');
  } else {
    process.stdout.write(`matchlog: ${why}: shutting down\n`);
  }
  try {
    await ex.close({ snapshot: ex.failure === null });
  } catch (e) {
    process.stderr.write(`matchlog start: shutdown: ${(e as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`matchlog: stopped at seq ${ex.seq}\n`);
  return ex.failure === null ? 0 : 1;
}
