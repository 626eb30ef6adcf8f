// `matchlog surveil DIR`: alerts over a log folder, read-only (it works beside
// a running exchange): the log is replayed through the engine and the events
// fed to replay/surveillance. On a generated day (DIR/planted.json) the
// alerts are scored against what was planted.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { listSegments } from '../log/files.js';
import { checkEnd, checkMoment, checkRange, logBounds, replayLog } from '../replay/history.js';
import { Progress } from '../replay/progress.js';
import { parseMoment, type Moment } from '../replay/time.js';
import { formatAlert } from '../replay/surveillance/alerts.js';
import { DEFAULT_SURVEIL_CONFIG, loadRelated, loadSurveilConfig } from '../replay/surveillance/config.js';
import { formatScore, readPlanted, score } from '../replay/surveillance/planted.js';
import { Surveillance } from '../replay/surveillance/surveillance.js';
import { parseOptions } from './args.js';
import { OutputBuffer } from './output.js';

const USAGE = `usage: matchlog surveil DIR [--from T] [--to T] [--json] [--config FILE] [--related FILE]

Replays the log in DIR (read-only) and prints surveillance alerts: spoofing
and layering, excessive order-to-trade ratio, wash-trade candidates between
related accounts, marking the close. Thresholds: replay/README.md.

  --from T, --to T  only commands from/to T: a seq or an ISO-8601 time (2026-03-02T15:00:00Z)
  --json            one JSON array of alerts on stdout
  --config FILE     JSON thresholds overriding the defaults (unknown keys refused)
  --related FILE    declared related accounts, {"groups": [["A","B"], ...]} (default DIR/related.json if present)

When DIR/planted.json exists (a day from matchlog gen), the planted patterns
found (recall) and the false alarms are counted after the alerts (on stderr
with --json).
`;

function before(m: Moment | null, seq: number, ts: number): boolean {
  return m !== null && ('seq' in m ? seq < m.seq : ts < m.ts);
}

export async function run(argv: string[]): Promise<number> {
  const v = parseOptions('surveil', USAGE, argv, {
    from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean' }, config: { type: 'string' }, related: { type: 'string' },
  }, 1);
  if (typeof v === 'number') return v;
  const dir = v._[0];
  const fail = (msg: string, code = 2): number => {
    process.stderr.write(`matchlog surveil: ${msg}\n${code === 2 ? USAGE : ''}`);
    return code;
  };
  if (dir === undefined) return fail('DIR is required');
  if (!existsSync(dir)) return fail(`${dir}: no such folder`, 1);
  if (listSegments(dir).length === 0) return fail(`${dir}: no log segments (*.avro) in it`, 1);
  let from: Moment | null = null;
  let to: Moment | null = null;
  try {
    if (v.from !== undefined) from = parseMoment(v.from, '--from');
    if (v.to !== undefined) to = parseMoment(v.to, '--to');
  } catch (e) {
    return fail((e as Error).message);
  }
  let config = DEFAULT_SURVEIL_CONFIG;
  let related = new Map<string, number>();
  try {
    if (v.config !== undefined) config = loadSurveilConfig(v.config);
    const relatedFile = v.related ?? (existsSync(join(dir, 'related.json')) ? join(dir, 'related.json') : undefined);
    if (relatedFile !== undefined) related = loadRelated(relatedFile);
  } catch (e) {
    return fail((e as Error).message, 1);
  }
  const plantedFile = join(dir, 'planted.json');
  const planted = existsSync(plantedFile) ? readPlanted(plantedFile) : null;

  const surveil = new Surveillance(config, related);
  const b = logBounds(dir);
  try {
    // alerts over a history that ends early would miss what happened after the cut, and say nothing of it
    const cut = checkEnd(b, to, `--to ${b.lastSeq} (or an earlier moment) surveils the history up to there`);
    if (cut !== null) process.stderr.write(`matchlog surveil: note: ${cut}\n`);
    if (from !== null) checkMoment(b, from, '--from');
    if (to !== null) checkMoment(b, to, '--to');
    checkRange(b, from, to);
  } catch (e) {
    return fail((e as Error).message, 1);
  }
  const progress = new Progress('surveil', to !== null && 'seq' in to ? to.seq : b.lastSeq, 'commands');
  // from the first record: what happened before --from (orders resting, trades) is the context of what follows
  const r = replayLog(dir, { ...(to === null ? {} : 'seq' in to ? { toSeq: to.seq } : { toTs: to.ts }), snapshots: false, progress },
    (rec, events, engine) => { surveil.onCommand(rec, events, engine, before(from, rec.seq, rec.ts)); }, b);
  progress.finish(r.applied, 'commands');

  const alerts = surveil.alerts();
  const out = new OutputBuffer(process.stdout);
  if (v.json === true) out.line(JSON.stringify(alerts));
  else {
    for (const a of alerts) out.line(`${formatAlert(a)}\n`);
    out.line(`${alerts.length} alert${alerts.length === 1 ? '' : 's'} over ${surveil.commands.toLocaleString('en-US')} commands`);
  }
  if (planted !== null) {
    const s = formatScore(score(alerts, planted));
    if (v.json === true) process.stderr.write(`${s}\n`);
    else out.line(s);
  }
  out.flush();
  return 0;
}
