// `matchlog verify DIR`, driven as an operator runs it (a real process): a good
// log of several segments, checkpoints, snapshots and two epochs verifies;
// each kind of damage stops it at the first problem with one line naming the
// file, the byte offset and the seq; a torn tail is skipped; nothing in the
// folder changes, and a running exchange's folder verifies without its lock.

import assert from 'node:assert/strict';
import { spawn, type SpawnSyncReturns } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { restoreEngine } from '../engine/index.js';
import { listSegments, listSnapshots, readLog, readSnapshot, recover } from '../log/index.js';
import { prepareCommand } from '../log/codec.js';
import { parseHeader } from '../log/container.js';
import { crc32 } from '../log/crc32.js';
import { BlockBuilder } from '../log/records.js';
import { decodeSegmentBlock, scanSegment } from '../log/scanner.js';
import { encodeSnapshot } from '../log/snapshot.js';
import { Flow, TEST_INSTRUMENTS, prng, segmentBlocks, tempDir } from './log-helpers.js';
import { BIN, matchlog, matchlogAsync } from './cli-helpers.js';

function flowLines(n: number, seed: number): string {
  const f = new Flow(prng(seed), `s${seed}`);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(JSON.stringify(f.next()));
  return `${out.join('\n')}\n`;
}

/** Small segments of several blocks, a checkpoint every 1,000 commands, periodic snapshots (the newest 2 kept, plus the final one). */
const SMALL = { segmentBytes: 100_000, maxBlockRecords: 500, checkpointEvery: 1000, snapshotEvery: 4000 };

interface Good { dir: string; seq: number; hash: string }
let root = '';
let good: Good;

// one log for every case (each damages its own copy): two runs of `apply --log`, so two epochs
before(() => {
  root = mkdtempSync(join(tmpdir(), 'matchlog-verify-'));
  const inst = join(root, 'instruments.json');
  const cfg = join(root, 'small.json');
  writeFileSync(inst, JSON.stringify(TEST_INSTRUMENTS));
  writeFileSync(cfg, JSON.stringify(SMALL));
  const dir = join(root, 'log');
  let last = { seq: 0, hash: '' };
  for (const [args, seed] of [[['--instruments', inst], 1], [[], 2]] as const) {
    const r = matchlog(['apply', '--log', dir, '--config', cfg, ...args, '--hash'], flowLines(9000, seed));
    assert.equal(r.status, 0, r.stderr);
    last = JSON.parse(r.stdout.trimEnd().split('\n').at(-1) as string) as { seq: number; hash: string };
  }
  good = { dir, ...last };
});
after(() => rmSync(root, { recursive: true, force: true }));

function copy(t: TestContext): string {
  const to = join(tempDir(t, 'matchlog-verify-copy-'), 'log');
  cpSync(good.dir, to, { recursive: true });
  return to;
}

/** Every file's name, size and mtime: verify must change none of them. */
function listing(dir: string): string[] {
  return readdirSync(dir).sort().map((n) => {
    const s = statSync(join(dir, n));
    return `${n} ${s.size} ${s.mtimeMs}`;
  });
}

/** Runs `matchlog verify` and checks that the folder is exactly as it was. */
function verify(dir: string, extra: string[] = []): SpawnSyncReturns<string> {
  const before = listing(dir);
  const r = matchlog(['verify', dir, ...extra]);
  assert.deepEqual(listing(dir), before, 'verify changed the folder');
  return r;
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The one problem line: `matchlog verify: FILE offset N: reason`. */
function assertProblem(r: SpawnSyncReturns<string>, file: string, offset: number, reason: RegExp | string): void {
  assert.equal(r.status, 1, `exit code; stdout ${r.stdout}; stderr ${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('matchlog verify: ') && !/commands in .* s \(/.test(l));
  assert.equal(lines.length, 1, r.stderr);
  const prefix = `matchlog verify: ${file} offset ${offset}: `;
  assert.ok(lines[0].startsWith(prefix), `want ${prefix}…, got ${lines[0]}`);
  const rest = lines[0].slice(prefix.length);
  if (typeof reason === 'string') assert.equal(rest, reason);
  else assert.match(rest, reason);
}

test('a good log (segments, checkpoints, snapshots, a restart) verifies: exit 0, a summary, the replayed hash, nothing written', () => {
  const segs = listSegments(good.dir);
  assert.ok(segs.length >= 3, `want several segments, got ${segs.length}`);
  const snaps = listSnapshots(good.dir);
  assert.ok(snaps.length >= 2);
  const r = verify(good.dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^matchlog verify: ${esc(good.dir)}: OK\n`));
  assert.match(r.stdout, new RegExp(`segments +${segs.length} \\(${segs[0].name} \\.\\. ${segs.at(-1)?.name}\\)`));
  assert.match(r.stdout, new RegExp(`seqs +1\\.\\.${good.seq} \\(${good.seq.toLocaleString('en-US')} commands\\)`));
  // as many as the log holds (the sequencer spaces them wider as the book grows: log/README.md)
  const checkpoints = [...readLog(good.dir)].filter((rec) => rec.kind === 'checkpoint').length;
  assert.ok(checkpoints >= 5, `${checkpoints} checkpoints in the log`);
  assert.match(r.stdout, new RegExp(`checkpoints +${checkpoints} verified`));
  assert.match(r.stdout, /epochs +2 in order \(1\.\.2\)/);
  assert.match(r.stdout, new RegExp(`snapshots +${snaps.length} checked`));
  assert.match(r.stdout, /time +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z \.\. \d{4}-/);
  assert.match(r.stdout, new RegExp(`state hash +0x${good.hash} after seq ${good.seq}`));
  assert.doesNotMatch(r.stdout, /torn/);
  assert.match(r.stderr, new RegExp(`matchlog verify: ${good.seq.toLocaleString('en-US')} commands in [\\d.]+ s \\(`));
  assert.doesNotMatch(r.stderr, /warning/);

  const j = verify(good.dir, ['--json']);
  assert.equal(j.status, 0, j.stderr);
  const s = JSON.parse(j.stdout) as { ok: boolean; lastSeq: number; stateHash: string; epochs: { epoch: number }[]; snapshots: { seq: number }[]; segments: unknown[]; tornTail: unknown };
  assert.equal(s.ok, true);
  assert.equal(s.lastSeq, good.seq);
  assert.equal(s.stateHash, good.hash);
  assert.deepEqual(s.epochs.map((e) => e.epoch), [1, 2]);
  assert.deepEqual(s.snapshots.map((x) => x.seq), snaps.map((x) => x.seq).reverse());
  assert.equal(s.segments.length, segs.length);
  assert.equal(s.tornTail, null);
});

test('(a) a checkpoint hash rewritten, its block CRC fixed: only the recomputed hash catches it', (t) => {
  const dir = copy(t);
  const seg = listSegments(dir)[1];
  const scan = scanSegment(seg, false);
  let hit: { offset: number; seq: number; hash: string; dataStart: number; dataEnd: number } | null = null;
  for (const f of scan.blocks) {
    const cp = decodeSegmentBlock(scan, f).find((x) => x.kind === 'checkpoint');
    if (cp !== undefined && cp.kind === 'checkpoint') {
      hit = { offset: f.offset, seq: cp.seq, hash: cp.hash, dataStart: f.dataStart, dataEnd: f.dataEnd };
      break;
    }
  }
  assert.ok(hit !== null, 'a segment with a checkpoint');
  const buf = Buffer.from(scan.buf);
  const at = buf.indexOf(hit.hash, hit.dataStart, 'latin1');
  assert.ok(at > 0 && at < hit.dataEnd);
  // same length, so the record still decodes; then the CRC is made right again
  const forged = [...hit.hash].map((c) => (c === '0' ? '1' : '0')).join('');
  buf.write(forged, at, 'latin1');
  buf.writeUInt32BE(crc32(buf, hit.dataStart, hit.dataEnd - 4), hit.dataEnd - 4);
  writeFileSync(seg.path, buf);
  const r = verify(dir);
  assertProblem(r, seg.path, hit.offset, `checkpoint after seq ${hit.seq}: hash 0x${forged} in the log, 0x${hit.hash} recomputed`);
  const j = verify(dir, ['--json']);
  assert.deepEqual(JSON.parse(j.stdout), {
    ok: false, problem: { file: seg.path, offset: hit.offset, seq: hit.seq, reason: `checkpoint after seq ${hit.seq}: hash 0x${forged} in the log, 0x${hit.hash} recomputed` },
  });
});

test('(b) a flipped byte in a middle segment: the CRC, at that block, after the seq before it', (t) => {
  const dir = copy(t);
  const seg = listSegments(dir)[1];
  const { blocks } = segmentBlocks(seg.path);
  assert.ok(blocks.length >= 2);
  const victim = blocks[1];
  const buf = readFileSync(seg.path);
  const at = Math.floor((victim.offset + victim.end) / 2);
  buf[at] ^= 0x20;
  writeFileSync(seg.path, buf);
  const r = verify(dir);
  assertProblem(r, seg.path, victim.offset, `the block after seq ${blocks[0].lastSeq}: CRC mismatch`);
});

test('(c) a missing middle segment: the gap, at the segment after it', (t) => {
  const dir = copy(t);
  const segs = listSegments(dir);
  const endsAt = segmentBlocks(segs[0].path).blocks.at(-1)?.lastSeq as number;
  unlinkSync(segs[1].path);
  unlinkSync(segs[1].path.replace(/\.avro$/, '.idx'));
  const r = verify(dir);
  assertProblem(r, segs[2].path, 0,
    `commands ${endsAt + 1}..${segs[2].firstSeq - 1} are missing: ${segs[0].name} ends at seq ${endsAt} and ${segs[2].name} starts at seq ${segs[2].firstSeq} (a segment file was removed?)`);
  // its index left behind: still the gap first, in log order
  const dir2 = copy(t);
  unlinkSync(join(dir2, segs[1].name));
  assertProblem(verify(dir2), join(dir2, segs[2].name), 0, /^commands \d+\.\.\d+ are missing/);
  // the first segment gone
  const dir3 = copy(t);
  unlinkSync(join(dir3, segs[0].name));
  assertProblem(verify(dir3), join(dir3, segs[1].name), 0, `the log must start at seq 1, but its first segment starts at seq ${segs[1].firstSeq} (earlier segments are missing)`);
});

test('a segment of another log (its header\'s log id differs) is named at offset 0', (t) => {
  const dir = copy(t);
  const segs = listSegments(dir);
  const buf = readFileSync(segs[1].path);
  const h = parseHeader(buf);
  assert.ok(typeof h !== 'string');
  const id = h.meta.get('matchlog.log') as string;
  const at = buf.indexOf(id, 0, 'latin1');
  assert.ok(at > 0 && at < h.end);
  // same length: the header and every block offset stay as they were
  buf.write('f'.repeat(32), at, 'latin1');
  writeFileSync(segs[1].path, buf);
  assertProblem(verify(dir), segs[1].path, 0, `the segment belongs to another log: its log id is ${'f'.repeat(32)}, this log's is ${id} (from ${segs[0].name})`);
});

test('(d) a torn tail on the last segment (a block being written) is skipped and mentioned, exit 0', (t) => {
  const dir = copy(t);
  const seg = listSegments(dir).at(-1) as { path: string };
  const { blocks } = segmentBlocks(seg.path);
  const last = blocks[blocks.length - 1];
  const buf = readFileSync(seg.path);
  // half of a block (a copy of the last one) with no sync marker after it: a write in flight
  const half = buf.subarray(last.offset, last.offset + Math.floor((last.end - last.offset) / 2));
  writeFileSync(seg.path, Buffer.concat([buf, half]));
  const r = verify(dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`an in-flight/torn tail of ${half.length} bytes after seq ${good.seq} was not checked \\(${esc(seg.path)} offset ${buf.length}: `));
  assert.match(r.stdout, new RegExp(`seqs +1\\.\\.${good.seq} `));
  // the same bytes in the middle of the log are damage, not a torn write
  const dir2 = copy(t);
  const mid = listSegments(dir2)[1];
  const midBuf = readFileSync(mid.path);
  writeFileSync(mid.path, Buffer.concat([midBuf, half]));
  assertProblem(verify(dir2), mid.path, midBuf.length, /^the block after seq \d+: /);
});

test('epochs must increase: a block whose epoch record goes back is refused at that block', (t) => {
  const dir = copy(t);
  const seg = listSegments(dir).at(-1) as { path: string };
  const buf = readFileSync(seg.path);
  const h = parseHeader(buf);
  assert.ok(typeof h !== 'string');
  const lastTs = [...readLog(dir)].at(-1)?.ts as number;
  const b = new BlockBuilder(1 << 16);
  b.epoch(good.seq, lastTs, 1, 'rogue');
  b.command(good.seq + 1, lastTs, 'test', prepareCommand({ op: 'book', symbol: 'AAPL' }));
  const { start, end } = b.seal(good.seq + 1, lastTs);
  writeFileSync(seg.path, Buffer.concat([buf, b.buf.subarray(start, end), h.sync]));
  assertProblem(verify(dir), seg.path, buf.length, `epoch 1 (node "rogue") after seq ${good.seq} does not follow epoch 2: epochs must increase`);
});

test('a snapshot of another log is named; a snapshot whose state differs from the replay is named with both hashes', (t) => {
  const dir = copy(t);
  const snap = listSnapshots(dir)[0];
  const data = readSnapshot(snap.path);
  writeFileSync(snap.path, encodeSnapshot({ ...data, logId: 'f'.repeat(32) }));
  assertProblem(verify(dir), snap.path, 0, new RegExp(`^snapshot of another log: its log id is f{32}, this log's is ${data.logId}`));
  // a snapshot (without a log id) of a different state at that seq
  const dir2 = copy(t);
  const snap2 = listSnapshots(dir2)[0];
  const other = readSnapshot(snap2.path);
  const { logId: _id, ...legacy } = other;
  const state = { ...legacy.state, orders: legacy.state.orders.slice(1) };
  // record the hash this state restores to, so only the comparison with the replay can catch it
  writeFileSync(snap2.path, encodeSnapshot({ ...legacy, state, hash: restoreEngine(state).stateHash() }));
  assertProblem(verify(dir2), snap2.path, 0,
    new RegExp(`^snapshot after seq ${snap2.seq}: hash 0x[0-9a-f]{16} in the snapshot, 0x${good.hash} replayed from the log \\(the snapshot has no log id`));
});

test('a snapshot with bytes after its one block (zeros, or garbage) is damage at that offset; recovery does not trust it either', (t) => {
  for (const extra of [Buffer.alloc(64), Buffer.from('not part of any snapshot\n')]) {
    const dir = copy(t);
    const snaps = listSnapshots(dir);
    const snap = snaps[0];
    const size = statSync(snap.path).size;
    appendFileSync(snap.path, extra);
    assertProblem(verify(dir), snap.path, size,
      new RegExp(`^snapshot after seq ${snap.seq} does not read: ${extra.length} bytes${extra[0] === 0 ? ' of zeros' : ''} after the snapshot's one block`));
    // start-up passes over it, says so with the offset, and starts from the one before
    const lines: string[] = [];
    const r = recover({ dir, readOnly: true, log: (l) => lines.push(l) });
    assert.equal(r.snapshot?.path, snaps[1].path);
    assert.equal(r.lastSeq, good.seq);
    assert.ok(lines.some((l) => l.startsWith(`snapshot ${snap.path} is unusable (at byte offset ${size}: ${extra.length} bytes`)), lines.join('\n'));
  }
});

const run = matchlogAsync;

test('the folder of a live writer (lock held, blocks being appended) verifies again and again while it grows', async (t) => {
  const dir = copy(t);
  const writer = spawn(process.execPath, [BIN, 'apply', '--log', dir, '--config', join(root, 'small.json')], { stdio: ['pipe', 'ignore', 'pipe'] });
  let werr = '';
  writer.stderr.on('data', (d: Buffer) => { werr += d.toString(); });
  const closed = new Promise<number | null>((resolve) => writer.on('close', resolve));
  t.after(() => { if (writer.exitCode === null) writer.kill('SIGKILL'); });
  const lines = flowLines(20_000, 3).split('\n');
  let fed = 0;
  const feed = async (): Promise<void> => {
    // a trickle: many small blocks, so that verify often meets one in flight
    while (fed < lines.length) {
      writer.stdin.write(`${lines.slice(fed, fed + 100).join('\n')}\n`);
      fed += 100;
      await new Promise((r) => setTimeout(r, 5));
    }
    writer.stdin.end();
  };
  const feeding = feed();
  const seen: number[] = [];
  let torn = 0;
  for (let i = 0; i < 3; i++) {
    const r = await run(['verify', dir, '--json']);
    assert.equal(r.code, 0, r.err);
    const s = JSON.parse(r.out) as { lastSeq: number; tornTail: unknown };
    seen.push(s.lastSeq);
    if (s.tornTail !== null) torn++;
  }
  await feeding;
  assert.equal(await closed, 0, werr);
  assert.ok(seen.every((x) => x >= good.seq), `verified up to ${seen.join(', ')}`);
  const end = await run(['verify', dir, '--json']);
  assert.equal(end.code, 0, end.err);
  t.diagnostic(`verified while writing at seqs ${seen.join(', ')} (${torn} with a block in flight); at the end ${(JSON.parse(end.out) as { lastSeq: number }).lastSeq}`);
});
