// The reusable gradient-check harness (src/reference/gradcheck.ts) on the float64 reference of stacks of layers:
// central differences of the whole stack's loss against backwardRef for every parameter and the input, for 1 to 3
// tanh layers, every loss and target shape, mixed lengths (1, steps and between) and vector to sequence; and the
// harness failing, at the right element, on gradients that are wrong.
import { describe, expect, it } from 'vitest';
import { layers, type SequentialConfig } from '../src/model/config.js';
import { describeEntry, gradcheck, type GradcheckResult } from '../src/reference/gradcheck.js';
import { initialWeights } from '../src/model/init.js';
import { backwardRef } from '../src/reference/sequential.js';
import { randomBatch } from './sequential-batches.js';

const TOLERANCE = 1e-6; // measured worst on these cases: about 1e-8 (eps 1e-5)
const T = 5;
const MIXED = [1, T, 3, 2]; // lengths: 1, steps and between
const xent = 'softmax-cross-entropy' as const;
const rnn = layers.rnn, dense = layers.dense;

function expectPasses(r: GradcheckResult): void {
  expect(r.worst.error, describeEntry(r.worst)).toBeLessThan(TOLERANCE);
}

const cases: Array<[string, SequentialConfig]> = [
  ['1 layer, class per sequence', { inputs: 3, layers: [rnn({ units: 4 }), dense({ units: 3 })], loss: xent, seed: 1 }],
  ['1 layer with returnSequences, class per step', { inputs: 3, layers: [rnn({ units: 4, returnSequences: true }), dense({ units: 3 })], loss: xent, seed: 2 }],
  ['1 layer with returnSequences, mse per step, no dense', { inputs: 2, layers: [rnn({ units: 3, returnSequences: true, initialiser: 'pytorch' })], loss: 'mse', seed: 3 }],
  ['2 layers, class per sequence', { inputs: 3, layers: [rnn({ units: 4, returnSequences: true }), rnn({ units: 3, initialiser: 'orthogonal' }), dense({ units: 3 })], loss: xent, seed: 4 }],
  ['2 layers with returnSequences, mse per step', { inputs: 2, layers: [rnn({ units: 3, returnSequences: true, initialiser: 'pytorch' }), rnn({ units: 4, returnSequences: true }), dense({ units: 2, initialiser: 'pytorch' })], loss: 'mse', seed: 5 }],
  ['3 layers, mse on the last state', { inputs: 3, layers: [rnn({ units: 3, returnSequences: true }), rnn({ units: 4, returnSequences: true, initialiser: 'orthogonal' }), rnn({ units: 3, initialiser: 'pytorch' }), dense({ units: 2 })], loss: 'mse', seed: 6 }],
  ['3 layers with returnSequences, class per step', { inputs: 2, layers: [rnn({ units: 3, returnSequences: true, initialiser: 'pytorch' }), rnn({ units: 4, returnSequences: true }), rnn({ units: 3, returnSequences: true, initialiser: 'orthogonal' }), dense({ units: 4 })], loss: xent, seed: 7 }],
  ['dense at every step between rnn layers, then dense at every step twice', { inputs: 3, layers: [rnn({ units: 4, returnSequences: true }), dense({ units: 3, initialiser: 'pytorch' }), rnn({ units: 3, returnSequences: true, initialiser: 'pytorch' }), dense({ units: 5 }), dense({ units: 3 })], loss: xent, seed: 8 }],
  ['dense on the last state twice', { inputs: 3, layers: [rnn({ units: 4, initialiser: 'pytorch' }), dense({ units: 3, initialiser: 'pytorch' }), dense({ units: 2 })], loss: 'mse', seed: 9 }],
  ['vector to sequence (repeat), class per step', { inputs: 3, layers: [layers.repeat({ steps: T }), rnn({ units: 4, returnSequences: true, initialiser: 'pytorch' }), dense({ units: 3 })], loss: xent, seed: 10 }],
  ['vector to sequence (repeat), 2 layers, mse per step', { inputs: 2, layers: [layers.repeat({ steps: T }), rnn({ units: 3, returnSequences: true }), rnn({ units: 3, returnSequences: true, initialiser: 'pytorch' }), dense({ units: 2 })], loss: 'mse', seed: 11 }],
];

describe('backwardRef matches float64 central differences for every parameter and the input', () => {
  for (const [name, config] of cases) {
    for (const lengths of [undefined, MIXED]) {
      it(`${name}, ${lengths ? `lengths ${lengths.join(', ')}` : 'full length'}`, () => {
        const batch = randomBatch(config, { n: 4, steps: T, lengths, seed: 100 + (config.seed ?? 0) });
        const r = gradcheck(config, initialWeights(config), batch, { input: true });
        expectPasses(r);
        const params = Object.keys(initialWeights(config));
        expect(Object.keys(r.perTensor)).toEqual([...params, 'x']);
      });
    }
  }

  it('a seeded subset of a big tensor: at most maxPerTensor elements each', () => {
    const config: SequentialConfig = { inputs: 20, layers: [rnn({ units: 16, returnSequences: true }), dense({ units: 10 })], loss: xent, seed: 12 };
    const r = gradcheck(config, initialWeights(config), randomBatch(config, { n: 3, steps: 4, lengths: [1, 4, 2], seed: 13 }), { maxPerTensor: 6 });
    expectPasses(r);
    expect(r.checked).toBe(6 + 6 + 6 + 6 + 6 /* wx, wh, b, w, b: all over 6 elements */);
  });
});

describe('the harness fails on a wrong gradient, and names it', () => {
  const config: SequentialConfig = { inputs: 3, layers: [rnn({ units: 4, returnSequences: true, initialiser: 'pytorch' }), rnn({ units: 3 }), dense({ units: 3 })], loss: xent, seed: 20 };
  const weights = initialWeights(config);
  const batch = randomBatch(config, { n: 4, steps: T, lengths: MIXED, seed: 21 });
  const analytic = () => Object.fromEntries(Object.entries(backwardRef(config, weights, batch).grads).map(([k, g]) => [k, Float64Array.from(g.data)]));

  it('one element off by 0.1%', () => {
    const g = analytic();
    g['layers.0.wh']![6] *= 1.001;
    const r = gradcheck(config, weights, batch, { analytic: g });
    expect(r.worst.error).toBeGreaterThan(100 * TOLERANCE);
    expect([r.worst.parameter, r.worst.index, r.worst.position]).toEqual(['layers.0.wh', 6, [1, 2]]);
    expect(describeEntry(r.worst)).toMatch(/^layers\.0\.wh\[1, 2\]: analytic .* relative error/);
  });

  it('a bias gradient with the wrong sign', () => {
    const g = analytic();
    g['layers.1.b']!.forEach((v, i, a) => (a[i] = -v));
    const r = gradcheck(config, weights, batch, { analytic: g });
    expect(r.worst.parameter).toBe('layers.1.b');
    expect(r.worst.error).toBeGreaterThan(1);
  });

  it('a gradient that ignores the lengths (as if every sequence ran all steps)', () => {
    const full = backwardRef(config, weights, { ...batch, lengths: undefined }).grads;
    const r = gradcheck(config, weights, batch, { analytic: Object.fromEntries(Object.entries(full).map(([k, t]) => [k, t.data])) });
    expect(r.worst.error).toBeGreaterThan(1e-2);
  });

  it('a wrong input gradient, only when asked to check the input', () => {
    const g = backwardRef(config, weights, batch);
    const wrongX = Float64Array.from(g.dx);
    wrongX[7] += 1e-3;
    const given = { ...Object.fromEntries(Object.entries(g.grads).map(([k, t]) => [k, t.data])), x: wrongX };
    expectPasses(gradcheck(config, weights, batch, { analytic: given }));
    const r = gradcheck(config, weights, batch, { analytic: given, input: true });
    expect([r.worst.parameter, r.worst.index]).toEqual(['x', 7]);
    expect(r.worst.error).toBeGreaterThan(100 * TOLERANCE);
  });

  it('a missing gradient or one of the wrong size is an error, not a pass', () => {
    const g = analytic();
    delete g['layers.2.w'];
    expect(() => gradcheck(config, weights, batch, { analytic: g })).toThrow(/layers\.2\.w has no values/);
    const h = analytic();
    h['layers.2.b'] = new Float64Array(2);
    expect(() => gradcheck(config, weights, batch, { analytic: h })).toThrow(/layers\.2\.b has 2 values, the tensor 3/);
  });
});
