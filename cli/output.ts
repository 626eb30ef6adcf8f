// Buffered line output that respects backpressure: millions of events per
// second cannot go through one write() each. A reader that goes away (`| head`)
// closes the run quietly: `closed` turns true and the caller stops.

import type { Writable } from 'node:stream';

export class OutputBuffer {
  private parts: string[] = [];
  private size = 0;
  private blocked: Promise<void> | null = null;
  private unblock: (() => void) | null = null;
  /** The reader closed the stream (EPIPE): nothing more can be written, the caller should stop. */
  closed = false;

  constructor(private readonly stream: Writable, private readonly limit = 1 << 16) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
      this.closed = true;
      this.parts = [];
      this.unblock?.();
    });
  }

  line(s: string): void {
    if (this.closed) return;
    this.parts.push(s, '\n');
    this.size += s.length + 1;
    if (this.size >= this.limit) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0 || this.closed) return;
    const ok = this.stream.write(this.parts.join(''));
    this.parts = [];
    this.size = 0;
    if (!ok && this.blocked === null) {
      this.blocked = new Promise((resolve) => {
        this.unblock = () => { this.blocked = null; this.unblock = null; resolve(); };
        this.stream.once('drain', this.unblock);
      });
    }
  }

  /** Resolves when the stream can take more (or is closed). */
  drained(): Promise<void> | void {
    return this.blocked ?? undefined;
  }

  async end(): Promise<void> {
    this.flush();
    if (this.blocked) await this.blocked;
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      if (this.stream === process.stdout) this.stream.write('', () => resolve());
      else this.stream.end(resolve);
    });
  }
}
