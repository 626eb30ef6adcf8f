// `matchlog verify DIR`: checks a log folder read-only (also beside a running
// exchange) and exits 1 at the first problem with one line naming the file,
// the byte offset and the seq; 0 with a summary when the history holds.

import { statSync } from 'node:fs';
import { Progress } from '../replay/progress.js';
import { formatTime } from '../replay/time.js';
import { tornTailNote, verifyLog, VerifyProblem, type VerifySummary } from '../replay/verify.js';
import { parseOptions } from './args.js';

const USAGE = `usage: matchlog verify DIR [--json]

Checks every block's sync marker and CRC, one gap-free command seq range from
seq 1 across the segments, the log id of every segment, epochs in increasing
order, every checkpoint hash (every command is replayed from seq 1), and every
snapshot in DIR against the replayed state. Writes nothing and takes no lock:
it runs on the folder of a running exchange, where the block being written is
skipped and mentioned. Sparse-index entries that are off are warnings only.

  --json   print the summary (or the problem) as one JSON object on stdout

exit status: 0 the log verifies, 1 a problem (one line: file, offset, seq), 2 usage
`;

export async function run(argv: string[]): Promise<number> {
  const opts = parseOptions('verify', USAGE, argv, { json: { type: 'boolean' } }, 1);
  if (typeof opts === 'number') return opts;
  const dir = opts._[0];
  if (dir === undefined) {
    process.stderr.write(`matchlog verify: DIR is required\n${USAGE}`);
    return 2;
  }
  if (!isDirectory(dir)) {
    process.stderr.write(`matchlog verify: ${dir} is not a directory\n`);
    return 2;
  }
  // made at the first block, when the total is known
  const bar: { progress: Progress | null } = { progress: null };
  let summary: VerifySummary;
  try {
    summary = verifyLog(dir, {
      progress: (done, total) => {
        bar.progress ??= new Progress('matchlog verify', total, 'bytes');
        bar.progress.update(done);
      },
    });
  } catch (e) {
    if (!(e instanceof VerifyProblem)) throw e;
    // how far it got, then the problem as the last line
    bar.progress?.finish(e.seq ?? 0, 'commands');
    process.stderr.write(`matchlog verify: ${e.message}\n`);
    if (opts.json === true) {
      process.stdout.write(`${JSON.stringify({ ok: false, problem: { file: e.file, offset: e.offset, seq: e.seq, reason: e.reason } })}\n`);
    }
    return 1;
  }
  for (const w of summary.warnings) process.stderr.write(`matchlog verify: warning: ${w}\n`);
  process.stdout.write(opts.json === true ? `${JSON.stringify({ ok: true, ...summary })}\n` : describe(summary));
  (bar.progress ?? new Progress('matchlog verify', 0, 'bytes')).finish(summary.lastSeq, 'commands');
  return 0;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

const n = (x: number): string => x.toLocaleString('en-US');

function describe(s: VerifySummary): string {
  const segs = s.segments;
  const epochs = s.epochs.length === 0 ? 'none recorded' : `${s.epochs.length} in order (${s.epochs[0].epoch}..${s.epochs[s.epochs.length - 1].epoch})`;
  const lines = [
    `matchlog verify: ${s.dir}: OK`,
    `  log id       ${s.logId ?? '(none: written before log ids)'}`,
    `  segments     ${segs.length}${segs.length > 1 ? ` (${segs[0].name} .. ${segs[segs.length - 1].name})` : segs.length === 1 ? ` (${segs[0].name})` : ''}, ${n(s.bytes)} bytes`,
    `  seqs         ${s.lastSeq > 0 ? `1..${s.lastSeq}` : 'none'} (${n(s.lastSeq)} commands), ${n(s.blocks)} blocks, ${n(s.records)} records`,
    `  checkpoints  ${n(s.checkpoints)} verified`,
    `  epochs       ${epochs}`,
    `  snapshots    ${s.snapshots.length} checked${s.snapshots.length > 0 ? ` (seq ${s.snapshots.map((x) => x.seq).join(', ')})` : ''}`,
    `  time         ${s.firstTs !== null && s.lastTs !== null ? `${formatTime(s.firstTs)} .. ${formatTime(s.lastTs)}` : 'no records'}`,
    `  state hash   0x${s.stateHash} after seq ${s.lastSeq}`,
  ];
  if (s.tornTail !== null) lines.push(`  note: ${tornTailNote(s.tornTail)}`);
  return `${lines.join('\n')}\n`;
}
