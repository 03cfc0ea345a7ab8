// Stateful recurrent layers (config `stateful`, Keras's): two consecutive windows of T steps, the state carried from
// the first into the second, compute what one window of 2T computes, against the float64 reference of the 2T window
// (which knows nothing of windows): predict's outputs, evaluate's loss and each training step's loss, for tanh and
// LSTM at tiny sizes. resetStates, fit's epoch start and evaluate's start bring the state back to zeros.
import { describe, expect, it } from 'vitest';
import { layers, Sequential, SequenceDataset, type SequentialConfig } from '../src/node/index.js';
import { forwardRef } from '../src/reference/sequential.js';
import { setAutotune, tuningReport } from '../src/index.js';
import { Random } from '../src/random.js';
import { expectClose, rejectedInput, testDevice } from './helpers.js';

const device = await testDevice();
const xent = 'softmax-cross-entropy' as const;
const B = 2, T = 3, V = 4; // streams, steps per window, vocabulary (inputs and classes)

/** Token ids x and next-token targets y [B, 2T] per stream; the one-hot floats the reference reads. */
function streams(seed: number) {
  const r = new Random(seed);
  const x = Int32Array.from({ length: B * 2 * T }, () => Math.floor(r.next() * V));
  const y = Int32Array.from({ length: B * 2 * T }, () => Math.floor(r.next() * V));
  const oneHot = new Float64Array(B * 2 * T * V);
  x.forEach((id, i) => (oneHot[i * V + id] = 1));
  return { x, y, oneHot };
}

/** Window w of every stream [B, T] (of an array [B, 2T, width]). */
function window<A extends Int32Array | Float32Array | Float64Array>(a: A, w: number, width = 1): A {
  const out = new (a.constructor as new (n: number) => A)(B * T * width);
  for (let b = 0; b < B; b++) out.set(a.subarray((b * 2 * T + w * T) * width, (b * 2 * T + (w + 1) * T) * width), b * T * width);
  return out;
}

/** Mean cross-entropy of window w of the reference's 2T-step logits [B, 2T, V]. */
function windowLoss(logits: Float64Array, y: Int32Array, w: number): number {
  let sum = 0;
  for (let b = 0; b < B; b++) {
    for (let t = w * T; t < (w + 1) * T; t++) {
      const row = logits.subarray((b * 2 * T + t) * V, (b * 2 * T + t + 1) * V);
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
      sum += lse - row[y[b * 2 * T + t]!]!;
    }
  }
  return sum / (B * T);
}

describe.skipIf(!device)('stateful layers: two windows of T carry on as one of 2T', () => {
  const d = device!;
  for (const cell of ['tanh', 'lstm'] as const) {
    it(`${cell}: predict, evaluate and training steps against the float64 2T window; resetStates`, async () => {
      const config: SequentialConfig = {
        inputs: V, loss: xent, seed: 3, optimizer: { learningRate: 1e-12 }, // steps that leave the weights as they are
        layers: [layers.rnn({ units: 5, cell, returnSequences: true, stateful: true }), layers.dense({ units: V })],
      };
      const { x, y, oneHot } = streams(cell === 'tanh' ? 1 : 2);
      const model = new Sequential(d, config);
      // The data set in stream order: sequences 0..B-1 are window 0 of streams 0..B-1, then window 1.
      const data = await SequenceDataset.fromArrays(d, {
        x: Int32Array.from([...window(x, 0), ...window(x, 1)]), y: Int32Array.from([...window(y, 0), ...window(y, 1)]), steps: T, inputs: V, classes: V,
      });
      try {
        const weights = model.weights();
        const ref = forwardRef(config, weights, { n: B, steps: 2 * T, x: oneHot, y });
        const alone = forwardRef(config, weights, { n: B, steps: T, x: window(oneHot, 1, V), y: window(y, 1) });
        // Without the carried state the second window's loss would differ: the check below is not vacuous.
        expect(Math.abs(alone.loss - windowLoss(ref.outputs, y, 1))).toBeGreaterThan(1e-3);

        // predict: call after call, each batch goes on from the last; resetStates starts again from zeros.
        const first = await model.predict(window(x, 0), { steps: T });
        const second = await model.predict(window(x, 1), { steps: T });
        expectClose('predict window 0', first, window(ref.predictions, 0, V), [B, T, V], 1e-5, 1e-4);
        expectClose('predict window 1 (state carried)', second, window(ref.predictions, 1, V), [B, T, V], 1e-5, 1e-4);
        await model.resetStates();
        expectClose('predict window 0 after resetStates', await model.predict(window(x, 0), { steps: T }), first, [B, T, V], 0, 0);

        // evaluate: from zeros at its start, batch 1 (window 1) on from batch 0; twice, the same.
        for (let k = 0; k < 2; k++) {
          const got = (await model.evaluate(data, { batchSize: B })).loss;
          expect(Math.abs(got - ref.loss), `evaluate ${got} against ${ref.loss}`).toBeLessThanOrEqual(1e-5 + 1e-4 * ref.loss);
        }

        // fit: each step's loss is its window's; the second epoch starts from zeros again.
        const losses: number[] = [];
        await model.fit(data, { epochs: 2, batchSize: B, progressEvery: 1, onProgress: (p) => losses.push(p.loss) });
        const want = [0, 1, 0, 1].map((w) => windowLoss(ref.outputs, y, w));
        losses.forEach((l, i) => expect(Math.abs(l - want[i]!), `training step ${i + 1}: ${l} against ${want[i]}`).toBeLessThanOrEqual(1e-5 + 1e-4 * want[i]!));
        expect(losses.length).toBe(4);
      } finally {
        model.destroy();
        data.destroy();
      }
    });
  }

  it('lstm, the fused all-steps variant forced: predict carries h and c from window to window as the per-step kernels do', async () => {
    setAutotune(d, { recurrence: 'fused' });
    const config: SequentialConfig = { inputs: V, loss: xent, seed: 3, layers: [layers.rnn({ units: 5, cell: 'lstm', returnSequences: true, stateful: true }), layers.dense({ units: V })] };
    const { x, y, oneHot } = streams(2);
    const model = new Sequential(d, config);
    try {
      const ref = forwardRef(config, model.weights(), { n: B, steps: 2 * T, x: oneHot, y });
      await model.predict(window(x, 0), { steps: T });
      expectClose('predict window 1 (h and c carried)', await model.predict(window(x, 1), { steps: T }), window(ref.predictions, 1, V), [B, T, V], 1e-5, 1e-4);
      expect(tuningReport(d).length, 'forced, nothing timed').toBe(0);
    } finally {
      setAutotune(d, 'off');
      model.destroy();
    }
  });

  it('refuses shuffling a stateful model, and a stateful option that is not a boolean', async () => {
    const model = new Sequential(d, { inputs: V, loss: xent, layers: [layers.rnn({ units: 4, returnSequences: true, stateful: true }), layers.dense({ units: V })] });
    const data = await SequenceDataset.fromArrays(d, { x: new Int32Array(2 * T), y: new Int32Array(2 * T), steps: T, inputs: V, classes: V });
    try {
      expect((await rejectedInput(() => model.fit(data, { batchSize: 1, shuffle: true }))).field).toBe('shuffle');
      expect(() => new Sequential(d, { inputs: V, loss: xent, layers: [layers.rnn({ units: 4, stateful: 1 as unknown as boolean }), layers.dense({ units: V })] }))
        .toThrow('layers.0.stateful: expected true or false, got number 1');
    } finally {
      model.destroy();
      data.destroy();
    }
  });
});
