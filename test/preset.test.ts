// SequenceClassifier as a preset of Sequential: checkpoints written before the change load and train on bit for bit,
// the preset and the Sequential it is are one model, a Sequential trains on images, and inspect() gives the float64
// model's hidden states. The fixture (test/fixtures/classifier-v1.*) was written by commit 31c147a, the classifier
// with its own plan and loop: 3 trainSteps of batch 2 at learning rate 0.01, seed 7, on the images below.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, ImageDataset, InputError, Sequential, SequenceClassifier } from '../src/index.js';
import { presetConfig } from '../src/model/classifier-config.js';
import { rnnForwardRef } from '../src/reference/index.js';
import { expectClose, testDevice } from './helpers.js';

const device = await testDevice();
const T = 3, I = 2, H = 4, C = 3, n = 6;
const pixels = Uint8Array.from({ length: n * T * I }, (_, i) => (i * 37) % 256);
const labels = Uint8Array.from({ length: n }, (_, i) => i % C);
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));

/** The tensors of a checkpoint as name -> bytes, and its metadata without `note`. */
function contents(bytes: Uint8Array) {
  const { tensors, metadata } = decodeSafetensors(bytes, 'checkpoint');
  const { note: _, ...rest } = metadata;
  return { tensors: Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, Buffer.from((t.data as Float32Array).buffer).toString('hex')])), metadata: rest };
}

describe.skipIf(!device)('SequenceClassifier, a preset of Sequential', async () => {
  const d = device!;
  const data = await ImageDataset.create(d, 'fixture', { count: n, rows: T, cols: I, pixels }, { count: n, labels }, C);
  const config = { steps: T, inputs: I, units: H, classes: C, seed: 7 };

  it('trains bit for bit as the classifier did before it was a preset (a checkpoint of commit 31c147a)', async () => {
    const model = new SequenceClassifier(d, config);
    await model.trainSteps(data, { steps: 3, batchSize: 2, learningRate: 0.01 });
    expect(contents(model.save())).toEqual(contents(fixture('classifier-v1.safetensors')));
    model.destroy();
  });

  it("loads that checkpoint and predicts what it predicted; training goes on from its step", async () => {
    const model = SequenceClassifier.load(d, fixture('classifier-v1.safetensors'));
    expect(model.step).toBe(3);
    const want = JSON.parse(fixture('classifier-v1.predict.json').toString()) as number[];
    expectClose('probabilities', await model.predict(pixels), want, [n, C], 1e-6, 1e-5);
    await model.trainSteps(data, { steps: 1, batchSize: 2 });
    expect(model.step).toBe(4);
    model.destroy();
  });

  it('is the Sequential of presetConfig: the same weights under the layers names, and the same training', async () => {
    const preset = new SequenceClassifier(d, config);
    const plain = new Sequential(d, presetConfig(config));
    try {
      const w = plain.weights();
      expect(preset.parameter('rnn.wx')).toEqual(w['layers.0.wx']!.data);
      expect(preset.parameter('dense.w')).toEqual(w['layers.1.w']!.data);
      expect(preset.sequential.weights()).toEqual(w);
      // The classifier's training is the Sequential's, shuffled, with Adam's default settings.
      await preset.trainSteps(data, { steps: 5, batchSize: 2 });
      await plain.trainSteps(data, { steps: 5, batchSize: 2, shuffle: true });
      expect(preset.sequential.weights()).toEqual(plain.weights());
      expect(await preset.evaluate(data)).toEqual(await plain.evaluate(data));
    } finally {
      preset.destroy();
      plain.destroy();
    }
  });

  it('a Sequential trains on an ImageDataset (a row per step) as the preset does, and fit reports its accuracy', async () => {
    const model = new Sequential(d, { ...presetConfig(config), optimizer: { learningRate: 0.05 } });
    const reports: number[] = [];
    const before = await model.evaluate(data);
    await model.fit(data, { epochs: 10, batchSize: 2, progressEvery: 3, onProgress: (p) => reports.push(p.accuracy!) });
    const after = await model.evaluate(data);
    expect(reports).toHaveLength(10);
    expect(reports.every((a) => a >= 0 && a <= 1)).toBe(true);
    expect(after.loss).toBeLessThan(before.loss);
    model.destroy();
  });

  it("inspect: each rnn layer's hidden states after every step, as the float64 model's", async () => {
    const model = new SequenceClassifier(d, config);
    const image = pixels.subarray(0, T * I);
    const { probs, states } = await model.inspect(image);
    const x = Float64Array.from(image, (v) => v / 255);
    const ref = rnnForwardRef({ x, wx: model.parameter('rnn.wx'), wh: model.parameter('rnn.wh'), b: model.parameter('rnn.b'), batch: 1, steps: T, inputs: I, units: H });
    expectClose('states [T, H]', states, ref.outputs, [T, H], 1e-6, 1e-5);
    expectClose('probs', probs, await model.predict(image), [C]);
    model.destroy();
  });

  it("cell 'lstm' and 'gru' presets: gate blocks under the classifier's names, the cell in the checkpoint's config", () => {
    const lstm = new SequenceClassifier(d, { ...config, cell: 'lstm' });
    const gru = new SequenceClassifier(d, { ...config, cell: 'gru' });
    const tanh = new SequenceClassifier(d, config);
    try {
      expect(lstm.parameter('rnn.wx')).toHaveLength(I * 4 * H);
      expect(gru.parameter('rnn.wh')).toHaveLength(H * 3 * H);
      expect(gru.parameter('rnn.bh')).toHaveLength(3 * H); // PyTorch's bias_hh: GRU's reset-after form has two biases
      expect(() => tanh.parameter('rnn.bh')).toThrow(InputError);
      expect(JSON.parse(decodeSafetensors(lstm.save(), 'x').metadata.config!).cell).toBe('lstm');
      expect(JSON.parse(decodeSafetensors(tanh.save(), 'x').metadata.config!)).not.toHaveProperty('cell'); // as before
      const back = SequenceClassifier.load(d, gru.save());
      expect(back.config.cell).toBe('gru');
      expect(back.parameter('rnn.bh')).toEqual(gru.parameter('rnn.bh'));
      back.destroy();
      expect(() => new SequenceClassifier(d, { ...config, cell: 'peephole' as never })).toThrow(/^cell: expected 'tanh', 'lstm' or 'gru', got/);
    } finally {
      lstm.destroy();
      gru.destroy();
      tanh.destroy();
    }
  });
});
