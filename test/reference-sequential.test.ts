// The float64 reference of a stack of layers (src/reference/sequential.ts and its parts): the single-layer classifier
// is today's model exactly; lengths mean what TensorFlow means; the losses are the means they claim; initial weights
// are deterministic and of the documented kinds; bad configs and batches are InputErrors naming the field; Adam steps
// with and without clipping are deterministic and learn. Gradients: test/gradcheck-harness.test.ts.
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { ADAM_DEFAULTS } from '../src/kernels/adam.js';
import { Random } from '../src/random.js';
import type { Batch, Weights } from '../src/model/batch.js';
import { layers, planSequential, type SequentialConfig } from '../src/model/config.js';
import { matmulRef, rnnBackwardRef, rnnForwardRef, softmaxXentRef } from '../src/reference/index.js';
import { initialWeights } from '../src/model/init.js';
import { backwardRef, forwardRef } from '../src/reference/sequential.js';
import { clipInPlace, initialAdamState, trainStepsRef } from '../src/reference/train.js';
import { randomBatch } from './sequential-batches.js';

const xent = 'softmax-cross-entropy' as const;
const rnn = layers.rnn, dense = layers.dense;

describe('the single-layer classifier is the model today\'s GPU classifier is tested against', () => {
  const N = 6, T = 5, I = 4, H = 6, C = 3;
  const config: SequentialConfig = { inputs: I, layers: [rnn({ units: H }), dense({ units: C })], loss: xent, seed: 3 };

  for (const lengths of [undefined, [1, 5, 3, 2, 5, 4]]) {
    it(`forward and gradients bit for bit as rnnForwardRef, rnnBackwardRef and softmaxXentRef (${lengths ? 'mixed lengths' : 'full length'})`, () => {
      const w = initialWeights(config);
      const batch = randomBatch(config, { n: N, steps: T, lengths, seed: 5 });
      // As test/trainstep.test.ts computes the classifier's step.
      const p = (k: string) => w[k]!.data;
      const rnnP = { x: batch.x, wx: p('layers.0.wx'), wh: p('layers.0.wh'), b: p('layers.0.b'), lengths: batch.lengths, batch: N, steps: T, inputs: I, units: H };
      const { state } = rnnForwardRef(rnnP);
      const logits = matmulRef(state, p('layers.1.w'), N, C, H, false, false, p('layers.1.b'));
      const { loss, correct, dlogits } = softmaxXentRef(logits, batch.y, N, C, 1 / N);
      const dState = matmulRef(dlogits, p('layers.1.w'), N, H, C, false, true);
      const g = rnnBackwardRef(rnnP, undefined, dState);

      const got = backwardRef(config, w, batch);
      expect(got.outputs).toEqual(logits);
      expect(got.loss).toBe(loss.reduce((s, v) => s + v, 0) / N);
      expect(got.accuracy).toBe(correct.reduce((s, v) => s + v, 0) / N);
      expect(got.grads['layers.0.wx']!.data).toEqual(g.dwx);
      expect(got.grads['layers.0.wh']!.data).toEqual(g.dwh);
      expect(got.grads['layers.0.b']!.data).toEqual(g.db);
      expect(got.grads['layers.1.w']!.data).toEqual(matmulRef(state, dlogits, H, C, N, true));
      expect(got.grads['layers.1.b']!.data).toEqual(matmulRef(new Float64Array(N).fill(1), dlogits, 1, C, N));
      expect(got.dx).toEqual(g.dx);
      expect(Object.keys(got.grads)).toEqual(['layers.0.wx', 'layers.0.wh', 'layers.0.b', 'layers.1.w', 'layers.1.b']);
    });
  }

  it('initial weights drawn as SequenceClassifier draws them (src/model/classifier.ts initialState) for the same seed', () => {
    const random = new Random(3);
    const limit = Math.sqrt(6 / (I + H + H));
    const w = initialWeights(config);
    expect(w['layers.0.wx']).toEqual({ shape: [I, H], data: random.uniform(I * H, limit) });
    expect(w['layers.0.wh']).toEqual({ shape: [H, H], data: random.uniform(H * H, limit) });
    expect(w['layers.0.b']).toEqual({ shape: [H], data: new Float32Array(H) });
    expect(w['layers.1.w']).toEqual({ shape: [H, C], data: random.uniform(H * C, Math.sqrt(6 / (H + C))) });
    expect(w['layers.1.b']).toEqual({ shape: [C], data: new Float32Array(C) });
  });
});

describe('initialisers', () => {
  const config = (initialiser: 'glorot' | 'orthogonal' | 'pytorch', seed = 1): SequentialConfig =>
    ({ inputs: 5, layers: [rnn({ units: 7, returnSequences: true, initialiser }), rnn({ units: 9, initialiser }), dense({ units: 4, initialiser: initialiser === 'pytorch' ? 'pytorch' : 'glorot' })], loss: xent, seed });

  it('names and shapes as the issue: layers.k.wx [I, H], .wh [H, H], .b [H]; dense .w [H, O], .b [O]', () => {
    const w = initialWeights(config('glorot'));
    expect(Object.fromEntries(Object.entries(w).map(([k, t]) => [k, t.shape]))).toEqual({
      'layers.0.wx': [5, 7], 'layers.0.wh': [7, 7], 'layers.0.b': [7], 'layers.1.wx': [7, 9], 'layers.1.wh': [9, 9], 'layers.1.b': [9],
      'layers.2.w': [9, 4], 'layers.2.b': [4],
    });
    for (const t of Object.values(w)) expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
  });

  for (const kind of ['glorot', 'orthogonal', 'pytorch'] as const) {
    it(`${kind}: deterministic from the seed, different for another seed`, () => {
      expect(initialWeights(config(kind, 8))).toEqual(initialWeights(config(kind, 8)));
      expect(initialWeights(config(kind, 8))['layers.1.wh']!.data).not.toEqual(initialWeights(config(kind, 9))['layers.1.wh']!.data);
    });
  }

  it('orthogonal: Wh^T Wh = I (to float32 rounding), Wx Glorot-uniform with limit sqrt(6 / (I + H)), zero bias', () => {
    const w = initialWeights(config('orthogonal'));
    for (const [k, H] of [['layers.0', 7], ['layers.1', 9]] as const) {
      const wh = w[`${k}.wh`]!.data;
      const gram = matmulRef(wh, wh, H, H, H, true);
      gram.forEach((v, i) => expect(Math.abs(v - (i % (H + 1) === 0 ? 1 : 0))).toBeLessThan(1e-6));
      expect(w[`${k}.b`]!.data.every((v) => v === 0)).toBe(true);
    }
    const limit = Math.sqrt(6 / (5 + 7)), wx = w['layers.0.wx']!.data;
    expect(wx.every((v) => Math.abs(v) <= limit)).toBe(true);
    expect(Math.max(...wx.map(Math.abs))).toBeGreaterThan(Math.sqrt(6 / (5 + 14))); // wider than the BasicRNNCell limit
  });

  it('pytorch: Wx, Wh and b uniform within ±1/sqrt(units); dense w and b within ±1/sqrt(inputs)', () => {
    const w = initialWeights(config('pytorch'));
    const within = (k: string, bound: number) => {
      const d = w[k]!.data;
      expect(d.every((v) => Math.abs(v) <= bound), k).toBe(true);
      expect(Math.max(...d.map(Math.abs)), k).toBeGreaterThan(bound / 2);
    };
    for (const p of ['wx', 'wh', 'b']) { within(`layers.0.${p}`, 1 / Math.sqrt(7)); within(`layers.1.${p}`, 1 / Math.sqrt(9)); }
    within('layers.2.w', 1 / 3); within('layers.2.b', 1 / 3);
  });
});

/** Sequence i of a batch on its own, cut to its length: lengths mean exactly this. */
function alone(config: SequentialConfig, batch: Batch, i: number): { config: SequentialConfig; batch: Batch } {
  const plan = planSequential(config);
  const L = batch.lengths![i]!, T = batch.steps!, I = plan.inputs, O = plan.outputs;
  const repeat = !plan.sequenceInput;
  const cut = repeat ? { ...config, layers: [layers.repeat({ steps: L }), ...config.layers.slice(1)] } : config;
  const x = repeat ? Array.from(batch.x).slice(i * I, (i + 1) * I) : Array.from(batch.x).slice(i * T * I, (i * T + L) * I);
  const per = plan.loss === 'mse' ? O : 1;
  const y = plan.sequenceOutput ? Array.from(batch.y).slice(i * T * per, (i * T + L) * per) : Array.from(batch.y).slice(i * per, (i + 1) * per);
  return { config: cut, batch: { n: 1, steps: L, x, y } };
}

describe('variable lengths: each sequence as if cut to its length; zeros past it', () => {
  const T = 5, lengths = [1, 5, 3, 2];
  const cases: Array<[string, SequentialConfig, 'steps' | 'sequences' | 'values']> = [
    ['2 layers, a class per step', { inputs: 3, layers: [rnn({ units: 4, returnSequences: true }), rnn({ units: 3, returnSequences: true, initialiser: 'pytorch' }), dense({ units: 3 })], loss: xent, seed: 1 }, 'steps'],
    ['2 layers, a class per sequence', { inputs: 3, layers: [rnn({ units: 4, returnSequences: true }), rnn({ units: 3, initialiser: 'pytorch' }), dense({ units: 3 })], loss: xent, seed: 2 }, 'sequences'],
    ['mse at every step through two dense layers', { inputs: 2, layers: [rnn({ units: 4, returnSequences: true, initialiser: 'pytorch' }), dense({ units: 3, initialiser: 'pytorch' }), dense({ units: 2, initialiser: 'pytorch' })], loss: 'mse', seed: 3 }, 'values'],
    ['vector to sequence, mse at every step', { inputs: 2, layers: [layers.repeat({ steps: T }), rnn({ units: 4, returnSequences: true, initialiser: 'pytorch' }), dense({ units: 2, initialiser: 'pytorch' })], loss: 'mse', seed: 4 }, 'values'],
    // LSTM (h and c carried past the length) and both GRU forms
    ['lstm then gru, a class per step', { inputs: 3, layers: [rnn({ cell: 'lstm', units: 4, returnSequences: true, initialiser: 'pytorch' }), rnn({ cell: 'gru', units: 3, returnSequences: true, initialiser: 'pytorch' }), dense({ units: 3 })], loss: xent, seed: 5 }, 'steps'],
    ['gru (reset before) then lstm, a class per sequence', { inputs: 3, layers: [rnn({ cell: 'gru', resetAfter: false, units: 4, returnSequences: true }), rnn({ cell: 'lstm', units: 3 }), dense({ units: 3 })], loss: xent, seed: 6 }, 'sequences'],
    ['vector to sequence through an lstm, mse at every step', { inputs: 2, layers: [layers.repeat({ steps: T }), rnn({ cell: 'lstm', units: 4, returnSequences: true }), dense({ units: 2 })], loss: 'mse', seed: 7 }, 'values'],
  ];
  for (const [name, config, weighting] of cases) {
    it(name, () => {
      const w = initialWeights(config);
      const batch = randomBatch(config, { n: 4, steps: T, lengths, seed: 7 });
      const plan = planSequential(config);
      const got = forwardRef(config, w, batch);
      const O = plan.outputs;
      let weighted = 0, total = 0;
      lengths.forEach((L, i) => {
        const one = alone(config, batch, i);
        const ref = forwardRef(one.config, w, one.batch);
        const rows = plan.sequenceOutput ? [i * T * O, (i * T + L) * O] : [i * O, (i + 1) * O];
        expect(got.outputs.slice(rows[0], rows[1]), `sequence ${i}`).toEqual(ref.outputs);
        plan.layers.forEach((p, k) => {
          const y = got.layerOutputs[k]!, F = p.outputs;
          if (p.sequenceOut) expect(y.slice((i * T + L) * F, (i + 1) * T * F).every((v) => v === 0), `layers.${k}: zeros past ${L}`).toBe(true);
        });
        const weight = weighting === 'sequences' ? 1 : weighting === 'steps' ? L : L * O;
        weighted += weight * ref.loss; total += weight;
      });
      expect(Math.abs(got.loss - weighted / total)).toBeLessThan(1e-14);
      // Inputs past a sequence's length change nothing.
      if (plan.sequenceInput) {
        const x = Float64Array.from(batch.x);
        const I = plan.inputs;
        lengths.forEach((L, i) => x.fill(123, (i * T + L) * I, (i + 1) * T * I));
        expect(backwardRef(config, w, { ...batch, x })).toEqual(backwardRef(config, w, batch));
      }
    });
  }

  it('a first-layer rnn with returnSequences gives zeros past the length, and its last state is the state at the last valid step', () => {
    const config: SequentialConfig = { inputs: 3, layers: [rnn({ units: 4, returnSequences: true, initialiser: 'pytorch' }), rnn({ units: 3, initialiser: 'pytorch' })], loss: 'mse', seed: 5 };
    const w = initialWeights(config);
    const batch = randomBatch(config, { n: 4, steps: T, lengths, seed: 8 });
    const { layerOutputs } = forwardRef(config, w, batch);
    const [seq, last] = layerOutputs as [Float64Array, Float64Array];
    lengths.forEach((L, i) => {
      expect(seq.slice((i * T + L) * 4, (i + 1) * T * 4).every((v) => v === 0)).toBe(true);
      expect(seq.slice((i * T + L - 1) * 4, (i * T + L) * 4).some((v) => v !== 0)).toBe(true);
    });
    const full = forwardRef(config, w, { ...batch, lengths: undefined }).layerOutputs[1]!;
    expect(last.slice(3, 6)).toEqual(full.slice(3, 6)); // sequence 1 runs all steps either way
    expect(last.slice(0, 3)).not.toEqual(full.slice(0, 3));
  });
});

describe('losses', () => {
  it('mse: the mean of (y - target)^2 over every output of every valid step; its predictions are the outputs', () => {
    const config: SequentialConfig = { inputs: 2, layers: [rnn({ units: 3, returnSequences: true, initialiser: 'pytorch' })], loss: 'mse', seed: 2 };
    const batch = randomBatch(config, { n: 2, steps: 3, lengths: [2, 3], seed: 3 });
    const got = forwardRef(config, initialWeights(config), batch);
    let s = 0;
    for (const [i, L] of [[0, 2], [1, 3]] as const) for (let t = 0; t < L; t++) for (let o = 0; o < 3; o++) s += (got.outputs[(i * 3 + t) * 3 + o]! - batch.y[(i * 3 + t) * 3 + o]!) ** 2;
    expect(got.loss).toBeCloseTo(s / (5 * 3), 15);
    expect(got.accuracy).toBeUndefined();
    expect(got.predictions).toEqual(got.outputs);
  });

  it('a class per step: accuracy over the valid steps only; predictions are probabilities, zero past the length', () => {
    const config: SequentialConfig = { inputs: 2, layers: [rnn({ units: 3, returnSequences: true }), dense({ units: 2 })], loss: xent, seed: 2 };
    const batch = randomBatch(config, { n: 3, steps: 4, lengths: [1, 4, 2], seed: 3 });
    const got = forwardRef(config, initialWeights(config), batch);
    let hits = 0;
    for (const [i, L] of [[0, 1], [1, 4], [2, 2]] as const) {
      for (let t = 0; t < 4; t++) {
        const r = i * 4 + t, p = got.predictions.slice(r * 2, r * 2 + 2);
        if (t >= L) { expect(Array.from(p)).toEqual([0, 0]); continue; }
        expect(p[0]! + p[1]!).toBeCloseTo(1, 15);
        if (p[batch.y[r]!]! >= p[1 - batch.y[r]!]!) hits++;
      }
    }
    expect(got.accuracy).toBe(hits / 7);
  });
});

describe('bad configs and batches are InputErrors naming the field, the expected and the actual', () => {
  const caught = (work: () => unknown): InputError => {
    try { work(); } catch (e) { expect(e).toBeInstanceOf(InputError); return e as InputError; }
    throw new Error('no InputError');
  };
  const base: SequentialConfig = { inputs: 3, layers: [rnn({ units: 4, returnSequences: true }), dense({ units: 2 })], loss: xent, seed: 1 };

  it('an rnn after a layer that gives a vector', () => {
    const e = caught(() => planSequential({ ...base, layers: [rnn({ units: 4 }), rnn({ units: 3 })] }));
    expect(e.field).toBe('layers.1');
    expect(e.expected).toMatch(/set returnSequences: true on layers\.0/);
    expect(e.actual).toMatch(/rnn after layers\.0 \(rnn, returnSequences false\), which gives a vector \[n, 4\]/);
    expect(caught(() => planSequential({ ...base, layers: [rnn({ units: 4 }), dense({ units: 3 }), rnn({ units: 3 })] })).field).toBe('layers.2');
  });

  it('repeat anywhere but first; unknown layers, options and losses; bad sizes and optimizer settings', () => {
    expect(caught(() => planSequential({ ...base, layers: [rnn({ units: 4 }), layers.repeat({ steps: 3 })] })).field).toBe('layers.1');
    expect(caught(() => planSequential({ ...base, layers: [{ type: 'lstm', units: 3 }] as never })).field).toBe('layers.0');
    expect(caught(() => planSequential({ ...base, layers: [{ type: 'rnn', units: 3, returnSequence: true }] as never })).field).toBe('layers.0.returnSequence');
    expect(caught(() => planSequential({ ...base, layers: [rnn({ units: 3, cell: 'peephole-lstm' as never })] })).field).toBe('layers.0.cell');
    expect(caught(() => planSequential({ ...base, layers: [rnn({ units: 3, initialiser: 'he' as never })] })).field).toBe('layers.0.initialiser');
    expect(caught(() => planSequential({ ...base, layers: [dense({ units: 0 })] })).field).toBe('layers.0.units');
    expect(caught(() => planSequential({ ...base, layers: [] })).field).toBe('layers');
    expect(caught(() => planSequential({ ...base, loss: 'hinge' as never })).field).toBe('loss');
    expect(caught(() => planSequential({ ...base, inputs: 2.5 })).field).toBe('inputs');
    expect(caught(() => planSequential({ ...base, optimizer: { clipNorm: 0 } })).field).toBe('optimizer.clipNorm');
    expect(caught(() => planSequential({ ...base, optimizer: { beta1: 1 } })).field).toBe('optimizer.beta1');
    expect(caught(() => planSequential({ ...base, optimizer: { learningRate: 0.1, momentum: 0.9 } as never })).field).toBe('optimizer.momentum');
    expect(caught(() => planSequential({ ...base, seed: 0.5 })).field).toBe('seed');
  });

  it('defaults: tanh, returnSequences false, glorot, Adam as ADAM_DEFAULTS without clipping, seed 1', () => {
    const plan = planSequential({ inputs: 2, layers: [{ type: 'rnn', units: 3 }], loss: 'mse' });
    expect(plan.layers[0]!.layer).toEqual({ type: 'rnn', units: 3, cell: 'tanh', returnSequences: false, initialiser: 'glorot' });
    expect(plan.optimizer).toEqual(ADAM_DEFAULTS);
    expect(plan.seed).toBe(1);
  });

  it('targets of the wrong shape or class, lengths out of range, x of the wrong size, misshapen weights', () => {
    const w = initialWeights(base);
    const batch = randomBatch(base, { n: 2, steps: 3, seed: 1 });
    let e = caught(() => forwardRef(base, w, { ...batch, y: new Int32Array(2) }));
    expect([e.field, e.actual]).toEqual(['batch.y', 'length 2']);
    expect(e.expected).toMatch(/length 6 = \[2, 3\] \[n, steps\] \(a class per step/);
    e = caught(() => forwardRef(base, w, { ...batch, y: Int32Array.of(0, 1, 2, 0, 1, 0) }));
    expect([e.field, e.actual]).toEqual(['batch.y[2]', '2']);
    expect(caught(() => forwardRef(base, w, { ...batch, lengths: [0, 3] })).field).toBe('batch.lengths[0]');
    expect(caught(() => forwardRef(base, w, { ...batch, lengths: [3, 4] })).field).toBe('batch.lengths[1]');
    expect(caught(() => forwardRef(base, w, { ...batch, x: new Float32Array(17) })).field).toBe('batch.x');
    e = caught(() => forwardRef(base, { ...w, 'layers.0.wh': { shape: [3, 4], data: new Float32Array(12) } }, batch));
    expect([e.field, e.expected, e.actual]).toEqual(["weights['layers.0.wh'].shape", '[4, 4]', '[3, 4]']);
    const { 'layers.1.b': _, ...missing } = w;
    expect(caught(() => forwardRef(base, missing, batch)).field).toBe("weights['layers.1.b']");
    expect(caught(() => forwardRef(base, { ...w, 'layers.1.c': w['layers.1.b']! }, batch)).field).toBe("weights['layers.1.c']");
    const mse: SequentialConfig = { ...base, loss: 'mse' };
    expect(caught(() => forwardRef(mse, w, { ...batch, y: new Float32Array(6) })).expected).toMatch(/length 12 = \[2, 3, 2\] \[n, steps, outputs\]/);
    const vec: SequentialConfig = { inputs: 3, layers: [layers.repeat({ steps: 3 }), rnn({ units: 4 }), dense({ units: 2 })], loss: xent };
    const vw = initialWeights(vec);
    expect(caught(() => forwardRef(vec, vw, { n: 2, x: new Float32Array(6), y: new Int32Array(2), steps: 4 })).field).toBe('batch.steps');
    expect(caught(() => forwardRef(vec, vw, { n: 2, x: new Float32Array(18), y: new Int32Array(2) })).field).toBe('batch.x');
    expect(forwardRef(vec, vw, { n: 2, x: new Float32Array(6), y: new Int32Array(2) }).outputs.length).toBe(4);
  });
});

describe('Adam steps (with and without clipping by global norm)', () => {
  const config = (clipNorm?: number): SequentialConfig => ({
    inputs: 3, layers: [rnn({ units: 5, returnSequences: true }), rnn({ units: 4 }), dense({ units: 3 })], loss: xent,
    optimizer: { learningRate: 0.05, ...(clipNorm === undefined ? {} : { clipNorm }) }, seed: 4,
  });
  const batch = randomBatch(config(), { n: 6, steps: 4, lengths: [1, 4, 2, 3, 4, 4], seed: 9 });
  const batches = [batch, batch, batch];

  it('clipInPlace is PyTorch clip_grad_norm_: scale clipNorm / (norm + 1e-6) only when below 1', () => {
    const g = [Float64Array.of(3), Float64Array.of(0, 4)];
    expect(clipInPlace(g, 1)).toEqual({ norm: 5, scale: 1 / (5 + 1e-6) });
    expect(Array.from(g[1]!)).toEqual([0, 4 / (5 + 1e-6)]);
    const h = [Float64Array.of(3, 4)];
    expect(clipInPlace(h, 10)).toEqual({ norm: 5, scale: 1 });
    expect(clipInPlace(h)).toEqual({ norm: 5, scale: 1 });
    expect(Array.from(h[0]!)).toEqual([3, 4]);
  });

  for (const clipNorm of [undefined, 0.05]) {
    it(`3 steps ${clipNorm ? `clipped to norm ${clipNorm}` : 'without clipping'}: deterministic, the loss goes down`, () => {
      const c = config(clipNorm);
      const w = initialWeights(c);
      const a = trainStepsRef(c, w, undefined, batches);
      expect(trainStepsRef(c, w, undefined, batches)).toEqual(a);
      expect(a.adam.t).toBe(3);
      const losses = [...a.steps.map((s) => s.loss), forwardRef(c, a.weights, batch).loss];
      for (let k = 1; k < losses.length; k++) expect(losses[k], `loss after step ${k}: ${losses.join(', ')}`).toBeLessThan(losses[k - 1]!);
      expect(a.steps[0]!.loss).toBe(forwardRef(c, w, batch).loss);
      const g = backwardRef(c, w, batch).grads;
      const norm = Math.sqrt(Object.values(g).reduce((s, t) => s + t.data.reduce((q, v) => q + v * v, 0), 0));
      expect(a.steps[0]!.norm).toBeCloseTo(norm, 14);
      // After one step m = (1 - beta1) * (the gradient Adam saw): clipped by clipNorm / (norm + 1e-6), or as it is.
      const one = trainStepsRef(c, w, undefined, [batch]);
      const scale = clipNorm ? clipNorm / (norm + 1e-6) : 1;
      if (clipNorm) expect(scale).toBeLessThan(1);
      for (const [k, t] of Object.entries(g)) {
        one.adam.m[k]!.forEach((m, i) => expect(Math.abs(m - 0.1 * scale * t.data[i]!)).toBeLessThan(1e-15));
      }
      // Steps continue from a state: 1 + 2 steps = 3 steps.
      const more = trainStepsRef(c, one.weights, one.adam, [batch, batch]);
      expect(more.weights).toEqual(a.weights);
      expect(more.adam).toEqual(a.adam);
    });
  }

  it('clipping changes the steps when the norm is over clipNorm, and nothing when it is under', () => {
    const w = initialWeights(config());
    const free = trainStepsRef(config(), w, undefined, batches);
    expect(trainStepsRef(config(1e6), w, undefined, batches).weights).toEqual(free.weights);
    expect(trainStepsRef(config(0.05), w, undefined, batches).weights).not.toEqual(free.weights);
  });

  it('the inputs are not changed, and a wrong Adam state is an InputError', () => {
    const c = config();
    const w: Weights = initialWeights(c);
    const copy = structuredClone(w);
    const state = initialAdamState(c);
    trainStepsRef(c, w, state, batches);
    expect(w).toEqual(copy);
    expect(state).toEqual(initialAdamState(c));
    const { 'layers.0.b': _, ...m } = state.m;
    expect(() => trainStepsRef(c, w, { ...state, m }, batches)).toThrow(InputError);
  });
});
