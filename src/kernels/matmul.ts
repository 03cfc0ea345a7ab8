// Batched matmul and the column sum: shaders/matmul.wgsl, shaders/reduce.wgsl.
import matmulSource from '../../shaders/matmul.wgsl?raw';
import reduceSource from '../../shaders/reduce.wgsl?raw';
import { BufferSet } from '../gpu/buffers.js';
import { program, type Program } from '../gpu/shader.js';
import { chooseTile, timeKernel, type Tile } from '../tune.js';

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
  const chosen = tile ?? await chooseTile(device, `matmul ${describe(s)}`, (t) => measure(device, s, t));
  const defines = {
    M: s.M, N: s.N, K: s.K, TM: chosen.rows, TM8: chosen.rows === 8, WG_X: chosen.wgX, WG_Y: chosen.wgY,
    TRANS_A: !!s.transA, TRANS_B: !!s.transB, BIAS: !!s.bias, ACCUMULATE: !!s.accumulate,
    STRIDE_A: s.strideA ?? 0, STRIDE_B: s.strideB ?? 0, STRIDE_C: s.strideC ?? 0,
    OFFSET_A: s.offsetA ?? 0, OFFSET_B: s.offsetB ?? 0, OFFSET_C: s.offsetC ?? 0,
  };
  const kinds = s.bias ? (['read', 'read', 'storage', 'read'] as const) : (['read', 'read', 'storage'] as const);
  const workgroups: [number, number, number] = [Math.ceil(s.N / (chosen.cols * chosen.wgX)), Math.ceil(s.M / (chosen.rows * chosen.wgY)), s.batch ?? 1];
  return program(device, label, matmulSource, defines, 'matmul', [...kinds], workgroups);
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

/** out[N] = sum over rows of in[rows, N] (+ out). Bind (input, output). */
export function colsum(device: GPUDevice, rows: number, N: number, accumulate = false, label = 'colsum'): Promise<Program> {
  return program(device, label, reduceSource, { ROWS: rows, N, ACCUMULATE: accumulate }, 'colsum', ['read', 'storage'], [Math.ceil(N / 64), 1, 1]);
}
