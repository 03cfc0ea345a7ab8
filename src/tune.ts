// Autotuning: kernels come in variants (how many outputs each invocation owns, and the workgroup's shape); which one
// is fastest depends on the shape and the adapter (software adapters want wide SIMD-friendly rows, GPUs want
// occupancy). With tuning on, each kernel shape is timed once per device in every variant and the fastest is kept;
// off (the default), the first variant is used. `tuningReport` says what was chosen and why.

/** Outputs per invocation (rows x cols) and workgroup size (wgX x wgY). */
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
  { rows: 4, cols: 8, wgX: 8, wgY: 8 },
  { rows: 2, cols: 2, wgX: 16, wgY: 16 },
];

export type TuningMode = 'off' | 'measure' | Tile;

export interface TuningChoice {
  kernel: string;         // e.g. 'matmul 4200x150x28 bias'
  tile: Tile;
  ms: number | null;      // measured time of the chosen variant (null when not measured)
  candidates: Array<{ tile: Tile; ms: number }>;
}

interface DeviceTuning {
  mode: TuningMode;
  choices: Map<string, TuningChoice>;
  queue: Promise<unknown>; // measurements one at a time, so they do not disturb each other
}

const tuning = new WeakMap<GPUDevice, DeviceTuning>();

function stateOf(device: GPUDevice): DeviceTuning {
  let s = tuning.get(device);
  if (!s) tuning.set(device, (s = { mode: 'off', choices: new Map(), queue: Promise.resolve() }));
  return s;
}

/** 'measure' times every variant of each new kernel shape; 'off' uses the default; a Tile forces that variant. */
export function setAutotune(device: GPUDevice, mode: TuningMode): void {
  const s = stateOf(device);
  s.mode = mode;
  s.choices.clear();
}

/** What the tuner chose for each kernel shape on this device, with the candidates' times. */
export function tuningReport(device: GPUDevice): TuningChoice[] {
  return [...stateOf(device).choices.values()];
}

/**
 * The tile for kernel `key`. `measure(tile)` returns milliseconds for one run of the kernel in that variant; it is
 * called only in 'measure' mode, once per key and device.
 */
export async function chooseTile(device: GPUDevice, key: string, measure: (tile: Tile) => Promise<number>): Promise<Tile> {
  const s = stateOf(device);
  if (s.mode === 'off') return TILES[0]!;
  if (typeof s.mode === 'object') return s.mode;
  const known = s.choices.get(key);
  if (known) return known.tile;
  const run = s.queue.then(async () => {
    const again = s.choices.get(key);
    if (again) return again.tile;
    const candidates: Array<{ tile: Tile; ms: number }> = [];
    for (const tile of TILES) candidates.push({ tile, ms: await measure(tile) });
    const best = candidates.reduce((a, b) => (b.ms < a.ms ? b : a));
    s.choices.set(key, { kernel: key, tile: best.tile, ms: best.ms, candidates });
    return best.tile;
  });
  s.queue = run.catch(() => undefined);
  return run;
}

/** Median milliseconds of `encode` over a few submissions, each waited for; repeats short kernels within one pass. */
export async function timeKernel(device: GPUDevice, encode: (pass: GPUComputePassEncoder) => void): Promise<number> {
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
  const repeats = Math.max(1, Math.min(20, Math.ceil(5 / Math.max(first, 1e-3))));
  const times = [await once(repeats), await once(repeats), await once(repeats)].sort((a, b) => a - b);
  return times[1]!;
}
