// The repeat layer (vector to sequence) and the mask past each sequence's length: shaders/sequence.wgsl.
// Sequences are time-major [T, B, F]; lengths [B] are i32, each in [1, T].
import source from '../../shaders/sequence.wgsl?raw';
import { grid1d, program, type Program } from '../gpu/shader.js';

export interface SequenceShape {
  T: number; // steps
  B: number; // batch
  F: number; // features per step
}

const FLAGS = { REPEAT_FORWARD: false, REPEAT_BACKWARD: false, MASK: false };

/** y [T, B, F] = x [B, F] at every step t < lengths[b], 0 past it. Bind (lengths, x, y). */
export function repeatForward(device: GPUDevice, s: SequenceShape): Promise<Program> {
  return program(device, 'sequence.repeatForward', source, { ...s, ...FLAGS, REPEAT_FORWARD: true }, 'repeatForward',
    ['read', 'read', 'storage'], grid1d(s.T * s.B * s.F, 256, device.limits.maxComputeWorkgroupsPerDimension));
}

/** dx [B, F] = sum over t < lengths[b] of dy [T, B, F] (overwrites dx). Bind (lengths, dy, dx). */
export function repeatBackward(device: GPUDevice, s: SequenceShape): Promise<Program> {
  return program(device, 'sequence.repeatBackward', source, { ...s, ...FLAGS, REPEAT_BACKWARD: true }, 'repeatBackward',
    ['read', 'read', 'storage'], grid1d(s.B * s.F, 256, device.limits.maxComputeWorkgroupsPerDimension));
}

/**
 * y [T, B, F] = 0 at every step t >= lengths[b], in place; the rest is left as it is. The time-distributed dense
 * layer's forward ends with it and its backward starts with it (on dy). Bind (lengths, y).
 */
export function maskSteps(device: GPUDevice, s: SequenceShape): Promise<Program> {
  return program(device, 'sequence.maskSteps', source, { ...s, ...FLAGS, MASK: true }, 'maskSteps',
    ['read', 'storage'], grid1d(s.T * s.B * s.F, 256, device.limits.maxComputeWorkgroupsPerDimension));
}
