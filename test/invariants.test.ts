// What must keep holding through the fault work of issue 10: non-finite inputs propagate as the float64 reference
// says, long runs and many models and many functional calls leave the live GPU buffer count flat, and the same seed
// gives byte-identical checkpoints. Tiny sizes: what is checked is bookkeeping, not arithmetic at scale.
import { describe, expect, it } from 'vitest';
import { ImageDataset, liveBufferCount, releaseRnnCache, rnnForward, SequenceClassifier, type RnnParams } from '../src/node/index.js';
import { rnnForwardRef } from '../src/reference/index.js';
import { rng, testDevice } from './helpers.js';

const device = await testDevice();
const [T, I, H, C, N] = [3, 4, 5, 3, 12];

function tinyData(d: GPUDevice): Promise<ImageDataset> {
  const pixels = Uint8Array.from({ length: N * T * I }, (_, i) => (i * 53) % 256);
  const labels = Uint8Array.from({ length: N }, (_, i) => i % C);
  return ImageDataset.create(d, 'tiny', { count: N, rows: T, cols: I, pixels }, { count: N, labels }, C);
}

/** Lets buffers destroyed in promise callbacks (evicted plans) be counted. */
const settle = () => new Promise((done) => setTimeout(done, 20));

describe.skipIf(!device)('what must keep holding', () => {
  const d = device!;

  it('NaN and Infinity in the inputs propagate where the float64 reference has them, and nowhere else', async () => {
    const r = rng(31);
    const [B, steps] = [4, 3];
    const x = r.floats(B * steps * I);
    x[0 * steps * I + 1 * I + 2] = NaN;       // sequence 0, step 1
    x[2 * steps * I + 0 * I + 0] = Infinity;  // sequence 2, step 0
    const p: RnnParams = {
      batch: B, steps, inputs: I, units: H, x, wx: r.floats(I * H, -0.5, 0.5), wh: r.floats(H * H, -0.4, 0.4), b: r.floats(H, -0.1, 0.1),
      lengths: Int32Array.from([3, 3, 3, 1]),
    };
    const { outputs, state } = await rnnForward(d, p);
    const want = rnnForwardRef(p);
    for (const [name, got, ref] of [['outputs', outputs, want.outputs], ['state', state, want.state]] as const) {
      let nans = 0;
      for (let i = 0; i < ref.length; i++) {
        if (Number.isNaN(ref[i]!)) {
          nans++;
          expect(Number.isNaN(got[i]!), `${name}[${i}] is NaN in the reference`).toBe(true);
        } else {
          expect(Math.abs(got[i]! - ref[i]!), `${name}[${i}]: ${got[i]} against ${ref[i]}`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(ref[i]!));
        }
      }
      expect(nans, `${name}: the NaN reaches later steps through Wh`).toBeGreaterThan(0);
    }
    // Sequence 2's Infinity saturates tanh instead of making NaN (the reference agrees: checked above); sequence 1
    // and 3 never see a non-finite value.
    expect([...state.subarray(1 * H, 2 * H), ...state.subarray(3 * H, 4 * H)].every(Number.isFinite)).toBe(true);
  });

  it('2000 training steps leave the live GPU buffers flat', async () => {
    const data = await tinyData(d);
    const model = new SequenceClassifier(d, { steps: T, inputs: I, units: H, classes: C, seed: 5 });
    try {
      await model.trainSteps(data, { steps: 1, batchSize: 4 });
      await settle();
      const live = liveBufferCount();
      await model.trainSteps(data, { steps: 999, batchSize: 4, readBack: false });
      await model.fit(data, { epochs: 1000, batchSize: 4, progressEvery: 50 }); // 3 steps an epoch
      await settle();
      expect(model.step).toBe(1 + 999 + 3000);
      expect(liveBufferCount()).toBe(live);
    } finally {
      model.destroy();
      data.destroy();
    }
  }, 120_000);

  it('50 models created, trained a step, saved and destroyed leave no buffer behind', async () => {
    const data = await tinyData(d);
    try {
      const before = liveBufferCount();
      for (let i = 0; i < 50; i++) {
        const model = new SequenceClassifier(d, { steps: T, inputs: I, units: H, classes: C, seed: i });
        await model.trainSteps(data, { steps: 1, batchSize: 2 + (i % 3) });
        expect(model.save().length).toBeGreaterThan(0);
        model.destroy();
      }
      await settle();
      expect(liveBufferCount()).toBe(before);
    } finally {
      data.destroy();
    }
  }, 120_000);

  it('300 functional calls over 30 shapes leave the live GPU buffers where the shape cache holds them', async () => {
    const shapes = Array.from({ length: 30 }, (_, k) => ({ batch: 1 + (k % 6), steps: 1 + Math.floor(k / 6), inputs: 2, units: 3 }));
    const r = rng(7);
    const call = (k: number) => {
      const s = shapes[k % shapes.length]!;
      return rnnForward(d, { ...s, x: r.floats(s.batch * s.steps * s.inputs), wx: r.floats(s.inputs * s.units), wh: r.floats(s.units * s.units), b: r.floats(s.units) });
    };
    await releaseRnnCache(d);
    await settle();
    const empty = liveBufferCount();
    for (let k = 0; k < 30; k++) await call(k);
    await settle();
    const full = liveBufferCount(); // the cache's few most recent shapes
    expect(full).toBeGreaterThan(empty);
    for (let k = 30; k < 300; k++) await call(k);
    await settle();
    expect(liveBufferCount()).toBe(full);
    await releaseRnnCache(d);
    await settle();
    expect(liveBufferCount()).toBe(empty);
  }, 240_000);

  it('concurrent calls on one model run one after another in call order (the same results as awaiting each)', async () => {
    const data = await tinyData(d);
    const a = new SequenceClassifier(d, { steps: T, inputs: I, units: H, classes: C, seed: 8 });
    const b = new SequenceClassifier(d, { steps: T, inputs: I, units: H, classes: C, seed: 8 });
    try {
      const [, fromA] = await Promise.all([a.trainSteps(data, { steps: 2, batchSize: 4 }), a.evaluate(data), a.predict(new Float32Array(T * I))]);
      await b.trainSteps(data, { steps: 2, batchSize: 4 });
      expect(fromA).toEqual(await b.evaluate(data));
      // A model destroyed while a call waits refuses that call when its turn comes.
      const waiting = Promise.all([a.trainSteps(data, { steps: 1, batchSize: 4 }), a.evaluate(data)]);
      a.destroy();
      await expect(waiting).rejects.toThrow(/model: expected a live SequenceClassifier/);
    } finally {
      a.destroy();
      b.destroy();
      data.destroy();
    }
  });

  it('the same seed gives byte-identical checkpoints', async () => {
    const data = await tinyData(d);
    try {
      const run = async () => {
        const model = new SequenceClassifier(d, { steps: T, inputs: I, units: H, classes: C, seed: 2 ** 40 + 3 });
        await model.fit(data, { epochs: 2, batchSize: 4 });
        const bytes = model.save();
        model.destroy();
        return bytes;
      };
      const [a, b] = [await run(), await run()];
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    } finally {
      data.destroy();
    }
  });
});
