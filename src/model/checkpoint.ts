// Checkpoints: the tensors a model's flat state is written as (each parameter, Adam's m and v of it, Adam's schedule),
// and what they and the classifier's config must hold to be loaded (sizes the device can hold, finite weights,
// non-negative second moments, a step count float32 can count), checked before anything is allocated.
import { InputError } from '../errors.js';
import type { Tensor } from '../io/safetensors.js';
import { checkDemands, dispatch, storage } from '../gpu/limits.js';
import { grid1d } from '../gpu/shader.js';
import { checkSeed, checkSize, describe } from '../validate.js';
import { initialState, parameterTable, type ClassifierConfig, type HostState, type TableEntry } from './parameters.js';


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
  // Before any allocation, host arrays included (units 100000 would not fit a Float32Array).
  checkDemands(device, `${prefix}units`, H, [storage('rnn.wh [units, units]', H * H)]);
  checkDemands(device, `${prefix}inputs`, I, [storage('rnn.wx [inputs, units]', I * H)]);
  checkDemands(device, `${prefix}classes`, C, [storage('dense.w [units, classes]', H * C)]);
  const total = parameterTable({ steps: T, inputs: I, units: H, classes: C }).total;
  checkDemands(device, `${prefix}config`, `inputs ${I}, units ${H}, classes ${C}`, [storage('the parameters [P] (and their gradients, Adam m and v)', total),
    dispatch('adam.update', grid1d(total, 256, device.limits.maxComputeWorkgroupsPerDimension))]); // clipping's are no larger
  // A checkpoint's config names steps that its tensors do not carry: even one sequence must fit.
  checkDemands(device, `${prefix}steps`, T, [storage('hs [steps + 1, batch 1, units] (the hidden states of one sequence)', (T + 1) * H),
    storage('x [steps, batch 1, inputs] (the inputs of one sequence)', T * I)]);
  const maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
  if (Math.ceil(T / 32) > maxGroups) {
    throw new InputError(`${prefix}steps`, `at most ${maxGroups * 32} (the device's workgroup count limit, for batch 1)`, String(T));
  }
  return { steps: T, inputs: I, units: H, classes: C, seed };
}

/** Every value of a checkpoint tensor finite and at least `min` (0 for Adam's second moments). */
export function checkFinite(field: string, data: Float32Array, min: number): void {
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (!(Number.isFinite(x) && x >= min)) {
      throw new InputError(field, min === 0 ? "finite values >= 0 (Adam's second moment)" : 'finite values', `${x} at index ${i}`);
    }
  }
}

/**
 * Adam's schedule [t, lr_t, 1 - beta1^t, 1 - beta2^t] as adamBegin leaves it: t a whole step count that float32 can
 * still count on (at most 2^24), lr_t finite (the next step recomputes it), and both corrections in [0, 1] (0 when
 * nothing was trained; the betas may change between fits, so they are not recomputed from t).
 */
export function checkSchedule(field: string, s: Float32Array): void {
  const t = s[0]!;
  if (!(Number.isInteger(t) && t >= 0 && t <= 2 ** 24)) {
    throw new InputError(`${field}[0]`, 'a whole step count t from 0 to 16777216 (2^24, where float32 stops counting)', String(t));
  }
  if (!Number.isFinite(s[1]!)) throw new InputError(`${field}[1]`, 'a finite lr_t', String(s[1]));
  for (const i of [2, 3]) {
    // 1 + 2^-20: float32 rounding of beta and 1 - beta can leave the running value a few ulps above 1.
    if (!(s[i]! >= 0 && s[i]! <= 1 + 2 ** -20)) throw new InputError(`${field}[${i}]`, `1 - beta${i - 1}^t, a value in [0, 1]`, String(s[i]));
  }
}

/** The state as named tensors: `name`, `adam.m.name`, `adam.v.name` for each parameter, and `adam.schedule` [4]. */
export function stateTensors(entries: TableEntry[], host: HostState): Record<string, Tensor> {
  const tensors: Record<string, Tensor> = {};
  for (const { name, shape, offset, size } of entries) {
    tensors[name] = { dtype: 'F32', shape, data: host.params.slice(offset, offset + size) };
    tensors[`adam.m.${name}`] = { dtype: 'F32', shape, data: host.m.slice(offset, offset + size) };
    tensors[`adam.v.${name}`] = { dtype: 'F32', shape, data: host.v.slice(offset, offset + size) };
  }
  tensors['adam.schedule'] = { dtype: 'F32', shape: [4], data: host.schedule.slice() };
  return tensors;
}

/**
 * The flat state [total] from stateTensors' tensors, each present with its shape (`config` names the config in the
 * error), weights and first moments finite, second moments finite and >= 0, the schedule as checkSchedule says.
 */
export function readState(tensors: Record<string, Tensor>, entries: TableEntry[], total: number, name: string, config: string): HostState {
  const state = initialState(new Float32Array(total));
  // `min`: every value finite and at least this; the schedule has checks of its own (checkSchedule).
  const take = (key: string, shape: number[], into: Float32Array, offset: number, min?: number) => {
    const t = tensors[key];
    if (!t) throw new InputError(name, `a tensor '${key}'`, 'none');
    if (t.dtype !== 'F32' || t.shape.join(',') !== shape.join(',')) {
      throw new InputError(`${name} ${key}`, `F32 [${shape.join(', ')}] for the config ${config}`, `${t.dtype} [${t.shape.join(', ')}]`);
    }
    if (min !== undefined) checkFinite(`${name} ${key}`, t.data as Float32Array, min);
    into.set(t.data as Float32Array, offset);
  };
  for (const { name: key, shape, offset } of entries) {
    take(key, shape, state.params, offset, -Infinity);
    take(`adam.m.${key}`, shape, state.m, offset, -Infinity);
    take(`adam.v.${key}`, shape, state.v, offset, 0);
  }
  take('adam.schedule', [4], state.schedule, 0);
  checkSchedule(`${name} adam.schedule`, state.schedule);
  return state;
}
