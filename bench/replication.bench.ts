// Replication: what a replica keeps up with, and what quorum acknowledgement
// costs over local acknowledgement.
//   npx tsc -p tsconfig.json && npm run bench:replication
//
// The primary runs in this process (Exchange + replication endpoint, the
// offered load of bench:log); the replica is a real `matchlog replica` in a
// child process on the same machine (its own segment files, fsync, engine).
// Both modes run with the replica attached, so that the only difference is
// whether an acknowledgement waits for it. The machine has 2 cores: primary
// and replica share them, as a colocated pair would.
// BENCH_ONLY=keep|10|100 runs a part; MATCHLOG_BENCH_REPLICA_SEMI sets the
// replica's --max-semi-space-size (default 32, as the primary's);
// MATCHLOG_BENCH_REPLICA_PROF=DIR writes the replica's CPU profile there.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Exchange } from '../log/index.js';
import { ReplicationSource } from '../log/replication/source.js';
import { ladderInfo } from '../native/index.js';
import { INSTRUMENT, histogram, report, run, type Result } from './offered-load.js';

const BIN = fileURLToPath(new URL('../../bin/matchlog.js', import.meta.url));

interface Pair {
  ex: Exchange;
  source: ReplicationSource;
  replica: ChildProcess;
  gateway: string;
  close(): Promise<void>;
}

async function replicaSeq(gateway: string): Promise<number> {
  const h = await (await fetch(`http://${gateway}/health`)).json() as { seq: number };
  return h.seq;
}

async function pair(root: string, quorum: number): Promise<Pair> {
  const pdir = join(root, 'primary');
  const ex = await Exchange.open({ dataDir: pdir, config: { instruments: [INSTRUMENT], snapshotEvery: 0 }, log: () => undefined });
  const source = await ReplicationSource.start({ listen: { host: '127.0.0.1', port: 0 }, exchange: ex, secret: null, quorum, gateway: null, node: 'bench', log: () => undefined });
  const a = source.address;
  const replica = spawn(process.execPath, [...(process.env.MATCHLOG_BENCH_REPLICA_PROF !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${process.env.MATCHLOG_BENCH_REPLICA_PROF}`] : []), `--max-semi-space-size=${process.env.MATCHLOG_BENCH_REPLICA_SEMI ?? '32'}`, BIN, 'replica', '--data', join(root, 'replica'), '--primary', `${a.host}:${a.port}`, '--listen', '127.0.0.1:0'],
    { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, MATCHLOG_LOG_LEVEL: 'warn' } });
  const gateway = await new Promise<string>((resolve, reject) => {
    let out = '';
    replica.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /gateway ws:\/\/([^/]+)\/fix/.exec(out);
      if (m !== null) resolve(m[1]);
    });
    replica.on('exit', () => reject(new Error(`the replica exited: ${out}`)));
  });
  const deadline = Date.now() + 10_000;
  while (source.inSync() < 1) {
    if (Date.now() > deadline) throw new Error('the replica did not get in sync');
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    ex, source, replica, gateway,
    close: async () => {
      const gone = new Promise((r) => replica.once('exit', r));
      replica.kill('SIGTERM');
      await gone;
      await source.close();
      await ex.close({ snapshot: false });
    },
  };
}

async function latency(quorum: number, rate: number, seconds: number): Promise<Result> {
  const root = mkdtempSync(join(tmpdir(), 'matchlog-repl-bench-'));
  try {
    const p = await pair(root, quorum);
    const target = { submit: p.ex.submit.bind(p.ex), observeWrites: p.ex.observeWrites.bind(p.ex), stats: () => p.ex.stats, close: () => p.close() };
    await run('warm-up', target, 20_000, 0.5);
    const r = await run(`${quorum > 0 ? 'quorum 1' : 'local  '} offered ${rate / 1000}k/s`, target, rate, seconds);
    await p.close();
    return r;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** The primary at its highest durable rate (local mode) for `seconds`; when does the replica hold all of it? */
async function keepUp(seconds: number): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'matchlog-repl-bench-'));
  try {
    const p = await pair(root, 0);
    const target = { submit: p.ex.submit.bind(p.ex), observeWrites: p.ex.observeWrites.bind(p.ex), stats: () => p.ex.stats, close: () => p.close() };
    await run('warm-up', target, 20_000, 0.5);
    const first = p.ex.durableSeq;
    // the replica's position sampled while the primary runs: a replica that keeps up has a lag that does not grow
    let maxLag = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const at = p.ex.durableSeq;
        maxLag = Math.max(maxLag, at - (await replicaSeq(p.gateway)));
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    const t0 = performance.now();
    const r = await run('primary, maximum durable rate (local)', target, Infinity, seconds);
    const primaryDone = performance.now();
    const last = p.ex.durableSeq;
    sampling = false;
    await sampler;
    const atEnd = await replicaSeq(p.gateway);
    while ((await replicaSeq(p.gateway)) < last) await new Promise((res) => setTimeout(res, 2));
    const replicaDone = performance.now();
    const n = last - first;
    const secs = (primaryDone - t0) / 1000;
    report(r);
    process.stdout.write(`replica: ${Math.round((atEnd - first) / secs).toLocaleString('en-US')} cmd/s held during the primary's ${Math.round(n / secs).toLocaleString('en-US')} cmd/s; `
      + `lag at most ${maxLag.toLocaleString('en-US')} commands while it ran (${(maxLag / (n / secs) * 1000).toFixed(0)} ms of its flow), ${(last - atEnd).toLocaleString('en-US')} when it stopped, `
      + `all ${n.toLocaleString('en-US')} held ${(replicaDone - primaryDone).toFixed(0)} ms later\n`);
    await p.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  process.stdout.write(`matchlog replication bench: node ${process.version}, ladder ${ladderInfo().path}, primary in this process, replica a child process, data in ${tmpdir()}\n`);
  const only = process.env.BENCH_ONLY;
  if (only === undefined || only.includes('keep')) await keepUp(5);
  const rows: [number, number][] = [[10_000, 4], [100_000, 5]];
  for (const [rate, secs] of rows) {
    if (only !== undefined && !only.includes(String(rate / 1000))) continue;
    const local = await latency(0, rate, secs);
    const quorum = await latency(1, rate, secs);
    report(local);
    report(quorum);
    const p99 = (x: Result): number => x.h.getValueAtPercentile(99);
    process.stdout.write(`  at ${rate / 1000}k/s: quorum p99 / local p99 = ${(p99(quorum) / p99(local)).toFixed(2)}x (goal <= 2x); both did ${local.commands.toLocaleString('en-US')} and ${quorum.commands.toLocaleString('en-US')} commands\n`);
  }
  void histogram;
}

await main();
