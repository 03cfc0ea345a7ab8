// `npm run bench`: the pieces (flags, FLOP count, percentiles, sequences, sweep sizes, CSV / SVG / markdown), the
// trainSteps hook it times, and the whole benchmark end to end with tiny settings through the built CLI: headless
// Chromium with this runtime, TF.js webgpu and TF.js wasm, then Node, each on the three models (classifier, stacked,
// per-step), on 4-step sequences (TF.js webgpu on SwiftShader takes seconds per 28-step step). Shapes and sanity of the
// output, not speed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMnist, SequenceClassifier } from '../src/node/index.js';
import { appendMarkdown, DEFAULTS, formatMarkdown, parseBenchArgs, ratios, sweepCsv, sweepSvg } from '../src/node/bench.js';
import { percentile, rowSequences, sweepSizes, trainingFlopsPerSequence, type BenchRecord } from '../src/node/bench-core.js';
import { benchSequences, sequentialConfig } from '../src/node/bench-models.js';
import { formatProfile, profileRnn } from '../src/node/profile.js';
import { testDevice } from './helpers.js';

const device = await testDevice();

const CHROMIUM = process.env.PUPPETEER_EXECUTABLE_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  if (process.env.CI === 'true' || process.env.REQUIRE_GPU === '1') throw new Error(`no Chromium at ${CHROMIUM}: run .ci/install-system.sh`);
  console.warn(`SKIPPING the end-to-end benchmark: no Chromium at ${CHROMIUM} (set PUPPETEER_EXECUTABLE_PATH)`);
}

describe('parseBenchArgs', () => {
  it('defaults: the lecture model, all systems, a bounded run', () => {
    const a = parseBenchArgs([]);
    expect(a).toMatchObject({ batch: 150, steps: 28, units: 150, warmup: 2, timed: 10, inferImages: 1000, json: false, sweep: false, matmul: true, matmulSize: 1024 });
    expect(a !== 'help' && a.systems).toEqual(['webgpu-rnn', 'tfjs', 'tfjs-wasm', 'node']);
    expect(a !== 'help' && a.models).toEqual(['classifier', 'stacked', 'per-step']);
  });
  it('reads every flag', () => {
    expect(parseBenchArgs(['--json', '--batch', '8', '--steps', '56', '--units', '16', '--timed', '3', '--warmup', '0', '--infer-images', '64',
      '--infer-batch', '32', '--systems', 'tfjs,node', '--no-matmul', '--matmul-size', '256', '--sweep', '--sweep-batch', '1,2', '--sweep-steps', '28',
      '--sweep-units', '4,8', '--sweep-warmup', '0', '--sweep-timed', '1', '--out', 'o', '--markdown', 'B.md', '--from', 'r.jsonl', '--adapter', 'lavapipe',
      '--pages', 'p', '--models', 'per-step,stacked,per-step', '--cell', 'lstm'])).toEqual({
      ...DEFAULTS, json: true, batch: 8, steps: 56, units: 16, cell: 'lstm', timed: 3, warmup: 0, inferImages: 64, inferBatch: 32, systems: ['tfjs', 'node'],
      matmul: false, matmulSize: 256, sweep: true, sweepBatch: [1, 2], sweepSteps: [28], sweepUnits: [4, 8], sweepWarmup: 0, sweepTimed: 1, out: 'o',
      markdown: 'B.md', from: 'r.jsonl', adapter: 'lavapipe', pages: 'p', models: ['per-step', 'stacked'],
    });
    expect(parseBenchArgs(['-h'])).toBe('help');
    expect(parseBenchArgs(['--profile', '--batch', '4'])).toMatchObject({ profile: true, batch: 4 });
  });
  it('rejects bad flags, naming them', () => {
    expect(() => parseBenchArgs(['--timed', '0'])).toThrow('--timed expects an integer >= 1, got 0');
    expect(() => parseBenchArgs(['--batch', 'x'])).toThrow('--batch expects an integer >= 1, got x');
    expect(() => parseBenchArgs(['--infer-images', '20000'])).toThrow('--infer-images expects an integer from 0 to 10000, got 20000');
    expect(() => parseBenchArgs(['--systems', 'tfjs,pytorch'])).toThrow("--systems: unknown system 'pytorch'");
    expect(() => parseBenchArgs(['--models', 'stacked,lstm'])).toThrow("--models: unknown model 'lstm' (known: classifier, stacked, per-step)");
    expect(() => parseBenchArgs(['--models'])).toThrow('--models expects a comma-separated list of classifier, stacked, per-step, got nothing');
    expect(() => parseBenchArgs(['--sweep-batch', '1,,2'])).toThrow('--sweep-batch expects an integer >= 1, got ');
    expect(() => parseBenchArgs(['--markdown'])).toThrow('--markdown expects a file name, got nothing');
    expect(() => parseBenchArgs(['--fast'])).toThrow('unknown option --fast');
    expect(() => parseBenchArgs(['--cell', 'peephole'])).toThrow('--cell expects one of tanh, lstm, gru, got peephole');
  });
});

describe.skipIf(!device)('--profile: the RNN pass phase by phase', () => {
  it('times every phase of the schedule training uses, with shares and rates that add up', async () => {
    const { records, tuning } = await profileRnn(device!, { batch: 5, steps: 3, units: 7 }, 4);
    expect(records.map((r) => r.phase)).toEqual(['input projection', 'forward steps (per-step)', 'transpose Wh', 'backward steps (per-step)', 'dWx', 'dWh', 'db', 'sum']);
    for (const r of records) {
      expect(r.ms, r.phase).toBeGreaterThan(0);
      expect(r).toMatchObject({ mode: 'profile', cell: 'tanh', batch: 5, steps: 3, units: 7, inputs: 4 });
    }
    const parts = records.slice(0, -1), sum = records.at(-1)!;
    expect(parts.reduce((a, r) => a + r.share, 0)).toBeCloseTo(1, 2);
    expect(sum.ms).toBeCloseTo(parts.reduce((a, r) => a + r.ms, 0), 1);
    expect(records.find((r) => r.phase === 'transpose Wh')!.gflops).toBeNull();
    // FLOPs of the forward steps: 2 T B H H, over its time.
    const fwd = records.find((r) => r.phase.startsWith('forward'))!;
    expect(fwd.gflops! / (2 * 3 * 5 * 7 * 7 / fwd.ms / 1e6)).toBeCloseTo(1, 1);
    const text = formatProfile(records);
    expect(text).toMatch(/^RNN forward \+ backward, batch 5, 3 steps, 4 inputs, 7 tanh units, on /);
    for (const r of records) expect(text).toContain(r.phase);
    expect(Array.isArray(tuning)).toBe(true);
  });
  it('profiles a multi-gate cell (--cell gru): its 3H-wide products, and dbh', async () => {
    const { records } = await profileRnn(device!, { batch: 5, steps: 3, units: 7, cell: 'gru' }, 4);
    expect(records.map((r) => r.phase)).toEqual(['input projection', 'forward steps (per-step)', 'transpose Wh', 'backward steps (per-step)', 'dWx', 'dWh', 'db', 'dbh', 'sum']);
    const fwd = records.find((r) => r.phase.startsWith('forward'))!;
    expect(fwd.cell).toBe('gru');
    expect(fwd.gflops! / (2 * 3 * 5 * 7 * 21 / fwd.ms / 1e6)).toBeCloseTo(1, 1); // 2 T B H (3H)
  });
});

describe('the measurements’ arithmetic', () => {
  it('training FLOPs per sequence: 6 (T(IH + HH) + HC)', () => {
    expect(trainingFlopsPerSequence({ steps: 28, units: 150 })).toBe(6 * (28 * (28 * 150 + 150 * 150) + 150 * 10));
    expect(trainingFlopsPerSequence({ steps: 28, units: 150 })).toBe(4_494_600);
    expect(trainingFlopsPerSequence({ steps: 2, units: 5, inputs: 3, classes: 1 })).toBe(6 * (2 * (15 + 25) + 5));
    // LSTM and GRU: products 4 and 3 gate blocks wide.
    expect(trainingFlopsPerSequence({ steps: 2, units: 5, inputs: 3, classes: 1, cell: 'lstm' })).toBe(6 * (4 * 2 * (15 + 25) + 5));
    expect(trainingFlopsPerSequence({ steps: 2, units: 5, inputs: 3, classes: 1, cell: 'gru', model: 'stacked' })).toBe(6 * (3 * 2 * (15 + 25) + 3 * 2 * 2 * 25 + 5));
    expect(trainingFlopsPerSequence({ steps: 2, units: 5, inputs: 3, classes: 1, model: 'classifier' })).toBe(6 * (2 * (15 + 25) + 5));
  });
  it('the other models: stacked adds T(HH + HH) for its second layer, per-step has the dense layer at every step', () => {
    expect(trainingFlopsPerSequence({ steps: 2, units: 5, inputs: 3, classes: 4, model: 'stacked' })).toBe(6 * (2 * (15 + 25) + 2 * (25 + 25) + 20));
    expect(trainingFlopsPerSequence({ steps: 2, units: 5, inputs: 3, classes: 4, model: 'per-step' })).toBe(6 * (2 * (15 + 25) + 2 * 20));
    expect(trainingFlopsPerSequence({ steps: 28, units: 150, model: 'stacked' })).toBe(6 * (28 * (4200 + 22500) + 28 * 45000 + 1500));
  });
  it('the Sequential models and their data: the same MNIST rows, a label per sequence or the label at every step', () => {
    expect(sequentialConfig('stacked', 7).layers).toEqual([
      { type: 'rnn', units: 7, returnSequences: true }, { type: 'rnn', units: 7 }, { type: 'dense', units: 10 }]);
    expect(sequentialConfig('per-step', 7)).toMatchObject({
      inputs: 28, loss: 'softmax-cross-entropy', optimizer: { learningRate: 0.001 }, layers: [{ type: 'rnn', units: 7, returnSequences: true }, { type: 'dense', units: 10 }] });
    const split = { count: 3, pixels: Uint8Array.from({ length: 3 * 784 }, (_, i) => i % 256), labels: Uint8Array.from([4, 7, 9]) };
    const one = benchSequences(split, 28, 2, false);
    expect([one.count, one.x.length, Array.from(one.y)]).toEqual([2, 2 * 784, [4, 7]]);
    expect([one.x[0], one.x[255]]).toEqual([0, 1]);
    const each = benchSequences(split, 14, 3, true);
    expect([each.count, each.y.length]).toEqual([3, 3 * 14]);
    expect(Array.from(each.y.subarray(0, 14)).every((c) => c === 4) && Array.from(each.y.subarray(28)).every((c) => c === 7)).toBe(true);
  });
  it('percentiles interpolate between order statistics', () => {
    expect(percentile([5, 1, 3], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 95)).toBeCloseTo(10.5);
    expect(percentile([7], 95)).toBe(7);
  });
  it('sequences of other lengths are the rows of consecutive images, labelled by their last row', () => {
    const split = { count: 3, pixels: Uint8Array.from({ length: 3 * 784 }, (_, i) => i % 251), labels: Uint8Array.from([4, 7, 9]) };
    const same = rowSequences(split, 28);
    expect([same.count, same.pixels.length, Array.from(same.labels)]).toEqual([3, 3 * 784, [4, 7, 9]]);
    const long = rowSequences(split, 56);
    expect([long.count, long.pixels.length, Array.from(long.labels)]).toEqual([1, 56 * 28, [7]]);
    expect(Array.from(long.pixels.subarray(784, 790))).toEqual(Array.from(split.pixels.subarray(784, 790)));
    const short = rowSequences(split, 14, 4);
    expect([short.count, Array.from(short.labels)]).toEqual([4, [4, 4, 7, 7]]);
  });
  it('a sweep varies one size at a time and runs the base size once', () => {
    const sizes = sweepSizes({ batch: 150, steps: 28, units: 150 }, { batch: [1, 150], steps: [28, 112], units: [64, 150] });
    expect(sizes).toEqual([
      { batch: 1, steps: 28, units: 150, vary: ['batch'] },
      { batch: 150, steps: 28, units: 150, vary: ['batch', 'steps', 'units'] },
      { batch: 150, steps: 112, units: 150, vary: ['steps'] },
      { batch: 150, steps: 28, units: 64, vary: ['units'] },
    ]);
  });
});

describe('reports', () => {
  const common = { runtime: 'chromium', backend: 'webgpu', adapter: 'google/swiftshader', adapter_description: '', steps: 28, units: 150, date: '2026-01-01T00:00:00Z', machine: 'test', version: 'Chrome 1' } as const;
  const records: BenchRecord[] = [
    { ...common, system: 'webgpu-rnn', mode: 'model', batch: 150, train_seq_per_s: 300, infer_seq_per_s: 900, step_ms_p50: 500, step_ms_p95: 600, infer_images: 1000, train_gflops: 1.35, matmul_gflops: 2, train_of_matmul: 0.67, warmup: 2, timed: 10 },
    { ...common, system: 'tfjs', mode: 'model', batch: 150, train_seq_per_s: 100, infer_seq_per_s: 300, step_ms_p50: 1500, step_ms_p95: 1600, infer_images: 1000, train_gflops: 0.45, matmul_gflops: 2, train_of_matmul: 0.22, warmup: 2, timed: 10 },
    { ...common, system: 'tfjs', mode: 'model', backend: 'wasm', adapter: 'cpu/wasm', batch: 150, train_seq_per_s: 600, infer_seq_per_s: 600, step_ms_p50: 250, step_ms_p95: 260, infer_images: 1000, train_gflops: 2.7, matmul_gflops: null, train_of_matmul: null, warmup: 2, timed: 10 },
    { ...common, system: 'webgpu-rnn', mode: 'matmul', size: 1024, gflops: 2, run_ms: [1000, 1100, 1200] },
  ];
  it('ratios: webgpu-rnn / tfjs on the same adapter and size', () => {
    expect(ratios(records)).toEqual([
      { runtime: 'chromium', model: 'classifier', size: '150x28x150', adapter: 'google/swiftshader', vs: 'tfjs webgpu', train: 3, infer: 3 },
      { runtime: 'chromium', model: 'classifier', size: '150x28x150', adapter: 'google/swiftshader', vs: 'tfjs wasm', train: 0.5, infer: 1.5 },
    ]);
  });
  it('ratios per model: stacked against stacked, per-step against per-step, never across models', () => {
    const train = (system: 'webgpu-rnn' | 'tfjs', model: 'stacked' | 'per-step', seqPerS: number, backend: 'webgpu' | 'wasm' = 'webgpu'): BenchRecord =>
      ({ ...common, system, mode: 'model', model, backend, adapter: backend === 'wasm' ? 'cpu/wasm' : common.adapter, batch: 150, train_seq_per_s: seqPerS, step_ms_p50: 150_000 / seqPerS, step_ms_p95: 200_000 / seqPerS });
    const more = [train('webgpu-rnn', 'stacked', 200), train('webgpu-rnn', 'per-step', 240), train('tfjs', 'stacked', 40), train('tfjs', 'per-step', 60), train('tfjs', 'stacked', 400, 'wasm')];
    const all = [...records.map((r) => ({ ...r, ...(r.mode === 'model' ? { model: 'classifier' as const } : {}) })), ...more];
    expect(ratios(all).map((q) => `${q.model} ${q.vs} ${q.train}${q.infer === undefined ? '' : ` ${q.infer}`}`)).toEqual([
      'classifier tfjs webgpu 3 3', 'classifier tfjs wasm 0.5 1.5', 'stacked tfjs webgpu 5', 'stacked tfjs wasm 0.5', 'per-step tfjs webgpu 4',
    ]);
    const section = formatMarkdown(all, { command: 'npm run bench' });
    expect(section).toContain('| stacked | webgpu-rnn chromium/webgpu | google/swiftshader | 200 | 750 | 1000 | - | - | - | - |');
    expect(section).toContain('- webgpu-rnn / tfjs webgpu (chromium, per-step 150x28x150, google/swiftshader): training x4.00\n');
    expect(section).toMatch(/classifier: rnn\(H\) -> dense\(10\) on the last state .*; stacked: .*; per-step: .*timeDistributed/);
    expect(formatMarkdown(records, { command: 'npm run bench' })).not.toContain('stacked: rnn');
  });
  it('ratios: webgpu-rnn in Node against TF.js wasm (not against TF.js on a browser adapter)', () => {
    const node: BenchRecord = { ...records[0]!, runtime: 'node', adapter: 'mesa/software', train_seq_per_s: 660, infer_seq_per_s: 1200 };
    expect(ratios([...records, node]).filter((q) => q.runtime === 'node')).toEqual([
      { runtime: 'node', model: 'classifier', size: '150x28x150', adapter: 'mesa/software', vs: 'tfjs wasm', train: 1.1, infer: 2 },
    ]);
    expect(formatMarkdown([...records, node], { command: 'npm run bench' })).toContain('- webgpu-rnn in node / tfjs wasm in chromium (classifier 150x28x150, mesa/software against the CPU): training x1.10, inference x2.00');
  });
  it('markdown: a section under one "## npm run bench" heading, appended, earlier text kept', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bench-')), 'BENCHMARKS.md');
    writeFileSync(file, '# Benchmarks\n\n## earlier\n\ntext\n');
    const section = formatMarkdown(records, { command: 'npm run bench -- --json' });
    expect(section).toContain('### 2026-01-01T00:00:00Z: test');
    expect(section).toContain('| model | system | adapter | train seq/s |');
    expect(section).toContain('| classifier | webgpu-rnn chromium/webgpu | google/swiftshader | 300 | 500 | 600 | 900 | 1000 | 1.350 | 67.0% |');
    expect(section).toContain('training x3.00, inference x3.00');
    appendMarkdown(file, section);
    appendMarkdown(file, section);
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith('# Benchmarks\n\n## earlier\n\ntext\n\n## npm run bench\n')).toBe(true);
    expect(text.split('## npm run bench').length).toBe(2);
    expect(text.split('### 2026-01-01').length).toBe(3);
  });
  it('sweep CSV and SVG: a row and a point per system and size, one panel per varied size', () => {
    const sweep: BenchRecord[] = [1, 16, 150].flatMap((batch, i) => (['webgpu-rnn', 'tfjs'] as const).map((system) => ({
      ...common, system, mode: 'sweep' as const, batch, vary: i === 2 ? 'batch,units' : 'batch', step_ms_p50: (i + 1) * (system === 'tfjs' ? 30 : 3), train_seq_per_s: 1,
    })));
    sweep.push({ ...common, system: 'webgpu-rnn', mode: 'sweep', batch: 150, units: 64, vary: 'units', step_ms_p50: 2, train_seq_per_s: 1 });
    const csv = sweepCsv(sweep).trim().split('\n');
    expect(csv[0]).toBe('system,runtime,backend,adapter,vary,batch,steps,units,step_ms_p50,step_ms_mean,step_ms_p95,train_seq_per_s,train_gflops,timed');
    expect(csv.length).toBe(1 + 7);
    expect(csv[5]).toBe('webgpu-rnn,chromium,webgpu,google/swiftshader,"batch,units",150,28,150,9,,,1,,');
    const svg = sweepSvg(sweep);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline/g)!.length).toBe(2 + 2); // two systems in the batch panel and in the units panel
    expect(svg).toContain('ms per step vs batch');
    expect(svg).toContain('ms per step vs units');
    expect(svg).not.toContain('NaN');
  });
});

describe.skipIf(!device)('SequenceClassifier.trainSteps', async () => {
  const d = device!;
  const { train } = await loadMnist(d, { limit: 600, testLimit: 10 });
  const config = { steps: 28, inputs: 28, units: 8, classes: 10, seed: 3 };

  it('takes exactly the steps fit takes: one epoch in pieces equals fit for one epoch, bit for bit', async () => {
    const a = new SequenceClassifier(d, config), b = new SequenceClassifier(d, config);
    await a.fit(train, { epochs: 1, batchSize: 100, learningRate: 0.01 });
    await b.trainSteps(train, { steps: 2, batchSize: 100, learningRate: 0.01, readBack: false });
    expect(b.step).toBe(2);
    expect(b.parameter('rnn.wh')).toEqual(new SequenceClassifier(d, config).parameter('rnn.wh')); // host copy not read back
    await b.trainSteps(train, { steps: 4, batchSize: 100, learningRate: 0.01 });
    expect(b.step).toBe(6);
    for (const name of ['rnn.wx', 'rnn.wh', 'rnn.b', 'dense.w', 'dense.b'] as const) expect(b.parameter(name)).toEqual(a.parameter(name));
    // Past the end of the order: reshuffled, and training goes on.
    const before = b.parameter('dense.w');
    await b.trainSteps(train, { steps: 3, batchSize: 100, learningRate: 0.01 });
    expect(b.step).toBe(9);
    expect(b.parameter('dense.w')).not.toEqual(before);
    expect(b.parameter('dense.w').every(Number.isFinite)).toBe(true);
    a.destroy();
    b.destroy();
  });

  it('rejects bad options before any GPU work', async () => {
    const m = new SequenceClassifier(d, config);
    await expect(m.trainSteps(train, { steps: 0 })).rejects.toThrow(/steps: expected a positive integer, got 0/);
    await expect(m.trainSteps(train, { steps: 1, batchSize: 601 })).rejects.toThrow(/batchSize: expected at most the number of training images \(600\)/);
    await expect(m.trainSteps(train, { steps: 1, learningRate: 0 })).rejects.toThrow(/learningRate/);
    expect(m.step).toBe(0);
    m.destroy();
  });
});

describe.skipIf(!device || !haveChromium)('npm run bench, end to end (tiny settings)', () => {
  beforeAll(() => {
    execFileSync('npm', ['run', '-s', 'build:lib'], { stdio: 'pipe' });
    execFileSync('npm', ['run', '-s', 'build:demo'], { stdio: 'pipe' });
  }, 180_000);

  const numbers = ['batch', 'steps', 'units', 'train_seq_per_s', 'infer_seq_per_s', 'step_ms_p50', 'step_ms_p95', 'step_ms_mean', 'infer_images', 'infer_batch', 'train_gflops'];
  let lines: BenchRecord[] = [];

  it('all systems and models: one JSON line per system, mode and model, positive finite numbers, one adapter for both systems in Chromium', () => {
    const run = spawnSync('node', ['dist/bench.js', '--timed', '1', '--warmup', '1', '--units', '16', '--batch', '8', '--steps', '4', '--infer-images', '64', '--matmul-size', '64', '--json'],
      { encoding: 'utf8', timeout: 300_000 });
    expect(run.status, run.stderr).toBe(0);
    lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const models = (what: string) => ['classifier', 'stacked', 'per-step'].map((m) => `${what} ${m}`);
    expect(lines.map((r) => `${r.system} ${r.mode} ${r.runtime}/${r.backend}${r.model ? ` ${r.model}` : ''}`)).toEqual([
      'webgpu-rnn matmul chromium/webgpu', ...models('webgpu-rnn model chromium/webgpu'), 'tfjs matmul chromium/webgpu', ...models('tfjs model chromium/webgpu'),
      ...models('tfjs model chromium/wasm'), 'webgpu-rnn matmul node/webgpu', ...models('webgpu-rnn model node/webgpu'),
    ]);
    for (const r of lines) {
      expect(r.adapter, JSON.stringify(r)).toMatch(/^\S+\/\S+$/);
      expect(r.date).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(typeof r.machine).toBe('string');
      expect(r.version).toMatch(r.runtime === 'chromium' ? /^Chrome \d+/ : /^Node v\d+/);
      if (r.mode === 'matmul') {
        expect(r.size).toBe(64);
        expect(r.gflops! > 0 && Number.isFinite(r.gflops)).toBe(true);
        expect(r.run_ms).toHaveLength(3);
        continue;
      }
      expect(r).toMatchObject({ batch: 8, steps: 4, units: 16, inputs: 28, classes: 10, warmup: 1, timed: 1 });
      // Inference is timed for the classifier only.
      if (r.model === 'classifier') expect(r).toMatchObject({ infer_images: 64, infer_batch: 64 });
      else expect([r.infer_images, r.infer_seq_per_s]).toEqual([undefined, undefined]);
      for (const key of numbers.filter((k) => r.model === 'classifier' || !k.startsWith('infer'))) {
        const v = r[key as keyof BenchRecord] as number;
        expect(v > 0 && Number.isFinite(v), `${r.system} ${r.runtime}/${r.backend} ${key} = ${v}`).toBe(true);
      }
      expect(r.step_ms_p95).toBeGreaterThanOrEqual(r.step_ms_p50!);
      if (r.backend === 'wasm') expect(r.train_of_matmul).toBeNull();
      else expect(r.train_of_matmul! > 0 && Number.isFinite(r.train_of_matmul)).toBe(true);
    }
    const ours = lines.find((r) => r.system === 'webgpu-rnn' && r.runtime === 'chromium' && r.mode === 'model')!;
    const theirs = lines.find((r) => r.system === 'tfjs' && r.backend === 'webgpu' && r.mode === 'model')!;
    expect(theirs.adapter).toBe(ours.adapter);
    expect(run.stderr).toMatch(/webgpu-rnn \/ tfjs webgpu \(chromium, classifier 8x4x16, \S+\): training x[\d.]+, inference x[\d.]+/);
    for (const model of ['stacked', 'per-step']) {
      expect(run.stderr).toMatch(new RegExp(`webgpu-rnn / tfjs webgpu \\(chromium, ${model} 8x4x16, \\S+\\): training x[\\d.]+\n`));
      expect(run.stderr).toMatch(new RegExp(`webgpu-rnn in node / tfjs wasm in chromium \\(${model} 8x4x16, \\S+ against the CPU\\): training x[\\d.]+\n`));
    }
    expect(run.stderr).not.toMatch(/page error|FAILED/);
  }, 300_000);

  it('--from and --markdown: the BENCHMARKS.md section from saved JSON lines', () => {
    expect(lines.length).toBeGreaterThan(0);
    const dir = mkdtempSync(join(tmpdir(), 'bench-'));
    writeFileSync(join(dir, 'results.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n'));
    const run = spawnSync('node', ['dist/bench.js', '--from', join(dir, 'results.jsonl'), '--markdown', join(dir, 'B.md'), '--timed', '1'], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const text = readFileSync(join(dir, 'B.md'), 'utf8');
    expect(text).toContain('## npm run bench');
    expect(text).toContain('`npm run bench -- --timed 1`');
    expect(text).toMatch(/\| classifier \| tfjs chromium\/webgpu \| \S+ \| [\d.]+ \|/);
    expect(text).toMatch(/\| per-step \| webgpu-rnn node\/webgpu \| \S+ \| [\d.]+ \|/);
    expect(text).toMatch(/- webgpu-rnn \/ tfjs webgpu .*training x[\d.]+, inference x[\d.]+/);
  });

  it('--sweep: CSV and SVG of time per step against each size', () => {
    const out = mkdtempSync(join(tmpdir(), 'bench-'));
    const run = spawnSync('node', ['dist/bench.js', '--sweep', '--batch', '4', '--steps', '4', '--units', '8', '--sweep-batch', '4', '--sweep-steps', '4,8', '--sweep-units', '8',
      '--sweep-warmup', '0', '--sweep-timed', '1', '--systems', 'webgpu-rnn,node', '--out', out, '--json'], { encoding: 'utf8', timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    const sweep = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as BenchRecord);
    expect(sweep.map((r) => `${r.runtime} ${r.batch}x${r.steps}x${r.units} ${r.vary}`)).toEqual([
      'chromium 4x4x8 batch,steps,units', 'chromium 4x8x8 steps', 'node 4x4x8 batch,steps,units', 'node 4x8x8 steps',
    ]);
    expect(sweep.every((r) => r.mode === 'sweep' && r.model === 'classifier' && r.step_ms_p50! > 0 && r.infer_seq_per_s === undefined)).toBe(true);
    expect(readFileSync(join(out, 'sweep.csv'), 'utf8').trim().split('\n')).toHaveLength(5);
    expect(readFileSync(join(out, 'sweep.svg'), 'utf8')).toContain('ms per step vs steps');
  }, 120_000);

  it('--profile through the CLI: the phase table, JSON lines; alone only', () => {
    const run = spawnSync('node', ['dist/bench.js', '--profile', '--batch', '4', '--steps', '3', '--units', '8', '--matmul-size', '64', '--json'], { encoding: 'utf8', timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { mode: string; phase: string; ms: number; size?: number; gflops?: number });
    const phases = lines.filter((l) => l.mode === 'profile');
    expect(phases.map((p) => p.phase)).toContain('dWh');
    expect(phases.every((p) => p.ms > 0)).toBe(true);
    expect(lines.filter((l) => l.mode === 'matmul')).toEqual([expect.objectContaining({ size: 64, gflops: expect.any(Number) })]);
    expect(run.stderr).toMatch(/RNN forward \+ backward, batch 4, 3 steps, 28 inputs, 8 tanh units/);
    expect(run.stderr).toMatch(/matmul 64\^3 on the same adapter: [\d.]+ GFLOP\/s; the phases together reach [\d.]+% of it/);
    const both = spawnSync('node', ['dist/bench.js', '--profile', '--sweep'], { encoding: 'utf8' });
    expect(both.status).toBe(2);
    expect(both.stderr).toContain('--profile runs alone');
  }, 120_000);

  it('bad flags: usage on stderr and exit code 2, before any browser or GPU work', () => {
    const run = spawnSync('node', ['dist/bench.js', '--timed', 'lots'], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('bench: --timed expects an integer >= 1, got lots');
    expect(run.stderr).toContain('usage: npm run bench -- [options]');
    expect(run.stderr).not.toMatch(/chromium:|using adapter/);
  });
});
