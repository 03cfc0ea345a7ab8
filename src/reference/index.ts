// Float64 CPU references of every kernel, in plain loops. Used by the tests, never by the runtime.
// Arrays are row-major; shapes are in the comments. The recurrence runs through a cell's reference step (cells/).
import type { Cell } from '../cells/cell.js';
import { tanh } from '../cells/tanh.js';

export type Arr = ArrayLike<number>;

/** C[M,N] = op(A)·op(B) (+ bias[N]); A [M,K] or [K,M] (transA), B [K,N] or [N,K] (transB). */
export function matmulRef(a: Arr, b: Arr, M: number, N: number, K: number, transA = false, transB = false, bias?: Arr): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = bias ? bias[j]! : 0;
      for (let k = 0; k < K; k++) s += (transA ? a[k * M + i]! : a[i * K + k]!) * (transB ? b[j * K + k]! : b[k * N + j]!);
      c[i * N + j] = s;
    }
  }
  return c;
}

/** out[N] = sum over rows of in[rows, N]. */
export function colsumRef(input: Arr, rows: number, N: number): Float64Array {
  const out = new Float64Array(N);
  for (let r = 0; r < rows; r++) for (let j = 0; j < N; j++) out[j] += input[r * N + j]!;
  return out;
}

/** input [A, B, C] -> [B, A, C]. */
export function swap01Ref(input: Arr, A: number, B: number, C: number): Float64Array {
  const out = new Float64Array(A * B * C);
  for (let i = 0; i < A; i++) for (let j = 0; j < B; j++) for (let c = 0; c < C; c++) out[(j * A + i) * C + c] = input[(i * B + j) * C + c]!;
  return out;
}

export interface RnnRefParams {
  x: Arr;        // [B, T, I]
  wx: Arr;       // [I, G·H] (G: the cell's gate blocks)
  wh: Arr;       // [H, G·H]
  b: Arr;        // [G·H]
  h0?: Arr;      // [B, H]; a cell's other states (LSTM's c) start at zero
  lengths?: Arr; // [B]
  batch: number;
  steps: number;
  inputs: number;
  units: number;
}

/** z [G·H] = b + x_t·Wx + h_{t-1}·Wh for batch row bi, in that order. */
function preActivation(p: RnnRefParams, h: Float64Array, t: number, bi: number, z: Float64Array): void {
  const { steps: T, inputs: I, units: H } = p, N = z.length;
  for (let j = 0; j < N; j++) {
    let sum = p.b[j]!;
    for (let k = 0; k < I; k++) sum += p.x[(bi * T + t) * I + k]! * p.wx[k * N + j]!;
    for (let k = 0; k < H; k++) sum += h[bi * H + k]! * p.wh[k * N + j]!;
    z[j] = sum;
  }
}

/**
 * preActivation's backward for batch row bi: dz [G·H] into db, dWx, dx_t, dWh and dh [H] (dL/dh_{t-1}, added to),
 * each summed over j in order.
 */
function backpropagate(p: RnnRefParams, h: Float64Array, t: number, bi: number, dz: Float64Array, dh: Float64Array,
  g: { dx: Float64Array; dwx: Float64Array; dwh: Float64Array; db: Float64Array }): void {
  const { steps: T, inputs: I, units: H } = p, N = dz.length;
  for (let j = 0; j < N; j++) {
    const d = dz[j]!;
    g.db[j] += d;
    for (let k = 0; k < I; k++) {
      g.dwx[k * N + j] += p.x[(bi * T + t) * I + k]! * d;
      g.dx[(bi * T + t) * I + k] += d * p.wx[k * N + j]!;
    }
    for (let k = 0; k < H; k++) {
      g.dwh[k * N + j] += h[bi * H + k]! * d;
      dh[k] += d * p.wh[k * N + j]!;
    }
  }
}

/**
 * The recurrence of `cell` through its reference step (cells/cell.ts): z = b + x_t·Wx + h_{t-1}·Wh [B, G·H], then
 * states_t = t < len ? cell.forward(z, states_{t-1}) : states_{t-1}; h = states[0]. zs[t] [B, G·H] is z at step t
 * (zero where masked), states[t][s] [B, H] state s before step t (states[T]: the final ones).
 */
function rnnSteps(p: RnnRefParams, cell: Cell) {
  const { batch: B, steps: T, units: H } = p;
  const G = cell.gates, S = cell.states, N = G * H;
  const zs: Float64Array[] = [];
  const states: Float64Array[][] = [Array.from({ length: S }, (_, s) => Float64Array.from({ length: B * H }, (_, i) => (s === 0 && p.h0 ? p.h0[i]! : 0)))];
  for (let t = 0; t < T; t++) {
    const prev = states[t]!, h = prev[0]!;
    const next = prev.map((v) => v.slice()); // carried unchanged where masked
    const zt = new Float64Array(B * N);
    for (let bi = 0; bi < B; bi++) {
      if (!(t < (p.lengths ? p.lengths[bi]! : T))) continue;
      const z = zt.subarray(bi * N, (bi + 1) * N);
      preActivation(p, h, t, bi, z);
      const after = cell.reference.forward(z, prev.map((v) => v.subarray(bi * H, (bi + 1) * H)));
      after.forEach((v, s) => next[s]!.set(v, bi * H));
    }
    zs.push(zt);
    states.push(next);
  }
  return { zs, states };
}

/**
 * h_t = t < len ? cell(x_t·Wx + h_{t-1}·Wh + b, states_{t-1}) : h_{t-1} (tanh(...) for the tanh cell, the default);
 * outputs zero past the length. hs[t] [B, H] is h before step t, hs[T] the final state.
 */
export function rnnForwardRef(p: RnnRefParams, cell: Cell = tanh): { outputs: Float64Array; state: Float64Array; hs: Float64Array[] } {
  const { batch: B, steps: T, units: H } = p;
  const { states } = rnnSteps(p, cell);
  const outputs = new Float64Array(B * T * H); // [B, T, H]
  for (let t = 0; t < T; t++) {
    for (let bi = 0; bi < B; bi++) {
      if (t < (p.lengths ? p.lengths[bi]! : T)) outputs.set(states[t + 1]![0]!.subarray(bi * H, (bi + 1) * H), (bi * T + t) * H);
    }
  }
  const hs = states.map((s) => s[0]!);
  return { outputs, state: hs[T]!, hs };
}

/**
 * Gradients of sum(dOut*outputs) + sum(dState*state) by backpropagation through time in float64, through the cell's
 * reference backward: dz, dStates_{t-1} = cell.backward(z, states_{t-1}, states_t, dStates_t with dOut_t added to
 * dh); dh_{t-1} = dz·Wh^T + dStates_{t-1}[0].
 */
export function rnnBackwardRef(p: RnnRefParams, dOut?: Arr, dState?: Arr, cell: Cell = tanh) {
  const { batch: B, steps: T, inputs: I, units: H } = p;
  const N = cell.gates * H;
  const { zs, states } = rnnSteps(p, cell);
  const g = { dx: new Float64Array(B * T * I), dwx: new Float64Array(I * N), dwh: new Float64Array(H * N), db: new Float64Array(N) };
  // dL/d(states_t), S vectors of [B, H]: dState on h, zero on the others
  let dStates = Array.from({ length: cell.states }, (_, s) => Float64Array.from({ length: B * H }, (_, i) => (s === 0 && dState ? dState[i]! : 0)));
  for (let t = T - 1; t >= 0; t--) {
    const prev = dStates.map((v) => v.slice()); // dL/d(states_{t-1}); carried unchanged where masked
    for (let bi = 0; bi < B; bi++) {
      if (!(t < (p.lengths ? p.lengths[bi]! : T))) continue;
      const row = (v: Float64Array) => v.subarray(bi * H, (bi + 1) * H);
      const dAfter = dStates.map((v) => row(v).slice());
      if (dOut) for (let j = 0; j < H; j++) dAfter[0]![j] += dOut[(bi * T + t) * H + j]!; // the output is h
      const { dz, dBefore } = cell.reference.backward(zs[t]!.subarray(bi * N, (bi + 1) * N), states[t]!.map(row), states[t + 1]!.map(row), dAfter);
      for (const v of prev) row(v).fill(0); // the cell's backward says all that reaches states_{t-1}: dz and dBefore
      backpropagate(p, states[t]![0]!, t, bi, dz, row(prev[0]!), g);
      dBefore.forEach((d, s) => { const v = row(prev[s]!); for (let k = 0; k < H; k++) v[k] += d[k]!; });
    }
    dStates = prev;
  }
  return { ...g, dh0: dStates[0]! };
}

/** Sparse softmax cross-entropy per row, its gradient times `scale`, and in_top_k(k = 1) with ties as hits. */
export function softmaxXentRef(logits: Arr, labels: Arr, B: number, C: number, scale: number) {
  const loss = new Float64Array(B), correct = new Float64Array(B), dlogits = new Float64Array(B * C);
  for (let b = 0; b < B; b++) {
    const row = Array.from({ length: C }, (_, c) => logits[b * C + c]!);
    const label = labels[b]!;
    const mx = Math.max(...row);
    const sum = row.reduce((s, l) => s + Math.exp(l - mx), 0);
    loss[b] = mx + Math.log(sum) - row[label]!;
    row.forEach((l, c) => (dlogits[b * C + c] = (Math.exp(l - mx) / sum - (c === label ? 1 : 0)) * scale));
    correct[b] = Number.isFinite(row[label]!) && row.every((l) => !(l > row[label]!)) ? 1 : 0;
  }
  return { loss, correct, dlogits };
}

/**
 * Clipping by global norm as PyTorch's clip_grad_norm_ (error_if_nonfinite=False): total = sqrt(sum of g^2 over every
 * tensor), coef = clipNorm / (total + 1e-6), every gradient times min(coef, 1); a NaN total gives a NaN coef and NaN
 * gradients (torch.clamp keeps NaN). Returns the norm before clipping and clipped copies.
 */
export function clipByGlobalNormRef(grads: Arr[], clipNorm: number): { norm: number; grads: Float64Array[] } {
  let sum = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sum += g[i]! * g[i]!;
  const norm = Math.sqrt(sum);
  const coef = clipNorm / (norm + 1e-6);
  const factor = coef >= 1 ? 1 : coef;
  return { norm, grads: grads.map((g) => Float64Array.from(g, (x) => (factor === 1 ? x : x * factor))) };
}

/**
 * One Adam step (t counts from 1), TensorFlow's form: p -= lr_t * m / (sqrt(v) + eps). Updates in place. With
 * `clipNorm`, the gradients [P] are first clipped by their global norm (clipByGlobalNormRef), and that norm (before
 * clipping) is returned.
 */
export function adamRef(params: Float64Array, m: Float64Array, v: Float64Array, grads: Arr, t: number,
  c: { learningRate: number; beta1: number; beta2: number; epsilon: number; clipNorm?: number }): number | undefined {
  let norm: number | undefined;
  if (c.clipNorm !== undefined) {
    const clipped = clipByGlobalNormRef([grads], c.clipNorm);
    norm = clipped.norm;
    grads = clipped.grads[0]!;
  }
  const lrT = (c.learningRate * Math.sqrt(1 - c.beta2 ** t)) / (1 - c.beta1 ** t);
  for (let i = 0; i < params.length; i++) {
    const g = grads[i]!;
    m[i] = c.beta1 * m[i]! + (1 - c.beta1) * g;
    v[i] = c.beta2 * v[i]! + (1 - c.beta2) * g * g;
    params[i] -= (lrT * m[i]!) / (Math.sqrt(v[i]!) + c.epsilon);
  }
  return norm;
}
