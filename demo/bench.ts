// The benchmark page (bench.html), driven by `npm run bench` (src/node/bench.ts) in headless Chromium. In the page,
// on the adapter navigator.gpu gives it: this runtime training the lecture's model on real MNIST batches, the same
// model in TensorFlow.js on its webgpu backend, both inferring on test images, a 1024^3 matmul through each, and
// TensorFlow.js on its wasm backend for context. Everything it loads comes from the page's own origin.
//
// Query parameters (all set by the bench command): systems=webgpu-rnn,tfjs,tfjs-wasm  sizes=150x28x150,...
// (batch x steps x units)  warmup=N  timed=N  infer=N (test images, 0: none)  inferBatch=N  matmul=N (M = N = K, 0: none)
// mode=model|sweep.
// Progress goes to the console as lines starting with "bench:"; the result is window.benchResult.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { adapterName, getDevice, MNIST_FILES, setAutotune } from '../src/index.js';
import {
  benchMatmul, benchWebgpuRnn, CLASSES, INPUTS, median, parseMnist, percentile, round, rowSequences, shuffled, SLOW_STEP_MS, splitAdapter,
  stepStats, withEfficiency, type BenchPageResult, type BenchRecord, type MnistBytes, type ModelSize, type TimingOptions,
} from '../src/node/bench-core.js';

declare global {
  interface Window {
    benchResult?: BenchPageResult;
  }
}

const log = (line: string) => console.log(`bench: ${line}`);
const out = document.getElementById('out')!;
const show = (line: string) => { out.textContent += `${line}\n`; log(line); };

function params() {
  const q = new URLSearchParams(location.search);
  const int = (name: string, fallback: number) => {
    const v = Number(q.get(name) ?? fallback);
    if (!Number.isInteger(v) || v < 0) throw new Error(`bad parameter ${name}=${q.get(name)}`);
    return v;
  };
  const sizes: ModelSize[] = (q.get('sizes') ?? '150x28x150').split(',').map((s) => {
    const [batch, steps, units] = s.split('x').map(Number);
    if (![batch, steps, units].every((n) => Number.isInteger(n) && n! > 0)) throw new Error(`bad size ${s}: expected batch x steps x units`);
    return { batch: batch!, steps: steps!, units: units! };
  });
  return {
    systems: (q.get('systems') ?? 'webgpu-rnn,tfjs,tfjs-wasm').split(','),
    sizes,
    mode: (q.get('mode') ?? 'model') as 'model' | 'sweep',
    matmul: int('matmul', 1024), // M = N = K of the matmul; 0: none
    timing: { warmup: int('warmup', 2), timed: Math.max(1, int('timed', 5)), inferImages: int('infer', 1000), inferBatch: Math.max(1, int('inferBatch', 1000)), log: show } satisfies TimingOptions,
  };
}

async function fetchMnist(): Promise<MnistBytes> {
  const entries = await Promise.all(Object.entries(MNIST_FILES).map(async ([key, file]) => {
    const response = await fetch(`./mnist/${file}`);
    if (!response.ok) throw new Error(`./mnist/${file}: HTTP ${response.status}`);
    return [key, new Uint8Array(await response.arrayBuffer())] as const;
  }));
  return parseMnist(Object.fromEntries(entries) as Parameters<typeof parseMnist>[0]);
}

/** The same model in TensorFlow.js: simpleRNN (tanh) of `units` + dense 10 on logits, Adam 0.001, softmax cross-entropy. */
async function benchTfjs(mnist: MnistBytes, size: ModelSize, o: TimingOptions) {
  const { batch: B, steps: T, units: H } = size;
  const train = rowSequences(mnist.train, T);
  const order = shuffled(train.count, 1);
  const model = tf.sequential({ layers: [tf.layers.simpleRNN({ units: H, inputShape: [T, INPUTS] }), tf.layers.dense({ units: CLASSES })] });
  const optimizer = tf.train.adam(0.001);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  // Batch i of the shuffled order, as host tensors (made before the clock starts; their upload is part of the step,
  // as it is in model.fit).
  const batchAt = (i: number) => {
    const x = new Float32Array(B * T * INPUTS);
    const y = new Float32Array(B * CLASSES); // one-hot, made here so that no GPU work is queued before the clock starts
    const start = (i * B) % (train.count - B + 1);
    for (let r = 0; r < B; r++) {
      const k = order[start + r]!;
      for (let j = 0; j < T * INPUTS; j++) x[r * T * INPUTS + j] = train.pixels[k * T * INPUTS + j]! / 255;
      y[r * CLASSES + train.labels[k]!] = 1;
    }
    return { x: tf.tensor3d(x, [B, T, INPUTS]), y: tf.tensor2d(y, [B, CLASSES]) };
  };
  const step = async (i: number) => {
    const { x, y } = batchAt(i);
    const s = performance.now();
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true, variables)!;
    await loss.data(); // the step is done when its loss can be read
    const ms = performance.now() - s;
    tf.dispose([x, y, loss]);
    return ms;
  };
  try {
    for (let i = 0; i < o.warmup; i++) await step(i);
    const stepMs: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < o.timed; i++) {
      stepMs.push(await step(o.warmup + i));
      if (stepMs.at(-1)! > SLOW_STEP_MS) o.log(`tfjs ${tf.getBackend()}: step ${i + 1}/${o.timed}: ${stepMs.at(-1)!.toFixed(0)} ms`);
    }
    const wallMs = performance.now() - t0;
    o.log(`tfjs ${tf.getBackend()}: ${o.timed} timed steps of batch ${B} in ${(wallMs / 1000).toFixed(2)} s (p50 ${percentile(stepMs, 50).toFixed(1)} ms)`);
    let infer = {};
    if (o.inferImages > 0) {
      const test = rowSequences(mnist.test, T, o.inferImages);
      const images = Float32Array.from(test.pixels, (v) => v / 255);
      const batch = Math.min(o.inferBatch, test.count);
      const predict = async (start: number, n: number) => {
        const x = tf.tensor3d(images.subarray(start * T * INPUTS, (start + n) * T * INPUTS), [n, T, INPUTS]);
        const probs = tf.tidy(() => tf.softmax(model.predict(x, { batchSize: n }) as tf.Tensor));
        await probs.data();
        tf.dispose([x, probs]);
      };
      await predict(0, batch); // warm-up
      const s = performance.now();
      for (let start = 0; start < test.count; start += batch) await predict(start, Math.min(batch, test.count - start));
      const ms = performance.now() - s;
      o.log(`tfjs ${tf.getBackend()}: inference on ${test.count} images in ${(ms / 1000).toFixed(2)} s`);
      infer = { infer_seq_per_s: round(test.count / (ms / 1000)), infer_images: test.count, infer_batch: batch };
    }
    return { ...stepStats(stepMs, wallMs, B), ...infer };
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}

/** A 1024^3 tf.matMul on the current backend, as benchMatmul times ours (one element read back per run). */
async function tfjsMatmul(size = 1024, runs = 3) {
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

/** "vendor/architecture" of the adapter TF.js's webgpu backend opened, and the description the page's adapter gives. */
async function tfjsAdapter(): Promise<{ adapter: string; adapter_description: string }> {
  const info = (tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string } }).adapterInfo;
  const page = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  const id = [info?.vendor, info?.architecture].filter(Boolean).join('/') || 'unknown';
  return { adapter: id, adapter_description: page?.info.description ?? '' };
}

async function run(): Promise<BenchPageResult> {
  const p = params();
  const records: BenchRecord[] = [];
  const errors: string[] = [];
  show(`loading MNIST from ./mnist/`);
  const mnist = await fetchMnist();
  const base = { runtime: 'chromium' as const, inputs: INPUTS, classes: CLASSES, warmup: p.timing.warmup, timed: p.timing.timed };
  const timing = p.mode === 'sweep' ? { ...p.timing, inferImages: 0 } : p.timing;
  const attempt = async (what: string, work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      const message = `${what}: ${(error as Error)?.message ?? String(error)}`;
      errors.push(message);
      show(`FAILED ${message}`);
    }
  };

  if (p.systems.includes('webgpu-rnn')) {
    const device = await getDevice({ log: show });
    // As `npm run train` does: each kernel shape is timed in every variant once, and the fastest is used.
    setAutotune(device, 'measure', { log: show });
    try {
      let matmulGflops: number | null = null;
      const adapter = splitAdapter(adapterName(device));
      if (p.matmul) {
        await attempt('webgpu-rnn matmul', async () => {
          const m = await benchMatmul(device, p.matmul, 3, show);
          matmulGflops = m.gflops;
          records.push({ system: 'webgpu-rnn', mode: 'matmul', runtime: 'chromium', backend: 'webgpu', ...adapter, ...m });
        });
      }
      for (const size of p.sizes) {
        await attempt(`webgpu-rnn ${size.batch}x${size.steps}x${size.units}`, async () => {
          show(`webgpu-rnn: batch ${size.batch}, ${size.steps} steps, ${size.units} units`);
          const r = await benchWebgpuRnn(device, mnist, size, timing);
          records.push({ system: 'webgpu-rnn', mode: p.mode, backend: 'webgpu', ...base, ...size, ...withEfficiency(r, size, matmulGflops) });
        });
      }
    } finally {
      device.destroy();
    }
  }

  if (p.systems.includes('tfjs')) {
    await attempt('tfjs webgpu', async () => {
      if (!(await tf.setBackend('webgpu'))) throw new Error('TF.js could not start its webgpu backend');
      await tf.ready();
      const adapter = await tfjsAdapter();
      show(`tfjs: backend webgpu on ${adapter.adapter} (${adapter.adapter_description})`);
      let matmulGflops: number | null = null;
      const ours = records.find((r) => r.system === 'webgpu-rnn' && r.mode === 'matmul');
      if (p.matmul) {
        await attempt('tfjs matmul', async () => {
          records.push({ system: 'tfjs', mode: 'matmul', runtime: 'chromium', backend: 'webgpu', ...adapter, ...(await tfjsMatmul(p.matmul)) });
        });
      }
      // The ceiling is this runtime's matmul on the same adapter, as for webgpu-rnn.
      if (ours && ours.adapter === adapter.adapter) matmulGflops = ours.gflops!;
      for (const size of p.sizes) {
        await attempt(`tfjs webgpu ${size.batch}x${size.steps}x${size.units}`, async () => {
          show(`tfjs webgpu: batch ${size.batch}, ${size.steps} steps, ${size.units} units`);
          const r = await benchTfjs(mnist, size, timing);
          records.push({ system: 'tfjs', mode: p.mode, backend: 'webgpu', ...base, ...adapter, ...size, ...withEfficiency(r, size, matmulGflops) });
        });
      }
    });
  }

  if (p.systems.includes('tfjs-wasm')) {
    await attempt('tfjs wasm', async () => {
      setWasmPaths({ 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded });
      setThreadsCount(navigator.hardwareConcurrency || 1);
      if (!(await tf.setBackend('wasm'))) throw new Error('TF.js could not start its wasm backend');
      await tf.ready();
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), threaded = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
      const threads = getThreadsCount();
      const adapter = { adapter: 'cpu/wasm', adapter_description: `${simd ? 'SIMD' : 'no SIMD'}, ${threaded ? 'threaded build' : 'single-threaded build'}, ${threads} thread${threads === 1 ? '' : 's'}` };
      show(`tfjs: backend wasm (${adapter.adapter_description})`);
      for (const size of p.sizes) {
        await attempt(`tfjs wasm ${size.batch}x${size.steps}x${size.units}`, async () => {
          show(`tfjs wasm: batch ${size.batch}, ${size.steps} steps, ${size.units} units`);
          const r = await benchTfjs(mnist, size, timing);
          records.push({ system: 'tfjs', mode: p.mode, backend: 'wasm', ...base, ...adapter, ...size, ...withEfficiency(r, size, null) });
        });
      }
    });
  }
  return { records, errors, userAgent: navigator.userAgent, crossOriginIsolated: globalThis.crossOriginIsolated === true };
}

run().then(
  (result) => {
    show(`done: ${result.records.length} records, ${result.errors.length} errors`);
    window.benchResult = result;
  },
  (error: unknown) => {
    const message = error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error);
    show(`FAILED ${message}`);
    window.benchResult = { records: [], errors: [message], userAgent: navigator.userAgent, crossOriginIsolated: globalThis.crossOriginIsolated === true };
  },
);
