// A stack of layers on the GPU for one batch size: each layer reads the one below through a Port (where its output
// lives, time-major, and where the gradient of that output is to be written) and encodes its forward and backward
// dispatches into a pass of the caller's. What the layers compute is defined by src/reference/layers.ts; the tests
// hold the two together.
import { BufferSet, withErrorScopes } from '../gpu/buffers.js';
import type { Program } from '../gpu/shader.js';
import { carryState, fillZero } from '../kernels/layout.js';
import { colsum, colsumSplitK, matmul, matmulSplitK } from '../kernels/matmul.js';
import { maskSteps, repeatForward } from '../kernels/sequence.js';
import type { LayerPlan } from './config.js';
import { RnnSchedule } from '../scheduler.js';
import { cellOf } from '../cells/index.js';

type Encode = (pass: GPUComputePassEncoder) => void;

/** A layer's output as the layer above sees it. Offsets are in elements (kernels take them as offsets of their own). */
export interface Port {
  buffer: GPUBuffer;
  offset: number;
  rows: number;       // B for a vector per sequence, T * B for a sequence (time-major [T, B, features])
  features: number;
  sequence: boolean;
  /** Where the layer above (or the loss) writes dL/d(this output); absent where nothing below needs a gradient. */
  grad?: { buffer: GPUBuffer; offset: number };
}

/** The parameter and gradient slices of one named tensor ('layers.0.wx'). */
export type Slice = (which: 'params' | 'grads', name: string) => GPUBufferBinding;

interface Built {
  out: Port;
  forward: Encode[];
  backward: Encode[]; // run in reverse layer order
  schedule?: RnnSchedule;
  /** A stateful layer's hs [S, T+1, B, H]: resetStates clears it (its final state, carried into the next pass, then 0). */
  carried?: GPUBuffer;
}

const run = (p: Program, g: GPUBindGroup): Encode => (pass) => p.encode(pass, g);

export class Stack {
  private constructor(
    readonly output: Port,
    private readonly forwards: Encode[][],
    private readonly backwards: Encode[][],
    /** Each recurrent layer's schedule, by layer index (its hidden states, for inspection). */
    readonly recurrent: Array<{ layer: number; schedule: RnnSchedule }>,
    /** The state buffers of the stateful layers (config `stateful`), which a pass carries into the next. */
    private readonly carried: GPUBuffer[],
    private readonly owned: BufferSet,
  ) {}

  /**
   * The layers of `plan` over a batch of B sequences of T steps whose input is `x` (time-major [T, B, inputs], or
   * [B, inputs] before a first repeat layer) and whose lengths are `lengths` [B]. With `train`, gradients flow back
   * into the `grads` slices.
   */
  static async create(device: GPUDevice, layers: LayerPlan[], B: number, T: number, x: Port, lengths: GPUBuffer, slice: Slice, train: boolean): Promise<Stack> {
    const owned = new BufferSet(device, `stack.${B}`);
    const schedules: Array<{ layer: number; schedule: RnnSchedule }> = [];
    const carried: GPUBuffer[] = [];
    try {
      const forwards: Encode[][] = [], backwards: Encode[][] = [];
      let below = x;
      for (const layer of layers) {
        const name = (p: string) => `layers.${layer.index}.${p}`;
        const built = layer.layer.type === 'repeat' ? await repeatLayer(device, owned, below, B, T, lengths)
          : layer.layer.type === 'rnn' ? await rnnLayer(device, owned, below, B, T, layer.layer, lengths, slice, name, train)
          : await denseLayer(device, owned, below, B, T, layer.layer.units, lengths, slice, name, train);
        if (built.schedule) schedules.push({ layer: layer.index, schedule: built.schedule });
        if (built.carried) carried.push(built.carried);
        forwards.push(built.forward);
        backwards.push(built.backward);
        below = built.out;
      }
      return new Stack(below, forwards, backwards, schedules, carried, owned);
    } catch (error) {
      for (const s of schedules) s.schedule.destroy();
      owned.destroy();
      throw error;
    }
  }

  encodeForward(pass: GPUComputePassEncoder): void {
    for (const layer of this.forwards) for (const e of layer) e(pass);
  }

  /** After encodeForward and the loss's gradient in output.grad: every layer's gradients, top to bottom. */
  encodeBackward(pass: GPUComputePassEncoder): void {
    for (let i = this.backwards.length - 1; i >= 0; i--) for (const e of this.backwards[i]!) e(pass);
  }

  /** Whether any layer carries its state from one pass to the next. */
  get stateful(): boolean {
    return this.carried.length > 0;
  }

  /** Zeroes the carried states (outside a pass): the next pass of each stateful layer starts from h0 = 0 (c0 = 0). */
  encodeResetStates(encoder: GPUCommandEncoder): void {
    for (const hs of this.carried) encoder.clearBuffer(hs);
  }

  destroy(): void {
    for (const s of this.recurrent) s.schedule.destroy();
    this.owned.destroy();
  }
}

/** x [B, I] fed at every step: y [T, B, I], zero past each length. First layer only: nothing below needs dx. */
async function repeatLayer(device: GPUDevice, owned: BufferSet, below: Port, B: number, T: number, lengths: GPUBuffer): Promise<Built> {
  const I = below.features;
  const y = await withErrorScopes(device, 'repeat', () => owned.create('repeat.y', T * B * I * 4));
  const p = await repeatForward(device, { T, B, F: I });
  const out: Port = { buffer: y, offset: 0, rows: T * B, features: I, sequence: true };
  return { out, forward: [run(p, p.bind(lengths, { buffer: below.buffer }, y))], backward: [] };
}

/** A recurrence of the layer's cell over the sequence below (RnnSchedule), its outputs at every step or its last state going on. */
async function rnnLayer(device: GPUDevice, owned: BufferSet, below: Port, B: number, T: number, layer: { units: number; cell: string; returnSequences: boolean; resetAfter?: boolean; stateful?: boolean },
  lengths: GPUBuffer, slice: Slice, name: (p: string) => string, train: boolean): Promise<Built> {
  const I = below.features, H = layer.units, returnSequences = layer.returnSequences;
  if (below.offset !== 0 || (below.grad && below.grad.offset !== 0)) throw new Error(`${name('')}: a recurrent layer reads its input from the start of a buffer`);
  const dOut = train && returnSequences ? await withErrorScopes(device, 'rnn', () => owned.create(name('dOut'), T * B * H * 4)) : undefined;
  const shape = { batch: B, steps: T, inputs: I, units: H };
  const cell = cellOf(layer.cell, 'cell', layer);
  const bh = 'bh' in cell.params(I, H); // GRU with resetAfter: the recurrent side's bias, layers.K.bh
  const schedule = await RnnSchedule.create(device, shape, {
    x: { buffer: below.buffer }, wx: slice('params', name('wx')), wh: slice('params', name('wh')), b: slice('params', name('b')), lengths: { buffer: lengths },
    ...(bh ? { bh: slice('params', name('bh')) } : {}),
    grads: train ? { dwx: slice('grads', name('wx')), dwh: slice('grads', name('wh')), db: slice('grads', name('b')), ...(bh ? { dbh: slice('grads', name('bh')) } : {}) } : undefined,
    dOut: dOut && { buffer: dOut },
    dx: train && below.grad ? { buffer: below.grad.buffer } : undefined,
  }, cell);
  const views = RnnSchedule.views(shape);
  const out: Port = returnSequences
    ? { buffer: schedule.outputs, offset: 0, rows: T * B, features: H, sequence: true, grad: dOut && { buffer: dOut, offset: 0 } }
    : { buffer: schedule.hs, offset: views.lastState.offset, rows: B, features: H, sequence: false, grad: train ? { buffer: schedule.dh, offset: views.dState.offset } : undefined };
  const backward: Encode[] = [];
  if (train) {
    if (returnSequences) {
      // Only the outputs carry a gradient: the final state's is zero.
      const zero = await fillZero(device, B * H, views.dState.offset);
      backward.push(run(zero, zero.bind(schedule.dh)));
    }
    backward.push((pass) => schedule.encodeBackwardPass(pass));
  }
  const forward: Encode[] = [(pass) => schedule.encodeForwardPass(pass)];
  if (layer.stateful) {
    // hs[., 0] = hs[., T] before the pass. The first pass starts from zeros: the tuner's timing runs (create) may
    // have left values in hs, so it is cleared once here.
    const carry = await carryState(device, { S: cell.states, T, B, H });
    forward.unshift(run(carry, carry.bind(schedule.hs)));
    const encoder = device.createCommandEncoder({ label: 'rnn.resetStates' });
    encoder.clearBuffer(schedule.hs);
    device.queue.submit([encoder.finish()]);
  }
  return { out, forward, backward, schedule, ...(layer.stateful && { carried: schedule.hs }) };
}

/** y = x·W + b on the last state, or at every step (zero past each length); its backward: dW, db and dx below. */
async function denseLayer(device: GPUDevice, owned: BufferSet, below: Port, B: number, T: number, O: number, lengths: GPUBuffer,
  slice: Slice, name: (p: string) => string, train: boolean): Promise<Built> {
  const { rows, features: F, sequence } = below;
  const buffers = await withErrorScopes(device, 'dense', () => ({
    y: owned.create(name('y'), rows * O * 4),
    dy: train ? owned.create(name('dy'), rows * O * 4) : undefined,
  }));
  // At every step the weight and bias gradients are reductions over T * B rows: split-K, as the recurrent layer's are
  // (one long K per invocation left a GPU with a handful of workgroups: 9.7 ms a step at batch 1024 on an H100).
  const [forward, mask, dW, db, dX, dWsplit, dbSplit] = await Promise.all([
    matmul(device, { M: rows, N: O, K: F, bias: true, offsetA: below.offset }, name('forward')),
    sequence ? maskSteps(device, { T, B, F: O }) : undefined,
    train && !sequence ? matmul(device, { M: F, N: O, K: rows, transA: true, offsetA: below.offset }, name('dW')) : undefined,
    train && !sequence ? colsum(device, rows, O, false, name('db')) : undefined,
    train && below.grad ? matmul(device, { M: rows, N: F, K: O, transB: true, offsetC: below.grad.offset }, name('dx')) : undefined,
    train && sequence ? matmulSplitK(device, { M: F, N: O, K: rows }, 'dense.dW') : undefined,
    train && sequence ? colsumSplitK(device, rows, O, 'dense.db') : undefined,
  ]);
  const w = slice('params', name('w')), b = slice('params', name('b'));
  const fwd: Encode[] = [run(forward, forward.bind({ buffer: below.buffer }, w, buffers.y, b))];
  if (mask) fwd.push(run(mask, mask.bind(lengths, buffers.y)));
  const bwd: Encode[] = [];
  const dy = buffers.dy;
  if (dy) {
    if (mask) bwd.push(run(mask, mask.bind(lengths, dy)));
    if (dW && db) bwd.push(run(dW, dW.bind({ buffer: below.buffer }, dy, slice('grads', name('w')))), run(db, db.bind(dy, slice('grads', name('b')))));
    if (dWsplit && dbSplit) {
      const bytes = Math.max(dWsplit.scratchBytes, dbSplit.scratchBytes);
      const scratch = bytes > 0 ? owned.create(name('partials'), bytes) : undefined;
      bwd.push(dWsplit.bind([{ buffer: below.buffer }, { buffer: dy }], slice('grads', name('w')), scratch),
        dbSplit.bind([{ buffer: dy }], slice('grads', name('b')), scratch));
    }
    if (dX && below.grad) bwd.push(run(dX, dX.bind(dy, w, below.grad.buffer)));
  }
  const out: Port = { buffer: buffers.y, offset: 0, rows, features: O, sequence, grad: dy && { buffer: dy, offset: 0 } };
  return { out, forward: fwd, backward: bwd };
}
