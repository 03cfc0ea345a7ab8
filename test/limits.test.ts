// Sizes over the device's limits: rejected before any GPU work with an InputError naming the field, the limit and
// the value, instead of running to NaN or zeros behind a console line; and dispatches folded past the per-dimension
// workgroup limit computing every element.
import { describe, expect, it } from 'vitest';
import { BufferSet, ImageDataset, readFloats, SequenceClassifier } from '../src/index.js';
import { overLimit } from '../src/gpu/limits.js';
import { tanh } from '../src/cells/tanh.js';
import { backwardSeed, fusedFits } from '../src/kernels/recurrence.js';
import { RnnSchedule } from '../src/scheduler.js';
import { rejectedInput, testDevice } from './helpers.js';

const device = await testDevice();

/** `count` images of steps x inputs bytes with labels in [0, classes). */
function dataset(d: GPUDevice, count: number, steps: number, inputs: number, classes: number): Promise<ImageDataset> {
  const pixels = Uint8Array.from({ length: count * steps * inputs }, (_, i) => (i * 37) % 256);
  const labels = Uint8Array.from({ length: count }, (_, i) => i % classes);
  return ImageDataset.create(d, 'synthetic', { count, rows: steps, cols: inputs, pixels }, { count, labels }, classes);
}

const rejected = rejectedInput;

describe.skipIf(!device)("sizes over the device's limits", () => {
  const d = device!;
  const binding = () => Math.min(d.limits.maxStorageBufferBindingSize, d.limits.maxBufferSize);

  it('units whose [units, units] weights pass the storage binding limit: rejected before allocating anything', async () => {
    const units = Math.ceil(Math.sqrt(binding() / 4)) + 1;
    const error = await rejected(() => new SequenceClassifier(d, { steps: 3, inputs: 4, units, classes: 3 }));
    expect(error.field).toBe('units');
    expect(error.message).toMatch(new RegExp(`^units: expected a size whose buffers and dispatches fit this device \\(rnn\\.wh \\[units, units\\] needs ${4 * units * units} bytes; the device's max\\w+ is ${binding()}\\), got ${units}$`));
  });

  it('units 100000: an InputError, not a RangeError from a host array', async () => {
    const error = await rejected(() => new SequenceClassifier(d, { steps: 28, inputs: 28, units: 100_000, classes: 10 }));
    expect(error.message).toMatch(/^units: .*rnn\.wh \[units, units\] needs 40000000000 bytes.*got 100000$/);
  });

  describe('batch sizes whose hidden states [steps + 1, batch, units] pass the binding limit', async () => {
    const T = 3, I = 1, H = 1024, C = 2;
    const B = Math.floor(binding() / (4 * (T + 1) * H)) + 1;
    const data = await dataset(d, B, T, I, C);
    const model = new SequenceClassifier(d, { steps: T, inputs: I, units: H, classes: C, seed: 1 });
    const hs = new RegExp(`^batchSize: expected a size whose buffers and dispatches fit this device \\(hs \\[steps \\+ 1, batch, units\\] needs ${4 * (T + 1) * B * H} bytes; the device's max\\w+ is ${binding()}\\), got ${B}$`);

    it('fit and trainSteps', async () => {
      expect((await rejected(() => model.fit(data, { batchSize: B }))).message).toMatch(hs);
      expect((await rejected(() => model.trainSteps(data, { batchSize: B, steps: 1 }))).message).toMatch(hs);
      expect(model.step).toBe(0);
    });
    it('evaluate', async () => {
      const error = await rejected(() => model.evaluate(data, { batchSize: B }));
      expect(error.field).toBe('batchSize');
      expect(error.message).toMatch(hs);
    });
    it('predict', async () => {
      const error = await rejected(() => model.predict(new Float32Array(B * T * I), { batchSize: B }));
      expect(error.message).toMatch(hs);
    });
    it('frees', () => {
      model.destroy();
      data.destroy();
    });
  });

  it('dispatches: a 2048-unit layer fits (the sum of its gradient slices continues along z); the fused recurrence is not chosen past the limit', () => {
    const shape = { batch: 150, steps: 28, inputs: 28, units: 2048 };
    // [units * units / 64] = 65536 workgroups of columns: one more than x may hold on a device at the least limit.
    const maxPerDim = d.limits.maxComputeWorkgroupsPerDimension;
    expect(overLimit(d, RnnSchedule.demands(d, shape, true))).toBeUndefined();
    expect(overLimit(d, RnnSchedule.demands(d, shape, false)), 'forward only: no gradient reductions').toBeUndefined();
    expect(overLimit(d, RnnSchedule.demands(d, { ...shape, units: 150 }, true))).toBeUndefined();
    // The fused recurrence (one workgroup per 4 sequences) is not chosen past the limit; the per-step one is.
    expect(fusedFits(d, { steps: 28, batch: 4 * maxPerDim, units: 8 })).toBe(true);
    expect(fusedFits(d, { steps: 28, batch: 4 * maxPerDim + 1, units: 8 })).toBe(false);
  });

  it('backwardSeed past 65535 x 64 invocations (folded into y) seeds every dz', async () => {
    // T = 1, the tanh cell: dz[0] = dh[0] * (1 - hs[1]^2) = dh[0] with hs zero and every sequence live.
    const s = { steps: 1, batch: 65_537, units: 64 };
    const n = s.batch * s.units;
    expect(n).toBeGreaterThan(64 * d.limits.maxComputeWorkgroupsPerDimension);
    const set = new BufferSet(d, 'seed test');
    try {
      const seed = await backwardSeed(d, s, tanh, false);
      const step = set.create('step', 256, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
      const lengths = set.create('lengths', s.batch * 4);
      d.queue.writeBuffer(lengths, 0, new Int32Array(s.batch).fill(1));
      const hs = set.create('hs', 2 * n * 4), dh = set.create('dh', 2 * n * 4), dz = set.create('dz', n * 4);
      d.queue.writeBuffer(dh, 0, Float32Array.from({ length: n }, (_, i) => 1 + (i % 7)));
      const group = seed.bind({ buffer: step, size: 16 }, set.create('whT', s.units * s.units * 4), lengths, hs, hs, dh, dz);
      const encoder = d.createCommandEncoder();
      const pass = encoder.beginComputePass();
      seed.encode(pass, group, [0]);
      pass.end();
      d.queue.submit([encoder.finish()]);
      const tail = 1024; // the last invocations, past 65535 x 64 = 4194240
      const got = await readFloats(d, dz, (n - tail) * 4, tail);
      const want = Float32Array.from({ length: tail }, (_, k) => 1 + ((n - tail + k) % 7));
      expect(Array.from(got)).toEqual(Array.from(want));
    } finally {
      set.destroy();
    }
  });
});
