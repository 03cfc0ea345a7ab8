// Initial weights of a stack of layers, deterministic from the seed: one Random(seed) stream drawn layer by layer in
// parameter order (wx, wh, b; w, b). Values are float32 (what a GPU model holds), so a GPU model built from the same
// config starts from exactly these weights.
//
// For [rnn, dense] with the default initialisers the stream is drawn exactly as SequenceClassifier's initialState
// draws it (Wx, Wh, then the dense w; biases zero), so a classifier preset gets the same weights for the same seed.
import { Random } from '../random.js';
import type { Weights } from './batch.js';
import { planSequential, type LayerPlan } from './config.js';

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
  const H = l.units;
  switch (l.initialiser) {
    case 'glorot': {
      // BasicRNNCell keeps Wx and Wh as one [I + H, H] kernel: one Glorot limit for both.
      const limit = Math.sqrt(6 / (I + H + H));
      return { wx: random.uniform(I * H, limit), wh: random.uniform(H * H, limit), b: new Float32Array(H) };
    }
    case 'orthogonal':
      return { wx: random.uniform(I * H, Math.sqrt(6 / (I + H))), wh: Float32Array.from(orthogonal(H, random)), b: new Float32Array(H) };
    case 'pytorch': {
      const bound = 1 / Math.sqrt(H);
      return { wx: random.uniform(I * H, bound), wh: random.uniform(H * H, bound), b: random.uniform(H, bound) };
    }
  }
}

/**
 * Keras' Orthogonal(gain 1) for a square [H, H] matrix: Q of the QR decomposition of a standard normal matrix, with
 * the signs that make R's diagonal positive (Q is then unique). Gram-Schmidt over the columns gives that Q directly;
 * each column is orthogonalised twice ("twice is enough") so Q is orthogonal to float64 rounding.
 */
export function orthogonal(H: number, random: Random): Float64Array {
  const a = Float64Array.from({ length: H * H }, () => gaussian(random)); // [H, H] row-major
  const q = new Float64Array(H * H);
  const col = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    for (let i = 0; i < H; i++) col[i] = a[i * H + j]!;
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let i = 0; i < H; i++) dot += q[i * H + k]! * col[i]!;
        for (let i = 0; i < H; i++) col[i] -= dot * q[i * H + k]!;
      }
    }
    let norm = 0;
    for (let i = 0; i < H; i++) norm += col[i]! * col[i]!;
    norm = Math.sqrt(norm);
    for (let i = 0; i < H; i++) q[i * H + j] = col[i]! / norm;
  }
  return q;
}

/** A standard normal number (Box-Muller, one per two uniforms; 1 - u keeps log away from 0). */
function gaussian(random: Random): number {
  const u = 1 - random.next(), v = random.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
