// Seeded random batches for any stack-of-layers config: inputs in [-1, 1), class ids or values in [-1, 1) shaped as
// the config's last layer and loss need. Shared by the reference tests and, later, the GPU Sequential's tests.
import { Random } from '../src/random.js';
import type { Batch } from '../src/model/batch.js';
import { planSequential, type SequentialConfig } from '../src/model/config.js';

export function randomBatch(config: SequentialConfig, o: { n: number; steps: number; lengths?: number[]; seed: number }): Batch {
  const plan = planSequential(config);
  const r = new Random(o.seed);
  const floats = (k: number) => Float32Array.from({ length: k }, () => 2 * r.next() - 1);
  const x = floats(plan.sequenceInput ? o.n * o.steps * plan.inputs : o.n * plan.inputs);
  const rows = plan.sequenceOutput ? o.n * o.steps : o.n;
  const y = plan.loss === 'mse' ? floats(rows * plan.outputs) : Int32Array.from({ length: rows }, () => Math.floor(r.next() * plan.outputs));
  return { n: o.n, steps: o.steps, x, y, ...(o.lengths ? { lengths: Int32Array.from(o.lengths) } : {}) };
}
