// Autotuning: kernels come in variants (how many outputs each invocation owns and the workgroup's shape; the
// recurrence per step or fused; how many K-slices a weight-gradient reduction is cut into); which one is fastest
// depends on the shape and the adapter (software adapters want wide SIMD-friendly rows, GPUs want occupancy; the fused
// recurrence exists for tanh, LSTM and GRU reset-after, and is never timed on a software adapter). With
// tuning on, each kernel shape is timed once per device in every variant of its adapter class (fewer on a software
// adapter, where each costs a compile of about half a second) and the fastest is kept; off (the default), the class's
// first variant is used. `tuningReport` says what was chosen and why; `restoreTuning` takes back the choices of
// an earlier run (the train command keeps them in a file, node/tuning-cache.ts).

import { adapterClass } from './gpu/device.js';

/** Outputs per invocation (rows x cols: 4 or 8 rows, 4 columns) and workgroup size (wgX x wgY). */
export interface Tile {
  rows: number;
  cols: number;
  wgX: number;
  wgY: number;
}

/** The variants the tuner may pick; the first is the default. Every one is tested against the reference. */
export const TILES: readonly Tile[] = [
  { rows: 4, cols: 4, wgX: 8, wgY: 8 },
  { rows: 8, cols: 4, wgX: 16, wgY: 4 },
  { rows: 8, cols: 4, wgX: 8, wgY: 8 },
  { rows: 4, cols: 4, wgX: 16, wgY: 16 },
  { rows: 8, cols: 4, wgX: 8, wgY: 4 },   // 32 x 32 per workgroup: little padding at 150 rows and columns
];

/** How the T steps of the recurrence are dispatched: one dispatch per step, or all steps in one (fused). */
export type Recurrence = 'per-step' | 'fused';
export const RECURRENCES: readonly Recurrence[] = ['per-step', 'fused'];

/**
 * Reductions over a long K (the weight gradients, K = T*B) are cut into this many slices, summed afterwards
 * (split-K): the candidates depend on K (kernels/matmul.ts, splitCandidates).
 */
export type Splits = number;

export type Variant = Tile | Recurrence | Splits;

/**
 * 'measure' times every variant of each new kernel shape; 'off' uses the defaults; an object forces variants
 * (`splits` is rounded to the nearest count that divides K).
 */
export type TuningMode = 'off' | 'measure' | { tile?: Tile; recurrence?: Recurrence; splits?: Splits };

export interface TuningChoice {
  kernel: string;           // e.g. 'matmul 4200x150x28 bias'
  variant: Variant;
  ms: number;               // measured time of the chosen variant (its best of the rounds)
  candidates: Array<{ variant: Variant; ms: number }>;
}

interface DeviceTuning {
  mode: TuningMode;
  choices: Map<string, TuningChoice>;
  queue: Promise<unknown>; // measurements one at a time, so they do not disturb each other
  log?: (line: string) => void;
  timed: number;           // kernel shapes timed since setAutotune, for the progress lines
  started: number;         // when the first of them started (performance.now())
}

const TUNING_ROUNDS = 2;
const RETIME_WITHIN = 1.25;
const SLOW_KERNEL_MS = 100; // a variant is timed again only within 25% of the best so far

const tuning = new WeakMap<GPUDevice, DeviceTuning>();

function stateOf(device: GPUDevice): DeviceTuning {
  let s = tuning.get(device);
  if (!s) tuning.set(device, (s = { mode: 'off', choices: new Map(), queue: Promise.resolve(), timed: 0, started: 0 }));
  return s;
}

/**
 * Sets how kernel variants are chosen on `device` from now on, and forgets earlier choices. `log` gets a line as each
 * kernel shape starts and ends being timed (on a software adapter each variant compiles for about half a second).
 */
export function setAutotune(device: GPUDevice, mode: TuningMode, options: { log?: (line: string) => void } = {}): void {
  const s = stateOf(device);
  s.mode = mode;
  s.choices.clear();
  s.log = options.log;
  s.timed = 0;
}

/** What the tuner chose for each kernel shape on this device, with the candidates' times. */
export function tuningReport(device: GPUDevice): TuningChoice[] {
  return [...stateOf(device).choices.values()];
}

// ---- keeping choices between runs ----

/**
 * Names the set of variants this build can pick from: stored choices are only taken back by a build with the same
 * set (a choice among other variants would not be this build's best).
 */
export const VARIANTS_ID = `tiles ${TILES.map(variantName).join(' ')}; recurrence ${RECURRENCES.join(' ')}; split-K 1`;

/**
 * Takes back choices an earlier run made on the same adapter (tuningReport's entries, e.g. read from a file): in
 * 'measure' mode a kernel shape with a choice is not timed again. Entries that are not valid choices of this build
 * are skipped, so a damaged or outdated store only costs the measuring. Returns how many entries were taken.
 */
export function restoreTuning(device: GPUDevice, entries: unknown): number {
  if (!Array.isArray(entries)) return 0;
  const s = stateOf(device);
  let taken = 0;
  for (const e of entries as Array<Partial<TuningChoice>>) {
    if (!e || typeof e.kernel !== 'string' || !isVariant(e.variant) || typeof e.ms !== 'number' || !Number.isFinite(e.ms)) continue;
    const candidates = Array.isArray(e.candidates) ? e.candidates.filter((c) => c && isVariant(c.variant) && typeof c.ms === 'number') : [];
    s.choices.set(e.kernel, { kernel: e.kernel, variant: e.variant, ms: e.ms, candidates });
    taken++;
  }
  return taken;
}

function isVariant(v: unknown): v is Variant {
  if (typeof v === 'string') return (RECURRENCES as readonly string[]).includes(v);
  if (typeof v === 'number') return Number.isInteger(v) && v >= 1;
  if (!v || typeof v !== 'object') return false;
  const t = v as Partial<Tile>;
  return TILES.some((tile) => tile.rows === t.rows && tile.cols === t.cols && tile.wgX === t.wgX && tile.wgY === t.wgY);
}

/** The tile for kernel `key`; `measure(tile)` (milliseconds of one run) is called only in 'measure' mode. */
/**
 * The tiles tried on a software adapter (lavapipe, SwiftShader), its default first: of the five, 8x4@8x4 was fastest
 * for 11 of the 16 kernel shapes of a training run and its evaluation on lavapipe, 4x4@8x8 for the forward step at
 * batch 150 (BENCHMARKS.md, cold start). Each variant costs a compile of about half a second there, and timing all five
 * kept a new user waiting 23 s before the first step; a GPU compiles in milliseconds and is tuned over all of TILES.
 */
export const CPU_TILES: readonly Tile[] = [TILES[4]!, TILES[0]!];

/** Kernels of fewer multiply-adds than this are not timed: the class's default tile (timing costs more than it saves). */
export const SMALL_WORK = 2_000_000;

/** The tiles the tuner chooses among on `device`; the first is the default when tuning is off. */
export function candidateTiles(device: GPUDevice): readonly Tile[] {
  return adapterClass(device) === 'cpu' ? CPU_TILES : TILES;
}

/** The tiles a kernel runs (`runs`) and those the tuner chooses among on this device (`candidates`, the default first). */
export interface TileSet {
  candidates: readonly Tile[];
  runs: (tile: Tile) => boolean;
}

const fourRows = (t: Tile) => t.rows === 4;

/**
 * The tiles of the multi-gate forward kernels (shaders/recurrence_gates.wgsl), which own 4 rows of every gate of 4
 * units: the 4-row tiles of candidateTiles (on a software adapter only 4x4@8x8, so nothing is timed there).
 */
export function gateTiles(device: GPUDevice): TileSet {
  return { candidates: candidateTiles(device).filter(fourRows), runs: fourRows };
}

/**
 * The tiles of the multi-gate cells' backward step (backwardGates), whose product dh_{t-1} = dz_t·Wh^T keeps one
 * accumulator a row, as the one-gate kernels do, so it runs the 8-row tiles too. On a software adapter 8x4@8x4 only,
 * untimed: against 4x4@8x8 (the one tile it ran before) it took 24.5 against 26.6 ms a step on SwiftShader and 5.85
 * against 6.87 ms on lavapipe (LSTM, batch 150, 150 units; fastest of 7 interleaved runs). A GPU times all of TILES.
 */
export function backwardGateTiles(device: GPUDevice): TileSet {
  return { candidates: adapterClass(device) === 'cpu' ? [TILES[4]!] : TILES, runs: () => true };
}

/**
 * The tile for kernel `key` of `work` multiply-adds; `measure(tile)` (milliseconds of one run) is called only in
 * 'measure' mode, and not for small kernels. `only` (gateTiles, backwardGateTiles) is for a kernel with tiles of its
 * own: its candidates, and a forced tile it does not run gives way to the first of them.
 */
export function chooseTile(device: GPUDevice, key: string, measure: (tile: Tile) => Promise<number>, work = Infinity, only?: TileSet): Promise<Tile> {
  const mode = stateOf(device).mode;
  const candidates = only?.candidates ?? candidateTiles(device);
  let forced = typeof mode === 'object' ? mode.tile : undefined;
  if (forced && only && !only.runs(forced)) forced = undefined;
  return choose(device, key, candidates, forced, measure, undefined, work < SMALL_WORK || candidates.length === 1);
}

/**
 * Per-step or fused recurrence for `key`; `measure` is called only in 'measure' mode. `fusedFits` is false where the
 * fused variant does not fit the device (workgroup memory, workgroups per dimension: kernels/recurrence.ts fusedFits,
 * gatesFusedFits) or does not exist (GRU with resetAfter false, a gated cell): the recurrence then runs per step,
 * whatever is forced. tanh, LSTM and GRU reset-after have one.
 */
export function chooseRecurrence(device: GPUDevice, key: string, measure: (r: Recurrence) => Promise<number>, fusedFits: boolean): Promise<Recurrence> {
  const mode = stateOf(device).mode;
  const forced = typeof mode === 'object' ? mode.recurrence : undefined;
  if (!fusedFits) return Promise.resolve('per-step');
  // On a CPU the fused kernel's workgroup barriers cost more than the dispatches they save (per-step 115 ms against
  // fused 451 ms for the default model's pass on lavapipe): it is not compiled there unless asked for.
  return choose(device, key, RECURRENCES, forced, measure, undefined, adapterClass(device) === 'cpu');
}

/** Slices for a split-K reduction `key` among `candidates` (the first is the default); `measure` only in 'measure' mode. */
export function chooseSplit(device: GPUDevice, key: string, candidates: readonly Splits[], measure: (splits: Splits) => Promise<number>,
  prepare?: (splits: Splits) => Promise<unknown>): Promise<Splits> {
  const mode = stateOf(device).mode;
  const forced = typeof mode === 'object' ? mode.splits : undefined;
  return choose(device, key, candidates, forced, measure, prepare);
}

/** How the train command and the benchmark name a variant: `8x4@16x4` (tile), `fused`, `4 slices`. */
export function variantName(v: Variant): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return `${v} slice${v === 1 ? '' : 's'}`;
  return `${v.rows}x${v.cols}@${v.wgX}x${v.wgY}`;
}

/**
 * With `untimed` (a kernel too small to be worth it, a variant that never wins on this adapter class) nothing is
 * timed. `prepare(v)`, awaited for every variant before the measurements queue up, builds what a variant needs that may
 * itself be tuned (a split product's tiles): tuning inside a measurement would wait on the queue it runs in.
 */
async function choose<V extends Variant>(device: GPUDevice, key: string, variants: readonly V[], forced: V | undefined,
  measure: (v: V) => Promise<number>, prepare?: (v: V) => Promise<unknown>, untimed = false): Promise<V> {
  const s = stateOf(device);
  if (s.mode !== 'measure') return forced ?? variants[0]!;
  const known = s.choices.get(key);
  if (known) return known.variant as V;
  // Not worth timing here: a choice taken back from a stored run is used (above), else the default.
  if (untimed) return variants[0]!;
  if (prepare) await Promise.all(variants.map(prepare));
  const run = s.queue.then(async () => {
    const again = s.choices.get(key);
    if (again) return again.variant as V;
    // Round-robin, keeping each variant's best round: other work on the machine (software adapters share the CPU)
    // only ever adds time, and a slow spell then hits every variant instead of one. Variants clearly slower than
    // the best after a round are not timed again (on a software adapter a big shape takes seconds a run).
    if (s.timed++ === 0) s.started = performance.now();
    s.log?.(`autotune: timing ${key} in ${variants.length} variants (kernel shape ${s.timed}; compiling each on first use)`);
    const candidates = variants.map((variant) => ({ variant, ms: Infinity }));
    for (let round = 0; round < TUNING_ROUNDS; round++) {
      const best = Math.min(...candidates.map((c) => c.ms));
      for (const c of candidates) if (c.ms <= best * RETIME_WITHIN) c.ms = Math.min(c.ms, await measure(c.variant));
    }
    const best = candidates.reduce((a, b) => (b.ms < a.ms ? b : a));
    s.choices.set(key, { kernel: key, variant: best.variant, ms: best.ms, candidates });
    s.log?.(`autotune: ${key}: ${variantName(best.variant)} ${best.ms.toFixed(2)} ms (${s.timed} shapes timed in ${((performance.now() - s.started) / 1000).toFixed(1)} s)`);
    return best.variant;
  });
  s.queue = run.catch(() => undefined);
  return run;
}

/**
 * Milliseconds of `encode`: the fastest of `timed` submissions, each waited for, after one for warm-up; short kernels
 * are repeated within one pass. The fastest, not the median: other work on the machine only ever adds time.
 */
export async function timeKernel(device: GPUDevice, encode: (pass: GPUComputePassEncoder) => void, timed = 2): Promise<number> {
  const once = async (repeats: number) => {
    const encoder = device.createCommandEncoder({ label: 'autotune' });
    const pass = encoder.beginComputePass();
    for (let i = 0; i < repeats; i++) encode(pass);
    pass.end();
    const t0 = performance.now();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    return (performance.now() - t0) / repeats;
  };
  const first = await once(1); // also the warm-up
  // A kernel this slow (a big shape on a software adapter) has nothing left to warm up: the first run counts.
  if (first > SLOW_KERNEL_MS) return Math.min(first, await once(1));
  const repeats = Math.max(1, Math.min(20, Math.ceil(5 / Math.max(first, 1e-3))));
  let best = Infinity;
  for (let i = 0; i < timed; i++) best = Math.min(best, await once(repeats));
  return best;
}
