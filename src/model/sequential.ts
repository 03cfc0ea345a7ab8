// Sequential: layers (rnn, dense, repeat) + a loss + Adam, on the GPU, for the three shapes of RNN problem (sequence
// to sequence, sequence to vector, vector to sequence). The config is checked and planned by reference/config.ts;
// the float64 model in reference/sequential.ts is what this computes, and the tests hold the two together.
//
// All parameters, their gradients and Adam's moments are four flat buffers carved by one table; a training step is
// one compute pass: gather the batch -> layers forward -> loss -> layers backward -> (clip) -> Adam.
//
// First version (issue 11): trainSteps, evaluate, gradients, weights / setWeights. Not yet: fit with progress,
// predict, save / load, the classifier as a preset.
import { type SequenceDataset } from '../data/sequences.js';
import { InputError } from '../errors.js';
import { BufferSet, readFloats, scoped, withErrorScopes } from '../gpu/buffers.js';
import { watchDevice } from '../gpu/device.js';
import type { Program } from '../gpu/shader.js';
import { adam, ADAM_CONFIG_BYTES, ADAM_SCHEDULE_BYTES, adamConfigBytes } from '../kernels/adam.js';
import { meanSquaredError, meanSquaredErrorPerStep, softmaxCrossEntropy, softmaxCrossEntropyPerStep, type LossPrograms, type MaskedLossPrograms } from '../kernels/loss.js';
import { checkWeights, type Weights } from '../reference/batch.js';
import { planSequential, type SequentialConfig, type SequentialPlan } from '../reference/config.js';
import { initialWeights } from '../reference/init.js';
import { Random, shuffleSeed } from '../random.js';
import { checkDevice, checkSize } from '../validate.js';
import { Stack, type Port } from './stack.js';

const SLOT = 256; // uniform slot stride for the gather's dynamic offsets

export type { SequentialConfig };
export { layers } from '../reference/config.js';

/** The flat table: each named tensor at an offset aligned to 64 floats (256 bytes), so each slice binds on its own. */
function table(plan: SequentialPlan) {
  let offset = 0;
  const entries = plan.params.map(({ name, shape }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const e = { name, shape, offset, size };
    offset += Math.ceil(size / 64) * 64;
    return e;
  });
  return { entries, total: offset };
}

export class Sequential {
  private readonly plan: SequentialPlan;
  private readonly entries: ReturnType<typeof table>['entries'];
  private readonly total: number;
  private readonly owned: BufferSet;
  private readonly buffers: Record<'params' | 'grads' | 'm' | 'v' | 'adamConfig' | 'adamSchedule', GPUBuffer>;
  private host: Float32Array; // params as last uploaded or read back
  private steps = 0;
  private plans = new Map<string, Promise<BatchPlan>>();
  private busy = false;
  private destroyed = false;

  constructor(readonly device: GPUDevice, config: SequentialConfig) {
    checkDevice(device);
    this.plan = planSequential(config);
    ({ entries: this.entries, total: this.total } = table(this.plan));
    watchDevice(device);
    this.host = this.flatten(Object.fromEntries(Object.entries(initialWeights(config)).map(([k, t]) => [k, t.data])));
    this.owned = new BufferSet(device, 'sequential');
    const bytes = this.total * 4;
    this.buffers = {
      params: this.owned.create('params', bytes), grads: this.owned.create('grads', bytes),
      m: this.owned.create('m', bytes), v: this.owned.create('v', bytes),
      adamConfig: this.owned.create('adamConfig', ADAM_CONFIG_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
      adamSchedule: this.owned.create('adamSchedule', ADAM_SCHEDULE_BYTES),
    };
    device.queue.writeBuffer(this.buffers.params, 0, this.host);
    device.queue.writeBuffer(this.buffers.adamConfig, 0, adamConfigBytes(this.plan.optimizer));
  }

  /** Training steps taken so far. */
  get step(): number {
    return this.steps;
  }

  /** Every parameter by name ('layers.0.wx' [inputs, units], ...), row-major, x·W; as of the last step's read-back. */
  weights(): Weights<Float32Array> {
    this.checkLive();
    return Object.fromEntries(this.entries.map(({ name, shape, offset, size }) => [name, { shape: [...shape], data: this.host.slice(offset, offset + size) }]));
  }

  /** Replaces every parameter (Adam's state is kept). Wrong names or shapes are an InputError, nothing uploaded. */
  setWeights(weights: Weights): void {
    this.checkLive();
    this.host = this.flatten(checkWeights(this.plan, weights));
    this.device.queue.writeBuffer(this.buffers.params, 0, this.host);
  }

  /**
   * Exactly `steps` training steps on batches of `batchSize` (the last partial batch of a pass is dropped), in the data
   * set's order unless `shuffle` (an order per pass, from the seed and the step count). Awaited until the GPU is done.
   */
  async trainSteps(data: SequenceDataset, options: { steps: number; batchSize: number; shuffle?: boolean }): Promise<void> {
    const steps = checkSize('steps', options?.steps);
    const B = this.checkBatch(data, options.batchSize);
    await this.exclusive(async () => {
      const perPass = Math.floor(data.count / B);
      const p = await this.batchPlan(data, B, true);
      const checks: Array<Promise<void>> = [];
      for (let done = 0; done < steps;) {
        const n = Math.min(steps - done, perPass);
        const order = options.shuffle ? new Random(shuffleSeed(this.plan.seed, this.steps + done)).permutation(data.count) : Uint32Array.from({ length: data.count }, (_, i) => i);
        this.device.queue.writeBuffer(p.order, 0, order);
        checks.push(scoped(this.device, `training steps ${this.steps + done + 1}..${this.steps + done + n}`, () => {
          const encoder = this.device.createCommandEncoder({ label: 'sequential.train' });
          const pass = encoder.beginComputePass();
          for (let s = 0; s < n; s++) p.encodeTrainStep(pass, s);
          pass.end();
          encoder.clearBuffer(p.stats);
          this.device.queue.submit([encoder.finish()]);
        }).errors);
        done += n;
      }
      await Promise.all([...checks, this.device.queue.onSubmittedWorkDone()]);
      this.steps += steps;
      this.host = await readFloats(this.device, this.buffers.params, 0, this.total);
    });
  }

  /** Mean loss (and accuracy, for classes) over all of `data`, in batches of `batchSize` (default all, at most 1000). */
  async evaluate(data: SequenceDataset, options: { batchSize?: number } = {}): Promise<{ loss: number; accuracy?: number }> {
    const B = this.checkBatch(data, options.batchSize ?? Math.min(1000, data.count));
    return this.exclusive(async () => {
      const full = Math.floor(data.count / B), rest = data.count - full * B;
      const plans = [await this.batchPlan(data, B, false)];
      if (rest > 0) plans.push(await this.batchPlan(data, rest, false));
      const order = Uint32Array.from({ length: data.count }, (_, i) => i);
      const { errors } = scoped(this.device, 'evaluate', () => {
        const encoder = this.device.createCommandEncoder({ label: 'sequential.evaluate' });
        plans.forEach((p, k) => {
          this.device.queue.writeBuffer(p.order, 0, order, k === 0 ? 0 : full * B);
          encoder.clearBuffer(p.stats);
          const pass = encoder.beginComputePass();
          const batches = k === 0 ? full : 1;
          for (let s = 0; s < batches; s++) p.encodeEvaluate(pass, s);
          pass.end();
        });
        this.device.queue.submit([encoder.finish()]);
      });
      let loss = 0, correct = 0, count = 0;
      for (const p of plans) {
        const [l, c, n] = await readFloats(this.device, p.stats, 0, 3);
        loss += l!; correct += c!; count += n!;
      }
      await errors;
      return this.plan.loss === 'mse' ? { loss: loss / count } : { loss: loss / count, accuracy: correct / count };
    });
  }

  /** Gradients of the mean loss over the first `batchSize` sequences of `data`, in its order; nothing is updated. */
  async gradients(data: SequenceDataset, options: { batchSize: number }): Promise<Weights<Float32Array>> {
    const B = this.checkBatch(data, options?.batchSize);
    return this.exclusive(async () => {
      const p = await this.batchPlan(data, B, true);
      this.device.queue.writeBuffer(p.order, 0, Uint32Array.from({ length: data.count }, (_, i) => i));
      const { errors } = scoped(this.device, 'gradients', () => {
        const encoder = this.device.createCommandEncoder({ label: 'sequential.gradients' });
        const pass = encoder.beginComputePass();
        p.encodeGradients(pass, 0);
        pass.end();
        encoder.clearBuffer(p.stats);
        this.device.queue.submit([encoder.finish()]);
      });
      const [grads] = await Promise.all([readFloats(this.device, this.buffers.grads, 0, this.total), errors]);
      return Object.fromEntries(this.entries.map(({ name, shape, offset, size }) => [name, { shape: [...shape], data: grads.slice(offset, offset + size) }]));
    });
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const p of this.plans.values()) p.then((plan) => plan.destroy(), () => undefined);
    this.plans.clear();
    this.owned.destroy();
  }

  // ---- internals ----

  private flatten(weights: Record<string, ArrayLike<number>>): Float32Array {
    const flat = new Float32Array(this.total);
    for (const { name, offset } of this.entries) flat.set(weights[name]!, offset);
    return flat;
  }

  private checkLive(): void {
    if (this.destroyed) throw new InputError('model', 'a live Sequential (not destroyed)', 'a model after destroy()');
  }

  /** The data set fits this model (inputs, steps, target kind) and the batch size fits the data set. */
  private checkBatch(data: SequenceDataset, batchSize: unknown): number {
    this.checkLive();
    data.checkLive();
    const p = this.plan;
    if (data.inputs !== p.inputs) throw new InputError('data', `sequences of ${p.inputs} inputs (the model's config.inputs)`, `${data.inputs} inputs`);
    if (data.vector === p.sequenceInput) throw new InputError('data', p.sequenceInput ? 'x [n, steps, inputs] (sequences)' : 'x [n, inputs] (vectors, vector: true, for the first repeat layer)', data.vector ? 'vectors' : 'sequences');
    if (p.repeatSteps !== undefined && data.steps !== p.repeatSteps) throw new InputError('data', `${p.repeatSteps} steps (the repeat layer's)`, `${data.steps} steps`);
    if (data.perStep !== p.sequenceOutput) throw new InputError('data', p.sequenceOutput ? 'a target per step ([n, steps])' : 'a target per sequence ([n])', data.perStep ? 'a target per step' : 'a target per sequence');
    if (p.loss === 'mse' ? data.outputs !== p.outputs : data.classes !== p.outputs) {
      throw new InputError('data', p.loss === 'mse' ? `value targets of ${p.outputs} outputs` : `class targets of ${p.outputs} classes`, data.outputs !== undefined ? `value targets of ${data.outputs} outputs` : `class targets of ${data.classes} classes`);
    }
    const B = checkSize('batchSize', batchSize);
    if (B > data.count) throw new InputError('batchSize', `at most the number of sequences (${data.count})`, String(B));
    return B;
  }

  private async exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.busy) throw new Error('Sequential: one call at a time; await the previous one first');
    this.busy = true;
    try {
      return await work();
    } finally {
      this.busy = false;
    }
  }

  private datasetIds = new WeakMap<SequenceDataset, number>();
  private batchPlan(data: SequenceDataset, B: number, train: boolean): Promise<BatchPlan> {
    if (!this.datasetIds.has(data)) this.datasetIds.set(data, nextId++);
    const key = `${train ? 'train' : 'eval'}:${B}:${this.datasetIds.get(data)}`;
    let plan = this.plans.get(key);
    if (!plan) {
      const slice = (which: 'params' | 'grads', name: string): GPUBufferBinding => {
        const e = this.entries.find((x) => x.name === name)!;
        return { buffer: this.buffers[which], offset: e.offset * 4, size: e.size * 4 };
      };
      plan = BatchPlan.create(this.device, this.plan, data, B, train, slice, this.buffers, this.total);
      this.plans.set(key, plan);
      plan.catch(() => this.plans.delete(key));
    }
    return plan;
  }
}

let nextId = 1;

/** One batch size's gather, layers, loss and optimizer over one data set. */
class BatchPlan {
  private constructor(
    readonly order: GPUBuffer,
    readonly stats: GPUBuffer,
    private readonly gather: [Program, GPUBindGroup],
    private readonly stack: Stack,
    private readonly loss: Array<[Program, GPUBindGroup]>,
    private readonly optimizer: Array<[Program, GPUBindGroup]>,
    private readonly owned: BufferSet,
  ) {}

  static async create(device: GPUDevice, plan: SequentialPlan, data: SequenceDataset, B: number, train: boolean,
    slice: (which: 'params' | 'grads', name: string) => GPUBufferBinding, model: Record<'params' | 'grads' | 'm' | 'v' | 'adamConfig' | 'adamSchedule', GPUBuffer>,
    total: number): Promise<BatchPlan> {
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
      if (train) {
        const o = await adam(device, total);
        optimizer.push([o.begin, o.begin.bind(model.adamConfig, model.adamSchedule)],
          [o.update, o.update.bind(model.adamConfig, model.adamSchedule, model.grads, model.params, model.m, model.v)]);
      }
      return new BatchPlan(b.order, b.stats, [gather, data.bindGather(gather, b.slots, b.order, { x: b.x, y: b.y, lengths: b.lengths })], stack, lossWork, optimizer, owned);
    } catch (error) {
      stack?.destroy();
      owned.destroy();
      throw error;
    }
  }

  private encodeForwardAndLoss(pass: GPUComputePassEncoder, slot: number): void {
    const [g, group] = this.gather;
    g.encode(pass, group, [slot * SLOT]);
    this.stack.encodeForward(pass);
    for (const [p, group2] of this.loss) p.encode(pass, group2);
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
