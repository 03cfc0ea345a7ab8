// Float64 CPU references of every kernel, in plain loops. Used by the tests, never by the runtime.
// Arrays are row-major; shapes are in the comments.

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
  wx: Arr;       // [I, H]
  wh: Arr;       // [H, H]
  b: Arr;        // [H]
  h0?: Arr;      // [B, H]
  lengths?: Arr; // [B]
  batch: number;
  steps: number;
  inputs: number;
  units: number;
}

/** h_t = t < len ? tanh(x_t·Wx + h_{t-1}·Wh + b) : h_{t-1}; outputs zero past the length. */
export function rnnForwardRef(p: RnnRefParams): { outputs: Float64Array; state: Float64Array; hs: Float64Array[] } {
  const { batch: B, steps: T, inputs: I, units: H } = p;
  const outputs = new Float64Array(B * T * H); // [B, T, H]
  const hs: Float64Array[] = [];              // hs[t] [B, H] = h before step t; hs[T] = final state
  let h = Float64Array.from({ length: B * H }, (_, i) => (p.h0 ? p.h0[i]! : 0));
  hs.push(h);
  for (let t = 0; t < T; t++) {
    const next = new Float64Array(B * H);
    for (let bi = 0; bi < B; bi++) {
      const active = t < (p.lengths ? p.lengths[bi]! : T);
      for (let j = 0; j < H; j++) {
        if (!active) { next[bi * H + j] = h[bi * H + j]!; continue; }
        let z = p.b[j]!;
        for (let k = 0; k < I; k++) z += p.x[(bi * T + t) * I + k]! * p.wx[k * H + j]!;
        for (let k = 0; k < H; k++) z += h[bi * H + k]! * p.wh[k * H + j]!;
        next[bi * H + j] = Math.tanh(z);
        outputs[(bi * T + t) * H + j] = next[bi * H + j]!;
      }
    }
    h = next;
    hs.push(h);
  }
  return { outputs, state: h, hs };
}

/** Gradients of sum(dOut*outputs) + sum(dState*state), by backpropagation through time in float64. */
export function rnnBackwardRef(p: RnnRefParams, dOut?: Arr, dState?: Arr) {
  const { batch: B, steps: T, inputs: I, units: H } = p;
  const { hs } = rnnForwardRef(p);
  const dx = new Float64Array(B * T * I), dwx = new Float64Array(I * H), dwh = new Float64Array(H * H), db = new Float64Array(H);
  let dh = Float64Array.from({ length: B * H }, (_, i) => (dState ? dState[i]! : 0)); // dL/dh_t
  for (let t = T - 1; t >= 0; t--) {
    const prev = new Float64Array(B * H); // dL/dh_{t-1}
    for (let bi = 0; bi < B; bi++) {
      const active = t < (p.lengths ? p.lengths[bi]! : T);
      if (!active) {
        for (let j = 0; j < H; j++) prev[bi * H + j] = dh[bi * H + j]!;
        continue;
      }
      for (let j = 0; j < H; j++) {
        const h = hs[t + 1]![bi * H + j]!;
        const g = dh[bi * H + j]! + (dOut ? dOut[(bi * T + t) * H + j]! : 0);
        const dz = g * (1 - h * h);
        db[j] += dz;
        for (let k = 0; k < I; k++) {
          dwx[k * H + j] += p.x[(bi * T + t) * I + k]! * dz;
          dx[(bi * T + t) * I + k] += dz * p.wx[k * H + j]!;
        }
        for (let k = 0; k < H; k++) {
          dwh[k * H + j] += hs[t]![bi * H + k]! * dz;
          prev[bi * H + k] += dz * p.wh[k * H + j]!;
        }
      }
    }
    dh = prev;
  }
  return { dx, dwx, dwh, db, dh0: dh };
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
