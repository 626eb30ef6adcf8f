// Crash safety with real processes: a child runs the exchange while we submit
// commands and record which were acknowledged; we kill -9 it at a random
// moment and check the log: every acknowledged command is there with its seq,
// the seqs have no gap, and a restarted exchange has the state hash of a fresh
// replay of the log. Used by test/log-crash.test.ts and test/soak.ts.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from '../engine/index.js';
import { prepareCommand, readLog, recover, type LogConfig } from '../log/index.js';
import { Flow, TEST_INSTRUMENTS, prng } from './log-helpers.js';

const CHILD = fileURLToPath(new URL('./log-child.js', import.meta.url));

export const CRASH_CONFIG: Partial<LogConfig> = {
  segmentBytes: 32 * 1024, indexEvery: 4096, checkpointEvery: 37, snapshotEvery: 400, queueCapacity: 600, instruments: TEST_INSTRUMENTS,
};

export interface CrashStats {
  rounds: number;
  sent: number;
  acked: number;
  refused: number;
  killedBeforeReady: number;
  lastSeq: number;
}

export class CrashRig {
  readonly stats: CrashStats = { rounds: 0, sent: 0, acked: 0, refused: 0, killedBeforeReady: 0, lastSeq: 0 };
  private readonly acked = new Map<string, number>();
  private readonly sent = new Map<string, Command>();
  private readonly rnd: () => number;
  private readonly flow: Flow;
  /** Live children, killed by cleanup() if a round fails half-way. */
  private readonly children = new Set<ReturnType<typeof spawn>>();

  constructor(readonly dir: string, seed: number, private readonly config: Partial<LogConfig> = CRASH_CONFIG) {
    this.rnd = prng(seed);
    this.flow = new Flow(prng(seed + 1), `k${seed}`);
  }

  cleanup(): void {
    for (const c of this.children) c.kill('SIGKILL');
  }

  /** One life of the exchange: start, traffic, kill -9 at a random moment, then the checks. */
  async round(): Promise<void> {
    const r = this.rnd;
    const round = ++this.stats.rounds;
    const child = spawn(process.execPath, [CHILD, this.dir, JSON.stringify(this.config)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.children.add(child);
    child.stdin.on('error', () => undefined); // EPIPE once it is dead
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    let ready: (v: { seq: number; hash: string }) => void = () => undefined;
    const readyP = new Promise<{ seq: number; hash: string }>((resolve) => { ready = resolve; });
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const [kind, a, b] = line.split(' ');
        if (kind === 'A') {
          this.acked.set(a, Number(b));
          this.stats.acked++;
        } else if (kind === 'E') {
          this.stats.refused++;
        } else if (kind === 'R') {
          ready({ seq: Number(a), hash: b });
        }
      }
    });

    const earlyKill = r() < 0.25;
    if (earlyKill) {
      // somewhere in start-up: recovery, truncation, seeding
      const killed = await Promise.race([sleep(r() * 250).then(() => true), readyP.then(() => false)]);
      if (killed) this.stats.killedBeforeReady++;
    } else {
      const state = await Promise.race([readyP, exited.then(() => null), sleep(20_000).then(() => null)]);
      if (state === null) throw new Error(`round ${round}: the exchange did not start:\n${stderr}`);
      // the restarted exchange holds exactly the state of a fresh replay of its log
      const fresh = recover({ dir: this.dir, readOnly: true, fromStart: true });
      assert.equal(fresh.lastSeq, state.seq, `round ${round}: recovered seq`);
      assert.equal(fresh.engine.stateHash(), state.hash, `round ${round}: state hash after restart vs fresh replay`);
      const until = Date.now() + 10 + r() * 250;
      while (Date.now() < until) {
        const n = 1 + Math.floor(r() * 40);
        let chunk = '';
        for (let i = 0; i < n; i++) {
          const cmd = this.flow.next();
          const id = `${round}.${this.stats.sent++}`;
          this.sent.set(id, prepareCommand(cmd));
          chunk += `${id}\t${JSON.stringify(cmd)}\n`;
        }
        child.stdin.write(chunk);
        await sleep(1);
      }
    }
    child.kill('SIGKILL');
    await exited;
    this.children.delete(child);
    this.check(round);
  }

  /** Every acknowledged command is in the log at its seq; seqs run 1..N without a gap. */
  private check(round: number): void {
    const cmds = [...readLog(this.dir)].filter((x) => x.kind === 'command');
    cmds.forEach((c, i) => assert.equal(c.seq, i + 1, `round ${round}: seq gap at ${i + 1}`));
    for (const [id, seq] of this.acked) {
      const rec = cmds[seq - 1];
      assert.ok(rec !== undefined, `round ${round}: acknowledged command ${id} (seq ${seq}) is not in the log (ends at ${cmds.length})`);
      assert.equal(rec.origin, 'crash');
      assert.deepStrictEqual(rec.cmd, this.sent.get(id), `round ${round}: seq ${seq} holds another command than ${id}`);
    }
    this.stats.lastSeq = cmds.length;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
