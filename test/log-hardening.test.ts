// What an operator (or a hostile one) does to a data directory, with real
// processes: recovery refuses rather than drops acknowledged commands, names
// the files and seqs, and `--repair` says exactly what it loses; a full disk
// stops `apply --log` with one clear error and no made-up hash; a closed stdout
// ends a run quietly; configured instruments are created on a fresh log only.

import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DamageError, listSegments, listSnapshots, readLog, readSnapshot } from '../log/index.js';
import { crc32 } from '../log/crc32.js';
import { longSize, parseHeader, writeLong } from '../log/container.js';
import { prepareCommand } from '../log/codec.js';
import { BlockBuilder } from '../log/records.js';
import { encodeSnapshot } from '../log/snapshot.js';
import { Flow, TEST_INSTRUMENTS, prng, segmentBlocks, tempDir } from './log-helpers.js';

const BIN = fileURLToPath(new URL('../../bin/matchlog.js', import.meta.url));

function matchlog(args: string[], input = '', env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000, maxBuffer: 1 << 30 });
}

function flowLines(n: number, seed: number): string {
  const f = new Flow(prng(seed), `s${seed}`);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(JSON.stringify(f.next()));
  return `${out.join('\n')}\n`;
}

interface Built { dir: string; hash: string; seq: number; files: { inst: string; config: string } }

/** A log written by `matchlog apply --log` with small segments and periodic snapshots (plus the final one). */
function buildLog(t: TestContext, n: number, config: object, seed = 1): Built {
  const root = tempDir(t, 'matchlog-hard-');
  const inst = join(root, 'instruments.json');
  const cfg = join(root, 'small.json');
  writeFileSync(inst, JSON.stringify(TEST_INSTRUMENTS));
  writeFileSync(cfg, JSON.stringify(config));
  const dir = join(root, 'B');
  const r = matchlog(['apply', '--log', dir, '--config', cfg, '--instruments', inst, '--hash'], flowLines(n, seed));
  assert.equal(r.status, 0, r.stderr);
  const last = JSON.parse(r.stdout.trimEnd().split('\n').at(-1) as string) as { type: string; seq: number; hash: string };
  assert.equal(last.type, 'stateHash');
  return { dir, hash: last.hash, seq: last.seq, files: { inst, config: cfg } };
}

function copy(t: TestContext, dir: string): string {
  const to = join(tempDir(t, 'matchlog-hard-copy-'), 'B');
  cpSync(dir, to, { recursive: true });
  return to;
}

/** `matchlog start` until its startup line, then SIGTERM; or its exit when it refuses to start. */
function start(dir: string, extra: string[] = []): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'start', '--data', dir, '--listen', '127.0.0.1:0', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let signalled = false;
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`start did not finish:\n${out}\n${err}`)); }, 60_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!signalled && out.includes('exchange started')) {
        signalled = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out, err }); });
  });
}

// blocks of at most 500 commands: apply --log groups what stdin delivers at once,
// so without a cap one read can make a block as big as a segment and the count
// of segments would follow the pipe's timing (a run with 2 segments was seen)
const SMALL = { segmentBytes: 100_000, snapshotEvery: 4000, checkpointEvery: 1000, maxBlockRecords: 500 };

test('the newest segment removed or cut short while a newer snapshot exists: start refuses naming files and seqs; --repair says what is lost', async (t) => {
  const b = buildLog(t, 12_000, SMALL);
  const segs = listSegments(b.dir);
  assert.ok(segs.length >= 3, `want several segments, got ${segs.length}`);
  const newest = segs[segs.length - 1];
  const before = segmentBlocks(segs[segs.length - 2].path).blocks.at(-1)?.lastSeq as number;
  const finalSnap = listSnapshots(b.dir)[0];
  assert.equal(finalSnap.seq, b.seq);

  // removed
  const removed = copy(t, b.dir);
  unlinkSync(join(removed, newest.name));
  const r1 = await start(removed);
  assert.notEqual(r1.code, 0, r1.out);
  assert.doesNotMatch(r1.out, /exchange started/);
  assert.match(r1.err, new RegExp(`the log ends at seq ${before}, but snapshot ${finalSnap.name} holds the state after seq ${b.seq}`));
  assert.match(r1.err, new RegExp(`index ${newest.name.replace('.avro', '.idx')} exists but its segment ${newest.name} does not`));
  assert.match(r1.err, new RegExp(`commands ${before + 1}\\.\\.${b.seq} \\(at least ${b.seq - before}\\)`));
  assert.ok(existsSync(finalSnap.path.replace(b.dir, removed)), 'nothing is renamed without --repair');

  // cut by half
  const cut = copy(t, b.dir);
  const cutPath = join(cut, newest.name);
  const half = Math.floor(statSync(cutPath).size / 2);
  truncateSync(cutPath, half);
  const kept = segmentBlocks(cutPath).blocks.at(-1)?.lastSeq ?? before;
  const r2 = await start(cut);
  assert.notEqual(r2.code, 0);
  assert.match(r2.err, new RegExp(`log damaged: .*${newest.name} at byte offset \\d+: the log ends at seq ${kept}, but snapshot ${finalSnap.name}`));
  assert.match(r2.err, new RegExp(`commands ${kept + 1}\\.\\.${b.seq}`));
  assert.equal(statSync(cutPath).size, half, 'a refused start changes nothing');

  // --repair: says what is lost, sets the snapshot aside, continues from the end of the log
  const r3 = await start(cut, ['--repair']);
  assert.equal(r3.code, 0, r3.err);
  assert.match(r3.err, new RegExp(`repair: the log ends at seq ${kept}.*commands ${kept + 1}\\.\\.${b.seq} \\(at least ${b.seq - kept}\\).*they are lost`));
  assert.match(r3.err, new RegExp(`setting snapshot ${finalSnap.name} aside as ${finalSnap.name}.orphaned`));
  assert.match(r3.out, new RegExp(`recovered seq ${kept} .*now at seq ${kept};`));
  assert.ok(existsSync(join(cut, `${finalSnap.name}.orphaned`)));
  const r4 = await start(cut);
  assert.equal(r4.code, 0, r4.err);
  assert.match(r4.out, new RegExp(`recovered seq ${kept} from snapshot`));
});

test('a middle or the first segment removed: start refuses naming the gap', async (t) => {
  const b = buildLog(t, 12_000, SMALL);
  const segs = listSegments(b.dir);
  assert.ok(segs.length >= 3, `want several segments, got ${segs.length}`);
  const mid = copy(t, b.dir);
  rmSync(join(mid, segs[1].name));
  rmSync(join(mid, segs[1].name.replace('.avro', '.idx')));
  const r = await start(mid);
  assert.notEqual(r.code, 0);
  const endsAt = segmentBlocks(segs[0].path).blocks.at(-1)?.lastSeq as number;
  assert.match(r.err, new RegExp(`commands ${endsAt + 1}\\.\\.${segs[2].firstSeq - 1} are missing: ${segs[0].name} ends at seq ${endsAt} and ${segs[2].name} starts at seq ${segs[2].firstSeq}`));
  const first = copy(t, b.dir);
  rmSync(join(first, segs[0].name));
  rmSync(join(first, segs[0].name.replace('.avro', '.idx')));
  const r2 = await start(first);
  assert.notEqual(r2.code, 0);
  assert.match(r2.err, new RegExp(`the log must start at seq 1, but its first segment starts at seq ${segs[1].firstSeq}`));
});

/** Appends a block with a valid frame, sync marker and CRC to a segment. */
function appendBlock(path: string, count: number, data: Buffer): void {
  const buf = readFileSync(path);
  const h = parseHeader(buf);
  if (typeof h === 'string') throw new Error(h);
  data.writeUInt32BE(crc32(data, 0, data.length - 4), data.length - 4);
  const prefix = Buffer.alloc(longSize(count) + longSize(data.length));
  writeLong(prefix, writeLong(prefix, 0, count), data.length);
  writeFileSync(path, Buffer.concat([buf, prefix, data, h.sync]));
}

test('a whole last block that passes its CRC but does not decode, or skips a seq, is damage: refused, not truncated', async (t) => {
  const b = buildLog(t, 3000, { snapshotEvery: 0 });
  const seg = listSegments(b.dir).at(-1) as { name: string; path: string };
  for (const kind of ['garbage', 'gap', 'gap-inside'] as const) {
    const dir = copy(t, b.dir);
    const path = join(dir, seg.name);
    const size = statSync(path).size;
    if (kind === 'garbage') {
      const data = Buffer.alloc(300, 0x55);
      appendBlock(path, 3, data);
    } else {
      const bb = new BlockBuilder(1 << 16);
      const first = kind === 'gap' ? b.seq + 2 : b.seq + 1;
      bb.command(first, 1, 't', prepareCommand({ op: 'book', symbol: 'AAPL' }));
      bb.command(first + (kind === 'gap' ? 1 : 2), 1, 't', prepareCommand({ op: 'book', symbol: 'AAPL' }));
      const { start: s, end } = bb.seal(first + 2, 1);
      const framed = bb.buf.subarray(s, end);
      const dataStart = framed.length - bb.dataBytes;
      appendBlock(path, bb.count, Buffer.from(framed.subarray(dataStart)));
    }
    const r = await start(dir);
    assert.notEqual(r.code, 0, `${kind}: ${r.out}`);
    assert.match(r.err, new RegExp(`log damaged: .*${seg.name} at byte offset ${size}: ${kind === 'garbage' ? 'block does not decode' : 'command seq \\d+ follows seq \\d+: the log has a gap'}`), kind);
    assert.ok(statSync(path).size > size, `${kind}: nothing truncated`);
    // the reader sees the same damage (one scanner)
    assert.throws(() => [...readLog(dir)], (e: unknown) => e instanceof DamageError && e.offset === size, kind);
  }
});

test('a snapshot of another log: recognised by its log id and not used; one without a log id diverges, naming the file', async (t) => {
  const a = buildLog(t, 5000, { snapshotEvery: 2000, checkpointEvery: 500 }, 1);
  const b = buildLog(t, 5000, { snapshotEvery: 2000, checkpointEvery: 500 }, 2);
  for (const s of listSnapshots(b.dir)) rmSync(s.path);
  // the oldest snapshot kept (a periodic one is skipped while the one before it is still being written)
  const foreign = listSnapshots(a.dir).at(-1);
  assert.ok(foreign !== undefined && foreign.seq < 4500, `a periodic snapshot of log A: ${foreign?.name}`);
  const copied = join(b.dir, foreign.name);
  cpSync(foreign.path, copied);
  const r = await start(b.dir);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, new RegExp(`snapshot .*${foreign.name} is unusable \\(it belongs to another log: its log id is [0-9a-f]{32}, this log's is [0-9a-f]{32}\\)`));
  assert.match(r.out, new RegExp(`recovered seq ${b.seq} from no snapshot, replayed ${b.seq} tail records`));
  // a snapshot written before log ids carries none: only the replay can tell, and the divergence names it
  for (const s of listSnapshots(b.dir)) rmSync(s.path);
  const { logId: _id, ...legacy } = readSnapshot(foreign.path);
  writeFileSync(copied, encodeSnapshot(legacy));
  const r2 = await start(b.dir);
  assert.notEqual(r2.code, 0);
  assert.match(r2.err, new RegExp(`divergence at seq \\d+: checkpoint hash [0-9a-f]{16}, replay computed [0-9a-f]{16}, replaying from snapshot .*${foreign.name}; that snapshot may belong to another log`));
});

/** A 2 MB filesystem when this machine lets us mount one; else a 2 MB file-size limit (EFBIG): a real write failure either way. */
function smallDisk(t: TestContext): { dir: string; wrap: string[] } {
  const root = mkdtempSync(join(tmpdir(), 'matchlog-full-'));
  const mnt = join(root, 'mnt');
  mkdirSync(mnt);
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { encoding: 'utf8' });
  t.after(() => {
    if (m.status === 0) spawnSync('umount', ['-l', mnt]);
    rmSync(root, { recursive: true, force: true });
  });
  if (m.status === 0) {
    t.diagnostic('full disk: a 2 MB tmpfs');
    return { dir: mnt, wrap: [] };
  }
  t.diagnostic(`full disk: mount refused (${m.stderr.trim()}): a 2 MB file-size limit instead`);
  return { dir: root, wrap: ['bash', '-c', 'trap "" XFSZ; ulimit -f 2048; exec "$@"', 'bash'] };
}

test('a full disk: apply --log stops with one error naming file and errno, prints no hash, exits non-zero; every acknowledged command stays', (t) => {
  const disk = smallDisk(t);
  const root = tempDir(t, 'matchlog-full-in-');
  const inst = join(root, 'i.json');
  writeFileSync(inst, JSON.stringify(TEST_INSTRUMENTS));
  const dir = join(disk.dir, 'log');
  const base = [...disk.wrap, process.execPath, BIN, 'apply', '--log', dir];
  const cmd = [...base, '--instruments', inst, '--hash'];
  const r = spawnSync(cmd[0], cmd.slice(1), { input: flowLines(60_000, 3), encoding: 'utf8', maxBuffer: 1 << 30 });
  assert.notEqual(r.status, 0);
  const fatal = r.stderr.split('\n').filter((l) => /FATAL/.test(l));
  assert.equal(fatal.length, 1, r.stderr);
  assert.match(fatal[0], /FATAL: .*0{19}1\.avro failed: (ENOSPC|EFBIG)/);
  const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; seq: number; text?: string });
  assert.ok(lines.every((e) => e.type !== 'stateHash'), 'no hash of a state the log does not hold');
  assert.ok(lines.every((e) => !(e.text ?? '').includes('the log failed')), 'no command answered with the failure');
  const answered = Math.max(...lines.map((e) => e.seq));
  assert.ok(answered > 1000);
  // every answered command is in the log; the next start truncates the unacknowledged tail
  const logged = [...readLog(dir)].filter((x) => x.kind === 'command').map((x) => x.seq);
  assert.ok(logged.length >= answered && logged[answered - 1] === answered);
  const again = spawnSync(base[0], [...base.slice(1), '--hash'], { input: '', encoding: 'utf8' });
  assert.match(again.stderr, /torn last block|the log ends at seq/, again.stderr);
  const hash = again.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; seq: number }).find((e) => e.type === 'stateHash');
  assert.ok(hash !== undefined && hash.seq >= answered, again.stdout + again.stderr);
});

test('apply | head -1: a closed stdout ends the run quietly, and the log is free for the next run', (t) => {
  const root = tempDir(t, 'matchlog-pipe-');
  const inst = join(root, 'i.json');
  writeFileSync(inst, JSON.stringify(TEST_INSTRUMENTS));
  const input = join(root, 'cmds.jsonl');
  writeFileSync(input, flowLines(40_000, 4));
  const dir = join(root, 'log');
  for (const mode of [['--log', dir], []]) {
    const r = spawnSync('bash', ['-c', `"$0" "$1" apply ${mode.join(' ')} --instruments "$2" < "$3" | head -1; echo "status \${PIPESTATUS[0]}" >&2`,
      process.execPath, BIN, inst, input], { encoding: 'utf8' });
    assert.equal(r.stdout.trim().split('\n').length, 1);
    assert.doesNotMatch(r.stderr, /EPIPE|Error|\n\s+at /, r.stderr);
    assert.match(r.stderr, /status 0/);
  }
  const next = matchlog(['apply', '--log', dir, '--hash'], '');
  assert.equal(next.status, 0, next.stderr);
  assert.doesNotMatch(next.stderr, /in use/);
});

test('start on an existing log creates no configured instrument and reports the differences', async (t) => {
  const b = buildLog(t, 500, { snapshotEvery: 0 });
  const count = (): number => [...readLog(b.dir)].filter((x) => x.kind === 'command' && x.cmd.op === 'instrument').length;
  assert.equal(count(), TEST_INSTRUMENTS.length);
  for (let i = 0; i < 2; i++) {
    const r = await start(b.dir);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /config: instrument BTC-USD is not in the log and is not created/);
    assert.match(r.err, /config: instrument AAPL differs from the log's/);
  }
  assert.equal(count(), TEST_INSTRUMENTS.length);
  // a fresh log gets them
  const fresh = join(tempDir(t), 'fresh');
  const r = await start(fresh);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /symbols AAPL BTC-USD EUR-USD MSFT/);
  assert.equal(readdirSync(fresh).filter((n) => n.endsWith('.avro')).length >= 1, true);
});
