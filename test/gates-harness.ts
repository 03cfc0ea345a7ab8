// The harness of the recurrence tests through RnnSchedule (test/cells-gpu.test.ts: gate cells per step;
// test/cells-fused.test.ts: fused; test/cells.test.ts: any cell, tanh included):
// RnnSchedule forward and backward for a cell, read back batch-major, against the float64 reference recurrence
// through the same cell (rnnForwardRef / rnnBackwardRef).
import { expect } from 'vitest';
import type { Cell } from '../src/cells/cell.js';
import { BufferSet, readFloats, RnnSchedule, type RnnBindings } from '../src/index.js';
import type { Recurrence } from '../src/tune.js';
import { rnnBackwardRef, rnnForwardRef, swap01Ref, type RnnRefParams } from '../src/reference/index.js';
import { expectClose, rng, upload } from './helpers.js';

export type Params = RnnRefParams & { x: Float32Array; wx: Float32Array; wh: Float32Array; b: Float32Array; bh?: Float32Array; h0: Float32Array; lengths: Int32Array };

export function params(cell: Cell, B: number, T: number, I: number, H: number, lengths: number[], seed: number, scale = 1): Params {
  const r = rng(seed);
  const N = cell.gates * H;
  const w = scale * Math.min(0.5, 1.5 / Math.sqrt(H + I));
  return {
    batch: B, steps: T, inputs: I, units: H, lengths: Int32Array.from(lengths),
    x: r.floats(B * T * I, 0, 1), wx: r.floats(I * N, -w, w), wh: r.floats(H * N, -w, w), b: r.floats(N, -0.3 * scale, 0.3 * scale),
    ...(cell.params(I, H).bh ? { bh: r.floats(N, -0.3 * scale, 0.3 * scale) } : {}),
    h0: r.floats(B * H, -0.5, 0.5),
  };
}

/** Forward and backward of `cell` through RnnSchedule, read back batch-major like the reference. */
export async function scheduled(device: GPUDevice, cell: Cell, p: Params, o: { dOut?: Float32Array; dState: Float32Array; dx: boolean }) {
  const d = device;
  const { batch: B, steps: T, inputs: I, units: H } = p, N = cell.gates * H;
  const set = new BufferSet(d, 'cells-gpu');
  const bind = (buffer: GPUBuffer) => ({ buffer });
  let schedule: RnnSchedule | undefined;
  try {
    const io: RnnBindings = {
      x: bind(upload(set, Float32Array.from(swap01Ref(p.x, B, T, I)), 'x')),
      wx: bind(upload(set, p.wx, 'wx')), wh: bind(upload(set, p.wh, 'wh')), b: bind(upload(set, p.b, 'b')),
      ...(p.bh ? { bh: bind(upload(set, p.bh, 'bh')) } : {}),
      lengths: bind(upload(set, p.lengths, 'lengths')),
      grads: {
        dwx: bind(set.create('dwx', I * N * 4)), dwh: bind(set.create('dwh', H * N * 4)), db: bind(set.create('db', N * 4)),
        ...(p.bh ? { dbh: bind(set.create('dbh', N * 4)) } : {}),
      },
      ...(o.dOut ? { dOut: bind(upload(set, Float32Array.from(swap01Ref(o.dOut, B, T, H)), 'dOut')) } : {}),
      ...(o.dx ? { dx: bind(set.create('dx', T * B * I * 4)) } : {}),
    };
    schedule = await RnnSchedule.create(d, { batch: B, steps: T, inputs: I, units: H }, io, cell);
    const encoder = d.createCommandEncoder();
    schedule.encodeForward(encoder, bind(upload(set, p.h0, 'h0')));
    schedule.encodeBackward(encoder, bind(upload(set, o.dState, 'dState')));
    d.queue.submit([encoder.finish()]);
    const view = (name: Parameters<RnnSchedule['view']>[0]) => { const v = schedule!.view(name); return readFloats(d, v.buffer, v.offset * 4, v.length); };
    const g = io.grads!;
    const [outputs, state, dh0, dwx, dwh, db, dbh, dx] = await Promise.all([
      view('outputs'), view('lastState'), view('dInitialState'),
      readFloats(d, g.dwx.buffer, 0, I * N), readFloats(d, g.dwh.buffer, 0, H * N), readFloats(d, g.db.buffer, 0, N),
      g.dbh ? readFloats(d, g.dbh.buffer, 0, N) : undefined,
      io.dx ? readFloats(d, io.dx.buffer, 0, T * B * I) : undefined,
    ]);
    return { recurrence: schedule.recurrence, outputs: swap01Ref(outputs, T, B, H), state, dh0, dwx, dwh, db, dbh, dx: dx && swap01Ref(dx, T, B, I) };
  } finally {
    schedule?.destroy();
    set.destroy();
  }
}

/**
 * `recurrence`: the variant the schedule must have chosen (per-step when omitted). `through` is the absolute tolerance of dx and dh0, the gradients that come back through Wx and Wh: with weights
 * scaled far up (|z| past 100) they are sums of terms 100 times their size, and float32 rounds each term.
 */
export async function check(device: GPUDevice, cell: Cell, p: Params,
  o: { dOut: boolean; dx: boolean; seed?: number; through?: number; recurrence?: Recurrence }) {
  const { batch: B, steps: T, inputs: I, units: H } = p, N = cell.gates * H;
  const r = rng(o.seed ?? 11);
  const dOut = o.dOut ? r.floats(B * T * H) : undefined, dState = r.floats(B * H);
  const got = await scheduled(device, cell, p, { dOut, dState, dx: o.dx });
  expect(got.recurrence).toBe(o.recurrence ?? 'per-step');
  const want = rnnForwardRef(p, cell);
  const wantG = rnnBackwardRef(p, dOut, dState, cell);
  expectClose('outputs', got.outputs, want.outputs, [B, T, H], 2e-5, 1e-4);
  expectClose('state', got.state, want.state, [B, H], 2e-5, 1e-4);
  if (got.dx) expectClose('dx', got.dx, wantG.dx, [B, T, I], o.through ?? 1e-4, 1e-3);
  expectClose('dwx', got.dwx, wantG.dwx, [I, N], 1e-4, 1e-3);
  expectClose('dwh', got.dwh, wantG.dwh, [H, N], 1e-4, 1e-3);
  expectClose('db', got.db, wantG.db, [N], 1e-4, 1e-3);
  if (wantG.dbh) expectClose('dbh', got.dbh!, wantG.dbh, [N], 1e-4, 1e-3);
  expectClose('dh0', got.dh0, wantG.dh0, [B, H], o.through ?? 1e-4, 1e-3);
  return got;
}
