// A lost device, or a step the GPU refuses, comes out of fit / trainSteps / evaluate / predict as a GpuError that
// says what happened and what to do, and save() afterwards writes a consistent checkpoint (step and weights of one
// and the same read-back state).
import { afterAll, describe, expect, it } from 'vitest';
import { decodeSafetensors, GpuError, ImageDataset, SequenceClassifier } from '../src/index.js';
import { getDevice } from '../src/node/index.js';
import { coreOf } from '../src/model/sequential.js';
import { testDevice } from './helpers.js';

const device = await testDevice();
const T = 3, I = 4, H = 5, C = 3, N = 8;
const config = { steps: T, inputs: I, units: H, classes: C, seed: 5 };

function dataset(d: GPUDevice): Promise<ImageDataset> {
  const pixels = Uint8Array.from({ length: N * T * I }, (_, i) => (i * 53) % 256);
  const labels = Uint8Array.from({ length: N }, (_, i) => i % C);
  return ImageDataset.create(d, 'tiny', { count: N, rows: T, cols: I, pixels }, { count: N, labels }, C);
}

/** The checkpoint's step (metadata and Adam's t) and its Wh. */
function checkpoint(bytes: Uint8Array) {
  const { tensors, metadata } = decodeSafetensors(bytes, 'checkpoint');
  return { step: Number(metadata.step), t: (tensors['adam.schedule']!.data as Float32Array)[0], wh: Array.from(tensors['rnn.wh']!.data as Float32Array) };
}

/** Wh after `steps` training steps (batch 2, one fit) on a healthy device: what a checkpoint at that step must hold. */
async function reference(d: GPUDevice, data: ImageDataset, steps: number): Promise<number[]> {
  const m = new SequenceClassifier(d, config);
  if (steps > 0) await m.trainSteps(data, { steps, batchSize: 2 });
  const wh = Array.from(m.parameter('rnn.wh'));
  m.destroy();
  return wh;
}

describe.skipIf(!device)('device loss', async () => {
  const d = device!;
  const data = await dataset(d);
  afterAll(() => data.destroy());

  it('device.destroy() during fit: a GpuError saying the device was lost and how to resume; save() stays consistent', async () => {
    const doomed = await getDevice({ log: () => {} });
    const model = new SequenceClassifier(doomed, config);
    const doomedData = await dataset(doomed);
    let reports = 0;
    const error = await model.fit(doomedData, {
      epochs: 3, batchSize: 2, progressEvery: 1,
      onProgress: () => { if (++reports === 1) doomed.destroy(); },
    }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(GpuError);
    expect((error as Error).message).toMatch(/^the GPU device was lost \(destroyed.*\)\..*resume from the last checkpoint \(npm run train -- --resume FILE\) or create a new device/);

    const saved = checkpoint(model.save());
    expect(saved.t).toBe(saved.step);
    expect(saved.wh).toEqual(await reference(d, data, saved.step));

    // Later calls say the same at once.
    await expect(model.evaluate(doomedData)).rejects.toThrow(/^the GPU device was lost/);
    await expect(model.trainSteps(doomedData, { steps: 1, batchSize: 2 })).rejects.toBeInstanceOf(GpuError);
    await expect(model.predict(new Uint8Array(T * I))).rejects.toThrow(/^the GPU device was lost/);
    expect(checkpoint(model.save())).toEqual(saved);
    model.destroy();
  });

  it('trainSteps({ readBack: false }): save() writes the last read-back state with its own step, not the steps run since', async () => {
    const model = new SequenceClassifier(d, config);
    await model.trainSteps(data, { steps: 2, batchSize: 2, readBack: false });
    expect(model.step).toBe(2);
    const stale = checkpoint(model.save());
    expect(stale.step).toBe(0);
    expect(stale.wh).toEqual(await reference(d, data, 0));
    await model.trainSteps(data, { steps: 1, batchSize: 2 });
    const fresh = checkpoint(model.save());
    expect([fresh.step, fresh.t, model.step]).toEqual([3, 3, 3]);
    expect(fresh.wh).toEqual(await reference(d, data, 3));
    model.destroy();
  });

  it('a step the GPU refuses (a buffer destroyed behind the model) is a GpuError, not zeros or NaN', async () => {
    const model = new SequenceClassifier(d, config);
    const before = checkpoint(model.save());
    coreOf(model.sequential).state.buffers.params.destroy(); // behind the model's back
    await expect(model.predict(new Uint8Array(T * I))).rejects.toThrow(/^predict \(batch 1\): .*[Dd]estroyed/);
    await expect(model.evaluate(data)).rejects.toThrow(/^evaluate \(batch 8\): .*[Dd]estroyed/);
    const error = await model.fit(data, { batchSize: 2, progressEvery: 2 }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(GpuError);
    expect((error as Error).message).toMatch(/^training steps 1\.\.2: .*[Dd]estroyed/);
    expect(checkpoint(model.save()), 'the failed read-back did not replace the state').toEqual(before);
    model.destroy();
  });
});
