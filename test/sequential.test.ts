// Sequential on the GPU against the float64 model of the same stack (src/reference/sequential.ts): the loss, the
// gradients of every parameter (also against central differences, through the gradcheck harness), and 3 Adam steps,
// for the three shapes of problem, stacks of 1 to 3 tanh layers with returnSequences on and off, per-step softmax
// cross-entropy and MSE with mixed lengths (1, T and between). Tiny sizes.
import { describe, expect, it } from 'vitest';
import { liveBufferCount, Sequential, SequenceDataset, layers, type SequentialConfig } from '../src/node/index.js';
import type { Batch } from '../src/model/batch.js';
import { gradcheck, describeEntry } from '../src/reference/gradcheck.js';
import { initialWeights } from '../src/model/init.js';
import { backwardRef, forwardRef } from '../src/reference/sequential.js';
import { trainStepsRef } from '../src/reference/train.js';
import { expectClose, rejectedInput, testDevice } from './helpers.js';
import { randomBatch } from './sequential-batches.js';

const device = await testDevice();
const { rnn, dense, repeat } = layers;
const xent = 'softmax-cross-entropy' as const;

/** The batch on the GPU, as SequenceDataset.fromArrays takes it. */
function upload(d: GPUDevice, config: SequentialConfig, b: Batch, steps: number): Promise<SequenceDataset> {
  const last = (config.layers.at(-1) as { units: number }).units;
  return SequenceDataset.fromArrays(d, {
    x: Float32Array.from(b.x), steps, inputs: config.inputs, vector: config.layers[0]!.type === 'repeat',
    y: config.loss === xent ? Int32Array.from(b.y) : Float32Array.from(b.y),
    ...(config.loss === xent ? { classes: last } : { outputs: last }),
    ...(b.lengths ? { lengths: Int32Array.from(b.lengths) } : {}),
  });
}

const T = 4, N = 5;
const LENGTHS = [1, 4, 2, 3, 4];
const cases: Array<[string, SequentialConfig]> = [
  ['sequence to vector: rnn, dense, cross-entropy', { inputs: 3, layers: [rnn({ units: 5 }), dense({ units: 3 })], loss: xent, seed: 2 }],
  ['stacked: rnn (sequences), rnn, dense', { inputs: 3, layers: [rnn({ units: 4, returnSequences: true }), rnn({ units: 5 }), dense({ units: 3 })], loss: xent, seed: 3 }],
  ['3 layers, sequence to sequence: rnn, rnn, rnn (sequences), dense per step, cross-entropy per step',
    { inputs: 2, layers: [rnn({ units: 4, returnSequences: true }), rnn({ units: 3, returnSequences: true }), rnn({ units: 5, returnSequences: true }), dense({ units: 3 })], loss: xent, seed: 4 }],
  ['sequence to sequence, MSE per step', { inputs: 3, layers: [rnn({ units: 5, returnSequences: true }), dense({ units: 2 })], loss: 'mse', seed: 5 }],
  ['sequence to vector, MSE', { inputs: 3, layers: [rnn({ units: 5 }), dense({ units: 2 })], loss: 'mse', seed: 6 }],
  ['dense between recurrent layers', { inputs: 3, layers: [rnn({ units: 4, returnSequences: true }), dense({ units: 3 }), rnn({ units: 4 }), dense({ units: 2 })], loss: xent, seed: 7 }],
  ['vector to sequence: repeat, rnn (sequences), dense per step, MSE', { inputs: 3, layers: [repeat({ steps: T }), rnn({ units: 5, returnSequences: true }), dense({ units: 2 })], loss: 'mse', seed: 8 }],
];

describe.skipIf(!device)('Sequential on the GPU against the float64 reference', () => {
  const d = device!;
  for (const [name, config] of cases) {
    it(name, async () => {
      const batch = randomBatch(config, { n: N, steps: T, lengths: LENGTHS, seed: 11 });
      const data = await upload(d, config, batch, T);
      const model = new Sequential(d, config);
      try {
        const weights = model.weights();
        expect(Object.keys(weights)).toEqual(Object.keys(initialWeights(config)));
        // The loss of the batch.
        const want = forwardRef(config, weights, batch);
        const got = await model.evaluate(data, { batchSize: N });
        expect(Math.abs(got.loss - want.loss), `loss ${got.loss} against ${want.loss}`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(want.loss));
        if (want.accuracy !== undefined) expect(got.accuracy).toBeCloseTo(want.accuracy, 6);
        // Every gradient, against the float64 backward and against central differences of the float64 loss.
        const grads = await model.gradients(data, { batchSize: N });
        const ref = backwardRef(config, weights, batch).grads;
        for (const [k, t] of Object.entries(ref)) expectClose(`d${k}`, grads[k]!.data, t.data, t.shape, 2e-6, 2e-4);
        const check = gradcheck(config, weights, batch, { analytic: Object.fromEntries(Object.entries(grads).map(([k, t]) => [k, t.data])), floor: 1e-3 });
        expect(check.worst.error, describeEntry(check.worst)).toBeLessThan(1e-3);
        // 3 Adam steps on the same batch.
        await model.trainSteps(data, { steps: 3, batchSize: N });
        const after = trainStepsRef(config, weights, undefined, [batch, batch, batch]).weights;
        const now = model.weights();
        for (const [k, t] of Object.entries(after)) expectClose(`${k} after 3 steps`, now[k]!.data, t.data, t.shape, 1e-5, 1e-3);
        expect(model.step).toBe(3);
      } finally {
        model.destroy();
        data.destroy();
      }
    }, 120_000);
  }

  it('a dense layer at every step over more than 2048 rows takes its gradients in K-slices, as the reference says', async () => {
    const c: SequentialConfig = { inputs: 3, layers: [rnn({ units: 5, returnSequences: true }), dense({ units: 2 })], loss: 'mse', seed: 17 };
    const n = 600; // T * n = 2400 rows: the split-K candidates cut them in slices
    const batch = randomBatch(c, { n, steps: T, lengths: Array.from({ length: n }, (_, i) => 1 + (i % T)), seed: 18 });
    const data = await upload(d, c, batch, T);
    const model = new Sequential(d, c);
    try {
      const grads = await model.gradients(data, { batchSize: n });
      const ref = backwardRef(c, model.weights(), batch).grads;
      for (const [k, t] of Object.entries(ref)) expectClose(`d${k}`, grads[k]!.data, t.data, t.shape, 2e-6, 2e-4);
    } finally {
      model.destroy();
      data.destroy();
    }
  }, 120_000);

  it('bad input is refused before any GPU work: wrong data for the model, weights of the wrong shape', async () => {
    const config = cases[0]![1];
    const model = new Sequential(d, config);
    const other = await upload(d, cases[3]![1], randomBatch(cases[3]![1], { n: N, steps: T, seed: 1 }), T);
    try {
      const e1 = await rejectedInput(() => model.evaluate(other));
      expect(e1.field).toBe('data');
      const w = model.weights();
      w['layers.0.wh'] = { shape: [5, 4], data: new Float32Array(20) };
      const e2 = await rejectedInput(() => model.setWeights(w));
      expect(e2.message).toMatch(/layers\.0\.wh/);
      const e3 = await rejectedInput(() => new Sequential(d, { inputs: 3, layers: [rnn({ units: 4 }), rnn({ units: 4 }), dense({ units: 2 })], loss: xent }));
      expect(e3.field).toMatch(/^layers\.1/);
    } finally {
      model.destroy();
      other.destroy();
    }
  });
});

describe.skipIf(!device)('Sequential: clipping, fit, predict, checkpoints', () => {
  const d = device!;
  const config: SequentialConfig = { inputs: 3, layers: [rnn({ units: 4, returnSequences: true }), rnn({ units: 5 }), dense({ units: 3 })], loss: xent, seed: 9 };

  it('clipNorm: 3 clipped Adam steps match the float64 reference, and fit reports the norm before clipping', async () => {
    const clipped: SequentialConfig = { ...config, optimizer: { learningRate: 0.01, epsilon: 0.01, clipNorm: 0.05 } };
    const batch = randomBatch(clipped, { n: N, steps: T, lengths: LENGTHS, seed: 12 });
    const data = await upload(d, clipped, batch, T);
    const model = new Sequential(d, clipped);
    try {
      const weights = model.weights();
      const ref = trainStepsRef(clipped, weights, undefined, [batch, batch, batch]);
      expect(ref.steps.every((s) => s.norm > 0.05), 'every step is clipped').toBe(true);
      const unclipped = trainStepsRef({ ...clipped, optimizer: { learningRate: 0.01, epsilon: 0.01 } }, weights, undefined, [batch, batch, batch]);
      await model.trainSteps(data, { steps: 3, batchSize: N });
      const now = model.weights();
      for (const [k, t] of Object.entries(ref.weights)) expectClose(`${k} after 3 clipped steps`, now[k]!.data, t.data, t.shape, 1e-5, 1e-3);
      // ... and a missed clip would show: the unclipped reference is far from what the GPU computed.
      const far = Object.entries(unclipped.weights).some(([k, t]) => t.data.some((v, i) => Math.abs(v - now[k]!.data[i]!) > 1e-3));
      expect(far).toBe(true);
      const reports: Array<{ gradNorm?: number }> = [];
      await model.fit(data, { epochs: 1, batchSize: N, shuffle: false, onProgress: (p) => reports.push(p) });
      expect(reports).toHaveLength(1);
      expect(reports[0]!.gradNorm).toBeGreaterThan(0);
    } finally {
      model.destroy();
      data.destroy();
    }
  }, 120_000);

  it('fit: progress each chunk, the loss falls, and 2 epochs equal trainSteps over the same shuffled orders bit for bit', async () => {
    const n = 12;
    const batch = randomBatch(config, { n, steps: T, lengths: [1, 2, 3, 4, 4, 3, 2, 1, 4, 4, 2, 3], seed: 13 });
    const data = await upload(d, config, batch, T);
    const a = new Sequential(d, { ...config, optimizer: { learningRate: 0.02 } });
    const b = new Sequential(d, { ...config, optimizer: { learningRate: 0.02 } });
    try {
      const before = (await a.evaluate(data)).loss;
      const reports: Array<{ epoch: number; step: number; loss: number; accuracy?: number; seqPerSec: number }> = [];
      await a.fit(data, { epochs: 30, batchSize: 4, progressEvery: 3, onProgress: (p) => reports.push(p) });
      expect(reports).toHaveLength(30);
      expect(reports.at(-1)).toMatchObject({ epoch: 30, step: 3 });
      expect(reports.every((r) => Number.isFinite(r.loss) && r.seqPerSec > 0 && r.accuracy! >= 0 && r.accuracy! <= 1)).toBe(true);
      const after = (await a.evaluate(data)).loss;
      expect(after, `loss ${before} -> ${after}`).toBeLessThan(before * 0.8);
      await b.trainSteps(data, { steps: 90, batchSize: 4, shuffle: true });
      expect(Buffer.from(b.save()).equals(Buffer.from(a.save()))).toBe(true);
    } finally {
      a.destroy();
      b.destroy();
      data.destroy();
    }
  }, 120_000);

  for (const [name, c] of [cases[0]!, cases[3]!, cases[6]!]) {
    it(`predict: ${name}, batch-major, zero past each length, as the float64 model`, async () => {
      const batch = randomBatch(c, { n: N, steps: T, lengths: LENGTHS, seed: 14 });
      const live = liveBufferCount();
      const model = new Sequential(d, c);
      try {
        const got = await model.predict(Float32Array.from(batch.x), { steps: T, lengths: Int32Array.from(LENGTHS), batchSize: 3 });
        const want = forwardRef(c, model.weights(), batch).predictions;
        expectClose('predictions', got, want, [want.length], 1e-5, 1e-4);
        // The model keeps one input slot and its plan between calls: a second call makes no buffer.
        const kept = liveBufferCount();
        expect(await model.predict(Float32Array.from(batch.x), { steps: T, lengths: Int32Array.from(LENGTHS), batchSize: 3 })).toEqual(got);
        expect(liveBufferCount(), 'the second predict reuses the first one\'s buffers').toBe(kept);
        model.destroy();
        await new Promise((resolve) => setTimeout(resolve, 0)); // plans are freed once their promises settle
        expect(liveBufferCount(), 'destroy() frees the model, its input slot and its plans').toBe(live);
      } finally {
        model.destroy();
      }
    }, 120_000);
  }

  it('concurrent calls run one after another in call order', async () => {
    const batch = randomBatch(config, { n: N, steps: T, lengths: LENGTHS, seed: 16 });
    const data = await upload(d, config, batch, T);
    const a = new Sequential(d, config), b = new Sequential(d, config);
    try {
      const [, fromA] = await Promise.all([a.trainSteps(data, { steps: 2, batchSize: N }), a.evaluate(data)]);
      await b.trainSteps(data, { steps: 2, batchSize: N });
      expect(fromA).toEqual(await b.evaluate(data));
    } finally {
      a.destroy();
      b.destroy();
      data.destroy();
    }
  }, 120_000);

  it('save / load: the same weights, Adam state and step; training goes on identically; a damaged one is refused', async () => {
    const batch = randomBatch(config, { n: N, steps: T, lengths: LENGTHS, seed: 15 });
    const data = await upload(d, config, batch, T);
    const a = new Sequential(d, config);
    let b: Sequential | undefined;
    try {
      await a.trainSteps(data, { steps: 2, batchSize: N });
      b = Sequential.load(d, a.save());
      expect(b.step).toBe(2);
      expect(Buffer.from(b.save()).equals(Buffer.from(a.save()))).toBe(true);
      await a.trainSteps(data, { steps: 2, batchSize: N });
      await b.trainSteps(data, { steps: 2, batchSize: N });
      expect(Buffer.from(b.save()).equals(Buffer.from(a.save()))).toBe(true);
      const damaged = Buffer.from(a.save());
      const at = damaged.indexOf('webgpu-rnn/sequential');
      expect(at).toBeGreaterThan(0);
      damaged[at + 11] = 'X'.charCodeAt(0); // format 'webgpu-rnn/Xequential'
      const e = await rejectedInput(() => Sequential.load(d, damaged));
      expect(e.message).toMatch(/a webgpu-rnn Sequential checkpoint/);
    } finally {
      a.destroy();
      b?.destroy();
      data.destroy();
    }
  }, 120_000);
});
