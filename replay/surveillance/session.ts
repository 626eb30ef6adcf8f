// The trading session as wall-clock times in an exchange's time zone (09:30 to
// 16:00 America/New_York by default), turned into epoch µs for a given date.
// Shared by the day generator (arrivals fill the session) and the
// marking-the-close rule (the last minutes before the close).

/** Minutes east of UTC that `timeZone` is at the instant `utcMs`. */
const formats = new Map<string, Intl.DateTimeFormat>();

function zoneOffsetMinutes(utcMs: number, timeZone: string): number {
  let f = formats.get(timeZone);
  if (f === undefined) {
    // building one costs far more than using it
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formats.set(timeZone, f);
  }
  const parts = f.formatToParts(new Date(utcMs));
  const n = (t: string): number => Number(parts.find((p) => p.type === t)?.value);
  const local = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return Math.round((local - Math.floor(utcMs / 1000) * 1000) / 60_000);
}

/** Throws naming the zone when the runtime does not know it. */
export function checkTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new Error(`unknown time zone ${JSON.stringify(timeZone)} (an IANA name such as America/New_York)`);
  }
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Epoch µs of the wall-clock time `hhmm` (HH:MM) on `date` (YYYY-MM-DD) in `timeZone`. */
export function zonedTime(date: string, hhmm: string, timeZone: string): number {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const t = HHMM.exec(hhmm);
  if (d === null) throw new Error(`date ${JSON.stringify(date)} is not YYYY-MM-DD`);
  if (t === null) throw new Error(`time ${JSON.stringify(hhmm)} is not HH:MM`);
  const wall = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]), Number(t[1]), Number(t[2]));
  const back = new Date(wall);
  if (back.getUTCDate() !== Number(d[3]) || back.getUTCMonth() !== Number(d[2]) - 1) throw new Error(`date ${JSON.stringify(date)} does not exist`);
  // the offset at the wall time read as UTC is off by at most the offset
  // itself; a second look settles it (outside the hour of a DST change)
  let utc = wall - zoneOffsetMinutes(wall, timeZone) * 60_000;
  utc = wall - zoneOffsetMinutes(utc, timeZone) * 60_000;
  return utc * 1000;
}

/** The date (YYYY-MM-DD) in `timeZone` at epoch µs `ts`. */
export function zonedDate(ts: number, timeZone: string): string {
  const ms = Math.floor(ts / 1000);
  return new Date(ms + zoneOffsetMinutes(ms, timeZone) * 60_000).toISOString().slice(0, 10);
}

export interface SessionHours {
  /** HH:MM local time. */
  open: string;
  close: string;
  timeZone: string;
}

export const US_EQUITY_SESSION: SessionHours = { open: '09:30', close: '16:00', timeZone: 'America/New_York' };
