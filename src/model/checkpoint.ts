// Checkpoints: the tensors a model's flat state is written as (each parameter, Adam's m and v of it, Adam's schedule),
// and what they must hold to be loaded (finite weights, non-negative second moments, a step count float32 can count),
// checked before anything is allocated.
import { InputError } from '../errors.js';
import type { Tensor } from '../io/safetensors.js';
import { initialState, type HostState, type TableEntry } from './parameters.js';


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
