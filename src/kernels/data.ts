// Batch gather from the GPU-resident data set: shaders/data.wgsl.
import source from '../../shaders/data.wgsl?raw';
import { grid1d, program, type Program } from '../gpu/shader.js';

/** Bind (batch uniform, order, pixels, labels, x [T,B,I], y [B]); encode with the dynamic offset of the batch slot. */
export function gather(device: GPUDevice, T: number, B: number, I: number): Promise<Program> {
  return program(device, 'data.gather', source, { T, B, I }, 'gather',
    ['uniform-dynamic', 'read', 'read', 'read', 'storage', 'storage'], grid1d(T * B * I, 256, device.limits.maxComputeWorkgroupsPerDimension));
}
