// Float64 CPU references of the losses over sequences (shaders/loss.wgsl): at every step of time-major [T, B, ·]
// tensors masked by lengths [B], and the squared error per sequence. Used by the tests, never by the runtime.
// Row r = t * B + b is valid when t < lengths[b]; every mean is over the valid terms.
import { softmaxXentRef, type Arr } from './index.js';

/** What a loss kernel leaves: per-row loss and correct [ROWS], the gradient [ROWS, N], and stats [sum loss, sum correct, count]. */
export interface LossRef {
  /** the mean loss */
  loss: number;
  rowLoss: Float64Array;
  correct: Float64Array;
  grad: Float64Array;
  stats: [number, number, number];
}

/** valid[r] for r = t * B + b: t < lengths[b]. */
export function validRows(lengths: Arr, T: number, B: number): boolean[] {
  return Array.from({ length: T * B }, (_, r) => Math.floor(r / B) < lengths[r % B]!);
}

/**
 * Softmax cross-entropy at every step: logits [T, B, C], labels [T, B], lengths [B]. The mean is over valid (step,
 * sequence) pairs; masked rows have loss, correct and dlogits 0, and their logits and labels are never looked at.
 */
export function softmaxXentPerStepRef(logits: Arr, labels: Arr, lengths: Arr, T: number, B: number, C: number): LossRef {
  const valid = validRows(lengths, T, B);
  const count = valid.filter(Boolean).length;
  const rowLoss = new Float64Array(T * B), correct = new Float64Array(T * B), grad = new Float64Array(T * B * C);
  valid.forEach((ok, r) => {
    if (!ok) return;
    const row = softmaxXentRef(Array.from({ length: C }, (_, c) => logits[r * C + c]!), [labels[r]!], 1, C, 1 / count);
    rowLoss[r] = row.loss[0]!;
    correct[r] = row.correct[0]!;
    grad.set(row.dlogits, r * C);
  });
  const sumLoss = rowLoss.reduce((s, v) => s + v, 0), sumCorrect = correct.reduce((s, v) => s + v, 0);
  return { loss: sumLoss / count, rowLoss, correct, grad, stats: [sumLoss, sumCorrect, count] };
}

/**
 * Mean squared error at every step: pred and targets [T, B, O], lengths [B]. The mean is over every output of every
 * valid step (count = O * valid steps); dpred = 2 (pred - targets) / count there, 0 elsewhere.
 */
export function msePerStepRef(pred: Arr, targets: Arr, lengths: Arr, T: number, B: number, O: number): LossRef {
  const valid = validRows(lengths, T, B);
  const count = O * valid.filter(Boolean).length;
  const rowLoss = new Float64Array(T * B), grad = new Float64Array(T * B * O);
  valid.forEach((ok, r) => {
    if (!ok) return;
    for (let o = 0; o < O; o++) {
      const e = pred[r * O + o]! - targets[r * O + o]!;
      rowLoss[r] += e * e;
      grad[r * O + o] = (2 * e) / count;
    }
  });
  const sumLoss = rowLoss.reduce((s, v) => s + v, 0);
  return { loss: sumLoss / count, rowLoss, correct: new Float64Array(T * B), grad, stats: [sumLoss, 0, count] };
}

/** Mean squared error per sequence: pred and targets [B, O], the mean over all B*O outputs. */
export function mseRef(pred: Arr, targets: Arr, B: number, O: number): LossRef {
  return msePerStepRef(pred, targets, new Array<number>(B).fill(1), 1, B, O);
}
