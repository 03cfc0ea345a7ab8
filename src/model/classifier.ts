// SequenceClassifier: the lecture's model, as a preset of Sequential. Each image is a sequence of `steps` rows of
// `inputs` pixels, read by a layer of tanh RNN units; a dense layer maps the final state to class logits; sparse
// softmax cross-entropy; Adam. The model is the Sequential of presetConfig (classifier-config.ts): the same plans,
// kernels and training loop. This class keeps the classifier's own API: images (ImageDataset, bytes or floats),
// Adam's settings and clipping per call, its parameter names and its checkpoint format.
import { ImageDataset } from '../data/dataset.js';
import { InputError } from '../errors.js';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import { decodeTorchCheckpoint } from '../io/torch.js';
import { ADAM_DEFAULTS, type AdamConfig } from '../kernels/adam.js';
import { checkDevice, checkSize, describe } from '../validate.js';
import { checkConfig, classifierEntries, PARAM_NAMES, presetConfig, type ClassifierConfig, type ParamName } from './classifier-config.js';
import { readState, stateTensors } from './checkpoint.js';
import { planSequential } from './config.js';
import type { Training } from './core.js';
import type { CheckpointOptions, TrainingProgress } from './loop.js';
import { flatTable, type HostState } from './parameters.js';
import { coreOf, Sequential } from './sequential.js';

export type { ClassifierConfig, CheckpointOptions };

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

/** A progress report; the classifier's always has an accuracy. */
export type Progress = TrainingProgress & { accuracy: number };

export class SequenceClassifier {
  readonly config: Required<ClassifierConfig>;
  /** The model as a Sequential (names 'layers.0.wx', ...): the same GPU state, for the layers API and its format. */
  readonly sequential: Sequential;

  /** Glorot-uniform weights and zero biases, as TensorFlow 1 initialises BasicRNNCell and dense. */
  constructor(readonly device: GPUDevice, config: ClassifierConfig, state?: HostState) {
    checkDevice(device);
    this.config = checkConfig(device, config, '');
    this.sequential = new Sequential(device, presetConfig(this.config), { state, kind: 'SequenceClassifier' });
  }

  /**
   * Training steps taken so far (Adam's t on the GPU), counted as fit reads back its chunks. save() and parameter()
   * are of the last read-back state, which is behind this after trainSteps({ readBack: false }) or a failed fit.
   */
  get step(): number {
    return this.sequential.step;
  }

  /** A copy of one parameter as of the last completed fit (or construction / load). */
  parameter(name: ParamName): Float32Array {
    this.core.checkLive();
    const names = (Object.keys(PARAM_NAMES) as ParamName[]).filter((n) => this.core.state.entries.some((e) => e.name === PARAM_NAMES[n]));
    if (!names.includes(name)) throw new InputError('name', `one of ${names.join(', ')}`, describe(name));
    const { host } = this.core.state;
    const e = this.core.state.slice('params', PARAM_NAMES[name]);
    return host.params.slice(e.offset! / 4, (e.offset! + e.size!) / 4);
  }

  /**
   * Trains on `data` for `epochs` passes, each over its own shuffled order drawn from the seed and the step count the
   * pass starts at (the last partial batch is dropped); `epochStep` and `checkpoint` stop and resume a run exactly.
   */
  async fit(data: ImageDataset, options: FitOptions = {}): Promise<void> {
    this.core.checkLive();
    this.checkData(data);
    const epochs = checkSize('epochs', options.epochs ?? 1);
    const every = checkSize('progressEvery', options.progressEvery ?? 20);
    const t = this.training(data, options);
    const stepsPerEpoch = Math.floor(data.count / t.batchSize);
    const skip = options.epochStep ?? 0;
    if (!Number.isInteger(skip) || skip < 0 || skip >= stepsPerEpoch || skip > this.step) {
      throw new InputError('epochStep', `an integer in [0, ${Math.min(stepsPerEpoch - 1, this.step)}] (steps per epoch ${stepsPerEpoch}, steps taken ${this.step})`, String(skip));
    }
    const checkpoint = options.checkpoint;
    const checkpointEvery = checkpoint?.everySteps === undefined ? Infinity : checkSize('checkpoint.everySteps', checkpoint.everySteps);
    const onProgress = options.onProgress as ((p: TrainingProgress) => void) | undefined; // class targets: accuracy is there
    await this.core.fit(data, t, { epochs, every, skip, checkpoint, checkpointEvery, signal: options.signal, onProgress });
  }

  /**
   * Builds what training on `data` in batches of `batchSize` needs (buffers, pipelines and, with tuning on, the timing
   * of each kernel shape's variants) without taking a step, so that a host can say what it is doing and print the
   * tuner's choices before training starts. fit and trainSteps do this themselves when it has not been done.
   */
  async prepare(data: ImageDataset, options: { batchSize?: number } = {}): Promise<void> {
    this.core.checkLive();
    this.checkData(data);
    await this.core.prepare(data, this.training(data, options).batchSize);
  }

  /**
   * Exactly `steps` training steps (as fit takes them: shuffled batches of `batchSize`, Adam), encoded into one
   * command buffer (one per pass over the shuffled order), submitted, and awaited with `queue.onSubmittedWorkDone()`:
   * when the promise resolves the GPU has finished them. No loss is read back and no progress is reported. This is
   * the hook the benchmark (`npm run bench`) times steps with; fit is the way to train.
   *
   * Successive calls walk through one shuffled order of `data`, reshuffled when it runs out (a new fit starts a new
   * one). With `readBack: false` the host copy behind parameter() and save() is left as it was (the GPU state, which
   * training continues from, is current): the read-back of the parameters and Adam's moments is then not part of the
   * time; the next fit, or a trainSteps call with `readBack: true` (the default), refreshes it.
   */
  async trainSteps(data: ImageDataset, options: Omit<FitOptions, 'epochs' | 'onProgress' | 'progressEvery' | 'signal'> & { steps: number; readBack?: boolean }): Promise<void> {
    this.core.checkLive();
    const steps = checkSize('steps', options?.steps);
    this.checkData(data);
    await this.core.trainSteps(data, this.training(data, options), steps, options.readBack ?? true);
  }

  /** Mean loss and top-1 accuracy over all of `data`. */
  async evaluate(data: ImageDataset, options: { batchSize?: number } = {}): Promise<{ loss: number; accuracy: number }> {
    this.core.checkLive();
    this.checkData(data);
    const B = options.batchSize === undefined ? this.core.fittingBatch((b) => data.batchShape(b), data.steps, Math.min(1000, data.count), false)
      : Math.min(checkSize('batchSize', options.batchSize), data.count);
    this.core.checkData(data, B, false, 'images');
    const { loss, correct, rows } = await this.core.evaluate(data, B);
    return { loss: loss / rows, accuracy: correct / rows };
  }

  /**
   * Class probabilities [n, classes] for n images given as [n, steps * inputs]: floats in [0, 1], or bytes (0..255,
   * scaled by 1/255 as in training).
   */
  async predict(images: Float32Array | Uint8Array, options: { batchSize?: number } = {}): Promise<Float32Array> {
    this.core.checkLive();
    const { steps: T, inputs: I } = this.config;
    if (!(images instanceof Float32Array || images instanceof Uint8Array)) {
      throw new InputError('images', `a Float32Array or Uint8Array [n, ${T * I}]`, (images as object)?.constructor?.name ?? typeof images);
    }
    if (images.length === 0 || images.length % (T * I) !== 0) {
      throw new InputError('images', `a non-empty length that is a multiple of steps * inputs = ${T * I}`, `length ${images.length}`);
    }
    const n = images.length / (T * I);
    const batchSize = options.batchSize === undefined ? undefined : Math.min(checkSize('batchSize', options.batchSize), n); // default: Sequential's
    return this.sequential.predict(asInputs(images), { steps: T, ...(batchSize !== undefined && { batchSize }) });
  }

  /**
   * One image through the model, with what the RNN saw: class probabilities [classes] and the hidden state after
   * every time step, states [steps, units] (the lecture's "visualizing the neurons").
   */
  async inspect(image: Float32Array | Uint8Array): Promise<{ probs: Float32Array; states: Float32Array }> {
    this.core.checkLive();
    const { steps: T, inputs: I } = this.config;
    if (!(image instanceof Float32Array || image instanceof Uint8Array) || image.length !== T * I) {
      const got = image instanceof Float32Array || image instanceof Uint8Array ? `length ${image.length}` : (image as object)?.constructor?.name ?? typeof image;
      throw new InputError('image', `a Float32Array or Uint8Array of length steps * inputs = ${T * I}`, got);
    }
    const { outputs, states } = await this.sequential.inspect(asInputs(image), { steps: T });
    return { probs: outputs, states: states[0]! };
  }

  /**
   * A safetensors checkpoint of the parameters and Adam's state as last read back whole (after fit, a checkpoint
   * during fit, trainSteps with readBack, construction or load): its step is that state's, which after a failed fit
   * is behind `step`. `metadata` adds string entries to the file's own (format, version, config, step), which it
   * cannot replace.
   */
  save(metadata: Record<string, string> = {}): Uint8Array {
    this.core.checkLive();
    const { entries, host } = this.core.state;
    const { steps, inputs, units, classes, seed, cell } = this.config;
    const own = {
      format: 'webgpu-rnn/sequence-classifier',
      version: '1',
      config: JSON.stringify({ steps, inputs, units, classes, seed, ...(cell !== 'tanh' && { cell }) }), // a tanh model's as before
      step: String(host.schedule[0]),
    };
    return encodeSafetensors(stateTensors(classifierEntries(entries), host), { ...own, ...metadata, ...own }); // own keys first, and theirs win
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
    const { entries, total } = flatTable(planSequential(presetConfig(config)).params);
    const state = readState(tensors, classifierEntries(entries), total, name, metadata.config ?? '');
    return new SequenceClassifier(device, config, state);
  }

  /** The weights as a PyTorch state_dict in safetensors: nn.RNN (or nn.LSTM, nn.GRU) as rnn, nn.Linear as fc (Sequential.exportTorch). */
  exportTorch(): Uint8Array {
    return this.sequential.exportTorch();
  }

  /** A classifier of `config` with the weights of a PyTorch state_dict (Sequential.importTorch); fresh Adam state. */
  static importTorch(device: GPUDevice, bytes: Uint8Array, config: ClassifierConfig, name = 'torch checkpoint'): SequenceClassifier {
    checkDevice(device);
    const checked = checkConfig(device, config, '');
    const weights = decodeTorchCheckpoint(presetConfig(checked), bytes, name);
    const model = new SequenceClassifier(device, checked);
    model.sequential.setWeights(weights);
    return model;
  }

  /** Frees every GPU buffer the model holds. */
  destroy(): void {
    this.sequential.destroy();
  }

  // ---- internals ----

  private get core() {
    return coreOf(this.sequential);
  }

  private checkData(data: ImageDataset): void {
    if (!(data instanceof ImageDataset)) throw new InputError('data', 'an ImageDataset (from loadMnist or ImageDataset.create)', describe(data));
    data.checkLive();
    const { steps, inputs, classes } = this.config;
    if (data.steps !== steps || data.inputs !== inputs) {
      throw new InputError('data', `images of ${steps} x ${inputs} (steps x inputs) for this model`, `${data.steps} x ${data.inputs}`);
    }
    if (data.classes > classes) throw new InputError('data', `labels in [0, ${classes})`, `a data set of ${data.classes} classes`);
  }

  /** The batch size, Adam and clipping settings shared by fit and trainSteps, checked against `data` and the device. */
  private training(data: ImageDataset, options: Partial<AdamConfig> & { batchSize?: number; clipNorm?: number }): Training {
    const B = checkSize('batchSize', options.batchSize ?? 150);
    if (B > data.count) throw new InputError('batchSize', `at most the number of training images (${data.count})`, String(B));
    this.core.checkData(data, B, true, 'images');
    const adam: AdamConfig = {
      learningRate: options.learningRate ?? ADAM_DEFAULTS.learningRate,
      beta1: options.beta1 ?? ADAM_DEFAULTS.beta1,
      beta2: options.beta2 ?? ADAM_DEFAULTS.beta2,
      epsilon: options.epsilon ?? ADAM_DEFAULTS.epsilon,
    };
    if (!(adam.learningRate > 0 && Number.isFinite(adam.learningRate))) throw new InputError('learningRate', 'a positive finite number', String(adam.learningRate));
    for (const key of ['beta1', 'beta2'] as const) {
      if (!(adam[key] >= 0 && adam[key] < 1)) throw new InputError(key, 'a number in [0, 1)', String(adam[key]));
    }
    if (!(adam.epsilon > 0)) throw new InputError('epsilon', 'a positive number', String(adam.epsilon));
    const clipNorm = options.clipNorm;
    if (clipNorm !== undefined && !(typeof clipNorm === 'number' && clipNorm > 0 && Number.isFinite(clipNorm))) {
      throw new InputError('clipNorm', 'a positive finite number (the largest global gradient norm), or none for no clipping', describe(clipNorm));
    }
    return { batchSize: B, adam, clipNorm, shuffle: true };
  }
}

/** Model inputs as floats: bytes (0..255) are scaled by 1/255, as the training data is. */
function asInputs(images: Float32Array | Uint8Array): Float32Array {
  return images instanceof Uint8Array ? Float32Array.from(images, (v) => v / 255) : images;
}
