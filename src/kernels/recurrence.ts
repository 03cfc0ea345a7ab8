// The masked recurrence of a cell: one dispatch per time step (shaders/recurrence.wgsl) or all steps in one
// (shaders/recurrence_fused.wgsl) for one-gate, one-state cells (tanh); for multi-gate cells one dispatch per time step
// (shaders/recurrence_gates.wgsl: LSTM, GRU; two a step for GRU with resetAfter false) or, LSTM and GRU reset-after
// only, all steps in one (shaders/recurrence_gates_fused.wgsl, same layouts and results). The cell's WGSL epilogue
// (cells/*.ts, shaders/cells/) is spliced in through the CELL define, so each cell compiles to its own pipelines,
// cached on their generated source; labels and tuning keys name the cell.
import type { Cell } from '../cells/cell.js';
import source from '../../shaders/recurrence.wgsl?raw';
import fusedSource from '../../shaders/recurrence_fused.wgsl?raw';
import gatesSource from '../../shaders/recurrence_gates.wgsl?raw';
import gatesFusedSource from '../../shaders/recurrence_gates_fused.wgsl?raw';
import { BufferSet } from '../gpu/buffers.js';
import { dispatch, type Demand } from '../gpu/limits.js';
import { grid1d, program, type Program } from '../gpu/shader.js';
import { backwardGateTiles, chooseTile, gateTiles, TILES, timeKernel, type Tile } from '../tune.js';

export interface RecurrenceShape {
  steps: number;
  batch: number;
  units: number;
}

function defines(s: RecurrenceShape, cell: Cell, tile: Tile, forward: boolean, dOut = false) {
  return { CELL: cell.wgsl, T: s.steps, B: s.batch, H: s.units, TB: tile.rows, TB8: tile.rows === 8, WG_X: tile.wgX, WG_Y: tile.wgY, FORWARD: forward, BACKWARD: !forward, D_OUT: dOut };
}

function workgroups(s: RecurrenceShape, tile: Tile): [number, number, number] {
  return [Math.ceil(s.units / (tile.cols * tile.wgX)), Math.ceil(s.batch / (tile.rows * tile.wgY)), 1];
}

/** A forward or backward step's dispatch in the variant with the most workgroups per dimension. */
export function stepDemand(what: string, s: RecurrenceShape): Demand {
  const all = TILES.map((t) => workgroups(s, t));
  return dispatch(what, [Math.max(...all.map((w) => w[0])), Math.max(...all.map((w) => w[1])), 1]);
}

const FORWARD_KINDS = ['uniform-dynamic', 'read', 'read', 'read', 'storage', 'storage'] as const;
const BACKWARD_KINDS = ['uniform-dynamic', 'read', 'read', 'read', 'read', 'storage', 'storage'] as const;

/** `rnn.forwardStep tanh`: what labels a kernel of `cell`, and (with the shape after it) its tuning key. */
function label(kernel: string, cell: Cell): string {
  return `rnn.${kernel} ${cell.name}`;
}

/** Bind (step uniform, wh, lengths, xw, hs, outputs); encode with the dynamic offset of step t. */
export async function forwardStep(device: GPUDevice, s: RecurrenceShape, cell: Cell, tile?: Tile): Promise<Program> {
  const name = label('forwardStep', cell);
  const chosen = tile ?? await chooseTile(device, `${name} ${s.batch}x${s.units}`, (t) => measure(device, s, cell, t, true, false), s.batch * s.units * s.units);
  return program(device, name, source, defines(s, cell, chosen, true), 'forwardStep', [...FORWARD_KINDS], workgroups(s, chosen));
}

/**
 * Bind (step uniform, Wh transposed, lengths, hs, dOut, dh, dz); encode with the dynamic offset of step t. Without
 * `dOut` (only the final state has a gradient) the shader does not read binding 4: bind any read-only buffer there.
 */
export async function backwardStep(device: GPUDevice, s: RecurrenceShape, cell: Cell, dOut: boolean, tile?: Tile): Promise<Program> {
  const name = label('backwardStep', cell);
  const chosen = tile ?? await chooseTile(device, `${name} ${s.batch}x${s.units}${dOut ? ' dOut' : ''}`, (t) => measure(device, s, cell, t, false, dOut), s.batch * s.units * s.units);
  return program(device, name, source, defines(s, cell, chosen, false, dOut), 'backwardStep', [...BACKWARD_KINDS], workgroups(s, chosen));
}

/**
 * dz_{T-1} from dState (in dh[(T-1) % 2]), before the first backward step: each step then finds its dz ready-made
 * and leaves the next one's. Bind as backwardStep; encode with any step's dynamic offset.
 */
export function backwardSeed(device: GPUDevice, s: RecurrenceShape, cell: Cell, dOut: boolean): Promise<Program> {
  return program(device, label('backwardSeed', cell), source, defines(s, cell, TILES[0]!, false, dOut), 'backwardSeed', [...BACKWARD_KINDS], seedWorkgroups(device, s));
}

/** One invocation per (b, u), folded into y past the per-dimension limit (the shader unfolds it). */
export function seedWorkgroups(device: GPUDevice, s: RecurrenceShape): [number, number, number] {
  return grid1d(s.batch * s.units, 64, device.limits.maxComputeWorkgroupsPerDimension);
}

/**
 * The step uniform and lengths a measured step runs with: the last step (t = T-1), every sequence live, as in training.
 * On zeroed scratch (t = 0, lengths 0) a backward step would run its product but not the cell's epilogue for step t-1
 * (every backward kernel skips it at t = 0), and the tuner would time less than training runs. (COPY_SRC: the test of
 * this reads the uniform back.)
 */
export function measuredStep(device: GPUDevice, scratch: BufferSet, s: RecurrenceShape): { step: { buffer: GPUBuffer; size: number }; lengths: GPUBuffer } {
  const step = { buffer: scratch.create('step', 256, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC), size: 16 };
  const lengths = scratch.create('lengths', s.batch * 4);
  device.queue.writeBuffer(step.buffer, 0, Uint32Array.of(s.steps - 1));
  device.queue.writeBuffer(lengths, 0, new Int32Array(s.batch).fill(s.steps));
  return { step, lengths };
}

/** One step (the last, every sequence live: measuredStep) in variant `tile`, on scratch buffers. */
async function measure(device: GPUDevice, s: RecurrenceShape, cell: Cell, tile: Tile, forward: boolean, dOut: boolean): Promise<number> {
  const p = forward ? await forwardStep(device, s, cell, tile) : await backwardStep(device, s, cell, dOut, tile);
  const scratch = new BufferSet(device, 'autotune');
  try {
    const { steps: T, batch: B, units: H } = s;
    const { step, lengths } = measuredStep(device, scratch, s);
    const group = forward
      ? p.bind(step, scratch.create('wh', H * H * 4), lengths, scratch.create('xw', T * B * H * 4), scratch.create('hs', (T + 1) * B * H * 4), scratch.create('out', B * T * H * 4))
      : p.bind(step, scratch.create('whT', H * H * 4), lengths, scratch.create('hs', (T + 1) * B * H * 4), scratch.create('dOut', B * T * H * 4), scratch.create('dh', 2 * B * H * 4), scratch.create('dz', T * B * H * 4));
    return await timeKernel(device, (pass) => p.encode(pass, group, [0]));
  } finally {
    scratch.destroy();
  }
}

// ---- all T steps in one dispatch (shaders/recurrence_fused.wgsl) ----

const FUSED_ROWS = 4;  // sequences per workgroup (the lanes of a vec4 in the shader)
const FUSED_WG = 64;   // invocations per workgroup

/**
 * Whether the fused kernels fit the device: their workgroup memory (two [rows, units] tiles for backward) and their
 * one workgroup per FUSED_ROWS sequences. Where they do not, the per-step kernels are used.
 */
export function fusedFits(device: GPUDevice, s: RecurrenceShape): boolean {
  return 2 * FUSED_ROWS * s.units * 4 <= device.limits.maxComputeWorkgroupStorageSize &&
    Math.ceil(s.batch / FUSED_ROWS) <= device.limits.maxComputeWorkgroupsPerDimension;
}

function fusedDefines(s: RecurrenceShape, cell: Cell, forward: boolean, dOut = false) {
  return {
    CELL: cell.wgsl, T: s.steps, B: s.batch, H: s.units, WG: FUSED_WG, UPT: Math.ceil(s.units / FUSED_WG), RB_H: FUSED_ROWS * s.units,
    FORWARD: forward, BACKWARD: !forward, D_OUT: dOut,
  };
}

/** All forward steps in one dispatch. Bind (wh, lengths, xw, hs, outputs); hs[0] must hold h0. */
export function forwardFused(device: GPUDevice, s: RecurrenceShape, cell: Cell): Promise<Program> {
  return program(device, label('forwardFused', cell), fusedSource, fusedDefines(s, cell, true), 'forwardFused',
    ['read', 'read', 'read', 'storage', 'storage'], [Math.ceil(s.batch / FUSED_ROWS), 1, 1]);
}

/**
 * All backward steps in one dispatch. Bind (Wh transposed, lengths, hs, dOut, dh, dz); without `dOut` binding 3 is not
 * read. dState in dh[(T-1) % 2] on entry, dh0 in dh[1] on exit.
 */
export function backwardFused(device: GPUDevice, s: RecurrenceShape, cell: Cell, dOut: boolean): Promise<Program> {
  return program(device, label('backwardFused', cell), fusedSource, fusedDefines(s, cell, false, dOut), 'backwardFused',
    ['read', 'read', 'read', 'read', 'storage', 'storage'], [Math.ceil(s.batch / FUSED_ROWS), 1, 1]);
}

// ---- multi-gate cells, one step per dispatch (shaders/recurrence_gates.wgsl) ----

/**
 * Whether the gate kernels run `cell`: up to 4 gate blocks (a vec4) and 2 states (a vec2), h·Wh for every block; or a
 * gated cell shaped as GRU with resetAfter false (3 blocks, the last multiplying u, one state), in two dispatches a step.
 */
export function gateKernelsRun(cell: Cell): boolean {
  if (cell.gatedFrom !== undefined) return cell.gatedFrom === 2 && cell.gates === 3 && cell.states === 1;
  return cell.gates <= 4 && cell.states <= 2;
}

function gateDefines(s: RecurrenceShape, cell: Cell, tile: Tile, forward: boolean, o: { save?: boolean; bh?: boolean; dOut?: boolean } = {}) {
  return {
    CELL: cell.wgsl, T: s.steps, B: s.batch, H: s.units, TB: tile.rows, TB8: tile.rows === 8, G: cell.gates, G4: cell.gates === 4, S: cell.states, S2: cell.states === 2,
    WG_X: tile.wgX, WG_Y: tile.wgY, FORWARD: forward, BACKWARD: !forward, SAVE: !!o.save, BH: !!o.bh, D_OUT: !!o.dOut, DZX: !!cell.dzxApart,
    GATED: cell.gatedFrom !== undefined, J_END: (cell.gatedFrom ?? cell.gates) * s.units,
  };
}

/** 4 rows x 4 units per invocation (gates: all G of them in the forward step); backwardGates `tile.rows` rows. */
function gateWorkgroups(s: RecurrenceShape, tile: Tile, rows = 4): [number, number, number] {
  return [Math.ceil(s.units / (4 * tile.wgX)), Math.ceil(s.batch / (rows * tile.wgY)), 1];
}

/** A gate kernel's step dispatch in the variant with the most workgroups per dimension. */
export function gateStepDemand(what: string, s: RecurrenceShape): Demand {
  const all = TILES.filter((t) => t.rows === 4).map((t) => gateWorkgroups(s, t));
  return dispatch(what, [Math.max(...all.map((w) => w[0])), Math.max(...all.map((w) => w[1])), 1]);
}

function gatesForwardKinds(cell: Cell) {
  return ['uniform-dynamic', 'read', 'read', 'read', 'storage', 'storage', 'storage', ...(cell.gatedFrom !== undefined ? ['storage' as const] : [])] as const;
}

/**
 * Bind (step uniform, wh, lengths, bh, xw, hs, outputs); encode with the dynamic offset of step t. Without `bh` (a
 * cell without the recurrent bias) binding 3 is not read: bind any read-only buffer there. With `save` (training) xw
 * is [2, T, B, G·H] and the step keeps its zh in the second half.
 */
export async function forwardGates(device: GPUDevice, s: RecurrenceShape, cell: Cell, o: { save: boolean; bh: boolean }, tile?: Tile): Promise<Program> {
  const name = label('forwardGates', cell);
  const chosen = tile ?? await chooseTile(device, `${name} ${s.batch}x${s.units}${o.save ? ' save' : ''}`,
    (t) => measureGates(device, s, cell, t, true, o), s.batch * s.units * s.units * cell.gates, gateTiles(device));
  return program(device, name, gatesSource, gateDefines(s, cell, chosen, true, o), 'forwardGates', [...gatesForwardKinds(cell)], gateWorkgroups(s, chosen));
}

/**
 * A gated cell's forward step t, two dispatches in order: forwardEarly, forwardLate. Bind each as forwardGates plus
 * us [T, B, H] (u = r⊙h_{t-1}); xw is [2, T, B, G·H] whether training or not (the late half reads the early zh).
 */
export async function forwardGated(device: GPUDevice, s: RecurrenceShape, cell: Cell, tile?: Tile): Promise<[Program, Program]> {
  const name = label('forwardGated', cell);
  const chosen = tile ?? await chooseTile(device, `${name} ${s.batch}x${s.units}`, (t) => measureGated(device, s, cell, t, true),
    s.batch * s.units * s.units * cell.gates, gateTiles(device));
  const defines = gateDefines(s, cell, chosen, true, { save: true });
  return Promise.all([
    program(device, label('forwardEarly', cell), gatesSource, defines, 'forwardEarly', [...gatesForwardKinds(cell)], gateWorkgroups(s, chosen)),
    program(device, label('forwardLate', cell), gatesSource, defines, 'forwardLate', [...gatesForwardKinds(cell)], gateWorkgroups(s, chosen)),
  ]);
}

/**
 * A gated cell's backward step t, two dispatches in order: backwardDu (du = dz_late·Wh_late^T, on into dz's early
 * blocks and the direct part of dh), then backwardGates over the early blocks. Bind each as backwardGates.
 */
export async function backwardGated(device: GPUDevice, s: RecurrenceShape, cell: Cell, dOut: boolean, tile?: Tile): Promise<[Program, Program]> {
  const name = label('backwardGated', cell);
  const chosen = tile ?? await chooseTile(device, `${name} ${s.batch}x${s.units}${dOut ? ' dOut' : ''}`, (t) => measureGated(device, s, cell, t, false, dOut),
    s.batch * s.units * s.units * cell.gates, gateTiles(device));
  const defines = gateDefines(s, cell, chosen, false, { dOut });
  return Promise.all([
    program(device, label('backwardDu', cell), gatesSource, defines, 'backwardDu', [...gatesBackwardKinds(cell)], gateWorkgroups(s, chosen)),
    backwardGates(device, s, cell, dOut, chosen),
  ]);
}

/** Both dispatches of a gated step (measuredStep's) in variant `tile`, on scratch buffers: what the tuner times (exported for its test). */
export async function measureGated(device: GPUDevice, s: RecurrenceShape, cell: Cell, tile: Tile, forward: boolean, dOut = false): Promise<number> {
  const programs = forward ? await forwardGated(device, s, cell, tile) : await backwardGated(device, s, cell, dOut, tile);
  const scratch = new BufferSet(device, 'autotune');
  try {
    const { steps: T, batch: B, units: H } = s, N = cell.gates * H;
    const { step, lengths } = measuredStep(device, scratch, s);
    const hs = scratch.create('hs', (T + 1) * B * H * 4);
    const xw = scratch.create('xw', 2 * T * B * N * 4);
    const buffers = forward
      ? [step, scratch.create('wh', H * N * 4), lengths, scratch.create('bh', N * 4), xw, hs, scratch.create('out', B * T * H * 4), scratch.create('us', T * B * H * 4)]
      : [step, scratch.create('whT', H * N * 4), lengths, hs, scratch.create('dOut', B * T * H * 4), xw, scratch.create('dh', 3 * B * H * 4), scratch.create('dz', T * B * N * 4)];
    const groups = programs.map((p) => p.bind(...buffers));
    return await timeKernel(device, (pass) => programs.forEach((p, i) => p.encode(pass, groups[i]!, [0])));
  } finally {
    scratch.destroy();
  }
}

function gatesBackwardKinds(cell: Cell) {
  return ['uniform-dynamic', 'read', 'read', 'read', 'read', 'read', 'storage', 'storage', ...(cell.dzxApart ? ['storage' as const] : [])] as const;
}

/**
 * Bind (step uniform, Wh transposed [G·H, H], lengths, hs, dOut, xw [2, T, B, G·H], dh [2S+1, B, H], dz[, dzx]);
 * encode with the dynamic offset of step t. dzx only for a cell with `dzxApart`. Without `dOut` binding 4 is not read.
 */
export async function backwardGates(device: GPUDevice, s: RecurrenceShape, cell: Cell, dOut: boolean, tile?: Tile): Promise<Program> {
  const name = label('backwardGates', cell);
  const chosen = tile ?? await chooseTile(device, `${name} ${s.batch}x${s.units}${dOut ? ' dOut' : ''}`,
    (t) => measureGates(device, s, cell, t, false, { dOut }), s.batch * s.units * s.units * cell.gates, backwardGateTiles(device));
  return program(device, name, gatesSource, gateDefines(s, cell, chosen, false, { dOut }), 'backwardGates', [...gatesBackwardKinds(cell)], gateWorkgroups(s, chosen, chosen.rows));
}

/** Step T-1's cell backward from dState, before the first backward step. Bind as backwardGates. */
export function backwardGatesSeed(device: GPUDevice, s: RecurrenceShape, cell: Cell, dOut: boolean): Promise<Program> {
  return program(device, label('backwardGatesSeed', cell), gatesSource, gateDefines(s, cell, TILES[0]!, false, { dOut }), 'backwardGatesSeed',
    [...gatesBackwardKinds(cell)], seedWorkgroups(device, s));
}

/** One step (measuredStep's) of a gate kernel in variant `tile`, on scratch buffers: what the tuner times (exported for its test). */
export async function measureGates(device: GPUDevice, s: RecurrenceShape, cell: Cell, tile: Tile, forward: boolean, o: { save?: boolean; bh?: boolean; dOut?: boolean }): Promise<number> {
  const p = forward ? await forwardGates(device, s, cell, { save: !!o.save, bh: !!o.bh }, tile) : await backwardGates(device, s, cell, !!o.dOut, tile);
  const scratch = new BufferSet(device, 'autotune');
  try {
    const { steps: T, batch: B, units: H } = s, N = cell.gates * H, S = cell.states;
    const { step, lengths } = measuredStep(device, scratch, s);
    const hs = scratch.create('hs', S * (T + 1) * B * H * 4);
    const xw = scratch.create('xw', 2 * T * B * N * 4);
    const group = forward
      ? p.bind(step, scratch.create('wh', H * N * 4), lengths, scratch.create('bh', N * 4), xw, hs, scratch.create('out', B * T * H * 4))
      : p.bind(step, scratch.create('whT', H * N * 4), lengths, hs, scratch.create('dOut', B * T * H * 4), xw, scratch.create('dh', (2 * S + 1) * B * H * 4),
        scratch.create('dz', T * B * N * 4), ...(cell.dzxApart ? [scratch.create('dzx', T * B * N * 4)] : []));
    return await timeKernel(device, (pass) => p.encode(pass, group, [0]));
  } finally {
    scratch.destroy();
  }
}

// ---- multi-gate cells, all T steps in one dispatch (shaders/recurrence_gates_fused.wgsl) ----

/**
 * Whether the fused gate kernels run `cell` on the device for shape `s`: a multi-gate cell the gate kernels run that
 * is not gated (LSTM, GRU reset-after: a gated cell's u would need a third tile and a barrier more a step; it runs per
 * step only), whose workgroup memory fits (forward h_{t-1} [4, H]; with `training` also backward dz_t [4, G·H]), in
 * one workgroup per FUSED_ROWS sequences. Where they do not, the per-step gate kernels are used.
 */
export function gatesFusedFits(device: GPUDevice, s: RecurrenceShape, cell: Cell, training: boolean): boolean {
  if (cell.gatedFrom !== undefined || !gateKernelsRun(cell)) return false;
  const floats = FUSED_ROWS * (training ? cell.gates : 1) * s.units;  // dz_t [4, G·H] is the larger tile
  return floats * 4 <= device.limits.maxComputeWorkgroupStorageSize &&
    Math.ceil(s.batch / FUSED_ROWS) <= device.limits.maxComputeWorkgroupsPerDimension;
}

function gatesFusedDefines(s: RecurrenceShape, cell: Cell, forward: boolean, o: { save?: boolean; bh?: boolean; dOut?: boolean } = {}) {
  return {
    CELL: cell.wgsl, T: s.steps, B: s.batch, H: s.units, G: cell.gates, G4: cell.gates === 4, S: cell.states, S2: cell.states === 2,
    WG: FUSED_WG, UPT: Math.ceil(s.units / FUSED_WG), RB_H: FUSED_ROWS * s.units, RB_N: FUSED_ROWS * cell.gates * s.units,
    FORWARD: forward, BACKWARD: !forward, SAVE: !!o.save, BH: !!o.bh, D_OUT: !!o.dOut, DZX: !!cell.dzxApart,
  };
}

/**
 * All forward steps of a multi-gate cell in one dispatch. Bind (wh, lengths, bh, xw, hs, outputs): forwardGates's
 * bindings without the step uniform; without `bh` binding 2 is not read. hs[0] must hold h0.
 */
export function forwardGatesFused(device: GPUDevice, s: RecurrenceShape, cell: Cell, o: { save: boolean; bh: boolean }): Promise<Program> {
  return program(device, label('forwardGatesFused', cell), gatesFusedSource, gatesFusedDefines(s, cell, true, o), 'forwardGatesFused',
    ['read', 'read', 'read', 'storage', 'storage', 'storage'], [Math.ceil(s.batch / FUSED_ROWS), 1, 1]);
}

/**
 * All backward steps of a multi-gate cell in one dispatch, no seed dispatch before it. Bind (Wh transposed, lengths,
 * hs, dOut, xw, dh, dz[, dzx]): backwardGates's bindings without the step uniform. dState in dh[(T-1) % 2] on entry;
 * dh0 (and dc0, and step 0's direct part) left where the per-step kernels leave them.
 */
export function backwardGatesFused(device: GPUDevice, s: RecurrenceShape, cell: Cell, dOut: boolean): Promise<Program> {
  return program(device, label('backwardGatesFused', cell), gatesFusedSource, gatesFusedDefines(s, cell, false, { dOut }), 'backwardGatesFused',
    ['read', 'read', 'read', 'read', 'read', 'storage', 'storage', ...(cell.dzxApart ? ['storage' as const] : [])], [Math.ceil(s.batch / FUSED_ROWS), 1, 1]);
}
