// Batch gathers from the GPU-resident data sets: shaders/data.wgsl (images) and shaders/data_sequences.wgsl
// (float sequences).
import source from '../../shaders/data.wgsl?raw';
import sequencesSource from '../../shaders/data_sequences.wgsl?raw';
import { dispatch, storage, type Demand } from '../gpu/limits.js';
import { grid1d, program, type Program } from '../gpu/shader.js';

/** Bind (batch uniform, order, pixels, labels, x [T,B,I], y [B]); encode with the dynamic offset of the batch slot. */
export function gather(device: GPUDevice, T: number, B: number, I: number): Promise<Program> {
  return program(device, 'data.gather', source, { T, B, I }, 'gather',
    ['uniform-dynamic', 'read', 'read', 'read', 'storage', 'storage'], grid1d(T * B * I, 256, device.limits.maxComputeWorkgroupsPerDimension));
}

/** The storage buffers one image batch fills and its gather's dispatch, for checkDemands. */
export function gatherDemands(device: GPUDevice, T: number, B: number, I: number): Demand[] {
  return [storage('x [steps, batch, inputs]', T * B * I), dispatch('data.gather', grid1d(T * B * I, 256, device.limits.maxComputeWorkgroupsPerDimension))];
}

/**
 * One batch of a sequence data set, time-major: x [xSteps, batch, inputs], y [ySteps, batch, width], lengths [batch].
 * xSteps is 1 for a data set of vectors, ySteps 1 for one target per sequence, width 1 for class targets.
 */
export interface SequenceBatchShape {
  batch: number;
  xSteps: number;
  inputs: number;
  ySteps: number;
  width: number;
}

/** Invocations of one gather: every element of x, y and lengths. */
function gatherElements(s: SequenceBatchShape): number {
  return s.xSteps * s.batch * s.inputs + s.ySteps * s.batch * s.width + s.batch;
}

/** The storage buffers one batch fills and the gather's dispatch, for checkDemands. */
export function gatherSequencesDemands(device: GPUDevice, s: SequenceBatchShape): Demand[] {
  return [
    storage(`x [${s.xSteps === 1 ? '1' : 'steps'}, batch, inputs]`, s.xSteps * s.batch * s.inputs),
    storage(`y [${s.ySteps === 1 ? '1' : 'steps'}, batch, ${s.width === 1 ? '1' : 'outputs'}]`, s.ySteps * s.batch * s.width),
    storage('lengths [batch]', s.batch),
    dispatch('data.gatherSequences', grid1d(gatherElements(s), 256, device.limits.maxComputeWorkgroupsPerDimension)),
  ];
}

/**
 * With `oneHot` the data set's x holds token ids [count, XT] (i32) and each batch gets their one-hot vectors of
 * `inputs` features.
 * Bind (batch uniform, order [count] u32, data set x, y, lengths, batch x, y, lengths); encode with the dynamic
 * offset of the batch slot, whose first u32 is the batch's start in `order`.
 */
export function gatherSequences(device: GPUDevice, s: SequenceBatchShape, oneHot = false): Promise<Program> {
  return program(device, 'data.gatherSequences', sequencesSource,
    { XT: s.xSteps, YT: s.ySteps, B: s.batch, I: s.inputs, O: s.width, ONE_HOT: oneHot }, 'gatherSequences',
    ['uniform-dynamic', 'read', 'read', 'read', 'read', 'storage', 'storage', 'storage'],
    grid1d(gatherElements(s), 256, device.limits.maxComputeWorkgroupsPerDimension));
}

/** The bind group of gatherSequences over a data set's x, y and lengths into one batch's; see its binding order. */
export function bindGatherSequences(program: Program, slots: GPUBuffer, order: GPUBuffer,
  data: { x: GPUBuffer; y: GPUBuffer; lengths: GPUBuffer }, out: { x: GPUBuffer; y: GPUBuffer; lengths: GPUBuffer }): GPUBindGroup {
  return program.bind({ buffer: slots, size: 16 }, order, data.x, data.y, data.lengths, out.x, out.y, out.lengths);
}
