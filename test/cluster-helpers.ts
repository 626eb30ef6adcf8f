// Real matchlog nodes in child processes, for the failover tests, the
// failover soak and the replication benchmark: start a primary or a replica,
// read its startup line (gateway URL, replication address), kill it, promote.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { BIN, childEnv } from './cli-helpers.js';

export interface RunningNode {
  proc: ChildProcess;
  pid: number;
  dataDir: string;
  /** ws://127.0.0.1:PORT/fix */
  url: string;
  /** HOST:PORT of the gateway. */
  gateway: string;
  /** HOST:PORT replicas follow, when it has one. */
  replication: string | null;
  /** Everything it wrote to stdout and stderr so far (a failing test shows it). */
  output(): string;
  /** Resolves with the exit code (or signal) once it is gone. */
  exited: Promise<number | string>;
  /** SIGTERM and wait; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | string>;
  kill9(): Promise<number | string>;
  /** Resolves once its output matches `re` (or rejects after `ms`). */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
}

/** Spawns `matchlog ARGS` and waits for its startup line. */
export async function startNode(args: string[], dataDir: string, timeoutMs = 20_000): Promise<RunningNode> {
  const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
  let out = '';
  const waiters: (() => void)[] = [];
  const onData = (d: Buffer): void => {
    out += d.toString();
    for (const w of waiters.splice(0)) w();
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  let gone = false;
  void exited.then(() => { gone = true; for (const w of waiters.splice(0)) w(); });
  const waitFor = (re: RegExp, ms = timeoutMs): Promise<RegExpMatchArray> => new Promise((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`timed out waiting for ${re} from matchlog ${args.join(' ')}:\n${out}`)), ms);
    const check = (): void => {
      const m = re.exec(out);
      if (m !== null) {
        clearTimeout(deadline);
        resolve(m);
      } else if (gone) {
        clearTimeout(deadline);
        reject(new Error(`matchlog ${args.join(' ')} exited before ${re}:\n${out}`));
      } else {
        waiters.push(check);
      }
    };
    check();
  });
  const line = await waitFor(/exchange started: .*\n/, timeoutMs);
  const url = /gateway (ws:\/\/\S+)/.exec(line[0])?.[1] ?? '';
  const rep = /replication (\S+:\d+)/.exec(line[0])?.[1] ?? null;
  const u = new URL(url);
  const stop = async (graceMs = 10_000): Promise<number | string> => {
    if (!gone) proc.kill('SIGTERM');
    const t = setTimeout(() => { if (!gone) proc.kill('SIGKILL'); }, graceMs);
    const code = await exited;
    clearTimeout(t);
    return code;
  };
  return {
    proc, pid: proc.pid ?? -1, dataDir, url, gateway: `${u.hostname}:${u.port}`, replication: rep, output: () => out, exited, stop, waitFor,
    kill9: async () => { if (!gone) proc.kill('SIGKILL'); return exited; },
  };
}

/** A primary with a replication endpoint on a free port. */
export function startPrimary(dataDir: string, extra: string[] = []): Promise<RunningNode> {
  return startNode(['start', '--data', dataDir, '--listen', '127.0.0.1:0', '--replication', '127.0.0.1:0', ...extra], dataDir);
}

/** A replica of `primary`, with the primary's accounts (a trader's password must work after failover). */
export function startReplica(dataDir: string, primary: RunningNode, extra: string[] = []): Promise<RunningNode> {
  if (primary.replication === null) throw new Error('the primary has no replication endpoint');
  return startNode(['replica', '--data', dataDir, '--primary', primary.replication, '--listen', '127.0.0.1:0',
    '--accounts', join(primary.dataDir, 'accounts.json'), ...extra], dataDir);
}

/** A demo account's password from a node's demo-credentials.txt. */
export function demoPassword(dataDir: string, account = 'alice'): string {
  const line = readFileSync(join(dataDir, 'demo-credentials.txt'), 'utf8').split('\n').find((l) => l.startsWith(`${account} `));
  if (line === undefined) throw new Error(`no demo account ${account} in ${dataDir}`);
  return line.split(' ')[1];
}

/** GET a node's /health as JSON. */
export async function health(node: RunningNode): Promise<Record<string, unknown>> {
  const r = await fetch(`http://${node.gateway}/health`);
  return await r.json() as Record<string, unknown>;
}

/** A gauge's value from a node's /metrics (the first sample whose line starts with `name`). */
export async function metric(node: RunningNode, name: string): Promise<number | null> {
  const text = await (await fetch(`http://${node.gateway}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line === undefined ? null : Number(line.split(' ').pop());
}

export async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The nodes of one test, under one temp folder: every node killed, then the folder removed, after the test. */
export class Cluster {
  readonly root: string;
  private readonly nodes: RunningNode[] = [];

  constructor(t: TestContext, prefix: string) {
    this.root = mkdtempSync(join(tmpdir(), prefix));
    t.after(async () => {
      for (const n of this.nodes) {
        try { process.kill(n.pid, 'SIGCONT'); } catch { /* gone */ }
      }
      await Promise.all(this.nodes.map((n) => n.kill9()));
      rmSync(this.root, { recursive: true, force: true });
    });
  }

  /** `dir` under the root. */
  dir(name: string): string {
    return join(this.root, name);
  }

  async node(args: string[], name: string): Promise<RunningNode> {
    return this.add(await startNode(args, this.dir(name)));
  }

  async primary(name: string, extra: string[] = []): Promise<RunningNode> {
    return this.add(await startPrimary(this.dir(name), extra));
  }

  async replica(name: string, primary: RunningNode, extra: string[] = []): Promise<RunningNode> {
    return this.add(await startReplica(this.dir(name), primary, extra));
  }

  private add(n: RunningNode): RunningNode {
    this.nodes.push(n);
    return n;
  }
}
