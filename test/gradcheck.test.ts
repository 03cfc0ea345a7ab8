// Central-difference gradient checks of the whole unrolled BPTT on tiny RNNs, masked and unmasked: first the float64
// reference backward against float64 finite differences of the reference forward (tight), then the GPU backward
// against the same finite differences (at float32 tolerance).
import { describe, expect, it } from 'vitest';
import { rnnBackward, type RnnParams } from '../src/index.js';
import { rnnBackwardRef, rnnForwardRef, type RnnRefParams } from '../src/reference/index.js';
import { expectClose, rng, testDevice } from './helpers.js';

const device = await testDevice();

type Field = 'x' | 'wx' | 'wh' | 'b' | 'h0';

function tiny(seed: number, lengths?: number[]): { p: RnnParams; dOut: Float32Array; dState: Float32Array } {
  const B = 3, T = 4, I = 2, H = 3;
  const r = rng(seed);
  const p: RnnParams = {
    batch: B, steps: T, inputs: I, units: H,
    x: r.floats(B * T * I), wx: r.floats(I * H), wh: r.floats(H * H), b: r.floats(H, -0.5, 0.5), h0: r.floats(B * H, -0.5, 0.5),
    lengths: lengths ? Int32Array.from(lengths) : undefined,
  };
  return { p, dOut: r.floats(B * T * H), dState: r.floats(B * H) };
}

/** L = sum(dOut * outputs) + sum(dState * state), in float64. */
function loss(p: RnnRefParams, dOut: ArrayLike<number>, dState: ArrayLike<number>): number {
  const { outputs, state } = rnnForwardRef(p);
  let s = 0;
  outputs.forEach((o, i) => (s += o * dOut[i]!));
  state.forEach((h, i) => (s += h * dState[i]!));
  return s;
}

function centralDifferences(p: RnnParams, dOut: Float32Array, dState: Float32Array, field: Field, eps = 1e-6): Float64Array {
  const values = Float64Array.from(p[field]!);
  const q: RnnRefParams = { ...p, [field]: values };
  const g = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const keep = values[i]!;
    values[i] = keep + eps; const up = loss(q, dOut, dState);
    values[i] = keep - eps; const down = loss(q, dOut, dState);
    values[i] = keep;
    g[i] = (up - down) / (2 * eps);
  }
  return g;
}

const fields: Array<[Field, 'dx' | 'dwx' | 'dwh' | 'db' | 'dh0']> = [['x', 'dx'], ['wx', 'dwx'], ['wh', 'dwh'], ['b', 'db'], ['h0', 'dh0']];
const cases: Array<[string, number[] | undefined]> = [['unmasked', undefined], ['masked (lengths 0, 2, 4)', [0, 2, 4]], ['masked (lengths 1, 3, 1)', [1, 3, 1]]];

describe('float64 reference BPTT matches central differences', () => {
  for (const [name, lengths] of cases) {
    it(name, () => {
      const { p, dOut, dState } = tiny(31, lengths);
      const analytic = rnnBackwardRef(p, dOut, dState);
      for (const [field, grad] of fields) {
        expectClose(`${grad} (${name})`, analytic[grad], centralDifferences(p, dOut, dState, field), [p[field]!.length], 1e-7, 1e-6);
      }
    });
  }
});

describe.skipIf(!device)('GPU BPTT matches central differences', () => {
  for (const [name, lengths] of cases) {
    it(name, async () => {
      const { p, dOut, dState } = tiny(37, lengths);
      const gpu = await rnnBackward(device!, p, { dOutputs: dOut, dState });
      for (const [field, grad] of fields) {
        expectClose(`${grad} (${name})`, gpu[grad], centralDifferences(p, dOut, dState, field), [p[field]!.length], 2e-5, 1e-4);
      }
      if (lengths?.includes(0)) {
        // A sequence of length 0 passes h0 through untouched: its dh0 is exactly dState.
        const i = lengths.indexOf(0);
        expect(Array.from(gpu.dh0.slice(i * 3, i * 3 + 3))).toEqual(Array.from(dState.slice(i * 3, i * 3 + 3)));
      }
    });
  }
});
