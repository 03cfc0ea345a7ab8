// rnnForward / rnnBackward against the float64 reference: odd sizes, lengths 0, 1 and T mixed in one batch,
// pre-activations far beyond +-100, and the full reference shape (batch 150, 28 steps, 28 inputs, 150 units).
import { describe, expect, it } from 'vitest';
import { rnnBackward, rnnForward, type RnnParams } from '../src/index.js';
import { rnnBackwardRef, rnnForwardRef } from '../src/reference/index.js';
import { expectClose, rng, testDevice } from './helpers.js';

const device = await testDevice();

function params(batch: number, steps: number, inputs: number, units: number, seed: number, opts: { lengths?: Int32Array; h0?: boolean; scale?: number } = {}): RnnParams {
  const r = rng(seed);
  const scale = opts.scale ?? 1;
  // Weights ~ Glorot-sized so activations stay in tanh's sensitive range unless `scale` pushes them out.
  const wScale = scale * Math.sqrt(3 / (inputs + units));
  return {
    batch, steps, inputs, units,
    x: r.floats(batch * steps * inputs, 0, 1),
    wx: r.floats(inputs * units, -wScale, wScale),
    wh: r.floats(units * units, -wScale, wScale),
    b: r.floats(units, -0.1 * scale, 0.1 * scale),
    h0: opts.h0 ? r.floats(batch * units, -0.5, 0.5) : undefined,
    lengths: opts.lengths,
  };
}

async function checkForward(p: RnnParams, atol = 2e-5, rtol = 1e-4) {
  const got = await rnnForward(device!, p);
  const want = rnnForwardRef(p);
  const { batch: B, steps: T, units: H } = p;
  expectClose('outputs', got.outputs, want.outputs, [B, T, H], atol, rtol);
  expectClose('state', got.state, want.state, [B, H], atol, rtol);
}

async function checkBackward(p: RnnParams, withOut: boolean, withState: boolean, atol = 1e-4, rtol = 1e-3) {
  const { batch: B, steps: T, inputs: I, units: H } = p;
  const r = rng(B + T + I + H);
  const dOutputs = withOut ? r.floats(B * T * H) : undefined;
  const dState = withState ? r.floats(B * H) : undefined;
  const got = await rnnBackward(device!, p, { dOutputs, dState });
  const want = rnnBackwardRef(p, dOutputs, dState);
  expectClose('dx', got.dx, want.dx, [B, T, I], atol, rtol);
  expectClose('dwx', got.dwx, want.dwx, [I, H], atol, rtol);
  expectClose('dwh', got.dwh, want.dwh, [H, H], atol, rtol);
  expectClose('db', got.db, want.db, [H], atol, rtol);
  expectClose('dh0', got.dh0, want.dh0, [B, H], atol, rtol);
}

describe.skipIf(!device)('rnnForward matches the float64 reference', () => {
  for (const [B, T, I, H] of [[1, 1, 1, 1], [3, 4, 9, 65], [9, 3, 3, 9], [2, 5, 257, 3], [65, 2, 28, 150]] as const) {
    it(`batch ${B}, steps ${T}, inputs ${I}, units ${H}`, () => checkForward(params(B, T, I, H, B * T + I * H, { h0: true })));
  }
  it('lengths 0, 1 and T mixed in one batch (zero outputs past the length, state at the last valid step)', () =>
    checkForward(params(5, 6, 3, 9, 7, { h0: true, lengths: Int32Array.from([0, 1, 6, 3, 0]) })));
  it('pre-activations beyond +-100 stay finite and saturate', () => {
    const p = params(4, 3, 5, 9, 11, { scale: 400 });
    // The first step's pre-activations x_0·Wx + b reach far past +-100 (later steps add h·Wh on top).
    let largest = 0;
    for (let b = 0; b < 4; b++) for (let j = 0; j < 9; j++) {
      let z = p.b[j]!;
      for (let k = 0; k < 5; k++) z += p.x[(b * 3) * 5 + k]! * p.wx[k * 9 + j]!;
      largest = Math.max(largest, Math.abs(z));
    }
    expect(largest).toBeGreaterThan(100);
    return checkForward(p);
  });
  it('the reference shape: batch 150, 28 steps, 28 inputs, 150 units, mixed lengths', () => {
    const lengths = rng(3).ints(150, 0, 28);
    return checkForward(params(150, 28, 28, 150, 5, { lengths }), 1e-4, 1e-3);
  });
});

describe.skipIf(!device)('rnnBackward matches the float64 reference', () => {
  it('dOutputs and dState, odd sizes', () => checkBackward(params(3, 4, 9, 65, 1, { h0: true }), true, true));
  it('only dState (a classifier on the final state)', () => checkBackward(params(9, 5, 3, 9, 2), false, true));
  it('only dOutputs', () => checkBackward(params(2, 3, 257, 3, 3, { h0: true }), true, false));
  it('masked: lengths 0, 1 and T in one batch', () =>
    checkBackward(params(5, 6, 3, 9, 4, { h0: true, lengths: Int32Array.from([0, 1, 6, 3, 0]) }), true, true));
  it('saturated pre-activations beyond +-100', () => checkBackward(params(4, 3, 5, 9, 11, { scale: 400 }), true, true));
  it('the reference shape: batch 150, 28 steps, 28 inputs, 150 units, mixed lengths', () => {
    const lengths = rng(3).ints(150, 0, 28);
    return checkBackward(params(150, 28, 28, 150, 6, { lengths }), true, true, 1e-3, 2e-3);
  });
});
