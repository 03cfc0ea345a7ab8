// Batched matmul and the column sum: shaders/matmul.wgsl, shaders/reduce.wgsl.
import matmulSource from '../../shaders/matmul.wgsl?raw';
import reduceSource from '../../shaders/reduce.wgsl?raw';
import { BufferSet } from '../gpu/buffers.js';
import { program, type Program } from '../gpu/shader.js';
import { dispatch, overLimit, storage, type Demand } from '../gpu/limits.js';
import { chooseSplit, chooseTile, TILES, timeKernel, type Tile } from '../tune.js';

export interface MatmulShape {
  M: number;
  N: number;
  K: number;
  /** A is stored [K, M] and used transposed. */
  transA?: boolean;
  /** B is stored [N, K] and used transposed. */
  transB?: boolean;
  /** Add bias[N] to every row (bound at binding 3). */
  bias?: boolean;
  /** Add into C instead of overwriting it. */
  accumulate?: boolean;
  /** Independent products along the z dimension, `stride*` elements apart. */
  batch?: number;
  strideA?: number;
  strideB?: number;
  strideC?: number;
  /** Elements to skip at the start of A, B, C. */
  offsetA?: number;
  offsetB?: number;
  offsetC?: number;
}

/**
 * C = op(A)·op(B) (+ bias) (+ C). Bind (a, b, c) or (a, b, c, bias). The variant is `tile` when given, else the
 * tuner's choice for this shape (see tune.ts).
 */
export async function matmul(device: GPUDevice, s: MatmulShape, label = 'matmul', tile?: Tile): Promise<Program> {
  const chosen = tile ?? await chooseTile(device, `matmul ${describe(s)}`, (t) => measure(device, s, t), s.M * s.N * s.K * (s.batch ?? 1));
  const defines = {
    M: s.M, N: s.N, K: s.K, TM: chosen.rows, TM8: chosen.rows === 8, WG_X: chosen.wgX, WG_Y: chosen.wgY,
    TRANS_A: !!s.transA, TRANS_B: !!s.transB, BIAS: !!s.bias, ACCUMULATE: !!s.accumulate,
    STRIDE_A: s.strideA ?? 0, STRIDE_B: s.strideB ?? 0, STRIDE_C: s.strideC ?? 0,
    OFFSET_A: s.offsetA ?? 0, OFFSET_B: s.offsetB ?? 0, OFFSET_C: s.offsetC ?? 0,
  };
  const kinds = s.bias ? (['read', 'read', 'storage', 'read'] as const) : (['read', 'read', 'storage'] as const);
  return program(device, label, matmulSource, defines, 'matmul', [...kinds], matmulWorkgroups(s, chosen));
}

function matmulWorkgroups(s: MatmulShape, tile: Tile): [number, number, number] {
  return [Math.ceil(s.N / (tile.cols * tile.wgX)), Math.ceil(s.M / (tile.rows * tile.wgY)), s.batch ?? 1];
}

/** The dispatch of the product in the variant with the most workgroups per dimension (any variant may be chosen). */
export function matmulDemand(what: string, s: MatmulShape): Demand {
  const all = TILES.map((t) => matmulWorkgroups(s, t));
  return dispatch(what, [0, 1, 2].map((d) => Math.max(...all.map((w) => w[d]!))) as [number, number, number]);
}

/** Columns in workgroups of 64 along x, continued along z past 65535 (the least maxComputeWorkgroupsPerDimension). */
function colsumWorkgroups(N: number, slices: number): [number, number, number] {
  const groups = Math.ceil(N / 64);
  return groups <= 65535 ? [groups, slices, 1] : [65535, slices, Math.ceil(groups / 65535)];
}

/** The dispatch of colsum over `N` columns in `slices` slices. */
export function colsumDemand(what: string, N: number, slices = 1): Demand {
  return dispatch(what, colsumWorkgroups(N, slices));
}

function describe(s: MatmulShape): string {
  const flags = [s.transA && 'transA', s.transB && 'transB', s.bias && 'bias', s.accumulate && 'accumulate', (s.batch ?? 1) > 1 && `batch ${s.batch}`];
  return [`${s.M}x${s.N}x${s.K}`, ...flags.filter(Boolean)].join(' ');
}

/** One run of the product in variant `tile`, on scratch buffers of the right sizes. */
async function measure(device: GPUDevice, s: MatmulShape, tile: Tile): Promise<number> {
  const p = await matmul(device, s, 'autotune', tile);
  const scratch = new BufferSet(device, 'autotune');
  try {
    const span = (offset = 0, stride = 0, size: number) => (offset + ((s.batch ?? 1) - 1) * stride + size) * 4;
    const a = scratch.create('a', span(s.offsetA, s.strideA, s.M * s.K));
    const b = scratch.create('b', span(s.offsetB, s.strideB, s.K * s.N));
    const c = scratch.create('c', span(s.offsetC, s.strideC, s.M * s.N));
    const group = s.bias ? p.bind(a, b, c, scratch.create('bias', s.N * 4)) : p.bind(a, b, c);
    return await timeKernel(device, (pass) => p.encode(pass, group));
  } finally {
    scratch.destroy();
  }
}

/** out[N] = sum over rows of in[rows, N] (+ out). Bind (input, output). With `slices` > 1 (dividing rows), see reduce.wgsl. */
export function colsum(device: GPUDevice, rows: number, N: number, accumulate = false, label = 'colsum', slices = 1): Promise<Program> {
  return program(device, label, reduceSource, { ROWS: rows / slices, N, ACCUMULATE: accumulate }, 'colsum', ['read', 'storage'], colsumWorkgroups(N, slices));
}

// ---- split-K: products and sums over a long K (the weight gradients, K = T*B rows) ----

type Encode = (pass: GPUComputePassEncoder) => void;

/** A reduction over K cut into `splits` slices: partial results for each slice, then their sum. */
export interface SplitReduction {
  readonly splits: number;
  /** Bytes of scratch for the partial results (0 when not split). */
  readonly scratchBytes: number;
  /** Encodes the reduction from `inputs` into `output`; `scratch` (scratchBytes or more) holds the partials. */
  bind(inputs: GPUBufferBinding[], output: GPUBufferBinding, scratch?: GPUBuffer): Encode;
}

/**
 * How many slices to cut a reduction over K rows into; the first is the default. A slice of about a thousand rows
 * keeps its rows in cache on the CPU adapters (one long K read by every workgroup does not: the sweep over steps grew
 * faster than linearly until the weight gradients were split) and gives a GPU `splits` times as many workgroups.
 * Tried: slices of about 1,024 rows, about 256 rows, and no split while K is at most 2,048 (measured here, no split
 * and slices of about 4,096 rows lost at every larger K, and tuning them cost the most).
 */
export function splitCandidates(K: number): number[] {
  const near = (rows: number) => nearestDivisor(K, Math.max(1, Math.round(K / rows)));
  return [...new Set([near(1024), ...(K <= 2048 ? [1] : []), near(256)])];
}

/** The divisor of K closest to `target` (at least 1). */
export function nearestDivisor(K: number, target: number): number {
  target = Math.max(1, Math.round(target));
  for (let d = 0; ; d++) {
    if (target - d >= 1 && K % (target - d) === 0) return target - d;
    if (K % (target + d) === 0) return target + d;
  }
}

/**
 * C[M, N] = A^T·B (+ C), A stored [K, M] and B [K, N], with K cut into slices: one batched product of the slices
 * into scratch [splits, M, N], then a column sum over the slices into C. `splits` (rounded to a divisor of K)
 * defaults to the tuner's choice.
 */
export async function matmulSplitK(device: GPUDevice, s: { M: number; N: number; K: number; accumulate?: boolean }, label = 'matmul', splits?: number): Promise<SplitReduction> {
  const { M, N, K } = s;
  const variant = (n: number) => matmulSplitK(device, s, 'autotune', n);
  const S = nearestDivisor(K, splits ?? await chooseSplit(device, `${label} ${M}x${N}x${K} transA${s.accumulate ? ' accumulate' : ''}`,
    fitting(device, K, (n) => splitKDemands(label, M, N, K, n)), (n) => measureSplit(device, variant(n), [K * M, K * N], M * N), variant));
  if (S === 1) return oneStage(await matmul(device, { M, N, K, transA: true, accumulate: s.accumulate }, label));
  const KS = K / S;
  const [product, sum] = await Promise.all([
    matmul(device, { M, N, K: KS, transA: true, batch: S, strideA: KS * M, strideB: KS * N, strideC: M * N }, `${label} (slices)`),
    colsum(device, S, M * N, s.accumulate, `${label} (sum of slices)`),
  ]);
  return twoStages(label, S, S * M * N * 4, product, sum);
}

/** out[N] = sum over K rows of in[K, N], in `splits` slices then their sum; `splits` defaults to the tuner's choice. */
export async function colsumSplitK(device: GPUDevice, K: number, N: number, label = 'colsum', splits?: number): Promise<SplitReduction> {
  const S = nearestDivisor(K, splits ?? await chooseSplit(device, `${label} colsum ${K}x${N}`, fitting(device, K, (n) => colsumSplitKDemands(label, K, N, n)),
    (n) => measureSplit(device, colsumSplitK(device, K, N, 'autotune', n), [K * N], N)));
  if (S === 1) return oneStage(await colsum(device, K, N, false, label));
  const [partial, sum] = await Promise.all([colsum(device, K, N, false, `${label} (slices)`, S), colsum(device, S, N, false, `${label} (sum of slices)`)]);
  return twoStages(label, S, S * N * 4, partial, sum);
}

/**
 * The split counts the tuner may try: the default (which the model's size check holds to the device's limits, see
 * splitKDemands) and the others whose scratch and dispatches fit too.
 */
function fitting(device: GPUDevice, K: number, demands: (splits: number) => Demand[]): number[] {
  return splitCandidates(K).filter((n, i) => i === 0 || !overLimit(device, demands(n)));
}

/** Scratch and dispatches of matmulSplitK({ M, N, K }) cut into `splits` (the default when omitted). */
export function splitKDemands(label: string, M: number, N: number, K: number, splits = splitCandidates(K)[0]!): Demand[] {
  if (splits === 1) return [matmulDemand(label, { M, N, K, transA: true })];
  return [storage(`${label} partial sums [${splits} slices, ${M}, ${N}]`, splits * M * N),
    matmulDemand(`${label} (slices)`, { M, N, K: K / splits, batch: splits }), colsumDemand(`${label} (sum of slices)`, M * N)];
}

/** Scratch and dispatches of colsumSplitK(K, N) cut into `splits` (the default when omitted). */
export function colsumSplitKDemands(label: string, K: number, N: number, splits = splitCandidates(K)[0]!): Demand[] {
  if (splits === 1) return [colsumDemand(label, N)];
  return [storage(`${label} partial sums [${splits} slices, ${N}]`, splits * N), colsumDemand(`${label} (slices)`, N, splits), colsumDemand(`${label} (sum of slices)`, N)];
}

/** A reduction in one dispatch of `p`, bound (...inputs, output). */
function oneStage(p: Program): SplitReduction {
  return {
    splits: 1,
    scratchBytes: 0,
    bind: (inputs, output) => {
      const group = p.bind(...inputs, output);
      return (pass) => p.encode(pass, group);
    },
  };
}

/** `partials` (bound ...inputs, scratch) writes one partial result a slice into scratch; `sum` adds them into the output. */
function twoStages(label: string, splits: number, scratchBytes: number, partials: Program, sum: Program): SplitReduction {
  return {
    splits,
    scratchBytes,
    bind: (inputs, output, scratch) => {
      if (!scratch) throw new Error(`${label}: split ${splits} ways, it needs a scratch buffer`);
      const [g1, g2] = [partials.bind(...inputs, { buffer: scratch }), sum.bind({ buffer: scratch }, output)];
      return (pass) => { partials.encode(pass, g1); sum.encode(pass, g2); };
    },
  };
}

/** One run of split reduction `reduction`, on scratch buffers of `inputs` and `outputs` floats. */
async function measureSplit(device: GPUDevice, reduction: Promise<SplitReduction>, inputs: number[], outputs: number): Promise<number> {
  const r = await reduction;
  const set = new BufferSet(device, 'autotune');
  try {
    const encode = r.bind(inputs.map((n) => ({ buffer: set.create('in', n * 4) })), { buffer: set.create('out', outputs * 4) },
      r.scratchBytes > 0 ? set.create('scratch', r.scratchBytes) : undefined);
    return await timeKernel(device, encode);
  } finally {
    set.destroy();
  }
}
