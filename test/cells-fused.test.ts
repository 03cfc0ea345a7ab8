// The fused all-steps recurrence of multi-gate cells (shaders/recurrence_gates_fused.wgsl: LSTM and GRU reset-after)
// forced through RnnSchedule, forward and backward against the float64 reference recurrence through the same cell
// (test/gates-harness.ts), at units that are not multiples of its 64 invocations (1, 17, and 65: two units per
// invocation), lengths 0, 1, T and between in one batch, with and without dOut, |z| past 100; that the default on a
// software adapter is the per-step variant and the fused one is not compiled; where it fits (GRU reset-before, gated,
// never runs it: test/cells-gpu.test.ts forces it there); and a Sequential stack of LSTM + GRU + dense, forced fused,
// against the per-step model and the float64 one. Few shapes: each compiles its step pipelines (0.3 to 0.6 s each on
// lavapipe) besides the fused pair and the products.
import { afterEach, describe, expect, it } from 'vitest';
import gatesFusedSource from '../shaders/recurrence_gates_fused.wgsl?raw';
import { gru, gruResetBefore, lstm } from '../src/cells/index.js';
import { gatesFusedFits } from '../src/kernels/recurrence.js';
import { adapterClass, setAutotune, tuningReport, type TuningMode } from '../src/index.js';
import { layers, Sequential, SequenceDataset, type SequentialConfig } from '../src/node/index.js';
import { backwardRef, forwardRef } from '../src/reference/sequential.js';
import { check, params } from './gates-harness.js';
import { expectClose, testDevice } from './helpers.js';
import { randomBatch } from './sequential-batches.js';

const device = await testDevice();

/** The labels of the pipelines `work` creates on the device (the cache hands back earlier ones without creating). */
async function pipelinesCreated(work: () => Promise<unknown>): Promise<string[]> {
  const d = device!;
  const created: string[] = [];
  const original = d.createComputePipelineAsync;
  d.createComputePipelineAsync = function (descriptor: GPUComputePipelineDescriptor) {
    created.push(descriptor.label ?? '');
    return original.call(this, descriptor);
  };
  try {
    await work();
  } finally {
    d.createComputePipelineAsync = original;
  }
  return created;
}

// batch 5, 4 steps, 3 inputs, 17 units, lengths 0, 1, 4, 2, 4: the shape of test/cells-gpu.test.ts
const SHAPE = [5, 4, 3, 17] as const;
const LENGTHS = [0, 1, 4, 2, 4];

describe.skipIf(!device)('the fused recurrence of LSTM and GRU (reset-after)', () => {
  afterEach(() => setAutotune(device!, 'off'));

  // First in the file, while the pipeline cache is empty: a fused pipeline compiled here would show.
  it('is neither chosen nor compiled by default: tuning off, or measuring on a software adapter', async () => {
    const cpu = adapterClass(device!) === 'cpu'; // a GPU measures both variants (test/tune.test.ts covers timing)
    for (const mode of (cpu ? ['off', 'measure'] : ['off']) as TuningMode[]) {
      setAutotune(device!, mode);
      const created = await pipelinesCreated(() => check(device!, lstm, params(lstm, ...SHAPE, LENGTHS, 24), { dOut: true, dx: true }));
      expect(created.some((l) => /Fused/.test(l)), created.join(', ')).toBe(false);
      if (mode === 'off') expect(created).toContain('rnn.forwardGates lstm'); // the cache was empty: the spy sees creation
      expect(tuningReport(device!).filter((c) => c.kernel.startsWith('rnn.recurrence'))).toEqual([]);
    }
  });

  for (const cell of [lstm, gru]) {
    it(`${cell.name}, forced: 17 units, lengths 0, 1, T and between, dOut and dx`, async () => {
      setAutotune(device!, { recurrence: 'fused' });
      const created = await pipelinesCreated(() =>
        check(device!, cell, params(cell, ...SHAPE, LENGTHS, 24), { dOut: true, dx: true, recurrence: 'fused' }));
      expect(created).toEqual(expect.arrayContaining([`rnn.forwardGatesFused ${cell.name}`, `rnn.backwardGatesFused ${cell.name}`]));
    });
  }
  it('lstm and gru, forced: pre-activations past ±100 stay finite and match (the 17-unit shape again: no compile)', async () => {
    setAutotune(device!, { recurrence: 'fused' });
    for (const cell of [lstm, gru]) {
      const p = params(cell, ...SHAPE, [4, 4, 2, 1, 3], 19, 300); // test/cells-gpu.test.ts: its first step's |z| passes 100
      const got = await check(device!, cell, p, { dOut: true, dx: true, through: 1e-2, recurrence: 'fused' });
      for (const v of [got.outputs, got.dwh, got.dwx, got.dh0]) expect(v.every(Number.isFinite)).toBe(true);
    }
  });
  // One more shape each, without dOut (a layer on the last state): each new shape compiles its own pipelines.
  it('gru, forced: 1 unit, one step, no dOut, no dx', () => {
    setAutotune(device!, { recurrence: 'fused' });
    return check(device!, gru, params(gru, 3, 1, 2, 1, [1, 0, 1], 5), { dOut: false, dx: false, recurrence: 'fused' });
  });
  it('lstm, forced: 65 units (two an invocation), batch 9 (a workgroup of 1 sequence and 3 padding lanes), no dOut', () => {
    setAutotune(device!, { recurrence: 'fused' });
    return check(device!, lstm, params(lstm, 9, 3, 2, 65, [3, 0, 1, 2, 3, 3, 1, 2, 3], 13), { dOut: false, dx: true, recurrence: 'fused' });
  });

  it('fits where its workgroup memory does; a gated cell (GRU reset-before) never runs it', () => {
    const d = device!, bytes = d.limits.maxComputeWorkgroupStorageSize;
    const at = (units: number) => ({ steps: 4, batch: 8, units });
    // backward's dz_t [4, G·H] floats; forward alone h_{t-1} [4, H]
    const lstmMax = Math.floor(bytes / (4 * 4 * 4)), gruMax = Math.floor(bytes / (4 * 3 * 4));
    expect(gatesFusedFits(d, at(lstmMax), lstm, true)).toBe(true);
    expect(gatesFusedFits(d, at(lstmMax + 1), lstm, true)).toBe(false);
    expect(gatesFusedFits(d, at(lstmMax + 1), lstm, false)).toBe(true);
    expect(gatesFusedFits(d, at(gruMax), gru, true)).toBe(true);
    expect(gatesFusedFits(d, at(gruMax + 1), gru, true)).toBe(false);
    expect(gatesFusedFits(d, at(Math.floor(bytes / 16) + 1), gru, false)).toBe(false);
    expect(gatesFusedFits(d, at(17), gruResetBefore, true)).toBe(false);
    const maxPerDim = d.limits.maxComputeWorkgroupsPerDimension;
    expect(gatesFusedFits(d, { steps: 4, batch: 4 * maxPerDim, units: 8 }, lstm, true)).toBe(true);
    expect(gatesFusedFits(d, { steps: 4, batch: 4 * maxPerDim + 1, units: 8 }, lstm, true)).toBe(false);
  });

  it('the shader knows no cell: its step comes in through the CELL define', () => {
    expect(gatesFusedSource).not.toMatch(/tanh|sigmoid/i);
    expect(gatesFusedSource).toContain('${CELL}');
  });
});

describe.skipIf(!device)('Sequential with LSTM and GRU layers, forced fused', () => {
  const { rnn, dense } = layers;
  const xent = 'softmax-cross-entropy' as const;
  const config: SequentialConfig = {
    inputs: 3, loss: xent, seed: 5, optimizer: { learningRate: 0.01 },
    layers: [rnn({ cell: 'lstm', units: 17, returnSequences: true }), rnn({ cell: 'gru', units: 17 }), dense({ units: 3 })],
  };
  afterEach(() => setAutotune(device!, 'off'));

  it('lstm (sequences), gru, dense: the loss and every gradient of per-step, and of the float64 model', async () => {
    const d = device!, T = 4, n = 5;
    const batch = randomBatch(config, { n, steps: T, lengths: [1, 4, 2, 3, 4], seed: 21 });
    const data = await SequenceDataset.fromArrays(d, { x: Float32Array.from(batch.x), steps: T, inputs: 3, y: Int32Array.from(batch.y), classes: 3, lengths: Int32Array.from(batch.lengths!) });
    const run = async (mode: TuningMode) => {
      setAutotune(d, mode);
      const model = new Sequential(d, config);
      try {
        return { weights: model.weights(), loss: (await model.evaluate(data, { batchSize: n })).loss, grads: await model.gradients(data, { batchSize: n }) };
      } finally {
        model.destroy();
      }
    };
    try {
      const perStep = await run('off');
      const fused = await run({ recurrence: 'fused' });
      expect(tuningReport(d)).toEqual([]);
      const want = forwardRef(config, perStep.weights, batch).loss;
      expect(Math.abs(fused.loss - perStep.loss), `fused ${fused.loss} against per-step ${perStep.loss}`).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(want));
      expect(Math.abs(fused.loss - want), `fused ${fused.loss} against float64 ${want}`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(want));
      const ref = backwardRef(config, perStep.weights, batch).grads;
      expect(Object.keys(fused.grads).sort()).toEqual(Object.keys(ref).sort());
      for (const [k, t] of Object.entries(ref)) {
        expectClose(`d${k} fused against per-step`, fused.grads[k]!.data, perStep.grads[k]!.data, t.shape, 1e-6, 1e-4);
        expectClose(`d${k} fused against float64`, fused.grads[k]!.data, t.data, t.shape, 2e-6, 2e-4);
      }
    } finally {
      data.destroy();
    }
  }, 120_000);
});
