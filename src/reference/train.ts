// Training steps of a stack of layers in float64: backwardRef, then clipping by global norm (optional), then Adam
// (adamRef, TensorFlow 1's form) on every parameter. One batch is one step.
import { InputError } from '../errors.js';
import { checkWeights, type Batch, type Weights } from '../model/batch.js';
import { planSequential, type SequentialConfig } from '../model/config.js';
import { adamRef, clipByGlobalNormRef } from './index.js';
import { backwardRef } from './sequential.js';

export interface AdamStateRef {
  t: number;                          // steps taken
  m: Record<string, Float64Array>;    // by parameter name
  v: Record<string, Float64Array>;
}

export interface StepRecord {
  loss: number;       // of the batch, before the step's update
  accuracy?: number;
  norm: number;       // global gradient norm before clipping
}

export interface TrainResult {
  weights: Weights<Float64Array>;
  adam: AdamStateRef;
  steps: StepRecord[];
}

/**
 * Clips `grads` in place by their global norm, as PyTorch's clip_grad_norm_ (clipByGlobalNormRef in ./index.ts, the
 * one definition); without `clipNorm` only the norm. Returns the norm before clipping and the scale applied.
 */
export function clipInPlace(grads: Float64Array[], clipNorm?: number): { norm: number; scale: number } {
  const { norm, grads: clipped } = clipByGlobalNormRef(grads, clipNorm ?? Infinity);
  const coef = clipNorm === undefined ? 1 : clipNorm / (norm + 1e-6);
  if (!(coef < 1)) return { norm, scale: 1 };
  clipped.forEach((g, k) => grads[k]!.set(g));
  return { norm, scale: coef };
}

/** Adam's state before the first step: t 0, m and v zero. */
export function initialAdamState(config: SequentialConfig): AdamStateRef {
  const plan = planSequential(config);
  const zeros = () => Object.fromEntries(plan.params.map(({ name, shape }) => [name, new Float64Array(shape.reduce((a, b) => a * b, 1))]));
  return { t: 0, m: zeros(), v: zeros() };
}

/** One step per batch from `weights` and `adam` (a fresh state when left out); the inputs are not changed. */
export function trainStepsRef(config: SequentialConfig, weights: Weights, adam: AdamStateRef | undefined, batches: Batch[]): TrainResult {
  const plan = planSequential(config);
  const state = adam ?? initialAdamState(config);
  const given = checkWeights(plan, weights);
  const w: Weights<Float64Array> = Object.fromEntries(plan.params.map(({ name, shape }) => [name, { shape, data: Float64Array.from(given[name]!) }]));
  const moment = (field: 'm' | 'v') => Object.fromEntries(plan.params.map(({ name, shape }) => {
    const size = shape.reduce((a, b) => a * b, 1), data = state[field]?.[name];
    if (data?.length !== size) throw new InputError(`adam.${field}['${name}']`, `${size} numbers [${shape.join(', ')}]`, data === undefined ? 'nothing (missing)' : `length ${data.length}`);
    return [name, Float64Array.from(data)];
  }));
  const m = moment('m'), v = moment('v');
  let t = state.t;
  const steps: StepRecord[] = [];
  for (const batch of batches) {
    const r = backwardRef(config, w, batch);
    const grads = plan.params.map(({ name }) => r.grads[name]!.data);
    const { norm } = clipInPlace(grads, plan.optimizer.clipNorm);
    t += 1;
    // Clipped above over all parameters together: adamRef must not clip each tensor again.
    const adam = { ...plan.optimizer, clipNorm: undefined };
    plan.params.forEach(({ name }, k) => adamRef(w[name]!.data, m[name]!, v[name]!, grads[k]!, t, adam));
    steps.push({ loss: r.loss, ...(r.accuracy === undefined ? {} : { accuracy: r.accuracy }), norm });
  }
  return { weights: w, adam: { t, m, v }, steps };
}
