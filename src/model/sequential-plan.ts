// One batch size's work for Sequential over one data set: the gather, the stack of layers (stack.ts), the loss and
// the optimizer (clipping, Adam), built once and encoded as often as needed. A training step is one compute pass.
import type { SequenceDataset } from '../data/sequences.js';
import { InputError } from '../errors.js';
import { BufferSet, withErrorScopes } from '../gpu/buffers.js';
import type { Program } from '../gpu/shader.js';
import { adam } from '../kernels/adam.js';
import { CLIP_CONFIG_BYTES, CLIP_STATE_BYTES, clipByGlobalNorm, clipConfigBytes } from '../kernels/clip.js';
import { meanSquaredError, meanSquaredErrorPerStep, softmaxCrossEntropy, softmaxCrossEntropyPerStep, type LossPrograms, type MaskedLossPrograms } from '../kernels/loss.js';
import type { SequentialPlan } from './config.js';
import { SLOT } from './plan.js';
import { Stack, type Port } from './stack.js';


/** The model's flat buffers. */
export type ModelBuffers = Record<'params' | 'grads' | 'm' | 'v' | 'adamConfig' | 'adamSchedule', GPUBuffer>;

/** One batch size's gather, layers, loss and optimizer over one data set. */
export class SequentialBatchPlan {
  private constructor(
    readonly order: GPUBuffer,
    readonly stats: GPUBuffer,
    readonly clip: GPUBuffer,
    private readonly gather: [Program, GPUBindGroup],
    private readonly stack: Stack,
    private readonly loss: Array<[Program, GPUBindGroup]>,
    private readonly optimizer: Array<[Program, GPUBindGroup]>,
    private readonly owned: BufferSet,
  ) {}

  static async create(device: GPUDevice, plan: SequentialPlan, data: SequenceDataset, B: number, train: boolean,
    slice: (which: 'params' | 'grads', name: string) => GPUBufferBinding, model: ModelBuffers,
    total: number): Promise<SequentialBatchPlan> {
    const T = data.steps, shape = data.batchShape(B);
    const owned = new BufferSet(device, `sequential.${B}`);
    let stack: Stack | undefined;
    try {
      const perPass = Math.max(1, Math.floor(data.count / B));
      const b = await withErrorScopes(device, 'sequential batch', () => ({
        slots: owned.create('slots', perPass * SLOT, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
        order: owned.create('order', data.count * 4),
        x: owned.create('x', shape.xSteps * B * shape.inputs * 4),
        y: owned.create('y', shape.ySteps * B * shape.width * 4),
        lengths: owned.create('lengths', B * 4),
        rowStats: owned.create('rowStats', shape.ySteps * B * 2 * 4),
        count: owned.create('count', 4),
        stats: owned.create('stats', 4 * 4),
        clip: owned.create('clip', CLIP_STATE_BYTES), // [norm before clipping, factor] of the last step
      }));
      const slots = new Uint32Array((perPass * SLOT) / 4);
      for (let s = 0; s < perPass; s++) slots[(s * SLOT) / 4] = s * B;
      device.queue.writeBuffer(b.slots, 0, slots);
      const gather = await data.gather(B);
      const x: Port = { buffer: b.x, offset: 0, rows: shape.xSteps * B, features: shape.inputs, sequence: plan.sequenceInput };
      stack = await Stack.create(device, plan.layers, B, T, x, b.lengths, slice, train);
      const top = stack.output;
      if (top.offset !== 0) throw new InputError('layers', 'a dense layer last (the loss reads its output from the start of a buffer)', 'an rnn layer last');
      const dtop = top.grad?.buffer ?? owned.create('dout', top.rows * top.features * 4); // evaluate: the loss's gradient goes nowhere
      const O = top.features;
      const loss: LossPrograms | MaskedLossPrograms = plan.loss === 'softmax-cross-entropy'
        ? (plan.sequenceOutput ? await softmaxCrossEntropyPerStep(device, T, B, O) : await softmaxCrossEntropy(device, B, O))
        : (plan.sequenceOutput ? await meanSquaredErrorPerStep(device, T, B, O) : await meanSquaredError(device, B, O));
      const count = (loss as Partial<MaskedLossPrograms>).count;
      const masked = count !== undefined;
      const lossWork: Array<[Program, GPUBindGroup]> = [];
      if (count) lossWork.push([count, count.bind(b.lengths, b.count)]);
      lossWork.push([loss.forwardBackward, masked ? loss.forwardBackward.bind(top.buffer, b.y, dtop, b.rowStats, b.lengths, b.count) : loss.forwardBackward.bind(top.buffer, b.y, dtop, b.rowStats)]);
      lossWork.push([loss.reduce, masked ? loss.reduce.bind(top.buffer, b.y, dtop, b.rowStats, b.stats, b.count) : loss.reduce.bind(top.buffer, b.y, dtop, b.rowStats, b.stats)]);
      const optimizer: Array<[Program, GPUBindGroup]> = [];
      if (train && plan.optimizer.clipNorm !== undefined) {
        // Clipping by global norm over the flat gradient buffer, before Adam (shaders/clip.wgsl).
        const k = await clipByGlobalNorm(device, total);
        const c = await withErrorScopes(device, 'clipping', () => ({
          config: owned.create('clipConfig', CLIP_CONFIG_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
          partials: owned.create('clipPartials', k.partials * 4),
        }));
        device.queue.writeBuffer(c.config, 0, clipConfigBytes(plan.optimizer.clipNorm));
        optimizer.push([k.partial, k.partial.bind(model.grads, c.partials)], [k.finish, k.finish.bind(c.config, c.partials, b.clip)],
          [k.scale, k.scale.bind(b.clip, model.grads)]);
      }
      if (train) {
        const o = await adam(device, total);
        optimizer.push([o.begin, o.begin.bind(model.adamConfig, model.adamSchedule)],
          [o.update, o.update.bind(model.adamConfig, model.adamSchedule, model.grads, model.params, model.m, model.v)]);
      }
      return new SequentialBatchPlan(b.order, b.stats, b.clip, [gather, data.bindGather(gather, b.slots, b.order, { x: b.x, y: b.y, lengths: b.lengths })], stack, lossWork, optimizer, owned);
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

  /** Gathers the batch in slot `slot` of the order and runs the layers forward. */
  encodeForward(pass: GPUComputePassEncoder, slot: number): void {
    const [g, group] = this.gather;
    g.encode(pass, group, [slot * SLOT]);
    this.stack.encodeForward(pass);
  }

  private encodeForwardAndLoss(pass: GPUComputePassEncoder, slot: number): void {
    this.encodeForward(pass, slot);
    for (const [p, group] of this.loss) p.encode(pass, group);
  }

  encodeEvaluate(pass: GPUComputePassEncoder, slot: number): void {
    this.encodeForwardAndLoss(pass, slot);
  }

  encodeGradients(pass: GPUComputePassEncoder, slot: number): void {
    this.encodeForwardAndLoss(pass, slot);
    this.stack.encodeBackward(pass);
  }

  encodeTrainStep(pass: GPUComputePassEncoder, slot: number): void {
    this.encodeGradients(pass, slot);
    for (const [p, group] of this.optimizer) p.encode(pass, group);
  }

  destroy(): void {
    this.stack.destroy();
    this.owned.destroy();
  }
}

