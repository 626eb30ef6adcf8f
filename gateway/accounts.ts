// Who may log on to the gateway: the accounts file (JSON) and the check of a
// Logon's Username/Password against it. The file holds one scrypt hash per
// account, never a password, and the scrypt parameters beside each hash so a
// later release can raise the cost without invalidating what is stored.

// The default import, not named imports: the tests spy on timingSafeEqual
// through this object, which named bindings of a builtin would bypass.
import crypto from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { idProblem } from '../engine/index.js';
import { fsyncDir } from '../log/files.js';
import { jsonErrorAt } from '../log/json-file.js';
import { GATEWAY_COMP_ID } from './fix/message.js';

// the gateway's own CompID, which no account may take; an account name travels
// as SenderCompID and as the engine's `account`, so it follows the engine's id rule
export { GATEWAY_COMP_ID };

/** Long enough for any passphrase, short enough that hashing it costs nothing extra. */
export const MAX_PASSWORD_BYTES = 1024;

export interface ScryptParams {
  /** CPU/memory cost, a power of two; memory is about 128 * N * r bytes. */
  N: number;
  r: number;
  p: number;
  /** Bytes of derived key stored. */
  keyLength: number;
}

/** 32 MiB and ~0.1 s per hash on a current core: logons are rare, guessing is not. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1, keyLength: 32 };

// Bounds on what a file may ask for: a hand-edited N of 2^30 would otherwise
// make every logon allocate 128 GiB.
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;
const MAX_MEMORY = 1024 * 1024 * 1024;

export interface ThrottleOptions {
  /** Failed logons within `windowMs`, per remote address and per account name, before further attempts are refused. */
  maxFailures: number;
  windowMs: number;
  /** Every refusal is answered this long after the attempt began, whatever made it fail. */
  failureDelayMs: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = { maxFailures: 5, windowMs: 60_000, failureDelayMs: 1000 };

export interface AccountStoreOptions {
  /** Parameters for hashes made from now on; stored hashes keep their own. */
  scrypt?: Partial<ScryptParams>;
  throttle?: Partial<ThrottleOptions>;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Where the warning about a group/world-readable file goes; default stderr. */
  warn?: (line: string) => void;
  /** Test seam: called once the temp file is written and synced, before it replaces the file. */
  beforeRename?: (tempPath: string) => void;
}

export interface AccountInfo {
  name: string;
  marketDataOnly: boolean;
}

export type AuthResult = { ok: true; marketDataOnly: boolean } | { ok: false; reason: string };

/** The one answer for an unknown account and a wrong password, so neither can be told from the other. */
export const BAD_CREDENTIALS = 'unknown account or wrong password';

interface PasswordHash extends ScryptParams {
  salt: Buffer;
  hash: Buffer;
}

interface Entry {
  marketDataOnly: boolean;
  password: PasswordHash;
}

const FORMAT = 'matchlog.accounts';
const VERSION = 1;

/** Why `name` cannot be an account; null when it can. */
export function accountNameProblem(name: string): string | null {
  const bad = idProblem(name, 'account name');
  if (bad !== null) return bad;
  // any spelling of it: a client named "matchlog" would read as the exchange itself
  if (name.toUpperCase() === GATEWAY_COMP_ID) return `${name}: the name ${GATEWAY_COMP_ID} is reserved for the exchange`;
  return null;
}

/** Why `password` cannot be set; null when it can. */
export function passwordProblem(password: string): string | null {
  if (password.length === 0) return 'the password is empty';
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) return `the password is longer than ${MAX_PASSWORD_BYTES} bytes`;
  // SOH separates tag=value fields, so a password holding a control character could never be sent
  if (/[\u0000-\u001f\u007f]/.test(password)) return 'the password contains a control character (a FIX Password field cannot carry one)';
  return null;
}

function scryptAsync(password: string, salt: Buffer, p: ScryptParams): Promise<Buffer> {
  return new Promise((res, rej) => {
    crypto.scrypt(password.normalize('NFC'), salt, p.keyLength, { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r + 1024 * 1024 }, (err, key) => {
      if (err !== null) rej(err);
      else res(key);
    });
  });
}

async function hashPassword(password: string, params: ScryptParams): Promise<PasswordHash> {
  const salt = crypto.randomBytes(16);
  return { ...params, salt, hash: await scryptAsync(password, salt, params) };
}

async function verifyPassword(stored: PasswordHash, password: string): Promise<boolean> {
  const key = await scryptAsync(password, stored.salt, stored);
  return crypto.timingSafeEqual(key, stored.hash);
}

function paramsProblem(p: ScryptParams): string | null {
  const int = (v: number, lo: number, hi: number): boolean => Number.isInteger(v) && v >= lo && v <= hi;
  if (!int(p.N, 2, MAX_N) || (p.N & (p.N - 1)) !== 0) return `N must be a power of two from 2 to ${MAX_N}`;
  if (!int(p.r, 1, MAX_R)) return `r must be an integer from 1 to ${MAX_R}`;
  if (!int(p.p, 1, MAX_P)) return `p must be an integer from 1 to ${MAX_P}`;
  if (128 * p.N * p.r > MAX_MEMORY) return `N * r needs more than ${MAX_MEMORY / 2 ** 20} MiB`;
  if (!int(p.keyLength, 16, 64)) return 'keyLength must be an integer from 16 to 64';
  return null;
}

/** Failures in a sliding window per key, and attempts still being checked (so a burst cannot outrun the count). */
class FailureWindow {
  private readonly failures = new Map<string, number[]>();
  private readonly pending = new Map<string, number>();
  // keys are chosen by whoever connects: past this many, the expired ones go
  private static readonly MAX_KEYS = 100_000;

  constructor(private readonly max: number, private readonly windowMs: number) {}

  private readonly waiters = new Map<string, (() => void)[]>();

  /** Milliseconds until `key` may try again (its failures fill the window); 0 when it may now or once `busy` says so. */
  wait(key: string, now: number): number {
    const list = this.prune(key, now);
    return list.length >= this.max ? list[list.length - this.max] + this.windowMs - now : 0;
  }

  /**
   * Whether an attempt must wait for attempts of `key` still being checked:
   * failures plus attempts in flight may not pass the limit, so that a burst
   * of guesses cannot outrun the count — but a burst of good logons (a firm's
   * sessions from one host) is only delayed, never refused.
   */
  busy(key: string, now: number): Promise<void> | null {
    if (this.prune(key, now).length + (this.pending.get(key) ?? 0) < this.max) return null;
    return new Promise((resolve) => {
      const list = this.waiters.get(key) ?? [];
      list.push(resolve);
      this.waiters.set(key, list);
    });
  }

  begin(key: string): void {
    this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
  }

  end(key: string): void {
    const n = (this.pending.get(key) ?? 0) - 1;
    if (n > 0) this.pending.set(key, n);
    else this.pending.delete(key);
    const w = this.waiters.get(key);
    if (w !== undefined) {
      this.waiters.delete(key);
      for (const wake of w) wake();
    }
  }

  fail(key: string, now: number): void {
    if (!this.failures.has(key) && this.failures.size >= FailureWindow.MAX_KEYS) this.sweep(now);
    const list = this.prune(key, now);
    list.push(now);
    this.failures.set(key, list);
  }

  clear(key: string): void {
    this.failures.delete(key);
  }

  private prune(key: string, now: number): number[] {
    const list = this.failures.get(key) ?? [];
    let i = 0;
    while (i < list.length && list[i] <= now - this.windowMs) i++;
    if (i > 0) list.splice(0, i);
    return list;
  }

  private sweep(now: number): void {
    for (const [k, list] of this.failures) if (list.length === 0 || list[list.length - 1] <= now - this.windowMs) this.failures.delete(k);
    // still full of live keys: the oldest go first (a Map iterates in insertion order)
    for (const k of this.failures.keys()) {
      if (this.failures.size < FailureWindow.MAX_KEYS) break;
      this.failures.delete(k);
    }
  }
}

/** Writes `data` to `path` so that a crash at any moment leaves the old file or the new one, never a part. */
export function writeFileAtomic(path: string, data: string, beforeRename?: (tempPath: string) => void): void {
  const dir = dirname(resolve(path));
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      // the umask can only remove bits; this makes the mode exactly 0600 whatever it is
      fchmodSync(fd, 0o600);
      const bytes = Buffer.from(data, 'utf8');
      let n = 0;
      while (n < bytes.length) n += writeSync(fd, bytes, n, bytes.length - n);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    beforeRename?.(tmp);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new Error(`writing ${path}: ${(e as Error).message}`);
  }
  fsyncDir(dir);
}

/** " (line L, column C)" of a JSON.parse error, when its message gives a position. */
function jsonErrorWhere(text: string, message: string): string {
  const at = jsonErrorAt(text, message);
  return at === null ? '' : ` (line ${at.line}, column ${at.column})`;
}

function parseFile(path: string, text: string): Map<string, Entry> {
  const bad = (why: string): Error => new Error(`accounts file ${path}: ${why}`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    throw bad(`not valid JSON: ${msg}${jsonErrorWhere(text, msg)}`);
  }
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(doc) || doc.format !== FORMAT) throw bad(`not a matchlog accounts file (expected an object with "format": "${FORMAT}")`);
  if (doc.version !== VERSION) throw bad(`version ${JSON.stringify(doc.version)} is not one this matchlog reads (${VERSION})`);
  if (!Array.isArray(doc.accounts)) throw bad('"accounts" must be an array');
  const out = new Map<string, Entry>();
  doc.accounts.forEach((a: unknown, i: number) => {
    const at = `accounts[${i}]`;
    if (!isObject(a)) throw bad(`${at} is not an object`);
    if (typeof a.name !== 'string') throw bad(`${at}.name must be a string`);
    const nameBad = accountNameProblem(a.name);
    if (nameBad !== null) throw bad(`${at}: ${nameBad}`);
    if (out.has(a.name)) throw bad(`${at}: account ${a.name} appears twice`);
    if (typeof a.marketDataOnly !== 'boolean') throw bad(`${at}.marketDataOnly must be true or false`);
    const pw = a.password;
    if (!isObject(pw) || pw.kdf !== 'scrypt') throw bad(`${at}.password must be an object with "kdf": "scrypt"`);
    const b64 = (v: unknown, what: string): Buffer => {
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(v)) throw bad(`${at}.password.${what} must be base64`);
      return Buffer.from(v, 'base64');
    };
    const salt = b64(pw.salt, 'salt');
    const hash = b64(pw.hash, 'hash');
    const params: ScryptParams = { N: Number(pw.N), r: Number(pw.r), p: Number(pw.p), keyLength: hash.length };
    const pBad = paramsProblem(params);
    if (pBad !== null) throw bad(`${at}.password: ${pBad}`);
    if (salt.length < 8) throw bad(`${at}.password.salt is shorter than 8 bytes`);
    out.set(a.name, { marketDataOnly: a.marketDataOnly, password: { ...params, salt, hash } });
  });
  return out;
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}

export class AccountStore {
  private readonly params: ScryptParams;
  private readonly throttle: ThrottleOptions;
  private readonly clock: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly beforeRename: ((tempPath: string) => void) | undefined;
  private readonly byAddress: FailureWindow;
  private readonly byAccount: FailureWindow;
  // an unknown name is checked against this, so it costs what a known one does;
  // no password can match random bytes, so none needs hashing to make it
  private readonly dummy: PasswordHash;

  private constructor(readonly path: string, private readonly accounts: Map<string, Entry>, o: AccountStoreOptions) {
    this.params = { ...DEFAULT_SCRYPT, ...o.scrypt };
    const pBad = paramsProblem(this.params);
    if (pBad !== null) throw new Error(`scrypt parameters: ${pBad}`);
    this.throttle = { ...DEFAULT_THROTTLE, ...o.throttle };
    this.clock = o.clock ?? Date.now;
    this.sleep = o.sleep ?? defaultSleep;
    this.beforeRename = o.beforeRename;
    this.byAddress = new FailureWindow(this.throttle.maxFailures, this.throttle.windowMs);
    this.byAccount = new FailureWindow(this.throttle.maxFailures, this.throttle.windowMs);
    this.dummy = { ...this.params, salt: crypto.randomBytes(16), hash: crypto.randomBytes(this.params.keyLength) };
  }

  /** Reads the accounts file; a missing file is a store with no accounts (created by save()). */
  static load(path: string, options: AccountStoreOptions = {}): AccountStore {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new AccountStore(path, new Map(), options);
      throw new Error(`accounts file ${path}: ${(e as Error).message}`);
    }
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      // a warning, not a refusal: the hashes are salted and slow, and refusing would keep the exchange down over a chmod
      const warn = options.warn ?? ((l: string) => process.stderr.write(`${l}\n`));
      warn(`matchlog: warning: accounts file ${path} has mode 0${mode.toString(8)}, readable beyond its owner; run chmod 600 ${path} (the next save writes 0600)`);
    }
    return new AccountStore(path, parseFile(path, text), options);
  }

  has(name: string): boolean {
    return this.accounts.has(name);
  }

  /** Adds an account with a fresh salt; throws on a bad name or password or an existing account. Call save() to keep it. */
  async add(name: string, password: string, o: { marketDataOnly: boolean }): Promise<void> {
    const nameBad = accountNameProblem(name);
    if (nameBad !== null) throw new Error(nameBad);
    const pwBad = passwordProblem(password);
    if (pwBad !== null) throw new Error(pwBad);
    if (this.accounts.has(name)) throw new Error(`account ${name} already exists (remove it first to set a new password)`);
    const hash = await hashPassword(password, this.params);
    // another add of the same name may have finished while this one hashed
    if (this.accounts.has(name)) throw new Error(`account ${name} already exists (remove it first to set a new password)`);
    this.accounts.set(name, { marketDataOnly: o.marketDataOnly, password: hash });
  }

  /** False when there was no such account. Call save() to keep the change. */
  remove(name: string): boolean {
    return this.accounts.delete(name);
  }

  list(): AccountInfo[] {
    return [...this.accounts.keys()].sort().map((name) => ({ name, marketDataOnly: this.accounts.get(name)!.marketDataOnly }));
  }

  /** Writes the file atomically with mode 0600. */
  save(): void {
    const accounts = this.list().map(({ name }) => {
      const e = this.accounts.get(name)!;
      const p = e.password;
      return { name, marketDataOnly: e.marketDataOnly, password: { kdf: 'scrypt', N: p.N, r: p.r, p: p.p, salt: p.salt.toString('base64'), hash: p.hash.toString('base64') } };
    });
    writeFileAtomic(this.path, `${JSON.stringify({ format: FORMAT, version: VERSION, accounts }, null, 2)}\n`, this.beforeRename);
  }

  /**
   * Checks a Logon's Username and Password. Every refusal is answered
   * failureDelayMs after the call began (unknown name, wrong password or
   * throttled alike), so neither the answer nor its timing tells whether the
   * account exists.
   */
  async authenticate(name: string, password: string, remoteAddress: string): Promise<AuthResult> {
    const start = this.clock();
    // an over-long or malformed name shares one throttle key: it cannot be an account anyway
    const acctKey = accountNameProblem(name) === null ? name : '';
    for (;;) {
      const now = this.clock();
      const wait = Math.max(this.byAddress.wait(remoteAddress, now), this.byAccount.wait(acctKey, now));
      if (wait > 0) {
        await this.padTo(start);
        return { ok: false, reason: `too many failed logon attempts; try again in ${Math.ceil(wait / 1000)} s` };
      }
      const busy = this.byAddress.busy(remoteAddress, now) ?? this.byAccount.busy(acctKey, now);
      if (busy === null) break;
      await busy;
    }
    this.byAddress.begin(remoteAddress);
    this.byAccount.begin(acctKey);
    let entry: Entry | undefined;
    let ok: boolean;
    try {
      entry = this.accounts.get(name);
      const tooLong = Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES;
      // hash even when the answer is already known, so the work done is the same
      ok = await verifyPassword(entry?.password ?? this.dummy, tooLong ? '' : password) && entry !== undefined && !tooLong;
      const now = this.clock();
      if (ok) {
        this.byAccount.clear(acctKey);
      } else {
        this.byAddress.fail(remoteAddress, now);
        this.byAccount.fail(acctKey, now);
      }
    } finally {
      this.byAddress.end(remoteAddress);
      this.byAccount.end(acctKey);
    }
    if (ok && entry !== undefined) return { ok: true, marketDataOnly: entry.marketDataOnly };
    await this.padTo(start);
    return { ok: false, reason: BAD_CREDENTIALS };
  }

  private async padTo(start: number): Promise<void> {
    const left = start + this.throttle.failureDelayMs - this.clock();
    if (left > 0) await this.sleep(left);
  }
}

export interface DemoAccounts {
  accounts: { name: string; password: string }[];
  credentialsPath: string;
}

export const DEMO_ACCOUNT_NAMES = ['alice', 'bob'];

/**
 * On a fresh data folder (no accounts file yet) creates the demo accounts
 * with random passwords and writes them to DIR/demo-credentials.txt (0600), so
 * that `npm start` gives an exchange someone can log on to at once. Null when
 * the accounts file already exists: the operator's accounts are never touched.
 */
export async function ensureDemoAccounts(dataDir: string, accountsPath: string, o: AccountStoreOptions & { url?: string } = {}): Promise<DemoAccounts | null> {
  try {
    statSync(accountsPath);
    return null;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`accounts file ${accountsPath}: ${(e as Error).message}`);
  }
  const store = AccountStore.load(accountsPath, o);
  const accounts = DEMO_ACCOUNT_NAMES.map((name) => ({ name, password: crypto.randomBytes(12).toString('base64url') }));
  for (const a of accounts) await store.add(a.name, a.password, { marketDataOnly: false });
  const where = o.url ?? 'the gateway (ws://HOST:PORT/fix, printed by matchlog start)';
  const text = [
    '# matchlog demo accounts, created on first start; remove them with `matchlog accounts remove NAME`',
    ...accounts.map((a) => `${a.name} ${a.password}`),
    `# log on: connect to ${where} with subprotocol fix.4.4 or fix.json; Logon (A) with SenderCompID 49 = Username 553 = the name, Password 554 = the password, TargetCompID 56 = ${GATEWAY_COMP_ID}`,
    `# or in a browser: the trading screen at ${o.url !== undefined ? o.url.replace(/^ws/, 'http').replace(/\/fix$/, '/') : 'http://HOST:PORT/ (the gateway\'s host and port)'}, with the name and the password`,
    '',
  ].join('\n');
  const credentialsPath = join(dataDir, 'demo-credentials.txt');
  // credentials first: a crash between the two writes leaves no accounts file, so the next start makes both again
  writeFileAtomic(credentialsPath, text);
  store.save();
  return { accounts, credentialsPath };
}
