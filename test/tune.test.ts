// Every kernel variant the autotuner can pick, against the float64 reference; and the tuner itself.
import { afterEach, describe, expect, it } from 'vitest';
import { BufferSet, matmul, readFloats, releaseRnnCache, rnnBackward, rnnForward, setAutotune, TILES, tuningReport, type RnnParams, type Tile } from '../src/index.js';
import { matmulRef, rnnBackwardRef, rnnForwardRef } from '../src/reference/index.js';
import { describeTuning } from '../src/node/train.js';
import { expectClose, rng, run, testDevice, upload } from './helpers.js';

const device = await testDevice();

function rnnParams(B: number, T: number, I: number, H: number, seed: number): RnnParams {
  const r = rng(seed);
  // Recurrent weights small enough (spectral radius below ~1.5) that 28 steps do not amplify float32 rounding.
  const w = Math.min(0.4, 1.5 / Math.sqrt(H));
  return {
    batch: B, steps: T, inputs: I, units: H, x: r.floats(B * T * I), wx: r.floats(I * H, -0.4, 0.4), wh: r.floats(H * H, -w, w),
    b: r.floats(H, -0.1, 0.1), h0: r.floats(B * H, -0.5, 0.5), lengths: Int32Array.from({ length: B }, (_, i) => (i * 7) % (T + 1)),
  };
}

describe.skipIf(!device)('every tile variant', () => {
  afterEach(async () => {
    setAutotune(device!, 'off');
    await releaseRnnCache(device!);
  });

  for (const tile of TILES) {
    const name = `${tile.rows}x${tile.cols} per invocation, workgroup ${tile.wgX}x${tile.wgY}`;
    it(`matmul, ${name}`, async () => {
      const d = device!;
      for (const [M, N, K, o] of [[65, 9, 3, {}], [3, 150, 257, { transA: true }], [9, 28, 65, { transB: true, bias: true }]] as const) {
        const r = rng(M + N + K);
        const a = r.floats(M * K), b = r.floats(K * N), bias = r.floats(N);
        const set = new BufferSet(d, 'test');
        try {
          const [A, Bb, Bias, C] = [upload(set, a), upload(set, b), upload(set, bias), set.create('c', M * N * 4)];
          const p = await matmul(d, { M, N, K, ...o }, 'test', tile);
          run(d, [p, 'bias' in o ? p.bind(A, Bb, C, Bias) : p.bind(A, Bb, C)]);
          const want = matmulRef(a, b, M, N, K, 'transA' in o, 'transB' in o, 'bias' in o ? bias : undefined);
          expectClose(`matmul ${M}x${N}x${K} ${name}`, await readFloats(d, C, 0, M * N), want, [M, N], 1e-5, 1e-4);
        } finally {
          set.destroy();
        }
      }
    });

    it(`rnn forward and backward (masked, odd sizes), ${name}`, async () => {
      setAutotune(device!, { tile });
      const p = rnnParams(9, 5, 3, 65, 3);
      const r = rng(4);
      const dOutputs = r.floats(9 * 5 * 65), dState = r.floats(9 * 65);
      const fwd = await rnnForward(device!, p);
      const want = rnnForwardRef(p);
      expectClose('outputs', fwd.outputs, want.outputs, [9, 5, 65], 2e-5, 1e-4);
      expectClose('state', fwd.state, want.state, [9, 65], 2e-5, 1e-4);
      const g = await rnnBackward(device!, p, { dOutputs, dState });
      const wantG = rnnBackwardRef(p, dOutputs, dState);
      for (const k of ['dx', 'dwx', 'dwh', 'db', 'dh0'] as const) expectClose(k, g[k], wantG[k], [g[k].length], 1e-4, 1e-3);
    });
  }
});

describe.skipIf(!device)('the fused recurrence (all steps in one dispatch)', () => {
  afterEach(async () => {
    setAutotune(device!, 'off');
    await releaseRnnCache(device!);
  });
  for (const [B, T, I, H] of [[9, 5, 3, 65], [1, 1, 1, 1], [5, 28, 28, 150], [3, 4, 2, 257]] as const) {
    it(`forward and backward match the reference: batch ${B}, steps ${T}, inputs ${I}, units ${H}, masked`, async () => {
      setAutotune(device!, { recurrence: 'fused' });
      const p = rnnParams(B, T, I, H, B + T);
      const r = rng(5);
      const dOutputs = r.floats(B * T * H), dState = r.floats(B * H);
      const fwd = await rnnForward(device!, p);
      const want = rnnForwardRef(p);
      expectClose('outputs (fused)', fwd.outputs, want.outputs, [B, T, H], 2e-5, 1e-4);
      expectClose('state (fused)', fwd.state, want.state, [B, H], 2e-5, 1e-4);
      for (const dOut of [dOutputs, undefined]) {
        const g = await rnnBackward(device!, p, { dOutputs: dOut, dState });
        const wantG = rnnBackwardRef(p, dOut, dState);
        for (const k of ['dx', 'dwx', 'dwh', 'db', 'dh0'] as const) expectClose(`${k} (fused)`, g[k], wantG[k], [g[k].length], 1e-4, 1e-3);
      }
    });
  }
});

describe.skipIf(!device)('the autotuner', () => {
  it('times every variant once per shape, keeps the fastest, reports it, and the result is still right', async () => {
    const d = device!;
    setAutotune(d, 'measure');
    const set = new BufferSet(d, 'test');
    try {
      const [M, N, K] = [33, 65, 17];
      const r = rng(12);
      const a = r.floats(M * K), b = r.floats(K * N);
      const [A, B, C] = [upload(set, a), upload(set, b), set.create('c', M * N * 4)];
      const p = await matmul(d, { M, N, K });
      run(d, [p, p.bind(A, B, C)]);
      expectClose('matmul (tuned)', await readFloats(d, C, 0, M * N), matmulRef(a, b, M, N, K), [M, N], 1e-5, 1e-4);
      const report = tuningReport(d);
      expect(report.map((c) => c.kernel)).toEqual(['matmul 33x65x17']);
      const [choice] = report;
      expect(choice!.candidates.map((c) => c.variant)).toEqual([...TILES]);
      expect(choice!.candidates.every((c) => c.ms > 0 && Number.isFinite(c.ms))).toBe(true);
      expect(choice!.ms).toBe(Math.min(...choice!.candidates.map((c) => c.ms)));
      const tile = choice!.variant as Tile;
      expect(p.workgroups[0]).toBe(Math.ceil(N / (tile.cols * tile.wgX)));
      await matmul(d, { M, N, K }); // the same shape again: no new measurement
      expect(tuningReport(d).length).toBe(1);
      // What the train command prints about it.
      expect(describeTuning(d)).toEqual([expect.stringMatching(/^autotune: matmul 33x65x17: \d+x\d+@\d+x\d+ [\d.]+ ms \(default 4x4@8x8 [\d.]+ ms\)$/)]);
    } finally {
      set.destroy();
      setAutotune(d, 'off');
    }
  });
});
