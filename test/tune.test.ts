// Every kernel variant the autotuner can pick, against the float64 reference; and the tuner itself.
import { afterEach, describe, expect, it } from 'vitest';
import { BufferSet, colsumSplitK, matmul, matmulSplitK, readFloats, releaseRnnCache, rnnBackward, rnnForward, setAutotune, splitCandidates, TILES, tuningReport, type RnnParams, type SplitReduction, type Tile } from '../src/index.js';
import { nearestDivisor } from '../src/kernels/matmul.js';
import { restoreTuning } from '../src/tune.js';
import { colsumRef, matmulRef, rnnBackwardRef, rnnForwardRef } from '../src/reference/index.js';
import { describeTuning } from '../src/node/train.js';
import { adapterClass, classify } from '../src/gpu/device.js';
import { candidateTiles, CPU_TILES, SMALL_WORK, variantName } from '../src/tune.js';
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

describe('split-K slice counts', () => {
  it('are divisors of K, the default first, each once', () => {
    expect(splitCandidates(4200)).toEqual([4, 15]);   // slices of 1050 and 280 rows (T=28, B=150)
    expect(splitCandidates(67200)).toEqual([64, 280]);
    expect(splitCandidates(2000)).toEqual([2, 1, 8]);
    expect(splitCandidates(45)).toEqual([1]);
    expect(splitCandidates(997)).toEqual([1]);
    expect(splitCandidates(1)).toEqual([1]);
    for (const K of [4200, 67200, 45, 997, 1024]) for (const s of splitCandidates(K)) expect(K % s, `K ${K}, ${s} slices`).toBe(0);
    expect(nearestDivisor(997, 4)).toBe(1); // a prime K cannot be split evenly (997 itself is farther from 4)
    expect(nearestDivisor(45, 6)).toBe(5);
  });
});

/** Encodes split reduction `p` from `inputs` into `out` (with a scratch buffer when it is split) and submits it. */
function runReduction(set: BufferSet, p: SplitReduction, inputs: Float32Array[], out: GPUBuffer): void {
  const d = set.device;
  const encode = p.bind(inputs.map((x) => ({ buffer: upload(set, x) })), { buffer: out }, p.scratchBytes ? set.create('scratch', p.scratchBytes) : undefined);
  const encoder = d.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encode(pass);
  pass.end();
  d.queue.submit([encoder.finish()]);
}

describe.skipIf(!device)('every split-K variant', () => {
  afterEach(() => setAutotune(device!, 'off'));

  for (const [M, N, K, accumulate] of [[28, 150, 4200, false], [9, 65, 600, true], [3, 5, 7, false]] as const) {
    it(`A^T·B ${M}x${N}x${K}${accumulate ? ' accumulate' : ''}: every slice count the tuner can pick, no split, and one slice a row`, async () => {
      const d = device!;
      const r = rng(M + N + K);
      const a = r.floats(K * M), b = r.floats(K * N), c0 = r.floats(M * N);
      const want = matmulRef(a, b, M, N, K, true, false);
      if (accumulate) want.forEach((v, i) => (want[i] = v + c0[i]!));
      for (const splits of new Set([...splitCandidates(K), 1, K])) {
        const set = new BufferSet(d, 'test');
        try {
          const p = await matmulSplitK(d, { M, N, K, accumulate }, 'test', splits);
          expect(p.splits).toBe(splits);
          const C = upload(set, c0, 'c');
          runReduction(set, p, [a, b], C);
          expectClose(`A^T·B ${M}x${N}x${K} in ${splits} slices`, await readFloats(d, C, 0, M * N), want, [M, N], 1e-4, 1e-4);
        } finally {
          set.destroy();
        }
      }
    });
  }

  for (const [K, N] of [[4200, 150], [999, 3]] as const) {
    it(`column sum ${K}x${N}: every slice count the tuner can pick`, async () => {
      const d = device!;
      const input = rng(K + N).floats(K * N);
      for (const splits of new Set([...splitCandidates(K), 1, 3])) {
        const set = new BufferSet(d, 'test');
        try {
          const p = await colsumSplitK(d, K, N, 'test', splits);
          const out = set.create('out', N * 4);
          runReduction(set, p, [input], out);
          expectClose(`colsum ${K}x${N} in ${p.splits} slices`, await readFloats(d, out, 0, N), colsumRef(input, K, N), [N], 1e-4, 1e-4);
        } finally {
          set.destroy();
        }
      }
    });
  }

  it('a split product without its scratch buffer is refused', async () => {
    const p = await matmulSplitK(device!, { M: 3, N: 5, K: 8 }, 'test', 2);
    const set = new BufferSet(device!, 'test');
    try {
      expect(() => p.bind([{ buffer: set.create('a', 96) }, { buffer: set.create('b', 160) }], { buffer: set.create('c', 60) })).toThrow(/needs a scratch buffer/);
    } finally {
      set.destroy();
    }
  });

  it('rnn weight gradients in slices match the reference (the scheduler\'s split-K path)', async () => {
    for (const splits of [5, 9]) {
      setAutotune(device!, { splits });
      const p = rnnParams(9, 5, 3, 65, 3); // K = 45 rows
      const dState = rng(4).floats(9 * 65);
      const g = await rnnBackward(device!, p, { dState });
      const wantG = rnnBackwardRef(p, undefined, dState);
      for (const k of ['dx', 'dwx', 'dwh', 'db', 'dh0'] as const) expectClose(`${k} (${splits} slices)`, g[k], wantG[k], [g[k].length], 1e-4, 1e-3);
      await releaseRnnCache(device!);
    }
  });
});

describe.skipIf(!device)('the autotuner', () => {
  it('takes back stored choices (a kernel shape with one is not timed again) and skips entries that are not valid', async () => {
    const d = device!;
    setAutotune(d, 'measure');
    try {
      const taken = restoreTuning(d, [
        { kernel: 'matmul 33x65x17', variant: TILES[2], ms: 1.5, candidates: [{ variant: TILES[2], ms: 1.5 }] },
        { kernel: 'test.dW 5x7x2400 transA', variant: 8, ms: 2 },
        { kernel: 'rnn.recurrence tanh 9x65x5 +backward', variant: 'fused', ms: 3 },
        { kernel: 'bad tile', variant: { rows: 3, cols: 4, wgX: 8, wgY: 8 }, ms: 1 },
        { kernel: 'bad recurrence', variant: 'warp', ms: 1 },
        { kernel: 'bad split', variant: 0, ms: 1 },
        { kernel: 'bad time', variant: TILES[0], ms: 'fast' },
        { variant: TILES[0], ms: 1 },
        null,
      ]);
      expect(taken).toBe(3);
      expect(restoreTuning(d, 'not a list')).toBe(0);
      const p = await matmul(d, { M: 33, N: 65, K: 17 });
      expect(p.workgroups[0]).toBe(Math.ceil(65 / (TILES[2]!.cols * TILES[2]!.wgX)));
      const report = tuningReport(d);
      expect(report.map((c) => c.kernel).sort()).toEqual(['matmul 33x65x17', 'rnn.recurrence tanh 9x65x5 +backward', 'test.dW 5x7x2400 transA']);
      expect(report.find((c) => c.kernel === 'matmul 33x65x17')!.ms).toBe(1.5); // taken, not measured again
      // What the train command prints about them, candidates or not.
      expect(describeTuning(d)).toEqual(expect.arrayContaining([
        'autotune: matmul 33x65x17: 8x4@8x8 1.50 ms (default 8x4@8x8 1.50 ms)', 'autotune: test.dW 5x7x2400 transA: 8 slices 2.00 ms']));
    } finally {
      setAutotune(d, 'off');
    }
  });

  it('times every slice count of a split-K reduction, keeps the fastest, and the product is still right', async () => {
    const d = device!;
    setAutotune(d, 'measure');
    const set = new BufferSet(d, 'test');
    try {
      const [M, N, K] = [5, 7, 2400];
      const r = rng(13);
      const a = r.floats(K * M), b = r.floats(K * N);
      const p = await matmulSplitK(d, { M, N, K }, 'test.dW');
      const choice = tuningReport(d).find((c) => c.kernel === 'test.dW 5x7x2400 transA');
      expect(choice, 'a report entry for the split').toBeDefined();
      expect(choice!.candidates.map((c) => c.variant)).toEqual(splitCandidates(K));
      expect(choice!.variant).toBe(p.splits);
      expect(choice!.ms).toBe(Math.min(...choice!.candidates.map((c) => c.ms)));
      const C = set.create('c', M * N * 4);
      runReduction(set, p, [a, b], C);
      expectClose('split-K (tuned)', await readFloats(d, C, 0, M * N), matmulRef(a, b, M, N, K, true, false), [M, N], 1e-4, 1e-4);
      expect(describeTuning(d)).toContainEqual(expect.stringMatching(/^autotune: test\.dW 5x7x2400 transA: \d+ slices? [\d.]+ ms \(default 2 slices [\d.]+ ms\)$/));
    } finally {
      set.destroy();
      setAutotune(d, 'off');
    }
  });

  it('times every variant once per shape, keeps the fastest, reports it, and the result is still right', async () => {
    const d = device!;
    const lines: string[] = [];
    setAutotune(d, 'measure', { log: (line) => lines.push(line) });
    const set = new BufferSet(d, 'test');
    try {
      const [M, N, K] = [130, 131, 120]; // just over SMALL_WORK multiply-adds: smaller kernels are not timed
      expect(M * N * K).toBeGreaterThanOrEqual(SMALL_WORK);
      const r = rng(12);
      const a = r.floats(M * K), b = r.floats(K * N);
      const [A, B, C] = [upload(set, a), upload(set, b), set.create('c', M * N * 4)];
      const p = await matmul(d, { M, N, K });
      run(d, [p, p.bind(A, B, C)]);
      expectClose('matmul (tuned)', await readFloats(d, C, 0, M * N), matmulRef(a, b, M, N, K), [M, N], 1e-5, 1e-4);
      const report = tuningReport(d);
      expect(report.map((c) => c.kernel)).toEqual(['matmul 130x131x120']);
      const [choice] = report;
      expect(choice!.candidates.map((c) => c.variant)).toEqual([...candidateTiles(d)]);
      expect(candidateTiles(d)).toEqual(adapterClass(d) === 'cpu' ? CPU_TILES : TILES);
      expect(choice!.candidates.every((c) => c.ms > 0 && Number.isFinite(c.ms))).toBe(true);
      expect(choice!.ms).toBe(Math.min(...choice!.candidates.map((c) => c.ms)));
      const tile = choice!.variant as Tile;
      expect(p.workgroups[0]).toBe(Math.ceil(N / (tile.cols * tile.wgX)));
      await matmul(d, { M, N, K }); // the same shape again: no new measurement
      expect(tuningReport(d).length).toBe(1);
      // What the train command prints about it.
      const fallback = variantName(candidateTiles(d)[0]!);
      expect(describeTuning(d)).toEqual([expect.stringMatching(new RegExp(`^autotune: matmul 130x131x120: \\d+x\\d+@\\d+x\\d+ [\\d.]+ ms \\(default ${fallback} [\\d.]+ ms\\)$`))]);
      // Each shape timed is announced and its result given, for a host to show while it waits.
      expect(lines).toEqual([
        expect.stringMatching(new RegExp(`^autotune: timing matmul 130x131x120 in ${candidateTiles(d).length} variants \\(kernel shape 1;`)),
        expect.stringMatching(/^autotune: matmul 130x131x120: \S+ [\d.]+ ms \(1 shapes timed in [\d.]+ s\)$/),
      ]);
    } finally {
      set.destroy();
      setAutotune(d, 'off');
    }
  });

  it('does not time a kernel under SMALL_WORK multiply-adds: the default, or a choice taken back', async () => {
    const d = device!;
    const lines: string[] = [];
    setAutotune(d, 'measure', { log: (line) => lines.push(line) });
    try {
      const p = await matmul(d, { M: 33, N: 65, K: 17 });
      const tile = candidateTiles(d)[0]!;
      expect(p.workgroups[0]).toBe(Math.ceil(65 / (tile.cols * tile.wgX)));
      expect(tuningReport(d)).toEqual([]);
      expect(lines).toEqual([]);
    } finally {
      setAutotune(d, 'off');
    }
  });

  it('on a software adapter keeps the per-step recurrence without compiling or timing the fused one, unless forced', async () => {
    const d = device!;
    if (adapterClass(d) !== 'cpu') return; // on a GPU both are timed (the test above covers timing)
    setAutotune(d, 'measure');
    try {
      const p = rnnParams(9, 5, 3, 65, 21);
      const out = await rnnForward(d, p);
      expectClose('forward (tuned on a CPU adapter)', out.state, rnnForwardRef(p).state, [9, 65], 1e-5, 1e-4);
      expect(tuningReport(d).map((c) => c.kernel).filter((k) => k.startsWith('rnn.recurrence'))).toEqual([]);
    } finally {
      setAutotune(d, 'off');
      await releaseRnnCache(d);
    }
  });
});

describe('adapter classes', () => {
  const info = (vendor: string, architecture: string, description = '', isFallbackAdapter = false) =>
    ({ vendor, architecture, description, device: '', isFallbackAdapter }) as unknown as GPUAdapterInfo;
  it('software adapters are CPUs; hardware ones are GPUs', () => {
    expect(classify(info('mesa', 'software', 'llvmpipe: Mesa 25.0.7'))).toBe('cpu');
    expect(classify(info('google', 'swiftshader'))).toBe('cpu');
    expect(classify(info('google', '', '', true))).toBe('cpu');
    expect(classify(info('nvidia', '', 'NVIDIA: 580.159.04'))).toBe('gpu');
    expect(classify(info('apple', 'metal-3'))).toBe('gpu');
    expect(CPU_TILES.every((t) => TILES.includes(t))).toBe(true); // so every tile a CPU adapter may pick is tested above
  });
});
