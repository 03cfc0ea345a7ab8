// The measurements of `npm run bench` that do not depend on where they run: shared by the benchmark page
// (demo/bench.ts, in Chromium) and the bench command (src/node/bench.ts, in Node through Dawn). Nothing here imports a
// Node module, so the page can bundle it.
//
// What is timed, for every system and model (BENCH_MODELS) alike (timeSteps):
//   training   `warmup` steps (pipelines compiled, buffers made), then `timed` steps, each one awaited until the GPU
//              (or the CPU, for TF.js on wasm) has finished it: p50 / p95 of the single steps, and throughput over
//              the whole timed run (batch * timed / wall time of the loop).
//   inference  (the classifier only) class probabilities for `infer_images` test images in batches of `infer_batch`,
//              read back to the host, after one warm-up batch: images per second over the whole run.
//   matmul     a 1024 x 1024 x 1024 product through the runtime's own matmul kernel (kernels/matmul.ts), median of a
//              few runs after a warm-up, each awaited (a run repeats the product until it lasts about 20 ms, for
//              GPUs that finish one in less than a submission's round trip): the adapter's practical ceiling in GFLOP/s.
import { Random } from '../random.js';
import { adapterName } from '../gpu/device.js';
import { ImageDataset } from '../data/dataset.js';
import { parseIdxImages, parseIdxLabels } from '../data/idx.js';
import { BufferSet } from '../gpu/buffers.js';
import { matmul } from '../kernels/matmul.js';
import { SequenceClassifier } from '../model/classifier.js';

/** One measured point: a system on one runtime, backend and model size. Written as one JSON line. */
export interface BenchRecord {
  system: 'webgpu-rnn' | 'tfjs';
  mode: 'model' | 'matmul' | 'sweep';
  /** modes 'model' and 'sweep': which model was trained (see BENCH_MODELS); records without it are 'classifier'. */
  model?: BenchModel;
  runtime: 'chromium' | 'node';
  backend: 'webgpu' | 'wasm';
  /** vendor/architecture, as the adapter reports it ('cpu/wasm' for TF.js on wasm). */
  adapter: string;
  /** The adapter's description, or for wasm the variant and thread count. */
  adapter_description: string;
  batch?: number;
  steps?: number;
  units?: number;
  /** The cell, when not tanh. */
  cell?: BenchCell;
  inputs?: number;
  classes?: number;
  train_seq_per_s?: number;
  infer_seq_per_s?: number;
  step_ms_p50?: number;
  step_ms_p95?: number;
  step_ms_mean?: number;
  warmup?: number;
  timed?: number;
  infer_images?: number;
  infer_batch?: number;
  /** Training FLOP/s (see trainingFlopsPerSequence) in GFLOP/s. */
  train_gflops?: number;
  /** The 1024^3 matmul's GFLOP/s on the same runtime and adapter (null for wasm: no GPU kernel to compare with). */
  matmul_gflops?: number | null;
  /** train_gflops / matmul_gflops: how much of the adapter's practical ceiling training reaches. */
  train_of_matmul?: number | null;
  /** mode 'sweep': which sizes this point varies (the base size is in every panel: 'batch,steps,units'). */
  vary?: string;
  /** mode 'matmul': M = N = K, GFLOP/s (median), and each run's milliseconds. */
  size?: number;
  gflops?: number;
  run_ms?: number[];
  /** Browser (browser.version()) or Node and Dawn versions. */
  version?: string;
  date?: string;
  machine?: string;
  /** The machine's 1-minute load average when the run started (software adapters share the CPU with everything). */
  load_avg?: number;
}

/** What the benchmark page (demo/bench.ts) leaves in window.benchResult when it is done. */
export interface BenchPageResult {
  records: BenchRecord[];
  /** Failures of single systems or sizes (the others still ran). */
  errors: string[];
  userAgent: string;
  /** Whether the page could use SharedArrayBuffer (TF.js wasm threads). */
  crossOriginIsolated: boolean;
}

export interface ModelSize {
  batch: number;
  steps: number;
  units: number;
  /** The recurrent cell of every rnn layer: tanh (the default) or lstm / gru (TF.js: tf.layers.lstm / gru). */
  cell?: BenchCell;
}

export const BENCH_CELLS = ['tanh', 'lstm', 'gru'] as const;
export type BenchCell = (typeof BENCH_CELLS)[number];
/** Gate blocks of a cell's products (tanh 1, GRU 3, LSTM 4). */
export const GATES: Record<BenchCell, number> = { tanh: 1, gru: 3, lstm: 4 };

export const INPUTS = 28;
export const CLASSES = 10;

/**
 * The models the benchmark trains, each with this runtime and with TF.js (tanh units H, softmax cross-entropy, Adam):
 *   classifier  rnn(H) -> dense(10) on the last state: the lecture's model (SequenceClassifier; TF.js simpleRNN + dense)
 *   stacked     rnn(H, returnSequences) -> rnn(H) -> dense(10) (Sequential; TF.js the same layers)
 *   per-step    rnn(H, returnSequences) -> dense(10) at every step, the image's label the target at every step, the loss
 *               the mean over batch and steps (Sequential; TF.js timeDistributed(dense))
 */
export const BENCH_MODELS = ['classifier', 'stacked', 'per-step'] as const;
export type BenchModel = (typeof BENCH_MODELS)[number];

/**
 * Training FLOPs per sequence of the model (steps T, inputs I, units H, classes C).
 * Forward multiply-adds: T·(I·H + H·H) for the RNN (x_t·Wx and h_{t-1}·Wh at every step) + H·C for the dense layer.
 * Training is about 3 forwards (the forward, and a backward that costs two: gradients with respect to the inputs and
 * to the weights). A multiply-add is 2 FLOPs. So FLOPs = 2 · 3 · (T·(I·H + H·H) + H·C). Elementwise work (tanh,
 * biases, softmax, Adam) is left out: it is O(T·H) per sequence, small beside the products.
 * The lecture's model (T = I = 28, H = 150, C = 10): 6 · (28 · (4200 + 22500) + 1500) = 4.49 MFLOP per sequence.
 */
export function trainingFlopsPerSequence(s: { steps: number; units: number; inputs?: number; classes?: number; model?: BenchModel; cell?: BenchCell }): number {
  const T = s.steps, I = s.inputs ?? INPUTS, H = s.units, C = s.classes ?? CLASSES, G = GATES[s.cell ?? 'tanh'];
  // A cell of G gate blocks has products G times as wide (LSTM 4, GRU 3); the gates' elementwise work is left out.
  const first = G * T * (I * H + H * H);
  // stacked: a second layer of G·T·(H·H + H·H); per-step: the dense layer at each of the T steps.
  const forwardMacs = s.model === 'stacked' ? first + G * T * 2 * H * H + H * C : s.model === 'per-step' ? first + T * H * C : first + H * C;
  return 2 * 3 * forwardMacs;
}

/** p-th percentile (0..100) by linear interpolation between order statistics. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(at), hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** Rounds to `digits` significant digits (JSON stays readable). */
export function round(x: number, digits = 4): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const scale = 10 ** (digits - 1 - Math.floor(Math.log10(Math.abs(x))));
  return Math.round(x * scale) / scale;
}

/** Step statistics in the record's fields, from the single steps' milliseconds and the timed loop's wall time. */
export function stepStats(stepMs: number[], wallMs: number, batch: number) {
  return {
    train_seq_per_s: round((batch * stepMs.length) / (wallMs / 1000)),
    step_ms_p50: round(percentile(stepMs, 50)),
    step_ms_p95: round(percentile(stepMs, 95)),
    step_ms_mean: round(stepMs.reduce((a, b) => a + b, 0) / stepMs.length),
  };
}

/**
 * The timed loop every system shares: `warmup` untimed steps, then `timed` steps, each awaited. `step(i)` runs the i-th
 * step (counted from the first warm-up step) and may return its own milliseconds (TF.js leaves the host-side batch
 * building out); otherwise the call is timed. Returns the record's step fields.
 */
export async function timeSteps(name: string, batch: number, o: { warmup: number; timed: number; log: (line: string) => void },
  step: (i: number) => Promise<number | void>) {
  for (let i = 0; i < o.warmup; i++) await step(i);
  const stepMs: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < o.timed; i++) {
    const s = performance.now();
    const own = await step(o.warmup + i);
    stepMs.push(typeof own === 'number' ? own : performance.now() - s);
    if (stepMs.at(-1)! > SLOW_STEP_MS) o.log(`${name}: step ${i + 1}/${o.timed}: ${stepMs.at(-1)!.toFixed(0)} ms`);
  }
  const wallMs = performance.now() - t0;
  o.log(`${name}: ${o.timed} timed steps of batch ${batch} in ${(wallMs / 1000).toFixed(2)} s (p50 ${percentile(stepMs, 50).toFixed(1)} ms)`);
  return stepStats(stepMs, wallMs, batch);
}

/** MNIST as bytes in memory (the IDX files parsed). */
export interface MnistBytes {
  train: { pixels: Uint8Array; labels: Uint8Array; count: number };
  test: { pixels: Uint8Array; labels: Uint8Array; count: number };
}

export function parseMnist(files: { trainImages: Uint8Array; trainLabels: Uint8Array; testImages: Uint8Array; testLabels: Uint8Array }): MnistBytes {
  const split = (images: Uint8Array, labels: Uint8Array, name: string) => {
    const im = parseIdxImages(images, `${name} images`);
    const lb = parseIdxLabels(labels, `${name} labels`);
    if (im.cols !== INPUTS || im.count !== lb.count) throw new Error(`${name}: expected MNIST's ${INPUTS}-pixel rows and one label per image`);
    return { pixels: im.pixels, labels: lb.labels, count: im.count };
  };
  return { train: split(files.trainImages, files.trainLabels, 'train'), test: split(files.testImages, files.testLabels, 'test') };
}

/**
 * Sequences of `steps` rows of 28 pixels. For 28 steps these are the MNIST images themselves; for other lengths the
 * images are read as one stream of rows cut into sequences of `steps` rows (112 steps: four images one below the
 * other), labelled with the class of the image their last row belongs to. Real pixels at any length, so that the
 * steps sweep runs on the same kind of data.
 */
export function rowSequences(split: { pixels: Uint8Array; labels: Uint8Array; count: number }, steps: number, limit = Infinity) {
  const rows = split.count * 28;
  const count = Math.min(Math.floor(rows / steps), limit);
  if (count < 1) throw new Error(`not enough rows for one sequence of ${steps} steps`);
  const pixels = split.pixels.subarray(0, count * steps * INPUTS);
  const labels = steps === 28 ? split.labels.subarray(0, count) : Uint8Array.from({ length: count }, (_, i) => split.labels[Math.floor(((i + 1) * steps - 1) / 28)]!);
  return { count, steps, pixels, labels };
}

/** Seeded shuffles for the systems that take their batches from the host (the runtime's own Random). */
export function shuffled(n: number, seed: number): Uint32Array {
  return new Random(seed).permutation(n);
}

/** Splits "vendor/architecture (description)" as adapterName gives it. */
export function splitAdapter(name: string): { adapter: string; adapter_description: string } {
  const m = /^(\S+?)(?: \((.*)\))?$/.exec(name);
  return { adapter: m?.[1] ?? name, adapter_description: m?.[2] ?? '' };
}

/** Steps slower than this get a progress line of their own (software adapters: long runs show they are alive). */
export const SLOW_STEP_MS = 5000;

export interface TimingOptions {
  warmup: number;
  timed: number;
  /** Test images for inference; 0 skips inference. */
  inferImages: number;
  inferBatch: number;
  log: (line: string) => void;
}

/**
 * This runtime on one model size: training steps timed one by one through SequenceClassifier.trainSteps (each awaited
 * with onSubmittedWorkDone), then inference with predict on host images (as a user calls it).
 */
export async function benchWebgpuRnn(device: GPUDevice, mnist: MnistBytes, size: ModelSize, o: TimingOptions) {
  const { batch: B, steps: T, units: H } = size;
  const seqs = rowSequences(mnist.train, T);
  const train = await ImageDataset.create(device, `bench-train-${T}`, { count: seqs.count, rows: T, cols: INPUTS, pixels: seqs.pixels }, { count: seqs.count, labels: seqs.labels });
  const model = new SequenceClassifier(device, { steps: T, inputs: INPUTS, units: H, classes: CLASSES, seed: 1, cell: size.cell ?? 'tanh' });
  try {
    const training = { steps: 1, batchSize: B, learningRate: 0.001, readBack: false };
    const steps = await timeSteps('webgpu-rnn', B, o, async () => { await model.trainSteps(train, training); });
    let infer = {};
    if (o.inferImages > 0) {
      const test = rowSequences(mnist.test, T, o.inferImages);
      const images = Float32Array.from(test.pixels, (v) => v / 255);
      const batch = Math.min(o.inferBatch, test.count);
      await model.predict(images.subarray(0, batch * T * INPUTS), { batchSize: batch }); // warm-up: pipelines
      const s = performance.now();
      await model.predict(images, { batchSize: batch });
      const ms = performance.now() - s;
      o.log(`webgpu-rnn: inference on ${test.count} images in ${(ms / 1000).toFixed(2)} s`);
      infer = { infer_seq_per_s: round(test.count / (ms / 1000)), infer_images: test.count, infer_batch: batch };
    }
    return { ...splitAdapter(adapterName(device)), ...steps, ...infer };
  } finally {
    model.destroy();
    train.destroy();
  }
}

/** C = A·B for square matrices of `size` through the runtime's matmul kernel: GFLOP/s (median of `runs`). */
export async function benchMatmul(device: GPUDevice, size = 1024, runs = 3, log: (line: string) => void = () => {}) {
  const program = await matmul(device, { M: size, N: size, K: size }, 'bench.matmul');
  const owned = new BufferSet(device, 'bench.matmul');
  try {
    const [a, b, c] = ['a', 'b', 'c'].map((name) => owned.create(name, size * size * 4));
    const values = Float32Array.from({ length: size * size }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
    device.queue.writeBuffer(a!, 0, values);
    device.queue.writeBuffer(b!, 0, values);
    const group = program.bind(a!, b!, c!);
    // Milliseconds per product, from one submission of `repeats` products: on a real GPU one product takes well under
    // a millisecond, less than a submission's round trip, so a run repeats it until it lasts about 20 ms.
    const once = async (repeats: number) => {
      const encoder = device.createCommandEncoder({ label: 'bench.matmul' });
      const pass = encoder.beginComputePass();
      for (let i = 0; i < repeats; i++) program.encode(pass, group);
      pass.end();
      const s = performance.now();
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      return (performance.now() - s) / repeats;
    };
    await device.queue.onSubmittedWorkDone();
    const first = await once(1); // warm-up
    const repeats = Math.max(1, Math.min(500, Math.ceil(20 / Math.max(first, 0.01))));
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) ms.push(await once(repeats));
    const gflops = (2 * size ** 3) / (median(ms) / 1000) / 1e9;
    log(`matmul ${size}^3: ${ms.map((m) => m.toFixed(0)).join(', ')} ms: ${gflops.toFixed(2)} GFLOP/s`);
    return { size, gflops: round(gflops), run_ms: ms.map((m) => round(m)) };
  } finally {
    owned.destroy();
  }
}

/** Fills the derived fields: training GFLOP/s and its share of the matmul ceiling. */
export function withEfficiency<T extends { train_seq_per_s: number }>(r: T, size: ModelSize, matmulGflops: number | null, model: BenchModel = 'classifier') {
  const train_gflops = round((r.train_seq_per_s * trainingFlopsPerSequence({ ...size, model })) / 1e9);
  return {
    ...r,
    train_gflops,
    matmul_gflops: matmulGflops,
    train_of_matmul: matmulGflops ? round(train_gflops / matmulGflops) : null,
  };
}

/** The model sizes a sweep runs: each parameter varied around the base size, the others held (base counted once). */
export function sweepSizes(base: ModelSize, values: { batch: number[]; steps: number[]; units: number[] }): Array<ModelSize & { vary: Array<keyof ModelSize> }> {
  const out: Array<ModelSize & { vary: Array<keyof ModelSize> }> = [];
  for (const key of ['batch', 'steps', 'units'] as const) {
    for (const v of values[key]) {
      const size = { ...base, [key]: v };
      const same = out.find((s) => s.batch === size.batch && s.steps === size.steps && s.units === size.units);
      if (same) same.vary.push(key);
      else out.push({ ...size, vary: [key] });
    }
  }
  return out;
}
