// A process that takes and releases data-directory locks on command, for
// test/log-lock.test.ts. One JSON command per stdin line, one JSON answer per
// stdout line; on start it prints {"ready":kind,"pid":n}. With the argument
// --no-socket it takes the native flock alone (no abstract socket).
//
//   {"op":"acquire","dir":D,"at":T}   spin until the wall clock (ms, sub-ms precision)
//                                     reaches T, then acquireLock(D):
//                                     {"ok":true,"id":n,"t0":..,"t1":..} or {"ok":false,"locked":bool,"message":..,"t0":..,"t1":..}
//   {"op":"release","id":n}           the release function (twice is allowed): {"released":n}
//   {"op":"sleeper"}                  starts `sleep 60` (inheriting whatever is not close-on-exec): {"sleeper":pid}
//   {"op":"exit"}                     process.exit(0) with the locks still held

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { acquireLock, DirectoryLockedError, lockInfo } from '../log/lock.js';

const opts = { socket: !process.argv.includes('--no-socket') };
const now = (): number => performance.timeOrigin + performance.now();
const held = new Map<number, () => void>();
let next = 1;

function answer(o: object): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

async function handle(cmd: { op: string; dir?: string; at?: number; id?: number }): Promise<void> {
  switch (cmd.op) {
    case 'acquire': {
      if (cmd.at !== undefined) while (now() < cmd.at) { /* spin: both children start together */ }
      const t0 = now();
      try {
        const release = await acquireLock(cmd.dir as string, opts);
        const id = next++;
        held.set(id, release);
        answer({ ok: true, id, t0, t1: now() });
      } catch (e) {
        answer({ ok: false, locked: e instanceof DirectoryLockedError, message: (e as Error).message, t0, t1: now() });
      }
      return;
    }
    case 'release': {
      held.get(cmd.id as number)?.();
      answer({ released: cmd.id });
      return;
    }
    case 'sleeper': {
      const c = spawn('sleep', ['60'], { stdio: 'ignore' });
      c.unref();
      answer({ sleeper: c.pid });
      return;
    }
    case 'exit':
      process.exit(0);
  }
  answer({ error: `unknown op ${cmd.op}` });
}

// commands are handled one at a time, in order
let chain = Promise.resolve();
createInterface({ input: process.stdin, crlfDelay: Infinity }).on('line', (line) => {
  chain = chain.then(() => handle(JSON.parse(line) as { op: string }));
});
answer({ ready: lockInfo(opts).kind, pid: process.pid });
