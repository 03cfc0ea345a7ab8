// The configuration of a stack of layers (issue 11's Sequential) and its checks: the layers, the loss, Adam, the seed.
// planSequential turns a config into the shapes every layer sees and the parameters it owns, or throws an InputError
// naming the field, what was expected and what was given. The GPU model (sequential.ts here) and the float64 reference
// (reference/sequential.ts) read the same plan.
import { cellOf, type Cell } from '../cells/index.js';
import { InputError } from '../errors.js';
import { ADAM_DEFAULTS } from '../kernels/adam.js';
import { checkSeed, checkSize, describe } from '../validate.js';

/**
 * For a cell of G gate blocks (tanh 1, GRU 3, LSTM 4; N = G·H columns), model/init.ts:
 * 'glorot': TensorFlow 1's BasicRNNCell / LSTMCell, one Glorot-uniform limit sqrt(6 / (I + H + N)) for the
 *   [I + H, N] kernel [Wx; Wh], zero biases (today's SequenceClassifier; tanh's default).
 * 'orthogonal': Keras SimpleRNN / LSTM / GRU, Glorot-uniform Wx (limit sqrt(6 / (I + N))), Wh [H, N] from Keras's
 *   Orthogonal (QR of a Gaussian [N, H] matrix, R's diagonal made positive, transposed: orthonormal rows, not one
 *   orthogonal matrix per gate block), zero biases (LSTM's and GRU's default).
 * 'pytorch': torch.nn.RNN / LSTM / GRU, uniform(±1/sqrt(units)) for Wx, Wh, b (and GRU's bh). PyTorch keeps two
 *   biases, b_ih and b_hh; the tanh and LSTM cells keep one, so a PyTorch checkpoint's b is b_ih + b_hh (and its
 *   weight_ih_l0 [N, I] is wx transposed); GRU keeps both (b, bh).
 * An LSTM layer's forgetBias (on by default, Keras's unit_forget_bias) then adds 1 to b's f block, whichever initialiser.
 */
export type RnnInitialiser = 'glorot' | 'orthogonal' | 'pytorch';
/** 'glorot': Glorot-uniform w, zero b (TensorFlow and Keras). 'pytorch': uniform(±1/sqrt(inputs)) for w and b (nn.Linear). */
export type DenseInitialiser = 'glorot' | 'pytorch';

export interface RnnLayerConfig {
  type: 'rnn';
  units: number;
  cell?: string;               // a cell of cells/index.ts: 'tanh' (the default), 'lstm' or 'gru'
  returnSequences?: boolean;   // false: only the state at each sequence's last valid step goes on
  initialiser?: RnnInitialiser; // the cell's default: 'glorot' for tanh (as today), 'orthogonal' for lstm and gru (Keras)
  forgetBias?: boolean;        // lstm only: 1 added to b's f block at initialisation (Keras unit_forget_bias); true by default
  resetAfter?: boolean;        // gru only: true (PyTorch, cuDNN, Keras's default; bh [3H]) by default, false the original form
  /**
   * Keras's `stateful`: each forward pass starts from the final state of the one before it in the same batch plan
   * (row b of batch k+1 goes on from row b of batch k), not from zeros; no gradient crosses from one pass into the
   * one before (truncated BPTT). Sequential.resetStates() zeroes the states; fit does at each epoch, evaluate at its
   * start. False by default.
   */
  stateful?: boolean;
}
export interface DenseLayerConfig {
  type: 'dense';
  units: number;
  initialiser?: DenseInitialiser; // 'glorot' by default
}
/** A vector x [n, inputs] fed at every one of `steps` steps: vector to sequence. Only as the first layer. */
export interface RepeatLayerConfig {
  type: 'repeat';
  steps: number;
}
export type LayerConfig = RnnLayerConfig | DenseLayerConfig | RepeatLayerConfig;

export type LossName = 'softmax-cross-entropy' | 'mse';

/** Adam (TensorFlow 1's defaults, ADAM_DEFAULTS, for what is left out), then optional clipping by global norm. */
export interface OptimizerConfig {
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  clipNorm?: number; // as PyTorch clip_grad_norm_: scale by clipNorm / (norm + 1e-6) when that is below 1
}

export interface SequentialConfig {
  inputs: number; // features per step, or of the vector a first `repeat` layer repeats
  layers: LayerConfig[];
  loss: LossName;
  optimizer?: OptimizerConfig;
  seed?: number; // 1 by default, as SequenceClassifier
}

/** The layers of the API: `layers.rnn({ units: 64 })` is `{ type: 'rnn', units: 64 }`. */
export const layers = {
  rnn: (options: Omit<RnnLayerConfig, 'type'>): RnnLayerConfig => ({ type: 'rnn', ...options }),
  dense: (options: Omit<DenseLayerConfig, 'type'>): DenseLayerConfig => ({ type: 'dense', ...options }),
  repeat: (options: Omit<RepeatLayerConfig, 'type'>): RepeatLayerConfig => ({ type: 'repeat', ...options }),
};

export interface ParameterSpec {
  name: string;    // 'layers.0.wx'
  shape: number[]; // row-major
}

/** An rnn layer as planned: forgetBias only for lstm, resetAfter only for gru (present, with its default). */
export interface ResolvedRnnLayer {
  type: 'rnn'; units: number; cell: string; returnSequences: boolean; initialiser: RnnInitialiser; forgetBias?: boolean; resetAfter?: boolean;
  stateful?: true; // present only when on
}
export type ResolvedLayer =
  | ResolvedRnnLayer
  | { type: 'dense'; units: number; initialiser: DenseInitialiser }
  | { type: 'repeat'; steps: number };

export interface LayerPlan {
  index: number;
  layer: ResolvedLayer;
  inputs: number;      // features of the input it sees (per step for a sequence)
  outputs: number;     // features of its output (per step for a sequence)
  sequenceIn: boolean; // input [n, steps, inputs] (true) or [n, inputs]
  sequenceOut: boolean;
  params: ParameterSpec[];
}

export interface SequentialPlan {
  inputs: number;
  layers: LayerPlan[];
  params: ParameterSpec[]; // every layer's, in layer order: the order of the flat parameter buffer
  outputs: number;         // features of the last layer's output
  sequenceInput: boolean;  // x is [n, steps, inputs]; false after a first `repeat`: x is [n, inputs]
  sequenceOutput: boolean; // outputs (and targets) per step
  repeatSteps?: number;    // steps of a first `repeat` layer
  loss: LossName;
  optimizer: Required<Omit<OptimizerConfig, 'clipNorm'>> & { clipNorm?: number };
  seed: number;
}

const ADAM = ADAM_DEFAULTS;

/** Checks a config and works out every layer's shapes and parameters; throws an InputError on the first fault. */
export function planSequential(config: unknown): SequentialPlan {
  const c = checkObject('config', config, ['inputs', 'layers', 'loss', 'optimizer', 'seed']);
  const inputs = checkSize('inputs', c.inputs);
  if (!Array.isArray(c.layers) || c.layers.length === 0) {
    throw new InputError('layers', 'a non-empty array of layers (layers.rnn, layers.dense, layers.repeat)', Array.isArray(c.layers) ? 'an empty array' : describe(c.layers));
  }
  const loss = c.loss;
  if (loss !== 'softmax-cross-entropy' && loss !== 'mse') throw new InputError('loss', "'softmax-cross-entropy' or 'mse'", describe(loss));
  const plans: LayerPlan[] = [];
  let features = inputs;
  let sequence = !(isObject(c.layers[0]) && c.layers[0].type === 'repeat');
  c.layers.forEach((raw: unknown, index: number) => {
    const field = `layers.${index}`;
    const layer = checkLayer(field, raw, index, sequence, plans);
    const name = (p: string) => `${field}.${p}`;
    let outputs = features, sequenceOut = sequence, params: ParameterSpec[] = [];
    if (layer.type === 'rnn') {
      const H = layer.units;
      outputs = H;
      sequenceOut = layer.returnSequences;
      params = Object.entries(layerCell(layer).params(features, H)).map(([p, shape]) => ({ name: name(p), shape }));
    } else if (layer.type === 'dense') {
      outputs = layer.units;
      params = [{ name: name('w'), shape: [features, layer.units] }, { name: name('b'), shape: [layer.units] }];
    } else {
      sequenceOut = true;
    }
    plans.push({ index, layer, inputs: features, outputs, sequenceIn: sequence, sequenceOut, params });
    features = outputs;
    sequence = sequenceOut;
  });
  const first = plans[0]!.layer;
  return {
    inputs, layers: plans, params: plans.flatMap((p) => p.params), outputs: features,
    sequenceInput: first.type !== 'repeat', sequenceOutput: sequence,
    repeatSteps: first.type === 'repeat' ? first.steps : undefined,
    loss, optimizer: checkOptimizer(c.optimizer), seed: checkSeed('seed', c.seed ?? 1),
  };
}

/** The cell an rnn layer runs: its config name with the options that change it (gru's resetAfter). */
export function layerCell(layer: ResolvedRnnLayer): Cell {
  return cellOf(layer.cell, 'cell', layer);
}

function checkLayer(field: string, raw: unknown, index: number, sequence: boolean, below: LayerPlan[]): ResolvedLayer {
  if (!isObject(raw) || !['rnn', 'dense', 'repeat'].includes(raw.type as string)) {
    throw new InputError(field, "a layer: layers.rnn({ units }), layers.dense({ units }) or layers.repeat({ steps })", isObject(raw) ? `type ${describe(raw.type)}` : describe(raw));
  }
  if (raw.type === 'repeat') {
    const o = checkObject(field, raw, ['type', 'steps']);
    if (index !== 0) {
      throw new InputError(field, 'repeat only as the first layer (it turns the input vector x [n, inputs] into a sequence)', `repeat after ${describeLayer(below[index - 1]!)}`);
    }
    return { type: 'repeat', steps: checkSize(`${field}.steps`, o.steps) };
  }
  if (raw.type === 'dense') {
    const o = checkObject(field, raw, ['type', 'units', 'initialiser']);
    return { type: 'dense', units: checkSize(`${field}.units`, o.units), initialiser: checkChoice(`${field}.initialiser`, o.initialiser, ['glorot', 'pytorch']) };
  }
  const o = checkObject(field, raw, ['type', 'units', 'cell', 'returnSequences', 'initialiser', 'forgetBias', 'resetAfter', 'stateful']);
  if (!sequence) {
    const prev = below[index - 1]!;
    throw new InputError(field, `a layer that takes a vector (dense): an rnn needs a sequence, so set returnSequences: true on layers.${prev.index}`,
      `rnn after ${describeLayer(prev)}, which gives a vector [n, ${prev.outputs}]`);
  }
  const units = checkSize(`${field}.units`, o.units);
  const cell = cellOf(o.cell ?? 'tanh', `${field}.cell`);
  if (o.returnSequences !== undefined && typeof o.returnSequences !== 'boolean') {
    throw new InputError(`${field}.returnSequences`, 'true or false', describe(o.returnSequences));
  }
  if (o.stateful !== undefined && typeof o.stateful !== 'boolean') throw new InputError(`${field}.stateful`, 'true or false', describe(o.stateful));
  const initialiser = o.initialiser === undefined ? cell.initialiser : checkChoice(`${field}.initialiser`, o.initialiser, ['glorot', 'orthogonal', 'pytorch']);
  // A cell's own options: present in the resolved layer (with their defaults) for that cell only.
  const option = (key: 'forgetBias' | 'resetAfter', only: string): { [k: string]: boolean } => {
    const v = o[key];
    if (v !== undefined && cell.name !== only) {
      throw new InputError(`${field}.${key}`, `no ${key} for cell '${cell.name}' (an option of cell '${only}' only)`, describe(v));
    }
    if (v !== undefined && typeof v !== 'boolean') throw new InputError(`${field}.${key}`, 'true or false', describe(v));
    return cell.name === only ? { [key]: v !== false } : {};
  };
  return {
    type: 'rnn', units, cell: cell.name, returnSequences: o.returnSequences === true, initialiser,
    ...option('forgetBias', 'lstm'), ...option('resetAfter', 'gru'), ...(o.stateful === true && { stateful: true as const }),
  };
}

function checkOptimizer(raw: unknown): SequentialPlan['optimizer'] {
  if (raw === undefined) return { ...ADAM };
  const o = checkObject('optimizer', raw, ['learningRate', 'beta1', 'beta2', 'epsilon', 'clipNorm']);
  const positive = (f: string, v: unknown, fallback: number) => {
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new InputError(`optimizer.${f}`, 'a finite number above 0', describe(v));
    return v;
  };
  const beta = (f: string, v: unknown, fallback: number) => {
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new InputError(`optimizer.${f}`, 'a number in [0, 1)', describe(v));
    return v;
  };
  const clipNorm = o.clipNorm === undefined ? undefined : positive('clipNorm', o.clipNorm, 0);
  return {
    learningRate: positive('learningRate', o.learningRate, ADAM.learningRate), beta1: beta('beta1', o.beta1, ADAM.beta1),
    beta2: beta('beta2', o.beta2, ADAM.beta2), epsilon: positive('epsilon', o.epsilon, ADAM.epsilon), ...(clipNorm === undefined ? {} : { clipNorm }),
  };
}

function describeLayer(p: LayerPlan): string {
  return p.layer.type === 'rnn' ? `layers.${p.index} (rnn, returnSequences ${p.layer.returnSequences})` : `layers.${p.index} (${p.layer.type})`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** An object with only the `known` keys: a misspelt option (returnSequence) fails instead of being ignored. */
function checkObject(field: string, v: unknown, known: string[]): Record<string, unknown> {
  if (!isObject(v)) throw new InputError(field, `an object { ${known.join(', ')} }`, describe(v));
  for (const key of Object.keys(v)) {
    if (!known.includes(key)) throw new InputError(`${field}.${key}`, `one of the options ${known.join(', ')}`, `an unknown option ${JSON.stringify(key)}`);
  }
  return v;
}

function checkChoice<T extends string>(field: string, v: unknown, choices: readonly T[]): T {
  if (v === undefined) return choices[0]!;
  if (!choices.includes(v as T)) throw new InputError(field, choices.map((c) => `'${c}'`).join(' or '), describe(v));
  return v as T;
}
