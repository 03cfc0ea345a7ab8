// Float64 CPU reference of the data set gathers (shaders/data_sequences.wgsl). Used by the tests, never by the runtime.
import type { Arr } from './index.js';

/**
 * One batch of a sample-major tensor, time-major: out[s, b, w] = src[order[start + b], s, w].
 * src [count, S, W] -> out [S, B, W]; with S = 1 this is [B, W] (a vector or one target per sequence).
 */
export function gatherRef(src: Arr, order: Arr, start: number, B: number, S: number, W: number): Float64Array {
  const out = new Float64Array(S * B * W);
  for (let s = 0; s < S; s++) {
    for (let b = 0; b < B; b++) {
      const sample = order[start + b]!;
      for (let w = 0; w < W; w++) out[(s * B + b) * W + w] = src[(sample * S + s) * W + w]!;
    }
  }
  return out;
}

/** The whole batch a SequenceDataset gathers: x [xSteps, B, I], y [ySteps, B, width], lengths [B]. */
export function gatherSequencesRef(d: { x: Arr; y: Arr; lengths: Arr; xSteps: number; inputs: number; ySteps: number; width: number },
  order: Arr, start: number, B: number): { x: Float64Array; y: Float64Array; lengths: Float64Array } {
  return {
    x: gatherRef(d.x, order, start, B, d.xSteps, d.inputs),
    y: gatherRef(d.y, order, start, B, d.ySteps, d.width),
    lengths: gatherRef(d.lengths, order, start, B, 1, 1),
  };
}
