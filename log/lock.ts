// The data directory's lock: one writer per log. Every lock used here is
// released by the kernel when its process dies (kill -9, OOM, power loss of a
// container's PID 1), and taking it is one atomic kernel operation, so there is
// never a stale lock to judge nor a take-over to race.
//
//   with the native addon  an exclusive non-blocking flock on DIR/LOCK (native/src/lock.rs),
//                          plus, on Linux, the abstract socket below, so that a process
//                          running without the addon is excluded as well
//   without it, on Linux   a Unix-domain socket bound in the abstract namespace, named
//                          from a hash of the directory's real path: only one socket can
//                          be bound to a name, and it goes away with its process.
//                          Limits: Linux only; abstract names are per network namespace
//                          (containers with their own network namespaces sharing one
//                          volume do not exclude each other), and two paths to one
//                          directory that realpath does not unify (bind mounts) get two names
//   without it, elsewhere  the old PID file, with a warning: not atomic, and a live
//                          process that reuses a dead holder's pid blocks it
//
// DIR/LOCK holds the holder's pid for the refusal message only; it is never
// trusted for the decision, and never removed (removing a file others may
// have open would let two processes flock two inodes under one name).

import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { ladderInfo, nativeLock } from '../native/index.js';

export const LOCK_FILE = 'LOCK';

export type LockKind = 'flock+socket' | 'flock' | 'socket' | 'pidfile';

/** Another process holds the directory. */
export class DirectoryLockedError extends Error {
  readonly code = 'LOCKED';
  constructor(readonly dir: string, readonly lockFile: string, readonly holder: number | null) {
    super(holder !== null
      ? `data directory ${dir} is in use by process ${holder} (${lockFile})`
      : `data directory ${dir} is in use by another process (${lockFile} does not name it yet)`);
    this.name = 'DirectoryLockedError';
  }
}

/** Options of acquireLock() and lockInfo(), for tests. */
export interface LockOptions {
  /** false: skip the abstract socket when the native lock is there (to test flock alone). */
  socket?: boolean;
}

/** Which lock acquireLock() takes in this process, and why (for `matchlog info`). */
export function lockInfo(opts: LockOptions = {}): { kind: LockKind; reason: string } {
  const fns = nativeLock();
  const linux = process.platform === 'linux';
  if (fns !== null) {
    return linux && opts.socket !== false
      ? { kind: 'flock+socket', reason: 'flock on DIR/LOCK (native addon), plus an abstract Unix socket that processes without the addon also take' }
      : { kind: 'flock', reason: 'flock on DIR/LOCK (native addon)' };
  }
  const why = noNativeReason();
  return linux
    ? { kind: 'socket', reason: `an abstract Unix socket named from the directory (one network namespace only): ${why}` }
    : { kind: 'pidfile', reason: `a PID file (not atomic; a reused pid blocks it): ${why}` };
}

function noNativeReason(): string {
  const env = process.env.MATCHLOG_NATIVE;
  if (env === '0') return 'MATCHLOG_NATIVE=0';
  const l = ladderInfo();
  return l.path === 'native' ? `the addon ${l.addon ?? ''} has no lock functions (rebuild it)` : `no native addon (${l.reason})`;
}

/**
 * Takes the data directory `dir` (which must exist) for this process, or throws
 * DirectoryLockedError naming the holder's pid when another process (or another
 * acquireLock in this one) has it. The returned release function is synchronous
 * and idempotent; it also runs on process.exit.
 */
export async function acquireLock(dir: string, opts: LockOptions = {}): Promise<() => void> {
  const path = join(dir, LOCK_FILE);
  const fns = nativeLock();
  if (fns === null && process.env.MATCHLOG_NATIVE === '1') {
    throw new Error(`matchlog: MATCHLOG_NATIVE=1 but the native lock is unavailable: ${noNativeReason()}`);
  }
  if (fns === null && process.platform !== 'linux') return pidFileLock(dir, path);

  let server: Server | null = null;
  if (process.platform === 'linux' && (fns === null || opts.socket !== false)) {
    const r = await bindAbstract(socketName(dir));
    if (r instanceof Error) {
      if (r.code === 'EADDRINUSE') throw locked(dir, path);
      if (fns === null) throw new Error(`cannot lock data directory ${dir}: abstract socket: ${r.message}`);
      process.emitWarning(`matchlog: data-directory lock: the abstract socket is unavailable (${r.message}); ` +
        'relying on flock alone, which processes without the native addon do not see');
    } else {
      server = r;
    }
  }

  const holder = `${process.pid}\n`;
  let id: number | null = null;
  try {
    if (fns !== null) {
      id = fns.lockAcquire(path, holder);
      if (id === null) throw locked(dir, path);
    } else {
      writeFileSync(path, holder);
    }
  } catch (e) {
    server?.close();
    if (e instanceof DirectoryLockedError) throw e;
    throw new Error(`cannot lock data directory ${dir}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return releaser(() => {
    if (fns !== null && id !== null) fns.lockRelease(id); // empties the file while still holding the lock
    else clearFile(path);
    server?.close();
  });
}

/** Runs `fn` once, on the first call or at process exit, whichever comes first. */
function releaser(fn: () => void): () => void {
  let done = false;
  const release = (): void => {
    if (done) return;
    done = true;
    process.removeListener('exit', release);
    fn();
  };
  process.on('exit', release);
  return release;
}

function clearFile(path: string): void {
  try {
    writeFileSync(path, '');
  } catch {
    // the directory is gone: nothing to clear
  }
}

function locked(dir: string, path: string): DirectoryLockedError {
  let holder: number | null = null;
  try {
    const m = /^\s*(\d+)/.exec(readFileSync(path, 'utf8'));
    if (m) holder = Number(m[1]);
  } catch {
    holder = null;
  }
  return new DirectoryLockedError(dir, path, holder);
}

/** The abstract socket's name: "\0matchlog-lock:" + a hash of the directory's real path. */
export function socketName(dir: string): string {
  return `\0matchlog-lock:${createHash('sha256').update(realpathSync(dir)).digest('hex').slice(0, 40)}`;
}

/** A server bound to abstract socket `name` (not keeping the process alive), or the bind error. */
function bindAbstract(name: string): Promise<Server | NodeJS.ErrnoException> {
  return new Promise((resolve) => {
    const server = createServer((conn) => conn.destroy());
    server.once('error', resolve);
    // exclusive: a cluster worker binds itself rather than sharing the primary's handle
    server.listen({ path: name, exclusive: true }, () => {
      server.removeListener('error', resolve);
      server.on('error', () => undefined);
      server.unref();
      resolve(server);
    });
  });
}

let warned = false;

/**
 * The PID file (platforms other than Linux without the addon): a lock left by a
 * dead process is taken over; one naming a live process is refused.
 */
function pidFileLock(dir: string, path: string): () => void {
  if (!warned) {
    warned = true;
    process.emitWarning(`matchlog: no native addon on ${process.platform}: the data directory is locked by a PID file, ` +
      'which is not atomic and refuses while any live process has the recorded pid');
  }
  const mine = String(process.pid);
  try {
    writeFileSync(path, mine, { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const holder = Number(readFileSync(path, 'utf8').trim());
    if (Number.isInteger(holder) && holder > 0 && alive(holder)) throw new DirectoryLockedError(dir, path, holder);
    writeFileSync(path, mine);
  }
  return releaser(() => {
    try {
      if (readFileSync(path, 'utf8').trim() === mine) unlinkSync(path);
    } catch {
      // already gone: nothing to release
    }
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
