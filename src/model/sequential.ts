// Sequential: layers (rnn, dense, repeat) + a loss + Adam, on the GPU, for the three shapes of RNN problem (sequence
// to sequence, sequence to vector, vector to sequence). The config is checked and planned by reference/config.ts;
// the float64 model in reference/sequential.ts is what this computes, and the tests hold the two together.
//
// All parameters, their gradients and Adam's moments are four flat buffers carved by one table; a training step is
// one compute pass: gather the batch -> layers forward -> loss -> layers backward -> (clip) -> Adam.
//
// Not yet (issue 11): SequenceClassifier as a preset of this. The benchmark trains it (src/node/bench-models.ts).
import { SequenceDataset } from '../data/sequences.js';
import { InputError } from '../errors.js';
import { BufferSet, readFloats, scoped } from '../gpu/buffers.js';
import { watchDevice } from '../gpu/device.js';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import { ADAM_CONFIG_BYTES, ADAM_SCHEDULE_BYTES, adamConfigBytes } from '../kernels/adam.js';
import { Random, range, shuffleSeed } from '../random.js';
import { Serial } from '../serial.js';
import { checkDevice, checkSize, describe } from '../validate.js';
import { checkWeights, type Weights } from './batch.js';
import { readState, stateTensors } from './checkpoint.js';
import { planSequential, type SequentialConfig, type SequentialPlan } from './config.js';
import { initialWeights } from './init.js';
import { downloadState, flatTable, initialState, uploadState, type HostState, type TableEntry } from './parameters.js';
import { PlanCache } from './plan-cache.js';
import { SequentialBatchPlan as BatchPlan, type ModelBuffers } from './sequential-plan.js';


export type { SequentialConfig };

export interface SequentialFitOptions {
  epochs?: number;        // passes over the data (default 1), the last partial batch of each dropped
  batchSize?: number;     // default 32, at most the number of sequences
  shuffle?: boolean;      // default true: each pass's order from the seed and the step count it starts at
  progressEvery?: number; // steps between progress reports (default 20): the only read-backs during training
  onProgress?: (p: SequentialProgress) => void;
  signal?: AbortSignal;   // stops after the chunk in flight; the parameters so far are kept
}

export interface SequentialProgress {
  epoch: number;        // from 1
  step: number;         // within the epoch, from 1
  stepsPerEpoch: number;
  totalSteps: number;
  loss: number;         // mean training loss over the steps since the last report
  accuracy?: number;    // softmax cross-entropy only
  seqPerSec: number;
  gradNorm?: number;    // with optimizer.clipNorm: the global gradient norm before clipping, of the chunk's last step
}
export { layers } from './config.js';

export class Sequential {
  private readonly plan: SequentialPlan;
  private readonly entries: TableEntry[];
  private readonly total: number;
  private readonly owned: BufferSet;
  private readonly buffers: ModelBuffers;
  /** What weights() and save() give: params, Adam's m and v and schedule, as last uploaded or read back whole. */
  private host: HostState;
  private steps = 0;
  /** Batch plans kept built (batch sizes x modes x data sets): 6, the oldest beyond freed. */
  private readonly plans = new PlanCache<BatchPlan>(6);
  private readonly serial = new Serial();
  private destroyed = false;

  constructor(readonly device: GPUDevice, readonly config: SequentialConfig) {
    checkDevice(device);
    this.plan = planSequential(config);
    ({ entries: this.entries, total: this.total } = flatTable(this.plan.params));
    watchDevice(device);
    this.host = initialState(this.flatten(Object.fromEntries(Object.entries(initialWeights(config)).map(([k, t]) => [k, t.data]))));
    this.owned = new BufferSet(device, 'sequential');
    const bytes = this.total * 4;
    this.buffers = {
      params: this.owned.create('params', bytes), grads: this.owned.create('grads', bytes),
      m: this.owned.create('m', bytes), v: this.owned.create('v', bytes),
      adamConfig: this.owned.create('adamConfig', ADAM_CONFIG_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
      adamSchedule: this.owned.create('adamSchedule', ADAM_SCHEDULE_BYTES),
    };
    this.upload();
    device.queue.writeBuffer(this.buffers.adamConfig, 0, adamConfigBytes(this.plan.optimizer));
  }

  /** Training steps taken so far. */
  get step(): number {
    return this.steps;
  }

  /** Every parameter by name ('layers.0.wx' [inputs, units], ...), row-major, x·W; as of the last step's read-back. */
  weights(): Weights<Float32Array> {
    this.checkLive();
    return this.unflatten(this.host.params);
  }

  /** Replaces every parameter (Adam's state is kept). Wrong names or shapes are an InputError, nothing uploaded. */
  setWeights(weights: Weights): void {
    this.checkLive();
    this.host = { ...this.host, params: this.flatten(checkWeights(this.plan, weights)) };
    this.device.queue.writeBuffer(this.buffers.params, 0, this.host.params);
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
        this.device.queue.writeBuffer(p.order, 0, this.order(data.count, options.shuffle ?? false, this.steps + done));
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
      await this.download();
    });
  }

  /** Mean loss (and accuracy, for classes) over all of `data`, in batches of `batchSize` (default all, at most 1000). */
  async evaluate(data: SequenceDataset, options: { batchSize?: number } = {}): Promise<{ loss: number; accuracy?: number }> {
    const B = this.checkBatch(data, options.batchSize ?? Math.min(1000, data.count));
    return this.exclusive(async () => {
      const full = Math.floor(data.count / B), rest = data.count - full * B;
      const plans = [await this.batchPlan(data, B, false)];
      if (rest > 0) plans.push(await this.batchPlan(data, rest, false));
      const order = range(data.count);
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
      this.device.queue.writeBuffer(p.order, 0, range(data.count));
      const { errors } = scoped(this.device, 'gradients', () => {
        const encoder = this.device.createCommandEncoder({ label: 'sequential.gradients' });
        const pass = encoder.beginComputePass();
        p.encodeGradients(pass, 0);
        pass.end();
        encoder.clearBuffer(p.stats);
        this.device.queue.submit([encoder.finish()]);
      });
      const [grads] = await Promise.all([readFloats(this.device, this.buffers.grads, 0, this.total), errors]);
      return this.unflatten(grads);
    });
  }

  /** Trains for `epochs` passes over `data` in chunks of `progressEvery` steps, reporting each chunk's means. */
  async fit(data: SequenceDataset, options: SequentialFitOptions = {}): Promise<void> {
    const epochs = checkSize('epochs', options.epochs ?? 1);
    const every = checkSize('progressEvery', options.progressEvery ?? 20);
    const B = this.checkBatch(data, options.batchSize ?? Math.min(32, data.count));
    await this.exclusive(async () => {
      const device = this.device;
      const perEpoch = Math.floor(data.count / B);
      const p = await this.batchPlan(data, B, true);
      const staging = device.createBuffer({ label: 'sequential.progress', size: 32, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      try {
        for (let epoch = 1; epoch <= epochs && !options.signal?.aborted; epoch++) {
          device.queue.writeBuffer(p.order, 0, this.order(data.count, options.shuffle ?? true));
          for (let s = 0; s < perEpoch && !options.signal?.aborted;) {
            const n = Math.min(every, perEpoch - s);
            const started = performance.now();
            const { errors } = scoped(device, `training steps ${this.steps + 1}..${this.steps + n}`, () => {
              const encoder = device.createCommandEncoder({ label: 'sequential.fit' });
              const pass = encoder.beginComputePass();
              for (let k = 0; k < n; k++) p.encodeTrainStep(pass, s + k);
              pass.end();
              encoder.copyBufferToBuffer(p.stats, 0, staging, 0, 12);
              encoder.copyBufferToBuffer(p.clip, 0, staging, 16, 8);
              encoder.clearBuffer(p.stats);
              device.queue.submit([encoder.finish()]);
            });
            await Promise.all([errors, staging.mapAsync(GPUMapMode.READ)]);
            const [loss, correct, count, , norm] = new Float32Array(staging.getMappedRange().slice(0));
            staging.unmap();
            s += n;
            this.steps += n;
            const seconds = Math.max(1e-9, (performance.now() - started) / 1000);
            options.onProgress?.({
              epoch, step: s, stepsPerEpoch: perEpoch, totalSteps: this.steps, loss: loss! / count!,
              ...(this.plan.loss === 'mse' ? {} : { accuracy: correct! / count! }), seqPerSec: (n * B) / seconds,
              ...(this.plan.optimizer.clipNorm !== undefined ? { gradNorm: norm! } : {}),
            });
          }
        }
      } finally {
        staging.destroy();
        await this.download();
      }
    });
  }

  /**
   * The model's outputs for `x` ([n, steps, inputs], or [n, inputs] before a first repeat layer), batch-major:
   * [n, outputs] or [n, steps, outputs] (zero past each length): class probabilities for cross-entropy, values for MSE.
   */
  async predict(x: Float32Array, options: { steps?: number; lengths?: Int32Array; batchSize?: number } = {}): Promise<Float32Array> {
    this.checkLive();
    const p = this.plan;
    const steps = p.repeatSteps ?? options.steps ?? (x instanceof Float32Array && options.lengths ? x.length / (options.lengths.length * p.inputs) : undefined);
    if (steps === undefined || !Number.isInteger(steps) || steps <= 0) throw new InputError('steps', 'a positive integer: the steps of each sequence in x (or lengths, from which it follows)', String(steps));
    const per = p.sequenceInput ? steps * p.inputs : p.inputs;
    if (!(x instanceof Float32Array) || x.length === 0 || x.length % per !== 0) {
      throw new InputError('x', `a Float32Array [n, ${p.sequenceInput ? `${steps}, ` : ''}${p.inputs}]`, x instanceof Float32Array ? `length ${x.length}` : describe(x));
    }
    const n = x.length / per;
    const rows = p.sequenceOutput ? n * steps : n;
    // A data set of the inputs with placeholder targets: predict runs what evaluate runs and reads the outputs.
    const data = await SequenceDataset.fromArrays(this.device, {
      name: 'predict', x, steps, inputs: p.inputs, vector: !p.sequenceInput, ...(options.lengths ? { lengths: options.lengths } : {}),
      ...(p.loss === 'mse' ? { y: new Float32Array(rows * p.outputs), outputs: p.outputs } : { y: new Int32Array(rows), classes: p.outputs }),
    });
    try {
      const B = this.checkBatch(data, Math.min(options.batchSize ?? 500, n));
      const lengths = options.lengths ?? new Int32Array(n).fill(steps);
      return await this.exclusive(async () => {
        const out = new Float32Array(rows * p.outputs);
        const O = p.outputs;
        for (let start = 0; start < n; start += B) {
          const b = Math.min(B, n - start);
          const plan = await this.batchPlan(data, b, false);
          this.device.queue.writeBuffer(plan.order, 0, range(b, start));
          const { errors } = scoped(this.device, 'predict', () => {
            const encoder = this.device.createCommandEncoder({ label: 'sequential.predict' });
            const pass = encoder.beginComputePass();
            plan.encodeForward(pass, 0);
            pass.end();
            this.device.queue.submit([encoder.finish()]);
          });
          const top = plan.output;
          const [values] = await Promise.all([readFloats(this.device, top.buffer, top.offset * 4, top.rows * O), errors]);
          // time-major [T, b, O] (or [b, O]) -> batch-major rows of `out`, softmax for classes, zero past each length.
          const T = p.sequenceOutput ? steps : 1;
          for (let t = 0; t < T; t++) {
            for (let i = 0; i < b; i++) {
              const live = !p.sequenceOutput || t < lengths[start + i]!;
              const from = (t * b + i) * O, to = (((start + i) * T) + t) * O;
              if (!live) continue;
              const row = values.subarray(from, from + O);
              if (p.loss === 'mse') out.set(row, to);
              else out.set(softmax(row), to);
            }
          }
        }
        return out;
      });
    } finally {
      const id = this.plans.id(data); // predict's own data set: its plans go with it
      this.plans.drop((key) => key.endsWith(`:${id}`));
      data.destroy();
    }
  }

  /** A safetensors checkpoint: every parameter and Adam's state by name, the config and the step in its metadata. */
  save(): Uint8Array {
    this.checkLive();
    const tensors = stateTensors(this.entries, this.host);
    return encodeSafetensors(tensors, { format: 'webgpu-rnn/sequential', version: '1', config: JSON.stringify(this.config), step: String(this.host.schedule[0]) });
  }

  /** A model from save()'s bytes; a checkpoint of another kind, shape or impossible contents is an InputError. */
  static load(device: GPUDevice, bytes: Uint8Array, name = 'checkpoint'): Sequential {
    checkDevice(device);
    const { tensors, metadata } = decodeSafetensors(bytes, name);
    if (metadata.format !== 'webgpu-rnn/sequential') throw new InputError(name, "a webgpu-rnn Sequential checkpoint (metadata format 'webgpu-rnn/sequential')", `format ${JSON.stringify(metadata.format)}`);
    let config: SequentialConfig;
    try {
      config = JSON.parse(metadata.config ?? '');
    } catch {
      throw new InputError(`${name} metadata.config`, 'the JSON of a Sequential config', JSON.stringify(metadata.config));
    }
    const model = new Sequential(device, config);
    try {
      const state = readState(tensors, model.entries, model.total, name, metadata.config ?? '');
      model.host = state;
      model.steps = state.schedule[0]!;
      model.upload();
      return model;
    } catch (error) {
      model.destroy();
      throw error;
    }
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.plans.drop();
    this.owned.destroy();
  }

  // ---- internals ----

  private flatten(weights: Record<string, ArrayLike<number>>): Float32Array {
    const flat = new Float32Array(this.total);
    for (const { name, offset } of this.entries) flat.set(weights[name]!, offset);
    return flat;
  }

  /** The flat [total] values as named tensors. */
  private unflatten(flat: Float32Array): Weights<Float32Array> {
    return Object.fromEntries(this.entries.map(({ name, shape, offset, size }) => [name, { shape: [...shape], data: flat.slice(offset, offset + size) }]));
  }

  /** A pass's order, starting at training step `step`: shuffled from the seed and that step, or the data set's. */
  private order(count: number, shuffle: boolean, step = this.steps): Uint32Array {
    return shuffle ? new Random(shuffleSeed(this.plan.seed, step)).permutation(count) : range(count);
  }

  private upload(): void {
    uploadState(this.device, this.buffers, this.host);
  }

  /** The GPU state, read back whole: a failed read leaves the previous one (save() stays consistent). */
  private async download(): Promise<void> {
    this.host = await downloadState(this.device, this.buffers, this.total);
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

  /** Calls run one after another in call order (serial.ts); one destroyed meanwhile is refused when its turn comes. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.serial.run(async () => {
      this.checkLive();
      return work();
    });
  }

  /** The plan for batch size B over `data`, training (with gradients and the optimizer) or not. */
  private batchPlan(data: SequenceDataset, B: number, train: boolean): Promise<BatchPlan> {
    const slice = (which: 'params' | 'grads', name: string): GPUBufferBinding => {
      const e = this.entries.find((x) => x.name === name)!;
      return { buffer: this.buffers[which], offset: e.offset * 4, size: e.size * 4 };
    };
    return this.plans.get(`${train ? 'train' : 'eval'}:${B}:${this.plans.id(data)}`,
      () => BatchPlan.create(this.device, this.plan, data, B, train, slice, this.buffers, this.total));
  }
}

/** Softmax of one row, in float64. */
function softmax(row: Float32Array): Float32Array {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  const e = Array.from(row, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return Float32Array.from(e, (v) => v / sum);
}
