// What a stack of layers is run on: its weights (named tensors, row-major) and a batch (inputs, targets, lengths),
// each checked against the plan with an InputError naming the field, the expected and the actual.
import { InputError } from '../errors.js';
import { describe } from '../validate.js';
import type { SequentialPlan } from './config.js';

export interface Tensor<D extends ArrayLike<number> = ArrayLike<number>> {
  shape: number[];
  data: D; // row-major
}
/** 'layers.0.wx' -> { shape: [I, H], data }: the form of the model.weights(). */
export type Weights<D extends ArrayLike<number> = ArrayLike<number>> = Record<string, Tensor<D>>;

export interface Batch {
  n: number;                      // sequences
  steps?: number;                 // T; required unless the first layer is repeat (then its steps, if given equal to them)
  x: ArrayLike<number>;           // [n, steps, inputs], or [n, inputs] after a first repeat
  y: ArrayLike<number>;           // softmax-cross-entropy: class ids [n] or [n, steps]; mse: values [n, outputs] or [n, steps, outputs]
  lengths?: ArrayLike<number>;    // [n], each in [1, steps]; steps for every sequence when left out
}

export interface CheckedBatch {
  n: number;
  steps: number;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  lengths: Int32Array; // [n]
}

/** The data of every parameter of the plan by name; throws on a missing, unknown or misshapen tensor. */
export function checkWeights(plan: SequentialPlan, weights: unknown, field = 'weights'): Record<string, ArrayLike<number>> {
  if (weights === null || typeof weights !== 'object') throw new InputError(field, `an object of tensors { ${plan.params.map((p) => p.name).join(', ')} }`, describe(weights));
  const w = weights as Record<string, unknown>;
  const out: Record<string, ArrayLike<number>> = {};
  for (const { name, shape } of plan.params) {
    const t = w[name] as Partial<Tensor> | undefined;
    const f = `${field}['${name}']`;
    if (t === undefined) throw new InputError(f, `a tensor of shape [${shape.join(', ')}]`, 'nothing (missing)');
    if (!Array.isArray(t.shape) || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new InputError(`${f}.shape`, `[${shape.join(', ')}]`, Array.isArray(t.shape) ? `[${t.shape.join(', ')}]` : describe(t.shape));
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (t.data === null || typeof t.data !== 'object' || typeof t.data.length !== 'number') throw new InputError(`${f}.data`, `an array of ${size} numbers`, describe(t.data));
    if (t.data.length !== size) throw new InputError(`${f}.data`, `length ${size} [${shape.join(', ')}]`, `length ${t.data.length}`);
    out[name] = t.data;
  }
  for (const name of Object.keys(w)) {
    if (!(name in out)) throw new InputError(`${field}['${name}']`, `only the parameters ${plan.params.map((p) => p.name).join(', ')}`, 'an unknown parameter');
  }
  return out;
}

export function checkBatch(plan: SequentialPlan, batch: unknown, field = 'batch'): CheckedBatch {
  if (batch === null || typeof batch !== 'object') throw new InputError(field, 'an object { n, steps, x, y, lengths? }', describe(batch));
  const b = batch as Partial<Batch>;
  const n = positiveInt(`${field}.n`, b.n);
  let steps: number;
  if (plan.repeatSteps !== undefined) {
    steps = plan.repeatSteps;
    if (b.steps !== undefined && b.steps !== steps) throw new InputError(`${field}.steps`, `${steps} (layers.0.steps) or left out`, describe(b.steps));
  } else {
    steps = positiveInt(`${field}.steps`, b.steps);
  }
  const I = plan.inputs;
  const xShape = plan.sequenceInput ? [n, steps, I] : [n, I];
  checkLength(`${field}.x`, b.x, xShape, plan.sequenceInput ? '[n, steps, inputs]' : '[n, inputs] (the vector layers.0 repeats)');
  const O = plan.outputs;
  if (plan.loss === 'softmax-cross-entropy') {
    const shape = plan.sequenceOutput ? [n, steps] : [n];
    checkLength(`${field}.y`, b.y, shape, plan.sequenceOutput ? '[n, steps] (a class per step: the last layer gives a sequence)' : '[n] (a class per sequence: the last layer gives a vector)');
    for (let i = 0; i < b.y!.length; i++) {
      const c = b.y![i]!;
      if (!Number.isInteger(c) || c < 0 || c >= O) throw new InputError(`${field}.y[${i}]`, `a class id in [0, ${O - 1}] (the last layer has ${O} units)`, String(c));
    }
  } else {
    const shape = plan.sequenceOutput ? [n, steps, O] : [n, O];
    checkLength(`${field}.y`, b.y, shape, plan.sequenceOutput ? '[n, steps, outputs]' : '[n, outputs]');
  }
  const lengths = new Int32Array(n).fill(steps);
  if (b.lengths !== undefined) {
    checkLength(`${field}.lengths`, b.lengths, [n], '[n]');
    for (let i = 0; i < n; i++) {
      const l = b.lengths[i]!;
      if (!Number.isInteger(l) || l < 1 || l > steps) throw new InputError(`${field}.lengths[${i}]`, `an integer in [1, ${steps}] (steps)`, String(l));
      lengths[i] = l;
    }
  }
  return { n, steps, x: b.x!, y: b.y!, lengths };
}

function positiveInt(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new InputError(field, 'a positive integer', describe(v));
  return v;
}

function checkLength(field: string, v: unknown, shape: number[], names: string): void {
  const size = shape.reduce((a, b) => a * b, 1);
  if (v === null || typeof v !== 'object' || typeof (v as ArrayLike<number>).length !== 'number') {
    throw new InputError(field, `an array of ${size} numbers ${names}`, describe(v));
  }
  const length = (v as ArrayLike<number>).length;
  if (length !== size) throw new InputError(field, `length ${size} = [${shape.join(', ')}] ${names}`, `length ${length}`);
}
