// Faults in what callers pass (issue 10, items 5 to 8): destroyed data sets and models, inconsistent data sets,
// checkpoints with impossible contents, things that are not a GPUDevice, and seeds beyond 32 bits. Each is an
// InputError naming the field, and nothing reaches the GPU: the live buffer count does not move.
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, ImageDataset, loadMnist, mnistFromFiles, rnnBackward, rnnForward, SequenceClassifier, type RnnParams, type Tensor } from '../src/node/index.js';
import { loadMnist as loadMnistFromUrl } from '../src/data/dataset.js';
import { Random, shuffleSeed } from '../src/random.js';
import { rejectedInput, testDevice } from './helpers.js';

const device = await testDevice();

// The tiny model and data set every GPU test here uses: 3 steps of 4 inputs, 5 units, 3 classes, 4 images.
const T = 3, I = 4, H = 5, C = 3, N = 4;
const config = { steps: T, inputs: I, units: H, classes: C, seed: 1 };
const images = () => ({ count: N, rows: T, cols: I, pixels: Uint8Array.from({ length: N * T * I }, (_, i) => (i * 37) % 256) });
const labels = () => ({ count: N, labels: Uint8Array.from([0, 1, 2, 1]) });

/** `work` fails with an InputError on `field` whose message matches `message`, and allocates no buffer. */
async function rejects(work: () => unknown, field: string, message: RegExp): Promise<void> {
  const error = await rejectedInput(work);
  expect(error.field).toBe(field);
  expect(error.message).toMatch(message);
}

describe('item 8: something that is not a GPUDevice', () => {
  const notDevices: Array<[unknown, RegExp]> = [
    [undefined, /got undefined$/], [null, /got null$/], ['gpu', /got string "gpu"$/], [7, /got number 7$/], [{}, /got Object$/],
    [{ createBuffer: () => null, queue: {} }, /got Object$/], // no limits
    [{ createBuffer: 1, queue: {}, limits: {} }, /got Object$/],
  ];
  const expected = /^device: expected a GPUDevice \(from getDevice\(\)\), got /;
  const params: RnnParams = { batch: 1, steps: T, inputs: I, units: H, x: new Float32Array(T * I), wx: new Float32Array(I * H), wh: new Float32Array(H * H), b: new Float32Array(H) };
  const idx = new Uint8Array(16);

  it('every entry point that takes a device says so, naming the field', async () => {
    for (const [bad, actual] of notDevices) {
      const d = bad as GPUDevice;
      for (const work of [
        () => new SequenceClassifier(d, config),
        () => SequenceClassifier.load(d, new Uint8Array(8)),
        () => ImageDataset.create(d, 'tiny', images(), labels(), C),
        () => ImageDataset.fromIdx(d, 'tiny', idx, idx),
        () => rnnForward(d, params),
        () => rnnBackward(d, params),
        () => mnistFromFiles(d, { trainImages: idx, trainLabels: idx, testImages: idx, testLabels: idx }),
        () => loadMnist(d, { dir: '/nonexistent' }),
        () => loadMnistFromUrl(d, { baseUrl: 'http://127.0.0.1:9/' }),
      ]) {
        await rejects(work, 'device', expected);
        await rejects(work, 'device', actual);
      }
    }
  });
});

describe('item 8: seeds beyond 32 bits', () => {
  /** mulberry32 as src/random.ts had it, seeds cut to 32 bits: seeds in [0, 2^32) must still give exactly this. */
  function mulberry32(seed: number, n: number): number[] {
    let s = seed >>> 0;
    return Array.from({ length: n }, () => {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    });
  }
  const stream = (seed: number, n = 8) => { const r = new Random(seed); return Array.from({ length: n }, () => r.next()); };

  it('seeds in [0, 2^32) give the streams they always gave', () => {
    for (const seed of [0, 1, 7, 42, 2 ** 31, 2 ** 32 - 1]) expect(stream(seed)).toEqual(mulberry32(seed, 8));
    for (const [seed, step] of [[1, 0], [7, 300], [2 ** 32 - 1, 12345]]) expect(shuffleSeed(seed!, step!)).toBe((seed! * 7919 + step!) >>> 0);
  });

  it('seeds that agree in their low 32 bits give distinct streams', () => {
    const seeds = [0, 2 ** 32, 2 ** 40, -(2 ** 32), 2 ** 52, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER + 1, -1, 2 ** 32 - 1];
    const seen = new Set(seeds.map((seed) => stream(seed).join()));
    expect(seen.size).toBe(seeds.length);
    expect(shuffleSeed(2 ** 40, 5)).not.toBe(shuffleSeed(0, 5));
    expect(stream(2 ** 40 + 3)).toEqual(stream(2 ** 40 + 3)); // still deterministic
  });

  it('Random refuses what is not an integer in [-2^53, 2^53)', () => {
    for (const seed of [1.5, NaN, 2 ** 53, -(2 ** 53) - 2, Infinity]) expect(() => new Random(seed)).toThrow(/integer in \[-2\^53, 2\^53\)/);
    // shuffleSeed keeps a seed's high bits, so from the most negative safe seed it can reach -2^53.
    expect(stream(-(2 ** 53))).not.toEqual(stream(0));
  });
});

describe.skipIf(!device)('with a device', async () => {
  const d = device!;

  describe('item 8: the model takes any safe integer as a seed', () => {
    it('seed 2^40 initialises differently from seed 0, the same each time, and survives save / load', () => {
      const models = [0, 2 ** 40, 2 ** 40].map((seed) => new SequenceClassifier(d, { ...config, seed }));
      try {
        const [zero, big, again] = models as [SequenceClassifier, SequenceClassifier, SequenceClassifier];
        expect(big.parameter('rnn.wx')).not.toEqual(zero.parameter('rnn.wx'));
        expect(big.save()).toEqual(again.save()); // byte-identical checkpoints for one seed
        const copy = SequenceClassifier.load(d, big.save());
        expect(copy.config.seed).toBe(2 ** 40);
        copy.destroy();
      } finally {
        for (const m of models) m.destroy();
      }
    });

    it('rejects a seed that is not a safe integer', async () => {
      await rejects(() => new SequenceClassifier(d, { ...config, seed: 2 ** 53 }), 'seed', /^seed: expected an integer from -9007199254740991 to 9007199254740991 \(a safe integer\), got 9007199254740992$/);
      await rejects(() => new SequenceClassifier(d, { ...config, seed: 1.5 }), 'seed', /got 1\.5$/);
    });
  });

  describe('item 5: destroyed data sets and models', async () => {
    it('a destroyed data set is refused by fit, trainSteps and evaluate, naming it', async () => {
      const data = await ImageDataset.create(d, 'tiny', images(), labels(), C);
      const model = new SequenceClassifier(d, config);
      try {
        data.destroy();
        const message = /^data: expected a live data set \(not destroyed\), got data set 'tiny' after destroy\(\)$/;
        await rejects(() => model.evaluate(data), 'data', message); // gave { loss: NaN, accuracy: NaN }
        await rejects(() => model.fit(data, { batchSize: 2 }), 'data', message);
        await rejects(() => model.trainSteps(data, { steps: 1, batchSize: 2 }), 'data', message);
        expect(model.step).toBe(0);
        expect(data.destroyed).toBe(true);
      } finally {
        model.destroy();
      }
    });

    it('a data set destroyed during fit (here by onProgress) stops it with the same error', async () => {
      const data = await ImageDataset.create(d, 'tiny', images(), labels(), C);
      const model = new SequenceClassifier(d, config);
      try {
        const seen: number[] = [];
        // 2 steps an epoch, one per chunk, two chunks in flight: the third chunk finds the data set destroyed.
        const fit = model.fit(data, { epochs: 4, batchSize: 2, progressEvery: 1, onProgress: (p) => { seen.push(p.totalSteps); data.destroy(); } });
        await expect(fit).rejects.toThrow(/^data: expected a live data set \(not destroyed\), got data set 'tiny' after destroy\(\)$/);
        expect(seen).toEqual([1, 2]); // the chunks already submitted are reported, and nothing after them
        expect(model.step).toBe(2);
      } finally {
        model.destroy();
      }
    });

    it('a destroyed model refuses every method, before any GPU work', async () => {
      const data = await ImageDataset.create(d, 'tiny', images(), labels(), C);
      const model = new SequenceClassifier(d, config);
      model.destroy();
      try {
        const message = /^model: expected a live SequenceClassifier \(not destroyed\), got one used after destroy\(\)$/;
        await rejects(() => model.fit(data, { batchSize: 2 }), 'model', message);
        await rejects(() => model.trainSteps(data, { steps: 1, batchSize: 2 }), 'model', message);
        await rejects(() => model.evaluate(data), 'model', message);
        await rejects(() => model.predict(new Float32Array(T * I)), 'model', message);
        await rejects(() => model.inspect(new Float32Array(T * I)), 'model', message);
        await rejects(() => model.save(), 'model', message);
        await rejects(() => model.parameter('rnn.wx'), 'model', message);
        model.destroy(); // twice is fine
      } finally {
        data.destroy();
      }
    });
  });

  describe('item 6: ImageDataset.create refuses inconsistent input', () => {
    const create = (im: unknown, lb: unknown, classes: unknown = C, name: unknown = 'tiny') =>
      () => ImageDataset.create(d, name as string, im as ReturnType<typeof images>, lb as ReturnType<typeof labels>, classes as number);

    it('a good call works (so the rejections below are about the field)', async () => {
      const data = await ImageDataset.create(d, 'tiny', images(), labels(), C);
      expect([data.count, data.steps, data.inputs, data.classes]).toEqual([N, T, I, C]);
      expect(Array.from(data.hostLabels)).toEqual([0, 1, 2, 1]);
      data.destroy();
    });

    it('labels shorter or longer than the count', async () => {
      await rejects(create(images(), { count: N, labels: Uint8Array.from([0, 1]) }), 'tiny labels.labels', /^tiny labels\.labels: expected 4 labels \(one per image\), got 2 labels$/);
      await rejects(create(images(), { count: N, labels: new Uint8Array(5) }), 'tiny labels.labels', /got 5 labels$/);
      await rejects(create(images(), { count: 3, labels: new Uint8Array(3) }), 'tiny', /^tiny: expected as many labels as images \(4\), got 3 labels$/);
    });

    it('labels that are not a Uint8Array (so none is negative or fractional)', async () => {
      await rejects(create(images(), { count: N, labels: Int32Array.from([0, -1, 2, 1]) }), 'tiny labels.labels', /^tiny labels\.labels: expected a Uint8Array of 4 labels, got Int32Array$/);
      await rejects(create(images(), { count: N, labels: [0, -1, 2, 1] }), 'tiny labels.labels', /got Array$/);
      await rejects(create(images(), { count: N }), 'tiny labels.labels', /got undefined$/);
      await rejects(create(images(), null), 'tiny labels', /got null$/);
    });

    it('pixels that are not Uint8Array bytes, or not count * rows * cols of them', async () => {
      await rejects(create({ ...images(), pixels: new Float32Array(N * T * I) }, labels()), 'tiny images.pixels', /^tiny images\.pixels: expected a Uint8Array of count \* rows \* cols = 48 bytes, got Float32Array$/);
      await rejects(create({ ...images(), pixels: new Uint8Array(47) }, labels()), 'tiny images.pixels', /^tiny images\.pixels: expected count \* rows \* cols = 4 \* 3 \* 4 = 48 bytes, got 47 bytes$/);
      await rejects(create({ ...images(), pixels: new Uint8Array(49) }, labels()), 'tiny images.pixels', /got 49 bytes$/);
    });

    it('counts and sizes that are not integers of the right sign', async () => {
      await rejects(create({ ...images(), count: -1 }, labels()), 'tiny images.count', /^tiny images\.count: expected a non-negative integer, got -1$/);
      await rejects(create({ ...images(), count: 2.5 }, labels()), 'tiny images.count', /got 2\.5$/);
      await rejects(create({ ...images(), rows: 2.5 }, labels()), 'tiny images.rows', /^tiny images\.rows: expected a positive integer, got 2\.5$/);
      await rejects(create({ ...images(), cols: 0 }, labels()), 'tiny images.cols', /got 0$/);
      await rejects(create({ ...images(), cols: '4' }, labels()), 'tiny images.cols', /got string$/);
      await rejects(create({ ...images(), count: 0, pixels: new Uint8Array(0) }, { count: 0, labels: new Uint8Array(0) }), 'tiny', /^tiny: expected at least one image, got 0 images$/);
    });

    it('classes that is not a positive integer, labels at or above it, and a bad name', async () => {
      await rejects(create(images(), labels(), 0), 'classes', /^classes: expected a positive integer, got 0$/);
      await rejects(create(images(), labels(), 2.5), 'classes', /got 2\.5$/);
      await rejects(create(images(), labels(), 2), 'tiny labels[2]', /^tiny labels\[2\]: expected a class in \[0, 2\), got 2$/);
      await rejects(create(images(), labels(), C, ''), 'name', /^name: expected a non-empty string naming the data set, got string ""$/);
    });
  });

  describe('item 7: checkpoints with impossible contents', () => {
    const model = new SequenceClassifier(d, config);
    const good = model.save();
    model.destroy();

    /** The good checkpoint with one tensor changed by `edit`, or its metadata config replaced. */
    function tampered(edit: (tensors: Record<string, Tensor>) => void, configText?: string): Uint8Array {
      const { tensors, metadata } = decodeSafetensors(good);
      edit(tensors);
      return encodeSafetensors(tensors, configText === undefined ? metadata : { ...metadata, config: configText });
    }
    const set = (key: string, index: number, value: number) => (tensors: Record<string, Tensor>) => { (tensors[key]!.data as Float32Array)[index] = value; };
    const load = (bytes: Uint8Array) => () => SequenceClassifier.load(d, bytes);

    it('the untouched checkpoint loads, and so does a trained-looking schedule', () => {
      SequenceClassifier.load(d, good).destroy();
      const trained = tampered((t) => { t['adam.schedule']!.data = Float32Array.from([3, 0.0005, 1 - 0.9 ** 3, 1 - 0.999 ** 3]); });
      const copy = SequenceClassifier.load(d, trained);
      expect(copy.step).toBe(3);
      copy.destroy();
    });

    it('NaN or infinite weights and first moments, naming the tensor and the index', async () => {
      await rejects(load(tampered(set('rnn.wx', 3, NaN))), 'checkpoint rnn.wx', /^checkpoint rnn\.wx: expected finite values, got NaN at index 3$/);
      await rejects(load(tampered(set('dense.b', 0, Infinity))), 'checkpoint dense.b', /got Infinity at index 0$/);
      await rejects(load(tampered(set('adam.m.rnn.wh', 1, -Infinity))), 'checkpoint adam.m.rnn.wh', /got -Infinity at index 1$/);
    });

    it('negative, NaN or infinite second moments', async () => {
      await rejects(load(tampered(set('adam.v.rnn.wh', 2, -1))), 'checkpoint adam.v.rnn.wh', /^checkpoint adam\.v\.rnn\.wh: expected finite values >= 0 \(Adam's second moment\), got -1 at index 2$/);
      await rejects(load(tampered(set('adam.v.dense.w', 0, NaN))), 'checkpoint adam.v.dense.w', /got NaN at index 0$/);
      await rejects(load(tampered(set('adam.v.rnn.b', 4, Infinity))), 'checkpoint adam.v.rnn.b', /got Infinity at index 4$/);
      SequenceClassifier.load(d, tampered(set('adam.v.rnn.b', 4, -0))).destroy(); // -0 is a zero
    });

    it('a step counter that is negative, fractional, NaN or past float32 counting; corrections outside [0, 1]; lr_t not finite', async () => {
      for (const t of [-1, 2.5, NaN, 2 ** 25]) {
        await rejects(load(tampered(set('adam.schedule', 0, t))), 'checkpoint adam.schedule[0]', new RegExp(`^checkpoint adam\\.schedule\\[0\\]: expected a whole step count t from 0 to 16777216 .*, got ${t}$`));
      }
      await rejects(load(tampered(set('adam.schedule', 1, NaN))), 'checkpoint adam.schedule[1]', /expected a finite lr_t, got NaN$/);
      await rejects(load(tampered(set('adam.schedule', 2, -0.5))), 'checkpoint adam.schedule[2]', /^checkpoint adam\.schedule\[2\]: expected 1 - beta1\^t, a value in \[0, 1\], got -0\.5$/);
      await rejects(load(tampered(set('adam.schedule', 3, 2))), 'checkpoint adam.schedule[3]', /expected 1 - beta2\^t, .*got 2$/);
      await rejects(load(tampered(set('adam.schedule', 3, NaN))), 'checkpoint adam.schedule[3]', /got NaN$/);
    });

    it('a config that is not an object', async () => {
      for (const text of ['null', '[]', '7', '"steps"']) {
        await rejects(load(tampered(() => {}, text)), 'checkpoint config', /^checkpoint config: expected an object \{ steps, inputs, units, classes, seed\? \}, got /);
      }
    });

    it("a config whose steps no device binding could hold, naming the field and the limit", async () => {
      const limit = Math.min(d.limits.maxStorageBufferBindingSize, d.limits.maxBufferSize);
      const text = (steps: number) => JSON.stringify({ ...config, steps });
      await rejects(load(tampered(() => {}, text(1e9))), 'checkpoint config.steps',
        new RegExp(`^checkpoint config\\.steps: expected a size whose buffers and dispatches fit this device \\(hs \\[steps \\+ 1, batch 1, units\\] \\(the hidden states of one sequence\\) needs 20000000020 bytes; the device's max\\w+ is ${limit}\\), got 1000000000$`));
      await rejects(load(tampered(() => {}, text(-3))), 'checkpoint config.steps', /expected a positive integer, got -3$/);
      await rejects(load(tampered(() => {}, JSON.stringify({ ...config, seed: 2 ** 60 }))), 'checkpoint config.seed', /safe integer/);
      // The constructor applies the same bound.
      await rejects(() => new SequenceClassifier(d, { ...config, steps: 1e9 }), 'steps', /^steps: expected a size whose buffers and dispatches fit this device \(hs \[steps \+ 1/);
    });
  });
});
