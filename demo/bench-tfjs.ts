// The benchmark's models (BENCH_MODELS in src/node/bench-core.ts) in TensorFlow.js, on whichever backend is set, and
// a square tf.matMul: the TF.js half of the benchmark page (bench.ts). Timed as this runtime is (timeSteps).
import * as tf from '@tensorflow/tfjs';
import {
  CLASSES, INPUTS, median, round, rowSequences, shuffled, timeSteps, type BenchCell, type BenchModel, type MnistBytes, type ModelSize, type TimingOptions,
} from '../src/node/bench-core.js';

const log = (line: string) => console.log(`bench: ${line}`);

/**
 * `model` in TF.js layers, on logits: classifier simpleRNN(H) + dense; stacked simpleRNN(H, returnSequences) +
 * simpleRNN(H) + dense; per-step simpleRNN(H, returnSequences) + timeDistributed(dense), logits [B, T, 10].
 */
function tfjsModel(model: BenchModel, T: number, H: number, cell: BenchCell): tf.Sequential {
  const inputShape = [T, INPUTS];
  const dense = () => tf.layers.dense({ units: CLASSES });
  // TF.js's GRU is the reset-before form (it has no resetAfter: true): this runtime's GRU is timed in its default,
  // reset-after form (PyTorch's and cuDNN's), the same products plus a second bias.
  const rnn = (o: { units: number; returnSequences?: boolean; inputShape?: number[] }) =>
    cell === 'lstm' ? tf.layers.lstm(o) : cell === 'gru' ? tf.layers.gru(o) : tf.layers.simpleRNN(o);
  if (model === 'stacked') {
    return tf.sequential({ layers: [rnn({ units: H, returnSequences: true, inputShape }), rnn({ units: H }), dense()] });
  }
  if (model === 'per-step') {
    return tf.sequential({ layers: [rnn({ units: H, returnSequences: true, inputShape }), tf.layers.timeDistributed({ layer: dense() })] });
  }
  return tf.sequential({ layers: [rnn({ units: H, inputShape }), dense()] });
}

/**
 * `model` trained with Adam 0.001 and softmax cross-entropy on one-hot targets: [B, 10], or for per-step the label at
 * every step, [B, T, 10], where tf.losses.softmaxCrossEntropy takes the mean over batch and steps (as this runtime's
 * per-step loss). Inference (softmax of the logits, read back) for the classifier only.
 */
export async function benchTfjs(mnist: MnistBytes, model: BenchModel, size: ModelSize, o: TimingOptions) {
  const { batch: B, steps: T, units: H } = size;
  const perStep = model === 'per-step';
  const train = rowSequences(mnist.train, T);
  const order = shuffled(train.count, 1);
  const net = tfjsModel(model, T, H, size.cell ?? 'tanh');
  const optimizer = tf.train.adam(0.001);
  const variables = net.trainableWeights.map((w) => w.read() as tf.Variable);
  const targets = perStep ? T : 1; // one-hot rows per sequence
  // Batch i of the shuffled order, as host tensors (made before the clock starts; their upload is part of the step,
  // as it is in model.fit).
  const batchAt = (i: number) => {
    const x = new Float32Array(B * T * INPUTS);
    const y = new Float32Array(B * targets * CLASSES); // one-hot, made here so that no GPU work is queued before the clock starts
    const start = (i * B) % (train.count - B + 1);
    for (let r = 0; r < B; r++) {
      const k = order[start + r]!;
      for (let j = 0; j < T * INPUTS; j++) x[r * T * INPUTS + j] = train.pixels[k * T * INPUTS + j]! / 255;
      for (let t = 0; t < targets; t++) y[(r * targets + t) * CLASSES + train.labels[k]!] = 1;
    }
    return { x: tf.tensor3d(x, [B, T, INPUTS]), y: perStep ? tf.tensor3d(y, [B, T, CLASSES]) : tf.tensor2d(y, [B, CLASSES]) };
  };
  const step = async (i: number) => {
    const { x, y } = batchAt(i);
    const s = performance.now();
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, net.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true, variables)!;
    await loss.data(); // the step is done when its loss can be read
    const ms = performance.now() - s;
    tf.dispose([x, y, loss]);
    return ms;
  };
  const name = `tfjs ${tf.getBackend()}${model === 'classifier' ? '' : ` ${model}`}`;
  try {
    const steps = await timeSteps(name, B, o, step);
    let infer = {};
    if (o.inferImages > 0 && model === 'classifier') {
      const test = rowSequences(mnist.test, T, o.inferImages);
      const images = Float32Array.from(test.pixels, (v) => v / 255);
      const batch = Math.min(o.inferBatch, test.count);
      const predict = async (start: number, n: number) => {
        const x = tf.tensor3d(images.subarray(start * T * INPUTS, (start + n) * T * INPUTS), [n, T, INPUTS]);
        const probs = tf.tidy(() => tf.softmax(net.predict(x, { batchSize: n }) as tf.Tensor));
        await probs.data();
        tf.dispose([x, probs]);
      };
      await predict(0, batch); // warm-up
      const s = performance.now();
      for (let start = 0; start < test.count; start += batch) await predict(start, Math.min(batch, test.count - start));
      const ms = performance.now() - s;
      o.log(`${name}: inference on ${test.count} images in ${(ms / 1000).toFixed(2)} s`);
      infer = { infer_seq_per_s: round(test.count / (ms / 1000)), infer_images: test.count, infer_batch: batch };
    }
    return { ...steps, ...infer };
  } finally {
    net.dispose();
    optimizer.dispose();
  }
}

/** A 1024^3 tf.matMul on the current backend, as benchMatmul times ours (one element read back per run). */
export async function tfjsMatmul(size = 1024, runs = 3) {
  const a = tf.randomUniform([size, size]), b = tf.randomUniform([size, size]);
  const once = async () => {
    const s = performance.now();
    const c = tf.matMul(a, b);
    const corner = c.slice([0, 0], [1, 1]);
    await corner.data();
    const ms = performance.now() - s;
    tf.dispose([c, corner]);
    return ms;
  };
  try {
    await once();
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) ms.push(await once());
    const gflops = (2 * size ** 3) / (median(ms) / 1000) / 1e9;
    log(`tfjs ${tf.getBackend()} matmul ${size}^3: ${ms.map((m) => m.toFixed(0)).join(', ')} ms: ${gflops.toFixed(2)} GFLOP/s`);
    return { size, gflops: round(gflops), run_ms: ms.map((m) => round(m)) };
  } finally {
    tf.dispose([a, b]);
  }
}
