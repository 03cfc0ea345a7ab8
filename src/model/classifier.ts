// SequenceClassifier: the lecture's model. Each image is a sequence of `steps` rows of `inputs` pixels, read by a
// layer of tanh RNN units; a dense layer maps the final state to class logits; sparse softmax cross-entropy; Adam.
//
// All parameters, their gradients and both Adam moments live in four flat GPU buffers carved by one table
// (parameters.ts); the buffers and kernels of one batch size are a BatchPlan (plan.ts); what a checkpoint must hold
// to be loaded is checkpoint.ts. A training step is one compute pass: gather the batch -> RNN forward -> dense -> loss -> dense
// backward -> BPTT -> Adam. Steps are submitted in chunks; loss and accuracy are summed on the GPU and read back once
// per chunk, two chunks in flight, so the queue never waits for the CPU.
import { ImageDataset } from '../data/dataset.js';
import { InputError } from '../errors.js';
import { BufferSet, readFloats, scoped, withErrorScopes } from '../gpu/buffers.js';
import { asGpuError, lostError, watchDevice } from '../gpu/device.js';
import { checkDemands, storage } from '../gpu/limits.js';
import type { Program } from '../gpu/shader.js';
import { ADAM_CONFIG_BYTES, ADAM_DEFAULTS, ADAM_SCHEDULE_BYTES, adamConfigBytes, type AdamConfig } from '../kernels/adam.js';
import { CLIP_CONFIG_BYTES, CLIP_STATE_BYTES, clipByGlobalNorm, clipConfigBytes } from '../kernels/clip.js';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import { Random, shuffleSeed } from '../random.js';
import { RnnSchedule } from '../scheduler.js';
import { Serial } from '../serial.js';
import { checkConfig, readState, stateTensors } from './checkpoint.js';
import { downloadState, initialState, parameterTable, uploadState, type ClassifierConfig, type HostState, type ParamName, type TableEntry } from './parameters.js';
import { PlanCache } from './plan-cache.js';
import { BatchPlan, type Clipping, type Mode } from './plan.js';
import { checkDevice, checkSize, describe } from '../validate.js';

export type { ClassifierConfig };

export interface FitOptions extends Partial<Omit<AdamConfig, 'learningRate'>> {
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Called every `progressEvery` steps with the running means since the previous call. */
  onProgress?: (p: Progress) => void;
  progressEvery?: number;
  /** Stops after the chunk in flight; the parameters so far are kept. */
  signal?: AbortSignal;
  /**
   * Steps of the first epoch already taken (a resumed run; 0 by default): the first epoch goes on in the order it
   * started with, from that step. Each epoch's order is drawn from the seed and the step count it started at, so a
   * run stopped and resumed takes the batches an uninterrupted one takes.
   */
  epochStep?: number;
  /** Hands the state out during training, with the host copy behind save() current: for checkpoints. */
  checkpoint?: CheckpointOptions;
  /**
   * Clips the gradients by their global norm before each Adam step, as PyTorch's clip_grad_norm_(max_norm=clipNorm):
   * total = sqrt(sum of every gradient squared), and when clipNorm / (total + 1e-6) < 1 every gradient is multiplied
   * by it. A positive finite number; absent, nothing is clipped (and no clipping work is encoded). Progress.gradNorm
   * then reports total.
   */
  clipNorm?: number;
}

export interface CheckpointOptions {
  /** A checkpoint after every step whose count since creation (Adam's t, `step`) is a multiple of this. */
  everySteps?: number;
  /** Asked after each progress chunk is submitted: true for a checkpoint there (e.g. when enough time has passed). */
  due?: () => boolean;
  /**
   * Called with the GPU work done and the host copy read back, before training goes on; fit waits for it.
   * `epoch` from 1 and `step` within it (stepsPerEpoch at the end of an epoch) as in Progress.
   */
  save: (at: { epoch: number; step: number; stepsPerEpoch: number }) => void | Promise<void>;
}

export interface Progress {
  epoch: number;          // from 1
  step: number;           // within the epoch, from 1
  stepsPerEpoch: number;
  totalSteps: number;     // since the model was created (or loaded)
  loss: number;           // mean training loss over the steps since the last report
  accuracy: number;       // mean training accuracy over the same steps
  seqPerSec: number;      // sequences per second over the same steps, wall clock
  stepsPerSec: number;
  /**
   * With FitOptions.clipNorm: the global gradient norm before clipping of the last step of the chunk (not a mean: as
   * PyTorch's clip_grad_norm_ returns it for the step it clipped); NaN when a gradient was NaN. Undefined when
   * training without clipNorm, where the norm is not computed.
   */
  gradNorm?: number;
}


export class SequenceClassifier {
  readonly config: Required<ClassifierConfig>;
  private readonly table: ReturnType<typeof parameterTable>['table'];
  private readonly entries: TableEntry[];
  private readonly total: number;
  private readonly owned: BufferSet;
  private readonly params: GPUBuffer;
  private readonly grads: GPUBuffer;
  private readonly m: GPUBuffer;
  private readonly v: GPUBuffer;
  private readonly adamConfig: GPUBuffer;
  private readonly adamSchedule: GPUBuffer;
  /** What save() and parameter() give: replaced only as a whole, by a read-back of the GPU state (or load). */
  private host: HostState;
  /** Steps the GPU has taken, as read back so far; ahead of host.schedule[0] until the next read-back of the state. */
  private stepsRun: number;
  /** Batch plans kept built: 6, the oldest beyond freed. */
  private readonly plans = new PlanCache<BatchPlan>(6);
  private readonly serial = new Serial();
  private destroyed = false;
  /** trainSteps' place in its shuffled order (the order lives in the plan's `order` buffer). */
  private cursor?: { plan: BatchPlan; next: number };
  /** Clipping's kernels and buffers, made by the first call with clipNorm: a model trained without it has none. */
  private clipping?: Promise<Clipping>;

  /** Glorot-uniform weights and zero biases, as TensorFlow 1 initialises BasicRNNCell and dense. */
  constructor(readonly device: GPUDevice, config: ClassifierConfig, state?: HostState) {
    checkDevice(device);
    this.config = checkConfig(device, config, '');
    const { table, entries, total } = parameterTable(this.config);
    watchDevice(device);
    this.table = table;
    this.entries = entries;
    this.total = total;
    this.host = state ?? this.initialState();
    this.stepsRun = this.host.schedule[0]!;
    this.owned = new BufferSet(device, 'model');
    const bytes = total * 4;
    this.params = this.owned.create('params', bytes);
    this.grads = this.owned.create('grads', bytes);
    this.m = this.owned.create('m', bytes);
    this.v = this.owned.create('v', bytes);
    this.adamConfig = this.owned.create('adamConfig', ADAM_CONFIG_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.adamSchedule = this.owned.create('adamSchedule', ADAM_SCHEDULE_BYTES);
    this.uploadState();
  }

  private initialState(): HostState {
    const { inputs: I, units: H, classes: C, seed } = this.config;
    const random = new Random(seed);
    const params = new Float32Array(this.total);
    // BasicRNNCell keeps Wx and Wh as one [I + H, H] kernel: one Glorot limit for both.
    const rnnLimit = Math.sqrt(6 / (I + H + H));
    params.set(random.uniform(I * H, rnnLimit), this.table['rnn.wx'].offset);
    params.set(random.uniform(H * H, rnnLimit), this.table['rnn.wh'].offset);
    params.set(random.uniform(H * C, Math.sqrt(6 / (H + C))), this.table['dense.w'].offset);
    return initialState(params);
  }

  private stateBuffers() {
    return { params: this.params, m: this.m, v: this.v, adamSchedule: this.adamSchedule };
  }

  private uploadState(): void {
    uploadState(this.device, this.stateBuffers(), this.host);
  }

  /**
   * Training steps taken so far (Adam's t on the GPU), counted as fit reads back its chunks. save() and parameter()
   * are of the last read-back state, which is behind this after trainSteps({ readBack: false }) or a failed fit.
   */
  get step(): number {
    return this.stepsRun;
  }

  /** A copy of one parameter as of the last completed fit (or construction / load). */
  parameter(name: ParamName): Float32Array {
    this.checkLive();
    const { offset, size } = this.table[name];
    return this.host.params.slice(offset, offset + size);
  }

  /**
   * Trains on `data` for `epochs` passes, each over its own shuffled order drawn from the seed and the step count the
   * pass starts at (the last partial batch is dropped); `epochStep` and `checkpoint` stop and resume a run exactly.
   */
  async fit(data: ImageDataset, options: FitOptions = {}): Promise<void> {
    this.checkLive();
    this.checkData(data, 'data');
    const epochs = checkSize('epochs', options.epochs ?? 1);
    const every = checkSize('progressEvery', options.progressEvery ?? 20);
    const { B, cfg, clipNorm } = this.checkTraining(data, options);
    const stepsPerEpoch = Math.floor(data.count / B);
    const skip = options.epochStep ?? 0;
    if (!Number.isInteger(skip) || skip < 0 || skip >= stepsPerEpoch || skip > this.step) {
      throw new InputError('epochStep', `an integer in [0, ${Math.min(stepsPerEpoch - 1, this.step)}] (steps per epoch ${stepsPerEpoch}, steps taken ${this.step})`, String(skip));
    }
    const checkpoint = options.checkpoint;
    const checkpointEvery = checkpoint?.everySteps === undefined ? Infinity : checkSize('checkpoint.everySteps', checkpoint.everySteps);

    await this.exclusive(async () => {
      const device = this.device;
      this.cursor = undefined; // fit shuffles its own order: trainSteps starts a fresh one after it
      device.queue.writeBuffer(this.adamConfig, 0, adamConfigBytes(cfg));
      const plan = await this.plan('train', data, B, Array.from({ length: stepsPerEpoch }, (_, s) => s * B));
      const clip = clipNorm === undefined ? undefined : await this.clipper(clipNorm);
      const staging = plan.staging;
      const inFlight: Array<Promise<void>> = [];
      let chunk = 0;
      let taken = this.step; // steps submitted (the host's count follows as their chunks are read back)
      let last = performance.now();
      let failure: { error: unknown } | undefined;
      let submitted = this.stepsRun;
      try {
        for (let epoch = 1; epoch <= epochs && !options.signal?.aborted; epoch++) {
          const first = epoch === 1 ? skip : 0;
          // As trainSteps draws each pass's order: from the seed and the step count the epoch started at.
          device.queue.writeBuffer(plan.order, 0, new Random(shuffleSeed(this.config.seed, taken - first)).permutation(data.count));
          for (let s = first; s < stepsPerEpoch && !options.signal?.aborted;) {
            // Chunks end at the checkpoint steps, so that a checkpoint lands exactly there.
            const n = Math.min(every, stepsPerEpoch - s, checkpointEvery - (taken % checkpointEvery));
            // Two chunks in flight: wait for the one that used this staging buffer.
            if (inFlight.length >= 2) await inFlight.shift();
            this.checkData(data, 'data'); // onProgress may have destroyed it meanwhile
            const target = staging[chunk++ % 2]!;
            const { errors } = scoped(device, `training steps ${submitted + 1}..${submitted + n}`, () => {
              const encoder = device.createCommandEncoder({ label: 'train' });
              plan.encodeTrainSteps(encoder, s, n, clip?.encode);
              encoder.copyBufferToBuffer(plan.stats, 0, target, 0, 12);
              if (clip) encoder.copyBufferToBuffer(clip.state, 0, target, 12, 4); // the last step's norm
              encoder.clearBuffer(plan.stats);
              device.queue.submit([encoder.finish()]);
            });
            submitted += n;
            const at = { epoch, step: s + n };
            // An invalid submit runs nothing and its read-back gives zeros: the scopes' verdict comes first.
            const done = Promise.allSettled([errors, target.mapAsync(GPUMapMode.READ)]).then(([checked, mapped]) => {
              if (checked.status === 'rejected') {
                if (mapped.status === 'fulfilled') target.unmap();
                throw checked.reason;
              }
              if (mapped.status === 'rejected') throw mapped.reason;
              const [loss, correct, rows, gradNorm] = new Float32Array(target.getMappedRange(0, 16).slice(0));
              target.unmap();
              const now = performance.now();
              const seconds = Math.max(1e-9, (now - last) / 1000);
              last = now;
              this.stepsRun += n;
              options.onProgress?.({
                epoch: at.epoch, step: at.step, stepsPerEpoch, totalSteps: this.step,
                loss: loss! / rows!, accuracy: correct! / rows!, seqPerSec: rows! / seconds, stepsPerSec: n / seconds,
                ...(clip && { gradNorm }),
              });
            });
            done.catch(() => undefined); // awaited below; a failure before then must not count as unhandled
            inFlight.push(done);
            taken += n;
            s += n;
            if (checkpoint && (taken % checkpointEvery === 0 || checkpoint.due?.())) {
              while (inFlight.length > 0) await inFlight.shift();
              await this.downloadState();
              await checkpoint.save({ epoch, step: s, stepsPerEpoch });
            }
          }
        }
        while (inFlight.length > 0) await inFlight.shift();
      } catch (error) {
        failure = { error };
      }
      await Promise.allSettled(inFlight);
      // The state as the GPU holds it, params, moments and Adam's t together; if that fails too (a lost device), the
      // host keeps the previous state whole, so that save() stays consistent.
      try {
        await this.downloadState();
      } catch (error) {
        failure ??= { error };
      }
      if (failure) throw failure.error;
    });
  }

  /**
   * Builds what training on `data` in batches of `batchSize` needs (buffers, pipelines and, with tuning on, the timing
   * of each kernel shape's variants) without taking a step, so that a host can say what it is doing and print the
   * tuner's choices before training starts. fit and trainSteps do this themselves when it has not been done.
   */
  async prepare(data: ImageDataset, options: { batchSize?: number } = {}): Promise<void> {
    this.checkLive();
    const { B } = this.checkTraining(data, options);
    const stepsPerEpoch = Math.floor(data.count / B);
    await this.exclusive(async () => {
      await this.plan('train', data, B, Array.from({ length: stepsPerEpoch }, (_, s) => s * B));
    });
  }

  /**
   * Exactly `steps` training steps (as fit takes them: shuffled batches of `batchSize`, Adam), encoded into one
   * command buffer (one per pass over the shuffled order), submitted, and awaited with `queue.onSubmittedWorkDone()`:
   * when the promise resolves the GPU has finished them. No loss is read back and no progress is reported. This is the hook the benchmark (`npm run bench`)
   * times steps with; fit is the way to train.
   *
   * Successive calls walk through one shuffled order of `data`, reshuffled when it runs out (a new fit starts a new
   * one). With `readBack: false` the host copy behind parameter() and save() is left as it was (the GPU state, which
   * training continues from, is current): the read-back of the parameters and Adam's moments is then not part of the
   * time; the next fit, or a trainSteps call with `readBack: true` (the default), refreshes it.
   */
  async trainSteps(data: ImageDataset, options: Omit<FitOptions, 'epochs' | 'onProgress' | 'progressEvery' | 'signal'> & { steps: number; readBack?: boolean }): Promise<void> {
    this.checkLive();
    const steps = checkSize('steps', options?.steps);
    const { B, cfg, clipNorm } = this.checkTraining(data, options);
    await this.exclusive(async () => {
      const device = this.device;
      device.queue.writeBuffer(this.adamConfig, 0, adamConfigBytes(cfg));
      const stepsPerEpoch = Math.floor(data.count / B);
      const plan = await this.plan('train', data, B, Array.from({ length: stepsPerEpoch }, (_, s) => s * B));
      const clip = clipNorm === undefined ? undefined : await this.clipper(clipNorm);
      if (this.cursor?.plan !== plan) this.cursor = { plan, next: stepsPerEpoch };
      const cursor = this.cursor;
      const checks: Array<Promise<void>> = [];
      for (let done = 0; done < steps;) {
        if (cursor.next >= stepsPerEpoch) {
          // A write lands before the command buffers submitted after it: each pass over the order gets its own.
          device.queue.writeBuffer(plan.order, 0, new Random(shuffleSeed(this.config.seed, this.step + done)).permutation(data.count));
          cursor.next = 0;
        }
        const n = Math.min(steps - done, stepsPerEpoch - cursor.next);
        checks.push(scoped(device, `training steps ${this.stepsRun + done + 1}..${this.stepsRun + done + n}`, () => {
          const encoder = device.createCommandEncoder({ label: 'trainSteps' });
          plan.encodeTrainSteps(encoder, cursor.next, n, clip?.encode);
          encoder.clearBuffer(plan.stats); // the steps' loss sums are not wanted here
          device.queue.submit([encoder.finish()]);
        }).errors);
        cursor.next += n;
        done += n;
      }
      await Promise.all([device.queue.onSubmittedWorkDone(), ...checks]);
      // Dawn resolves onSubmittedWorkDone on a lost device too: the steps did not run.
      const lost = lostError(device);
      if (lost) throw lost;
      this.stepsRun += steps;
      if (options.readBack ?? true) await this.downloadState();
    });
  }

  /** Mean loss and top-1 accuracy over all of `data`. */
  async evaluate(data: ImageDataset, options: { batchSize?: number } = {}): Promise<{ loss: number; accuracy: number }> {
    this.checkLive();
    this.checkData(data, 'data');
    const batch = checkSize('batchSize', options.batchSize ?? 1000);
    const B = Math.min(batch, data.count);
    this.checkFootprint('evaluate', B, data.count);
    return this.exclusive(async () => {
      const full = Math.floor(data.count / B), rest = data.count - full * B;
      const plans = [await this.plan('evaluate', data, B, Array.from({ length: full }, (_, s) => s * B))];
      if (rest > 0) plans.push(await this.plan('evaluate', data, rest, [full * B]));
      const { errors } = scoped(this.device, `evaluate (batch ${B})`, () => {
        const encoder = this.device.createCommandEncoder({ label: 'evaluate' });
        for (const plan of plans) {
          encoder.clearBuffer(plan.stats);
          const pass = encoder.beginComputePass({ label: 'evaluate' });
          plan.starts.forEach((_, slot) => plan.encodeEvaluateBatch(pass, slot));
          pass.end();
        }
        this.device.queue.submit([encoder.finish()]);
      });
      const [sums] = await Promise.all([Promise.all(plans.map((plan) => readFloats(this.device, plan.stats, 0, 3))), errors]);
      let loss = 0, correct = 0, rows = 0;
      for (const [l, c, r] of sums) {
        loss += l!; correct += c!; rows += r!;
      }
      return { loss: loss / rows, accuracy: correct / rows };
    });
  }

  /**
   * Class probabilities [n, classes] for n images given as [n, steps * inputs]: floats in [0, 1], or bytes (0..255,
   * scaled by 1/255 as in training).
   */
  async predict(images: Float32Array | Uint8Array, options: { batchSize?: number } = {}): Promise<Float32Array> {
    this.checkLive();
    const { steps: T, inputs: I, classes: C } = this.config;
    if (!(images instanceof Float32Array || images instanceof Uint8Array)) {
      throw new InputError('images', `a Float32Array or Uint8Array [n, ${T * I}]`, (images as object)?.constructor?.name ?? typeof images);
    }
    if (images.length === 0 || images.length % (T * I) !== 0) {
      throw new InputError('images', `a non-empty length that is a multiple of steps * inputs = ${T * I}`, `length ${images.length}`);
    }
    const n = images.length / (T * I);
    const batch = Math.min(checkSize('batchSize', options.batchSize ?? 500), n);
    this.checkFootprint('predict', batch);
    const x = asInputs(images);
    return this.exclusive(async () => {
      const probs = new Float32Array(n * C);
      for (let start = 0; start < n; start += batch) {
        const B = Math.min(batch, n - start);
        const { plan, errors } = await this.runPredictBatch(x, start, B);
        const [batchProbs] = await Promise.all([readFloats(this.device, plan.dlogits, 0, B * C), errors]);
        probs.set(batchProbs, start * C);
      }
      return probs;
    });
  }

  /**
   * One image through the model, with what the RNN saw: class probabilities [classes] and the hidden state after
   * every time step, states [steps, units] (the lecture's "visualizing the neurons").
   */
  async inspect(image: Float32Array | Uint8Array): Promise<{ probs: Float32Array; states: Float32Array }> {
    this.checkLive();
    const { steps: T, inputs: I, units: H, classes: C } = this.config;
    if (!(image instanceof Float32Array || image instanceof Uint8Array) || image.length !== T * I) {
      const got = image instanceof Float32Array || image instanceof Uint8Array ? `length ${image.length}` : (image as object)?.constructor?.name ?? typeof image;
      throw new InputError('image', `a Float32Array or Uint8Array of length steps * inputs = ${T * I}`, got);
    }
    return this.exclusive(async () => {
      const { plan, errors } = await this.runPredictBatch(asInputs(image), 0, 1);
      const [probs, states] = await Promise.all([readFloats(this.device, plan.dlogits, 0, C), readFloats(this.device, plan.hiddenStates, RnnSchedule.views({ batch: 1, steps: T, inputs: I, units: H }).allStates.offset * 4, T * H), errors]);
      return { probs, states };
    });
  }

  /**
   * A safetensors checkpoint of the parameters and Adam's state as last read back whole (after fit, a checkpoint
   * during fit, trainSteps with readBack, construction or load): its step is that state's, which after a failed fit
   * is behind `step`. `metadata` adds string entries to the file's own (format, version, config, step), which it
   * cannot replace.
   */
  save(metadata: Record<string, string> = {}): Uint8Array {
    this.checkLive();
    const tensors = stateTensors(this.entries, this.host);
    const { steps, inputs, units, classes, seed } = this.config;
    const own = {
      format: 'webgpu-rnn/sequence-classifier',
      version: '1',
      config: JSON.stringify({ steps, inputs, units, classes, seed }),
      step: String(this.host.schedule[0]),
    };
    return encodeSafetensors(tensors, { ...own, ...metadata, ...own }); // own keys first, and theirs win
  }

  /** A model from save()'s bytes. Throws an InputError naming what does not match. */
  static load(device: GPUDevice, bytes: Uint8Array, name = 'checkpoint'): SequenceClassifier {
    checkDevice(device);
    const { tensors, metadata } = decodeSafetensors(bytes, name);
    if (metadata.format !== 'webgpu-rnn/sequence-classifier') {
      throw new InputError(name, "a webgpu-rnn SequenceClassifier checkpoint (metadata format 'webgpu-rnn/sequence-classifier')", `format ${JSON.stringify(metadata.format)}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(metadata.config ?? '');
    } catch {
      throw new InputError(`${name} metadata.config`, 'JSON { steps, inputs, units, classes, seed }', JSON.stringify(metadata.config));
    }
    const config = checkConfig(device, parsed, `${name} config.`);
    const { entries, total } = parameterTable(config);
    const state = readState(tensors, entries, total, name, metadata.config ?? '');
    return new SequenceClassifier(device, config, state);
  }

  /** Frees every GPU buffer the model holds. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.plans.drop();
    this.owned.destroy();
  }

  // ---- internals ----

  /** Every public method starts here: after destroy() nothing is computed. */
  private checkLive(): void {
    if (this.destroyed) throw new InputError('model', 'a live SequenceClassifier (not destroyed)', 'one used after destroy()');
  }

  private checkData(data: ImageDataset, field: string): void {
    if (!(data instanceof ImageDataset)) throw new InputError(field, 'an ImageDataset (from loadMnist or ImageDataset.create)', describe(data));
    if (data.destroyed) throw new InputError(field, 'a live data set (not destroyed)', `data set '${data.name}' after destroy()`);
    const { steps, inputs, classes } = this.config;
    if (data.steps !== steps || data.inputs !== inputs) {
      throw new InputError(field, `images of ${steps} x ${inputs} (steps x inputs) for this model`, `${data.steps} x ${data.inputs}`);
    }
    if (data.classes > classes) throw new InputError(field, `labels in [0, ${classes})`, `a data set of ${data.classes} classes`);
  }

  /** Validates the data set, batch size, Adam and clipping settings shared by fit and trainSteps. */
  private checkTraining(data: ImageDataset, options: Partial<AdamConfig> & { batchSize?: number; clipNorm?: number }): { B: number; cfg: AdamConfig; clipNorm?: number } {
    this.checkData(data, 'data');
    const B = checkSize('batchSize', options.batchSize ?? 150);
    if (B > data.count) throw new InputError('batchSize', `at most the number of training images (${data.count})`, String(B));
    this.checkFootprint('train', B, data.count);
    const cfg: AdamConfig = {
      learningRate: options.learningRate ?? ADAM_DEFAULTS.learningRate,
      beta1: options.beta1 ?? ADAM_DEFAULTS.beta1,
      beta2: options.beta2 ?? ADAM_DEFAULTS.beta2,
      epsilon: options.epsilon ?? ADAM_DEFAULTS.epsilon,
    };
    if (!(cfg.learningRate > 0 && Number.isFinite(cfg.learningRate))) throw new InputError('learningRate', 'a positive finite number', String(cfg.learningRate));
    for (const key of ['beta1', 'beta2'] as const) {
      if (!(cfg[key] >= 0 && cfg[key] < 1)) throw new InputError(key, 'a number in [0, 1)', String(cfg[key]));
    }
    if (!(cfg.epsilon > 0)) throw new InputError('epsilon', 'a positive number', String(cfg.epsilon));
    const clipNorm = options.clipNorm;
    if (clipNorm !== undefined && !(typeof clipNorm === 'number' && clipNorm > 0 && Number.isFinite(clipNorm))) {
      throw new InputError('clipNorm', 'a positive finite number (the largest global gradient norm), or none for no clipping', describe(clipNorm));
    }
    return { B, cfg, clipNorm };
  }

  /** Clipping by global norm of this model's gradients, set to `clipNorm` for the steps encoded next. */
  private async clipper(clipNorm: number): Promise<Clipping> {
    if (!this.clipping) {
      const device = this.device;
      this.clipping = (async () => {
        const k = await clipByGlobalNorm(device, this.total);
        const b = await withErrorScopes(device, 'clipping buffers', () => ({
          config: this.owned.create('clipConfig', CLIP_CONFIG_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
          partials: this.owned.create('clipPartials', k.partials * 4),
          state: this.owned.create('clipState', CLIP_STATE_BYTES),
        }));
        const work: Array<[Program, GPUBindGroup]> = [
          [k.partial, k.partial.bind(this.grads, b.partials)],
          [k.finish, k.finish.bind(b.config, b.partials, b.state)],
          [k.scale, k.scale.bind(b.state, this.grads)],
        ];
        return { config: b.config, state: b.state, encode: (pass) => { for (const [p, g] of work) p.encode(pass, g); } };
      })();
      this.clipping.catch(() => (this.clipping = undefined));
    }
    const clipping = await this.clipping;
    this.device.queue.writeBuffer(clipping.config, 0, clipConfigBytes(clipNorm));
    return clipping;
  }

  /**
   * Checks that a plan for `mode` with batch B (over a data set of `count` images) fits the device, before any GPU
   * work: an InputError naming the batch size and the first buffer or dispatch over the device's limits.
   */
  private checkFootprint(mode: Mode, B: number, count?: number): void {
    if (count !== undefined) checkDemands(this.device, 'data', `${count} images`, [storage('order [data count]', count)]);
    checkDemands(this.device, 'batchSize', B, BatchPlan.demands(this.device, mode, this.config, B));
  }

  /**
   * Calls run one after another in call order (serial.ts: the runtime's one rule); GPU failures (a lost device, a
   * failed submit) come out as GpuErrors.
   */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
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

  /** Images start .. start+B-1 of `x` [n, steps*inputs] through the model; the probabilities land in plan.dlogits. */
  private async runPredictBatch(x: Float32Array, start: number, B: number): Promise<{ plan: BatchPlan; errors: Promise<void> }> {
    const { steps: T, inputs: I } = this.config;
    const plan = await this.plan('predict', undefined, B, [0]);
    this.device.queue.writeBuffer(plan.xBatchMajor!, 0, x, start * T * I, B * T * I);
    const { errors } = scoped(this.device, `predict (batch ${B})`, () => {
      const encoder = this.device.createCommandEncoder({ label: 'predict' });
      const pass = encoder.beginComputePass({ label: 'predict' });
      plan.encodePredictBatch(pass);
      pass.end();
      this.device.queue.submit([encoder.finish()]);
    });
    return { plan, errors };
  }

  private async downloadState(): Promise<void> {
    this.host = await downloadState(this.device, this.stateBuffers(), this.total);
    this.stepsRun = this.host.schedule[0]!;
  }

  /** The plan for one mode, batch size, data set and batch starts. */
  private plan(mode: Mode, data: ImageDataset | undefined, B: number, starts: number[]): Promise<BatchPlan> {
    const key = `${mode}:${B}:${data ? this.plans.id(data) : '-'}:${starts.length}:${starts[0]}`;
    return this.plans.get(key, () => BatchPlan.create(this.device, mode, this.config, B, data, starts, {
      params: this.params, grads: this.grads, m: this.m, v: this.v, adamConfig: this.adamConfig, adamSchedule: this.adamSchedule,
      slice: (buffer, name) => ({ buffer, offset: this.table[name].offset * 4, size: this.table[name].size * 4 }), total: this.total,
    }));
  }
}

/** Model inputs as floats: bytes (0..255) are scaled by 1/255, as the training data is. */
function asInputs(images: Float32Array | Uint8Array): Float32Array {
  return images instanceof Uint8Array ? Float32Array.from(images, (v) => v / 255) : images;
}
