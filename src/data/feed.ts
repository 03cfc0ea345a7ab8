// A model's own input slot for predict and inspect: a BatchSource of `capacity` sequences whose inputs (and lengths)
// are overwritten for each batch, so that repeated predictions reuse one set of buffers and one batch plan instead
// of uploading a data set and building a plan per call. Its targets are zeros: predict reads outputs, not the loss.
import { BufferSet } from '../gpu/buffers.js';
import type { Program } from '../gpu/shader.js';
import { bindGatherSequences, gatherSequences, type SequenceBatchShape } from '../kernels/data.js';
import type { BatchSource } from './source.js';

export interface FeedShape {
  capacity: number;  // sequences per write (the largest batch)
  steps: number;
  inputs: number;
  vector: boolean;   // x is [n, inputs] (before a first repeat layer)
  perStep: boolean;  // outputs at every step
  oneHot: boolean;   // x holds token ids, one-hot over `inputs` in each batch
  classes?: number;
  outputs?: number;
}

export class Feed implements BatchSource {
  readonly name = 'predict';
  readonly count: number;
  readonly steps: number;
  readonly inputs: number;
  readonly vector: boolean;
  readonly perStep: boolean;
  readonly classes: number | undefined;
  readonly outputs: number | undefined;
  readonly oneHot: boolean;
  private readonly x: GPUBuffer;        // [capacity, steps, inputs] or [capacity, inputs]
  private readonly y: GPUBuffer;        // zeros
  private readonly lengths: GPUBuffer;  // [capacity] i32
  private readonly owned: BufferSet;
  private gone = false;

  constructor(private readonly device: GPUDevice, s: FeedShape) {
    this.count = s.capacity;
    this.steps = s.steps;
    this.inputs = s.inputs;
    this.vector = s.vector;
    this.perStep = s.perStep;
    this.classes = s.classes;
    this.outputs = s.outputs;
    this.oneHot = s.oneHot;
    this.owned = new BufferSet(device, 'feed');
    const per = (s.vector ? 1 : s.steps) * (s.oneHot ? 1 : s.inputs);
    this.x = this.owned.create('x', s.capacity * per * 4);
    this.y = this.owned.create('y', s.capacity * (s.perStep ? s.steps : 1) * (s.outputs ?? 1) * 4);
    this.lengths = this.owned.create('lengths', s.capacity * 4);
  }

  /** Sequences from .. from+n-1 of `x` (and their lengths, all `steps` without) into slots 0 .. n-1. */
  write(x: Float32Array | Int32Array, from: number, n: number, lengths?: Int32Array): void {
    const per = (this.vector ? 1 : this.steps) * (this.oneHot ? 1 : this.inputs);
    this.device.queue.writeBuffer(this.x, 0, x, from * per, n * per);
    this.device.queue.writeBuffer(this.lengths, 0, lengths ? lengths.subarray(from, from + n) : new Int32Array(n).fill(this.steps));
  }

  batchShape(batchSize: number): SequenceBatchShape {
    return { batch: batchSize, xSteps: this.vector ? 1 : this.steps, inputs: this.inputs, ySteps: this.perStep ? this.steps : 1, width: this.outputs ?? 1 };
  }

  gather(batchSize: number): Promise<Program> {
    return gatherSequences(this.device, this.batchShape(batchSize), this.oneHot);
  }

  bindGather(program: Program, slots: GPUBuffer, order: GPUBuffer, out: { x: GPUBuffer; y: GPUBuffer; lengths: GPUBuffer }): GPUBindGroup {
    return bindGatherSequences(program, slots, order, { x: this.x, y: this.y, lengths: this.lengths }, out);
  }

  checkLive(field = 'data'): void {
    if (this.gone) throw new Error(`${field}: the model's predict feed was used after destroy()`);
  }

  destroy(): void {
    this.gone = true;
    this.owned.destroy();
  }
}
