// Batched matmul and the column sum: shaders/matmul.wgsl, shaders/reduce.wgsl.
import matmulSource from '../../shaders/matmul.wgsl?raw';
import reduceSource from '../../shaders/reduce.wgsl?raw';
import { program, type Program } from '../gpu/shader.js';

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

const TM = 4, TN = 4, WG_X = 8, WG_Y = 8;

/** C = op(A)·op(B) (+ bias) (+ C). Bind (a, b, c) or (a, b, c, bias). */
export function matmul(device: GPUDevice, s: MatmulShape, label = 'matmul'): Promise<Program> {
  const defines = {
    M: s.M, N: s.N, K: s.K, TM, TN, WG_X, WG_Y,
    TRANS_A: !!s.transA, TRANS_B: !!s.transB, BIAS: !!s.bias, ACCUMULATE: !!s.accumulate,
    STRIDE_A: s.strideA ?? 0, STRIDE_B: s.strideB ?? 0, STRIDE_C: s.strideC ?? 0,
    OFFSET_A: s.offsetA ?? 0, OFFSET_B: s.offsetB ?? 0, OFFSET_C: s.offsetC ?? 0,
  };
  const kinds = s.bias ? (['read', 'read', 'storage', 'read'] as const) : (['read', 'read', 'storage'] as const);
  const workgroups: [number, number, number] = [Math.ceil(s.N / (TN * WG_X)), Math.ceil(s.M / (TM * WG_Y)), s.batch ?? 1];
  return program(device, label, matmulSource, defines, 'matmul', [...kinds], workgroups);
}

/** out[N] = sum over rows of in[rows, N] (+ out). Bind (input, output). */
export function colsum(device: GPUDevice, rows: number, N: number, accumulate = false, label = 'colsum'): Promise<Program> {
  return program(device, label, reduceSource, { ROWS: rows, N, ACCUMULATE: accumulate }, 'colsum', ['read', 'storage'], [Math.ceil(N / 64), 1, 1]);
}
