// A model's parameters: one table carves the flat buffers (params, grads, Adam's m and v) into named tensors, and the
// host keeps a copy of the whole state (what save() writes and parameter() / weights() read).
import { readFloats } from '../gpu/buffers.js';

/** Where each named tensor lives in the flat buffers, in elements. */
export interface TableEntry {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

/** Tensors in order, each at an offset aligned to 64 floats (256 bytes) so that each slice binds on its own. */
export function flatTable(specs: Array<{ name: string; shape: number[] }>): { entries: TableEntry[]; total: number } {
  let offset = 0;
  const entries = specs.map(({ name, shape }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const entry = { name, shape, offset, size };
    offset += Math.ceil(size / 64) * 64;
    return entry;
  });
  return { entries, total: offset };
}

/** The state the host keeps: replaced only as a whole, by a read-back of the GPU state (or a load). */
export interface HostState {
  params: Float32Array;   // [P] flat, as on the GPU
  m: Float32Array;
  v: Float32Array;
  schedule: Float32Array; // [4] Adam: t, lr_t, 1 - beta1^t, 1 - beta2^t
}

/** The GPU buffers a HostState mirrors. */
export interface StateBuffers {
  params: GPUBuffer;
  m: GPUBuffer;
  v: GPUBuffer;
  adamSchedule: GPUBuffer;
}

export function uploadState(device: GPUDevice, b: StateBuffers, host: HostState): void {
  const q = device.queue;
  q.writeBuffer(b.params, 0, host.params);
  q.writeBuffer(b.m, 0, host.m);
  q.writeBuffer(b.v, 0, host.v);
  q.writeBuffer(b.adamSchedule, 0, host.schedule);
}

/** The GPU's state, read back whole (`total` parameters): a caller replaces its copy only once all of it has come. */
export async function downloadState(device: GPUDevice, b: StateBuffers, total: number): Promise<HostState> {
  const [params, m, v, schedule] = await Promise.all([
    readFloats(device, b.params, 0, total), readFloats(device, b.m, 0, total),
    readFloats(device, b.v, 0, total), readFloats(device, b.adamSchedule, 0, 4),
  ]);
  return { params, m, v, schedule };
}

/** A fresh state: `params`, zero moments, Adam not started. */
export function initialState(params: Float32Array): HostState {
  return { params, m: new Float32Array(params.length), v: new Float32Array(params.length), schedule: new Float32Array(4) };
}
