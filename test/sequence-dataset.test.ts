// SequenceDataset: the batch gather against the float64 reference for every kind of target (with a shuffled order and
// a batch that is not a multiple of the workgroup), every bad input rejected naming its field before any buffer is
// made, and destroy() freeing every buffer.
import { describe, expect, it } from 'vitest';
import { BufferSet, liveBufferCount, readFloats, SequenceDataset, type SequenceArrays } from '../src/node/index.js';
import { gatherSequencesRef } from '../src/reference/data.js';
import { expectClose, rejectedInput, rng, testDevice } from './helpers.js';

const device = await testDevice();
const SLOT = 256; // uniform slot stride, as the models use

describe.skipIf(!device)('the batch gather matches the float64 reference', () => {
  const d = device!;
  // 13 sequences of 4 steps of 9 inputs, batches of 7 (252 x values alone: every gather spans two workgroups of 256,
  // the second partly filled). Slot 0 takes order[6..12], slot 1 order[0..6].
  const n = 13, T = 4, I = 9, O = 3, C = 5, B = 7;
  const starts = [6, 0];
  const r = rng(11);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r.next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const mixed = Int32Array.from({ length: n }, (_, i) => 1 + (i % T)); // 1, 2, 3, T, 1, ...

  async function checkGather(arrays: SequenceArrays, expected: { perStep: boolean; targets: 'classes' | 'values' }): Promise<void> {
    const data = await SequenceDataset.fromArrays(d, arrays);
    const set = new BufferSet(d, 'gather test');
    try {
      expect({ count: data.count, perStep: data.perStep, targets: data.targets, vector: data.vector })
        .toEqual({ count: n, ...expected, vector: arrays.vector ?? false });
      const s = data.batchShape(B);
      const program = await data.gather(B);
      const orderBuffer = set.create('order', n * 4);
      d.queue.writeBuffer(orderBuffer, 0, order);
      const slots = set.create('slots', starts.length * SLOT, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
      const slotWords = new Uint32Array((starts.length * SLOT) / 4);
      starts.forEach((start, k) => (slotWords[(k * SLOT) / 4] = start));
      d.queue.writeBuffer(slots, 0, slotWords);
      const sizes = { x: s.xSteps * B * s.inputs, y: s.ySteps * B * s.width, lengths: B };
      const out = { x: set.create('x', sizes.x * 4), y: set.create('y', sizes.y * 4), lengths: set.create('lengths', B * 4) };
      const group = data.bindGather(program, slots, orderBuffer, out);
      const ref = {
        x: arrays.x, y: arrays.y, lengths: arrays.lengths ?? new Int32Array(n).fill(T),
        xSteps: s.xSteps, inputs: s.inputs, ySteps: s.ySteps, width: s.width,
      };
      for (const [slot, start] of starts.entries()) {
        // All ones in every word (NaN, or -1) first: an element the gather misses cannot pass.
        for (const name of ['x', 'y', 'lengths'] as const) d.queue.writeBuffer(out[name], 0, new Int32Array(sizes[name]).fill(-1));
        d.pushErrorScope('validation');
        const encoder = d.createCommandEncoder();
        const pass = encoder.beginComputePass();
        program.encode(pass, group, [slot * SLOT]);
        pass.end();
        d.queue.submit([encoder.finish()]);
        expect(await d.popErrorScope(), 'no validation error').toBeNull();
        const want = gatherSequencesRef(ref, order, start, B);
        const [x, y, lengths] = await Promise.all([
          readFloats(d, out.x, 0, sizes.x), readFloats(d, out.y, 0, sizes.y), readFloats(d, out.lengths, 0, B),
        ]);
        const tag = `slot ${slot} (start ${start})`;
        expectClose(`x, ${tag}`, x, want.x, [s.xSteps, B, s.inputs], 0, 0);
        const yGot = arrays.y instanceof Int32Array ? new Int32Array(y.buffer) : y;
        expectClose(`y, ${tag}`, yGot, want.y, [s.ySteps, B, s.width], 0, 0);
        expectClose(`lengths, ${tag}`, new Int32Array(lengths.buffer), want.lengths, [B], 0, 0);
      }
    } finally {
      set.destroy();
      data.destroy();
    }
  }

  it('one class per sequence (y [n]), mixed lengths 1, between and T', async () => {
    await checkGather({ x: r.floats(n * T * I), y: r.ints(n, 0, C - 1), lengths: mixed, steps: T, inputs: I, classes: C },
      { perStep: false, targets: 'classes' });
  });

  it('a class per step (y [n, steps]), lengths omitted (every sequence T steps)', async () => {
    await checkGather({ x: r.floats(n * T * I), y: r.ints(n * T, 0, C - 1), steps: T, inputs: I, classes: C },
      { perStep: true, targets: 'classes' });
  });

  it('values per sequence (y [n, outputs])', async () => {
    await checkGather({ x: r.floats(n * T * I), y: r.floats(n * O, -10, 10), lengths: mixed, steps: T, inputs: I, outputs: O },
      { perStep: false, targets: 'values' });
  });

  it('values per step (y [n, steps, outputs])', async () => {
    await checkGather({ x: r.floats(n * T * I), y: r.floats(n * T * O, -10, 10), lengths: mixed, steps: T, inputs: I, outputs: O },
      { perStep: true, targets: 'values' });
  });

  it('vector to sequence: x [n, inputs] gathered to [B, inputs], values per step', async () => {
    await checkGather({ x: r.floats(n * I), y: r.floats(n * T * O), lengths: mixed, steps: T, inputs: I, outputs: O, vector: true },
      { perStep: true, targets: 'values' });
  });

  it('steps = 1: a class array of length n is one class per sequence', async () => {
    const data = await SequenceDataset.fromArrays(d, { x: r.floats(n * I), y: r.ints(n, 0, C - 1), steps: 1, inputs: I, classes: C });
    expect(data.perStep).toBe(false);
    data.destroy();
  });
});

describe.skipIf(!device)('bad input is rejected before any buffer is made, naming the field', () => {
  const d = device!;
  // 3 sequences of 2 steps of 2 inputs, classes in [0, 2).
  const base = (): SequenceArrays => ({ x: new Float32Array(12), y: Int32Array.of(0, 1, 1), steps: 2, inputs: 2, classes: 2 });
  const values = (): SequenceArrays => ({ x: new Float32Array(12), y: new Float32Array(3 * 2 * 3), steps: 2, inputs: 2, outputs: 3 });
  const withValue = <A extends Float32Array | Int32Array>(a: A, k: number, v: number): A => ((a[k] = v), a);

  const cases: Array<[string, () => unknown, string, RegExp]> = [
    ['not an object', () => null, 'arrays', /^arrays: expected an object .*, got null$/],
    ['an empty name', () => ({ ...base(), name: '' }), 'name', /^name: expected a non-empty string/],
    ['vector not a boolean', () => ({ ...base(), vector: 'yes' }), 'vector', /^vector: expected true .*, got string "yes"$/],
    ['steps 0', () => ({ ...base(), steps: 0 }), 'steps', /^steps: expected a positive integer, got 0$/],
    ['steps 1.5', () => ({ ...base(), steps: 1.5 }), 'steps', /^steps: expected a positive integer, got 1\.5$/],
    ['inputs missing', () => ({ ...base(), inputs: undefined }), 'inputs', /^inputs: expected a positive integer, got undefined$/],
    ['x a Float64Array', () => ({ ...base(), x: new Float64Array(12) }), 'x', /^x: expected a Float32Array \[n, steps, inputs\] = \[n, 2, 2\], or an Int32Array of token ids, got Float64Array$/],
    ['x a plain array', () => ({ ...base(), x: Array(12).fill(0) }), 'x', /^x: expected a Float32Array .*, got Array$/],
    ['x not a multiple of steps * inputs', () => ({ ...base(), x: new Float32Array(11) }), 'x', /^x: expected .*a positive multiple of steps \* inputs = 4, got length 11$/],
    ['x empty', () => ({ ...base(), x: new Float32Array(0) }), 'x', /, got length 0$/],
    ['x NaN', () => ({ ...base(), x: withValue(new Float32Array(12), 7, NaN) }), 'x[1, 1, 1]', /^x\[1, 1, 1\]: expected a finite number, got NaN$/],
    ['x Infinity (vector)', () => ({ ...base(), vector: true, x: withValue(new Float32Array(6), 5, Infinity) }), 'x[2, 1]', /^x\[2, 1\]: expected a finite number, got Infinity$/],
    ['y a Uint8Array', () => ({ ...base(), y: new Uint8Array(3) }), 'y', /^y: expected an Int32Array of classes .* or a Float32Array of values .*, got Uint8Array$/],
    ['class y of neither [n] nor [n, steps]', () => ({ ...base(), y: new Int32Array(5) }), 'y', /^y: expected an Int32Array \[n\] = \[3\] .* or \[n, steps\] = \[3, 2\] .*, got length 5$/],
    ['a class = classes', () => ({ ...base(), y: Int32Array.of(0, 2, 1) }), 'y[1]', /^y\[1\]: expected a class in \[0, 2\), got 2$/],
    ['a negative class (per step)', () => ({ ...base(), y: Int32Array.of(0, 1, 1, 0, 0, -1) }), 'y[2, 1]', /^y\[2, 1\]: expected a class in \[0, 2\), got -1$/],
    ['classes missing', () => ({ ...base(), classes: undefined }), 'classes', /^classes: expected a positive integer: the number of classes .*, got undefined$/],
    ['classes 0', () => ({ ...base(), classes: 0 }), 'classes', /^classes: expected a positive integer, got 0$/],
    ['outputs with class targets', () => ({ ...base(), outputs: 2 }), 'outputs', /^outputs: expected undefined with class targets .*, got number 2$/],
    ['outputs missing with values', () => ({ ...values(), outputs: undefined }), 'outputs', /^outputs: expected a positive integer: values per target .*, got undefined$/],
    ['classes with values', () => ({ ...values(), classes: 3 }), 'classes', /^classes: expected undefined with value targets .*, got number 3$/],
    ['value y of neither [n, outputs] nor [n, steps, outputs]', () => ({ ...values(), y: new Float32Array(10) }), 'y',
      /^y: expected a Float32Array \[n, outputs\] = \[3, 3\] or \[n, steps, outputs\] = \[3, 2, 3\], got length 10$/],
    ['-Infinity in y [n, steps, outputs]', () => ({ ...values(), y: withValue(new Float32Array(18), 17, -Infinity) }), 'y[2, 1, 2]', /^y\[2, 1, 2\]: expected a finite number, got -Infinity$/],
    ['NaN in y [n, outputs]', () => ({ ...values(), y: withValue(new Float32Array(9), 4, NaN) }), 'y[1, 1]', /^y\[1, 1\]: expected a finite number, got NaN$/],
    ['lengths a Float32Array', () => ({ ...base(), lengths: new Float32Array(3) }), 'lengths', /^lengths: expected an Int32Array \[n\] = \[3\] or undefined .*, got Float32Array$/],
    ['lengths not [n]', () => ({ ...base(), lengths: Int32Array.of(1, 2) }), 'lengths', /^lengths: expected \[n\] = \[3\] \(one per sequence\), got length 2$/],
    ['a length 0', () => ({ ...base(), lengths: Int32Array.of(0, 1, 2) }), 'lengths[0]', /^lengths\[0\]: expected a length in \[1, steps\] = \[1, 2\], got 0$/],
    ['a length > steps', () => ({ ...base(), lengths: Int32Array.of(1, 2, 3) }), 'lengths[2]', /^lengths\[2\]: expected a length in \[1, steps\] = \[1, 2\], got 3$/],
  ];

  it.each(cases)('%s', async (_, arrays, field, message) => {
    const error = await rejectedInput(() => SequenceDataset.fromArrays(d, arrays() as SequenceArrays));
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it('something that is not a device', async () => {
    const error = await rejectedInput(() => SequenceDataset.fromArrays({} as GPUDevice, base()));
    expect(error.message).toMatch(/^device: expected a GPUDevice \(from getDevice\(\)\), got Object$/);
  });

  // A device whose storage binding limit is 64 bytes; it fails the test if anything reaches createBuffer.
  const small = {
    createBuffer: () => { throw new Error('createBuffer was called'); },
    queue: {},
    limits: { maxStorageBufferBindingSize: 64, maxBufferSize: 1 << 30, maxComputeWorkgroupsPerDimension: 65535 },
  } as unknown as GPUDevice;

  it("x over the device's storage binding limit", async () => {
    const error = await rejectedInput(() => SequenceDataset.fromArrays(small, { ...base(), x: new Float32Array(20), y: new Int32Array(5) }));
    expect(error.field).toBe('x');
    expect(error.message).toBe("x: expected a size whose buffers and dispatches fit this device (x [n, steps, inputs] needs 80 bytes; " +
      "the device's maxStorageBufferBindingSize is 64), got [n, steps, inputs] = [5, 2, 2]");
  });

  it("y over the limit while x fits", async () => {
    const error = await rejectedInput(() => SequenceDataset.fromArrays(small, values()));
    expect(error.field).toBe('y');
    expect(error.message).toMatch(/^y: .*\(y \[n, steps, outputs\] needs 72 bytes; the device's maxStorageBufferBindingSize is 64\), got \[n, steps, outputs\] = \[3, 2, 3\]$/);
  });

  it("gather: a batch size that is not a positive integer, or whose x [steps, batch, inputs] passes the limit", async () => {
    const data = await SequenceDataset.fromArrays(d, base());
    try {
      expect((await rejectedInput(() => data.gather(0))).field).toBe('batchSize');
      const binding = Math.min(d.limits.maxStorageBufferBindingSize, d.limits.maxBufferSize);
      const B = Math.floor(binding / (4 * 2 * 2)) + 1;
      const error = await rejectedInput(() => data.gather(B));
      expect(error.message).toMatch(new RegExp(`^batchSize: .*\\(x \\[steps, batch, inputs\\] needs ${B * 16} bytes; .*\\), got ${B}$`));
    } finally {
      data.destroy();
    }
  });
});

describe.skipIf(!device)('destroy', () => {
  const d = device!;
  it('frees every buffer; a destroyed data set is refused, naming it', async () => {
    const before = liveBufferCount();
    const data = await SequenceDataset.fromArrays(d, {
      x: new Float32Array(2 * 3 * 2), y: new Float32Array(2 * 3), lengths: Int32Array.of(3, 1), steps: 3, inputs: 2, outputs: 1, name: 'toy',
    });
    expect(liveBufferCount()).toBe(before + 3);
    const program = await data.gather(2);
    data.destroy();
    expect(data.destroyed).toBe(true);
    expect(liveBufferCount()).toBe(before);
    const message = /^data: expected a live data set \(not destroyed\), got data set 'toy' after destroy\(\)$/;
    expect((await rejectedInput(() => data.gather(2))).message).toMatch(message);
    expect((await rejectedInput(() => data.batchShape(2))).message).toMatch(message);
    const unused = {} as GPUBuffer;
    expect((await rejectedInput(() => data.bindGather(program, unused, unused, { x: unused, y: unused, lengths: unused }))).message).toMatch(message);
    expect(() => data.checkLive('train data')).toThrow(/^train data: expected a live data set/);
    data.destroy(); // twice is harmless
    expect(liveBufferCount()).toBe(before);
  });
});

describe.skipIf(!device)('token ids (Int32Array x): one-hot inputs made a batch at a time', () => {
  const T = 5, V = 7, n = 12;
  const r = rng(21);
  const ids = Int32Array.from({ length: n * T }, () => Math.floor(r.next() * V));
  const oneHot = new Float32Array(n * T * V);
  ids.forEach((v, k) => (oneHot[k * V + v] = 1));
  const y = Int32Array.from({ length: n }, (_, i) => i % 3);
  const lengths = Int32Array.from({ length: n }, (_, i) => 1 + (i % T));

  it('a model trains on the ids exactly as on their one-hot floats, and predicts from ids', async () => {
    const { Sequential, layers } = await import('../src/node/index.js');
    const config = { inputs: V, layers: [layers.rnn({ units: 6 }), layers.dense({ units: 3 })], loss: 'softmax-cross-entropy' as const, seed: 4 };
    const byId = await SequenceDataset.fromArrays(device!, { x: ids, y, lengths, steps: T, inputs: V, classes: 3 });
    const byFloat = await SequenceDataset.fromArrays(device!, { x: oneHot, y, lengths, steps: T, inputs: V, classes: 3 });
    const a = new Sequential(device!, config), b = new Sequential(device!, config);
    try {
      await a.trainSteps(byId, { steps: 4, batchSize: 4, shuffle: true });
      await b.trainSteps(byFloat, { steps: 4, batchSize: 4, shuffle: true });
      expect(a.weights()).toEqual(b.weights());
      expect(await a.predict(ids, { steps: T, lengths })).toEqual(await b.predict(oneHot, { steps: T, lengths }));
    } finally {
      a.destroy();
      b.destroy();
      byId.destroy();
      byFloat.destroy();
    }
  });

  it('an id out of range is an InputError naming the sequence and step', async () => {
    const bad = ids.slice();
    bad[2 * T + 3] = V;
    const e = await rejectedInput(() => SequenceDataset.fromArrays(device!, { x: bad, y, steps: T, inputs: V, classes: 3 }));
    expect(e.message).toBe(`x[2, 3]: expected a token id in [0, inputs) = [0, ${V}), got ${V}`);
  });
});
