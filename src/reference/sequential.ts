// The float64 reference of a stack of layers (issue 11's Sequential): forward through every layer, the loss, and
// backpropagation to every parameter. The GPU model is tested against these; tests only, never the runtime.
import { checkBatch, checkWeights, type Batch, type CheckedBatch, type Weights } from '../model/batch.js';
import { planSequential, type SequentialConfig, type SequentialPlan } from '../model/config.js';
import type { Arr } from './index.js';
import { layerBackward, layerForward, type Extent } from './layers.js';
import { lossRef, predictionsRef } from './losses.js';

export interface ForwardResult {
  outputs: Float64Array;      // the last layer's values: [n, O], or [n, steps, O] zero past each length (logits for cross-entropy)
  predictions: Float64Array;  // softmax probabilities (cross-entropy) or the outputs (mse), shaped like outputs
  layerOutputs: Float64Array[]; // every layer's output, batch-major, for checking a model layer by layer
  loss: number;
  accuracy?: number;          // softmax-cross-entropy only
  finalStates: Record<number, Float64Array[]>; // by rnn layer index: its final states (h, then LSTM's c), each [n, units]
}

/** Where the rnn layers start: by layer index, each state [n, units] (h, then LSTM's c), as stateful layers carry them. */
export interface RefOptions {
  initialStates?: Readonly<Record<number, ArrayLike<number>[]>>;
}

export interface BackwardResult extends ForwardResult {
  grads: Weights<Float64Array>; // dLoss/d(every parameter), named and shaped like the weights
  dx: Float64Array;             // dLoss/dx, like batch.x
}

export function forwardRef(config: SequentialConfig, weights: Weights, batch: Batch, options: RefOptions = {}): ForwardResult {
  return run(config, weights, batch, false, options);
}

/** Gradients of the batch's loss; with options.initialStates, none reaches the states it starts from (truncated BPTT). */
export function backwardRef(config: SequentialConfig, weights: Weights, batch: Batch, options: RefOptions = {}): BackwardResult {
  return run(config, weights, batch, true, options) as BackwardResult;
}

function run(config: SequentialConfig, weights: Weights, batch: Batch, backward: boolean, options: RefOptions): ForwardResult | BackwardResult {
  const plan = planSequential(config);
  const w = checkWeights(plan, weights);
  const b = checkBatch(plan, batch);
  return runPlan(plan, w, b, backward, options.initialStates);
}

/** forward (and backward) of a checked plan, weights and batch: what gradcheck calls many times. */
export function runPlan(plan: SequentialPlan, w: Record<string, Arr>, b: CheckedBatch, backward: boolean,
  initialStates?: Readonly<Record<number, Arr[]>>): ForwardResult | BackwardResult {
  const e: Extent = { n: b.n, steps: b.steps, lengths: b.lengths, ...(initialStates && { initialStates }) };
  const inputs: Arr[] = [b.x];
  const finalStates: Record<number, Float64Array[]> = {};
  const layerOutputs = plan.layers.map((p) => {
    const y = layerForward(p, w, inputs.at(-1)!, e, finalStates);
    inputs.push(y);
    return y;
  });
  const outputs = layerOutputs.at(-1)!;
  const O = plan.outputs, seq = plan.sequenceOutput;
  const l = lossRef(plan.loss, outputs, b.y, O, seq, e);
  const forward: ForwardResult = {
    outputs, predictions: predictionsRef(plan.loss, outputs, O, seq, e), layerOutputs, finalStates, loss: l.loss,
    ...(l.accuracy === undefined ? {} : { accuracy: l.accuracy }),
  };
  if (!backward) return forward;
  const grads: Weights<Float64Array> = {};
  let dy: Arr = l.dOutputs;
  for (let k = plan.layers.length - 1; k >= 0; k--) {
    const p = plan.layers[k]!;
    const g = layerBackward(p, w, inputs[k]!, dy, e);
    for (const { name, shape } of p.params) grads[name] = { shape, data: g.grads[name]! };
    dy = g.dx;
  }
  // In the plan's parameter order (the flat buffer's), not the reverse order of backpropagation.
  const ordered = Object.fromEntries(plan.params.map(({ name }) => [name, grads[name]!]));
  return { ...forward, grads: ordered, dx: dy as Float64Array };
}
