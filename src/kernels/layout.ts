// Axis swap between batch-major and time-major layouts: shaders/layout.wgsl.
import source from '../../shaders/layout.wgsl?raw';
import { grid1d, program, type Program } from '../gpu/shader.js';

/** input [A, B, C] -> output [B, A, C]. Bind (input, output). */
export function swap01(device: GPUDevice, A: number, B: number, C: number): Promise<Program> {
  return program(device, 'swap01', source, { A, B, C }, 'swap01', ['read', 'storage'],
    grid1d(A * B * C, 256, device.limits.maxComputeWorkgroupsPerDimension));
}
