// `npm run bench`: this runtime against TensorFlow.js, training the lecture's model on the same adapter in the same
// headless Chromium, plus this runtime in Node (Dawn) without a browser. Serves dist-demo/ (the built bench.html and
// the MNIST files) on 127.0.0.1, drives the page with puppeteer, runs the Node measurements in this process, and
// prints a table, JSON lines (--json), a sweep's CSV and SVG plot (--sweep) and the BENCHMARKS.md section
// (--markdown FILE). What is timed and how is described in bench-core.ts.
import { appendFileSync, createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { adapterName } from '../gpu/device.js';
import {
  benchMatmul, benchWebgpuRnn, CLASSES, INPUTS, parseMnist, round, splitAdapter, sweepSizes, withEfficiency,
  type BenchPageResult, type BenchRecord, type ModelSize,
} from './bench-core.js';
import { getDevice } from './device.js';
import { setAutotune } from '../tune.js';
import { mnistDirectory } from './mnist.js';
import { formatProfile, runProfile } from './profile.js';
import { commandLine, integerFlag, textFlag, UsageError } from './cli.js';

export const SYSTEMS = ['webgpu-rnn', 'tfjs', 'tfjs-wasm', 'node'] as const;
export type System = (typeof SYSTEMS)[number];

export interface BenchArgs {
  json: boolean;
  batch: number;
  steps: number;
  units: number;
  warmup: number;
  timed: number;
  inferImages: number;
  inferBatch: number;
  systems: System[];
  matmul: boolean;
  matmulSize: number;
  sweep: boolean;
  /** Instead of the comparison: time each phase of the RNN's forward and backward pass in Node (profile.ts). */
  profile: boolean;
  sweepBatch: number[];
  sweepSteps: number[];
  sweepUnits: number[];
  sweepWarmup: number;
  sweepTimed: number;
  out: string;
  markdown?: string;
  from?: string;
  adapter?: string;
  /** The built pages (bench.html and mnist/) to serve. */
  pages: string;
}

export const DEFAULTS: BenchArgs = {
  json: false, batch: 150, steps: 28, units: 150, warmup: 2, timed: 10, inferImages: 1000, inferBatch: 1000,
  systems: [...SYSTEMS], matmul: true, matmulSize: 1024, sweep: false, profile: false, sweepBatch: [1, 16, 150, 1024], sweepSteps: [28, 112, 448],
  sweepUnits: [64, 150, 512], sweepWarmup: 1, sweepTimed: 2, out: 'bench-results', pages: 'dist-demo',
};

export const USAGE = `usage: npm run bench -- [options]
Trains the lecture's RNN (28-pixel rows, tanh units, dense 10, Adam 0.001) on MNIST with this runtime and with
TensorFlow.js on the same WebGPU adapter in headless Chromium, and with this runtime in Node (Dawn).
  --json               one JSON line per system and mode on stdout (the table goes to stderr)
  --batch N            batch size (default ${DEFAULTS.batch})
  --steps N            sequence length in rows of 28 pixels (default ${DEFAULTS.steps}: one MNIST image)
  --units N            RNN units (default ${DEFAULTS.units})
  --warmup N           untimed training steps first (default ${DEFAULTS.warmup})
  --timed N            timed training steps (default ${DEFAULTS.timed})
  --infer-images N     test images for the inference throughput, up to 10000; 0 skips it (default ${DEFAULTS.inferImages})
  --infer-batch N      inference batch size (default ${DEFAULTS.inferBatch})
  --systems LIST       any of ${SYSTEMS.join(',')} (default: all)
                         webgpu-rnn, tfjs (webgpu backend) and tfjs-wasm run in Chromium; node is this runtime in Node
  --no-matmul          skip the square matmul (the adapter's practical ceiling)
  --matmul-size N      its M = N = K (default ${DEFAULTS.matmulSize})
  --sweep              instead: time per step against batch, steps and units, one varied at a time around
                       --batch/--steps/--units; writes <out>/sweep.csv and <out>/sweep.svg
  --profile            instead: time each phase of the RNN's forward and backward pass (input projection, steps,
                       weight gradients) at --batch/--steps/--units, in Node, and the matmul beside it (no data set
                       needed); with --json, one JSON line a phase
  --sweep-batch LIST   (default ${DEFAULTS.sweepBatch.join(',')})
  --sweep-steps LIST   (default ${DEFAULTS.sweepSteps.join(',')})
  --sweep-units LIST   (default ${DEFAULTS.sweepUnits.join(',')})
  --sweep-warmup N     (default ${DEFAULTS.sweepWarmup})
  --sweep-timed N      timed steps per sweep point (default ${DEFAULTS.sweepTimed})
  --out DIR            where sweep files go (default ${DEFAULTS.out})
  --markdown FILE      append this run's section to FILE under '## npm run bench' (BENCHMARKS.md)
  --from FILE          no run: read the JSON lines of an earlier --json run and print / write from them
  --adapter NAME       the Node run's adapter: lavapipe, swiftshader or a name (env WEBGPU_RNN_ADAPTER)
  --pages DIR          the built pages to serve (default ${DEFAULTS.pages}: npm run build:demo)
  --help               this text
Chromium: /usr/bin/chromium, or PUPPETEER_EXECUTABLE_PATH.`;

/** Parses the command line; throws UsageError naming the bad flag. */
export function parseBenchArgs(argv: string[]): BenchArgs | 'help' {
  const args: BenchArgs = { ...DEFAULTS, systems: [...DEFAULTS.systems] };
  const list = (flag: string, value: string | undefined) =>
    textFlag(flag, value, 'a comma-separated list of integers >= 1').split(',').map((v) => integerFlag(flag, v, 1));
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => argv[++i];
    switch (flag) {
      case '--json': args.json = true; break;
      case '--batch': args.batch = integerFlag(flag, value(), 1); break;
      case '--steps': args.steps = integerFlag(flag, value(), 1); break;
      case '--units': args.units = integerFlag(flag, value(), 1); break;
      case '--warmup': args.warmup = integerFlag(flag, value(), 0); break;
      case '--timed': args.timed = integerFlag(flag, value(), 1); break;
      case '--infer-images': args.inferImages = integerFlag(flag, value(), 0, 10000); break;
      case '--infer-batch': args.inferBatch = integerFlag(flag, value(), 1); break;
      case '--systems': {
        const v = textFlag(flag, value(), `a comma-separated list of ${SYSTEMS.join(', ')}`);
        const names = v.split(',');
        const bad = names.find((n) => !(SYSTEMS as readonly string[]).includes(n));
        if (bad !== undefined) throw new UsageError(`--systems: unknown system '${bad}' (known: ${SYSTEMS.join(', ')})`);
        args.systems = [...new Set(names as System[])];
        break;
      }
      case '--no-matmul': args.matmul = false; break;
      case '--matmul-size': args.matmulSize = integerFlag(flag, value(), 1); break;
      case '--sweep': args.sweep = true; break;
      case '--profile': args.profile = true; break;
      case '--sweep-batch': args.sweepBatch = list(flag, value()); break;
      case '--sweep-steps': args.sweepSteps = list(flag, value()); break;
      case '--sweep-units': args.sweepUnits = list(flag, value()); break;
      case '--sweep-warmup': args.sweepWarmup = integerFlag(flag, value(), 0); break;
      case '--sweep-timed': args.sweepTimed = integerFlag(flag, value(), 1); break;
      case '--out': args.out = textFlag(flag, value(), 'a directory'); break;
      case '--markdown': args.markdown = textFlag(flag, value(), 'a file name'); break;
      case '--from': args.from = textFlag(flag, value(), 'a file of JSON lines'); break;
      case '--adapter': args.adapter = textFlag(flag, value(), 'an adapter name'); break;
      case '--pages': args.pages = textFlag(flag, value(), 'a directory'); break;
      case '--help': case '-h': return 'help';
      default: throw new UsageError(`unknown option ${flag}`);
    }
  }
  return args;
}

// ---- the page, served and driven ----

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml',
  '.map': 'application/json', '.png': 'image/png',
};

/**
 * A static server for `root` on 127.0.0.1 (a secure context, so WebGPU is on). Cross-origin isolated (COOP/COEP), so
 * TF.js's wasm backend may use its threaded build, as a site that wants it fast would serve it.
 */
export async function serveDirectory(root: string): Promise<{ url: string; close: () => Promise<void> }> {
  const base = resolve(root);
  const server: Server = createServer((req, res) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const file = resolve(join(base, path.endsWith('/') ? `${path}index.html` : path));
    if (file !== base && !file.startsWith(base + sep)) { res.writeHead(403).end(); return; }
    if (!existsSync(file) || !statSync(file).isFile()) { res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${path}`); return; }
    res.writeHead(200, {
      'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': statSync(file).size,
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cache-Control': 'no-store',
    });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((ok) => { server.closeAllConnections(); server.close(() => ok()); }) };
}

export const CHROMIUM_ARGS = ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

const PAGE_SILENCE_MS = 30 * 60_000;

interface PageResult {
  records: BenchRecord[];
  errors: string[];
  browser: string;
}

/** Loads bench.html with `query` in headless Chromium and waits for its records; page progress goes to `log`. */
async function runPage(pages: string, query: URLSearchParams, log: (line: string) => void): Promise<PageResult> {
  const dir = resolve(pages);
  if (!existsSync(join(dir, 'bench.html')) || !existsSync(join(dir, 'mnist'))) {
    throw new Error(`no built benchmark page in ${dir}: run 'npm run build:demo' first (npm run bench does)`);
  }
  const executablePath = process.env.PUPPETEER_EXECUTABLE_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath}: install it (apt-get install chromium) or set PUPPETEER_EXECUTABLE_PATH`);
  const { default: puppeteer } = await import('puppeteer');
  const server = await serveDirectory(dir);
  const browser = await puppeteer.launch({ executablePath, args: CHROMIUM_ARGS, protocolTimeout: 0 });
  try {
    const version = await browser.version();
    log(`chromium: ${version}, page ${server.url}bench.html`);
    const page = await browser.newPage();
    const errors: string[] = [];
    let lastNews = performance.now();
    page.on('console', (m) => {
      lastNews = performance.now();
      const text = m.text();
      if (text.startsWith('bench: ')) log(`  ${text.slice(7)}`);
      else if (m.type() === 'error') { errors.push(`console: ${text}`); log(`  page error: ${text}`); }
      else if (m.type() === 'warn') log(`  page warning: ${text}`);
    });
    page.on('pageerror', (e) => { errors.push(`page: ${String(e)}`); log(`  page error: ${String(e)}`); });
    // Everything the page needs comes from this server: anything else is refused, and reported.
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      const url = request.url();
      if (url.startsWith(server.url) || url.startsWith('blob:') || url.startsWith('data:')) {
        void request.continue();
      } else {
        errors.push(`the page asked for ${url}: refused (it must load nothing from elsewhere)`);
        void request.abort();
      }
    });
    let watchdog: ReturnType<typeof setInterval> | undefined;
    const crashed = new Promise<never>((_, fail) => {
      page.once('error', (e) => fail(new Error(`the page crashed: ${e.message}`)));
      browser.once('disconnected', () => fail(new Error('Chromium exited during the benchmark')));
      // The page reports every phase; this long without a word means it hangs (the slowest phase seen, a sweep point
      // of TF.js on SwiftShader, takes minutes).
      watchdog = setInterval(() => {
        if (performance.now() - lastNews > PAGE_SILENCE_MS) fail(new Error(`the page said nothing for ${PAGE_SILENCE_MS / 60_000} minutes: it hangs`));
      }, 10_000);
    });
    await page.goto(`${server.url}bench.html?${query}`);
    const result = await Promise.race([
      page.waitForFunction(() => (globalThis as { benchResult?: BenchPageResult }).benchResult !== undefined, { timeout: 0, polling: 500 })
        .then(() => page.evaluate(() => (globalThis as { benchResult?: BenchPageResult }).benchResult!)),
      crashed,
    ]).finally(() => clearInterval(watchdog));
    if (!result.crossOriginIsolated) log('  note: the page was not cross-origin isolated: TF.js wasm ran without threads');
    return { records: result.records, errors: [...result.errors, ...errors], browser: version.replace('/', ' ') };
  } finally {
    await browser.close().catch(() => undefined);
    await server.close();
  }
}

/** This runtime in Node: the same measurements as the page's, through Dawn. */
async function runNode(args: BenchArgs, sizes: ModelSize[], mode: 'model' | 'sweep', log: (line: string) => void): Promise<{ records: BenchRecord[]; errors: string[] }> {
  const device = await getDevice({ adapter: args.adapter, log: (l) => log(`node: ${l}`) });
  setAutotune(device, 'measure', { log: (l) => log(`node: ${l}`) }); // as the page and `npm run train` do
  const records: BenchRecord[] = [];
  const errors: string[] = [];
  try {
    const dir = mnistDirectory();
    const read = (f: string) => new Uint8Array(readFileSync(join(dir, f)));
    const mnist = parseMnist({
      trainImages: read('train-images-idx3-ubyte'), trainLabels: read('train-labels-idx1-ubyte'),
      testImages: read('t10k-images-idx3-ubyte'), testLabels: read('t10k-labels-idx1-ubyte'),
    });
    const adapter = splitAdapter(adapterName(device));
    const base = { runtime: 'node' as const, backend: 'webgpu' as const, inputs: INPUTS, classes: CLASSES };
    let matmulGflops: number | null = null;
    if (args.matmul && mode === 'model') {
      const m = await benchMatmul(device, args.matmulSize, 3, (l) => log(`node: ${l}`));
      matmulGflops = m.gflops;
      records.push({ system: 'webgpu-rnn', mode: 'matmul', ...base, ...adapter, ...m });
    }
    const timing = mode === 'sweep'
      ? { warmup: args.sweepWarmup, timed: args.sweepTimed, inferImages: 0, inferBatch: args.inferBatch, log: (l: string) => log(`node: ${l}`) }
      : { warmup: args.warmup, timed: args.timed, inferImages: args.inferImages, inferBatch: args.inferBatch, log: (l: string) => log(`node: ${l}`) };
    for (const size of sizes) {
      try {
        log(`node: webgpu-rnn: batch ${size.batch}, ${size.steps} steps, ${size.units} units`);
        const r = await benchWebgpuRnn(device, mnist, size, timing);
        records.push({ system: 'webgpu-rnn', mode, ...base, warmup: timing.warmup, timed: timing.timed, ...size, ...withEfficiency(r, size, matmulGflops) });
      } catch (error) {
        errors.push(`node ${size.batch}x${size.steps}x${size.units}: ${(error as Error).message}`);
        log(`node: FAILED ${errors.at(-1)}`);
      }
    }
  } finally {
    device.destroy();
  }
  return { records, errors };
}

function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}`;
}

function dawnVersion(): string {
  try {
    return `webgpu ${JSON.parse(readFileSync(createRequire(import.meta.url).resolve('webgpu/package.json'), 'utf8')).version}`;
  } catch {
    return 'webgpu';
  }
}

/** Runs what `args` asks for; records in a fixed order, each with version, date and machine. */
export async function runBenchmark(args: BenchArgs, log: (line: string) => void): Promise<{ records: BenchRecord[]; errors: string[] }> {
  const sweep = args.sweep ? sweepSizes({ batch: args.batch, steps: args.steps, units: args.units }, { batch: args.sweepBatch, steps: args.sweepSteps, units: args.sweepUnits }) : undefined;
  const sizes: ModelSize[] = sweep ?? [{ batch: args.batch, steps: args.steps, units: args.units }];
  const mode = sweep ? 'sweep' : 'model';
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  // Other work on the machine slows software adapters: the 1-minute load average at the start says how quiet it was.
  const load = round(os.loadavg()[0]!, 2);
  const records: BenchRecord[] = [];
  const errors: string[] = [];
  const stamp = (r: BenchRecord, version: string): BenchRecord => {
    const vary = sweep?.find((s) => s.batch === r.batch && s.steps === r.steps && s.units === r.units)?.vary;
    return { ...r, ...(vary && r.mode === 'sweep' ? { vary: vary.join(',') } : {}), version, date, machine: machine(), load_avg: load };
  };
  const pageSystems = args.systems.filter((s) => s !== 'node');
  if (pageSystems.length > 0) {
    const query = new URLSearchParams({
      systems: pageSystems.join(','), sizes: sizes.map((s) => `${s.batch}x${s.steps}x${s.units}`).join(','), mode,
      warmup: String(sweep ? args.sweepWarmup : args.warmup), timed: String(sweep ? args.sweepTimed : args.timed),
      infer: String(sweep ? 0 : args.inferImages), inferBatch: String(args.inferBatch), matmul: String(args.matmul && !sweep ? args.matmulSize : 0),
    });
    const page = await runPage(args.pages, query, log);
    records.push(...page.records.map((r) => stamp(r, page.browser)));
    errors.push(...page.errors);
  }
  if (args.systems.includes('node')) {
    const node = await runNode(args, sizes, mode, log);
    records.push(...node.records.map((r) => stamp(r, `Node ${process.version}, Dawn (${dawnVersion()})`)));
    errors.push(...node.errors);
  }
  return { records, errors };
}

// ---- reports ----

const label = (r: BenchRecord) => `${r.system} ${r.runtime}/${r.backend}`;
const fmt = (x: number | null | undefined, digits = 1) => (x === undefined || x === null || !Number.isFinite(x) ? '-' : x >= 100 ? x.toFixed(0) : x.toFixed(digits));
const pct = (x: number | null | undefined) => (x === undefined || x === null ? '-' : `${(x * 100).toFixed(x < 0.01 ? 2 : 1)}%`);
const sameSize = (a: BenchRecord, b: BenchRecord) => a.batch === b.batch && a.steps === b.steps && a.units === b.units;

/**
 * webgpu-rnn / tfjs at the same size: in Chromium against TF.js on the same adapter and against its wasm backend; in
 * Node against TF.js wasm (the fastest way to train without a GPU that it has to beat). Training and inference ratios.
 */
export function ratios(records: BenchRecord[]) {
  const out: Array<{ runtime: 'chromium' | 'node'; size: string; adapter: string; vs: string; train: number; infer?: number }> = [];
  for (const ours of records.filter((r) => r.system === 'webgpu-rnn' && r.mode === 'model')) {
    for (const theirs of records.filter((r) => r.system === 'tfjs' && r.mode === 'model' && sameSize(r, ours))) {
      if (theirs.backend === 'webgpu' && (theirs.adapter !== ours.adapter || ours.runtime !== 'chromium')) continue;
      out.push({
        runtime: ours.runtime, size: `${ours.batch}x${ours.steps}x${ours.units}`, adapter: ours.adapter, vs: `tfjs ${theirs.backend}`,
        train: ours.train_seq_per_s! / theirs.train_seq_per_s!,
        ...(ours.infer_seq_per_s && theirs.infer_seq_per_s ? { infer: ours.infer_seq_per_s / theirs.infer_seq_per_s } : {}),
      });
    }
  }
  return out;
}

function rows(header: string[], body: string[][]): string[][] {
  return [header, ...body];
}

function textTable(table: string[][]): string {
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  return table.map((r, i) => {
    const line = r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
    return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
  }).join('\n');
}

function markdownTable(table: string[][]): string {
  return table.map((r, i) => `| ${r.join(' | ')} |${i === 0 ? `\n|${r.map((_, c) => (c < 2 ? '---' : '---:')).join('|')}|` : ''}`).join('\n');
}

function modelTable(records: BenchRecord[]): string[][] {
  return rows(
    ['system', 'adapter', 'train seq/s', 'step p50 ms', 'step p95 ms', 'infer seq/s', 'infer images', 'train GFLOP/s', 'of matmul'],
    records.filter((r) => r.mode === 'model').map((r) => [label(r), r.adapter, fmt(r.train_seq_per_s), fmt(r.step_ms_p50), fmt(r.step_ms_p95),
      fmt(r.infer_seq_per_s), r.infer_images === undefined ? '-' : String(r.infer_images), fmt(r.train_gflops, 3), pct(r.train_of_matmul)]),
  );
}

function matmulTable(records: BenchRecord[]): string[][] {
  return rows(['matmul', 'adapter', 'M = N = K', 'GFLOP/s', 'runs ms'],
    records.filter((r) => r.mode === 'matmul').map((r) => [label(r), r.adapter, String(r.size), fmt(r.gflops, 2), (r.run_ms ?? []).map((m) => m.toFixed(0)).join(', ')]));
}

function sweepTable(records: BenchRecord[]): string[][] {
  const sweep = records.filter((r) => r.mode === 'sweep');
  const systems = [...new Set(sweep.map(label))];
  const sizes = [...new Map(sweep.map((r) => [`${r.batch}x${r.steps}x${r.units}`, r])).values()];
  return rows(['batch x steps x units', 'varied', ...systems.map((s) => `${s} ms/step`)],
    sizes.map((s) => [`${s.batch} x ${s.steps} x ${s.units}`, s.vary ?? '', ...systems.map((sys) => fmt(sweep.find((r) => label(r) === sys && sameSize(r, s))?.step_ms_p50))]));
}

function ratioLines(records: BenchRecord[]): string[] {
  return ratios(records).map((q) => (q.runtime === 'chromium'
    ? `webgpu-rnn / ${q.vs} (chromium, ${q.size}, ${q.vs.endsWith('wasm') ? `${q.adapter} against the CPU` : q.adapter}): `
    : `webgpu-rnn in node / ${q.vs} in chromium (${q.size}, ${q.adapter} against the CPU): `) +
    `training x${q.train.toFixed(2)}${q.infer !== undefined ? `, inference x${q.infer.toFixed(2)}` : ''}`);
}

export function formatText(records: BenchRecord[]): string {
  const parts: string[] = [];
  if (records.some((r) => r.mode === 'model')) parts.push(textTable(modelTable(records)));
  if (records.some((r) => r.mode === 'matmul')) parts.push(textTable(matmulTable(records)));
  if (records.some((r) => r.mode === 'sweep')) parts.push(textTable(sweepTable(records)));
  const q = ratioLines(records);
  if (q.length) parts.push(q.join('\n'));
  return parts.join('\n\n') + '\n';
}

/** The BENCHMARKS.md section for these records: generated, never edited by hand. */
export function formatMarkdown(records: BenchRecord[], extras: { command: string; svg?: string; csv?: string; data?: string }): string {
  const first = records[0];
  const versions = [...new Set(records.map((r) => `${r.runtime}: ${r.version}`))];
  const adapters = [...new Set(records.map((r) => `${r.runtime}/${r.backend}: \`${r.adapter}\`${r.adapter_description ? ` (${r.adapter_description})` : ''}`))];
  const model = records.find((r) => r.mode === 'model' || r.mode === 'sweep');
  const matmulSize = records.find((r) => r.mode === 'matmul')?.size ?? 1024;
  const lines = [
    `### ${first?.date ?? new Date().toISOString()}: ${first?.machine ?? machine()}`,
    '',
    `\`${extras.command}\`. ${versions.join('; ')}.`,
    '',
    `Adapters: ${adapters.join('; ')}.${first?.load_avg !== undefined ? ` Load average (1 min) when the run started: ${first.load_avg}.` : ''}`,
    '',
  ];
  const steps = (n = 0) => `${n} ${n === 1 ? 'step' : 'steps'}`;
  if (model?.mode === 'sweep') {
    lines.push(`Model: rows of ${model.inputs ?? INPUTS} pixels, tanh RNN, dense ${model.classes ?? CLASSES}, Adam 0.001, real MNIST batches, at the sizes ` +
      `in the table; each point ${steps(model.warmup)} of warm-up, then ${steps(model.timed)} timed, each awaited until done.`, '');
  } else if (model) {
    lines.push(`Model: ${model.steps} steps of ${model.inputs ?? INPUTS} inputs, tanh RNN, dense ${model.classes ?? CLASSES}, Adam 0.001, real MNIST batches; ` +
      `${steps(model.warmup)} of warm-up, then ${steps(model.timed)} timed, each awaited until done. ` +
      'Training GFLOP/s counts 6 · (T·(I·H + H·H) + H·C) FLOPs per sequence; "of matmul" is its share of the GFLOP/s of ' +
      `the ${matmulSize}³ matmul through this runtime's kernel on the same runtime and adapter (the adapter's practical ceiling).`, '');
  }
  if (records.some((r) => r.mode === 'model')) lines.push(markdownTable(modelTable(records)), '');
  if (records.some((r) => r.mode === 'matmul')) lines.push(markdownTable(matmulTable(records)), '');
  const q = ratioLines(records);
  if (q.length) lines.push(...q.map((l) => `- ${l}`), '');
  if (records.some((r) => r.mode === 'sweep')) {
    lines.push('Median time per training step (ms) against each size, the others held:', '', markdownTable(sweepTable(records)), '');
    if (extras.svg) lines.push(`![time per step against batch, steps and units](${extras.svg})`, '');
    if (extras.csv) lines.push(`Sweep data: [${extras.csv}](${extras.csv}).`, '');
  }
  if (extras.data) lines.push(`The JSON lines this section was generated from: [${extras.data}](${extras.data}).`, '');
  return lines.join('\n');
}

/** Appends `section` to `file` under the heading '## npm run bench' (added once, at the end, if missing). */
export function appendMarkdown(file: string, section: string): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const heading = '## npm run bench';
  const gap = text === '' || text.endsWith('\n\n') ? '' : text.endsWith('\n') ? '\n' : '\n\n';
  const intro = text.split('\n').some((l) => l.trim() === heading) ? '' : `${heading}\n\n` +
    'Generated by `npm run bench -- --markdown BENCHMARKS.md` (or from saved `--json` output with `--from FILE`); the newest run is last.\n\n';
  appendFileSync(file, `${gap}${intro}${section.trimEnd()}\n`);
}

/** CSV of a sweep: one row per system and size. */
export function sweepCsv(records: BenchRecord[]): string {
  const cols = ['system', 'runtime', 'backend', 'adapter', 'vary', 'batch', 'steps', 'units', 'step_ms_p50', 'step_ms_mean', 'step_ms_p95', 'train_seq_per_s', 'train_gflops', 'timed'] as const;
  const cell = (v: unknown) => (v === undefined || v === null ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  return [cols.join(','), ...records.filter((r) => r.mode === 'sweep').map((r) => cols.map((c) => cell(r[c as keyof BenchRecord])).join(','))].join('\n') + '\n';
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

/** A hand-written SVG: one panel per varied size (log x), median ms per step (log y), one line per system. */
export function sweepSvg(records: BenchRecord[]): string {
  const sweep = records.filter((r) => r.mode === 'sweep' && Number.isFinite(r.step_ms_p50) && r.step_ms_p50! > 0);
  const systems = [...new Set(sweep.map(label))];
  const W = 300, H = 240, M = { l: 56, r: 12, t: 28, b: 40 };
  const panels = (['batch', 'steps', 'units'] as const).filter((k) => sweep.some((r) => (r.vary ?? '').split(',').includes(k)));
  const ys = sweep.map((r) => r.step_ms_p50!);
  const y0 = Math.floor(Math.log10(Math.min(...ys))), y1 = Math.max(y0 + 1, Math.ceil(Math.log10(Math.max(...ys))));
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts: string[] = [];
  const width = panels.length * W, height = H + 24 + systems.length * 16;
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  panels.forEach((key, p) => {
    const ox = p * W;
    const points = sweep.filter((r) => (r.vary ?? '').split(',').includes(key));
    const xs = [...new Set(points.map((r) => r[key]!))].sort((a, b) => a - b);
    const lx0 = Math.log10(xs[0]!), lx1 = Math.log10(xs.at(-1)!);
    const px = (x: number) => ox + M.l + (lx1 === lx0 ? 0.5 : (Math.log10(x) - lx0) / (lx1 - lx0)) * (W - M.l - M.r);
    const py = (y: number) => M.t + (1 - (Math.log10(y) - y0) / (y1 - y0)) * (H - M.t - M.b);
    parts.push(`<text x="${ox + W / 2}" y="16" text-anchor="middle" font-size="13">ms per step vs ${key} (median, log-log)</text>`);
    parts.push(`<rect x="${ox + M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" fill="none" stroke="#999"/>`);
    for (let e = y0; e <= y1; e++) {
      const y = py(10 ** e);
      parts.push(`<line x1="${ox + M.l}" x2="${ox + W - M.r}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
      parts.push(`<text x="${ox + M.l - 4}" y="${y + 4}" text-anchor="end">${10 ** e >= 1 ? 10 ** e : (10 ** e).toFixed(-e)}</text>`);
    }
    for (const x of xs) {
      parts.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${H - M.b}" y2="${H - M.b + 4}" stroke="#999"/>`);
      parts.push(`<text x="${px(x)}" y="${H - M.b + 16}" text-anchor="middle">${x}</text>`);
    }
    parts.push(`<text x="${ox + (M.l + W - M.r) / 2}" y="${H - 6}" text-anchor="middle">${key} (log scale)</text>`);
    systems.forEach((sys, s) => {
      const line = points.filter((r) => label(r) === sys).sort((a, b) => a[key]! - b[key]!);
      if (line.length === 0) return;
      const color = COLORS[s % COLORS.length];
      parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${line.map((r) => `${px(r[key]!).toFixed(1)},${py(r.step_ms_p50!).toFixed(1)}`).join(' ')}"/>`);
      for (const r of line) parts.push(`<circle cx="${px(r[key]!).toFixed(1)}" cy="${py(r.step_ms_p50!).toFixed(1)}" r="3" fill="${color}"><title>${esc(sys)}: ${r.batch} x ${r.steps} x ${r.units}: ${r.step_ms_p50} ms</title></circle>`);
    });
  });
  systems.forEach((sys, s) => {
    const y = H + 12 + s * 16;
    parts.push(`<line x1="${M.l}" x2="${M.l + 24}" y1="${y}" y2="${y}" stroke="${COLORS[s % COLORS.length]}" stroke-width="2"/>`);
    parts.push(`<text x="${M.l + 30}" y="${y + 4}">${esc(sys)} (${esc(sweep.find((r) => label(r) === sys)!.adapter)})</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** Reads the JSON lines of an earlier --json run (other lines are ignored). */
export function readRecords(file: string): BenchRecord[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim().startsWith('{')).map((l) => JSON.parse(l) as BenchRecord).filter((r) => typeof r.system === 'string' && typeof r.mode === 'string');
}

export async function main(argv: string[]): Promise<number> {
  const args = commandLine('bench', USAGE, parseBenchArgs, argv);
  if (typeof args === 'number') return args;
  const log = (line: string) => console.error(line);
  const started = performance.now();
  if (args.profile) {
    if (args.sweep || args.from || args.markdown) {
      console.error(`bench: --profile runs alone: not with --sweep, --from or --markdown\n${USAGE}`);
      return 2;
    }
    const { records, tuning, ceiling } = await runProfile({ batch: args.batch, steps: args.steps, units: args.units }, args.adapter, args.matmul ? args.matmulSize : 0, log);
    for (const t of tuning) log(`node: autotune: ${t}`);
    const table = `\n${formatProfile(records, ceiling)}`;
    if (args.json) {
      process.stderr.write(table);
      for (const r of records) console.log(JSON.stringify(r));
      if (ceiling) console.log(JSON.stringify({ mode: 'matmul', ...ceiling, adapter: records[0]?.adapter, date: records[0]?.date }));
    } else {
      process.stdout.write(table);
    }
    log(`bench: finished in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    return 0;
  }
  const { records, errors } = args.from ? { records: readRecords(args.from), errors: [] as string[] } : await runBenchmark(args, log);
  const table = formatText(records);
  if (args.json) {
    process.stderr.write(`\n${table}`);
    for (const r of records) console.log(JSON.stringify(r));
  } else {
    process.stdout.write(`\n${table}`);
  }
  let svg: string | undefined, csv: string | undefined;
  if (records.some((r) => r.mode === 'sweep')) {
    mkdirSync(args.out, { recursive: true });
    csv = join(args.out, 'sweep.csv');
    svg = join(args.out, 'sweep.svg');
    writeFileSync(csv, sweepCsv(records));
    writeFileSync(svg, sweepSvg(records));
    log(`wrote ${csv} and ${svg}`);
  }
  if (args.markdown) {
    const rel = (f?: string) => (f ? relative(dirname(resolve(args.markdown!)), resolve(f)).split(sep).join('/') : undefined);
    // The command that made the records: these flags, less the ones that only say where results go.
    const skip = ['--from', '--markdown'];
    const flags = argv.filter((a, i) => !skip.includes(a) && !skip.includes(argv[i - 1]!));
    const command = `npm run bench${flags.length ? ` -- ${flags.join(' ')}` : ''}`;
    appendMarkdown(args.markdown, formatMarkdown(records, { command, svg: rel(svg), csv: rel(csv), data: rel(args.from) }));
    log(`appended the results to ${args.markdown}`);
  }
  if (!args.from) log(`bench: finished in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  if (errors.length > 0) {
    log(`bench: ${errors.length} error${errors.length === 1 ? '' : 's'}:\n  ${errors.join('\n  ')}`);
    return 1;
  }
  return 0;
}
