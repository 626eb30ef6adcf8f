// ISO-8601 times for millions of events: formatTime (replay/time.ts) builds a
// Date and its ISO string each call, ~1 µs; an export's events come in time
// order, many to a second, so the "YYYY-MM-DDTHH:MM:SS" part is reused while
// the second stays the same. Same output as formatTime, which the tests check.

import { formatTime } from '../time.js';

export class TimeText {
  private second = NaN;
  private prefix = '';

  format(ts: number): string {
    const second = Math.floor(ts / 1_000_000);
    if (second !== this.second) {
      this.second = second;
      this.prefix = formatTime(second * 1_000_000).slice(0, 20); // through the '.'
    }
    const micros = ts - second * 1_000_000;
    return `${this.prefix}${micros < 100_000 ? String(micros + 1_000_000).slice(1) : micros}Z`;
  }
}
