// Progress of a long read on stderr: a bar when stderr is a terminal (an
// analyst watching a day's replay), nothing otherwise (pipes, tests, CI); and
// one throughput line at the end either way, so a log of the run says how fast
// it went.

import cliProgress from 'cli-progress';

export class Progress {
  private bar: cliProgress.SingleBar | null = null;
  private readonly started = performance.now();
  private last = 0;
  private done = 0;

  /** `total` in `unit`s (bytes, commands); `label` starts the bar and the final line. */
  constructor(private readonly label: string, private readonly total: number, unit: string,
    private readonly stream: NodeJS.WriteStream = process.stderr) {
    if (stream.isTTY === true && total > 0) {
      this.bar = new cliProgress.SingleBar({
        stream, format: `${label} [{bar}] {percentage}% | {eta_formatted} left | {value}/{total} ${unit}`, hideCursor: true,
        etaBuffer: 50, fps: 5,
      }, cliProgress.Presets.shades_classic);
      this.bar.start(total, 0);
    }
  }

  /** Sets the amount done; cheap enough to call per block. */
  update(done: number): void {
    this.done = done;
    if (this.bar === null) return;
    const now = performance.now();
    if (now - this.last < 100) return;
    this.last = now;
    this.bar.update(Math.min(done, this.total));
  }

  /** Stops the bar and prints `label: <count> <what> in <s> s (<rate> <what>/s)`. */
  finish(count: number, what: string): void {
    if (this.bar !== null) {
      this.bar.update(this.total);
      this.bar.stop();
    }
    const s = (performance.now() - this.started) / 1000;
    const rate = s > 0 ? Math.round(count / s) : count;
    this.stream.write(`${this.label}: ${count.toLocaleString('en-US')} ${what} in ${s.toFixed(2)} s (${rate.toLocaleString('en-US')} ${what}/s)\n`);
  }

  get value(): number {
    return this.done;
  }
}
