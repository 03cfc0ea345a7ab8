// Input checks shared by the public entry points. Each throws an InputError naming the field, the expected and
// the actual value, before any GPU work.
import { InputError } from './errors.js';

export function checkSize(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new InputError(field, 'a positive integer', typeof value === 'number' ? String(value) : typeof value);
  }
  return value;
}

export function checkArray<T extends Float32Array | Int32Array>(
  field: string, value: unknown, kind: { new (n: number): T; name: string }, length: number, shape: string,
): T {
  if (!(value instanceof kind)) {
    const got = value === undefined ? 'undefined' : value === null ? 'null' : (value as object).constructor?.name ?? typeof value;
    throw new InputError(field, `a ${kind.name} of length ${length} ${shape}`, got);
  }
  if (value.length !== length) throw new InputError(field, `length ${length} ${shape}`, `length ${value.length}`);
  return value;
}

/** Bytes a buffer of `elements` 4-byte values needs; rejects what the device cannot bind. */
export function checkFits(device: GPUDevice, field: string, elements: number, shape: string): void {
  const bytes = elements * 4;
  const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  if (bytes > limit) {
    throw new InputError(field, `at most ${limit} bytes (the device's storage binding limit) for ${shape}`, `${bytes} bytes`);
  }
}
