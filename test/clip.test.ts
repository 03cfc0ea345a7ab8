// Gradient clipping by global norm (shaders/clip.wgsl) against the float64 reference (clipByGlobalNormRef), alone,
// inside Adam, and inside the classifier's training step (FitOptions.clipNorm).
//
// No central-difference check here: clipping is applied to gradients after backpropagation and is never itself
// differentiated; what it must get right is a reduction and a scale, which are compared with float64 directly.
import { afterAll, describe, expect, it } from 'vitest';
import { adam, ADAM_CONFIG_BYTES, ADAM_SCHEDULE_BYTES, adamConfigBytes, BufferSet, CLIP_CONFIG_BYTES, CLIP_STATE_BYTES, clipByGlobalNorm, clipConfigBytes, readFloats, SequenceClassifier, type Progress } from '../src/node/index.js';
import { adamRef, clipByGlobalNormRef, matmulRef, rnnBackwardRef, rnnForwardRef, softmaxXentRef } from '../src/reference/index.js';
import { expectClose, randomImages, rejectedInput, rng, run, testDevice, upload } from './helpers.js';

const device = await testDevice();

/** Clipping on the GPU: the norm before clipping and the gradients after, read back. */
async function clipOnGpu(d: GPUDevice, grads: Float32Array, clipNorm: number): Promise<{ norm: number; factor: number; grads: Float32Array }> {
  const P = grads.length;
  const set = new BufferSet(d, 'test');
  try {
    const k = await clipByGlobalNorm(d, P);
    const g = upload(set, grads, 'grads'), partials = set.create('partials', k.partials * 4), clip = set.create('clip', CLIP_STATE_BYTES);
    const config = set.create('config', CLIP_CONFIG_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    d.queue.writeBuffer(config, 0, clipConfigBytes(clipNorm));
    run(d, [k.partial, k.partial.bind(g, partials)], [k.finish, k.finish.bind(config, partials, clip)], [k.scale, k.scale.bind(clip, g)]);
    const [[norm, factor], out] = await Promise.all([readFloats(d, clip, 0, 2), readFloats(d, g, 0, P)]);
    return { norm: norm!, factor: factor!, grads: out };
  } finally {
    set.destroy();
  }
}

const sameBits = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe.skipIf(!device)('clipByGlobalNorm: the norm', () => {
  // One workgroup of normPartial covers 4,096 gradients; 100,000 needs 25 partials, 1,048,577 needs 257 (two per
  // invocation of normFinish).
  for (const P of [1, 255, 256, 257, 100_000, 1_048_577]) {
    it(`P = ${P}: the norm matches float64, gradients of mixed scale`, async () => {
      const r = rng(P);
      const grads = r.floats(P).map((x, i) => (i % 7 === 0 ? x * 1e-4 : x * 3));
      const ref = clipByGlobalNormRef([grads], Infinity);
      const gpu = await clipOnGpu(device!, grads, 1e30);
      // Squares >= 0: at most ~40 f32 additions on any path (see the shader), a bound of 40 * 2^-24 = 2.4e-6 relative.
      const rel = Math.abs(gpu.norm - ref.norm) / ref.norm;
      console.info(`P ${P}: norm ${ref.norm.toPrecision(8)}, relative error of the GPU's ${rel.toExponential(2)}`);
      expect(rel).toBeLessThan(2.4e-6);
    });
  }

  it('a plain sequential f32 sum over P = 1,048,577 would be far worse (why the two-stage reduction)', () => {
    const grads = rng(1_048_577).floats(1_048_577).map((x, i) => (i % 7 === 0 ? x * 1e-4 : x * 3));
    const ref = clipByGlobalNormRef([grads], Infinity).norm;
    let sum = Math.fround(0);
    for (const g of grads) sum = Math.fround(sum + Math.fround(g * g));
    expect(Math.abs(Math.sqrt(sum) - ref) / ref).toBeGreaterThan(1e-5);
  });
});

describe.skipIf(!device)('clipByGlobalNorm: the scale', () => {
  const P = 1000;
  const grads = rng(11).floats(P);
  const norm = clipByGlobalNormRef([grads], Infinity).norm; // about 18

  it('below the threshold the gradients are unchanged bit for bit (factor exactly 1)', async () => {
    const gpu = await clipOnGpu(device!, grads, norm * 1.01);
    expect(gpu.factor).toBe(1);
    expect(sameBits(gpu.grads, grads)).toBe(true);
  });

  it('above it they are scaled to norm clipNorm, as the float64 reference scales them', async () => {
    const clipNorm = 0.5;
    const gpu = await clipOnGpu(device!, grads, clipNorm);
    const ref = clipByGlobalNormRef([grads], clipNorm);
    expectClose('clipped grads', gpu.grads, ref.grads[0]!, [P], 1e-9, 1e-6);
    const after = clipByGlobalNormRef([gpu.grads], Infinity).norm;
    expect(Math.abs(after - clipNorm)).toBeLessThan(1e-6);
  });

  it('all-zero gradients stay zero, with norm 0 and no NaN', async () => {
    const zeros = new Float32Array(P);
    const gpu = await clipOnGpu(device!, zeros, 1);
    expect(gpu.norm).toBe(0);
    expect(gpu.factor).toBe(1);
    expect(Array.from(gpu.grads).every((x) => x === 0 && !Object.is(x, -0))).toBe(true);
  });

  it('a NaN gradient gives a NaN norm and, as PyTorch (error_if_nonfinite=False), NaN gradients everywhere', async () => {
    const bad = grads.slice();
    bad[123] = NaN;
    const gpu = await clipOnGpu(device!, bad, 1);
    const ref = clipByGlobalNormRef([bad], 1);
    expect(gpu.norm).toBeNaN();
    expect(ref.norm).toBeNaN();
    expect(Array.from(gpu.grads).every(Number.isNaN)).toBe(true);
    expect(Array.from(ref.grads[0]!).every(Number.isNaN)).toBe(true);
  });

  it('an infinite gradient gives norm +Infinity: the finite gradients become 0, the infinite one NaN (as PyTorch)', async () => {
    const bad = grads.slice();
    bad[5] = -Infinity;
    const gpu = await clipOnGpu(device!, bad, 1);
    const ref = clipByGlobalNormRef([bad], 1);
    expect(gpu.norm).toBe(Infinity);
    expect(ref.norm).toBe(Infinity);
    expect(gpu.grads[5]).toBeNaN();
    expect(Array.from(gpu.grads).filter((_, i) => i !== 5).every((x) => x === 0)).toBe(true);
    expectClose('reference', gpu.grads.filter((_, i) => i !== 5), ref.grads[0]!.filter((_, i) => i !== 5), [P - 1], 0, 0);
  });
});

describe.skipIf(!device)('Adam with clipping', () => {
  it('3 steps of clip + Adam on the GPU match adamRef with clipNorm (params, m, v, norms)', async () => {
    const d = device!;
    const P = 5000;
    // A large epsilon makes Adam's step depend on the gradients' scale, so that a missed clip would show.
    const cfg = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 0.1, clipNorm: 2 };
    const r = rng(29);
    const p0 = r.floats(P);
    const set = new BufferSet(d, 'test');
    try {
      const config = set.create('config', ADAM_CONFIG_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
      d.queue.writeBuffer(config, 0, adamConfigBytes(cfg));
      const clipConfig = set.create('clipConfig', CLIP_CONFIG_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
      d.queue.writeBuffer(clipConfig, 0, clipConfigBytes(cfg.clipNorm));
      const schedule = set.create('schedule', ADAM_SCHEDULE_BYTES), params = upload(set, p0), m = set.create('m', P * 4), v = set.create('v', P * 4), grads = set.create('grads', P * 4);
      const [a, c] = await Promise.all([adam(d, P), clipByGlobalNorm(d, P)]);
      const partials = set.create('partials', c.partials * 4), clip = set.create('clip', CLIP_STATE_BYTES);
      const work = [
        [c.partial, c.partial.bind(grads, partials)], [c.finish, c.finish.bind(clipConfig, partials, clip)], [c.scale, c.scale.bind(clip, grads)],
        [a.begin, a.begin.bind(config, schedule)], [a.update, a.update.bind(config, schedule, grads, params, m, v)],
      ] as const;
      const ref = { p: Float64Array.from(p0), m: new Float64Array(P), v: new Float64Array(P) };
      const unclipped = { p: Float64Array.from(p0), m: new Float64Array(P), v: new Float64Array(P) };
      // Norms about 4, 0.4 (not clipped) and 40.
      for (const [t, scale] of [[1, 0.1], [2, 0.01], [3, 1]] as const) {
        const g = r.floats(P).map((x) => x * scale);
        d.queue.writeBuffer(grads, 0, g);
        run(d, ...work.map(([p, group]) => [p, group] as [typeof p, GPUBindGroup]));
        const norm = adamRef(ref.p, ref.m, ref.v, g, t, cfg)!;
        adamRef(unclipped.p, unclipped.m, unclipped.v, g, t, { ...cfg, clipNorm: undefined });
        const [gpuNorm] = await readFloats(d, clip, 0, 1);
        expect(Math.abs(gpuNorm! - norm) / norm, `step ${t}: norm ${norm}`).toBeLessThan(2e-6);
      }
      const [gp, gm, gv] = await Promise.all([readFloats(d, params, 0, P), readFloats(d, m, 0, P), readFloats(d, v, 0, P)]);
      expectClose('params', gp, ref.p, [P], 1e-6, 1e-5);
      expectClose('m', gm, ref.m, [P], 1e-8, 1e-5);
      expectClose('v', gv, ref.v, [P], 1e-10, 1e-5);
      // The check can tell: without clipping the parameters land far outside that tolerance.
      expect(() => expectClose('params (unclipped reference)', gp, unclipped.p, [P], 1e-6, 1e-5)).toThrow();
    } finally {
      set.destroy();
    }
  });
});

describe.skipIf(!device)('SequenceClassifier with clipNorm (12 images of 5 x 4, 3 classes, 6 units)', async () => {
  const d = device!;
  const N = 12, T = 5, I = 4, H = 6, C = 3;
  const { data, pixels, labels } = await randomImages(d, { count: N, rows: T, cols: I, classes: C }, 5);
  afterAll(() => data.destroy());
  const config = { steps: T, inputs: I, units: H, classes: C, seed: 3 };
  const names = ['rnn.wx', 'rnn.wh', 'rnn.b', 'dense.w', 'dense.b'] as const;
  // A large epsilon makes Adam's step follow the gradients' scale (with 1e-8 it would hardly see a clip).
  const adamCfg = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 0.01 };

  /** The whole-batch gradients of every parameter, flat in `names` order, at parameters `p` (float64). */
  function gradients(p: Record<(typeof names)[number], Float64Array>): Float64Array {
    const x = Float64Array.from(pixels, (b) => b / 255); // [N, T, I]
    const rnn = { x, wx: p['rnn.wx'], wh: p['rnn.wh'], b: p['rnn.b'], batch: N, steps: T, inputs: I, units: H };
    const { state } = rnnForwardRef(rnn);
    const logits = matmulRef(state, p['dense.w'], N, C, H, false, false, p['dense.b']);
    const { dlogits } = softmaxXentRef(logits, labels, N, C, 1 / N);
    const g = rnnBackwardRef(rnn, undefined, matmulRef(dlogits, p['dense.w'], N, H, C, false, true));
    const parts = [g.dwx, g.dwh, g.db, matmulRef(state, dlogits, H, C, N, true), matmulRef(new Float64Array(N).fill(1), dlogits, 1, C, N)];
    const flat = new Float64Array(parts.reduce((n, a) => n + a.length, 0));
    parts.reduce((at, a) => (flat.set(a, at), at + a.length), 0);
    return flat;
  }

  /** `steps` whole-batch Adam steps in float64 from the model's parameters, clipped at `clipNorm` when given. */
  function reference(model: SequenceClassifier, steps: number, clipNorm?: number) {
    const sizes = names.map((n) => model.parameter(n).length);
    const params = new Float64Array(sizes.reduce((a, b) => a + b, 0));
    names.reduce((at, n) => (params.set(model.parameter(n), at), at + model.parameter(n).length), 0);
    const m = new Float64Array(params.length), v = new Float64Array(params.length), norms: number[] = [];
    const view = (flat: Float64Array) => {
      let at = 0;
      return Object.fromEntries(names.map((n, i) => [n, flat.subarray(at, (at += sizes[i]!))])) as Record<(typeof names)[number], Float64Array>;
    };
    for (let t = 1; t <= steps; t++) {
      const g = gradients(view(params));
      norms.push(clipByGlobalNormRef([g], Infinity).norm);
      adamRef(params, m, v, g, t, { ...adamCfg, clipNorm });
    }
    return { params: view(params), norms };
  }

  const expectParams = (model: SequenceClassifier, want: Record<string, Float64Array>) => {
    for (const n of names) expectClose(n, model.parameter(n), want[n]!, [want[n]!.length], 2e-6, 1e-4);
  };

  it('fit: 3 clipped steps match the float64 reference, and gradNorm is each step\'s norm before clipping', async () => {
    const model = new SequenceClassifier(d, config);
    try {
      const unclipped = reference(model, 3);
      const clipNorm = unclipped.norms[0]! / 4;
      const want = reference(model, 3, clipNorm);
      expect(want.norms.every((n) => n > clipNorm * 1.5), `every step clipped: norms ${want.norms}, clipNorm ${clipNorm}`).toBe(true);
      const progress: Progress[] = [];
      await model.fit(data, { ...adamCfg, epochs: 3, batchSize: N, clipNorm, progressEvery: 1, onProgress: (p) => progress.push(p) });
      expectParams(model, want.params);
      expect(progress.map((p) => p.gradNorm)).toHaveLength(3);
      expectClose('gradNorm', progress.map((p) => p.gradNorm!), want.norms, [3], 1e-7, 1e-5);
      // The check can tell: Adam on the unclipped gradients lands outside that tolerance (400 to 1,400 times it, seen
      // here, where the GPU's parameters were within a thousandth of it).
      expect(() => expectParams(model, unclipped.params)).toThrow();
    } finally {
      model.destroy();
    }
  });

  it('trainSteps: 3 clipped steps match the same reference', async () => {
    const model = new SequenceClassifier(d, config);
    try {
      const clipNorm = reference(model, 1).norms[0]! / 4;
      const want = reference(model, 3, clipNorm);
      await model.trainSteps(data, { ...adamCfg, steps: 3, batchSize: N, clipNorm });
      expectParams(model, want.params);
    } finally {
      model.destroy();
    }
  });

  it('a clipNorm no gradient reaches changes nothing, bit for bit; without clipNorm gradNorm is undefined', async () => {
    const train = async (clipNorm?: number) => {
      const model = new SequenceClassifier(d, config);
      const progress: Progress[] = [];
      await model.fit(data, { epochs: 3, batchSize: N, learningRate: 0.01, clipNorm, progressEvery: 2, onProgress: (p) => progress.push(p) });
      const bytes = model.save();
      model.destroy();
      return { bytes, progress };
    };
    const plain = await train(), huge = await train(1e30);
    expect(Buffer.from(huge.bytes).equals(Buffer.from(plain.bytes))).toBe(true);
    expect(plain.progress.every((p) => !('gradNorm' in p))).toBe(true);
    expect(huge.progress.every((p) => p.gradNorm! > 0 && p.gradNorm! < 1e30)).toBe(true);
  });

  it('rejects a clipNorm that is not a positive finite number, naming it, before any GPU work', async () => {
    const model = new SequenceClassifier(d, config);
    try {
      for (const bad of [0, -1, NaN, Infinity, '1' as unknown as number, null as unknown as number]) {
        const fit = await rejectedInput(() => model.fit(data, { batchSize: N, clipNorm: bad }));
        expect(fit.message).toMatch(/^clipNorm: expected a positive finite number/);
        const steps = await rejectedInput(() => model.trainSteps(data, { steps: 1, batchSize: N, clipNorm: bad }));
        expect(steps.message).toMatch(/^clipNorm: expected a positive finite number/);
      }
      expect(model.step).toBe(0);
    } finally {
      model.destroy();
    }
  });
});
