// A data set of float sequences resident on the GPU: inputs as f32, targets as i32 classes or f32 values, lengths
// as i32. Sample-major as the caller gives it; gatherSequences (src/kernels/data.ts) turns one batch of it, in any
// order, into the time-major tensors the layers read.
import { InputError } from '../errors.js';
import { BufferSet, withErrorScopes } from '../gpu/buffers.js';
import { checkDemands, storage } from '../gpu/limits.js';
import type { Program } from '../gpu/shader.js';
import { destroyedData, type BatchSource } from './source.js';
import { bindGatherSequences, gatherSequences, gatherSequencesDemands, type SequenceBatchShape } from '../kernels/data.js';
import { checkDevice, checkSize, describe } from '../validate.js';

/** What SequenceDataset.fromArrays takes. Arrays are row-major, sample-major. */
export interface SequenceArrays {
  /**
   * Float32Array: [n, steps, inputs], or [n, inputs] with `vector: true` (one input vector per sequence).
   * Int32Array: token ids [n, steps] (or [n] with `vector`), each in [0, inputs): one-hot vectors of `inputs` features,
   * made on the GPU a batch at a time (a vocabulary of characters or bytes without its [n, steps, inputs] floats).
   */
  x: Float32Array | Int32Array;
  /**
   * Class targets (Int32Array, give `classes`): [n], one class per sequence, or [n, steps], a class per step.
   * Value targets (Float32Array, give `outputs`): [n, outputs] or [n, steps, outputs].
   * The length decides which; with steps = 1 both are the same length and it is read as one target per sequence.
   */
  y: Int32Array | Float32Array;
  /** [n], each in [1, steps]; default: every sequence is `steps` long. */
  lengths?: Int32Array;
  /** Time steps of every sequence (of the targets and lengths when `vector` is set). */
  steps: number;
  /** Input features per step (per sequence when `vector` is set). */
  inputs: number;
  /** Number of classes: required with Int32Array targets, which must lie in [0, classes). */
  classes?: number;
  /** Values per target: required with Float32Array targets. */
  outputs?: number;
  /** x holds one vector [inputs] per sequence instead of one per step (vector to sequence). Default false. */
  vector?: boolean;
  /** Named in error messages. Default 'sequences'. */
  name?: string;
}

export class SequenceDataset implements BatchSource {
  private gone = false;

  private constructor(
    private readonly device: GPUDevice,
    readonly name: string,
    readonly count: number,     // n: sequences
    readonly steps: number,
    readonly inputs: number,
    readonly vector: boolean,   // x is [count, inputs]: one vector per sequence
    readonly perStep: boolean,  // y has a target per step, not one per sequence
    readonly classes: number | undefined,  // class targets (i32) when set
    readonly outputs: number | undefined,  // value targets (f32) when set
    readonly oneHot: boolean,     // x holds token ids, one-hot over `inputs` in each batch
    readonly x: GPUBuffer,        // [count, steps, inputs] f32, or [count, inputs] when vector
    readonly y: GPUBuffer,        // classes: [count] or [count, steps] i32; values: [count, outputs] or [count, steps, outputs] f32
    readonly lengths: GPUBuffer,  // [count] i32, each in [1, steps]
    private readonly owned: BufferSet,
  ) {}

  /**
   * Checks the arrays (types, sizes, class range, lengths, finite values, the device's limits) and uploads them.
   * Every failure is an InputError naming the field, thrown before any buffer is made. Non-finite values are refused
   * everywhere, padding past a sequence's length included: a NaN in x times a zero gradient is still NaN in dWx.
   */
  static async fromArrays(device: GPUDevice, arrays: SequenceArrays): Promise<SequenceDataset> {
    checkDevice(device);
    const c = checkArrays(arrays);
    const { steps, inputs, n } = c;
    const xSteps = c.vector ? 1 : steps, ySteps = c.perStep ? steps : 1, width = c.outputs ?? 1;
    // lengths [n] (and a model's order [n]) are never larger than x.
    const oneHot = c.x instanceof Int32Array, perStep = oneHot ? 1 : inputs;
    checkDemands(device, 'x', `${shapeOf(c.vector)} = [${(c.vector ? [n, inputs] : [n, steps, inputs]).join(', ')}]`,
      [storage(`x ${shapeOf(c.vector)}`, n * xSteps * perStep)]);
    checkDemands(device, 'y', `${targetShape(c)} = [${targetDims(c, n).join(', ')}]`, [storage(`y ${targetShape(c)}`, n * ySteps * width)]);
    if (c.x instanceof Float32Array) checkFinite(c.x, c.vector ? [n, inputs] : [n, steps, inputs], 'x');
    if (c.y instanceof Float32Array) checkFinite(c.y, targetDims(c, n), 'y');

    const owned = new BufferSet(device, `dataset.${c.name}`);
    try {
      const b = await withErrorScopes(device, `data set ${c.name}`, () => ({
        x: owned.create('x', c.x.byteLength),
        y: owned.create('y', c.y.byteLength),
        lengths: owned.create('lengths', n * 4),
      }));
      device.queue.writeBuffer(b.x, 0, c.x);
      device.queue.writeBuffer(b.y, 0, c.y);
      device.queue.writeBuffer(b.lengths, 0, c.lengths ?? new Int32Array(n).fill(steps));
      return new SequenceDataset(device, c.name, n, steps, inputs, c.vector, c.perStep, c.classes, c.outputs, oneHot, b.x, b.y, b.lengths, owned);
    } catch (error) {
      owned.destroy();
      throw error;
    }
  }

  /** 'classes' (i32 targets, softmax cross-entropy) or 'values' (f32 targets, MSE). */
  get targets(): 'classes' | 'values' {
    return this.classes !== undefined ? 'classes' : 'values';
  }

  /** The time-major tensors one batch of `batchSize` fills: x [xSteps, B, inputs], y [ySteps, B, width], lengths [B]. */
  batchShape(batchSize: number): SequenceBatchShape {
    this.checkLive();
    return {
      batch: checkSize('batchSize', batchSize),
      xSteps: this.vector ? 1 : this.steps,
      inputs: this.inputs,
      ySteps: this.perStep ? this.steps : 1,
      width: this.outputs ?? 1,
    };
  }

  /**
   * The gather of batches of `batchSize`, compiled (once per shape and device). Bind it with bindGather, once, and
   * encode it with the dynamic offset of a batch slot: `program.encode(pass, group, [slot * 256])`.
   */
  async gather(batchSize: number): Promise<Program> {
    const shape = this.batchShape(batchSize);
    checkDemands(this.device, 'batchSize', batchSize, gatherSequencesDemands(this.device, shape));
    return gatherSequences(this.device, shape, this.oneHot);
  }

  /**
   * The bind group of `program` (from gather()) over this data set: `slots` is a uniform buffer of 256-byte slots whose
   * first u32 is a batch's start in `order` ([count] u32 sample indices); `out` holds the batch (see batchShape).
   */
  bindGather(program: Program, slots: GPUBuffer, order: GPUBuffer, out: { x: GPUBuffer; y: GPUBuffer; lengths: GPUBuffer }): GPUBindGroup {
    this.checkLive();
    return bindGatherSequences(program, slots, order, this, out);
  }

  /** Throws the InputError every use of a destroyed data set gets, naming `field`. */
  checkLive(field = 'data'): void {
    if (this.gone) throw destroyedData(field, this.name);
  }

  /** Whether destroy() was called: a destroyed data set is refused wherever it is passed. */
  get destroyed(): boolean {
    return this.gone;
  }

  destroy(): void {
    this.gone = true;
    this.owned.destroy();
  }
}

interface Checked {
  name: string;
  x: Float32Array | Int32Array;
  y: Int32Array | Float32Array;
  lengths: Int32Array | undefined;
  n: number;
  steps: number;
  inputs: number;
  vector: boolean;
  perStep: boolean;
  classes: number | undefined;
  outputs: number | undefined;
}

const shapeOf = (vector: boolean) => (vector ? '[n, inputs]' : '[n, steps, inputs]');

function targetShape(c: { perStep: boolean; outputs: number | undefined }): string {
  return `[n${c.perStep ? ', steps' : ''}${c.outputs !== undefined ? ', outputs' : ''}]`;
}

function targetDims(c: { perStep: boolean; outputs: number | undefined; steps: number }, n: number): number[] {
  return [n, ...(c.perStep ? [c.steps] : []), ...(c.outputs !== undefined ? [c.outputs] : [])];
}

/** Every check of fromArrays that needs no device and no scan of the values, in the order the fields are listed. */
function checkArrays(arrays: unknown): Checked {
  if (arrays === null || typeof arrays !== 'object') {
    throw new InputError('arrays', 'an object { x, y, lengths?, steps, inputs, classes? | outputs?, vector?, name? }', describe(arrays));
  }
  const a = arrays as Partial<Record<keyof SequenceArrays, unknown>>;
  const name = a.name ?? 'sequences';
  if (typeof name !== 'string' || name === '') throw new InputError('name', 'a non-empty string naming the data set', describe(name));
  const vector = a.vector ?? false;
  if (typeof vector !== 'boolean') throw new InputError('vector', 'true (x is [n, inputs]) or false (x is [n, steps, inputs])', describe(vector));
  const steps = checkSize('steps', a.steps);
  const inputs = checkSize('inputs', a.inputs);

  const x = a.x;
  const tokens = x instanceof Int32Array;
  const perSequence = (vector ? 1 : steps) * (tokens ? 1 : inputs);
  const xShape = tokens ? (vector ? '[n] (token ids)' : `[n, steps] = [n, ${steps}] (token ids)`)
    : vector ? `[n, inputs] = [n, ${inputs}]` : `[n, steps, inputs] = [n, ${steps}, ${inputs}]`;
  if (!(x instanceof Float32Array || tokens)) throw new InputError('x', `a Float32Array ${xShape}, or an Int32Array of token ids`, describe(x));
  if (x.length === 0 || x.length % perSequence !== 0) {
    const of = tokens ? (vector ? '1' : 'steps') : vector ? 'inputs' : 'steps * inputs';
    throw new InputError('x', `${xShape}: a length that is a positive multiple of ${of} = ${perSequence}`, `length ${x.length}`);
  }
  const n = x.length / perSequence;
  if (tokens) {
    for (let k = 0; k < x.length; k++) {
      const v = x[k]!;
      if (v < 0 || v >= inputs) throw new InputError(`x[${vector ? k : `${Math.floor(k / steps)}, ${k % steps}`}]`, `a token id in [0, inputs) = [0, ${inputs})`, String(v));
    }
  }

  const y = a.y;
  let perStep: boolean, classes: number | undefined, outputs: number | undefined;
  if (y instanceof Int32Array) {
    if (a.outputs !== undefined) throw new InputError('outputs', 'undefined with class targets (y is an Int32Array; classes sets the width)', describe(a.outputs));
    if (a.classes === undefined) throw new InputError('classes', 'a positive integer: the number of classes (y is an Int32Array of class targets)', 'undefined');
    classes = checkSize('classes', a.classes);
    if (y.length !== n && y.length !== n * steps) {
      throw new InputError('y', `an Int32Array [n] = [${n}] (a class per sequence) or [n, steps] = [${n}, ${steps}] (a class per step)`, `length ${y.length}`);
    }
    perStep = y.length !== n;
    for (let k = 0; k < y.length; k++) {
      const v = y[k]!;
      if (v < 0 || v >= classes) {
        const at = perStep ? `${Math.floor(k / steps)}, ${k % steps}` : String(k);
        throw new InputError(`y[${at}]`, `a class in [0, ${classes})`, String(v));
      }
    }
  } else if (y instanceof Float32Array) {
    if (a.classes !== undefined) throw new InputError('classes', 'undefined with value targets (y is a Float32Array; give outputs)', describe(a.classes));
    if (a.outputs === undefined) throw new InputError('outputs', 'a positive integer: values per target (y is a Float32Array of value targets)', 'undefined');
    outputs = checkSize('outputs', a.outputs);
    if (y.length !== n * outputs && y.length !== n * steps * outputs) {
      throw new InputError('y', `a Float32Array [n, outputs] = [${n}, ${outputs}] or [n, steps, outputs] = [${n}, ${steps}, ${outputs}]`, `length ${y.length}`);
    }
    perStep = y.length !== n * outputs;
  } else {
    throw new InputError('y', 'an Int32Array of classes ([n] or [n, steps]) or a Float32Array of values ([n, outputs] or [n, steps, outputs])', describe(y));
  }

  const lengths = a.lengths;
  if (lengths !== undefined) {
    if (!(lengths instanceof Int32Array)) throw new InputError('lengths', `an Int32Array [n] = [${n}] or undefined (every sequence ${steps} steps)`, describe(lengths));
    if (lengths.length !== n) throw new InputError('lengths', `[n] = [${n}] (one per sequence)`, `length ${lengths.length}`);
    lengths.forEach((l, i) => {
      if (l < 1 || l > steps) throw new InputError(`lengths[${i}]`, `a length in [1, steps] = [1, ${steps}]`, String(l));
    });
  }
  return { name, x, y, lengths, n, steps, inputs, vector, perStep, classes, outputs };
}

/** Throws an InputError naming the first NaN or ±Infinity in `values` by its index in `dims`, e.g. x[2, 0, 3]. */
export function checkFinite(values: Float32Array, dims: number[], field: string): void {
  for (let k = 0; k < values.length; k++) {
    if (Number.isFinite(values[k]!)) continue;
    const at: number[] = [];
    let rest = k;
    for (let d = dims.length - 1; d >= 0; d--) {
      at.unshift(rest % dims[d]!);
      rest = Math.floor(rest / dims[d]!);
    }
    throw new InputError(`${field}[${at.join(', ')}]`, 'a finite number', String(values[k]));
  }
}
