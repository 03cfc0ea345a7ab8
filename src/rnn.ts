// The functional API: rnnForward / rnnBackward on plain typed arrays. Each call uploads, records the unrolled
// RNN with a cached RnnSchedule for its shape, runs it on the GPU and reads back the results.
import { InputError } from './errors.js';
import { BufferSet, readFloats, withErrorScopes } from './gpu/buffers.js';
import type { Program } from './gpu/shader.js';
import { swap01 } from './kernels/layout.js';
import { Serial } from './serial.js';
import { RnnSchedule, type RnnShape } from './scheduler.js';
import { checkArray, checkDevice, checkFits, checkSize } from './validate.js';

export interface RnnParams {
  x: Float32Array;        // [batch, steps, inputs]
  wx: Float32Array;       // [inputs, units]
  wh: Float32Array;       // [units, units]
  b: Float32Array;        // [units]
  h0?: Float32Array;      // [batch, units], zeros when omitted
  lengths?: Int32Array;   // [batch], each in [0, steps]; all = steps when omitted
  batch: number;
  steps: number;
  inputs: number;
  units: number;
}

export interface RnnForwardResult {
  outputs: Float32Array;  // [batch, steps, units], zero where t >= lengths[i]
  state: Float32Array;    // [batch, units], h at t = lengths[i]-1, h0 when lengths[i] = 0
}

export interface RnnGradients {
  dOutputs?: Float32Array; // [batch, steps, units]
  dState?: Float32Array;   // [batch, units]
}

export interface RnnBackwardResult {
  dx: Float32Array;  // [batch, steps, inputs]
  dwx: Float32Array; // [inputs, units]
  dwh: Float32Array; // [units, units]
  db: Float32Array;  // [units]
  dh0: Float32Array; // [batch, units]
}

/** Runs the RNN forward on the GPU. */
export async function rnnForward(device: GPUDevice, p: RnnParams): Promise<RnnForwardResult> {
  const shape = validateParams(device, p);
  const plan = await planFor(device, shape);
  return plan.exclusive(async () => {
    plan.upload(p);
    const encoder = device.createCommandEncoder({ label: 'rnnForward' });
    plan.encodeForward(encoder);
    device.queue.submit([encoder.finish()]);
    const { batch: B, steps: T, units: H } = shape;
    const [outputs, state] = await Promise.all([
      readFloats(device, plan.io.outputsBatchMajor, 0, B * T * H),
      readFloats(device, plan.schedule.hs, plan.schedule.view('lastState').offset * 4, B * H),
    ]);
    return { outputs, state };
  });
}

/**
 * Gradients of sum(dOutputs * outputs) + sum(dState * state) with respect to every input, by backpropagation
 * through time on the GPU (the forward pass is recomputed in the same submission).
 */
export async function rnnBackward(device: GPUDevice, p: RnnParams, g: RnnGradients = {}): Promise<RnnBackwardResult> {
  const shape = validateParams(device, p);
  const { batch: B, steps: T, inputs: I, units: H } = shape;
  if (g === null || typeof g !== 'object') throw new InputError('gradients', 'an object { dOutputs?, dState? }', String(g));
  if (g.dOutputs !== undefined) checkArray('dOutputs', g.dOutputs, Float32Array, B * T * H, '[batch, steps, units]');
  if (g.dState !== undefined) checkArray('dState', g.dState, Float32Array, B * H, '[batch, units]');
  const plan = await planFor(device, shape);
  return plan.exclusive(async () => {
    plan.upload(p);
    const encoder = device.createCommandEncoder({ label: 'rnnBackward' });
    plan.encodeForward(encoder);
    plan.encodeBackward(encoder, g);
    device.queue.submit([encoder.finish()]);
    const [dx, dwx, dwh, db, dh0] = await Promise.all([
      readFloats(device, plan.io.dxBatchMajor, 0, B * T * I),
      readFloats(device, plan.io.dwx, 0, I * H),
      readFloats(device, plan.io.dwh, 0, H * H),
      readFloats(device, plan.io.db, 0, H),
      readFloats(device, plan.schedule.dh, plan.schedule.view('dInitialState').offset * 4, B * H),
    ]);
    return { dx, dwx, dwh, db, dh0 };
  });
}

function validateParams(device: GPUDevice, p: RnnParams): RnnShape {
  checkDevice(device);
  if (p === null || typeof p !== 'object') throw new InputError('params', 'an object { x, wx, wh, b, batch, steps, inputs, units }', String(p));
  const B = checkSize('batch', p.batch);
  const T = checkSize('steps', p.steps);
  const I = checkSize('inputs', p.inputs);
  const H = checkSize('units', p.units);
  // Limits first: arrays that large could not be made anyway.
  checkFits(device, 'x', B * T * I, '[batch, steps, inputs]');
  checkFits(device, 'wx', I * H, '[inputs, units]');
  checkFits(device, 'wh', H * H, '[units, units]');
  checkFits(device, 'hidden states', (T + 1) * B * H, '[steps + 1, batch, units]');
  const maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
  if (Math.ceil((T * B) / 32) > maxGroups) {
    throw new InputError('batch * steps', `at most ${maxGroups * 32} rows (the device's workgroup count limit)`, String(T * B));
  }
  checkArray('x', p.x, Float32Array, B * T * I, '[batch, steps, inputs]');
  checkArray('wx', p.wx, Float32Array, I * H, '[inputs, units]');
  checkArray('wh', p.wh, Float32Array, H * H, '[units, units]');
  checkArray('b', p.b, Float32Array, H, '[units]');
  if (p.h0 !== undefined) checkArray('h0', p.h0, Float32Array, B * H, '[batch, units]');
  if (p.lengths !== undefined) {
    checkArray('lengths', p.lengths, Int32Array, B, '[batch]');
    p.lengths.forEach((len, i) => {
      if (len < 0 || len > T) throw new InputError(`lengths[${i}]`, `a value in [0, ${T}] (steps)`, String(len));
    });
  }
  return { batch: B, steps: T, inputs: I, units: H };
}

/** Everything one shape needs: the schedule, the device-side copies of the inputs and the layout converters. */
class FunctionalPlan {
  private readonly serial = new Serial();
  private constructor(
    readonly device: GPUDevice,
    readonly shape: RnnShape,
    readonly owned: BufferSet,
    readonly io: Record<'xBatchMajor' | 'x' | 'wx' | 'wh' | 'b' | 'h0' | 'lengths' | 'outputsBatchMajor' | 'dOutBatchMajor' | 'dOut' | 'dState' | 'dx' | 'dxBatchMajor' | 'dwx' | 'dwh' | 'db', GPUBuffer>,
    readonly schedule: RnnSchedule,
    /** The API edge: its arrays are batch-major, everything inside is time-major. */
    private readonly convert: Record<'x' | 'outputs' | 'dOut' | 'dx', [Program, GPUBindGroup]>,
  ) {}

  static async create(device: GPUDevice, shape: RnnShape): Promise<FunctionalPlan> {
    const { batch: B, steps: T, inputs: I, units: H } = shape;
    const owned = new BufferSet(device, 'rnnFunctional');
    try {
      const io = await withErrorScopes(device, 'rnn buffers', () => ({
        xBatchMajor: owned.create('xBatchMajor', B * T * I * 4),
        x: owned.create('x', T * B * I * 4),
        wx: owned.create('wx', I * H * 4),
        wh: owned.create('wh', H * H * 4),
        b: owned.create('b', H * 4),
        h0: owned.create('h0', B * H * 4),
        lengths: owned.create('lengths', B * 4),
        outputsBatchMajor: owned.create('outputsBatchMajor', B * T * H * 4),
        dOutBatchMajor: owned.create('dOutBatchMajor', B * T * H * 4),
        dOut: owned.create('dOut', T * B * H * 4),
        dState: owned.create('dState', B * H * 4),
        dx: owned.create('dx', T * B * I * 4),
        dxBatchMajor: owned.create('dxBatchMajor', B * T * I * 4),
        dwx: owned.create('dwx', I * H * 4),
        dwh: owned.create('dwh', H * H * 4),
        db: owned.create('db', H * 4),
      }));
      const bind = (buffer: GPUBuffer) => ({ buffer });
      const [schedule, xToTime, dxToBatch, outputsToBatch, dOutToTime] = await Promise.all([
        RnnSchedule.create(device, shape, {
          x: bind(io.x), wx: bind(io.wx), wh: bind(io.wh), b: bind(io.b), lengths: bind(io.lengths),
          grads: { dwx: bind(io.dwx), dwh: bind(io.dwh), db: bind(io.db) }, dOut: bind(io.dOut), dx: bind(io.dx),
        }),
        swap01(device, B, T, I),
        swap01(device, T, B, I),
        swap01(device, T, B, H),
        swap01(device, B, T, H),
      ]);
      return new FunctionalPlan(device, shape, owned, io, schedule, {
        x: [xToTime, xToTime.bind(io.xBatchMajor, io.x)],
        dx: [dxToBatch, dxToBatch.bind(io.dx, io.dxBatchMajor)],
        outputs: [outputsToBatch, outputsToBatch.bind(schedule.outputs, io.outputsBatchMajor)],
        dOut: [dOutToTime, dOutToTime.bind(io.dOutBatchMajor, io.dOut)],
      });
    } catch (error) {
      owned.destroy();
      throw error;
    }
  }

  /** Calls on one plan share its buffers: run them one after another (serial.ts). */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.serial.run(work);
  }

  upload(p: RnnParams): void {
    const q = this.device.queue;
    const { batch: B, steps: T } = this.shape;
    q.writeBuffer(this.io.xBatchMajor, 0, p.x);
    q.writeBuffer(this.io.wx, 0, p.wx);
    q.writeBuffer(this.io.wh, 0, p.wh);
    q.writeBuffer(this.io.b, 0, p.b);
    q.writeBuffer(this.io.lengths, 0, p.lengths ?? new Int32Array(B).fill(T));
    q.writeBuffer(this.io.h0, 0, p.h0 ?? new Float32Array(B * this.shape.units));
  }

  encodeForward(encoder: GPUCommandEncoder): void {
    this.dispatch(encoder, 'rnn.xToTimeMajor', this.convert.x);
    this.schedule.encodeForward(encoder, { buffer: this.io.h0 });
    this.dispatch(encoder, 'rnn.outputsToBatchMajor', this.convert.outputs);
  }

  encodeBackward(encoder: GPUCommandEncoder, g: RnnGradients): void {
    const q = this.device.queue;
    if (g.dOutputs) {
      q.writeBuffer(this.io.dOutBatchMajor, 0, g.dOutputs);
      this.dispatch(encoder, 'rnn.dOutToTimeMajor', this.convert.dOut);
    } else {
      encoder.clearBuffer(this.io.dOut);
    }
    if (g.dState) q.writeBuffer(this.io.dState, 0, g.dState);
    this.schedule.encodeBackward(encoder, g.dState ? { buffer: this.io.dState } : undefined);
    this.dispatch(encoder, 'rnn.dxToBatchMajor', this.convert.dx);
  }

  private dispatch(encoder: GPUCommandEncoder, label: string, [p, g]: [Program, GPUBindGroup]): void {
    const pass = encoder.beginComputePass({ label });
    p.encode(pass, g);
    pass.end();
  }

  destroy(): void {
    this.schedule.destroy();
    this.owned.destroy();
  }
}

// A few plans per device, least recently used first out, so alternating shapes do not rebuild pipelines.
const MAX_PLANS = 4;
const plans = new WeakMap<GPUDevice, Map<string, Promise<FunctionalPlan>>>();

function planFor(device: GPUDevice, shape: RnnShape): Promise<FunctionalPlan> {
  let cache = plans.get(device);
  if (!cache) plans.set(device, (cache = new Map()));
  const key = `${shape.batch}x${shape.steps}x${shape.inputs}x${shape.units}`;
  let plan = cache.get(key);
  if (plan) {
    cache.delete(key);
  } else {
    plan = FunctionalPlan.create(device, shape);
    plan.catch(() => cache!.delete(key));
  }
  cache.set(key, plan);
  while (cache.size > MAX_PLANS) {
    const [oldest, evicted] = cache.entries().next().value!;
    cache.delete(oldest);
    evicted.then((p) => p.exclusive(async () => p.destroy()), () => undefined);
  }
  return plan;
}

/** Frees the GPU buffers that rnnForward / rnnBackward keep for `device` between calls. */
export async function releaseRnnCache(device: GPUDevice): Promise<void> {
  const cache = plans.get(device);
  if (!cache) return;
  plans.delete(device);
  await Promise.all([...cache.values()].map((p) => p.then((plan) => plan.exclusive(async () => plan.destroy()), () => undefined)));
}
