// The live training chart: training loss (each progress report) and test accuracy (each evaluation) against the
// training step, on uPlot. Both series share one x array, so each row fills one of them and leaves the other null.
// The text demo has no accuracy: { accuracy: false } draws the loss alone.
import uPlot from 'uplot';

/** Beyond this many rows, every other loss-only row of the older half is dropped, so long runs stay cheap to draw. */
const MAX_ROWS = 4000;

export class TrainingChart {
  private readonly steps: number[] = [];
  private readonly loss: Array<number | null> = [];
  private readonly accuracy: Array<number | null> = [];
  private readonly plot: uPlot;
  private frame = 0;
  private readonly resize: ResizeObserver;

  constructor(private readonly host: HTMLElement, options: { accuracy?: boolean; lossLabel?: string } = {}) {
    const withAccuracy = options.accuracy ?? true;
    const lossLabel = options.lossLabel ?? 'training loss';
    const opts: uPlot.Options = {
      width: Math.max(200, host.clientWidth),
      height: 220,
      cursor: { drag: { x: false, y: false } },
      legend: { live: false, show: withAccuracy },
      scales: { x: { time: false }, loss: { range: (_u, min, max) => [0, Math.max(0.5, max ?? 1, min ?? 0)] }, acc: { range: [0, 1] } },
      axes: [
        { label: 'training step', size: 36, labelSize: 16 },
        { scale: 'loss', label: lossLabel, size: 44, labelSize: 16, stroke: '#1f5fa8' },
        { scale: 'acc', label: 'test accuracy', side: 1, size: 44, labelSize: 16, stroke: '#c0502b', grid: { show: false }, show: withAccuracy },
      ],
      series: [
        { label: 'step' },
        { label: lossLabel, scale: 'loss', stroke: '#1f5fa8', width: 1.5, spanGaps: true, points: { show: false } },
        { label: 'test accuracy', scale: 'acc', stroke: '#c0502b', width: 2, spanGaps: true, points: { show: true, size: 5 }, show: withAccuracy },
      ],
    };
    this.plot = new uPlot(opts, [[], [], []], host);
    this.resize = new ResizeObserver(() => {
      const width = Math.max(200, this.host.clientWidth);
      if (width !== this.plot.width) this.plot.setSize({ width, height: 220 });
    });
    this.resize.observe(host);
  }

  addLoss(step: number, loss: number): void {
    this.add(step, loss, null);
  }

  addAccuracy(step: number, accuracy: number): void {
    this.add(step, null, accuracy);
  }

  clear(): void {
    this.steps.length = this.loss.length = this.accuracy.length = 0;
    this.redraw();
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
    this.resize.disconnect();
    this.plot.destroy();
  }

  private add(step: number, loss: number | null, accuracy: number | null): void {
    // Keep x sorted: a row for the same step merges.
    const last = this.steps.length - 1;
    if (last >= 0 && this.steps[last] === step) {
      if (loss !== null) this.loss[last] = loss;
      if (accuracy !== null) this.accuracy[last] = accuracy;
    } else {
      this.steps.push(step);
      this.loss.push(loss);
      this.accuracy.push(accuracy);
    }
    if (this.steps.length > MAX_ROWS) this.thin();
    this.redraw();
  }

  private thin(): void {
    const half = this.steps.length >> 1;
    const keep = (i: number) => i >= half || i % 2 === 0 || this.accuracy[i] !== null;
    for (const column of [this.steps, this.loss, this.accuracy] as Array<Array<number | null>>) {
      const kept = column.filter((_, i) => keep(i));
      column.length = 0;
      column.push(...kept);
    }
  }

  /** At most one redraw per frame, however fast progress arrives. */
  private redraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.plot.setData([this.steps, this.loss, this.accuracy] as uPlot.AlignedData);
    });
  }
}
