// The gateway's accounts: the `matchlog accounts` CLI as an operator runs it
// (real processes), the file it writes, and authentication with its throttle
// (in process, on a fake clock).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mock, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AccountStore, BAD_CREDENTIALS, DEFAULT_SCRYPT, ensureDemoAccounts, type AccountStoreOptions } from '../gateway/accounts.js';

const bin = fileURLToPath(new URL('../../bin/matchlog.js', import.meta.url));
const accountsModule = new URL('../gateway/accounts.js', import.meta.url).href;
// cheap hashes for the in-process tests; the CLI tests use the real defaults
const FAST = { N: 1024, r: 8, p: 1 };
const DELAY = 1000;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'matchlog-accounts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function cli(args: string[], input = '', cwd?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, 'accounts', ...args], { input, encoding: 'utf8', cwd });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A clock that moves only when the store sleeps or the test says so. */
function fakeTime(): { now: () => number; advance: (ms: number) => void; slept: number[]; options: AccountStoreOptions } {
  let now = 1_000_000;
  const slept: number[] = [];
  return {
    now: () => now,
    advance: (ms) => { now += ms; },
    slept,
    options: {
      scrypt: FAST,
      throttle: { maxFailures: 5, windowMs: 60_000, failureDelayMs: DELAY },
      clock: () => now,
      sleep: async (ms) => { slept.push(ms); now += ms; },
    },
  };
}

async function storeWith(dir: string, options: AccountStoreOptions): Promise<AccountStore> {
  const s = AccountStore.load(join(dir, 'accounts.json'), options);
  await s.add('alice', 'alice-pw', { marketDataOnly: false });
  await s.add('viewer', 'viewer-pw', { marketDataOnly: true });
  s.save();
  return s;
}

function reason(r: { ok: boolean; reason?: string }): string {
  return r.ok ? 'ok' : r.reason ?? '';
}

function assertNoPassword(path: string, password: string): void {
  const bytes = readFileSync(path);
  for (const form of [Buffer.from(password), Buffer.from(Buffer.from(password).toString('base64')), Buffer.from(Buffer.from(password).toString('hex'))]) {
    assert.equal(bytes.indexOf(form), -1, `${path} holds the password (${form.toString()})`);
  }
}

test('CLI: add, list, remove; the file is 0600 and holds no password', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'accounts.json');
  let r = cli(['add', 'alice', '--data', dir], 'correct horse battery staple\n');
  assert.equal(r.status, 0, r.stderr);
  r = cli(['add', 'bob', '--market-data-only', '--accounts', file], 'bobs-secret-password');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assertNoPassword(file, 'correct horse battery staple');
  assertNoPassword(file, 'bobs-secret-password');
  const stored = JSON.parse(readFileSync(file, 'utf8')) as { accounts: { name: string; password: Record<string, unknown> }[] };
  assert.deepEqual(stored.accounts.map((a) => a.name), ['alice', 'bob']);
  // the parameters travel with each hash, so a later default can differ
  assert.equal(stored.accounts[0].password.kdf, 'scrypt');
  assert.equal(stored.accounts[0].password.N, DEFAULT_SCRYPT.N);
  assert.notEqual(stored.accounts[0].password.salt, stored.accounts[1].password.salt);

  r = cli(['list', '--accounts', file]);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, 'alice\ttrading\nbob\tmarket-data-only\n');
  r = cli(['remove', 'alice', '--data', dir]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(cli(['list', '--data', dir]).stdout, 'bob\tmarket-data-only\n');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  r = cli(['remove', 'alice', '--data', dir]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no account alice/);
});

test('CLI: the password is the first line of stdin only, and the stored hash verifies it', async (t) => {
  const dir = tempDir(t);
  const r = cli(['add', 'carol', '--data', dir], 'first-line\r\nsecond line\n');
  assert.equal(r.status, 0, r.stderr);
  const store = AccountStore.load(join(dir, 'accounts.json'), { throttle: { failureDelayMs: 0 } });
  assert.deepEqual(await store.authenticate('carol', 'first-line', '127.0.0.1'), { ok: true, marketDataOnly: false });
  assert.equal((await store.authenticate('carol', 'second line', '127.0.0.1')).ok, false);
});

test('CLI: default file is ./data/accounts.json', (t) => {
  const dir = tempDir(t);
  assert.equal(cli(['add', 'dave'], 'pw\n', dir).status, 0);
  assert.ok(existsSync(join(dir, 'data', 'accounts.json')));
  assert.equal(cli(['list'], '', dir).stdout, 'dave\ttrading\n');
});

test('CLI: bad input exits 2 with a message, conflicts exit 1, nothing is written', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'accounts.json');
  const cases: [string[], string, number, RegExp][] = [
    [['add', 'erin', '--accounts', file], '', 2, /password is empty; give it as the first line of stdin/],
    [['add', 'erin', '--accounts', file], '\n', 2, /password is empty/],
    [['add', 'erin', '--accounts', file], 'x'.repeat(1025) + '\n', 2, /longer than 1024 bytes/],
    [['add', 'erin', '--accounts', file], 'x'.repeat(100_000), 2, /longer than 1024 bytes/],
    [['add', 'erin', '--accounts', file], 'a\u0001b\n', 2, /control character/],
    [['add', 'has space', '--accounts', file], 'pw\n', 2, /U\+0020 at position 4/],
    [['add', 'x'.repeat(65), '--accounts', file], 'pw\n', 2, /longer than 64/],
    [['add', 'MATCHLOG', '--accounts', file], 'pw\n', 2, /reserved/],
    [['add', 'matchlog', '--accounts', file], 'pw\n', 2, /reserved/],
    [['add', '--accounts', file], 'pw\n', 2, /one NAME/],
    [['add', 'a', 'b', '--accounts', file], 'pw\n', 2, /one NAME/],
    [['list', 'extra', '--accounts', file], '', 2, /list takes no NAME/],
    [['list', '--market-data-only', '--accounts', file], '', 2, /goes with add/],
    [['frobnicate'], '', 2, /unknown subcommand/],
    [[], '', 2, /add, list or remove/],
    [['add', 'erin', '--bogus'], 'pw\n', 2, /bogus/],
  ];
  for (const [args, input, status, message] of cases) {
    const r = cli(args, input);
    assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
  assert.ok(!existsSync(file));
  assert.equal(cli(['add', 'erin', '--accounts', file], 'pw\n').status, 0);
  const before = readFileSync(file);
  const dup = cli(['add', 'erin', '--accounts', file], 'other\n');
  assert.equal(dup.status, 1);
  assert.match(dup.stderr, /already exists/);
  assert.deepEqual(readFileSync(file), before);
  const help = cli(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: matchlog accounts add NAME/);
  assert.equal(cli(['add', '--help']).status, 0);
});

test('a file that does not parse is refused, naming the file, the reason and the place; it is left alone', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'accounts.json');
  writeFileSync(file, '{"format":"matchlog.accounts",\n "version":1,,}\n', { mode: 0o600 });
  const r = cli(['add', 'frank', '--accounts', file], 'pw\n');
  assert.equal(r.status, 1);
  assert.ok(r.stderr.includes(`accounts file ${file}: not valid JSON`), r.stderr);
  assert.match(r.stderr, /line 2, column 14/);
  assert.equal(readFileSync(file, 'utf8'), '{"format":"matchlog.accounts",\n "version":1,,}\n');

  const pw = { kdf: 'scrypt', N: 1024, r: 8, p: 1, salt: 'AAAAAAAAAAAAAAAAAAAAAA==', hash: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' };
  const doc = (accounts: unknown[]): unknown => ({ format: 'matchlog.accounts', version: 1, accounts });
  for (const [content, why] of [
    [[], /not a matchlog accounts file/],
    [{ format: 'matchlog.accounts', version: 2, accounts: [] }, /version 2/],
    [doc([{ name: 'a', marketDataOnly: false, password: pw }, { name: 'a', marketDataOnly: false, password: pw }]), /accounts\[1\]: account a appears twice/],
    [doc([{ name: 'a', marketDataOnly: 'no', password: pw }]), /accounts\[0\]\.marketDataOnly/],
    [doc([{ name: 'a b', marketDataOnly: false, password: pw }]), /U\+0020/],
    [doc([{ name: 'a', marketDataOnly: false, password: { ...pw, N: 2 ** 30 } }]), /N must be/],
    [doc([{ name: 'a', marketDataOnly: false, password: { ...pw, hash: 'not base64!' } }]), /hash must be base64/],
    [doc([{ name: 'a', marketDataOnly: false, password: { ...pw, kdf: 'plain' } }]), /"kdf": "scrypt"/],
  ] as [unknown, RegExp][]) {
    writeFileSync(file, JSON.stringify(content));
    assert.throws(() => AccountStore.load(file, { warn: () => undefined }), (e: Error) => e.message.startsWith(`accounts file ${file}: `) && why.test(e.message));
  }
});

test('a group- or world-readable file is loaded with a warning, and the next save makes it 0600', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'accounts.json');
  await storeWith(dir, { scrypt: FAST });
  chmodSync(file, 0o644);
  const warnings: string[] = [];
  const store = AccountStore.load(file, { scrypt: FAST, warn: (l) => warnings.push(l) });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /mode 0644.*chmod 600/);
  assert.equal(store.list().length, 2);
  store.save();
  assert.equal(statSync(file).mode & 0o777, 0o600);
  AccountStore.load(file, { warn: (l) => assert.fail(l) });
});

test('authenticate: right password; wrong password and unknown account get the same answer, after the same delay', async (t) => {
  const dir = tempDir(t);
  const time = fakeTime();
  const store = await storeWith(dir, time.options);
  const spy = mock.method(crypto, 'timingSafeEqual');
  t.after(() => spy.mock.restore());

  assert.deepEqual(await store.authenticate('alice', 'alice-pw', '10.0.0.1'), { ok: true, marketDataOnly: false });
  assert.deepEqual(await store.authenticate('viewer', 'viewer-pw', '10.0.0.1'), { ok: true, marketDataOnly: true });
  assert.deepEqual(time.slept, [], 'a success is not delayed');
  assert.equal(spy.mock.callCount(), 2);

  const wrong = await store.authenticate('alice', 'alice-PW', '10.0.0.2');
  const unknown = await store.authenticate('mallory', 'alice-pw', '10.0.0.3');
  assert.deepEqual(wrong, { ok: false, reason: BAD_CREDENTIALS });
  assert.deepEqual(unknown, wrong);
  // both padded to the same fixed delay, and both did the hashing work
  assert.deepEqual(time.slept, [DELAY, DELAY]);
  assert.equal(spy.mock.callCount(), 4);
  for (const call of spy.mock.calls) assert.equal((call.arguments[0] as Buffer).length, (call.arguments[1] as Buffer).length);
  // an over-long password is a plain failure, not a crash or a slow hash
  assert.deepEqual(await store.authenticate('alice', 'x'.repeat(5000), '10.0.0.4'), wrong);
  assert.deepEqual(await store.authenticate('', '', '10.0.0.5'), wrong);
});

test('throttle per remote address: after 5 failures in a minute even the right password waits', async (t) => {
  const dir = tempDir(t);
  const time = fakeTime();
  const store = await storeWith(dir, time.options);
  const names = ['alice', 'nobody', 'viewer', 'x', 'y'];
  for (const n of names) assert.equal(reason(await store.authenticate(n, 'guess', '10.1.1.1')), BAD_CREDENTIALS);
  const refused = await store.authenticate('alice', 'alice-pw', '10.1.1.1');
  assert.match(reason(refused), /too many failed logon attempts; try again in \d+ s/);
  // another address is not held back by this one
  assert.equal((await store.authenticate('alice', 'alice-pw', '10.1.1.2')).ok, true);
  time.advance(60_000);
  // the old failures have left the window: one new one does not hold the address back
  assert.equal(reason(await store.authenticate('nobody', 'guess', '10.1.1.1')), BAD_CREDENTIALS);
  assert.equal((await store.authenticate('alice', 'alice-pw', '10.1.1.1')).ok, true);
});

test('throttle per account, known or not: 5 failures from 5 addresses hold the account back', async (t) => {
  const dir = tempDir(t);
  const time = fakeTime();
  const store = await storeWith(dir, time.options);
  for (const name of ['alice', 'ghost']) {
    for (let i = 0; i < 5; i++) assert.equal(reason(await store.authenticate(name, 'guess', `10.2.${name.length}.${i}`)), BAD_CREDENTIALS);
  }
  const alice = await store.authenticate('alice', 'alice-pw', '10.9.9.9');
  const ghost = await store.authenticate('ghost', 'whatever', '10.9.9.9');
  assert.match(reason(alice), /^too many failed logon attempts/);
  // the throttle does not tell an existing account from a missing one either (the wait differs only by when the failures were)
  const general = (r: string): string => r.replace(/\d+ s$/, 'N s');
  assert.equal(general(reason(ghost)), general(reason(alice)));
  assert.equal((await store.authenticate('viewer', 'viewer-pw', '10.9.9.9')).ok, true);
  time.advance(60_001);
  assert.equal((await store.authenticate('alice', 'alice-pw', '10.9.9.9')).ok, true);
});

test('throttle: a burst of parallel guesses is cut at the limit, not after the hashes finish', async (t) => {
  const dir = tempDir(t);
  const time = fakeTime();
  const store = await storeWith(dir, time.options);
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => store.authenticate('alice', `guess${i}`, '10.3.3.3')));
  const reasons = results.map(reason);
  assert.equal(reasons.filter((r) => r === BAD_CREDENTIALS).length, 5);
  assert.equal(reasons.filter((r) => r.startsWith('too many')).length, 7);
});

test('throttle: a burst of good logons from one address (a firm\'s sessions) is delayed past the limit, never refused', async (t) => {
  const dir = tempDir(t);
  const time = fakeTime();
  const store = await storeWith(dir, time.options);
  const results = await Promise.all(Array.from({ length: 12 }, () => store.authenticate('alice', 'alice-pw', '10.4.4.4')));
  assert.deepEqual(results.map((r) => r.ok), Array(12).fill(true));
});

test('stored parameters win over the defaults: a hash made with other scrypt parameters still verifies', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'accounts.json');
  await storeWith(dir, { scrypt: { N: 2048, r: 4, p: 2 } });
  const stored = JSON.parse(readFileSync(file, 'utf8')) as { accounts: { password: Record<string, unknown> }[] };
  assert.deepEqual([stored.accounts[0].password.N, stored.accounts[0].password.r, stored.accounts[0].password.p], [2048, 4, 2]);
  const store = AccountStore.load(file, { scrypt: FAST, throttle: { failureDelayMs: 0 } });
  assert.equal((await store.authenticate('alice', 'alice-pw', '::1')).ok, true);
});

test('atomic save: the file is replaced by rename, never rewritten in place', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'accounts.json');
  const store = await storeWith(dir, { scrypt: FAST });
  const old = join(dir, 'old-link');
  linkSync(file, old);
  const before = readFileSync(file, 'utf8');
  const temps: string[] = [];
  const s2 = AccountStore.load(file, { scrypt: FAST, beforeRename: (tmp) => temps.push(tmp) });
  await s2.add('zed', 'zed-pw', { marketDataOnly: false });
  s2.save();
  // the old inode still holds the old text whole: nothing was written through it
  assert.equal(readFileSync(old, 'utf8'), before);
  assert.notEqual(statSync(old).ino, statSync(file).ino);
  assert.equal(temps.length, 1);
  assert.equal(join(temps[0], '..'), dir, 'the temp file is in the same folder (a rename across file systems is a copy)');
  assert.equal(store.list().length, 2);

  // a write that fails before the rename leaves the old file and no temp file
  const s3 = AccountStore.load(file, { scrypt: FAST, beforeRename: () => { throw new Error('ENOSPC: no space left on device'); } });
  s3.remove('alice');
  assert.throws(() => s3.save(), new RegExp(`writing ${file}: ENOSPC`));
  assert.deepEqual(AccountStore.load(file).list().map((a) => a.name), ['alice', 'viewer', 'zed']);
  assert.deepEqual(readdirSync(dir).sort(), ['accounts.json', 'old-link']);
});

test('atomic save: a process killed just before the rename leaves the old file whole', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'accounts.json');
  await storeWith(dir, { scrypt: FAST });
  const before = readFileSync(file, 'utf8');
  const code = `
    import { AccountStore } from ${JSON.stringify(accountsModule)};
    const s = AccountStore.load(${JSON.stringify(file)}, { scrypt: { N: 1024 }, beforeRename: (tmp) => {
      process.stdout.write(tmp);
      process.kill(process.pid, 'SIGKILL');
    } });
    await s.add('carol', 'carol-pw', { marketDataOnly: false });
    s.save();`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  assert.equal(r.signal, 'SIGKILL', r.stderr);
  assert.equal(readFileSync(file, 'utf8'), before);
  assert.deepEqual(AccountStore.load(file).list().map((a) => a.name), ['alice', 'viewer']);
  // what was killed was a whole new file, synced, waiting for its rename
  assert.ok(r.stdout.startsWith(dir), r.stdout);
  assert.equal(statSync(r.stdout).mode & 0o777, 0o600);
  assert.deepEqual(JSON.parse(readFileSync(r.stdout, 'utf8')).accounts.map((a: { name: string }) => a.name), ['alice', 'carol', 'viewer']);
});

test('demo accounts: created once on a fresh folder, with a 0600 credentials file whose passwords log on', async (t) => {
  const dir = tempDir(t);
  const data = join(dir, 'data');
  mkdirSync(data);
  const accounts = join(data, 'accounts.json');
  const demo = await ensureDemoAccounts(data, accounts, { scrypt: FAST, url: 'ws://127.0.0.1:7440/fix' });
  assert.ok(demo !== null);
  assert.deepEqual(demo.accounts.map((a) => a.name), ['alice', 'bob']);
  assert.notEqual(demo.accounts[0].password, demo.accounts[1].password);
  assert.equal(demo.credentialsPath, join(data, 'demo-credentials.txt'));
  assert.equal(statSync(demo.credentialsPath).mode & 0o777, 0o600);
  assert.equal(statSync(accounts).mode & 0o777, 0o600);
  const text = readFileSync(demo.credentialsPath, 'utf8');
  for (const a of demo.accounts) {
    assert.ok(text.includes(`${a.name} ${a.password}\n`));
    assertNoPassword(accounts, a.password);
  }
  assert.match(text, /ws:\/\/127\.0\.0\.1:7440\/fix/);
  assert.match(text, /Password 554/);
  assert.match(text, /the trading screen at http:\/\/127\.0\.0\.1:7440\//);
  const store = AccountStore.load(accounts, { throttle: { failureDelayMs: 0 } });
  for (const a of demo.accounts) assert.deepEqual(await store.authenticate(a.name, a.password, '127.0.0.1'), { ok: true, marketDataOnly: false });

  // the operator's accounts are never touched again, even with the credentials file gone
  rmSync(demo.credentialsPath);
  const before = readFileSync(accounts, 'utf8');
  assert.equal(await ensureDemoAccounts(data, accounts, { scrypt: FAST }), null);
  assert.equal(readFileSync(accounts, 'utf8'), before);
  assert.ok(!existsSync(demo.credentialsPath));
});
