// The matmul and column-sum kernels against the float64 reference, at sizes that are not tile multiples.
import { describe, it } from 'vitest';
import { BufferSet, colsum, matmul, readFloats } from '../src/index.js';
import { colsumRef, matmulRef } from '../src/reference/index.js';
import { expectClose, rng, testDevice } from './helpers.js';

const device = await testDevice();

async function runMatmul(M: number, N: number, K: number, opts: { transA?: boolean; transB?: boolean; bias?: boolean; accumulate?: boolean } = {}) {
  const d = device!;
  const r = rng(M * 1000 + N * 10 + K);
  const a = r.floats(M * K), b = r.floats(K * N), bias = r.floats(N), c0 = r.floats(M * N);
  const bufs = new BufferSet(d, 'test');
  try {
    const up = (data: Float32Array) => { const buf = bufs.create('x', data.byteLength); d.queue.writeBuffer(buf, 0, data); return buf; };
    const [A, Bb, C, Bias] = [up(a), up(b), up(c0), up(bias)];
    const p = await matmul(d, { M, N, K, ...opts });
    const group = opts.bias ? p.bind(A, Bb, C, Bias) : p.bind(A, Bb, C);
    const enc = d.createCommandEncoder();
    const pass = enc.beginComputePass();
    p.encode(pass, group);
    pass.end();
    d.queue.submit([enc.finish()]);
    const got = await readFloats(d, C, 0, M * N);
    const want = matmulRef(a, b, M, N, K, opts.transA, opts.transB, opts.bias ? bias : undefined);
    if (opts.accumulate) want.forEach((v, i) => (want[i] = v + c0[i]!));
    expectClose(`matmul ${M}x${N}x${K} ${JSON.stringify(opts)}`, got, want, [M, N], 1e-5, 1e-4);
  } finally {
    bufs.destroy();
  }
}

describe.skipIf(!device)('matmul', () => {
  for (const [M, N, K] of [[1, 1, 1], [3, 9, 65], [9, 9, 9], [64, 99, 3], [65, 150, 28], [150, 150, 150], [257, 10, 150]] as const) {
    it(`${M}x${N}x${K}`, () => runMatmul(M, N, K));
  }
  it('transposed A (weight gradients)', () => runMatmul(28, 150, 257, { transA: true }));
  it('transposed B (input gradients)', () => runMatmul(257, 28, 150, { transB: true }));
  it('both transposed', () => runMatmul(9, 65, 3, { transA: true, transB: true }));
  it('bias', () => runMatmul(65, 150, 28, { bias: true }));
  it('accumulate', () => runMatmul(3, 9, 65, { accumulate: true }));
});

describe.skipIf(!device)('colsum', () => {
  // 2 x 4,194,305: more columns than 65535 workgroups of 64 hold, continued along z (the sum of a 2048 x 2048
  // gradient's slices is 4,194,304 columns).
  for (const [rows, N] of [[1, 1], [4200, 150], [150, 10], [3, 257], [2, 65535 * 64 + 65]] as const) {
    it(`${rows}x${N}`, async () => {
      const d = device!;
      const input = rng(rows + N).floats(rows * N);
      const bufs = new BufferSet(d, 'test');
      try {
        const inBuf = bufs.create('in', input.byteLength), out = bufs.create('out', N * 4);
        d.queue.writeBuffer(inBuf, 0, input);
        const p = await colsum(d, rows, N);
        const enc = d.createCommandEncoder();
        const pass = enc.beginComputePass();
        p.encode(pass, p.bind(inBuf, out));
        pass.end();
        d.queue.submit([enc.finish()]);
        expectClose(`colsum ${rows}x${N}`, await readFloats(d, out, 0, N), colsumRef(input, rows, N), [N], 1e-4, 1e-4);
      } finally {
        bufs.destroy();
      }
    });
  }
});
