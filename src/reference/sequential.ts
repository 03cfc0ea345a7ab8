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
}

export interface BackwardResult extends ForwardResult {
  grads: Weights<Float64Array>; // dLoss/d(every parameter), named and shaped like the weights
  dx: Float64Array;             // dLoss/dx, like batch.x
}

export function forwardRef(config: SequentialConfig, weights: Weights, batch: Batch): ForwardResult {
  return run(config, weights, batch, false);
}

export function backwardRef(config: SequentialConfig, weights: Weights, batch: Batch): BackwardResult {
  return run(config, weights, batch, true) as BackwardResult;
}

function run(config: SequentialConfig, weights: Weights, batch: Batch, backward: boolean): ForwardResult | BackwardResult {
  const plan = planSequential(config);
  const w = checkWeights(plan, weights);
  const b = checkBatch(plan, batch);
  return runPlan(plan, w, b, backward);
}

/** forward (and backward) of a checked plan, weights and batch: what gradcheck calls many times. */
export function runPlan(plan: SequentialPlan, w: Record<string, Arr>, b: CheckedBatch, backward: boolean): ForwardResult | BackwardResult {
  const e: Extent = { n: b.n, steps: b.steps, lengths: b.lengths };
  const inputs: Arr[] = [b.x];
  const layerOutputs = plan.layers.map((p) => {
    const y = layerForward(p, w, inputs.at(-1)!, e);
    inputs.push(y);
    return y;
  });
  const outputs = layerOutputs.at(-1)!;
  const O = plan.outputs, seq = plan.sequenceOutput;
  const l = lossRef(plan.loss, outputs, b.y, O, seq, e);
  const forward: ForwardResult = {
    outputs, predictions: predictionsRef(plan.loss, outputs, O, seq, e), layerOutputs, loss: l.loss,
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
