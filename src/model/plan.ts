// One batch size's buffers, pipelines and bind groups for the classifier, built once and reused: a training step
// (gather -> RNN forward -> dense -> loss -> dense backward -> BPTT -> (clip) -> Adam), an evaluation batch, a
// prediction batch. Encoding allocates nothing and reads nothing back.
import type { ImageDataset } from '../data/dataset.js';
import { BufferSet, withErrorScopes } from '../gpu/buffers.js';
import { dispatch, storage, type Demand } from '../gpu/limits.js';
import { grid1d, type Program } from '../gpu/shader.js';
import { adam } from '../kernels/adam.js';
import { gather } from '../kernels/data.js';
import { swap01 } from '../kernels/layout.js';
import { softmaxCrossEntropy, softmaxRows } from '../kernels/loss.js';
import { colsum, colsumDemand, matmul, matmulDemand } from '../kernels/matmul.js';
import { range } from '../random.js';
import { RnnSchedule } from '../scheduler.js';
import type { ClassifierConfig, ParamName } from './parameters.js';

export const SLOT = 256; // uniform slot stride for dynamic offsets (WebGPU's largest minUniformBufferOffsetAlignment)


export type Mode = 'train' | 'evaluate' | 'predict';

/** Clipping by global norm over the flat gradient buffer (shaders/clip.wgsl), bound to one model's buffers. */
export interface Clipping {
  config: GPUBuffer; // uniform: clipNorm
  state: GPUBuffer;  // [2]: the norm before clipping of the last step, and its factor
  /** The three dispatches, between a step's backward pass and Adam. */
  encode: (pass: GPUComputePassEncoder) => void;
}

export interface ModelBuffers {
  params: GPUBuffer;
  grads: GPUBuffer;
  m: GPUBuffer;
  v: GPUBuffer;
  adamConfig: GPUBuffer;
  adamSchedule: GPUBuffer;
  slice: (buffer: GPUBuffer, name: ParamName) => GPUBufferBinding;
  total: number;
}

/** Buffers, pipelines and bind groups for one batch size and one source of images, built once and reused. */
export class BatchPlan {
  private readonly work: Record<string, [Program, GPUBindGroup]> = {};
  stats!: GPUBuffer;        // [3]: sum loss, sum correct, rows
  order!: GPUBuffer;        // [count] u32: sample order
  dlogits!: GPUBuffer;      // [B, C]: gradients when training, probabilities when predicting
  xBatchMajor?: GPUBuffer;  // [B, T, I]: predict's input
  staging: GPUBuffer[] = [];
  private schedule!: RnnSchedule;

  private constructor(readonly mode: Mode, readonly starts: number[], private readonly owned: BufferSet) {}

  /**
   * What create() asks of a device for batch B: its own storage buffers and dispatches and its RnnSchedule's (the
   * data set's `order` is checked on its own). Kept next to create(): a buffer or kernel added there belongs here.
   */
  static demands(device: GPUDevice, mode: Mode, c: Required<ClassifierConfig>, B: number): Demand[] {
    const { steps: T, inputs: I, units: H, classes: C } = c;
    const train = mode === 'train';
    const maxPerDim = device.limits.maxComputeWorkgroupsPerDimension;
    const list: Demand[] = [
      storage('x [steps, batch, inputs]', T * B * I),
      storage('logits [batch, classes]', B * C),
      storage('rowStats [batch, 2]', B * 2),
      ...RnnSchedule.demands(device, { batch: B, steps: T, inputs: I, units: H }, train),
      matmulDemand('dense.forward', { M: B, N: C, K: H, bias: true }),
      dispatch(mode === 'predict' ? 'softmaxRows' : 'xent.forwardBackward', [Math.ceil(B / 64), 1, 1]),
      dispatch(mode === 'predict' ? 'swap01 (to time-major)' : 'data.gather', grid1d(T * B * I, 256, maxPerDim)),
    ];
    if (train) {
      list.push(matmulDemand('dense.dW', { M: H, N: C, K: B, transA: true }), colsumDemand('dense.db', C),
        matmulDemand('dense.dState', { M: B, N: H, K: C, transB: true }));
    }
    return list;
  }

  static async create(device: GPUDevice, mode: Mode, c: Required<ClassifierConfig>, B: number, data: ImageDataset | undefined,
    starts: number[], model: ModelBuffers): Promise<BatchPlan> {
    const { steps: T, inputs: I, units: H, classes: C } = c;
    const owned = new BufferSet(device, `plan.${mode}.${B}`);
    const plan = new BatchPlan(mode, starts, owned);
    try {
      const train = mode === 'train';
      const b = await withErrorScopes(device, `${mode} buffers (batch ${B})`, () => ({
        x: owned.create('x', T * B * I * 4),
        y: owned.create('y', B * 4),
        lengths: owned.create('lengths', B * 4),
        logits: owned.create('logits', B * C * 4),
        dlogits: owned.create('dlogits', B * C * 4),
        rowStats: owned.create('rowStats', B * 8),
        stats: owned.create('stats', 16),
        order: owned.create('order', (data?.count ?? 1) * 4),
        slots: owned.create('slots', starts.length * SLOT, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
        xBatchMajor: mode === 'predict' ? owned.create('xBatchMajor', B * T * I * 4) : undefined,
        staging: train ? [0, 1].map(() => owned.create('staging', 16, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST)) : [],
      }));
      Object.assign(plan, { stats: b.stats, order: b.order, dlogits: b.dlogits, xBatchMajor: b.xBatchMajor, staging: b.staging });
      device.queue.writeBuffer(b.lengths, 0, new Int32Array(B).fill(T));
      const slots = new Uint32Array((starts.length * SLOT) / 4);
      starts.forEach((start, s) => (slots[(s * SLOT) / 4] = start));
      device.queue.writeBuffer(b.slots, 0, slots);
      if (data && !train) device.queue.writeBuffer(b.order, 0, range(data.count));

      const { slice, params, grads } = model;
      // The dense layer reads the last state and writes dL/d(last state) where BPTT starts from: the schedule's views.
      const views = RnnSchedule.views({ batch: B, steps: T, inputs: I, units: H });
      const [schedule, denseForward, xent, probs, load, toTimeMajor, dWd, dbd, dState, optimizer] = await Promise.all([
        RnnSchedule.create(device, { batch: B, steps: T, inputs: I, units: H }, {
          x: { buffer: b.x }, wx: slice(params, 'rnn.wx'), wh: slice(params, 'rnn.wh'), b: slice(params, 'rnn.b'), lengths: { buffer: b.lengths },
          grads: train ? { dwx: slice(grads, 'rnn.wx'), dwh: slice(grads, 'rnn.wh'), db: slice(grads, 'rnn.b') } : undefined,
        }),
        matmul(device, { M: B, N: C, K: H, bias: true, offsetA: views.lastState.offset }, 'dense.forward'),
        mode !== 'predict' ? softmaxCrossEntropy(device, B, C) : undefined,
        mode === 'predict' ? softmaxRows(device, B, C) : undefined,
        data ? gather(device, T, B, I) : undefined,
        mode === 'predict' ? swap01(device, B, T, I) : undefined,
        train ? matmul(device, { M: H, N: C, K: B, transA: true, offsetA: views.lastState.offset }, 'dense.dW') : undefined,
        train ? colsum(device, B, C, false, 'dense.db') : undefined,
        train ? matmul(device, { M: B, N: H, K: C, transB: true, offsetC: views.dState.offset }, 'dense.dState') : undefined,
        train ? adam(device, model.total) : undefined,
      ]);
      plan.schedule = schedule;
      const w = plan.work;
      const hs = { buffer: schedule.hs };
      if (load && data) w.load = [load, load.bind({ buffer: b.slots, size: 16 }, b.order, data.pixels, data.labels, b.x, b.y)];
      if (toTimeMajor && b.xBatchMajor) w.load = [toTimeMajor, toTimeMajor.bind(b.xBatchMajor, b.x)];
      w.dense = [denseForward, denseForward.bind(hs, slice(params, 'dense.w'), b.logits, slice(params, 'dense.b'))];
      if (xent) {
        w.loss = [xent.forwardBackward, xent.forwardBackward.bind(b.logits, b.y, b.dlogits, b.rowStats)];
        w.stats = [xent.reduce, xent.reduce.bind(b.logits, b.y, b.dlogits, b.rowStats, b.stats)];
      }
      if (probs) w.probs = [probs, probs.bind(b.logits, b.y, b.dlogits)];
      if (dWd && dbd && dState && optimizer) {
        w.dWd = [dWd, dWd.bind(hs, b.dlogits, slice(grads, 'dense.w'))];
        w.dbd = [dbd, dbd.bind(b.dlogits, slice(grads, 'dense.b'))];
        w.dState = [dState, dState.bind(b.dlogits, slice(params, 'dense.w'), { buffer: schedule.dh })];
        w.adamBegin = [optimizer.begin, optimizer.begin.bind(model.adamConfig, model.adamSchedule)];
        w.adamUpdate = [optimizer.update, optimizer.update.bind(model.adamConfig, model.adamSchedule, grads, params, model.m, model.v)];
      }
      return plan;
    } catch (error) {
      plan.destroy();
      throw error;
    }
  }

  private run(pass: GPUComputePassEncoder, ...names: string[]): void {
    for (const name of names) {
      const [p, g] = this.work[name]!;
      p.encode(pass, g);
    }
  }

  /**
   * Training steps on the batches in slots first .. first+n-1 of the current order, in one compute pass; `clip`
   * (gradient clipping, see Clipping) goes between each step's gradients and Adam.
   */
  encodeTrainSteps(encoder: GPUCommandEncoder, first: number, n: number, clip?: (pass: GPUComputePassEncoder) => void): void {
    const pass = encoder.beginComputePass({ label: 'train steps' });
    for (let i = 0; i < n; i++) this.encodeTrainStep(pass, first + i, clip);
    pass.end();
  }

  /** One whole training step on the batch in slot `s` of the current order. */
  private encodeTrainStep(pass: GPUComputePassEncoder, s: number, clip?: (pass: GPUComputePassEncoder) => void): void {
    const [load, group] = this.work.load!;
    load.encode(pass, group, [s * SLOT]);
    this.schedule.encodeForwardPass(pass);
    this.run(pass, 'dense', 'loss', 'stats', 'dWd', 'dbd', 'dState');
    this.schedule.encodeBackwardPass(pass);
    clip?.(pass);
    this.run(pass, 'adamBegin', 'adamUpdate');
  }

  /** Loss and accuracy of the batch in slot `s`, added into `stats`. */
  encodeEvaluateBatch(pass: GPUComputePassEncoder, s: number): void {
    const [load, group] = this.work.load!;
    load.encode(pass, group, [s * SLOT]);
    this.schedule.encodeForwardPass(pass);
    this.run(pass, 'dense', 'loss', 'stats');
  }

  /** All hidden states [T+1, B, H] of the last forward pass (hs[0] = h0). */
  get hiddenStates(): GPUBuffer {
    return this.schedule.hs;
  }

  /** Probabilities of the batch in xBatchMajor, into dlogits. */
  encodePredictBatch(pass: GPUComputePassEncoder): void {
    this.run(pass, 'load');
    this.schedule.encodeForwardPass(pass);
    this.run(pass, 'dense', 'probs');
  }

  destroy(): void {
    this.schedule?.destroy();
    this.owned.destroy();
  }
}
