// Records the unrolled recurrence of a cell (cells/: tanh by default) into command buffers: the input projection for
// all steps as one matmul, the T forward steps (one dispatch each, or all in one fused dispatch), the T backward steps
// in reverse, then the weight and bias gradients as reductions over all T*B rows, each cut into K-slices whose partial
// sums are then added (split-K, kernels/matmul.ts). Everything is built once per shape and cell; encoding allocates
// nothing and reads nothing back. The schedule knows the cell only as data (its gate and state counts, its WGSL):
// one-gate, one-state cells (tanh) run shaders/recurrence.wgsl or recurrence_fused.wgsl, multi-gate cells (LSTM, GRU)
// shaders/recurrence_gates.wgsl or recurrence_gates_fused.wgsl; GRU with resetAfter false (gated) per step only, two
// dispatches a step each way. Which variant runs is the tuner's choice (tune.ts chooseRecurrence) where the fused one
// fits the device (fusedFits, gatesFusedFits); both leave the same buffers, so the reductions after them are shared.
//
// Layouts (T steps, B batch, I inputs, H units, G gate blocks and S states of the cell), time-major inside:
//   x [T, B, I]   xw [T, B, G·H] (multi-gate cells when training: [2, T, B, G·H], zx then the saved zh)
//   hs [S, T+1, B, H] (hs[0] = h: h0, ..., the final state; LSTM's c after it)   outputs [T, B, H]
//   dz [T, B, G·H] (dL/dzh; dL/dzx too unless the cell's dzxApart, then dzx [T, B, G·H])
//   dh [2, B, H] (ping-pong; multi-gate cells [2S+1, B, H], see recurrence_gates.wgsl)   dx [T, B, I]
import type { Cell } from './cells/cell.js';
import { tanh } from './cells/tanh.js';
import { BufferSet } from './gpu/buffers.js';
import type { Program } from './gpu/shader.js';
import { dispatch, storage, type Demand } from './gpu/limits.js';
import { grid1d } from './gpu/shader.js';
import { colsumSplitK, colsumSplitKDemands, matmul, matmulDemand, matmulSplitK, splitKDemands } from './kernels/matmul.js';
import { copyColumns, swap01 } from './kernels/layout.js';
import {
  backwardFused, backwardGated, backwardGates, backwardGatesFused, backwardGatesSeed, backwardSeed, backwardStep, forwardFused, forwardGated,
  forwardGates, forwardGatesFused, forwardStep, fusedFits, gateKernelsRun, gatesFusedFits, gateStepDemand, seedWorkgroups, stepDemand,
} from './kernels/recurrence.js';
import { chooseRecurrence, timeKernel, type Recurrence as RecurrenceKind } from './tune.js';

export interface RnnShape {
  batch: number;
  steps: number;
  inputs: number;
  units: number;
}

/** Buffers the schedule reads or writes but does not own (so a model can carve them from one flat buffer). */
export interface RnnBindings {
  x: GPUBufferBinding;       // [T, B, I] time-major
  wx: GPUBufferBinding;      // [I, G·H] (cell.params)
  wh: GPUBufferBinding;      // [H, G·H]
  b: GPUBufferBinding;       // [G·H]
  /** The recurrent side's bias [G·H], for a cell whose params have one (GRU with resetAfter): required there. */
  bh?: GPUBufferBinding;
  lengths: GPUBufferBinding; // [B] i32, each in [0, T]
  /** Where backward writes the weight gradients; without them the schedule is forward-only. */
  grads?: {
    dwx: GPUBufferBinding;   // [I, G·H]
    dwh: GPUBufferBinding;   // [H, G·H]
    db: GPUBufferBinding;    // [G·H]
    dbh?: GPUBufferBinding;  // [G·H], with bh
  };
  /** Gradient of the outputs [T, B, H] (time-major); without it only the final state carries a gradient. */
  dOut?: GPUBufferBinding;
  /** Where to write dx [T, B, I]; without it dx is not computed. */
  dx?: GPUBufferBinding;
}

type Encode = (pass: GPUComputePassEncoder) => void;

/** One part of the schedule, encodable alone: what `npm run bench -- --profile` times. */
export interface Phase {
  name: string;
  /** Floating-point operations of one run (a multiply-add counts 2). */
  flops: number;
  encode: Encode;
}

/** The recurrence in one of its variants: how to encode its forward and backward steps. */
interface Recurrence {
  forward: Encode;
  backward?: Encode;
}

/** Whether `cell` runs the multi-gate kernels (recurrence_gates.wgsl) rather than the one-gate ones. */
function multiGate(cell: Cell): boolean {
  return cell.gates !== 1 || cell.states !== 1;
}

/**
 * Refuses, before anything is allocated, a cell no kernel runs: one of more than 4 gate blocks or 2 states, or a
 * gated cell not shaped as GRU with resetAfter false. Also a cell with a recurrent bias whose bindings lack it.
 */
function checkCell(cell: Cell, shape: RnnShape, io: RnnBindings): void {
  if (cell.gatedFrom !== undefined && !gateKernelsRun(cell)) {
    throw new Error(`RnnSchedule: cell '${cell.name}' multiplies u instead of h from gate block ${cell.gatedFrom} on; the gated kernels ` +
      'run only GRU with resetAfter: false (3 blocks, gatedFrom 2, one state)');
  }
  if (multiGate(cell) && !gateKernelsRun(cell)) {
    throw new Error(`RnnSchedule: cell '${cell.name}' has ${cell.gates} gate blocks and ${cell.states} state vectors; ` +
      'the recurrence kernels run cells of up to 4 gate blocks and 2 states');
  }
  if (cell.params(shape.inputs, shape.units).bh && (!io.bh || (io.grads && !io.grads.dbh))) {
    throw new Error(`RnnSchedule: cell '${cell.name}' has a recurrent bias: bind bh (and grads.dbh when training)`);
  }
}

/**
 * The per-step recurrence of one kernel a step each way: forward t = 0 .. T-1, then backward a seed dispatch and
 * t = T-1 .. 0, each step selecting its uniform slot (`stride` bytes apart) by a dynamic offset.
 */
function stepLoops(T: number, stride: number, forward: [Program, GPUBindGroup],
  backward?: [step: [Program, GPUBindGroup], seed: [Program, GPUBindGroup]]): Recurrence {
  const [fwd, fwdGroup] = forward;
  return {
    forward: (pass) => { for (let t = 0; t < T; t++) fwd.encode(pass, fwdGroup, [t * stride]); },
    backward: backward && ((pass) => {
      const [[bwd, bwdGroup], [seed, seedGroup]] = backward;
      seed.encode(pass, seedGroup, [0]);
      for (let t = T - 1; t >= 0; t--) bwd.encode(pass, bwdGroup, [t * stride]);
    }),
  };
}

export class RnnSchedule {
  private constructor(
    readonly shape: RnnShape,
    /** The cell every step runs (cells/). */
    readonly cell: Cell,
    private readonly owned: BufferSet,
    readonly hs: GPUBuffer,      // [S, T+1, B, H]: h, then (LSTM) c
    readonly outputs: GPUBuffer, // [T, B, H], zero where t >= length
    readonly dh: GPUBuffer,      // [2, B, H] (multi-gate cells: [2S+1, B, H])
    /** 'per-step' or 'fused': how the recurrence is dispatched (see tune.ts). */
    readonly recurrence: RecurrenceKind,
    private readonly projection: [Program, GPUBindGroup],
    private readonly steps: Recurrence,
    private readonly transposeWh: [Program, GPUBindGroup] | undefined,
    private readonly gradients: Phase[],
  ) {}

  /** Builds every pipeline and buffer for `shape` and `cell`: tanh when omitted. */
  static async create(device: GPUDevice, shape: RnnShape, io: RnnBindings, cell: Cell = tanh): Promise<RnnSchedule> {
    checkCell(cell, shape, io);
    const { batch: B, steps: T, inputs: I, units: H } = shape;
    const N = cell.gates * H; // the width of the recurrent product z and of xw, dz, Wx, Wh and b
    const S = cell.states, multi = multiGate(cell), gated = cell.gatedFrom !== undefined;
    const grads = io.grads;
    const bh = cell.params(I, H).bh ? io.bh : undefined; // checkCell: present where the cell has it
    const owned = new BufferSet(device, 'rnn');
    try {
      // A multi-gate cell's forward steps keep zh for backward after xw when training (a gated cell always: its second
      // dispatch reads what the first kept); a gated cell's u = r⊙h_{t-1} [T, B, H] in us.
      const xw = owned.create('xw', (multi && (grads || gated) ? 2 : 1) * T * B * N * 4);
      const us = gated ? owned.create('us', T * B * H * 4) : undefined;
      const hs = owned.create('hs', S * (T + 1) * B * H * 4);
      const outputs = owned.create('outputs', B * T * H * 4);
      const dz = owned.create('dz', T * B * N * 4);
      const dzx = grads && cell.dzxApart ? owned.create('dzx', T * B * N * 4) : dz; // what Wx and b see
      const dh = owned.create('dh', (multi ? 2 * S + 1 : 2) * B * H * 4);
      const [projection, transpose, dWx, dWh, dB, dX] = await Promise.all([
        matmul(device, { M: T * B, N, K: I, bias: true }, 'rnn.inputProjection'),
        grads && swap01(device, H, N, 1),
        grads && matmulSplitK(device, { M: I, N, K: T * B }, 'rnn.dWx'),
        grads && matmulSplitK(device, { M: H, N, K: T * B }, 'rnn.dWh'),
        grads && colsumSplitK(device, T * B, N, 'rnn.db'),
        grads && io.dx ? matmul(device, { M: T * B, N: I, K: N, transB: true }, 'rnn.dx') : undefined,
      ]);
      const gradients: Phase[] = [];
      if (grads && dWx && dWh && dB) {
        // The reductions run one after another, so they share one scratch buffer for their partial sums. dbh is
        // db's reduction over dz instead of dzx (the same pipeline).
        const bytes = Math.max(dWx.scratchBytes, dWh.scratchBytes, dB.scratchBytes);
        const scratch = bytes > 0 ? owned.create('partials', bytes) : undefined;
        // A gated cell's late blocks of dWh are u^T·dz, not h^T·dz: a second product over all N columns into late
        // [H, N], whose late columns are copied over (the early third is computed and dropped: simple, not lean).
        const late = gated && us ? owned.create('dWh late', H * N * 4) : undefined;
        const copy = late ? await copyColumns(device, H, N, cell.gatedFrom! * H) : undefined;
        const dWhLate = late && copy && us ? dWh.bind([{ buffer: us }, { buffer: dz }], { buffer: late }, scratch) : undefined;
        const copyGroup = late && copy ? copy.bind(late, grads.dwh) : undefined;
        const dWhEncode = dWh.bind([{ buffer: hs }, { buffer: dz }], grads.dwh, scratch);
        gradients.push(
          { name: 'dWx', flops: 2 * T * B * I * N, encode: dWx.bind([io.x, { buffer: dzx }], grads.dwx, scratch) },
          { name: 'dWh', flops: (late ? 4 : 2) * T * B * H * N, encode: dWhLate && copy && copyGroup
            ? (pass) => { dWhEncode(pass); dWhLate(pass); copy.encode(pass, copyGroup); } : dWhEncode },
          { name: 'db', flops: T * B * N, encode: dB.bind([{ buffer: dzx }], grads.db, scratch) });
        if (bh && grads.dbh) gradients.push({ name: 'dbh', flops: T * B * N, encode: dB.bind([{ buffer: dz }], grads.dbh, scratch) });
      }
      if (dX && io.dx) {
        const group = dX.bind({ buffer: dzx }, io.wx, io.dx);
        gradients.push({ name: 'dx', flops: 2 * T * B * N * I, encode: (pass) => dX.encode(pass, group) });
      }

      // Both variants of the recurrence read and write the same buffers; Without dOut the backward kernels ignore
      // that binding, and hs is a harmless read-only stand-in for it. The backward kernels read Wh transposed, so
      // that neighbouring lanes read neighbouring weights.
      const s = { steps: T, batch: B, units: H };
      const dOut = io.dOut ?? { buffer: hs };
      const whT = grads && owned.create('whT', H * N * 4); // Wh transposed [G·H, H], for the backward kernels
      const perStep = async (): Promise<Recurrence> => {
        // One uniform slot per step, selected by a dynamic offset, so the unrolled loop creates no objects.
        const stride = Math.max(256, device.limits.minUniformBufferOffsetAlignment);
        const slots = owned.create('steps', T * stride, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
        const values = new Uint32Array((T * stride) / 4);
        for (let t = 0; t < T; t++) values[(t * stride) / 4] = t;
        device.queue.writeBuffer(slots, 0, values);
        const step = { buffer: slots, size: 16 };
        if (multi) return gateSteps(step, stride);
        const [fwd, bwd, seed] = await Promise.all([forwardStep(device, s, cell), grads && backwardStep(device, s, cell, !!io.dOut),
          grads && backwardSeed(device, s, cell, !!io.dOut)]);
        const fwdGroup = fwd.bind(step, io.wh, io.lengths, { buffer: xw }, { buffer: hs }, { buffer: outputs });
        const bwdBuffers = whT && [step, { buffer: whT }, io.lengths, { buffer: hs }, dOut, { buffer: dh }, { buffer: dz }];
        return stepLoops(T, stride, [fwd, fwdGroup], bwd && bwdBuffers && seed && [[bwd, bwd.bind(...bwdBuffers)], [seed, seed.bind(...bwdBuffers)]]);
      };
      // Multi-gate cells: the same loops over the gate kernels, which also read xw's saved zh and write dzx.
      const gateSteps = async (step: GPUBufferBinding, stride: number): Promise<Recurrence> => {
        if (gated) return gatedSteps(step, stride);
        const [fwd, bwd, seed] = await Promise.all([forwardGates(device, s, cell, { save: !!grads, bh: !!bh }),
          grads && backwardGates(device, s, cell, !!io.dOut), grads && backwardGatesSeed(device, s, cell, !!io.dOut)]);
        const fwdGroup = fwd.bind(step, io.wh, io.lengths, bh ?? io.wh, { buffer: xw }, { buffer: hs }, { buffer: outputs });
        const bwdBuffers = whT && [step, { buffer: whT }, io.lengths, { buffer: hs }, dOut, { buffer: xw }, { buffer: dh }, { buffer: dz },
          ...(cell.dzxApart ? [{ buffer: dzx }] : [])];
        return stepLoops(T, stride, [fwd, fwdGroup], bwd && bwdBuffers && seed && [[bwd, bwd.bind(...bwdBuffers)], [seed, seed.bind(...bwdBuffers)]]);
      };
      // A gated cell (GRU with resetAfter false): two dispatches a step each way (recurrence_gates.wgsl).
      const gatedSteps = async (step: GPUBufferBinding, stride: number): Promise<Recurrence> => {
        const [[early, late], bwd, seed] = await Promise.all([forwardGated(device, s, cell),
          grads && backwardGated(device, s, cell, !!io.dOut), grads && backwardGatesSeed(device, s, cell, !!io.dOut)]);
        const fwdBuffers = [step, io.wh, io.lengths, io.wh, { buffer: xw }, { buffer: hs }, { buffer: outputs }, { buffer: us! }];
        const [earlyGroup, lateGroup] = [early.bind(...fwdBuffers), late.bind(...fwdBuffers)];
        const bwdBuffers = whT && [step, { buffer: whT }, io.lengths, { buffer: hs }, dOut, { buffer: xw }, { buffer: dh }, { buffer: dz }];
        const bwdGroups = bwd && bwdBuffers && bwd.map((p) => p.bind(...bwdBuffers));
        const seedGroup = seed && bwdBuffers && seed.bind(...bwdBuffers);
        return {
          forward: (pass) => {
            for (let t = 0; t < T; t++) {
              early.encode(pass, earlyGroup, [t * stride]);
              late.encode(pass, lateGroup, [t * stride]);
            }
          },
          backward: bwd && bwdGroups && seed && seedGroup && ((pass) => {
            seed.encode(pass, seedGroup, [0]);
            for (let t = T - 1; t >= 0; t--) bwd.forEach((p, i) => p.encode(pass, bwdGroups[i]!, [t * stride]));
          }),
        };
      };
      const fused = async (): Promise<Recurrence> => {
        if (multi) return gatesFused();
        const [fwd, bwd] = await Promise.all([forwardFused(device, s, cell), grads && backwardFused(device, s, cell, !!io.dOut)]);
        const fwdGroup = fwd.bind(io.wh, io.lengths, { buffer: xw }, { buffer: hs }, { buffer: outputs });
        const bwdGroup = bwd && whT && bwd.bind({ buffer: whT }, io.lengths, { buffer: hs }, dOut, { buffer: dh }, { buffer: dz });
        return { forward: (pass) => fwd.encode(pass, fwdGroup), backward: bwd && bwdGroup && ((pass) => bwd.encode(pass, bwdGroup)) };
      };
      // LSTM, GRU reset-after: the gate kernels' bindings without the step uniform, one dispatch each way (no seed).
      const gatesFused = async (): Promise<Recurrence> => {
        const [fwd, bwd] = await Promise.all([forwardGatesFused(device, s, cell, { save: !!grads, bh: !!bh }),
          grads && backwardGatesFused(device, s, cell, !!io.dOut)]);
        const fwdGroup = fwd.bind(io.wh, io.lengths, bh ?? io.wh, { buffer: xw }, { buffer: hs }, { buffer: outputs });
        const bwdGroup = bwd && whT && bwd.bind({ buffer: whT }, io.lengths, { buffer: hs }, dOut, { buffer: xw }, { buffer: dh }, { buffer: dz },
          ...(cell.dzxApart ? [{ buffer: dzx }] : []));
        return { forward: (pass) => fwd.encode(pass, fwdGroup), backward: bwd && bwdGroup && ((pass) => bwd.encode(pass, bwdGroup)) };
      };
      // The per-step variant is built first: its kernels pick their own tiles, which must not wait inside the
      // recurrence's measurement.
      const variants: Record<RecurrenceKind, Promise<Recurrence> | undefined> = { 'per-step': perStep(), fused: undefined };
      await variants['per-step'];
      const build = (kind: RecurrenceKind) => (variants[kind] ??= fused());
      const kind = await chooseRecurrence(device, `rnn.recurrence ${cell.name} ${B}x${H}x${T}${grads ? ' +backward' : ''}`, async (k) => {
        const r = await build(k);
        return timeKernel(device, (pass) => { r.forward(pass); r.backward?.(pass); });
      }, multi ? gatesFusedFits(device, s, cell, !!grads) : fusedFits(device, s)); // false for a gated cell: per step only
      return new RnnSchedule(shape, cell, owned, hs, outputs, dh, kind,
        [projection, projection.bind(io.x, io.wx, { buffer: xw }, io.b)],
        await build(kind),
        transpose && whT && [transpose, transpose.bind(io.wh, { buffer: whT })],
        gradients);
    } catch (error) {
      owned.destroy();
      throw error;
    }
  }

  /**
   * What create() asks of a device for `shape`, with (`training`) or without the backward pass: every storage buffer
   * it binds and every dispatch, in the variants with the most workgroups, for `cell` (tanh when omitted: its gate
   * blocks widen the product). Checked (gpu/limits.ts) before create().
   */
  static demands(device: GPUDevice, shape: RnnShape, training: boolean, cell: Cell = tanh): Demand[] {
    const { batch: B, steps: T, inputs: I, units: H } = shape;
    const N = cell.gates * H, S = cell.states, multi = multiGate(cell);
    const s = { steps: T, batch: B, units: H };
    const list: Demand[] = [
      storage(`hs [${S > 1 ? `${S} states, ` : ''}steps + 1, batch, units]`, S * (T + 1) * B * H), // outputs [T, B, H]: smaller; xw and dz too when G = 1
      storage(`dh [${multi ? 2 * S + 1 : 2}, batch, units]`, (multi ? 2 * S + 1 : 2) * B * H),
      matmulDemand('rnn.inputProjection', { M: T * B, N, K: I, bias: true }),
      multi ? gateStepDemand('rnn.forwardGates', s) : stepDemand('rnn.forwardStep', s),
    ];
    const keep = multi && (training || cell.gatedFrom !== undefined); // zh kept after xw
    if (cell.gates > 1) list.push(storage(`xw${keep ? ' and zh [2, ' : ', dz ['}steps, batch, gates * units]`, (keep ? 2 : 1) * T * B * N));
    if (training) {
      list.push(storage('whT [gates * units, units]', H * N),
        dispatch('swap01 (Wh transposed)', grid1d(H * N, 256, device.limits.maxComputeWorkgroupsPerDimension)),
        dispatch('rnn.backwardSeed', seedWorkgroups(device, s)),
        ...splitKDemands('rnn.dWx', I, N, T * B), ...splitKDemands('rnn.dWh', H, N, T * B), ...colsumSplitKDemands('rnn.db', T * B, N));
    }
    return list;
  }

  /**
   * Where each tensor a layer above or below reads or writes lives, by name: element offsets into the schedule's
   * buffers (element, not byte, offsets: a view need not start on a binding's 256-byte alignment, so kernels take
   * them as an offset of their own, e.g. matmul's offsetA). Known from the shape alone, before the buffers exist.
   */
  static views({ batch: B, steps: T, units: H }: RnnShape) {
    return {
      /** hs [T+1, B, H]: hs[0] = h0, hs[t+1] the state after step t (carried unchanged past a sequence's length). */
      initialState: { buffer: 'hs', offset: 0, length: B * H },
      allStates: { buffer: 'hs', offset: B * H, length: T * B * H },
      /** The state at each sequence's last valid step, hs[T]: what a layer on the final state reads. */
      lastState: { buffer: 'hs', offset: T * B * H, length: B * H },
      /** [T, B, H] time-major, zero past each sequence's length: what a layer above reads as its x. */
      outputs: { buffer: 'outputs', offset: 0, length: T * B * H },
      /** Where the backward pass expects dL/d(lastState), in dh [2, B, H] (ping-pong) ... */
      dState: { buffer: 'dh', offset: ((T - 1) % 2) * B * H, length: B * H },
      /** ... and where it leaves dL/d(initialState). */
      dInitialState: { buffer: 'dh', offset: B * H, length: B * H },
    } as const;
  }

  /** A named view (see views) with its buffer: read back `length` floats from `offset * 4` bytes. */
  view(name: keyof ReturnType<typeof RnnSchedule.views>): { buffer: GPUBuffer; offset: number; length: number } {
    const v = RnnSchedule.views(this.shape)[name];
    return { buffer: this[v.buffer], offset: v.offset, length: v.length };
  }

  /** h0 -> hs[0]; xw = x·Wx + b; then h_t for t = 0..T-1. */
  encodeForward(encoder: GPUCommandEncoder, h0?: GPUBufferBinding): void {
    const { batch: B, units: H } = this.shape;
    if (h0) encoder.copyBufferToBuffer(h0.buffer, h0.offset ?? 0, this.hs, 0, B * H * 4);
    else encoder.clearBuffer(this.hs, 0, B * H * 4);
    const pass = encoder.beginComputePass({ label: 'rnn.forward' });
    this.encodeForwardPass(pass);
    pass.end();
  }

  /** The forward dispatches alone, into a pass of the caller's; hs[0] must already hold h0. */
  encodeForwardPass(pass: GPUComputePassEncoder): void {
    this.projection[0].encode(pass, this.projection[1]);
    this.steps.forward(pass);
  }

  /**
   * Backpropagation through time, after encodeForward on the same inputs. dState [B, H] (zeros when omitted) is the
   * gradient of the final state; afterwards dh0 lies in view('dInitialState') and the weight gradients in the bindings.
   */
  encodeBackward(encoder: GPUCommandEncoder, dState?: GPUBufferBinding): void {
    const { batch: B, units: H } = this.shape;
    const at = this.view('dState').offset * 4;
    if (dState) encoder.copyBufferToBuffer(dState.buffer, dState.offset ?? 0, this.dh, at, B * H * 4);
    else encoder.clearBuffer(this.dh, at, B * H * 4);
    const pass = encoder.beginComputePass({ label: 'rnn.backward' });
    this.encodeBackwardPass(pass);
    pass.end();
  }

  /** The backward dispatches alone, into a pass of the caller's; view('dState') must hold dL/d(lastState). */
  encodeBackwardPass(pass: GPUComputePassEncoder): void {
    if (!this.steps.backward || !this.transposeWh) throw new Error('RnnSchedule: created without grads, so it has no backward pass');
    this.transposeWh[0].encode(pass, this.transposeWh[1]);
    this.steps.backward(pass);
    for (const g of this.gradients) g.encode(pass);
  }

  /**
   * The parts of a forward and backward pass in order, each encodable alone, for timing them one by one. Each reads
   * what the parts before it leave; run alone, a part reads whatever is there, which costs the same.
   */
  phases(): Phase[] {
    const { batch: B, steps: T, inputs: I, units: H } = this.shape;
    const N = this.cell.gates * H;
    const steps = 2 * T * B * H * N;
    const list: Phase[] = [
      { name: 'input projection', flops: 2 * T * B * I * N, encode: (pass) => this.projection[0].encode(pass, this.projection[1]) },
      { name: `forward steps (${this.recurrence})`, flops: steps, encode: this.steps.forward },
    ];
    if (this.steps.backward && this.transposeWh) {
      const [p, g] = this.transposeWh;
      list.push({ name: 'transpose Wh', flops: 0, encode: (pass) => p.encode(pass, g) },
        { name: `backward steps (${this.recurrence})`, flops: steps, encode: this.steps.backward }, ...this.gradients);
    }
    return list;
  }

  destroy(): void {
    this.owned.destroy();
  }
}
