// A real single-member etcd for the coordinator tests: fakes would not show
// what matters here (lease expiry timing, watch latency, the create revision
// that becomes the epoch). Ports are chosen at run time so that test files
// can run in parallel, and the raft timings are shortened because etcd
// stretches a lease to at least ~1.5 election timeouts: with the default
// 1000 ms election timeout a 1 s lease would really live 1.5 s and every
// failover time measured against it would be wrong.
//
// The data directory is not a tempDir(t) (test/log-helpers.ts): it lives as
// long as the etcd process, which stop() ends, not as long as one test.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EtcdServer {
  /** `etcd://127.0.0.1:PORT`, as an operator would pass it to matchlog. */
  url: string;
  /** `http://127.0.0.1:PORT`, the client endpoint. */
  endpoint: string;
  pid: number;
  /** Kills etcd, waits for it to exit, removes its data directory. */
  stop(): Promise<void>;
}

/** The etcd binary: `ETCD_BIN` if set, else `etcd` on the PATH. */
const ETCD = process.env.ETCD_BIN ?? 'etcd';

/** A port that was free a moment ago (bind port 0, read it, release it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('could not find a free port'))));
    });
  });
}

const children = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Starts etcd on free ports with fast raft timings; resolves once /health says it is healthy. */
export async function startEtcd(opts: { readyTimeoutMs?: number } = {}): Promise<EtcdServer> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'matchlog-etcd-'));
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name', 'default',
    '--data-dir', dir,
    '--listen-client-urls', endpoint,
    '--advertise-client-urls', endpoint,
    '--listen-peer-urls', peer,
    '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `default=${peer}`,
    '--heartbeat-interval', '50',
    '--election-timeout', '500',
    '--log-level', 'error',
  ];
  const child = spawn(ETCD, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const start: { failure: Error | null } = { failure: null };
  child.once('error', (e: NodeJS.ErrnoException) => {
    start.failure = e.code === 'ENOENT'
      ? new Error(`etcd is not installed (no '${ETCD}' on the PATH): install the Debian package etcd-server, or set ETCD_BIN`)
      : new Error(`could not start etcd: ${e.message}`);
  });
  child.once('exit', (code, signal) => {
    start.failure ??= new Error(`etcd exited during start (code ${code}, signal ${signal}): ${stderr.trim()}`);
  });
  children.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // a test run that dies must not leave etcd servers behind
    process.once('exit', () => { for (const c of children) c.kill('SIGKILL'); });
  }

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (!stopped) {
      stopped = true;
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) child.kill('SIGKILL');
      await exited;
      children.delete(child);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 10_000);
  for (;;) {
    if (start.failure !== null) {
      await stop();
      throw start.failure;
    }
    try {
      const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(500) });
      const body = (await res.json()) as { health?: string };
      if (res.ok && body.health === 'true') break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`etcd did not become healthy at ${endpoint} within ${opts.readyTimeoutMs ?? 10_000} ms: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `etcd://127.0.0.1:${clientPort}`, endpoint, pid: child.pid ?? 0, stop };
}
