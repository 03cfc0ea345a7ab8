// PyTorch interoperability (src/io/torch.ts): the state_dict mapping and its refusals (no GPU, no PyTorch), and the
// parity test against PyTorch itself. For tanh, LSTM and GRU, 1 and 2 layers, a loss on the last state and one at
// every step, each model's export is loaded by the system Python's PyTorch (test/torch-parity.py, one process for all
// models) into nn.RNN / nn.LSTM / nn.GRU + nn.Linear in float64 with load_state_dict(strict=True), runs the same batch
// of mixed lengths through pack_padded_sequence, and writes back its outputs, h_n (c_n), predictions, loss, gradients
// and, after 3 Adam steps, its state_dict: the first as safetensors written by Python's struct and json (not our
// encoder), the last read back through Sequential.importTorch. The GPU model and our float64 reference are both held
// to PyTorch's numbers, with the tolerances our own reference tests use (test/cells-gpu.test.ts).
//
// The system Python is /usr/bin/python3 (env PYTHON overrides). Without PyTorch the parity tests skip with the
// command that installs it; under CI (CI=true) that is a failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellOf } from '../src/cells/index.js';
import { decodeTorchCheckpoint, encodeTorchCheckpoint, fromTorchStateDict, toTorchStateDict, torchModule } from '../src/io/torch.js';
import { decodeSafetensors, encodeSafetensors, type Tensor } from '../src/io/safetensors.js';
import type { Batch, Weights } from '../src/model/batch.js';
import { planSequential } from '../src/model/config.js';
import { rnnForwardRef } from '../src/reference/index.js';
import { forwardRef } from '../src/reference/sequential.js';
import { InputError, layers, SequenceClassifier, Sequential, SequenceDataset, type SequentialConfig } from '../src/node/index.js';
import { parseTrainArgs } from '../src/node/train.js';
import { UsageError } from '../src/node/cli.js';
import { expectClose, testDevice, thrownInput } from './helpers.js';
import { randomBatch } from './sequential-batches.js';

const { rnn, dense } = layers;
const xent = 'softmax-cross-entropy' as const;
const PYTHON = process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const INSTALL = 'apt-get install python3-torch libopenblas0-pthread (Debian; or .ci/install-system.sh)';

/** A config of `cell` with `depth` rnn layers of H units and a dense layer of O, on the last state or per step. */
function config(cell: 'tanh' | 'lstm' | 'gru', depth: number, perStep: boolean, loss: 'mse' | typeof xent, I = 17, H = 17, O = 3, seed = 3): SequentialConfig {
  return {
    inputs: I, loss, seed, optimizer: { learningRate: 0.01 },
    layers: [
      ...Array.from({ length: depth }, (_, k) => rnn({ cell, units: H, returnSequences: perStep || k < depth - 1, initialiser: 'pytorch' })),
      dense({ units: O, initialiser: 'pytorch' }),
    ],
  };
}

/** Seeded weights for a config, named and shaped as model.weights() gives them. */
function someWeights(c: SequentialConfig, seed = 1): Weights<Float32Array> {
  let s = seed;
  const next = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
  return Object.fromEntries(planSequential(c).params.map(({ name, shape }) => [name, { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, next) }]));
}

describe('the PyTorch state_dict mapping (no GPU)', () => {
  it('names and shapes: nn.LSTM, 2 layers, fc; weights transposed, one bias in bias_ih and zeros in bias_hh', () => {
    const c = config('lstm', 2, false, xent, 3, 5, 4);
    const w = someWeights(c);
    const sd = toTorchStateDict(c, w);
    expect(Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, t.shape]))).toEqual({
      'rnn.weight_ih_l0': [20, 3], 'rnn.weight_hh_l0': [20, 5], 'rnn.bias_ih_l0': [20], 'rnn.bias_hh_l0': [20],
      'rnn.weight_ih_l1': [20, 5], 'rnn.weight_hh_l1': [20, 5], 'rnn.bias_ih_l1': [20], 'rnn.bias_hh_l1': [20],
      'fc.weight': [4, 5], 'fc.bias': [4],
    });
    // weight_ih_l0[j, i] = wx[i, j]
    expect(sd['rnn.weight_ih_l0']!.data[7 * 3 + 2]).toBe(w['layers.0.wx']!.data[2 * 20 + 7]);
    expect(sd['fc.weight']!.data[3 * 5 + 1]).toBe(w['layers.2.w']!.data[1 * 4 + 3]);
    expect(Array.from(sd['rnn.bias_ih_l1']!.data)).toEqual(Array.from(w['layers.1.b']!.data));
    expect(sd['rnn.bias_hh_l1']!.data.every((v) => v === 0)).toBe(true);
    expect(torchModule(c)).toEqual({ cell: 'lstm', module: 'nn.LSTM', inputs: 3, units: 5, numLayers: 2, outputs: 4, perStep: false });
  });

  it('round trip through safetensors, for every cell; GRU keeps both biases; coming in, tanh and LSTM sum them', () => {
    for (const cell of ['tanh', 'lstm', 'gru'] as const) {
      const c = config(cell, 2, true, 'mse');
      const w = someWeights(c, 7);
      const back = decodeTorchCheckpoint(c, encodeTorchCheckpoint(c, w));
      expect(Object.keys(back)).toEqual(Object.keys(w));
      for (const [k, t] of Object.entries(w)) {
        expect(back[k]!.shape, k).toEqual(t.shape);
        expect(Array.from(back[k]!.data), k).toEqual(Array.from(t.data));
      }
    }
    const c = config('tanh', 1, false, xent, 3, 5);
    const sd = toTorchStateDict(c, someWeights(c));
    const ih = Float64Array.from({ length: 5 }, (_, i) => 0.25 * i), hh = Float64Array.from({ length: 5 }, (_, i) => 0.5 - i);
    const f64 = (t: Tensor): Tensor => ({ dtype: 'F64', shape: t.shape, data: Float64Array.from(t.data) });
    const w = fromTorchStateDict(c, {
      ...Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, f64(t)])),
      'rnn.bias_ih_l0': { dtype: 'F64', shape: [5], data: ih }, 'rnn.bias_hh_l0': { dtype: 'F64', shape: [5], data: hh },
    });
    expect(Array.from(w['layers.0.b']!.data)).toEqual([0.5, -0.25, -1, -1.75, -2.5]);
  });

  it('refuses missing, extra, misshapen and non-float tensors, naming the tensor, the expected and the actual', () => {
    const c = config('gru', 1, false, xent, 3, 5);
    const sd = toTorchStateDict(c, someWeights(c));
    const without = (k: string) => Object.fromEntries(Object.entries(sd).filter(([n]) => n !== k));
    let e = thrownInput(() => fromTorchStateDict(c, without('rnn.bias_hh_l0'), 'model.safetensors'));
    expect(e.message).toMatch(/^model\.safetensors\['rnn\.bias_hh_l0'\]: expected a tensor of shape \[15\] \(the state_dict of nn\.GRU\(3, 5, num_layers=1, batch_first=True\) as rnn, nn\.Linear\(5, 3\) as fc\), got nothing \(missing\)$/);
    e = thrownInput(() => fromTorchStateDict(c, { ...sd, 'rnn.weight_ih_l1': { dtype: 'F32', shape: [15, 5], data: new Float32Array(75) } }));
    expect(e.field).toBe("state_dict['rnn.weight_ih_l1']");
    expect(e.actual).toBe('an extra tensor of shape [15, 5]');
    e = thrownInput(() => fromTorchStateDict(c, { ...sd, 'rnn.weight_hh_l0': { dtype: 'F32', shape: [5, 15], data: new Float32Array(75) } }));
    expect([e.field, e.expected.split(' ')[0], e.actual]).toEqual(["state_dict['rnn.weight_hh_l0'].shape", '[15,', '[5, 15]']);
    e = thrownInput(() => fromTorchStateDict(c, { ...sd, 'fc.bias': { dtype: 'I32', shape: [3], data: new Int32Array(3) } }));
    expect([e.field, e.expected, e.actual]).toEqual(["state_dict['fc.bias'].dtype", 'F32 or F64', 'I32']);
    e = thrownInput(() => fromTorchStateDict(c, { ...sd, 'fc.bias': { dtype: 'F32', shape: [3], data: Float32Array.of(0, NaN, 0) } }));
    expect([e.field, e.actual]).toEqual(["state_dict['fc.bias'][1]", 'NaN']);
    // A file of something else: the first missing tensor is named.
    e = thrownInput(() => decodeTorchCheckpoint(c, encodeSafetensors({ 'layers.0.wx': { dtype: 'F32', shape: [1], data: new Float32Array(1) } }), 'other.safetensors'));
    expect(e.field).toBe("other.safetensors['rnn.weight_ih_l0']");
  });

  it('refuses configs with no PyTorch module, naming the layer field', () => {
    const gruBefore: SequentialConfig = { inputs: 2, loss: xent, layers: [rnn({ cell: 'gru', units: 4, resetAfter: false }), dense({ units: 2 })] };
    let e = thrownInput(() => torchModule(gruBefore));
    expect([e.field, e.actual]).toEqual(['layers.0.resetAfter', 'false']);
    expect(e.expected).toMatch(/reset-after form; resetAfter: false .* has no PyTorch equivalent/);
    e = thrownInput(() => toTorchStateDict(gruBefore, someWeights(gruBefore)));
    expect(e.field).toBe('layers.0.resetAfter');
    e = thrownInput(() => torchModule({ inputs: 2, loss: xent, layers: [rnn({ cell: 'lstm', units: 4, returnSequences: true }), rnn({ cell: 'gru', units: 4 }), dense({ units: 2 })] }));
    expect([e.field, e.actual]).toEqual(['layers.1.cell', "'gru'"]);
    e = thrownInput(() => torchModule({ inputs: 2, loss: xent, layers: [rnn({ units: 4, returnSequences: true }), rnn({ units: 6 }), dense({ units: 2 })] }));
    expect([e.field, e.actual]).toEqual(['layers.1.units', '6']);
    e = thrownInput(() => torchModule({ inputs: 2, loss: 'mse', layers: [layers.repeat({ steps: 3 }), rnn({ units: 4, returnSequences: true }), dense({ units: 1 })] }));
    expect([e.field, e.actual]).toEqual(['layers.0', 'a repeat layer']);
    e = thrownInput(() => torchModule({ inputs: 2, loss: 'mse', layers: [rnn({ units: 4, returnSequences: true }), dense({ units: 3 }), rnn({ units: 4 })] }));
    expect(e.field).toBe('layers.1');
    // An rnn alone (no dense layer) is nn.RNN without fc.
    expect(torchModule({ inputs: 2, loss: 'mse', layers: [rnn({ units: 4, returnSequences: true })] })).toMatchObject({ numLayers: 1, perStep: true });
    expect(Object.keys(toTorchStateDict({ inputs: 2, loss: 'mse', layers: [rnn({ units: 4, returnSequences: true })] }, someWeights({ inputs: 2, loss: 'mse', layers: [rnn({ units: 4, returnSequences: true })] }))))
      .toEqual(['rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'rnn.bias_ih_l0', 'rnn.bias_hh_l0']);
  });
});

describe('npm run train -- --export-torch FILE', () => {
  it('is parsed, and refused for the other tasks', () => {
    expect(parseTrainArgs(['--export-torch', 'm.safetensors'])).toMatchObject({ exportTorch: 'm.safetensors' });
    expect(() => parseTrainArgs(['--export-torch'])).toThrow('--export-torch expects a file name, got nothing');
    expect(() => parseTrainArgs(['--task', 'spam', '--export-torch', 'm.safetensors'])).toThrow(UsageError);
    expect(() => parseTrainArgs(['--task', 'spam', '--export-torch', 'm.safetensors'])).toThrow('--export-torch is for the MNIST task for now');
  });
});

// ---- parity with PyTorch ----

const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
const hasTorch = probe.status === 0;
if (!hasTorch && process.env.CI !== 'true') {
  console.warn(`SKIPPING the PyTorch parity tests: ${PYTHON} -c 'import torch' failed (${(probe.stderr || probe.error?.message || '').trim().split('\n').at(-1)}); install it with: ${INSTALL}`);
}
const device = hasTorch || process.env.CI === 'true' ? await testDevice() : null;

const N = 3, T = 4, LENGTHS = [4, 1, 3]; // pack_padded_sequence takes lengths >= 1
interface Case { name: string; config: SequentialConfig; cell: 'tanh' | 'lstm' | 'gru'; depth: number; perStep: boolean }
const CASES: Case[] = (['tanh', 'lstm', 'gru'] as const).flatMap((cell) => [
  { name: `${cell}-1-last`, config: config(cell, 1, false, xent), cell, depth: 1, perStep: false },
  { name: `${cell}-2-last`, config: config(cell, 2, false, xent), cell, depth: 2, perStep: false },
  { name: `${cell}-1-steps`, config: config(cell, 1, true, 'mse'), cell, depth: 1, perStep: true },
  { name: `${cell}-2-steps`, config: config(cell, 2, true, xent), cell, depth: 2, perStep: true },
]);

interface Ours {
  weights: Weights<Float32Array>;
  batch: Batch;
  predictions: Float32Array;
  states: Float32Array[]; // [rnn layer] its outputs [N, T, H], from the GPU
  loss: number;
  grads: Weights<Float32Array>;
  trained: Weights<Float32Array>;
  imported: Weights<Float32Array>; // PyTorch's state_dict after 3 steps, through Sequential.importTorch
}

describe.skipIf(!hasTorch && process.env.CI !== 'true')('parity with PyTorch (nn.RNN / nn.LSTM / nn.GRU + nn.Linear, float64)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-torch-'));
  const ours = new Map<string, Ours>();
  const torch = new Map<string, Record<string, Tensor>>();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // README's snippet's model and a batch of two sequences of lengths 28 and 13.
  const README_MODEL: SequentialConfig = { inputs: 28, loss: xent, layers: [rnn({ units: 150, initialiser: 'pytorch' }), dense({ units: 10, initialiser: 'pytorch' })] };
  const readmeWeights = someWeights(README_MODEL, 5);
  for (const t of Object.values(readmeWeights)) t.data.forEach((v, i) => { t.data[i] = v * 0.08; }); // |w| < 1/√150, as PyTorch draws them
  const readmeBatch = randomBatch(README_MODEL, { n: 2, steps: 28, lengths: [28, 13], seed: 4 });
  let readmeProbs: ArrayLike<number> = [];

  beforeAll(async () => {
    if (!hasTorch) throw new Error(`PyTorch is required under CI: ${PYTHON} -c 'import torch' failed: ${(probe.stderr || probe.error?.message || '').trim()}; install it with: ${INSTALL}`);
    if (!device) throw new Error('no GPU adapter');
    const manifest = [];
    for (const c of CASES) {
      const plan = planSequential(c.config);
      const batch = randomBatch(c.config, { n: N, steps: T, lengths: LENGTHS, seed: 17 });
      const model = new Sequential(device, c.config);
      const data = await SequenceDataset.fromArrays(device, {
        x: Float32Array.from(batch.x), steps: T, inputs: plan.inputs, lengths: Int32Array.from(LENGTHS),
        ...(c.config.loss === xent ? { y: Int32Array.from(batch.y), classes: plan.outputs } : { y: Float32Array.from(batch.y), outputs: plan.outputs }),
      });
      try {
        writeFileSync(join(dir, `${c.name}.safetensors`), model.exportTorch());
        writeFileSync(join(dir, `${c.name}.batch.safetensors`), encodeSafetensors({
          x: { dtype: 'F32', shape: [N, T, plan.inputs], data: Float32Array.from(batch.x) },
          y: c.config.loss === xent ? { dtype: 'I32', shape: c.perStep ? [N, T] : [N], data: Int32Array.from(batch.y) }
            : { dtype: 'F32', shape: c.perStep ? [N, T, plan.outputs] : [N, plan.outputs], data: Float32Array.from(batch.y) },
          lengths: { dtype: 'I32', shape: [N], data: Int32Array.from(LENGTHS) },
        }));
        const m = torchModule(c.config);
        manifest.push({ name: c.name, cell: c.cell, inputs: m.inputs, units: m.units, layers: m.numLayers, outputs: m.outputs, perStep: m.perStep, loss: c.config.loss, optimizer: plan.optimizer, trainSteps: 3 });
        const x = Float32Array.from(batch.x), I = plan.inputs;
        const weights = model.weights();
                const predictions = await model.predict(x, { steps: T, lengths: Int32Array.from(LENGTHS) });
        // Every rnn layer's outputs [N, T, H], zero past each length: the layers up to k alone, as a model of their own.
        const states: Float32Array[] = [];
        for (let k = 0; k < c.depth; k++) {
          const trunk = new Sequential(device, { inputs: I, loss: 'mse', layers: plan.layers.slice(0, k + 1).map((p) => ({ ...(c.config.layers[p.index] as object), returnSequences: true }) as SequentialConfig['layers'][number]) });
          try {
            trunk.setWeights(Object.fromEntries(Object.entries(weights).filter(([name]) => Number(name.split('.')[1]) <= k)));
            states.push(await trunk.predict(x, { steps: T, lengths: Int32Array.from(LENGTHS) }));
          } finally {
            trunk.destroy();
          }
        }
        const { loss } = await model.evaluate(data, { batchSize: N });
        const grads = await model.gradients(data, { batchSize: N });
        await model.trainSteps(data, { steps: 3, batchSize: N });
        ours.set(c.name, { weights, batch, predictions, states, loss, grads, trained: model.weights(), imported: {} });
      } finally {
        model.destroy();
        data.destroy();
      }
    }
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    // README's Python snippet, as written, on an export of the classifier it defines (28 inputs, 150 units, 10 classes).
    const snippet = /## Moving to PyTorch and back[\s\S]*?```python\n([\s\S]*?)```/.exec(readFileSync(new URL('../README.md', import.meta.url), 'utf8'))?.[1];
    if (!snippet) throw new Error("README.md: no python block under '## Moving to PyTorch and back'");
    mkdirSync(join(dir, 'readme'));
    writeFileSync(join(dir, 'readme', 'snippet.py'), snippet);
    writeFileSync(join(dir, 'readme', 'model.safetensors'), encodeTorchCheckpoint(README_MODEL, readmeWeights));
    writeFileSync(join(dir, 'readme', 'batch.safetensors'), encodeSafetensors({
      x: { dtype: 'F32', shape: [2, 28, 28], data: Float32Array.from(readmeBatch.x) }, lengths: { dtype: 'I32', shape: [2], data: Int32Array.from(readmeBatch.lengths!) },
    }));
    const py = spawnSync(PYTHON, [fileURLToPath(new URL('./torch-parity.py', import.meta.url)), dir], { encoding: 'utf8', timeout: 120_000 });
    if (py.status !== 0) throw new Error(`test/torch-parity.py failed (${py.status ?? py.signal}):\n${py.stderr}`);
    readmeProbs = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'readme', 'probs.safetensors'))), 'readme/probs.safetensors').tensors.probs!.data;
    for (const c of CASES) {
      const o = ours.get(c.name)!;
      torch.set(c.name, decodeSafetensors(new Uint8Array(readFileSync(join(dir, `${c.name}.torch.safetensors`))), `${c.name}.torch.safetensors`).tensors);
      const model = Sequential.importTorch(device, new Uint8Array(readFileSync(join(dir, `${c.name}.trained.safetensors`))), c.config, `${c.name}.trained.safetensors`);
      o.imported = model.weights();
      model.destroy();
    }
  }, 240_000);

  for (const c of CASES) {
    it(`${c.name}: outputs, final states, predictions, loss, every gradient and 3 Adam steps`, () => {
      const o = ours.get(c.name)!, t = torch.get(c.name)!;
      const plan = planSequential(c.config), H = 17, O = plan.outputs, L = c.depth;
      const f = (k: string) => t[k]!.data as Float64Array;
      // The GPU's rnn outputs (every layer's, zero past each length) against h_n of every layer and the last layer's outputs.
      const hn = f('h_n'), out = f('outputs');
      for (let k = 0; k < L; k++) {
        const s = o.states[k]!, last = new Float32Array(N * H);
        for (let i = 0; i < N; i++) last.set(s.subarray((i * T + LENGTHS[i]! - 1) * H, (i * T + LENGTHS[i]!) * H), i * H);
        expectClose(`h_n[${k}]`, last, hn.subarray(k * N * H, (k + 1) * N * H), [N, H], 2e-5, 1e-4);
      }
      expectClose('outputs', o.states[L - 1]!, out, [N, T, H], 2e-5, 1e-4);
      // Our float64 reference: every state of every layer, LSTM's c included, to float64 rounding.
      const ref = forwardRef(c.config, o.weights, o.batch);
      let input: ArrayLike<number> = Float64Array.from(o.batch.x);
      for (let k = 0; k < L; k++) {
        const p = plan.layers[k]!, l = p.layer as { cell: string; resetAfter?: boolean };
        const r = rnnForwardRef({ x: input, wx: o.weights[`layers.${k}.wx`]!.data, wh: o.weights[`layers.${k}.wh`]!.data, b: o.weights[`layers.${k}.b`]!.data,
          bh: o.weights[`layers.${k}.bh`]?.data, lengths: Int32Array.from(LENGTHS), batch: N, steps: T, inputs: p.inputs, units: H }, cellOf(l.cell, 'cell', l));
        expectClose(`reference h_n[${k}]`, r.cellStates[T]![0]!, hn.subarray(k * N * H, (k + 1) * N * H), [N, H], 1e-12, 1e-10);
        if (c.cell === 'lstm') expectClose(`reference c_n[${k}]`, r.cellStates[T]![1]!, f('c_n').subarray(k * N * H, (k + 1) * N * H), [N, H], 1e-12, 1e-10);
        input = r.outputs;
        if (k === L - 1) expectClose('reference outputs', r.outputs, out, [N, T, H], 1e-12, 1e-10);
      }
      expect(Math.abs(ref.loss - f('loss')[0]!), 'reference loss').toBeLessThanOrEqual(1e-12 + 1e-10 * Math.abs(ref.loss));
      // The GPU model's predictions (softmax, or values; zero past each length), loss, gradients.
      const rows = c.perStep ? [N, T, O] : [N, O];
      expectClose('predictions', o.predictions, f('predictions'), rows, 2e-5, 1e-4);
      const want = f('loss')[0]!;
      expect(Math.abs(o.loss - want), `loss ${o.loss} against PyTorch's ${want}`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(want));
      // Gradients and trained weights compared in PyTorch's layout: ours through the same export mapping. A cell with
      // one bias: both of PyTorch's biases have our b's gradient; the trained bias_ih is our b (bias_hh stayed 0).
      const gradsTorch = toTorchStateDict(c.config, o.grads);
      for (const [k, g] of Object.entries(gradsTorch)) {
        const data = k.startsWith('rnn.bias_hh') && c.cell !== 'gru' ? gradsTorch[k.replace('bias_hh', 'bias_ih')]!.data : g.data;
        expectClose(`grad ${k}`, data, f(`grad.${k}`), g.shape, 2e-6, 2e-4);
      }
      // After 3 Adam steps, PyTorch's state_dict (F64, written by Python) imported against ours trained on the GPU.
      for (const [k, w] of Object.entries(o.trained)) expectClose(`${k} after 3 steps (PyTorch's, imported)`, o.imported[k]!.data, w.data, w.shape, 1e-5, 1e-3);
    });
  }

  it("README's Python snippet, run as written, gives our model's probabilities", () => {
    expectClose('probs', readmeProbs, forwardRef(README_MODEL, readmeWeights, readmeBatch).predictions, [2, 10], 1e-6, 1e-5);
  });

  it('a classifier exports and imports (classifier.exportTorch, SequenceClassifier.importTorch)', async () => {
    const d = device!;
    const cfg = { steps: 4, inputs: 3, units: 5, classes: 3, seed: 9 };
    const a = new SequenceClassifier(d, cfg);
    const b = SequenceClassifier.importTorch(d, a.exportTorch(), cfg);
    try {
      expect(a.sequential.exportTorch()).toEqual(a.exportTorch());
      for (const name of ['rnn.wx', 'rnn.wh', 'rnn.b', 'dense.w', 'dense.b'] as const) expect(Array.from(b.parameter(name)), name).toEqual(Array.from(a.parameter(name)));
      expect(() => SequenceClassifier.importTorch(d, a.exportTorch(), { ...cfg, units: 6 })).toThrow(InputError);
    } finally {
      a.destroy();
      b.destroy();
    }
  });
});
