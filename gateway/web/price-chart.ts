// The session's trades of one symbol as a line, on a canvas. Plotting needs
// coordinates, so tick counts become pixels here; the axis labels are the
// exact decimal prices (fromUnits of the ticks), never a float printed.

export class PriceChart {
  private readonly points: number[] = [];

  constructor(private readonly canvas: HTMLCanvasElement, private readonly keep = 600) {}

  /** A trade's price in ticks of the instrument. */
  add(ticks: number): void {
    this.points.push(ticks);
    if (this.points.length > this.keep * 2) this.points.splice(0, this.points.length - this.keep);
  }

  clear(): void {
    this.points.length = 0;
  }

  draw(label: (ticks: number) => string): void {
    const c = this.canvas;
    const ratio = globalThis.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(c.clientWidth * ratio));
    const h = Math.max(1, Math.round(c.clientHeight * ratio));
    if (c.width !== w || c.height !== h) {
      c.width = w;
      c.height = h;
    }
    const g = c.getContext('2d');
    if (g === null) return;
    g.clearRect(0, 0, w, h);
    const pts = this.points.length > this.keep ? this.points.slice(-this.keep) : this.points;
    g.font = `${11 * ratio}px system-ui, sans-serif`;
    g.fillStyle = '#8899aa';
    if (pts.length === 0) {
      g.fillText('no trades yet this session', 8 * ratio, h / 2);
      return;
    }
    let lo = pts[0];
    let hi = pts[0];
    for (const p of pts) {
      if (p < lo) lo = p;
      if (p > hi) hi = p;
    }
    const pad = 14 * ratio;
    const span = Math.max(1, hi - lo);
    const x = (i: number): number => (pts.length === 1 ? w / 2 : (i / (pts.length - 1)) * (w - 2 * pad) + pad);
    const y = (p: number): number => h - pad - ((p - lo) / span) * (h - 2 * pad);
    g.strokeStyle = '#4c9aff';
    g.lineWidth = 1.5 * ratio;
    g.beginPath();
    for (let i = 0; i < pts.length; i++) {
      if (i === 0) g.moveTo(x(i), y(pts[i]));
      else g.lineTo(x(i), y(pts[i]));
    }
    g.stroke();
    g.fillText(label(hi), 4 * ratio, pad - 3 * ratio);
    g.fillText(label(lo), 4 * ratio, h - 3 * ratio);
  }
}
