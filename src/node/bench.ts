// `npm run bench`: this runtime against TensorFlow.js, training the lecture's model on the same adapter in the same
// headless Chromium, plus this runtime in Node (Dawn) without a browser. Serves dist-demo/ (the built bench.html and
// the MNIST files) on 127.0.0.1, drives the page with puppeteer, runs the Node measurements in this process, and
// prints a table, JSON lines (--json), a sweep's CSV and SVG plot (--sweep) and the BENCHMARKS.md section
// (--markdown FILE). What is timed and how is described in bench-core.ts.
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { adapterName } from '../gpu/device.js';
import {
  BENCH_CELLS, BENCH_MODELS, benchMatmul, benchWebgpuRnn, CLASSES, INPUTS, parseMnist, round, splitAdapter, sweepSizes, withEfficiency,
  type BenchCell, type BenchModel, type BenchPageResult, type BenchRecord, type ModelSize,
} from './bench-core.js';
import { benchSequential } from './bench-models.js';
import { appendMarkdown, formatMarkdown, formatText, machine, readRecords, sweepCsv, sweepSvg } from './bench-report.js';
import { getDevice } from './device.js';
import { setAutotune } from '../tune.js';
import { mnistDirectory } from './mnist.js';
import { formatProfile, runProfile } from './profile.js';
import { commandLine, integerFlag, textFlag, UsageError } from './cli.js';

export const SYSTEMS = ['webgpu-rnn', 'tfjs', 'tfjs-wasm', 'node'] as const;
export type System = (typeof SYSTEMS)[number];
export { appendMarkdown, formatMarkdown, formatText, ratios, readRecords, sweepCsv, sweepSvg } from './bench-report.js';

export interface BenchArgs {
  json: boolean;
  batch: number;
  steps: number;
  units: number;
  /** The rnn layers' cell in every model (tanh by default). */
  cell: BenchCell;
  warmup: number;
  timed: number;
  inferImages: number;
  inferBatch: number;
  systems: System[];
  /** Which models each system trains (BENCH_MODELS); a sweep trains the classifier only. */
  models: BenchModel[];
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
  json: false, batch: 150, steps: 28, units: 150, cell: 'tanh', warmup: 2, timed: 10, inferImages: 1000, inferBatch: 1000,
  systems: [...SYSTEMS], models: [...BENCH_MODELS], matmul: true, matmulSize: 1024, sweep: false, profile: false, sweepBatch: [1, 16, 150, 1024], sweepSteps: [28, 112, 448],
  sweepUnits: [64, 150, 512], sweepWarmup: 1, sweepTimed: 2, out: 'bench-results', pages: 'dist-demo',
};

export const USAGE = `usage: npm run bench -- [options]
Trains the lecture's RNN (28-pixel rows, tanh units, dense 10, Adam 0.001) on MNIST with this runtime and with
TensorFlow.js on the same WebGPU adapter in headless Chromium, and with this runtime in Node (Dawn).
  --json               one JSON line per system and mode on stdout (the table goes to stderr)
  --batch N            batch size (default ${DEFAULTS.batch})
  --steps N            sequence length in rows of 28 pixels (default ${DEFAULTS.steps}: one MNIST image)
  --units N            RNN units (default ${DEFAULTS.units})
  --cell NAME          the rnn layers' cell: tanh (default), lstm or gru (against TF.js's tf.layers.lstm / gru)
  --warmup N           untimed training steps first (default ${DEFAULTS.warmup})
  --timed N            timed training steps (default ${DEFAULTS.timed})
  --infer-images N     test images for the inference throughput, up to 10000; 0 skips it (default ${DEFAULTS.inferImages})
  --infer-batch N      inference batch size (default ${DEFAULTS.inferBatch})
  --systems LIST       any of ${SYSTEMS.join(',')} (default: all)
                         webgpu-rnn, tfjs (webgpu backend) and tfjs-wasm run in Chromium; node is this runtime in Node
  --models LIST        any of ${BENCH_MODELS.join(',')} (default: all; inference is timed for the classifier only)
                         classifier: rnn -> dense on the last state (the lecture's); stacked: rnn(returnSequences)
                         -> rnn -> dense; per-step: rnn(returnSequences) -> dense and its loss at every step
  --no-matmul          skip the square matmul (the adapter's practical ceiling)
  --matmul-size N      its M = N = K (default ${DEFAULTS.matmulSize})
  --sweep              instead: time per step against batch, steps and units, one varied at a time around
                       --batch/--steps/--units; writes <out>/sweep.csv and <out>/sweep.svg
  --profile            instead: time each phase of the RNN's forward and backward pass (input projection, steps,
                       weight gradients) at --batch/--steps/--units/--cell, in Node, and the matmul beside it (no data set
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

/** A comma-separated list of known names, each once, in the order given. */
function namesFlag<T extends string>(flag: string, value: string | undefined, known: readonly T[]): T[] {
  const names = textFlag(flag, value, `a comma-separated list of ${known.join(', ')}`).split(',');
  const bad = names.find((n) => !(known as readonly string[]).includes(n));
  const what = flag === '--systems' ? 'system' : 'model';
  if (bad !== undefined) throw new UsageError(`${flag}: unknown ${what} '${bad}' (known: ${known.join(', ')})`);
  return [...new Set(names as T[])];
}

/** Parses the command line; throws UsageError naming the bad flag. */
export function parseBenchArgs(argv: string[]): BenchArgs | 'help' {
  const args: BenchArgs = { ...DEFAULTS, systems: [...DEFAULTS.systems], models: [...DEFAULTS.models] };
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
      case '--cell': {
        const cell = value();
        if (!BENCH_CELLS.includes(cell as BenchCell)) throw new UsageError(`--cell expects one of ${BENCH_CELLS.join(', ')}, got ${cell ?? 'nothing'}`);
        args.cell = cell as BenchCell;
        break;
      }
      case '--warmup': args.warmup = integerFlag(flag, value(), 0); break;
      case '--timed': args.timed = integerFlag(flag, value(), 1); break;
      case '--infer-images': args.inferImages = integerFlag(flag, value(), 0, 10000); break;
      case '--infer-batch': args.inferBatch = integerFlag(flag, value(), 1); break;
      case '--systems': args.systems = namesFlag(flag, value(), SYSTEMS); break;
      case '--models': args.models = namesFlag(flag, value(), BENCH_MODELS); break;
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
    const models = mode === 'sweep' ? ['classifier' as const] : args.models;
    for (const size of sizes) {
      for (const model of models) {
        const name = `${model} ${size.batch}x${size.steps}x${size.units}`;
        try {
          log(`node: webgpu-rnn ${model}: batch ${size.batch}, ${size.steps} steps, ${size.units} units`);
          const r = model === 'classifier' ? await benchWebgpuRnn(device, mnist, size, timing) : await benchSequential(device, mnist, model, size, timing);
          records.push({ system: 'webgpu-rnn', mode, model, ...base, warmup: timing.warmup, timed: timing.timed, ...size, ...withEfficiency(r, size, matmulGflops, model) });
        } catch (error) {
          errors.push(`node ${name}: ${(error as Error).message}`);
          log(`node: FAILED ${errors.at(-1)}`);
        }
      }
    }
  } finally {
    device.destroy();
  }
  return { records, errors };
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
  const cell = args.cell === 'tanh' ? {} : { cell: args.cell };
  const sizes: ModelSize[] = (sweep ?? [{ batch: args.batch, steps: args.steps, units: args.units }]).map((s) => ({ ...s, ...cell }));
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
      systems: pageSystems.join(','), models: (sweep ? ['classifier'] : args.models).join(','), sizes: sizes.map((s) => `${s.batch}x${s.steps}x${s.units}`).join(','), cell: args.cell, mode,
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
    const { records, tuning, ceiling } = await runProfile({ batch: args.batch, steps: args.steps, units: args.units, ...(args.cell === 'tanh' ? {} : { cell: args.cell }) }, args.adapter, args.matmul ? args.matmulSize : 0, log);
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
