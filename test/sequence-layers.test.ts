// The repeat layer (vector to sequence) and the mask past each sequence's length, against the float64 layers of
// src/reference/layers.ts (batch-major; the kernels are time-major, so the references are swapped to [T, B, F]).
import { describe, expect, it } from 'vitest';
import { BufferSet, colsum, maskSteps, matmul, readFloats, repeatBackward, repeatForward } from '../src/index.js';
import { grid1d } from '../src/gpu/shader.js';
import { swap01Ref } from '../src/reference/index.js';
import { layerBackward, layerForward, maskSteps as maskStepsRef, type Extent } from '../src/reference/layers.js';
import type { LayerPlan } from '../src/model/config.js';
import { expectClose, rng, run, testDevice, upload } from './helpers.js';

const device = await testDevice();

// [T, B, F]: single elements, sizes that are not multiples of the 256-wide workgroups, a batch of 150.
const SHAPES = [[1, 1, 1], [5, 3, 7], [9, 65, 3], [4, 150, 9]] as const;

/** Lengths [B] in [1, T] holding 1 and T when B allows, the rest random between. */
function mixedLengths(T: number, B: number, seed: number): Int32Array {
  const lengths = rng(seed).ints(B, 1, T);
  lengths[0] = 1;
  if (B > 1) lengths[1] = T;
  return lengths;
}

const repeatPlan = (T: number, F: number): LayerPlan =>
  ({ index: 0, layer: { type: 'repeat', steps: T }, inputs: F, outputs: F, sequenceIn: false, sequenceOut: true, params: [] });

const densePlan = (I: number, O: number): LayerPlan =>
  ({ index: 0, layer: { type: 'dense', units: O, initialiser: 'glorot' }, inputs: I, outputs: O, sequenceIn: true, sequenceOut: true, params: [] });

/** [T, B, F] time-major from [B, T, F] batch-major, and back. */
const timeMajor = (x: ArrayLike<number>, T: number, B: number, F: number) => swap01Ref(x, B, T, F);
const batchMajor = (x: ArrayLike<number>, T: number, B: number, F: number) => swap01Ref(x, T, B, F);

describe.skipIf(!device)('repeat (vector to sequence)', () => {
  for (const [T, B, F] of SHAPES) {
    it(`[T ${T}, B ${B}, F ${F}]: forward and backward match the reference with mixed lengths`, async () => {
      const d = device!, r = rng(T * 1000 + B * 10 + F);
      const x = r.floats(B * F), dy = r.floats(T * B * F), lengths = mixedLengths(T, B, T + B + F);
      const e: Extent = { n: B, steps: T, lengths };
      const set = new BufferSet(d, 'test');
      try {
        const L = upload(set, lengths), X = upload(set, x), DY = upload(set, dy);
        const Y = upload(set, new Float32Array(T * B * F).fill(7), 'y'); // every element must be written, zeros included
        const DX = upload(set, new Float32Array(B * F).fill(7), 'dx');
        const [fwd, bwd] = await Promise.all([repeatForward(d, { T, B, F }), repeatBackward(d, { T, B, F })]);
        run(d, [fwd, fwd.bind(L, X, Y)], [bwd, bwd.bind(L, DY, DX)]);
        const [y, dx] = await Promise.all([readFloats(d, Y, 0, T * B * F), readFloats(d, DX, 0, B * F)]);
        expectClose('y', y, timeMajor(layerForward(repeatPlan(T, F), {}, x, e), T, B, F), [T, B, F], 0, 0);
        expectClose('dx', dx, layerBackward(repeatPlan(T, F), {}, x, batchMajor(dy, T, B, F), e).dx, [B, F], 1e-6, 1e-5);
      } finally {
        set.destroy();
      }
    });
  }
});

describe.skipIf(!device)('mask past each length', () => {
  for (const [T, B, F] of SHAPES) {
    it(`[T ${T}, B ${B}, F ${F}]: zeroes the steps past each length in place and keeps the rest`, async () => {
      const d = device!, r = rng(T * 1000 + B * 10 + F + 1);
      const y = r.floats(T * B * F), lengths = mixedLengths(T, B, T * B * F);
      const set = new BufferSet(d, 'test');
      try {
        const L = upload(set, lengths), Y = upload(set, y);
        const mask = await maskSteps(d, { T, B, F });
        run(d, [mask, mask.bind(L, Y)]);
        const want = timeMajor(maskStepsRef(Float64Array.from(batchMajor(y, T, B, F)), { n: B, steps: T, lengths }, F), T, B, F);
        expectClose('y', await readFloats(d, Y, 0, T * B * F), want, [T, B, F], 0, 0);
      } finally {
        set.destroy();
      }
    });
  }

  it('time-distributed dense (matmul + bias, then the mask; backward: the mask on dy, then the products) matches the reference layer', async () => {
    const d = device!, r = rng(23);
    const T = 6, B = 5, I = 7, O = 9, rows = T * B;
    const x = r.floats(rows * I), w = r.floats(I * O, -0.5, 0.5), b = r.floats(O), dy = r.floats(rows * O);
    const lengths = Int32Array.from([1, 6, 3, 2, 5]);
    const e: Extent = { n: B, steps: T, lengths };
    const set = new BufferSet(d, 'test');
    try {
      const L = upload(set, lengths), X = upload(set, x), W = upload(set, w), Bias = upload(set, b), DY = upload(set, dy);
      const Y = set.create('y', rows * O * 4), DX = set.create('dx', rows * I * 4), DW = set.create('dw', I * O * 4), DB = set.create('db', O * 4);
      const [fwd, mask, gX, gW, gB] = await Promise.all([
        matmul(d, { M: rows, N: O, K: I, bias: true }),
        maskSteps(d, { T, B, F: O }),
        matmul(d, { M: rows, N: I, K: O, transB: true }),
        matmul(d, { M: I, N: O, K: rows, transA: true }),
        colsum(d, rows, O),
      ]);
      run(d, [fwd, fwd.bind(X, W, Y, Bias)], [mask, mask.bind(L, Y)],
        [mask, mask.bind(L, DY)], [gX, gX.bind(DY, W, DX)], [gW, gW.bind(X, DY, DW)], [gB, gB.bind(DY, DB)]);
      const [y, dx, dw, db] = await Promise.all([readFloats(d, Y, 0, rows * O), readFloats(d, DX, 0, rows * I), readFloats(d, DW, 0, I * O), readFloats(d, DB, 0, O)]);
      const weights = { 'layers.0.w': w, 'layers.0.b': b }, xb = batchMajor(x, T, B, I);
      expectClose('y', y, timeMajor(layerForward(densePlan(I, O), weights, xb, e), T, B, O), [T, B, O], 1e-6, 1e-5);
      const want = layerBackward(densePlan(I, O), weights, xb, batchMajor(dy, T, B, O), e);
      expectClose('dx', dx, timeMajor(want.dx, T, B, I), [T, B, I], 1e-6, 1e-5);
      expectClose('dw', dw, want.grads['layers.0.w']!, [I, O], 1e-6, 1e-5);
      expectClose('db', db, want.grads['layers.0.b']!, [O], 1e-6, 1e-5);
    } finally {
      set.destroy();
    }
  });
});

describe.skipIf(!device)('past 65535 workgroups (grid1d folds the launch into y)', () => {
  it('repeat forward, mask and repeat backward on [T 300, B 227, F 247]', async () => {
    const d = device!;
    const T = 300, B = 227, F = 247, N = T * B * F, BF = B * F;
    expect(grid1d(N, 256, d.limits.maxComputeWorkgroupsPerDimension)[1], 'a second dimension').toBeGreaterThan(1);
    const lengths = mixedLengths(T, B, 5);
    const x = Float32Array.from({ length: BF }, (_, i) => (i % 97) + 1);
    const set = new BufferSet(d, 'test');
    try {
      const L = upload(set, lengths), X = upload(set, x), Y = set.create('y', N * 4), DX = set.create('dx', BF * 4);
      const Z = upload(set, Float32Array.from({ length: N }, (_, e) => (e % 13) + 1), 'z');
      const [fwd, mask, bwd] = await Promise.all([repeatForward(d, { T, B, F }), maskSteps(d, { T, B, F }), repeatBackward(d, { T, B, F })]);
      run(d, [fwd, fwd.bind(L, X, Y)], [mask, mask.bind(L, Z)], [bwd, bwd.bind(L, Y, DX)]);
      const [y, z, dx] = await Promise.all([readFloats(d, Y, 0, N), readFloats(d, Z, 0, N), readFloats(d, DX, 0, BF)]);
      // Checked in place: float64 copies of [T, B, F] would take hundreds of MB.
      let wrong = 0, first = '';
      for (let e = 0; e < N; e++) {
        const bf = e % BF, valid = Math.floor(e / BF) < lengths[Math.floor(bf / F)]!;
        const wantY = valid ? x[bf]! : 0, wantZ = valid ? (e % 13) + 1 : 0;
        if (y[e] !== wantY || z[e] !== wantZ) { if (!wrong++) first = `at ${e}: y ${y[e]} (want ${wantY}), z ${z[e]} (want ${wantZ})`; }
      }
      expect(wrong, `mismatches, first ${first}`).toBe(0);
      expectClose('dx', dx, Array.from(x, (v, i) => v * lengths[Math.floor(i / F)]!), [B, F], 0, 0);
    } finally {
      set.destroy();
    }
  });
});
