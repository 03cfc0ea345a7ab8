// A gradient check for any stack of layers: float64 central differences of the reference loss against a gradient
// (backwardRef's by default, or any other: a GPU model's), for every parameter (and optionally the input x). Big
// tensors can be sampled: a seeded subset of their elements. It reports the worst relative error, where it is and
// the two values, so a failing test says which parameter and element went wrong.
import { Random } from '../random.js';
import { checkBatch, checkWeights, type Batch, type Weights } from '../model/batch.js';
import { planSequential, type SequentialConfig } from '../model/config.js';
import { runPlan, type BackwardResult } from './sequential.js';

export interface GradcheckOptions {
  /** The gradient to check, by parameter name (and 'x'); backwardRef's when left out. */
  analytic?: Record<string, ArrayLike<number>>;
  /** Central-difference step (default 1e-5: float64 truncation and rounding errors both near 1e-10 on tiny models). */
  eps?: number;
  /** Relative error = |analytic - numeric| / max(|analytic|, |numeric|, floor): below `floor` errors count absolutely (default 1e-4). */
  floor?: number;
  /** Check at most this many elements of each tensor, a seeded random subset (default: all). */
  maxPerTensor?: number;
  /** Seed of that subset (default 1). */
  seed?: number;
  /** Rnn layers' states before step 0, by layer index (forwardRef's option): held fixed, as a stateful layer's are. */
  initialStates?: Readonly<Record<number, ArrayLike<number>[]>>;
  /** Also check dLoss/dx (default false): the only check of a first layer's input gradient. */
  input?: boolean;
}

export interface GradcheckEntry {
  parameter: string;   // 'layers.0.wh', or 'x'
  index: number;       // flat, row-major
  position: number[];  // the index in the tensor's shape
  analytic: number;
  numeric: number;
  error: number;       // relative, as GradcheckOptions.floor says
}

export interface GradcheckResult {
  worst: GradcheckEntry;
  perTensor: Record<string, GradcheckEntry>; // each tensor's worst element
  checked: number;                            // elements compared
  loss: number;
}

export function gradcheck(config: SequentialConfig, weights: Weights, batch: Batch, options: GradcheckOptions = {}): GradcheckResult {
  const plan = planSequential(config);
  const w = checkWeights(plan, weights);
  const b = checkBatch(plan, batch);
  const eps = options.eps ?? 1e-5, floor = options.floor ?? 1e-4;
  // Perturbed copies in float64: the loss is a function of these.
  const values: Record<string, Float64Array> = Object.fromEntries(Object.entries(w).map(([k, v]) => [k, Float64Array.from(v)]));
  const x = Float64Array.from(b.x);
  const point = { ...b, x };
  const lossAt = () => runPlan(plan, values, point, false, options.initialStates).loss;
  const base = runPlan(plan, values, point, true, options.initialStates) as BackwardResult;
  const analytic = options.analytic ?? { ...Object.fromEntries(Object.entries(base.grads).map(([k, g]) => [k, g.data])), x: base.dx };

  const tensors = plan.params.map(({ name, shape }) => ({ name, shape, data: values[name]! }));
  if (options.input) tensors.push({ name: 'x', shape: plan.sequenceInput ? [b.n, b.steps, plan.inputs] : [b.n, plan.inputs], data: x });
  const random = new Random(options.seed ?? 1);
  const perTensor: Record<string, GradcheckEntry> = {};
  let checked = 0, worst: GradcheckEntry | undefined;
  for (const { name, shape, data } of tensors) {
    const given = analytic[name];
    if (given === undefined || given.length !== data.length) {
      throw new Error(`gradcheck: the analytic gradient of ${name} has ${given === undefined ? 'no values' : `${given.length} values`}, the tensor ${data.length}`);
    }
    for (const i of subset(data.length, options.maxPerTensor, random)) {
      const keep = data[i]!;
      data[i] = keep + eps; const up = lossAt();
      data[i] = keep - eps; const down = lossAt();
      data[i] = keep;
      const numeric = (up - down) / (2 * eps), a = given[i]!;
      const error = Math.abs(a - numeric) / Math.max(Math.abs(a), Math.abs(numeric), floor);
      const entry = { parameter: name, index: i, position: unravel(i, shape), analytic: a, numeric, error: Number.isNaN(error) ? Infinity : error };
      if (!perTensor[name] || entry.error > perTensor[name].error) perTensor[name] = entry;
      if (!worst || entry.error > worst.error) worst = entry;
      checked++;
    }
  }
  if (!worst) throw new Error('gradcheck: nothing to check (no parameters, and options.input not set)');
  return { worst, perTensor, checked, loss: base.loss };
}

/** "layers.0.wh[2, 1]: analytic 0.0123, numeric 0.0125, relative error 1.6e-2". */
export function describeEntry(e: GradcheckEntry): string {
  return `${e.parameter}[${e.position.join(', ')}]: analytic ${e.analytic}, numeric ${e.numeric}, relative error ${e.error.toExponential(2)}`;
}

function subset(length: number, max: number | undefined, random: Random): number[] {
  if (max === undefined || max >= length) return Array.from({ length }, (_, i) => i);
  return Array.from(random.permutation(length).subarray(0, max)).sort((a, b) => a - b);
}

function unravel(i: number, shape: number[]): number[] {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) { idx.unshift(i % shape[d]!); i = Math.floor(i / shape[d]!); }
  return idx;
}
