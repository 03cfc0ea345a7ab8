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
  bh?: Arr;      // [G·H], the recurrent side's bias: for a cell that has one (GRU with resetAfter)
  h0?: Arr;      // [B, H]; a cell's other states (LSTM's c) start at zero
  initialStates?: Arr[]; // [S][B, H]: every state before step 0 (h, then LSTM's c), as a stateful layer carries them; wins over h0
  lengths?: Arr; // [B], each in [0, T]
  batch: number;
  steps: number;
  inputs: number;
  units: number;
}

/**
 * zx [G·H] = b + x_t·Wx and, for the columns j < late, zh[j] = bh[j] + h·Wh[:, j] (h [H] = h_{t-1}), for batch row
 * bi, each summed in that order. One pass over the columns: two (an input and a recurrent part) cost the tiny stacks
 * of the gradient checks 1.4x in forward time.
 */
function preActivation(p: RnnRefParams, t: number, bi: number, h: Float64Array, late: number, zx: Float64Array, zh: Float64Array): void {
  const { steps: T, inputs: I } = p, H = h.length, N = zx.length, x0 = (bi * T + t) * I, bh = p.bh;
  for (let j = 0; j < N; j++) {
    let sum = p.b[j]!;
    for (let k = 0; k < I; k++) sum += p.x[x0 + k]! * p.wx[k * N + j]!;
    zx[j] = sum;
    if (j >= late) continue;
    sum = bh ? bh[j]! : 0;
    for (let k = 0; k < H; k++) sum += h[k]! * p.wh[k * N + j]!;
    zh[j] = sum;
  }
}

/** zh[j] = bh[j] + left·Wh[:, j] for the columns j in [from, to); left [H] (h_{t-1}, or a gated cell's u). */
function recurrentPart(left: Float64Array, wh: Arr, bh: Arr | undefined, from: number, to: number, zh: Float64Array): void {
  const H = left.length, N = zh.length;
  for (let j = from; j < to; j++) {
    let sum = bh ? bh[j]! : 0;
    for (let k = 0; k < H; k++) sum += left[k]! * wh[k * N + j]!;
    zh[j] = sum;
  }
}

/** preActivation's input part backward for batch row bi: dzx [G·H] into db, dWx and dx_t, each summed over j in order. */
function inputPartBackward(p: RnnRefParams, t: number, bi: number, dzx: Float64Array, g: RnnRefGrads): void {
  const { steps: T, inputs: I } = p, N = dzx.length, x0 = (bi * T + t) * I;
  for (let j = 0; j < N; j++) {
    const d = dzx[j]!;
    g.db[j] += d;
    for (let k = 0; k < I; k++) {
      g.dwx[k * N + j] += p.x[x0 + k]! * d;
      g.dx[x0 + k] += d * p.wx[k * N + j]!;
    }
  }
}

/** The recurrent part's backward (preActivation's, recurrentPart's) over the columns [from, to): dzh into dWh, dbh and dLeft [H] (added to), summed over j in order. */
function recurrentPartBackward(left: Float64Array, wh: Arr, from: number, to: number, dzh: Float64Array, dLeft: Float64Array,
  dwh: Float64Array, dbh: Float64Array | undefined): void {
  const H = left.length, N = dzh.length;
  for (let j = from; j < to; j++) {
    const d = dzh[j]!;
    if (dbh) dbh[j] += d;
    for (let k = 0; k < H; k++) {
      dwh[k * N + j] += left[k]! * d;
      dLeft[k] += d * wh[k * N + j]!;
    }
  }
}

interface RnnRefGrads {
  dx: Float64Array;  // [B, T, I]
  dwx: Float64Array; // [I, G·H]
  dwh: Float64Array; // [H, G·H]
  db: Float64Array;  // [G·H]
  dbh?: Float64Array; // [G·H], when p.bh is given
}

/**
 * The recurrence of `cell` through its reference step (cells/cell.ts): zx = b + x_t·Wx and zh = bh + h_{t-1}·Wh
 * [B, G·H] (a gated cell's late blocks: u·Wh, u = cell.gatedInput(...) [B, H] kept in us[t]), then
 * states_t = t < len ? cell.forward(zx, zh, states_{t-1}) : states_{t-1}; h = states[0]. states[t][s] [B, H] is state s
 * before step t (states[T]: the final ones). With `keep` (what backward needs), zxs[t], zhs[t] are step t's (zero where
 * masked); without, one row's scratch serves every step (forward only: no allocation per row and step for them).
 */
function rnnSteps(p: RnnRefParams, cell: Cell, keep: boolean) {
  const { batch: B, steps: T, units: H } = p;
  const G = cell.gates, S = cell.states, N = G * H, late = (cell.gatedFrom ?? G) * H; // columns [late, N) multiply u
  const zxs: Float64Array[] = [], zhs: Float64Array[] = [], us: (Float64Array | undefined)[] = [];
  if (p.initialStates && (p.initialStates.length !== S || p.initialStates.some((v) => v.length !== B * H))) {
    throw new Error(`initialStates: expected ${S} states of ${B}x${H}, got lengths ${p.initialStates.map((v) => v.length).join(', ')}`);
  }
  const start = (s: number) => p.initialStates?.[s] ?? (s === 0 ? p.h0 : undefined);
  const states: Float64Array[][] = [Array.from({ length: S }, (_, s) => Float64Array.from({ length: B * H }, (_, i) => start(s)?.[i] ?? 0))];
  let zx = new Float64Array(N), zh = new Float64Array(N);
  for (let t = 0; t < T; t++) {
    const prev = states[t]!;
    const next = prev.map((v) => v.slice()); // carried unchanged where masked
    const zxt = keep ? new Float64Array(B * N) : zx, zht = keep ? new Float64Array(B * N) : zh;
    const ut = keep && late < N ? new Float64Array(B * H) : undefined;
    for (let bi = 0; bi < B; bi++) {
      if (!(t < (p.lengths ? p.lengths[bi]! : T))) continue;
      if (keep) { zx = zxt.subarray(bi * N, (bi + 1) * N); zh = zht.subarray(bi * N, (bi + 1) * N); }
      const before: Float64Array[] = [];
      for (let s = 0; s < S; s++) before.push(prev[s]!.subarray(bi * H, (bi + 1) * H));
      preActivation(p, t, bi, before[0]!, late, zx, zh);
      if (late < N) {
        const u = cell.reference.gatedInput!(zx, zh, before);
        ut?.set(u, bi * H);
        recurrentPart(u, p.wh, p.bh, late, N, zh);
      }
      const after = cell.reference.forward(zx, zh, before);
      for (let s = 0; s < S; s++) next[s]!.set(after[s]!, bi * H);
    }
    if (keep) { zxs.push(zxt); zhs.push(zht); us.push(ut); }
    states.push(next);
  }
  return { zxs, zhs, us, states, late };
}

/**
 * h_t = t < len ? cell(x_t·Wx + b, h_{t-1}·Wh (+ bh), states_{t-1}) : h_{t-1} (tanh(zx + zh) for the tanh cell, the
 * default); outputs zero past the length. hs[t] [B, H] is h before step t, hs[T] the final state; cellStates[T] all S
 * final states (LSTM's c is cellStates[T][1]).
 */
export function rnnForwardRef(p: RnnRefParams, cell: Cell = tanh): { outputs: Float64Array; state: Float64Array; hs: Float64Array[]; cellStates: Float64Array[][] } {
  const { batch: B, steps: T, units: H } = p;
  const { states } = rnnSteps(p, cell, false);
  const outputs = new Float64Array(B * T * H); // [B, T, H]
  for (let t = 0; t < T; t++) {
    for (let bi = 0; bi < B; bi++) {
      if (t < (p.lengths ? p.lengths[bi]! : T)) outputs.set(states[t + 1]![0]!.subarray(bi * H, (bi + 1) * H), (bi * T + t) * H);
    }
  }
  const hs = states.map((s) => s[0]!);
  return { outputs, state: hs[T]!, hs, cellStates: states };
}

/**
 * Gradients of sum(dOut*outputs) + sum(dState*state) by backpropagation through time in float64, through the cell's
 * reference backward: dzx, dzh, dStates_{t-1} = cell.backward(zx, zh, states_{t-1}, states_t, dStates_t with dOut_t
 * added to dh); dWx = Σ x^T·dzx, db = Σ dzx, dWh = Σ h^T·dzh, dbh = Σ dzh, dh_{t-1} = dzh·Wh^T + dStates_{t-1}[0]
 * (a gated cell's late blocks: through u, cells/cell.ts). Past a sequence's length the states are carried, so their
 * gradients are too.
 */
export function rnnBackwardRef(p: RnnRefParams, dOut?: Arr, dState?: Arr, cell: Cell = tanh) {
  const { batch: B, steps: T, inputs: I, units: H } = p;
  const N = cell.gates * H;
  const { zxs, zhs, us, states, late } = rnnSteps(p, cell, true);
  const g: RnnRefGrads = {
    dx: new Float64Array(B * T * I), dwx: new Float64Array(I * N), dwh: new Float64Array(H * N), db: new Float64Array(N),
    ...(p.bh ? { dbh: new Float64Array(N) } : {}),
  };
  // dL/d(states_t), S vectors of [B, H]: dState on h, zero on the others
  let dStates = Array.from({ length: cell.states }, (_, s) => Float64Array.from({ length: B * H }, (_, i) => (s === 0 && dState ? dState[i]! : 0)));
  for (let t = T - 1; t >= 0; t--) {
    const prev = dStates.map((v) => v.slice()); // dL/d(states_{t-1}); carried unchanged where masked
    for (let bi = 0; bi < B; bi++) {
      if (!(t < (p.lengths ? p.lengths[bi]! : T))) continue;
      const row = (v: Float64Array) => v.subarray(bi * H, (bi + 1) * H);
      const dAfter = dStates.map((v) => row(v).slice());
      if (dOut) for (let j = 0; j < H; j++) dAfter[0]![j] += dOut[(bi * T + t) * H + j]!; // the output is h
      const zx = zxs[t]!.subarray(bi * N, (bi + 1) * N), zh = zhs[t]!.subarray(bi * N, (bi + 1) * N);
      const before = states[t]!.map(row);
      const d = cell.reference.backward(zx, zh, before, states[t + 1]!.map(row), dAfter);
      for (const v of prev) row(v).fill(0); // the cell's backward says all that reaches states_{t-1}: dzh and dBefore
      if (late < N) {
        const du = new Float64Array(H);
        recurrentPartBackward(us[t]!.subarray(bi * H, (bi + 1) * H), p.wh, late, N, d.dzh, du, g.dwh, g.dbh);
        cell.reference.gatedInputBackward!(zx, zh, before, du, d);
      }
      recurrentPartBackward(before[0]!, p.wh, 0, late, d.dzh, row(prev[0]!), g.dwh, g.dbh);
      inputPartBackward(p, t, bi, d.dzx, g);
      d.dBefore.forEach((v, s) => { const r = row(prev[s]!); for (let k = 0; k < H; k++) r[k] += v[k]!; });
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
