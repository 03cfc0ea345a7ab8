// Files the Node commands write: checkpoints (train --save) and the tuning cache.
import { renameSync, writeFileSync } from 'node:fs';

/** Writes `bytes` to a temporary file beside `path`, then renames it into place: no half-written checkpoints. */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}
