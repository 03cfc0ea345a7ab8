// One batch size's work for a model over one data set: the gather, the stack of layers (stack.ts), the loss and Adam,
// built once and encoded as often as needed. A training step is one compute pass: gather -> layers forward -> loss ->
// layers backward -> (clipping, the model's: state.ts) -> Adam. Encoding allocates nothing and reads nothing back.
import type { BatchSource } from '../data/source.js';
import { InputError } from '../errors.js';
import { BufferSet, withErrorScopes } from '../gpu/buffers.js';
import { dispatch, storage, type Demand } from '../gpu/limits.js';
import type { Program } from '../gpu/shader.js';
import { adam } from '../kernels/adam.js';
import { meanSquaredError, meanSquaredErrorPerStep, softmaxCrossEntropy, softmaxCrossEntropyPerStep, type LossPrograms, type MaskedLossPrograms } from '../kernels/loss.js';
import { colsumDemand, colsumSplitKDemands, matmulDemand, splitKDemands } from '../kernels/matmul.js';
import { RnnSchedule } from '../scheduler.js';
import { layerCell, type SequentialPlan } from './config.js';
import { Stack, type Port } from './stack.js';
import type { ModelState } from './state.js';

export const SLOT = 256; // uniform slot stride for dynamic offsets (WebGPU's largest minUniformBufferOffsetAlignment)

type Work = Array<[Program, GPUBindGroup]>;
const encodeAll = (pass: GPUComputePassEncoder, work: Work) => { for (const [p, g] of work) p.encode(pass, g); };

/** One batch size's gather, layers, loss and optimizer over one data set. */
export class BatchPlan {
  private constructor(
    readonly B: number,
    readonly perPass: number,       // batches in one pass over the data set's order (slots 0 .. perPass-1)
    readonly order: GPUBuffer,      // [count] u32: the pass's order of sequences
    readonly stats: GPUBuffer,      // [4]: sum loss, sum correct, rows (valid elements), unused
    readonly staging: GPUBuffer[],  // two [4] read-back buffers: fit keeps two chunks in flight
    private readonly gather: [Program, GPUBindGroup],
    private readonly stack: Stack,
    private readonly loss: Work,
    private readonly adam: Work,
    private readonly owned: BufferSet,
  ) {}

  /**
   * What create() asks of a device for batch B over T steps: the batch's buffers, every layer's, the loss's and their
   * dispatches (the gather checks its own). Checked (gpu/limits.ts) before anything is built.
   */
  static demands(device: GPUDevice, plan: SequentialPlan, T: number, B: number, train: boolean): Demand[] {
    const list: Demand[] = [];
    for (const l of plan.layers) {
      const rows = l.sequenceIn ? T * B : B, outRows = l.sequenceOut ? T * B : B, F = l.inputs, O = l.outputs, name = `layers.${l.index}`;
      if (l.layer.type === 'rnn') list.push(...RnnSchedule.demands(device, { batch: B, steps: T, inputs: F, units: O }, train, layerCell(l.layer)));
      if (l.layer.type === 'repeat') list.push(storage(`${name} [steps, batch, inputs]`, T * B * F));
      if (l.layer.type !== 'dense') continue;
      list.push(storage(`${name}.y [${l.sequenceIn ? 'steps, ' : ''}batch, units]`, outRows * O), matmulDemand(`${name}.forward`, { M: rows, N: O, K: F, bias: true }));
      if (!train) continue;
      list.push(matmulDemand(`${name}.dx`, { M: rows, N: F, K: O, transB: true }));
      if (l.sequenceIn) list.push(...splitKDemands(`${name}.dW`, F, O, rows), ...colsumSplitKDemands(`${name}.db`, rows, O));
      else list.push(matmulDemand(`${name}.dW`, { M: F, N: O, K: rows, transA: true }), colsumDemand(`${name}.db`, O));
    }
    const rows = plan.sequenceOutput ? T * B : B;
    list.push(storage('rowStats [rows, 2]', rows * 2), dispatch('loss', [Math.ceil(rows / 64), 1, 1]));
    return list;
  }

  static async create(device: GPUDevice, plan: SequentialPlan, data: BatchSource, B: number, train: boolean, state: ModelState): Promise<BatchPlan> {
    const T = data.steps, shape = data.batchShape(B);
    const owned = new BufferSet(device, `plan.${train ? 'train' : 'eval'}.${B}`);
    let stack: Stack | undefined;
    try {
      const perPass = Math.max(1, Math.floor(data.count / B));
      const b = await withErrorScopes(device, `batch ${B} buffers`, () => ({
        slots: owned.create('slots', perPass * SLOT, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
        order: owned.create('order', data.count * 4),
        x: owned.create('x', shape.xSteps * B * shape.inputs * 4),
        y: owned.create('y', shape.ySteps * B * shape.width * 4),
        lengths: owned.create('lengths', B * 4),
        rowStats: owned.create('rowStats', shape.ySteps * B * 2 * 4),
        count: owned.create('count', 4),
        stats: owned.create('stats', 4 * 4),
        staging: train ? [0, 1].map((i) => owned.create(`staging${i}`, 16, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST)) : [],
      }));
      const slots = new Uint32Array((perPass * SLOT) / 4);
      for (let s = 0; s < perPass; s++) slots[(s * SLOT) / 4] = s * B;
      device.queue.writeBuffer(b.slots, 0, slots);
      const gatherProgram = await data.gather(B);
      const x: Port = { buffer: b.x, offset: 0, rows: shape.xSteps * B, features: shape.inputs, sequence: plan.sequenceInput };
      stack = await Stack.create(device, plan.layers, B, T, x, b.lengths, (which, name) => state.slice(which, name), train);
      const top = stack.output;
      if (top.offset !== 0) throw new InputError('layers', 'a dense layer last (the loss reads its output from the start of a buffer)', 'an rnn layer last');
      const dtop = top.grad?.buffer ?? owned.create('dout', top.rows * top.features * 4); // evaluate: the loss's gradient goes nowhere
      const O = top.features;
      const programs: LossPrograms | MaskedLossPrograms = plan.loss === 'softmax-cross-entropy'
        ? (plan.sequenceOutput ? await softmaxCrossEntropyPerStep(device, T, B, O) : await softmaxCrossEntropy(device, B, O))
        : (plan.sequenceOutput ? await meanSquaredErrorPerStep(device, T, B, O) : await meanSquaredError(device, B, O));
      const count = (programs as Partial<MaskedLossPrograms>).count;
      const loss: Work = [];
      if (count) loss.push([count, count.bind(b.lengths, b.count)]);
      const masked = count ? [b.count] : [];
      loss.push([programs.forwardBackward, programs.forwardBackward.bind(top.buffer, b.y, dtop, b.rowStats, ...(count ? [b.lengths] : []), ...masked)]);
      loss.push([programs.reduce, programs.reduce.bind(top.buffer, b.y, dtop, b.rowStats, b.stats, ...masked)]);
      const optimizer: Work = [];
      if (train) {
        const { params, grads, m, v, adamConfig, adamSchedule } = state.buffers;
        const o = await adam(device, state.total);
        optimizer.push([o.begin, o.begin.bind(adamConfig, adamSchedule)], [o.update, o.update.bind(adamConfig, adamSchedule, grads, params, m, v)]);
      }
      const gather: [Program, GPUBindGroup] = [gatherProgram, data.bindGather(gatherProgram, b.slots, b.order, { x: b.x, y: b.y, lengths: b.lengths })];
      return new BatchPlan(B, perPass, b.order, b.stats, b.staging, gather, stack, loss, optimizer, owned);
    } catch (error) {
      stack?.destroy();
      owned.destroy();
      throw error;
    }
  }

  /** The last layer's output (time-major). */
  get output(): Port {
    return this.stack.output;
  }

  /** Each recurrent layer's hidden states hs [T+1, B, H] of the last forward pass, by layer index. */
  get states(): Array<{ layer: number; schedule: RnnSchedule }> {
    return this.stack.recurrent;
  }

  /** Whether a stateful layer carries its state from one pass of this plan into the next. */
  get stateful(): boolean {
    return this.stack.stateful;
  }

  /** Zeroes the stateful layers' carried states (outside a pass). */
  encodeResetStates(encoder: GPUCommandEncoder): void {
    this.stack.encodeResetStates(encoder);
  }

  /** Gathers the batch in slot `slot` of the order and runs the layers forward. */
  encodeForward(pass: GPUComputePassEncoder, slot: number): void {
    const [g, group] = this.gather;
    g.encode(pass, group, [slot * SLOT]);
    this.stack.encodeForward(pass);
  }

  /** Forward and the loss: its sums added into `stats`, its gradient left where the top layer's backward reads it. */
  encodeEvaluate(pass: GPUComputePassEncoder, slot: number): void {
    this.encodeForward(pass, slot);
    encodeAll(pass, this.loss);
  }

  /** Forward, loss and every layer's backward: the mean loss's gradients in the model's grads. */
  encodeGradients(pass: GPUComputePassEncoder, slot: number): void {
    this.encodeEvaluate(pass, slot);
    this.stack.encodeBackward(pass);
  }

  /** A whole training step on slot `slot`; `clip` (the model's Clipping) between the gradients and Adam. */
  encodeTrainStep(pass: GPUComputePassEncoder, slot: number, clip?: (pass: GPUComputePassEncoder) => void): void {
    this.encodeGradients(pass, slot);
    clip?.(pass);
    encodeAll(pass, this.adam);
  }

  destroy(): void {
    this.stack.destroy();
    this.owned.destroy();
  }
}
