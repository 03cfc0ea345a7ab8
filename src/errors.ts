// Typed errors. Every message says what was wrong and, where it can, what to do.

/** Bad input from the caller: names the field, what was expected and what was given. Nothing was computed. */
export class InputError extends Error {
  override name = 'InputError';
  constructor(readonly field: string, readonly expected: string, readonly actual: string) {
    super(`${field}: expected ${expected}, got ${actual}`);
  }
}

/** The GPU refused or failed: no adapter, a shader that does not compile, out of memory, a lost device. */
export class GpuError extends Error {
  override name = 'GpuError';
}
