// `matchlog start`: the single-node exchange (log + engine; the gateway joins
// when it exists). Runs until SIGINT/SIGTERM, then shuts down cleanly: what is
// queued becomes durable and a final snapshot is written.

import { parseOptions } from './args.js';
import { Exchange, loadConfig, type LogConfig } from '../log/index.js';

const USAGE = `usage: matchlog start [--data DIR] [--config FILE] [--repair]

  --data DIR     data directory: log segments, indexes, snapshots (default ./data)
  --config FILE  JSON object overriding defaults: instruments, segmentBytes,
                 checkpointEvery, snapshotEvery, queueCapacity, maxBlockRecords,
                 maxBlockBytes, indexEvery, keepSnapshots
  --repair       if the log is damaged (not just a torn last block), truncate it
                 at the damage instead of refusing to start; says what is lost
`;

export async function run(argv: string[]): Promise<number> {
  const opts = parseOptions('start', USAGE, argv, { data: { type: 'string' }, config: { type: 'string' }, repair: { type: 'boolean' } });
  if (typeof opts === 'number') return opts;
  const dataDir = opts.data ?? './data';
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
  // before the startup line: whoever reads it may signal at once
  const signalled = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  // nothing else keeps the event loop alive until the gateway listens
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const r = ex.recovery;
  const snap = r.snapshot === null ? 'no snapshot' : `snapshot ${r.snapshot} (seq ${r.snapshotSeq})`;
  process.stdout.write(`matchlog: exchange started: data ${dataDir}, recovered seq ${r.seq} from ${snap}, `
    + `replayed ${r.tailRecords} tail records${r.truncatedBytes > 0 ? `, truncated ${r.truncatedBytes} torn bytes` : ''}; `
    + `epoch ${r.epoch}, now at seq ${ex.seq}; symbols ${ex.engine.symbols().join(' ')}; pid ${process.pid}\n`);

  const why = await Promise.race([signalled, failed.then((e) => e)]);
  clearInterval(keepAlive);
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
