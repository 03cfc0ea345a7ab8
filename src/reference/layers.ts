// Each layer's float64 forward and backward side by side, batch-major: a sequence is [n, steps, F], a vector [n, F].
// Every sequence a layer gives is zero past each sequence's length (TensorFlow's semantics for the rnn, and the same
// rule for a time-distributed dense and a repeat), so the layer above sees zeros there and gets no gradient from them.
// An rnn layer runs its config's cell (cells/) through rnnForwardRef / rnnBackwardRef.
import { cellOf } from '../cells/index.js';
import type { LayerPlan, ResolvedRnnLayer } from '../model/config.js';
import { colsumRef, matmulRef, rnnBackwardRef, rnnForwardRef, type Arr, type RnnRefParams } from './index.js';

export interface Extent {
  n: number;
  steps: number;
  lengths: Int32Array; // [n], each in [1, steps]
  initialStates?: Readonly<Record<number, Arr[]>>; // by layer index: an rnn layer's states before step 0 (zeros if absent)
}

export interface LayerGrads {
  dx: Float64Array;                      // like the layer's input
  grads: Record<string, Float64Array>;   // by full parameter name
}

/**
 * y = layer(x); x [n, steps, inputs] or [n, inputs] as p.sequenceIn says. An rnn layer puts its final states (h, then
 * LSTM's c; each [n, units]) into finals[p.index] when given: what a stateful layer carries into the next pass.
 */
export function layerForward(p: LayerPlan, w: Record<string, Arr>, x: Arr, e: Extent, finals?: Record<number, Float64Array[]>): Float64Array {
  const l = p.layer;
  if (l.type === 'rnn') {
    const { outputs, state, cellStates } = rnnForwardRef(rnnParams(p, w, x, e), cellOfLayer(p, l));
    if (finals) finals[p.index] = cellStates[e.steps]!;
    return l.returnSequences ? outputs : state;
  }
  if (l.type === 'dense') {
    const rows = p.sequenceIn ? e.n * e.steps : e.n;
    const y = matmulRef(x, w[`layers.${p.index}.w`]!, rows, p.outputs, p.inputs, false, false, w[`layers.${p.index}.b`]!);
    return p.sequenceIn ? maskSteps(y, e, p.outputs) : y;
  }
  // repeat: [n, F] -> [n, steps, F]
  const F = p.inputs, y = new Float64Array(e.n * e.steps * F);
  for (let i = 0; i < e.n; i++) for (let t = 0; t < e.lengths[i]!; t++) for (let f = 0; f < F; f++) y[(i * e.steps + t) * F + f] = x[i * F + f]!;
  return y;
}

/** Gradients of sum(dy * layer(x)) with respect to x and the layer's parameters. */
export function layerBackward(p: LayerPlan, w: Record<string, Arr>, x: Arr, dy: Arr, e: Extent): LayerGrads {
  const l = p.layer, name = (s: string) => `layers.${p.index}.${s}`;
  if (l.type === 'rnn') {
    // rnnBackwardRef ignores dOut past a sequence's length, where the outputs are the constant 0.
    const g = rnnBackwardRef(rnnParams(p, w, x, e), l.returnSequences ? dy : undefined, l.returnSequences ? undefined : dy, cellOfLayer(p, l));
    return { dx: g.dx, grads: { [name('wx')]: g.dwx, [name('wh')]: g.dwh, [name('b')]: g.db, ...(g.dbh ? { [name('bh')]: g.dbh } : {}) } };
  }
  if (l.type === 'dense') {
    const F = p.inputs, O = p.outputs, rows = p.sequenceIn ? e.n * e.steps : e.n;
    const d = p.sequenceIn ? maskSteps(Float64Array.from(dy), e, O) : dy; // outputs past the length are the constant 0
    return {
      dx: matmulRef(d, w[name('w')]!, rows, F, O, false, true),
      grads: { [name('w')]: matmulRef(x, d, F, O, rows, true), [name('b')]: colsumRef(d, rows, O) },
    };
  }
  const F = p.inputs, dx = new Float64Array(e.n * F);
  for (let i = 0; i < e.n; i++) for (let t = 0; t < e.lengths[i]!; t++) for (let f = 0; f < F; f++) dx[i * F + f] += dy[(i * e.steps + t) * F + f]!;
  return { dx, grads: {} };
}

function cellOfLayer(p: LayerPlan, l: ResolvedRnnLayer) {
  return cellOf(l.cell, `layers.${p.index}.cell`, l);
}

function rnnParams(p: LayerPlan, w: Record<string, Arr>, x: Arr, e: Extent): RnnRefParams {
  const name = (s: string) => `layers.${p.index}.${s}`;
  return {
    x, wx: w[name('wx')]!, wh: w[name('wh')]!, b: w[name('b')]!,
    bh: w[name('bh')], // a cell with a recurrent bias (GRU with resetAfter): the plan has layers.k.bh; undefined for the others
    initialStates: e.initialStates?.[p.index],
    lengths: e.lengths, batch: e.n, steps: e.steps, inputs: p.inputs, units: p.outputs,
  };
}

/** Zeroes y [n, steps, F] at every step t >= lengths[i], in place. */
export function maskSteps(y: Float64Array, e: Extent, F: number): Float64Array {
  for (let i = 0; i < e.n; i++) y.fill(0, (i * e.steps + e.lengths[i]!) * F, (i + 1) * e.steps * F);
  return y;
}
