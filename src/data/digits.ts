// The vector-to-sequence digits task (`--task digits`, and the demo's "draw a digit for me"): a digit's class as a
// one-hot vector [10], fed at every one of 28 steps, an rnn, and a dense layer giving each step's row of 28 pixels.
// Pure arrays and the model's config, no Node module: the CLI (node/task-digits.ts) and the demo's worker share it.
import { layers, type SequentialConfig } from '../model/sequential.js';

export const DIGIT_ROWS = 28, DIGIT_COLS = 28, DIGIT_CLASSES = 10;

/** The first `limit` images of a split as the task's arrays: x one-hot [n, 10], y rows [n, 28, 28] in [0, 1]. */
export function digitArrays(images: Uint8Array, labels: Uint8Array, limit: number) {
  const P = DIGIT_ROWS * DIGIT_COLS;
  const n = Math.min(limit, labels.length);
  const x = new Float32Array(n * DIGIT_CLASSES), y = new Float32Array(n * P);
  for (let i = 0; i < n; i++) {
    x[i * DIGIT_CLASSES + labels[i]!] = 1;
    for (let k = 0; k < P; k++) y[i * P + k] = images[i * P + k]! / 255;
  }
  return { n, x, y };
}

/** The per-pixel MSE of drawing the mean of `train`'s images for every image of `test`. */
export function meanImageMse(train: Float32Array, test: Float32Array): number {
  const P = DIGIT_ROWS * DIGIT_COLS, mean = new Float64Array(P);
  for (let k = 0; k < train.length; k++) mean[k % P] += train[k]!;
  for (let p = 0; p < P; p++) mean[p] /= train.length / P;
  let sum = 0;
  for (let k = 0; k < test.length; k++) sum += (test[k]! - mean[k % P]!) ** 2;
  return sum / test.length;
}

/** repeat(28) -> `stack` rnn layers (units, every step; 1 by default) -> dense(28), MSE: draws a class's image row by row. */
export function digitModelConfig(options: { units: number; learningRate: number; seed: number; cell?: 'tanh' | 'lstm' | 'gru'; clipNorm?: number; stack?: number }): SequentialConfig {
  const { units, learningRate, seed, cell, clipNorm, stack = 1 } = options;
  return {
    inputs: DIGIT_CLASSES, loss: 'mse', seed,
    optimizer: { learningRate, ...(clipNorm !== undefined && { clipNorm }) },
    layers: [
      layers.repeat({ steps: DIGIT_ROWS }),
      ...Array.from({ length: stack }, () => layers.rnn({ units, returnSequences: true, ...(cell && cell !== 'tanh' && { cell }) })),
      layers.dense({ units: DIGIT_COLS }),
    ],
  };
}

/** One-hot inputs [digits.length, 10] for predict/inspect. */
export function digitOneHot(...digits: number[]): Float32Array {
  const x = new Float32Array(digits.length * DIGIT_CLASSES);
  digits.forEach((d, i) => (x[i * DIGIT_CLASSES + d] = 1));
  return x;
}
