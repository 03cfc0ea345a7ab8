// ms per training step of Sequential models on whatever adapter getDevice finds, each model tuned first, on random
// data of MNIST's shape. On a GPU machine through the device pack: copy this file into .devgpu/app/, then
// `bash .devgpu/run.sh node sequential-steps.mjs` (BATCHES=8 for a quick check on a software adapter).
// One JSON line per model and batch: steps are encoded 20 to a submission (one trainSteps call), timed as a whole,
// read-back of the parameters included; the median of 5 such runs is divided by 20.
import { getDevice, layers, Sequential, SequenceDataset, setAutotune } from './dist/node.js';

const device = await getDevice({ log: (l) => console.error(l) });
setAutotune(device, 'measure');
const T = 28, I = 28, H = 150, C = 10, STEPS = 20;
const models = {
  single: [layers.rnn({ units: H }), layers.dense({ units: C })],
  stacked: [layers.rnn({ units: H, returnSequences: true }), layers.rnn({ units: H }), layers.dense({ units: C })],
  'per-step': [layers.rnn({ units: H, returnSequences: true }), layers.dense({ units: C })],
};
for (const B of (process.env.BATCHES ?? '150,1024').split(',').map(Number)) {
  const n = B * STEPS;
  const x = Float32Array.from({ length: n * T * I }, (_, i) => ((i * 2654435761) % 1000) / 1000);
  for (const [name, stack] of Object.entries(models)) {
    const perStep = name === 'per-step';
    const y = Int32Array.from({ length: perStep ? n * T : n }, (_, i) => (i * 7) % C);
    const data = await SequenceDataset.fromArrays(device, { x, y, steps: T, inputs: I, classes: C });
    const model = new Sequential(device, { inputs: I, layers: stack, loss: 'softmax-cross-entropy' });
    await model.trainSteps(data, { steps: STEPS, batchSize: B }); // tuning, compiling, warm-up
    const runs = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      await model.trainSteps(data, { steps: STEPS, batchSize: B });
      runs.push((performance.now() - t0) / STEPS);
    }
    runs.sort((a, b) => a - b);
    const loss = (await model.evaluate(data, { batchSize: B })).loss;
    console.log(JSON.stringify({ system: 'webgpu-rnn', model: name, batch: B, step_ms_p50: Number(runs[2].toFixed(3)), seq_per_s: Math.round(B / runs[2] * 1000), loss: Number(loss.toFixed(4)) }));
    model.destroy();
    data.destroy();
  }
}
device.destroy();
