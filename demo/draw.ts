// The drawing pad, and turning any picture of a digit into what the model was trained on.
//
// MNIST digits were size-normalised to fit a 20x20 box (keeping the aspect ratio, anti-aliased) and then placed in
// a 28x28 image so that their centre of mass sits at the centre. A drawing prepared the same way is classified far
// better than one merely scaled down, because the model never saw a digit off-centre or filling the whole frame.

export const SIZE = 28;
const BOX = 20;

/**
 * Ink per pixel in [0, 1] from RGBA pixels. With any transparency the alpha channel is the ink; an opaque picture
 * is dark-on-light or light-on-dark, decided by its border (the background).
 */
export function inkFromRgba(rgba: ArrayLike<number>, width: number, height: number): Float32Array {
  const n = width * height;
  const ink = new Float32Array(n);
  let transparent = false;
  for (let i = 0; i < n; i++) if (rgba[i * 4 + 3]! < 250) { transparent = true; break; }
  if (transparent) {
    for (let i = 0; i < n; i++) ink[i] = rgba[i * 4 + 3]! / 255;
    return ink;
  }
  const luminance = (i: number) => (0.299 * rgba[i * 4]! + 0.587 * rgba[i * 4 + 1]! + 0.114 * rgba[i * 4 + 2]!) / 255;
  let border = 0, count = 0;
  for (let x = 0; x < width; x++) { border += luminance(x) + luminance((height - 1) * width + x); count += 2; }
  for (let y = 0; y < height; y++) { border += luminance(y * width) + luminance(y * width + width - 1); count += 2; }
  const lightBackground = border / count > 0.5;
  for (let i = 0; i < n; i++) ink[i] = lightBackground ? 1 - luminance(i) : luminance(i);
  return ink;
}

/**
 * A 28x28 MNIST-style image (784 bytes, 0 = background) from ink in [0, 1]: the inked bounding box scaled to fit
 * 20x20 by area averaging, brightest pixel at 255, centre of mass moved to the centre. All zeros if nothing is inked.
 */
export function toMnist(ink: Float32Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(SIZE * SIZE);
  let max = 0;
  for (let i = 0; i < ink.length; i++) max = Math.max(max, ink[i]!);
  if (max <= 0) return out;
  // Faint anti-aliasing fringes should not widen the box.
  const threshold = 0.05 * max;
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x]! > threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  const scale = BOX / Math.max(bw, bh);
  const tw = Math.max(1, Math.round(bw * scale)), th = Math.max(1, Math.round(bh * scale));

  // Separable area averaging: rows first, then columns.
  const rows = new Float32Array(bh * tw);
  const line = new Float32Array(Math.max(bw, bh));
  const resampled = new Float32Array(Math.max(tw, th));
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) line[x] = ink[(y0 + y) * width + x0 + x]!;
    resample(line, bw, resampled, tw);
    rows.set(resampled.subarray(0, tw), y * tw);
  }
  const small = new Float32Array(th * tw);
  for (let x = 0; x < tw; x++) {
    for (let y = 0; y < bh; y++) line[y] = rows[y * tw + x]!;
    resample(line, bh, resampled, th);
    for (let y = 0; y < th; y++) small[y * tw + x] = resampled[y]!;
  }

  let peak = 0, mass = 0, mx = 0, my = 0;
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const v = small[y * tw + x]!;
      peak = Math.max(peak, v);
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  if (peak <= 0) return out;
  const clamp = (v: number, hi: number) => Math.max(0, Math.min(hi, v));
  const ox = clamp(Math.round(SIZE / 2 - mx / mass), SIZE - tw);
  const oy = clamp(Math.round(SIZE / 2 - my / mass), SIZE - th);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) out[(oy + y) * SIZE + ox + x] = Math.round((255 * small[y * tw + x]!) / peak);
  }
  return out;
}

/** dst[0..m) = averages of src[0..n) over m equal spans (fractional overlaps weighted), for shrinking or growing. */
function resample(src: Float32Array, n: number, dst: Float32Array, m: number): void {
  const span = n / m;
  for (let i = 0; i < m; i++) {
    const a = i * span, b = a + span;
    let sum = 0;
    for (let j = Math.floor(a); j < Math.min(n, Math.ceil(b)); j++) sum += src[j]! * (Math.min(b, j + 1) - Math.max(a, j));
    dst[i] = sum / span;
  }
}

/**
 * What the model reads from a host's picture: ImageData of any size is prepared the MNIST way; a Uint8Array
 * (0..255) or Float32Array (0..1) of 784 values is taken as an already prepared 28x28 image.
 */
export function toModelInput(picture: ImageData | Uint8Array | Float32Array): Uint8Array | Float32Array {
  if (picture instanceof Uint8Array || picture instanceof Float32Array) {
    if (picture.length !== SIZE * SIZE) throw new Error(`predict: expected ${SIZE * SIZE} values (a 28x28 image), got ${picture.length}`);
    return picture;
  }
  if (typeof ImageData !== 'undefined' && picture instanceof ImageData) {
    return toMnist(inkFromRgba(picture.data, picture.width, picture.height), picture.width, picture.height);
  }
  throw new Error('predict: expected ImageData, or a Uint8Array / Float32Array of 784 values');
}

/** A canvas to draw on with mouse, pen or finger: white ink on black, like MNIST. */
export class DrawPad {
  private drawing = false;
  private inked = false;
  private last: { x: number; y: number } | null = null;
  private readonly ctx: CanvasRenderingContext2D;

  /** `changed(final)`: the drawing changed; final once a stroke ends. */
  constructor(readonly canvas: HTMLCanvasElement, private readonly changed: (final: boolean) => void) {
    this.ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    // About the stroke width of MNIST digits relative to their height, for a digit drawn most of the pad's height.
    this.ctx.lineWidth = canvas.width / 13;
    this.ctx.lineCap = 'round';
    this.ctx.lineJoin = 'round';
    this.ctx.strokeStyle = '#fff';
    this.ctx.fillStyle = '#fff';
    this.clear();
    canvas.addEventListener('pointerdown', this.down);
    canvas.addEventListener('pointermove', this.move);
    canvas.addEventListener('pointerup', this.up);
    canvas.addEventListener('pointercancel', this.up);
  }

  get empty(): boolean {
    return !this.inked;
  }

  clear(): void {
    this.ctx.save();
    this.ctx.fillStyle = '#000';
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.ctx.restore();
    this.inked = false;
  }

  /** The drawing as the model's 784 bytes. */
  image(): Uint8Array {
    const { width, height } = this.canvas;
    return toMnist(inkFromRgba(this.ctx.getImageData(0, 0, width, height).data, width, height), width, height);
  }

  private point(event: PointerEvent): { x: number; y: number } {
    // The canvas may be shown at another size than its pixels.
    const rect = this.canvas.getBoundingClientRect();
    return { x: ((event.clientX - rect.left) * this.canvas.width) / rect.width, y: ((event.clientY - rect.top) * this.canvas.height) / rect.height };
  }

  private readonly down = (event: PointerEvent) => {
    if (event.button !== 0) return;
    event.preventDefault();
    this.canvas.setPointerCapture(event.pointerId);
    this.drawing = true;
    this.last = this.point(event);
    // A dot, so that a click alone leaves a mark.
    this.ctx.beginPath();
    this.ctx.arc(this.last.x, this.last.y, this.ctx.lineWidth / 2, 0, 2 * Math.PI);
    this.ctx.fill();
    this.inked = true;
    this.changed(false);
  };

  private readonly move = (event: PointerEvent) => {
    if (!this.drawing || !this.last) return;
    // Coalesced events keep fast strokes smooth where the browser batches pointer moves per frame.
    const events = typeof event.getCoalescedEvents === 'function' ? event.getCoalescedEvents() : [];
    this.ctx.beginPath();
    this.ctx.moveTo(this.last.x, this.last.y);
    for (const e of events.length ? events : [event]) {
      this.last = this.point(e);
      this.ctx.lineTo(this.last.x, this.last.y);
    }
    this.ctx.stroke();
    this.changed(false);
  };

  private readonly up = (event: PointerEvent) => {
    if (!this.drawing) return;
    this.drawing = false;
    this.last = null;
    if (this.canvas.hasPointerCapture(event.pointerId)) this.canvas.releasePointerCapture(event.pointerId);
    this.changed(true);
  };
}
