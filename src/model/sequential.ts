// Sequential: layers (rnn, dense, repeat) + a loss + Adam, on the GPU, for the three shapes of RNN problem (sequence
// to sequence, sequence to vector, vector to sequence). The config is checked and planned by config.ts; the float64
// model in reference/sequential.ts is what this computes, and the tests hold the two together. This class checks what
// a caller passes and converts between batch-major arrays and the GPU's time-major layout; the GPU work is core.ts's
// (plans, state, the training loop). SequenceClassifier (classifier.ts) is a preset of it.
import { checkFinite } from '../data/sequences.js';
import type { BatchSource } from '../data/source.js';
import { InputError } from '../errors.js';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import { decodeTorchCheckpoint, encodeTorchCheckpoint } from '../io/torch.js';
import { checkDevice, checkSize, describe } from '../validate.js';
import { checkWeights, type Weights } from './batch.js';
import { readState, stateTensors } from './checkpoint.js';
import { planSequential, type SequentialConfig, type SequentialPlan } from './config.js';
import { ModelCore, type Training } from './core.js';
import { initialWeights } from './init.js';
import type { CheckpointOptions, TrainingProgress } from './loop.js';
import { flatTable, initialState, type HostState } from './parameters.js';

export type { SequentialConfig };

export interface SequentialFitOptions {
  epochs?: number;        // passes over the data (default 1), the last partial batch of each dropped
  batchSize?: number;     // default 32, at most the number of sequences
  shuffle?: boolean;      // default true (false, and only false, with a stateful layer): each pass's order from the seed and the step count it starts at
  progressEvery?: number; // steps between progress reports (default 20): the only read-backs during training
  onProgress?: (p: SequentialProgress) => void;
  signal?: AbortSignal;   // stops after the chunk in flight; the parameters so far are kept
  /** Steps of the first epoch already taken (a resumed run): it goes on in the order it started with, from there. */
  epochStep?: number;
  /** Hands the state out during training, with the host copy behind save() current: for checkpoints. */
  checkpoint?: CheckpointOptions;
}

/** A progress report: accuracy with class targets only; gradNorm with optimizer.clipNorm. */
export type SequentialProgress = TrainingProgress;
export { layers } from './config.js';
/** The GPU side of a Sequential: for its presets (classifier.ts), not part of the public surface. */
const cores = new WeakMap<Sequential, ModelCore>();
export function coreOf(model: Sequential): ModelCore {
  return cores.get(model)!;
}

export class Sequential {
  private readonly core: ModelCore;
  private readonly plan: SequentialPlan;

  /** `preset` is for load() and presets (classifier.ts): the state to start from, and the name errors give the model. */
  constructor(readonly device: GPUDevice, readonly config: SequentialConfig, preset: { state?: HostState; kind?: string } = {}) {
    checkDevice(device);
    const plan = planSequential(config);
    this.plan = plan;
    this.core = new ModelCore(device, plan, preset.kind ?? 'Sequential', (table) => preset.state ?? initialState(table.flatten(weightData(initialWeights(config)))));
    cores.set(this, this.core);
  }

  /** Training steps taken so far (Adam's t on the GPU, as far as read back). */
  get step(): number {
    return this.core.state.stepsRun;
  }

  /** Every parameter by name ('layers.0.wx' [inputs, units], ...), row-major, x·W; as of the last read-back. */
  weights(): Weights<Float32Array> {
    this.core.checkLive();
    return this.core.state.unflatten(this.core.state.host.params);
  }

  /** Replaces every parameter (Adam's state is kept). Wrong names or shapes are an InputError, nothing uploaded. */
  setWeights(weights: Weights): void {
    this.core.checkLive();
    this.core.state.uploadParams(this.core.state.flatten(checkWeights(this.plan, weights)));
  }

  /**
   * Trains for `epochs` passes over `data` (a SequenceDataset, or an ImageDataset whose rows are the steps) in chunks
   * of `progressEvery` steps, reporting each chunk's means; two chunks are kept in flight.
   */
  async fit(data: BatchSource, options: SequentialFitOptions = {}): Promise<void> {
    const epochs = checkSize('epochs', options.epochs ?? 1);
    const every = checkSize('progressEvery', options.progressEvery ?? 20);
    const stateful = this.core.stateful;
    if (stateful && options.shuffle === true) {
      throw new InputError('shuffle', 'false with a stateful layer (row b of batch k+1 goes on from row b of batch k: the data set is in stream order)', 'true');
    }
    const t = this.training(data, options.batchSize ?? Math.min(32, data?.count), options.shuffle ?? !stateful);
    const perEpoch = Math.floor(data.count / t.batchSize);
    const skip = options.epochStep ?? 0;
    if (!Number.isInteger(skip) || skip < 0 || skip >= perEpoch || skip > this.step) {
      throw new InputError('epochStep', `an integer in [0, ${Math.min(perEpoch - 1, this.step)}] (steps per epoch ${perEpoch}, steps taken ${this.step})`, String(skip));
    }
    const checkpointEvery = options.checkpoint?.everySteps === undefined ? Infinity : checkSize('checkpoint.everySteps', options.checkpoint.everySteps);
    await this.core.fit(data, t, { epochs, every, skip, checkpoint: options.checkpoint, checkpointEvery, signal: options.signal, onProgress: options.onProgress });
  }

  /**
   * Exactly `steps` training steps on batches of `batchSize` (the last partial batch of a pass is dropped), in the data
   * set's order unless `shuffle` (an order per pass, from the seed and the step count); successive calls go on through
   * one pass. Awaited until the GPU is done; with `readBack: false` the host copy (weights(), save()) is left behind.
   */
  async trainSteps(data: BatchSource, options: { steps: number; batchSize: number; shuffle?: boolean; readBack?: boolean }): Promise<void> {
    const steps = checkSize('steps', options?.steps);
    const t = this.training(data, options.batchSize, options.shuffle ?? false);
    await this.core.trainSteps(data, t, steps, options.readBack ?? true);
  }

  /** Builds what training on `data` in batches of `batchSize` needs (buffers, pipelines, the tuner's timings). */
  async prepare(data: BatchSource, options: { batchSize: number }): Promise<void> {
    const t = this.training(data, options?.batchSize, false);
    await this.core.prepare(data, t.batchSize);
  }

  /**
   * Zeroes the states that stateful layers (config `stateful`) carry from one pass to the next, in every batch plan
   * the model keeps (training, evaluate's, predict's), as Keras's reset_states: the next pass starts from zeros.
   * fit does this at the start of each epoch, evaluate at its start; predict carries its state from call to call.
   */
  async resetStates(): Promise<void> {
    await this.core.resetStates();
  }

  /**
   * Mean loss (and accuracy, for classes) over all of `data`, in batches of `batchSize` (default all, at most 1000).
   * With a stateful layer, row b of batch k+1 goes on from row b of batch k, starting from zeros.
   */
  async evaluate(data: BatchSource, options: { batchSize?: number } = {}): Promise<{ loss: number; accuracy?: number }> {
    const B = this.checkBatch(data, options.batchSize ?? this.defaultBatch(data, 1000), false);
    const { loss, correct, rows } = await this.core.evaluate(data, B);
    return this.plan.loss === 'mse' ? { loss: loss / rows } : { loss: loss / rows, accuracy: correct / rows };
  }

  /** Gradients of the mean loss over the first `batchSize` sequences of `data`, in its order; nothing is updated. */
  async gradients(data: BatchSource, options: { batchSize: number }): Promise<Weights<Float32Array>> {
    const B = this.checkBatch(data, options?.batchSize, true);
    return this.core.state.unflatten(await this.core.gradients(data, B));
  }

  /**
   * The model's outputs for `x` ([n, steps, inputs], or [n, inputs] before a first repeat layer), batch-major:
   * [n, outputs] or [n, steps, outputs] (zero past each length): class probabilities for cross-entropy, values for MSE.
   */
  async predict(x: Float32Array | Int32Array, options: { steps?: number; lengths?: Int32Array; batchSize?: number } = {}): Promise<Float32Array> {
    return (await this.run(x, options, false)).outputs;
  }

  /**
   * One sequence through the model, with what each recurrent layer saw: its outputs as predict gives them, and every
   * rnn layer's hidden state after each step, [steps, units] (the lecture's "visualizing the neurons").
   */
  async inspect(x: Float32Array | Int32Array, options: { steps?: number; length?: number } = {}): Promise<{ outputs: Float32Array; states: Float32Array[] }> {
    const lengths = options.length === undefined ? undefined : Int32Array.of(options.length);
    return this.run(x, { steps: options.steps, lengths, batchSize: 1, single: true }, true);
  }

  /**
   * A safetensors checkpoint: every parameter and Adam's state by name, the config and the step in its metadata, and
   * `metadata`'s keys beside them (a task's own: a vocabulary, ...; format, version, config and step are the model's).
   */
  save(metadata: Record<string, string> = {}): Uint8Array {
    this.core.checkLive();
    const { entries, host } = this.core.state;
    return encodeSafetensors(stateTensors(entries, host), { ...metadata, format: 'webgpu-rnn/sequential', version: '1', config: JSON.stringify(this.config), step: String(host.schedule[0]) });
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
    const { entries, total } = flatTable(planSequential(config).params);
    return new Sequential(device, config, { state: readState(tensors, entries, total, name, metadata.config ?? '') });
  }

  /**
   * The weights as a safetensors file of a PyTorch state_dict (io/torch.ts; README, "Moving to PyTorch and back"):
   * `rnn.weight_ih_l{k}` ... of nn.RNN / nn.LSTM / nn.GRU and `fc.weight`, `fc.bias` of nn.Linear, float32, in
   * PyTorch's shapes, as of the last read-back (as weights()). A config PyTorch's modules cannot hold (GRU with resetAfter: false, a repeat layer, mixed cells
   * or widths) is an InputError naming the layer field.
   */
  exportTorch(): Uint8Array {
    this.core.checkLive();
    return encodeTorchCheckpoint(this.config, this.weights());
  }

  /**
   * A model of `config` (fresh Adam state, step 0) with the weights of a PyTorch state_dict in safetensors (as
   * exportTorch writes it, or safetensors.torch.save_file; F32 or F64): transposed, and bias_ih + bias_hh for the
   * cells with one bias. A missing, extra or misshapen tensor is an InputError naming it, the expected and the actual.
   */
  static importTorch(device: GPUDevice, bytes: Uint8Array, config: SequentialConfig, name = 'torch checkpoint'): Sequential {
    checkDevice(device);
    const weights = decodeTorchCheckpoint(config, bytes, name);
    const model = new Sequential(device, config);
    model.setWeights(weights);
    return model;
  }

  /** Frees every GPU buffer the model holds. */
  destroy(): void {
    this.core.destroy();
  }

  // ---- internals ----

  /** The batch size and the optimizer of a training call, checked. */
  private training(data: BatchSource, batchSize: unknown, shuffle: boolean): Training {
    const B = this.checkBatch(data, batchSize, true);
    if (typeof shuffle !== 'boolean') throw new InputError('shuffle', 'true or false', describe(shuffle));
    const { clipNorm, ...adam } = this.plan.optimizer;
    return { batchSize: B, adam, clipNorm, shuffle };
  }

  /** Up to `want` (and the data set's size), halved until a batch of it fits the device. */
  private defaultBatch(data: BatchSource, want: number): number {
    this.checkBatch(data, 1, false); // the data set's own faults first, named as such
    return this.core.fittingBatch((B) => data.batchShape(B), data.steps, Math.min(want, data.count), false);
  }

  private checkBatch(data: BatchSource, batchSize: unknown, train: boolean): number {
    this.core.checkLive();
    if (!(data instanceof Object) || typeof (data as BatchSource).bindGather !== 'function') {
      throw new InputError('data', 'a SequenceDataset (SequenceDataset.fromArrays) or an ImageDataset', describe(data));
    }
    const B = checkSize('batchSize', batchSize);
    this.core.checkData(data, B, train);
    return B;
  }

  /** predict and inspect: x uploaded as a data set of its own, run forward in batches, converted to batch-major. */
  private async run(x: Float32Array | Int32Array, options: { steps?: number; lengths?: Int32Array; batchSize?: number; single?: boolean }, states: boolean): Promise<{ outputs: Float32Array; states: Float32Array[] }> {
    this.core.checkLive();
    const p = this.plan;
    // Int32Array x: token ids, one per step (one-hot over the inputs, as SequenceDataset.fromArrays takes them).
    const oneHot = x instanceof Int32Array, width = oneHot ? 1 : p.inputs;
    const steps = p.repeatSteps ?? options.steps ?? ((x instanceof Float32Array || oneHot) && options.lengths ? x.length / (options.lengths.length * width) : undefined);
    if (steps === undefined || !Number.isInteger(steps) || steps <= 0) throw new InputError('steps', 'a positive integer: the steps of each sequence in x (or lengths, from which it follows)', String(steps));
    const per = (p.sequenceInput ? steps : 1) * width;
    if (!(x instanceof Float32Array || oneHot) || x.length === 0 || x.length % per !== 0 || (options.single && x.length !== per)) {
      const shape = `${options.single ? '1 sequence' : 'n'}, ${p.sequenceInput ? `${steps}, ` : ''}${p.inputs}`;
      throw new InputError('x', `a Float32Array [${shape}] (or an Int32Array of token ids [${options.single ? '1 sequence' : 'n'}${p.sequenceInput ? `, ${steps}` : ''}])`, x instanceof Float32Array || oneHot ? `length ${x.length}` : describe(x));
    }
    const n = x.length / per, O = p.outputs, T = p.sequenceOutput ? steps : 1;
    const lengths = options.lengths;
    if (lengths !== undefined) {
      if (!(lengths instanceof Int32Array) || lengths.length !== n) throw new InputError('lengths', `an Int32Array [n] = [${n}]`, lengths instanceof Int32Array ? `length ${lengths.length}` : describe(lengths));
      lengths.forEach((l, i) => {
        if (l < 1 || l > steps) throw new InputError(`lengths[${i}]`, `a length in [1, steps] = [1, ${steps}]`, String(l));
      });
    }
    if (x instanceof Float32Array) checkFinite(x, p.sequenceInput ? [n, steps, p.inputs] : [n, p.inputs], 'x');
    else {
      const bad = x.findIndex((v) => v < 0 || v >= p.inputs);
      if (bad >= 0) throw new InputError(`x[${bad}]`, `a token id in [0, inputs) = [0, ${p.inputs})`, String(x[bad]));
    }
    const shape = (B: number) => ({ batch: B, xSteps: p.sequenceInput ? steps : 1, inputs: p.inputs, ySteps: T, width: p.loss === 'mse' ? O : 1 });
    const B = options.batchSize === undefined ? this.core.fittingBatch(shape, steps, Math.min(500, n), false) : Math.min(checkSize('batchSize', options.batchSize), n);
    this.core.checkFootprint(shape(B), steps, false);
    return this.core.exclusive(async () => {
      // The model's input slot: x is written into it a batch at a time; its plans stay built for the next call.
      const feed = this.core.feed({
        capacity: B, steps, inputs: p.inputs, vector: !p.sequenceInput, perStep: p.sequenceOutput, oneHot,
        ...(p.loss === 'mse' ? { outputs: O } : { classes: O }),
      });
      const outputs = new Float32Array(n * T * O);
      let seen: Float32Array[] = [];
      for (let start = 0; start < n; start += B) {
        const b = Math.min(B, n - start);
        feed.write(x, start, b, lengths);
        const got = await this.core.forward(feed, b, states);
        seen = got.states.map((s) => batchMajor(s, steps, b, s.length / (steps * b)));
        // time-major [T, b, O] -> batch-major rows, softmax for classes, zero past each length.
        for (let t = 0; t < T; t++) {
          for (let i = 0; i < b; i++) {
            if (p.sequenceOutput && t >= (lengths ? lengths[start + i]! : steps)) continue;
            const row = got.output.subarray((t * b + i) * O, (t * b + i + 1) * O);
            outputs.set(p.loss === 'mse' ? row : softmax(row), ((start + i) * T + t) * O);
          }
        }
      }
      return { outputs, states: seen };
    });
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

/** [T, b, F] time-major -> [b, T, F]. */
function batchMajor(v: Float32Array, T: number, b: number, F: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let t = 0; t < T; t++) for (let i = 0; i < b; i++) out.set(v.subarray((t * b + i) * F, (t * b + i + 1) * F), (i * T + t) * F);
  return out;
}

/** Named tensors -> their data by name. */
function weightData(w: Weights<Float32Array>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(w).map(([k, t]) => [k, t.data]));
}
