// Moments in the log as people write them: a seq (digits) or an ISO-8601 time.
// The log's timestamps are epoch microseconds, so times are parsed and printed
// to the microsecond, exactly (Date keeps only milliseconds).

/** A point in the log: after command `seq`, or at time `ts` (epoch µs). */
export type Moment = { seq: number } | { ts: number };

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Epoch µs of an ISO-8601 time (date alone = midnight; no zone = UTC), or null when it is not one. */
export function parseTime(s: string): number | null {
  const m = ISO.exec(s.trim());
  if (m === null) return null;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', zone = 'Z'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec));
  const back = new Date(ms);
  // Date.UTC rolls 2026-02-30 over to March: refuse instead
  if (Number.isNaN(ms) || back.getUTCDate() !== Number(d) || back.getUTCMonth() !== Number(mo) - 1 || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return null;
  let offsetMin = 0;
  if (zone !== 'Z') {
    const z = zone.replace(':', '');
    offsetMin = (z[0] === '-' ? -1 : 1) * (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5)));
  }
  const micros = Number((frac + '000000').slice(0, 6));
  return (ms - offsetMin * 60_000) * 1000 + micros;
}

/** `--at`/`--from`/`--to` values: digits are a seq, anything else must be an ISO time. */
export function parseMoment(s: string, option: string): Moment {
  if (/^\d+$/.test(s.trim())) return { seq: Number(s.trim()) };
  const ts = parseTime(s);
  if (ts === null) throw new Error(`${option} ${JSON.stringify(s)} is neither a seq nor an ISO-8601 time (e.g. 2026-11-20T14:30:00.123456Z)`);
  return { ts };
}

/** Epoch µs as ISO-8601 UTC with six fractional digits: 2026-11-20T14:30:00.123456Z. */
export function formatTime(ts: number): string {
  const ms = Math.floor(ts / 1000);
  const iso = new Date(ms).toISOString(); // ...:SS.mmmZ
  const micros = ts - ms * 1000;
  return `${iso.slice(0, 19)}.${String((ms % 1000 + 1000) % 1000 * 1000 + micros).padStart(6, '0')}Z`;
}
