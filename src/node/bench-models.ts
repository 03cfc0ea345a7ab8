// The benchmark's models beyond the lecture's classifier (BENCH_MODELS in bench-core.ts), with this runtime's layers
// API (Sequential): the stacked model and the per-step one. Timed as the classifier is (bench-core.ts timeSteps).
// Nothing here imports a Node module: the benchmark page bundles it too.
import { SequenceDataset } from '../data/sequences.js';
import { adapterName } from '../gpu/device.js';
import { layers, Sequential, type SequentialConfig } from '../model/sequential.js';
import { CLASSES, INPUTS, rowSequences, splitAdapter, timeSteps, type BenchCell, type BenchModel, type MnistBytes, type ModelSize, type TimingOptions } from './bench-core.js';

/** The layers of `model` at `units` (see BENCH_MODELS); softmax cross-entropy and Adam 0.001 as the classifier. */
export function sequentialConfig(model: Exclude<BenchModel, 'classifier'>, units: number, cell: BenchCell = 'tanh'): SequentialConfig {
  const c = cell === 'tanh' ? {} : { cell };
  const body = model === 'stacked'
    ? [layers.rnn({ units, returnSequences: true, ...c }), layers.rnn({ units, ...c }), layers.dense({ units: CLASSES })]
    : [layers.rnn({ units, returnSequences: true, ...c }), layers.dense({ units: CLASSES })];
  return { inputs: INPUTS, layers: body, loss: 'softmax-cross-entropy', optimizer: { learningRate: 0.001 }, seed: 1 };
}

/**
 * The first `count` sequences of `steps` MNIST rows (rowSequences), scaled to [0, 1]: x [count, steps, 28]; y the label
 * of each sequence, [count], or for per-step that label at every step, [count, steps].
 */
export function benchSequences(split: MnistBytes['train'], steps: number, count: number, perStep: boolean) {
  const seqs = rowSequences(split, steps, count);
  const x = Float32Array.from(seqs.pixels, (v) => v / 255);
  const y = perStep ? Int32Array.from({ length: seqs.count * steps }, (_, i) => seqs.labels[Math.floor(i / steps)]!) : Int32Array.from(seqs.labels);
  return { count: seqs.count, x, y };
}

/**
 * This runtime on a Sequential model: training steps timed one by one through Sequential.trainSteps (each awaited;
 * trainSteps also reads the parameters and Adam's moments back, as every call of it does). Shuffled: each call takes
 * the first batch of a new permutation of a data set of as many batches as the run takes (at most the training set).
 */
export async function benchSequential(device: GPUDevice, mnist: MnistBytes, model: Exclude<BenchModel, 'classifier'>, size: ModelSize, o: TimingOptions) {
  const { batch: B, steps: T, units: H } = size;
  const seqs = benchSequences(mnist.train, T, Math.max(1, o.warmup + o.timed) * B, model === 'per-step');
  const data = await SequenceDataset.fromArrays(device, { x: seqs.x, y: seqs.y, steps: T, inputs: INPUTS, classes: CLASSES, name: `bench-${model}-${T}` });
  const net = new Sequential(device, sequentialConfig(model, H, size.cell));
  try {
    const steps = await timeSteps(`webgpu-rnn ${model}`, B, o, async () => { await net.trainSteps(data, { steps: 1, batchSize: B, shuffle: true }); });
    return { ...splitAdapter(adapterName(device)), ...steps };
  } finally {
    net.destroy();
    data.destroy();
  }
}
