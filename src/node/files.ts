// Files the Node commands write: checkpoints (train --save, --checkpoint-every) and the tuning cache.
import { rmSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * Writes `bytes` to a temporary file beside `path`, then renames it into place: no half-written checkpoints. When
 * either fails the temporary file is removed and the error thrown; `path` is then as it was.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

/**
 * Why `path` cannot take a file written by writeFileAtomic, or undefined when it can: its directory is missing or not
 * a directory, the path is a directory, or a probe file created beside it (and removed) could not be.
 */
export function whyNotWritable(path: string): string | undefined {
  const dir = dirname(resolve(path));
  const kind = (p: string) => {
    try {
      return statSync(p).isDirectory() ? 'directory' : 'file';
    } catch {
      return undefined;
    }
  };
  if (kind(dir) === undefined) return `the directory ${dir} does not exist`;
  if (kind(dir) !== 'directory') return `${dir} is not a directory`;
  if (kind(path) === 'directory') return `${path} is a directory`;
  const probe = `${path}.${process.pid}.probe`;
  try {
    writeFileSync(probe, '', { flag: 'wx' });
  } catch (error) {
    return `cannot create a file in ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
  rmSync(probe, { force: true });
  return undefined;
}

/**
 * Writes `bytes` to `path` (atomically); when that fails, to `webgpu-rnn-rescue-<time>.safetensors` in the first of
 * `rescueDirs` (the OS temp directory, then the working directory) that takes it, so that a finished run is not lost.
 * Returns where the bytes went and, after a failure, why `path` did not take them; throws only when nothing did.
 */
export function saveOrRescue(path: string, bytes: Uint8Array, rescueDirs = [tmpdir(), process.cwd()]): { path: string; error?: Error } {
  let error: Error;
  try {
    writeFileAtomic(path, bytes);
    return { path };
  } catch (e) {
    error = e as Error;
  }
  const name = `webgpu-rnn-rescue-${new Date().toISOString().replace(/[:.]/g, '-')}.safetensors`;
  for (const dir of rescueDirs) {
    const rescue = join(dir, name);
    try {
      writeFileAtomic(rescue, bytes);
      return { path: rescue, error };
    } catch {
      // the next directory
    }
  }
  throw new Error(`could not write ${path} (${error.message}), nor a rescue copy in ${rescueDirs.join(' or ')}`);
}

/**
 * The end of a training command: `bytes` to `path` (saveOrRescue), a line saying where they went; 0, or 1 when only
 * the rescue file could take them.
 */
export function saveTrained(path: string, bytes: Uint8Array, log: (line: string) => void): number {
  const saved = saveOrRescue(path, bytes);
  if (saved.error) {
    log(`train: could not save to ${path} (${saved.error.message}); the trained model is in ${saved.path}`);
    return 1;
  }
  log(`saved checkpoint to ${path}`);
  return 0;
}
