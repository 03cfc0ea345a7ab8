// What a model trains on: a data set resident on the GPU that can gather one batch, time-major, into a model's
// buffers. SequenceDataset (float sequences) and ImageDataset (MNIST's bytes) are the two; a model sees only this.
import { InputError } from '../errors.js';
import type { Program } from '../gpu/shader.js';
import type { SequenceBatchShape } from '../kernels/data.js';

export interface BatchSource {
  readonly name: string;
  readonly count: number;                // sequences
  readonly steps: number;                // T
  readonly inputs: number;               // features per step (per sequence when `vector`)
  readonly vector: boolean;              // x is one vector per sequence (vector to sequence)
  readonly perStep: boolean;             // a target per step, not one per sequence
  readonly classes: number | undefined;  // class targets (i32) when set
  readonly outputs: number | undefined;  // value targets (f32) when set
  /** The time-major tensors one batch fills: x [xSteps, B, inputs], y [ySteps, B, width], lengths [B]. */
  batchShape(batchSize: number): SequenceBatchShape;
  /** The gather of batches of `batchSize`; encode with the dynamic offset of a 256-byte batch slot. */
  gather(batchSize: number): Promise<Program>;
  /** The gather's bind group: slot `s` of `slots` holds a batch's start in `order` ([count] u32 indices). */
  bindGather(program: Program, slots: GPUBuffer, order: GPUBuffer, out: { x: GPUBuffer; y: GPUBuffer; lengths: GPUBuffer }): GPUBindGroup;
  /** Throws the InputError every use of a destroyed data set gets, naming `field`. */
  checkLive(field?: string): void;
}

/** The InputError every use of a destroyed data set gets: `field` names where it was passed. */
export function destroyedData(field: string, name: string): InputError {
  return new InputError(field, 'a live data set (not destroyed)', `data set '${name}' after destroy()`);
}
