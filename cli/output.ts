// Buffered line output that respects backpressure: millions of events per
// second cannot go through one write() each.

import type { Writable } from 'node:stream';

export class OutputBuffer {
  private parts: string[] = [];
  private size = 0;
  private blocked: Promise<void> | null = null;

  constructor(private readonly stream: Writable, private readonly limit = 1 << 16) {}

  line(s: string): void {
    this.parts.push(s, '\n');
    this.size += s.length + 1;
    if (this.size >= this.limit) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    const ok = this.stream.write(this.parts.join(''));
    this.parts = [];
    this.size = 0;
    if (!ok && this.blocked === null) {
      this.blocked = new Promise((resolve) => this.stream.once('drain', () => { this.blocked = null; resolve(); }));
    }
  }

  /** Resolves when the stream can take more. */
  drained(): Promise<void> | void {
    return this.blocked ?? undefined;
  }

  async end(): Promise<void> {
    this.flush();
    if (this.blocked) await this.blocked;
    await new Promise<void>((resolve) => {
      if (this.stream === process.stdout) this.stream.write('', () => resolve());
      else this.stream.end(resolve);
    });
  }
}
