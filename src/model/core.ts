// What every model built of layers shares behind its public API (Sequential, and SequenceClassifier, its preset): the
// checked config (config.ts), the state (state.ts), the batch plans kept built, the one rule for concurrent calls
// (serial.ts), and the GPU work of each call: training through the loop (loop.ts), evaluation, gradients, and the
// forward pass that predict and inspect read. Options arrive here checked; the public classes check them.
import { Feed, type FeedShape } from '../data/feed.js';
import type { BatchSource } from '../data/source.js';
import { InputError } from '../errors.js';
import { readFloats, scoped } from '../gpu/buffers.js';
import { asGpuError, lostError, watchDevice } from '../gpu/device.js';
import { checkDemands, overLimit, storage, type Demand } from '../gpu/limits.js';
import type { AdamConfig } from '../kernels/adam.js';
import type { SequenceBatchShape } from '../kernels/data.js';
import { range } from '../random.js';
import { Serial } from '../serial.js';
import { checkDevice } from '../validate.js';
import type { SequentialPlan } from './config.js';
import * as loop from './loop.js';
import type { HostState } from './parameters.js';
import { PlanCache } from './plan-cache.js';
import { BatchPlan } from './sequential-plan.js';
import { ModelState } from './state.js';

/** How one training call runs: Adam's settings, clipping, the order of each pass. */
export interface Training {
  batchSize: number;
  adam: AdamConfig;
  clipNorm?: number;
  shuffle: boolean;
}

export class ModelCore {
  readonly state: ModelState;
  /** Batch plans kept built (batch sizes x modes x data sets): 6, the oldest beyond freed. */
  private readonly plans = new PlanCache<BatchPlan>(6);
  private readonly serial = new Serial();
  private destroyed = false;
  /** trainSteps' place in its order (a fit starts a fresh one after it). */
  private cursor?: loop.Cursor;
  /** predict's input slot, kept between calls with its plans (the largest batch so far). */
  private input?: { key: string; feed: Feed };

  constructor(readonly device: GPUDevice, readonly plan: SequentialPlan, readonly kind: string, host: (table: ModelState) => HostState) {
    checkDevice(device);
    watchDevice(device);
    this.state = new ModelState(device, kind, plan.params, host);
  }

  /** Every public method starts here: after destroy() nothing is computed. */
  checkLive(): void {
    if (this.destroyed) throw new InputError('model', `a live ${this.kind} (not destroyed)`, 'one used after destroy()');
  }

  /** The data set fits this model (inputs, steps, target kind) and the batch size fits the data set and the device. */
  checkData(data: BatchSource, B: number, train: boolean, what = 'sequences'): void {
    this.checkLive();
    data.checkLive();
    const p = this.plan;
    if (data.inputs !== p.inputs) throw new InputError('data', `sequences of ${p.inputs} inputs (the model's config.inputs)`, `${data.inputs} inputs`);
    if (data.vector === p.sequenceInput) throw new InputError('data', p.sequenceInput ? 'x [n, steps, inputs] (sequences)' : 'x [n, inputs] (vectors, vector: true, for the first repeat layer)', data.vector ? 'vectors' : 'sequences');
    if (p.repeatSteps !== undefined && data.steps !== p.repeatSteps) throw new InputError('data', `${p.repeatSteps} steps (the repeat layer's)`, `${data.steps} steps`);
    if (data.perStep !== p.sequenceOutput) throw new InputError('data', p.sequenceOutput ? 'a target per step ([n, steps])' : 'a target per sequence ([n])', data.perStep ? 'a target per step' : 'a target per sequence');
    if (p.loss === 'mse' ? data.outputs !== p.outputs : data.classes === undefined || data.classes > p.outputs) {
      throw new InputError('data', p.loss === 'mse' ? `value targets of ${p.outputs} outputs` : `class targets of at most ${p.outputs} classes`, data.outputs !== undefined ? `value targets of ${data.outputs} outputs` : `class targets of ${data.classes} classes`);
    }
    if (B > data.count) throw new InputError('batchSize', `at most the number of ${what} (${data.count})`, String(B));
    checkDemands(this.device, 'data', `${data.count} ${what}`, [storage('order [data count]', data.count)]);
    this.checkFootprint(data.batchShape(B), data.steps, train);
  }

  /** A batch of this shape (T steps) fits the device's limits with this model's layers, training or not. */
  checkFootprint(shape: SequenceBatchShape, T: number, train: boolean): void {
    checkDemands(this.device, 'batchSize', shape.batch, this.demands(shape, T, train));
  }

  /**
   * A default batch size: `want`, halved until a batch fits the device (a long sequence of a wide cell can pass the
   * storage binding limit at 1000); at least 1, whose own faults checkFootprint then names.
   */
  fittingBatch(shape: (B: number) => SequenceBatchShape, T: number, want: number, train: boolean): number {
    let B = want;
    while (B > 1 && overLimit(this.device, this.demands(shape(B), T, train))) B = Math.ceil(B / 2);
    return B;
  }

  private demands(shape: SequenceBatchShape, T: number, train: boolean): Demand[] {
    const B = shape.batch;
    return [storage('x [steps, batch, inputs]', shape.xSteps * B * shape.inputs), ...BatchPlan.demands(this.device, this.plan, T, B, train)];
  }

  /** Calls run one after another in call order; GPU failures (a lost device, a failed submit) come out as GpuErrors. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    this.checkLive();
    return this.serial.run(async () => {
      this.checkLive(); // destroyed while this call waited
      const lost = lostError(this.device);
      if (lost) throw lost;
      try {
        return await work();
      } catch (error) {
        throw await asGpuError(this.device, error);
      }
    });
  }

  /** The plan for batch size B over `data`, training (with gradients and Adam) or not. */
  batchPlan(data: BatchSource, B: number, train: boolean): Promise<BatchPlan> {
    return this.plans.get(`${train ? 'train' : 'eval'}:${B}:${this.plans.id(data)}`, () => BatchPlan.create(this.device, this.plan, data, B, train, this.state));
  }

  /** Frees the plans built for `data` (a data set made for one call). */
  forget(data: BatchSource): void {
    const id = this.plans.id(data);
    this.plans.drop((key) => key.endsWith(`:${id}`));
  }

  private async run(data: BatchSource, t: Training): Promise<loop.Run> {
    this.state.setAdam(t.adam);
    const [plan, clip] = await Promise.all([this.batchPlan(data, t.batchSize, true), t.clipNorm === undefined ? undefined : this.state.clipper(t.clipNorm)]);
    return { device: this.device, state: this.state, seed: this.plan.seed, plan, data, shuffle: t.shuffle, clip, classes: this.plan.loss !== 'mse' };
  }

  /** Builds the training plan (buffers, pipelines, the tuner's timings) without taking a step. */
  prepare(data: BatchSource, B: number): Promise<void> {
    return this.exclusive(async () => void await this.batchPlan(data, B, true));
  }

  fit(data: BatchSource, t: Training, o: Omit<loop.FitLoop, 'check' | 'startEpoch'>): Promise<void> {
    return this.exclusive(async () => {
      this.cursor = undefined; // fit draws its own orders: trainSteps starts a fresh one after it
      const run = await this.run(data, t);
      // A stateful model's streams start again with each pass over the data: from zero states.
      const startEpoch = run.plan.stateful ? () => this.submitReset([run.plan]) : undefined;
      await loop.fit(run, { ...o, check: () => data.checkLive(), ...(startEpoch && { startEpoch }) });
    });
  }

  /** Whether any layer is stateful (config `stateful`). */
  get stateful(): boolean {
    return this.plan.layers.some((l) => l.layer.type === 'rnn' && l.layer.stateful === true);
  }

  /** Zeroes the carried states of every plan kept built (training, evaluation and predict's alike). */
  resetStates(): Promise<void> {
    return this.exclusive(async () => this.submitReset(await this.plans.all()));
  }

  /** Submits the clearing of `plans`' carried states: it lands before whatever is submitted after it. */
  private submitReset(plans: BatchPlan[]): void {
    const stateful = plans.filter((p) => p.stateful);
    if (stateful.length === 0) return;
    const encoder = this.device.createCommandEncoder({ label: 'resetStates' });
    for (const p of stateful) p.encodeResetStates(encoder);
    this.device.queue.submit([encoder.finish()]);
  }

  trainSteps(data: BatchSource, t: Training, steps: number, readBack: boolean): Promise<void> {
    return this.exclusive(async () => {
      const run = await this.run(data, t);
      if (this.cursor?.plan !== run.plan) this.cursor = { plan: run.plan, next: run.plan.perPass };
      await loop.trainSteps(run, this.cursor, steps, readBack);
    });
  }

  /** Sums of the loss, the correct predictions and the rows they are over, across all of `data` in batches of B. */
  evaluate(data: BatchSource, B: number): Promise<{ loss: number; correct: number; rows: number }> {
    return this.exclusive(async () => {
      const full = Math.floor(data.count / B), rest = data.count - full * B;
      const plans = [await this.batchPlan(data, B, false)];
      if (rest > 0) plans.push(await this.batchPlan(data, rest, false));
      this.submitReset(plans); // a stateful model's streams from their start
      const order = range(data.count);
      const { errors } = scoped(this.device, `evaluate (batch ${B})`, () => {
        const encoder = this.device.createCommandEncoder({ label: 'evaluate' });
        plans.forEach((p, k) => {
          this.device.queue.writeBuffer(p.order, 0, order, k === 0 ? 0 : full * B);
          encoder.clearBuffer(p.stats);
          const pass = encoder.beginComputePass({ label: 'evaluate' });
          for (let s = 0; s < (k === 0 ? full : 1); s++) p.encodeEvaluate(pass, s);
          pass.end();
        });
        this.device.queue.submit([encoder.finish()]);
      });
      const [sums] = await Promise.all([Promise.all(plans.map((p) => readFloats(this.device, p.stats, 0, 3))), errors]);
      let loss = 0, correct = 0, rows = 0;
      for (const [l, c, r] of sums) {
        loss += l!; correct += c!; rows += r!;
      }
      return { loss, correct, rows };
    });
  }

  /** The flat gradients of the mean loss over the first B sequences of `data`; nothing is updated. */
  gradients(data: BatchSource, B: number): Promise<Float32Array> {
    return this.exclusive(async () => {
      const p = await this.batchPlan(data, B, true);
      this.device.queue.writeBuffer(p.order, 0, range(data.count));
      const { errors } = scoped(this.device, 'gradients', () => {
        const encoder = this.device.createCommandEncoder({ label: 'gradients' });
        const pass = encoder.beginComputePass();
        p.encodeGradients(pass, 0);
        pass.end();
        encoder.clearBuffer(p.stats);
        this.device.queue.submit([encoder.finish()]);
      });
      const [grads] = await Promise.all([readFloats(this.device, this.state.buffers.grads, 0, this.state.total), errors]);
      return grads;
    });
  }

  /** An input slot of this shape for at least `capacity` sequences: the last one, or a larger one in its place. */
  feed(shape: FeedShape): Feed {
    const key = JSON.stringify({ ...shape, capacity: 0 });
    if (this.input && (this.input.key !== key || this.input.feed.count < shape.capacity)) {
      this.forget(this.input.feed);
      this.input.feed.destroy();
      this.input = undefined;
    }
    this.input ??= { key, feed: new Feed(this.device, shape) };
    return this.input.feed;
  }

  /**
   * Sequences 0 .. b-1 of `data` forward: the top layer's output, time-major ([T, b, O] or [b, O]), and with
   * `states` every recurrent layer's hidden states after each step, [T, b, H] time-major.
   */
  async forward(data: BatchSource, b: number, states = false): Promise<{ output: Float32Array; states: Float32Array[] }> {
    const plan = await this.batchPlan(data, b, false);
    this.device.queue.writeBuffer(plan.order, 0, range(b));
    const { errors } = scoped(this.device, `predict (batch ${b})`, () => {
      const encoder = this.device.createCommandEncoder({ label: 'predict' });
      const pass = encoder.beginComputePass();
      plan.encodeForward(pass, 0);
      pass.end();
      this.device.queue.submit([encoder.finish()]);
    });
    const top = plan.output;
    const reads = [readFloats(this.device, top.buffer, top.offset * 4, top.rows * top.features)];
    if (states) {
      for (const { schedule } of plan.states) {
        const all = schedule.view('allStates');
        reads.push(readFloats(this.device, schedule.hs, all.offset * 4, all.length));
      }
    }
    const [values] = await Promise.all([Promise.all(reads), errors]);
    return { output: values[0]!, states: values.slice(1) };
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.plans.drop();
    this.input?.feed.destroy();
    this.state.destroy();
  }
}
