// Initial weights of a stack of layers, deterministic from the seed: one Random(seed) stream drawn layer by layer in
// parameter order (wx, wh, b, and GRU's bh; w, b). The kinds of initialiser: model/config.ts's RnnInitialiser. Values are float32 (what a GPU model holds), so a GPU model built from the same
// config starts from exactly these weights.
//
// For [rnn, dense] with the default initialisers the stream is drawn exactly as SequenceClassifier's initialState
// draws it (Wx, Wh, then the dense w; biases zero), so a classifier preset gets the same weights for the same seed.
import { Random } from '../random.js';
import type { Weights } from './batch.js';
import { layerCell, planSequential, type LayerPlan } from './config.js';

export function initialWeights(config: unknown): Weights<Float32Array> {
  const plan = planSequential(config);
  const random = new Random(plan.seed);
  const out: Weights<Float32Array> = {};
  for (const layer of plan.layers) {
    const data = layerInit(layer, random);
    for (const { name, shape } of layer.params) out[name] = { shape, data: data[name.slice(name.lastIndexOf('.') + 1)]! };
  }
  return out;
}

function layerInit(p: LayerPlan, random: Random): Record<string, Float32Array> {
  const l = p.layer, I = p.inputs;
  if (l.type === 'repeat') return {};
  if (l.type === 'dense') {
    const O = l.units;
    if (l.initialiser === 'pytorch') {
      const bound = 1 / Math.sqrt(I); // nn.Linear: kaiming_uniform(a = sqrt(5)) is uniform(±1/sqrt(fan_in)); the bias too
      return { w: random.uniform(I * O, bound), b: random.uniform(O, bound) };
    }
    return { w: random.uniform(I * O, Math.sqrt(6 / (I + O))), b: new Float32Array(O) };
  }
  // A cell of G gate blocks: wx [I, N], wh [H, N], b [N] (and bh [N]), N = G·H. For tanh (G 1) every case below
  // draws exactly what it drew before there were other cells.
  const H = l.units, cell = layerCell(l), N = cell.gates * H, recurrentBias = 'bh' in cell.params(I, H);
  let w: Record<string, Float32Array>;
  switch (l.initialiser) {
    case 'glorot': {
      // BasicRNNCell / LSTMCell keep Wx and Wh as one [I + H, N] kernel: one Glorot limit for both.
      const limit = Math.sqrt(6 / (I + H + N));
      w = { wx: random.uniform(I * N, limit), wh: random.uniform(H * N, limit), b: new Float32Array(N) };
      if (recurrentBias) w.bh = new Float32Array(N);
      break;
    }
    case 'orthogonal':
      w = { wx: random.uniform(I * N, Math.sqrt(6 / (I + N))), wh: Float32Array.from(orthogonal(H, N, random)), b: new Float32Array(N) };
      if (recurrentBias) w.bh = new Float32Array(N); // Keras reset_after: bias [2, 3H] of zeros
      break;
    case 'pytorch': {
      const bound = 1 / Math.sqrt(H); // weight_ih, weight_hh, bias_ih, bias_hh, in that order
      w = { wx: random.uniform(I * N, bound), wh: random.uniform(H * N, bound), b: random.uniform(N, bound) };
      if (recurrentBias) w.bh = random.uniform(N, bound);
      break;
    }
  }
  if (l.forgetBias) for (let j = H; j < 2 * H; j++) w.b![j] += 1; // LSTM: blocks i, f, g, o
  return w;
}

/**
 * Keras' Orthogonal(gain 1) for a [rows, cols] matrix: Q of the QR decomposition of a standard normal matrix of
 * [max, min] (row-major), with the signs that make R's diagonal positive (Q is then unique), transposed when rows <
 * cols (so an [H, G·H] recurrent kernel has orthonormal rows: Wh·Wh^T = I). Gram-Schmidt over the columns gives that Q
 * directly; each column is orthogonalised twice ("twice is enough") so Q is orthogonal to float64 rounding. A square
 * [H, H] draws and returns exactly what it did when it was the only shape.
 */
export function orthogonal(rows: number, cols: number, random: Random): Float64Array {
  const M = Math.max(rows, cols), K = Math.min(rows, cols);
  const a = Float64Array.from({ length: M * K }, () => gaussian(random)); // [M, K] row-major
  const q = new Float64Array(M * K); // [M, K]
  const col = new Float64Array(M);
  for (let j = 0; j < K; j++) {
    for (let i = 0; i < M; i++) col[i] = a[i * K + j]!;
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let i = 0; i < M; i++) dot += q[i * K + k]! * col[i]!;
        for (let i = 0; i < M; i++) col[i] -= dot * q[i * K + k]!;
      }
    }
    let norm = 0;
    for (let i = 0; i < M; i++) norm += col[i]! * col[i]!;
    norm = Math.sqrt(norm);
    for (let i = 0; i < M; i++) q[i * K + j] = col[i]! / norm;
  }
  if (rows >= cols) return q;
  const t = new Float64Array(rows * cols); // [K, M] = [rows, cols]
  for (let i = 0; i < M; i++) for (let j = 0; j < K; j++) t[j * M + i] = q[i * K + j]!;
  return t;
}

/** A standard normal number (Box-Muller, one per two uniforms; 1 - u keeps log away from 0). */
function gaussian(random: Random): number {
  const u = 1 - random.next(), v = random.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
