// The README's layers examples, one per shape of problem, on synthetic data, as written there (smaller): each trains
// and its loss falls. If this file changes, the README's "Layers" section changes with it.
import { describe, expect, it } from 'vitest';
import { layers, Sequential, SequenceDataset } from '../src/node/index.js';
import { testDevice } from './helpers.js';

const device = await testDevice();

describe.skipIf(!device)("the README's layers examples", () => {
  const d = device!;

  it('sequence to vector: is the sum of a sequence positive? (two stacked layers, a class per sequence)', async () => {
    const n = 64, steps = 8;
    const x = Float32Array.from({ length: n * steps }, (_, i) => Math.sin(i * 1.7) + Math.cos(i * 0.3));
    const y = Int32Array.from({ length: n }, (_, s) => (x.subarray(s * steps, (s + 1) * steps).reduce((a, b) => a + b, 0) > 0 ? 1 : 0));
    const data = await SequenceDataset.fromArrays(d, { x, y, steps, inputs: 1, classes: 2 });
    const model = new Sequential(d, {
      inputs: 1,
      layers: [layers.rnn({ units: 16, returnSequences: true }), layers.rnn({ units: 16 }), layers.dense({ units: 2 })],
      loss: 'softmax-cross-entropy',
      optimizer: { learningRate: 0.01, clipNorm: 1 },
    });
    const before = await model.evaluate(data);
    await model.fit(data, { epochs: 20, batchSize: 16 });
    const after = await model.evaluate(data);
    console.info(`loss ${before.loss.toFixed(4)} -> ${after.loss.toFixed(4)}${after.accuracy === undefined ? "" : `, accuracy ${after.accuracy.toFixed(3)}`}`);
    expect(after.loss).toBeLessThan(before.loss * 0.7);
    expect(after.accuracy).toBeGreaterThan(0.75);
    model.destroy();
    data.destroy();
  }, 120_000);

  it('sequence to sequence: the next value of a wave at every step, variable lengths (MSE per step)', async () => {
    const n = 32, steps = 10;
    const wave = (s: number, t: number) => Math.sin(0.5 * t + s);
    const x = Float32Array.from({ length: n * steps }, (_, i) => wave(Math.floor(i / steps), i % steps));
    const y = Float32Array.from({ length: n * steps }, (_, i) => wave(Math.floor(i / steps), (i % steps) + 1));
    const lengths = Int32Array.from({ length: n }, (_, s) => 5 + (s % 6)); // 5 to 10 valid steps
    const data = await SequenceDataset.fromArrays(d, { x, y, lengths, steps, inputs: 1, outputs: 1 });
    const model = new Sequential(d, {
      inputs: 1, layers: [layers.rnn({ units: 16, returnSequences: true }), layers.dense({ units: 1 })], loss: 'mse',
      optimizer: { learningRate: 0.01 },
    });
    const before = await model.evaluate(data);
    await model.fit(data, { epochs: 30, batchSize: 8 });
    const after = await model.evaluate(data);
    console.info(`loss ${before.loss.toFixed(4)} -> ${after.loss.toFixed(4)}${after.accuracy === undefined ? "" : `, accuracy ${after.accuracy.toFixed(3)}`}`);
    expect(after.loss).toBeLessThan(before.loss * 0.3);
    const next = await model.predict(x.subarray(0, steps), { steps }); // [1, steps, 1]
    expect(next).toHaveLength(steps);
    model.destroy();
    data.destroy();
  }, 120_000);

  it('vector to sequence: a frequency in, its wave out (repeat, MSE per step)', async () => {
    const n = 32, steps = 8;
    const freq = Float32Array.from({ length: n }, (_, s) => 0.2 + (0.6 * s) / n);
    const y = Float32Array.from({ length: n * steps }, (_, i) => Math.sin(freq[Math.floor(i / steps)]! * (i % steps)));
    const data = await SequenceDataset.fromArrays(d, { x: freq, y, steps, inputs: 1, outputs: 1, vector: true });
    const model = new Sequential(d, {
      inputs: 1, layers: [layers.repeat({ steps }), layers.rnn({ units: 16, returnSequences: true }), layers.dense({ units: 1 })],
      loss: 'mse', optimizer: { learningRate: 0.01 },
    });
    const before = await model.evaluate(data);
    await model.fit(data, { epochs: 30, batchSize: 8 });
    const after = await model.evaluate(data);
    console.info(`loss ${before.loss.toFixed(4)} -> ${after.loss.toFixed(4)}${after.accuracy === undefined ? "" : `, accuracy ${after.accuracy.toFixed(3)}`}`);
    expect(after.loss).toBeLessThan(before.loss * 0.5);
    model.destroy();
    data.destroy();
  }, 120_000);
});
