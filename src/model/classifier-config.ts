// SequenceClassifier's config and names: the lecture's model as a Sequential config (one tanh rnn layer, a dense layer
// on its last state, softmax cross-entropy), the classifier's own parameter names for the Sequential's, and the
// checks of a config against what the device can hold.
import { checkDemands, dispatch, storage } from '../gpu/limits.js';
import { grid1d } from '../gpu/shader.js';
import { cellOf } from '../cells/index.js';
import { InputError } from '../errors.js';
import { checkSeed, checkSize, describe } from '../validate.js';
import { layers, planSequential, type SequentialConfig } from './config.js';
import { flatTable, type TableEntry } from './parameters.js';

export interface ClassifierConfig {
  steps: number;   // T: rows of an image
  inputs: number;  // I: pixels per row
  units: number;   // H: RNN units
  classes: number; // C
  seed?: number;   // initialisation and shuffling: any safe integer, distinct seeds give distinct streams
  /** The recurrent cell: 'tanh' (the lecture's, the default), 'lstm' or 'gru' (reset-after, PyTorch's form). */
  cell?: 'tanh' | 'lstm' | 'gru';
}

/** The classifier's parameter names (its checkpoints' tensor names) and the Sequential's they are ('rnn.bh': GRU's). */
export const PARAM_NAMES = {
  'rnn.wx': 'layers.0.wx', 'rnn.wh': 'layers.0.wh', 'rnn.b': 'layers.0.b', 'rnn.bh': 'layers.0.bh', 'dense.w': 'layers.1.w', 'dense.b': 'layers.1.b',
} as const;
export type ParamName = keyof typeof PARAM_NAMES;

/** The classifier as a Sequential: glorot initialisers draw the weights exactly as the classifier always has. */
export function presetConfig(c: ClassifierConfig): SequentialConfig {
  return {
    inputs: c.inputs,
    layers: [layers.rnn({ units: c.units, ...(c.cell && c.cell !== 'tanh' ? { cell: c.cell } : {}) }), layers.dense({ units: c.classes })],
    loss: 'softmax-cross-entropy',
    seed: c.seed ?? 1,
  };
}

/** The Sequential's table entries under the classifier's names (the same flat layout). */
export function classifierEntries(entries: TableEntry[]): TableEntry[] {
  const back = new Map(Object.entries(PARAM_NAMES).map(([mine, theirs]) => [theirs as string, mine]));
  return entries.map((e) => ({ ...e, name: back.get(e.name)! }));
}

/**
 * The config with its sizes, the seed (default 1), and what the device can hold checked; `prefix` starts each field
 * name ('' for the constructor, "checkpoint config." for load). The tensors of a checkpoint say nothing of `steps`:
 * the hidden states of even one sequence, [steps + 1, 1, units], must fit one storage binding.
 */
export function checkConfig(device: GPUDevice, config: unknown, prefix: string): Required<ClassifierConfig> {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new InputError(prefix ? prefix.slice(0, -1) : 'config', 'an object { steps, inputs, units, classes, seed? }', describe(config));
  }
  const c = config as Partial<Record<keyof ClassifierConfig, unknown>>;
  const T = checkSize(`${prefix}steps`, c.steps);
  const I = checkSize(`${prefix}inputs`, c.inputs);
  const H = checkSize(`${prefix}units`, c.units);
  const C = checkSize(`${prefix}classes`, c.classes);
  const seed = checkSeed(`${prefix}seed`, c.seed ?? 1);
  const cell = c.cell ?? 'tanh';
  if (cell !== 'tanh' && cell !== 'lstm' && cell !== 'gru') throw new InputError(`${prefix}cell`, "'tanh', 'lstm' or 'gru'", describe(cell));
  const G = cellOf(cell).gates, wide = G === 1 ? 'units' : `${G} * units`;
  // Before any allocation, host arrays included (units 100000 would not fit a Float32Array).
  checkDemands(device, `${prefix}units`, H, [storage(`rnn.wh [units, ${wide}]`, H * G * H)]);
  checkDemands(device, `${prefix}inputs`, I, [storage(`rnn.wx [inputs, ${wide}]`, I * G * H)]);
  checkDemands(device, `${prefix}classes`, C, [storage('dense.w [units, classes]', H * C)]);
  const total = flatTable(planSequential(presetConfig({ steps: T, inputs: I, units: H, classes: C, cell })).params).total;
  checkDemands(device, `${prefix}config`, `inputs ${I}, units ${H}, classes ${C}`, [storage('the parameters [P] (and their gradients, Adam m and v)', total),
    dispatch('adam.update', grid1d(total, 256, device.limits.maxComputeWorkgroupsPerDimension))]); // clipping's are no larger
  // A checkpoint's config names steps that its tensors do not carry: even one sequence must fit.
  checkDemands(device, `${prefix}steps`, T, [storage('hs [steps + 1, batch 1, units] (the hidden states of one sequence)', (T + 1) * H),
    storage('x [steps, batch 1, inputs] (the inputs of one sequence)', T * I)]);
  const maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
  if (Math.ceil(T / 32) > maxGroups) {
    throw new InputError(`${prefix}steps`, `at most ${maxGroups * 32} (the device's workgroup count limit, for batch 1)`, String(T));
  }
  return { steps: T, inputs: I, units: H, classes: C, seed, cell };
}

