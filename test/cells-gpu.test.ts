// LSTM and GRU (both forms) on the GPU: RnnSchedule's per-step multi-gate kernels (shaders/recurrence_gates.wgsl; the fused
// variant of LSTM and GRU reset-after: test/cells-fused.test.ts, through the same harness, test/gates-harness.ts)
// forward and backward against the float64 reference recurrence through the same cell (rnnForwardRef /
// rnnBackwardRef), at units that are not tile multiples (1, 3, 17, 65, 150), lengths 0, 1, T and between in one batch, with
// and without dOut and dx, in every tile the tuner can pick for these kernels, and with |z| past 100; the tuner's
// choices for them; their size demands; the refusals; and Sequential stacks of LSTM + GRU + dense (loss, gradients,
// 3 Adam steps) against the float64 model. Sizes are small: each new shape compiles three step pipelines (0.3 to 0.6 s
// each on lavapipe) besides its products.
import { afterEach, describe, expect, it } from 'vitest';
import type { Cell } from '../src/cells/cell.js';
import { gru, gruResetBefore, lstm } from '../src/cells/index.js';
import { overLimit } from '../src/gpu/limits.js';
import { backwardGates, forwardGates, measuredStep, measureGated, measureGates } from '../src/kernels/recurrence.js';
import { adapterClass, BufferSet, readFloats, RnnSchedule, setAutotune, TILES, tuningReport, type RnnBindings, type Tile } from '../src/index.js';
import { layers, Sequential, SequenceDataset, type SequentialConfig } from '../src/node/index.js';
import type { Batch } from '../src/model/batch.js';
import { backwardRef, forwardRef } from '../src/reference/sequential.js';
import { trainStepsRef } from '../src/reference/train.js';
import { check as checkWith, params, type Params } from './gates-harness.js';
import { expectClose, testDevice } from './helpers.js';
import { randomBatch } from './sequential-batches.js';

const device = await testDevice();

const check = (cell: Cell, p: Params, o: Parameters<typeof checkWith>[3]) => checkWith(device!, cell, p, o);

/**
 * The tiles the multi-gate kernels can run on any adapter class: all of them for the backward step (tune.ts
 * backwardGateTiles); the forward kernels run the 4-row ones (gateTiles), and a forced 8-row tile gives way there.
 */
const GATE_TILES: readonly Tile[] = TILES;
const tileName = (t: Tile) => `${t.rows}x${t.cols}@${t.wgX}x${t.wgY}`;

describe.skipIf(!device)('LSTM and GRU through RnnSchedule match the float64 reference', () => {
  afterEach(() => setAutotune(device!, 'off'));
  for (const cell of [lstm, gru, gruResetBefore]) {
    // Units that are not tile multiples: 1, 3, 17, 65 and 150 (lavapipe's LLVM unrolls a product loop as short as 3
    // units: that shape is the slowest to compile); batch 5, 4 steps, lengths 0, 1, 4, 2, 4.
    it(`${cell.name}, 17 units, lengths 0, 1, T and between, dOut and dx`, () =>
      check(cell, params(cell, 5, 4, 3, 17, [0, 1, 4, 2, 4], 24), { dOut: true, dx: true }));
    it(`${cell.name}, 1 unit, one step, no dOut (a layer on the last state), no dx`, () =>
      check(cell, params(cell, 3, 1, 2, 1, [1, 0, 1], 5), { dOut: false, dx: false }));
    it(`${cell.name}, 3 units and 150 (the MNIST recipe's), lengths 0, 1 and T`, async () => {
      await check(cell, params(cell, 3, 3, 2, 3, [3, 0, 1], 7), { dOut: true, dx: true });
      await check(cell, params(cell, 3, 2, 2, 150, [2, 1, 0], 8), { dOut: true, dx: false });
    });
    it(`${cell.name}: every tile its kernels can pick (${GATE_TILES.map(tileName).join(', ')}), 65 units, batch 9`, async () => {
      for (const tile of GATE_TILES) {
        setAutotune(device!, { tile });
        await check(cell, params(cell, 9, 3, 2, 65, [3, 0, 1, 2, 3, 3, 1, 2, 3], 13), { dOut: true, dx: true });
      }
    });
    it(`${cell.name}: pre-activations past ±100 stay finite and match`, async () => {
      const [B, T, I, H] = [5, 4, 3, 17]; // the shape above: its pipelines again
      const p = params(cell, B, T, I, H, [4, 4, 2, 1, 3], 19, 300);
      let largest = 0; // the first step's x_0·Wx + b
      const N = cell.gates * H;
      for (let b = 0; b < B; b++) for (let j = 0; j < N; j++) {
        let z = p.b[j]!;
        for (let k = 0; k < I; k++) z += p.x[(b * T) * I + k]! * p.wx[k * N + j]!;
        largest = Math.max(largest, Math.abs(z));
      }
      expect(largest).toBeGreaterThan(100);
      const got = await check(cell, p, { dOut: true, dx: true, through: 1e-2 }); // GRU's dx: 3e-3 off at 2.7 (terms near 100)
      for (const v of [got.outputs, got.dwh, got.dwx, got.dh0]) expect(v.every(Number.isFinite)).toBe(true);
    });
  }
});

describe.skipIf(!device)('the tuner and multi-gate cells', () => {
  // LSTM and GRU reset-after have a fused variant too: test/cells-fused.test.ts.
  it('runs GRU reset-before (a gated cell) per step, never fused, even when fused is forced', async () => {
    setAutotune(device!, { recurrence: 'fused' });
    try {
      await check(gruResetBefore, params(gruResetBefore, 5, 4, 3, 17, [0, 1, 4, 2, 4], 24), { dOut: true, dx: true });
    } finally {
      setAutotune(device!, 'off');
    }
  });
  it('a forced 8-row tile gives way to the forward kernels\' default (4-row tiles only) and runs in the backward step', async () => {
    const eight = TILES[2]!; // 8x4@8x8: 64 rows a workgroup; the 4-row default and the CPU's 8x4@8x4 have 32
    expect(tileName(eight)).toBe('8x4@8x8');
    setAutotune(device!, { tile: eight });
    try {
      const s = { steps: 4, batch: 40, units: 17 };
      expect((await forwardGates(device!, s, gru, { save: true, bh: true })).workgroups, 'forward: 4 rows a lane').toEqual([1, 2, 1]);
      expect((await backwardGates(device!, s, gru, true)).workgroups, 'backward: the forced 8 rows a lane').toEqual([1, 1, 1]);
      await check(gru, params(gru, 5, 4, 3, 17, [0, 1, 4, 2, 4], 24), { dOut: true, dx: true });
    } finally {
      setAutotune(device!, 'off');
    }
  });
  it('the measurements the tuner takes on a GPU run on their scratch buffers (bindings as the kernels declare them)', async () => {
    const s = { steps: 4, batch: 5, units: 17 }, tile = TILES[0]!;
    device!.pushErrorScope('validation');
    const times = [
      await measureGates(device!, s, lstm, tile, true, { save: true }), await measureGates(device!, s, lstm, tile, false, { dOut: true }),
      await measureGates(device!, s, gru, tile, true, { save: true, bh: true }), await measureGates(device!, s, gru, tile, false, { dOut: true }),
      await measureGated(device!, s, gruResetBefore, tile, true), await measureGated(device!, s, gruResetBefore, tile, false, true),
    ];
    expect(await device!.popErrorScope(), 'no validation error').toBeNull();
    for (const ms of times) expect(ms).toBeGreaterThan(0);
  });
  it('a measured step is the last step with every sequence live, as training runs it (at t = 0 a backward step skips the cell epilogue)', async () => {
    const scratch = new BufferSet(device!, 'test');
    try {
      const { step, lengths } = measuredStep(device!, scratch, { steps: 4, batch: 5, units: 17 });
      expect(Array.from(new Uint32Array((await readFloats(device!, step.buffer, 0, 1)).buffer))).toEqual([3]);
      expect(Array.from(new Int32Array((await readFloats(device!, lengths, 0, 5)).buffer))).toEqual([4, 4, 4, 4, 4]);
    } finally {
      scratch.destroy();
    }
  });
  it('in measure mode on a software adapter, times no gate kernel (one 4-row tile there) and no recurrence variant', async () => {
    if (adapterClass(device!) !== 'cpu') return; // on a GPU both 4-row tiles are candidates
    setAutotune(device!, 'measure');
    try {
      await check(lstm, params(lstm, 5, 4, 3, 17, [0, 1, 4, 2, 4], 24), { dOut: true, dx: true });
      expect(tuningReport(device!).map((c) => c.kernel).filter((k) => /Gates|recurrence/.test(k))).toEqual([]);
    } finally {
      setAutotune(device!, 'off');
    }
  });
});

describe.skipIf(!device)('size demands of multi-gate cells', () => {
  it('count LSTM\'s c and the saved zh: a shape that fits for tanh can pass the binding limit for LSTM', () => {
    const d = device!, max = d.limits.maxStorageBufferBindingSize;
    const shape = { batch: 64, steps: 8, inputs: 3, units: 32 };
    expect(overLimit(d, RnnSchedule.demands(d, shape, true, lstm))).toBeUndefined();
    expect(overLimit(d, RnnSchedule.demands(d, shape, true, gru))).toBeUndefined();
    // xw and zh [2, T, B, 4H] when training: 8·T·B·H floats (32·T·B·H bytes), against tanh's largest, hs [T+1, B, H].
    const steps = Math.floor(max / (32 * 64 * 32)) + 1;
    const big = { ...shape, steps };
    expect(overLimit(d, RnnSchedule.demands(d, big, true))).toBeUndefined();
    expect(overLimit(d, RnnSchedule.demands(d, big, true, lstm))).toMatch(/xw and zh \[2, steps, batch, gates \* units\]/);
    expect(overLimit(d, RnnSchedule.demands(d, big, false, lstm)), 'forward only: no zh').toBeUndefined();
  });
});

describe('RnnSchedule refuses what its kernels cannot run', () => {
  // The refusal comes before any GPU work, so no device is needed: the device and bindings are never touched.
  const never = new Proxy({}, { get: () => { throw new Error('touched'); } });
  it('a gated cell not shaped as GRU with resetAfter: false (its u from another block)', async () => {
    await expect(RnnSchedule.create(never as GPUDevice, { batch: 1, steps: 1, inputs: 1, units: 1 }, never as RnnBindings, { ...gruResetBefore, name: 'gated-early', gatedFrom: 1 }))
      .rejects.toThrow(/cell 'gated-early' multiplies u instead of h from gate block 1 on/);
  });
  it('a cell of more than 4 gate blocks or 2 states', async () => {
    for (const cell of [{ ...lstm, name: 'five-gates', gates: 5 }, { ...lstm, name: 'three-states', states: 3 }]) {
      await expect(RnnSchedule.create(never as GPUDevice, { batch: 1, steps: 1, inputs: 1, units: 1 }, never as RnnBindings, cell))
        .rejects.toThrow(new RegExp(`cell '${cell.name}' has ${cell.gates} gate blocks and ${cell.states} state vectors`));
    }
  });
  it('GRU without its bh binding', async () => {
    const io = { x: {}, wx: {}, wh: {}, b: {}, lengths: {} } as unknown as RnnBindings;
    await expect(RnnSchedule.create(never as GPUDevice, { batch: 1, steps: 1, inputs: 1, units: 1 }, io, gru)).rejects.toThrow(/bind bh/);
  });
});

// ---- a model: Sequential with LSTM and GRU layers, as test/sequential.test.ts checks tanh stacks ----

const xent = 'softmax-cross-entropy' as const;

/** The batch on the GPU, as SequenceDataset.fromArrays takes it (test/sequential.test.ts's upload, for this file's configs). */
function dataset(d: GPUDevice, config: SequentialConfig, b: Batch, steps: number): Promise<SequenceDataset> {
  const last = (config.layers.at(-1) as { units: number }).units;
  return SequenceDataset.fromArrays(d, {
    x: Float32Array.from(b.x), steps, inputs: config.inputs,
    y: config.loss === xent ? Int32Array.from(b.y) : Float32Array.from(b.y),
    ...(config.loss === xent ? { classes: last } : { outputs: last }),
    ...(b.lengths ? { lengths: Int32Array.from(b.lengths) } : {}),
  });
}

describe.skipIf(!device)('Sequential with LSTM and GRU layers against the float64 model', () => {
  const { rnn, dense } = layers;
  const cases: Array<[string, SequentialConfig]> = [
    ['lstm (sequences), gru, dense, cross-entropy', {
      inputs: 3, loss: xent, seed: 5, optimizer: { learningRate: 0.01 },
      layers: [rnn({ cell: 'lstm', units: 17, returnSequences: true }), rnn({ cell: 'gru', units: 17 }), dense({ units: 3 })],
    }],
    ['gru (sequences), lstm (sequences), dense per step, MSE per step', {
      inputs: 2, loss: 'mse', seed: 6, optimizer: { learningRate: 0.01 },
      layers: [rnn({ cell: 'gru', units: 17, returnSequences: true, initialiser: 'pytorch' }), rnn({ cell: 'lstm', units: 17, returnSequences: true }), dense({ units: 2 })],
    }],
    ['gru with resetAfter: false (sequences), gru, dense, cross-entropy', {
      inputs: 3, loss: xent, seed: 7, optimizer: { learningRate: 0.01 },
      layers: [rnn({ cell: 'gru', units: 17, returnSequences: true, resetAfter: false }), rnn({ cell: 'gru', units: 17 }), dense({ units: 3 })],
    }],
  ];
  for (const [name, config] of cases) {
    it(`${name}: loss, every gradient and 3 Adam steps, lengths 1, T and between`, async () => {
      const d = device!, T = 4, n = 5;
      const batch = randomBatch(config, { n, steps: T, lengths: [1, 4, 2, 3, 4], seed: 21 });
      const data = await dataset(d, config, batch, T);
      const model = new Sequential(d, config);
      try {
        const weights = model.weights();
        const want = forwardRef(config, weights, batch);
        const got = await model.evaluate(data, { batchSize: n });
        expect(Math.abs(got.loss - want.loss), `loss ${got.loss} against ${want.loss}`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(want.loss));
        const grads = await model.gradients(data, { batchSize: n });
        const ref = backwardRef(config, weights, batch).grads;
        expect(Object.keys(grads).sort()).toEqual(Object.keys(ref).sort());
        for (const [k, t] of Object.entries(ref)) expectClose(`d${k}`, grads[k]!.data, t.data, t.shape, 2e-6, 2e-4);
        await model.trainSteps(data, { steps: 3, batchSize: n });
        const after = trainStepsRef(config, weights, undefined, [batch, batch, batch]).weights;
        const now = model.weights();
        for (const [k, t] of Object.entries(after)) expectClose(`${k} after 3 steps`, now[k]!.data, t.data, t.shape, 1e-5, 1e-3);
      } finally {
        model.destroy();
        data.destroy();
      }
    }, 120_000);
  }
});
