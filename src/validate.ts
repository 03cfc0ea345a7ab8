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

/**
 * Throws unless `value` looks like a GPUDevice. A duck-type check (createBuffer, queue, limits): `instanceof
 * GPUDevice` is not reliable across Dawn's Node globals and a browser's.
 */
export function checkDevice(value: unknown, field = 'device'): GPUDevice {
  const d = value as Partial<GPUDevice> | null;
  if (d === null || typeof d !== 'object' || typeof d.createBuffer !== 'function' ||
      d.queue === null || typeof d.queue !== 'object' || d.limits === null || typeof d.limits !== 'object') {
    throw new InputError(field, 'a GPUDevice (from getDevice())', describe(value));
  }
  return value as GPUDevice;
}

/** A seed: any safe integer (src/random.ts gives every one its own stream). */
export function checkSeed(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new InputError(field, `an integer from ${Number.MIN_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER} (a safe integer)`, typeof value === 'number' ? String(value) : describe(value));
  }
  return value;
}

/** What a value is, for the `actual` of an InputError: its class name, or null / undefined / its typeof. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'string') return `string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value !== 'object') return `${typeof value} ${String(value)}`;
  return (value as object).constructor?.name ?? 'object';
}
