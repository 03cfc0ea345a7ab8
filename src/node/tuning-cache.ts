// The autotuner's choices kept between runs of `npm run train`, in one JSON file per user: each adapter (and set of
// kernel variants) has its list of choices, so the second run on a machine skips the timing (seconds on a software
// adapter, more at big shapes). A missing, unreadable or damaged file only means timing again; it is rewritten.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { adapterName } from '../gpu/device.js';
import { restoreTuning, tuningReport, VARIANTS_ID } from '../tune.js';
import { writeFileAtomic } from './files.js';

interface CacheFile {
  format: 1;
  /** `adapter | variants` -> that adapter's choices (tuningReport entries). */
  adapters: Record<string, unknown>;
}

/** $WEBGPU_RNN_CACHE, else $XDG_CACHE_HOME/webgpu-rnn, else ~/.cache/webgpu-rnn; the file tuning.json in it. */
export function tuningCachePath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.WEBGPU_RNN_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'webgpu-rnn');
  return join(dir, 'tuning.json');
}

function keyOf(device: GPUDevice): string {
  return `${adapterName(device)} | ${VARIANTS_ID}`;
}

/** Reads the file: its content, or why it cannot be used (a missing file is no reason: an empty cache). */
function read(file: string): { cache: CacheFile; problem?: string } {
  const empty: CacheFile = { format: 1, adapters: {} };
  if (!existsSync(file)) return { cache: empty };
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as Partial<CacheFile>;
    if (data?.format !== 1 || typeof data.adapters !== 'object' || data.adapters === null) return { cache: empty, problem: 'not a tuning cache of format 1' };
    return { cache: data as CacheFile };
  } catch (error) {
    return { cache: empty, problem: (error as Error).message };
  }
}

/** Hands this adapter's stored choices to the tuner; returns how many were taken and any problem with the file. */
export function loadTuningCache(device: GPUDevice, file: string): { taken: number; problem?: string } {
  const { cache, problem } = read(file);
  return { taken: restoreTuning(device, cache.adapters[keyOf(device)]), problem };
}

/** Stores this device's choices under its adapter, keeping the other adapters' entries. Throws if it cannot write. */
export function saveTuningCache(device: GPUDevice, file: string): void {
  const { cache } = read(file);
  cache.adapters[keyOf(device)] = tuningReport(device);
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomic(file, new TextEncoder().encode(`${JSON.stringify(cache, null, 1)}\n`));
}
