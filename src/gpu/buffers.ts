// Buffer ownership. Every GPU buffer the runtime makes belongs to a BufferSet that destroys it; the module keeps a
// count of live buffers so that hosts (and tests) can check that nothing leaks.
import { GpuError } from '../errors.js';

let live = 0;

/** Buffers created by this runtime and not yet destroyed, over all devices. */
export function liveBufferCount(): number {
  return live;
}

/** Storage that can also be written by the queue and copied out. (A function: in Node the GPU* globals appear
 * only once the Dawn entry has loaded.) */
export function storageUsage(): GPUBufferUsageFlags {
  return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
}

export class BufferSet {
  private readonly buffers: GPUBuffer[] = [];
  constructor(readonly device: GPUDevice, readonly label: string) {}

  /** A buffer of `bytes` (rounded up to 4, at least 16) with the given usage, zero-initialised by WebGPU. */
  create(name: string, bytes: number, usage: GPUBufferUsageFlags = storageUsage()): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 4) * 4);
    const buffer = this.device.createBuffer({ label: `${this.label}.${name}`, size, usage });
    this.buffers.push(buffer);
    live++;
    return buffer;
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
    live -= this.buffers.length;
    this.buffers.length = 0;
  }
}

/**
 * Run `create` inside out-of-memory and validation error scopes, so a failed allocation or a bad descriptor is
 * thrown here, next to its cause, instead of surfacing later as an uncaptured error.
 */
export async function withErrorScopes<T>(device: GPUDevice, what: string, create: () => T): Promise<T> {
  const { result, errors } = scoped(device, what, create);
  await errors;
  return result;
}

/**
 * Runs `work` (synchronous, so that no other work can push or pop scopes between our push and pop) inside
 * out-of-memory and validation error scopes. `errors` rejects with a GpuError when either caught one: a submit
 * whose command buffer is invalid runs nothing, so its read-back must be awaited together with `errors`.
 */
export function scoped<T>(device: GPUDevice, what: string, work: () => T): { result: T; errors: Promise<void> } {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  const pop = () => {
    const validation = device.popErrorScope();
    const oom = device.popErrorScope();
    return Promise.all([validation, oom]).then(([v, o]) => {
      if (o) throw new GpuError(`${what}: out of GPU memory: ${o.message}. Use a smaller batch, fewer steps or fewer units.`);
      if (v) throw new GpuError(`${what}: ${v.message}`);
    });
  };
  let result: T;
  try {
    result = work();
  } catch (error) {
    pop().catch(() => undefined); // the thrown error is the cause
    throw error;
  }
  return { result, errors: pop() };
}

/** Copy `bytes` from `src` at `offset` into a fresh Float32Array (or Int32Array) through a staging buffer. */
export async function readFloats(device: GPUDevice, src: GPUBuffer, offset: number, count: number): Promise<Float32Array> {
  const bytes = count * 4;
  const staging = device.createBuffer({ label: 'readback', size: Math.max(16, bytes), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    const { errors } = scoped(device, `reading back ${src.label || 'a buffer'}`, () => {
      const encoder = device.createCommandEncoder();
      if (bytes > 0) encoder.copyBufferToBuffer(src, offset, staging, 0, bytes);
      device.queue.submit([encoder.finish()]);
    });
    // A copy that failed validation leaves zeros in staging: never return those.
    await Promise.all([staging.mapAsync(GPUMapMode.READ), errors]);
    return new Float32Array(staging.getMappedRange(0, Math.max(16, bytes)).slice(0, bytes));
  } finally {
    staging.destroy();
  }
}
