// The benchmark page (bench.html), driven by `npm run bench` (src/node/bench.ts) in headless Chromium. In the page,
// on the adapter navigator.gpu gives it: this runtime training the benchmark's models (the lecture's classifier, a
// stacked and a per-step one: BENCH_MODELS) on real MNIST batches, the same models in TensorFlow.js (bench-tfjs.ts) on
// its webgpu backend, both inferring on test images (the classifier), a 1024^3 matmul through each, and TensorFlow.js
// on its wasm backend for context. Everything it loads comes from the page's own origin.
//
// Query parameters (all set by the bench command): systems=webgpu-rnn,tfjs,tfjs-wasm  sizes=150x28x150,...
// (batch x steps x units)  cell=tanh|lstm|gru  models=classifier,stacked,per-step  warmup=N  timed=N  infer=N (test images, 0: none)
// inferBatch=N  matmul=N (M = N = K, 0: none)  mode=model|sweep.
// Progress goes to the console as lines starting with "bench:"; the result is window.benchResult.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { adapterName, getDevice, MNIST_FILES, setAutotune } from '../src/index.js';
import {
  BENCH_CELLS, BENCH_MODELS, benchMatmul, benchWebgpuRnn, CLASSES, INPUTS, parseMnist, splitAdapter, withEfficiency,
  type BenchCell, type BenchModel, type BenchPageResult, type BenchRecord, type MnistBytes, type ModelSize, type TimingOptions,
} from '../src/node/bench-core.js';
import { benchSequential } from '../src/node/bench-models.js';
import { benchTfjs, tfjsMatmul } from './bench-tfjs.js';

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
  const cell = (q.get('cell') ?? 'tanh') as BenchCell;
  if (!BENCH_CELLS.includes(cell)) throw new Error(`bad cell ${cell}: expected one of ${BENCH_CELLS.join(', ')}`);
  const sizes: ModelSize[] = (q.get('sizes') ?? '150x28x150').split(',').map((s) => {
    const [batch, steps, units] = s.split('x').map(Number);
    if (![batch, steps, units].every((n) => Number.isInteger(n) && n! > 0)) throw new Error(`bad size ${s}: expected batch x steps x units`);
    return { batch: batch!, steps: steps!, units: units!, ...(cell !== 'tanh' && { cell }) };
  });
  const models = (q.get('models') ?? 'classifier').split(',') as BenchModel[];
  const bad = models.find((m) => !BENCH_MODELS.includes(m));
  if (bad !== undefined) throw new Error(`bad model ${bad}: expected one of ${BENCH_MODELS.join(', ')}`);
  return {
    systems: (q.get('systems') ?? 'webgpu-rnn,tfjs,tfjs-wasm').split(','),
    sizes,
    models,
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
  // Every size and model of the run, in turn; a failure is reported and the next one runs.
  const eachPoint = async (what: string, work: (size: ModelSize, model: BenchModel) => Promise<void>) => {
    for (const size of p.sizes) {
      for (const model of p.models) {
        await attempt(`${what} ${model} ${size.batch}x${size.steps}x${size.units}`, async () => {
          show(`${what} ${model}: batch ${size.batch}, ${size.steps} steps, ${size.units} units`);
          await work(size, model);
        });
      }
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
      await eachPoint('webgpu-rnn', async (size, model) => {
        const r = model === 'classifier' ? await benchWebgpuRnn(device, mnist, size, timing) : await benchSequential(device, mnist, model, size, timing);
        records.push({ system: 'webgpu-rnn', mode: p.mode, model, backend: 'webgpu', ...base, ...size, ...withEfficiency(r, size, matmulGflops, model) });
      });
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
      await eachPoint('tfjs webgpu', async (size, model) => {
        const r = await benchTfjs(mnist, model, size, timing);
        records.push({ system: 'tfjs', mode: p.mode, model, backend: 'webgpu', ...base, ...adapter, ...size, ...withEfficiency(r, size, matmulGflops, model) });
      });
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
      await eachPoint('tfjs wasm', async (size, model) => {
        const r = await benchTfjs(mnist, model, size, timing);
        records.push({ system: 'tfjs', mode: p.mode, model, backend: 'wasm', ...base, ...adapter, ...size, ...withEfficiency(r, size, null, model) });
      });
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
