// "Visualizing the neurons": the hidden state of every unit after each of the 28 time steps, beside the image the
// RNN read. Column t of the heat map is the state after reading row t, so animating the columns in order while
// highlighting row t shows the network unrolled through time.
//
// The same map shows the other direction ("draw a digit for me", mode 'write'): the vector-to-sequence model's state
// while it draws row t, and the image growing by one row a step (rows not drawn yet stay black).
import { SIZE } from './draw.js';

const STEP_MS = 45;

/** Diverging colours for tanh outputs: -1 blue, 0 near white, +1 red (ColorBrewer RdBu). */
const STOPS: Array<[number, [number, number, number]]> = [
  [-1, [33, 102, 172]], [-0.5, [103, 169, 207]], [0, [247, 247, 247]], [0.5, [239, 138, 98]], [1, [178, 24, 43]],
];

export function stateColour(v: number): [number, number, number] {
  const x = Math.max(-1, Math.min(1, Number.isFinite(v) ? v : 0));
  for (let i = 1; i < STOPS.length; i++) {
    const [b, cb] = STOPS[i]!;
    if (x <= b) {
      const [a, ca] = STOPS[i - 1]!;
      const f = (x - a) / (b - a);
      return [0, 1, 2].map((k) => Math.round(ca[k]! + f * (cb[k]! - ca[k]!))) as [number, number, number];
    }
  }
  return STOPS[STOPS.length - 1]![1];
}

/** The CSS gradient matching stateColour, for a legend. */
export const LEGEND_GRADIENT = `linear-gradient(to right, ${STOPS.map(([v, c]) => `rgb(${c.join(',')}) ${((v + 1) / 2) * 100}%`).join(', ')})`;

export class HeatMap {
  private image: Uint8Array | Float32Array | null = null;
  private states: Float32Array | null = null;
  private units = 0;
  private shown = SIZE; // columns shown so far
  private frame = 0;
  private playing = false;
  private readonly inputCtx: CanvasRenderingContext2D;
  private readonly mapCtx: CanvasRenderingContext2D;
  private readonly pixels: HTMLCanvasElement;

  /**
   * `input`: the image, drawn scaled; `map`: the heat map, one canvas pixel per (step, unit), scaled by CSS. `mode`:
   * 'read' (the RNN reads row t; rows ahead are dimmed) or 'write' (the RNN draws row t; rows ahead are not there yet).
   * `onStep(t)` is called once for every step of a replay, in order, none skipped; then with null.
   */
  constructor(private readonly input: HTMLCanvasElement, private readonly map: HTMLCanvasElement, private readonly onStep?: (t: number | null) => void,
    private readonly mode: 'read' | 'write' = 'read') {
    this.inputCtx = input.getContext('2d')!;
    this.mapCtx = map.getContext('2d')!;
    this.pixels = document.createElement('canvas');
    this.pixels.width = SIZE;
    this.pixels.height = SIZE;
    this.clear();
  }

  /** Shows an image (784 values: bytes, or floats in 0..1) and its states [28, units]; `animate` replays the steps. */
  show(image: Uint8Array | Float32Array, states: Float32Array, units: number, animate: boolean): void {
    this.image = image;
    this.states = states;
    this.units = units;
    // A quiet refresh (the same picture, a model that has trained further) lets a replay in progress go on.
    if (!animate && this.playing) return;
    cancelAnimationFrame(this.frame);
    if (animate) this.play();
    else {
      this.shown = SIZE;
      this.render(null);
    }
  }

  /** Replays the current image step by step. */
  play(): void {
    if (!this.states) return;
    cancelAnimationFrame(this.frame);
    const start = performance.now();
    this.playing = true;
    let t = -1;
    const tick = () => {
      // One step a frame at most, so that a slow frame never skips a step.
      const next = Math.min(SIZE - 1, t + 1, Math.max(0, Math.floor((performance.now() - start) / STEP_MS)));
      if (next === t) {
        this.frame = requestAnimationFrame(tick);
        return;
      }
      t = next;
      this.shown = t + 1;
      this.render(t);
      if (t < SIZE - 1) this.frame = requestAnimationFrame(tick);
      else {
        this.frame = requestAnimationFrame(() => {
          this.playing = false;
          this.render(null);
        });
      }
    };
    tick();
  }

  clear(): void {
    this.stop();
    this.image = null;
    this.states = null;
    this.inputCtx.fillStyle = '#000';
    this.inputCtx.fillRect(0, 0, this.input.width, this.input.height);
    this.mapCtx.fillStyle = '#eee';
    this.mapCtx.fillRect(0, 0, this.map.width, this.map.height);
    this.onStep?.(null);
  }

  stop(): void {
    cancelAnimationFrame(this.frame);
    this.playing = false;
  }

  private render(step: number | null): void {
    const { image, states, units } = this;
    if (!image || !states) return;
    const bytes = image instanceof Uint8Array;

    // The input, with the rows not yet read dimmed (not yet drawn: black) and the current row outlined.
    const rgba = new ImageData(SIZE, SIZE);
    const ahead = this.mode === 'write' ? 0 : 0.25;
    for (let i = 0; i < SIZE * SIZE; i++) {
      const v = bytes ? image[i]! : Math.round(255 * Math.min(1, Math.max(0, image[i]!)));
      const unread = step !== null && Math.floor(i / SIZE) > step;
      const g = unread ? Math.round(v * ahead) : v;
      rgba.data.set([g, g, g, 255], i * 4);
    }
    this.pixels.getContext('2d')!.putImageData(rgba, 0, 0);
    const ctx = this.inputCtx;
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.pixels, 0, 0, this.input.width, this.input.height);
    if (step !== null) {
      const h = this.input.height / SIZE;
      ctx.strokeStyle = '#ffb000';
      ctx.lineWidth = 2;
      ctx.strokeRect(1, step * h, this.input.width - 2, h);
    }

    // Columns = time steps, rows = units.
    if (this.map.width !== SIZE || this.map.height !== units) {
      this.map.width = SIZE;
      this.map.height = units;
    }
    const cells = new ImageData(SIZE, units);
    for (let t = 0; t < SIZE; t++) {
      for (let u = 0; u < units; u++) {
        const at = (u * SIZE + t) * 4;
        if (t < this.shown) cells.data.set([...stateColour(states[t * units + u]!), 255], at);
        else cells.data.set([238, 238, 238, 255], at);
      }
    }
    this.mapCtx.putImageData(cells, 0, 0);
    this.onStep?.(step);
  }
}
