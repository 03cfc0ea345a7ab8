// Layout kernels: the axis swap between batch-major and time-major (shaders/layout.wgsl), a zero fill (fill.wgsl)
// a copy of some columns (columns.wgsl) and a stateful layer's carried state (carry.wgsl).
import source from '../../shaders/layout.wgsl?raw';
import fillSource from '../../shaders/fill.wgsl?raw';
import columnsSource from '../../shaders/columns.wgsl?raw';
import carrySource from '../../shaders/carry.wgsl?raw';
import { grid1d, program, type Program } from '../gpu/shader.js';

/** input [A, B, C] -> output [B, A, C]. Bind (input, output). */
export function swap01(device: GPUDevice, A: number, B: number, C: number): Promise<Program> {
  return program(device, 'swap01', source, { A, B, C }, 'swap01', ['read', 'storage'],
    grid1d(A * B * C, 256, device.limits.maxComputeWorkgroupsPerDimension));
}

/** output[offset .. offset + n) = 0, inside a pass (shaders/fill.wgsl). Bind (output). */
export function fillZero(device: GPUDevice, n: number, offset = 0): Promise<Program> {
  return program(device, 'fillZero', fillSource, { N: n, OFFSET: offset }, 'fillZero', ['storage'],
    grid1d(n, 256, device.limits.maxComputeWorkgroupsPerDimension));
}

/** output[r, c] = input[r, c] for c in [from, N) of [R, N] matrices (shaders/columns.wgsl). Bind (input, output). */
export function copyColumns(device: GPUDevice, R: number, N: number, from: number): Promise<Program> {
  return program(device, 'copyColumns', columnsSource, { R, N, C0: from }, 'copyColumns', ['read', 'storage'],
    grid1d(R * (N - from), 256, device.limits.maxComputeWorkgroupsPerDimension));
}

/** hs[s][0] = hs[s][T] for each state s of hs [S, T+1, B, H], inside a pass (shaders/carry.wgsl). Bind (hs). */
export function carryState(device: GPUDevice, shape: { S: number; T: number; B: number; H: number }): Promise<Program> {
  return program(device, 'carryState', carrySource, shape, 'carryState', ['storage'],
    grid1d(shape.S * shape.B * shape.H, 256, device.limits.maxComputeWorkgroupsPerDimension));
}
