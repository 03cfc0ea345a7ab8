// The losses of a stack of layers in float64, each a mean over valid elements, with its gradient.
//   softmax-cross-entropy, a class per sequence: mean over the n sequences (the classifier's loss).
//   softmax-cross-entropy, a class per step: mean over the valid (sequence, step) pairs, t < lengths[i].
//   mse: mean of (y - target)^2 over every output of every valid step (or of every sequence for vector outputs).
// Accuracy (cross-entropy only) is in_top_k(k = 1) with ties as hits, averaged over the same elements as the loss.
import type { LossName } from '../model/config.js';
import { softmaxXentRef, type Arr } from './index.js';
import type { Extent } from './layers.js';

export interface LossResult {
  loss: number;
  accuracy?: number;     // softmax-cross-entropy only
  dOutputs: Float64Array; // dLoss/dOutputs, like the outputs; zero at steps past a sequence's length
}

/** outputs [n, O] (sequence false) or [n, steps, O]; targets [n] / [n, steps] (class ids) or like outputs (mse). */
export function lossRef(loss: LossName, outputs: Arr, targets: Arr, O: number, sequence: boolean, e: Extent): LossResult {
  const rows = validRows(sequence, e); // indices of the rows [., O] of outputs that count
  const count = rows.length;
  const dOutputs = new Float64Array(outputs.length);
  if (loss === 'mse') {
    let sum = 0;
    const scale = 2 / (count * O);
    for (const r of rows) {
      for (let o = 0; o < O; o++) {
        const d = outputs[r * O + o]! - targets[r * O + o]!;
        sum += d * d;
        dOutputs[r * O + o] = scale * d;
      }
    }
    return { loss: sum / (count * O), dOutputs };
  }
  if (!sequence) {
    // Every row counts: softmaxXentRef on the whole [n, O], exactly the classifier's loss.
    const x = softmaxXentRef(outputs, targets, e.n, O, 1 / e.n);
    return { loss: sum(x.loss) / e.n, accuracy: sum(x.correct) / e.n, dOutputs: x.dlogits };
  }
  const logits = new Float64Array(count * O), labels = new Float64Array(count);
  rows.forEach((r, k) => {
    for (let o = 0; o < O; o++) logits[k * O + o] = outputs[r * O + o]!;
    labels[k] = targets[r]!;
  });
  const x = softmaxXentRef(logits, labels, count, O, 1 / count);
  rows.forEach((r, k) => dOutputs.set(x.dlogits.subarray(k * O, (k + 1) * O), r * O));
  return { loss: sum(x.loss) / count, accuracy: sum(x.correct) / count, dOutputs };
}

/** What a prediction shows: softmax probabilities per row for cross-entropy, the outputs for mse; zero rows stay zero past a length. */
export function predictionsRef(loss: LossName, outputs: Float64Array, O: number, sequence: boolean, e: Extent): Float64Array {
  if (loss === 'mse') return Float64Array.from(outputs);
  const p = new Float64Array(outputs.length);
  for (const r of validRows(sequence, e)) {
    let mx = -Infinity, s = 0;
    for (let o = 0; o < O; o++) mx = Math.max(mx, outputs[r * O + o]!);
    for (let o = 0; o < O; o++) s += (p[r * O + o] = Math.exp(outputs[r * O + o]! - mx));
    for (let o = 0; o < O; o++) p[r * O + o] /= s;
  }
  return p;
}

/** Row indices i (vector outputs) or i * steps + t with t < lengths[i] (per-step outputs), in order. */
function validRows(sequence: boolean, e: Extent): number[] {
  if (!sequence) return Array.from({ length: e.n }, (_, i) => i);
  const rows: number[] = [];
  for (let i = 0; i < e.n; i++) for (let t = 0; t < e.lengths[i]!; t++) rows.push(i * e.steps + t);
  return rows;
}

function sum(a: Float64Array): number {
  return a.reduce((s, v) => s + v, 0);
}
