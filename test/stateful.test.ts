// Stateful recurrent layers (config `stateful`, Keras's): two consecutive windows of T steps, the state carried from
// the first into the second, compute what one window of 2T computes, against the float64 reference of the 2T window
// (which knows nothing of windows): predict's outputs, evaluate's loss and each training step's loss, for tanh, LSTM
// and GRU at tiny sizes. resetStates, fit's epoch start and evaluate's start bring the state back to zeros. Gradients
// from a carried state (truncated BPTT) against the float64 backward from the same fixed states, whose forward and
// central differences are checked first. Windows of mixed lengths hand on the state at each sequence's last valid
// step: against the reference chained window to window through its initialStates.
import { describe, expect, it } from 'vitest';
import { layers, Sequential, SequenceDataset, type SequentialConfig } from '../src/node/index.js';
import { backwardRef, forwardRef } from '../src/reference/sequential.js';
import { describeEntry, gradcheck } from '../src/reference/gradcheck.js';
import { initialWeights } from '../src/model/init.js';
import type { Weights } from '../src/model/batch.js';
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

/** Two stateful layers of `cell` at every step and a dense layer per step: h (and LSTM's c) carried in both. */
function twoLayers(cell: 'tanh' | 'lstm' | 'gru', learningRate?: number): SequentialConfig {
  return {
    inputs: V, loss: xent, seed: 5, ...(learningRate !== undefined && { optimizer: { learningRate } }),
    layers: [layers.rnn({ units: 4, cell, returnSequences: true, stateful: true }), layers.rnn({ units: 3, cell, returnSequences: true, stateful: true }), layers.dense({ units: V })],
  };
}

/** Window w of every stream as a reference batch. */
function windowBatch(s: ReturnType<typeof streams>, w: number) {
  return { n: B, steps: T, x: window(s.oneHot, w, V), y: window(s.y, w) };
}

/** Both windows of every stream as one reference batch of 2T steps. */
function wholeBatch(s: ReturnType<typeof streams>) {
  return { n: B, steps: 2 * T, x: s.oneHot, y: s.y };
}

/** The largest difference between layers.0.wh's gradients in a and b: that a check from given states is not vacuous. */
function whGap(a: Weights<Float64Array>, b: Weights<Float64Array>): number {
  const x = a['layers.0.wh']!.data, y = b['layers.0.wh']!.data;
  return Math.max(...x.map((v, i) => Math.abs(v - y[i]!)));
}

/** The GPU's gradients against the float64 ones, every parameter. */
function expectGradients(got: Weights<Float32Array>, want: Weights<Float64Array>): void {
  for (const [k, t] of Object.entries(want)) expectClose(`gradient ${k} from the carried states`, got[k]!.data, t.data, t.shape, 1e-5, 1e-4);
}

describe('the float64 reference from given states (what a stateful layer is checked against)', () => {
  for (const cell of ['tanh', 'lstm', 'gru'] as const) {
    it(`${cell}: T steps, then T more from their final states, are the 2T run; gradients from fixed states pass central differences`, () => {
      const config = twoLayers(cell), weights = initialWeights(config), s = streams(4);
      const whole = forwardRef(config, weights, wholeBatch(s));
      const first = forwardRef(config, weights, windowBatch(s, 0));
      expect(Object.keys(first.finalStates)).toEqual(['0', '1']);
      expect(first.finalStates[0]!.length, 'h, and c for the LSTM').toBe(cell === 'lstm' ? 2 : 1);
      const second = forwardRef(config, weights, windowBatch(s, 1), { initialStates: first.finalStates });
      expectClose('window 1 from the carried states', second.predictions, window(whole.predictions, 1, V), [B, T, V], 1e-12, 1e-12);
      for (const k of [0, 1]) whole.finalStates[k]!.forEach((v, i) => expectClose(`layer ${k} state ${i}`, second.finalStates[k]![i]!, v, [v.length], 1e-12, 1e-12));
      const r = gradcheck(config, weights, windowBatch(s, 1), { initialStates: first.finalStates });
      expect(r.worst.error, describeEntry(r.worst)).toBeLessThan(1e-6);
      // The states matter: from zeros, window 1's gradients are others.
      const fromZeros = backwardRef(config, weights, windowBatch(s, 1)).grads;
      expect(whGap(fromZeros, backwardRef(config, weights, windowBatch(s, 1), { initialStates: first.finalStates }).grads)).toBeGreaterThan(1e-3);
      expect(() => forwardRef(config, weights, windowBatch(s, 1), { initialStates: { 0: [new Float64Array(3)] } })).toThrow(/initialStates: expected/);
    });
  }
});

describe.skipIf(!device)('stateful layers: two windows of T carry on as one of 2T', () => {
  const d = device!;
  for (const cell of ['tanh', 'lstm', 'gru'] as const) {
    it(`${cell}: predict, evaluate, training steps and gradients against the float64 2T window (two stateful layers); resetStates`, async () => {
      const config = twoLayers(cell, 1e-12); // training steps that leave the weights as they are
      const s = streams(cell === 'tanh' ? 1 : 2), { x, y } = s;
      const model = new Sequential(d, config);
      // The data set in stream order: sequences 0..B-1 are window 0 of streams 0..B-1, then window 1.
      const data = await SequenceDataset.fromArrays(d, {
        x: Int32Array.from([...window(x, 0), ...window(x, 1)]), y: Int32Array.from([...window(y, 0), ...window(y, 1)]), steps: T, inputs: V, classes: V,
      });
      try {
        const weights = model.weights();
        const ref = forwardRef(config, weights, wholeBatch(s));
        const alone = forwardRef(config, weights, windowBatch(s, 1));
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

        // gradients: the training plan now carries the states after window 1; gradients() runs the first B sequences
        // (window 0) from them. Truncated BPTT: the float64 backward from those states held fixed.
        const got = await model.gradients(data, { batchSize: B });
        const truncated = backwardRef(config, weights, windowBatch(s, 0), { initialStates: ref.finalStates }).grads;
        expectGradients(got, truncated);
        expect(whGap(truncated, backwardRef(config, weights, windowBatch(s, 0)).grads), 'the carried states matter').toBeGreaterThan(1e-3);

        // Shorter windows: a stream's state is carried from its last valid step (TensorFlow's final state).
        await model.resetStates();
        const lengths0 = Int32Array.of(T, 1), lengths1 = Int32Array.of(2, T);
        const short0 = await model.predict(window(x, 0), { steps: T, lengths: lengths0 });
        const short1 = await model.predict(window(x, 1), { steps: T, lengths: lengths1 });
        const ref0 = forwardRef(config, weights, { ...windowBatch(s, 0), lengths: lengths0 });
        const ref1 = forwardRef(config, weights, { ...windowBatch(s, 1), lengths: lengths1 }, { initialStates: ref0.finalStates });
        expectClose('predict window 0, lengths T and 1', short0, ref0.predictions, [B, T, V], 1e-5, 1e-4);
        expectClose('predict window 1, lengths 2 and T, from the states at each last valid step', short1, ref1.predictions, [B, T, V], 1e-5, 1e-4);
      } finally {
        model.destroy();
        data.destroy();
      }
    });
  }

  for (const cell of ['lstm', 'gru'] as const) {
    it(`${cell}, the fused all-steps variant forced: predict and gradients from the carried h (and c) as the per-step kernels`, async () => {
      setAutotune(d, { recurrence: 'fused' });
      const config = twoLayers(cell, 1e-12), s = streams(2), { x, y } = s;
      const model = new Sequential(d, config);
      const data = await SequenceDataset.fromArrays(d, { x: window(x, 0), y: window(y, 0), steps: T, inputs: V, classes: V });
      try {
        const weights = model.weights();
        const ref = forwardRef(config, weights, wholeBatch(s));
        await model.predict(window(x, 0), { steps: T });
        expectClose('predict window 1 (states carried)', await model.predict(window(x, 1), { steps: T }), window(ref.predictions, 1, V), [B, T, V], 1e-5, 1e-4);
        // A training step over window 0 from zeros, then gradients of window 0 again from its final states.
        await model.trainSteps(data, { steps: 1, batchSize: B });
        const got = await model.gradients(data, { batchSize: B });
        const carried = forwardRef(config, weights, windowBatch(s, 0)).finalStates;
        expectGradients(got, backwardRef(config, weights, windowBatch(s, 0), { initialStates: carried }).grads);
        expect(tuningReport(d).length, 'forced, nothing timed').toBe(0);
      } finally {
        setAutotune(d, 'off');
        model.destroy();
        data.destroy();
      }
    });
  }

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
