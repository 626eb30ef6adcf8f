// `npm run bench:decode [-- DIR | COMMANDS]`: the log block decoder, avsc
// against the hand-written one (log/record-decoder.ts), on the same buffers in
// one process, alternately, so that a shared machine slows both alike.
//
// - decode: every block of the log decoded by each decoder, ROUNDS rounds
//   (the order alternates each round); median and best time per decoder.
// - replay (DIR only): replayLog(DIR, {snapshots: false}) with every block
//   through avsc, then through the default decodeBlock, alternately.
//
// Without DIR a log is built in memory: COMMANDS (default 1,000,000) commands
// of the engine benchmark's mixed workload, 4,096 a block, a checkpoint every
// 10,000 as the sequencer writes them. With DIR its segments are read as they
// are (they must be written with the current schema).
// ROUNDS (env, default 7) sets the number of rounds.

import { existsSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { readBlock, type BlockFrame } from '../log/container.js';
import { listSegments } from '../log/files.js';
import { decodeCurrentBlock } from '../log/record-decoder.js';
import { BlockBuilder, blockDecoding, decodeBlockAvsc, type LogRecord } from '../log/records.js';
import { scanSegment } from '../log/scanner.js';
import { prepareCommand } from '../log/codec.js';
import { replayLog } from '../replay/history.js';
import { INSTRUMENT, mixedWorkload } from './workload.js';

interface Block { buf: Buffer; frame: BlockFrame }

const arg = process.argv[2];
const dir = arg !== undefined && existsSync(arg) && statSync(arg).isDirectory() ? arg : undefined;
const rounds = Number(process.env.ROUNDS ?? 7);

function fromDir(d: string): Block[] {
  const out: Block[] = [];
  for (const seg of listSegments(d)) {
    const scan = scanSegment(seg, true);
    if (scan.resolver !== undefined) throw new Error(`${seg.path}: written with another schema version; the hand-written decoder reads the current one only`);
    for (const frame of scan.blocks) out.push({ buf: scan.buf, frame });
  }
  return out;
}

function inMemory(n: number): Block[] {
  const cmds = [INSTRUMENT, ...mixedWorkload(n - 1, 7).commands].map((c) => prepareCommand(c));
  const out: Block[] = [];
  const sync = Buffer.alloc(16, 0x5a);
  const b = new BlockBuilder(2 << 20);
  let ts = 1_795_372_789_804_535;
  const seal = (seq: number) => {
    const { start, end } = b.seal(seq, ts);
    sync.copy(b.buf, end);
    const buf = Buffer.from(b.buf.subarray(start, end + 16));
    const frame = readBlock(buf, 0, sync);
    if (typeof frame === 'string') throw new Error(frame);
    out.push({ buf, frame });
    b.reset();
  };
  b.epoch(0, ts, 1, 'bench');
  for (let i = 0; i < cmds.length; i++) {
    const seq = i + 1;
    ts += i % 3 === 0 ? 1 : 0;
    b.command(seq, ts, 'apply', cmds[i]);
    if (seq % 10_000 === 0) b.checkpoint(seq, ts, 'ab12cd34ef56ab12');
    if (b.commands === 4096 || seq === cmds.length) seal(seq);
  }
  return out;
}

type Decoder = (buf: Buffer, frame: BlockFrame) => LogRecord[];
const decoders: [string, Decoder][] = [
  ['avsc', (buf, frame) => decodeBlockAvsc(buf, frame, undefined)],
  ['hand-written', decodeCurrentBlock],
];

function decodeAll(blocks: Block[], d: Decoder): number {
  let n = 0;
  for (const { buf, frame } of blocks) n += d(buf, frame).length;
  return n;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number) => `${ms.toFixed(0).padStart(6)} ms`;

function report(name: string, times: Map<string, number[]>, count: number, unit: string): void {
  const [a, b] = [...times.keys()];
  for (const [k, ts] of times) {
    const med = median(ts);
    process.stdout.write(`  ${name} ${k.padEnd(13)} median ${fmt(med)}  best ${fmt(Math.min(...ts))}  ${(count / med / 1000).toFixed(2)}M ${unit}/s  (${ts.map((t) => t.toFixed(0)).join(', ')})\n`);
  }
  const ma = median(times.get(a) as number[]);
  const mb = median(times.get(b) as number[]);
  process.stdout.write(`  ${name}: ${b} takes ${(mb / ma).toFixed(2)} of the time of ${a} (x${(ma / mb).toFixed(2)})\n`);
}

const t0 = performance.now();
const blocks = dir !== undefined ? fromDir(dir) : inMemory(Number(arg ?? 1_000_000));
const total = blocks.reduce((s, b) => s + b.frame.dataEnd - b.frame.dataStart, 0);
process.stdout.write(`bench:decode: ${blocks.length} blocks, ${(total / 1e6).toFixed(1)} MB of records, ${dir ?? 'built in memory'} (${((performance.now() - t0) / 1000).toFixed(1)} s to load), node ${process.version}\n`);

// the two agree on every block before anything is timed
let records = 0;
for (const { buf, frame } of blocks) {
  const a = decodeBlockAvsc(buf, frame, undefined);
  const b = decodeCurrentBlock(buf, frame);
  if (a.length !== b.length || a.some((r, i) => JSON.stringify(r) !== JSON.stringify(b[i]))) throw new Error(`the decoders disagree on the block at ${frame.offset}`);
  records += a.length;
}

const decodeTimes = new Map<string, number[]>(decoders.map(([k]) => [k, []]));
for (let r = 0; r < rounds; r++) {
  for (const [k, d] of r % 2 === 0 ? decoders : [...decoders].reverse()) {
    const t = performance.now();
    const n = decodeAll(blocks, d);
    (decodeTimes.get(k) as number[]).push(performance.now() - t);
    if (n !== records) throw new Error(`${k}: ${n} records, expected ${records}`);
  }
}
report('decode', decodeTimes, records, 'records');

if (dir !== undefined) {
  const replayTimes = new Map<string, number[]>([['avsc', []], ['hand-written', []]]);
  const replayRounds = Math.max(3, Math.ceil(rounds / 2));
  let seq = -1;
  for (let r = 0; r < replayRounds; r++) {
    for (const k of r % 2 === 0 ? ['avsc', 'hand-written'] : ['hand-written', 'avsc']) {
      blockDecoding.avscOnly = k === 'avsc';
      const t = performance.now();
      const res = replayLog(dir, { snapshots: false });
      (replayTimes.get(k) as number[]).push(performance.now() - t);
      if (seq >= 0 && res.seq !== seq) throw new Error(`replay ends at seq ${res.seq}, before at ${seq}`);
      seq = res.seq;
    }
  }
  blockDecoding.avscOnly = false;
  report('replay', replayTimes, seq, 'commands');
}
