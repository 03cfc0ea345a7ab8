// The lecture's manual RNN (Géron, chapter 14): 3 inputs, 5 neurons, two time steps unrolled by hand,
//   Y0 = tanh(X0·Wx + b),  Y1 = tanh(Y0·Wy + X1·Wx + b),
// reproduced through rnnForward (the same example is in the README). Then the book's sequence_length variant:
// the second instance has one step only, so its output at t = 1 is zero and its state is Y0.
import { describe, expect, it } from 'vitest';
import { rnnForward } from '../src/index.js';
import { expectClose, rng, testDevice } from './helpers.js';

const device = await testDevice();

const X0 = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 0, 1]]; // t = 0, a mini-batch of 4 instances
const X1 = [[9, 8, 7], [0, 0, 0], [6, 5, 4], [3, 2, 1]]; // t = 1

// Plain-JS version of the two TensorFlow lines, in float64.
const matmul = (a: number[][], w: number[][]) => a.map((row) => w[0]!.map((_, j) => row.reduce((s, v, k) => s + v * w[k]![j]!, 0)));
const add = (...ms: number[][][]) => ms[0]!.map((row, i) => row.map((_, j) => ms.reduce((s, m) => s + m[i]![j]!, 0)));
const tanh = (m: number[][]) => m.map((row) => row.map(Math.tanh));

describe.skipIf(!device)("the lecture's manual two-step RNN", () => {
  const r = rng(42);
  const wx = r.floats(3 * 5), wy = r.floats(5 * 5); // random weights, as tf.random_normal gives
  const Wx = [0, 1, 2].map((i) => Array.from(wx.slice(i * 5, i * 5 + 5)));
  const Wy = [0, 1, 2, 3, 4].map((i) => Array.from(wy.slice(i * 5, i * 5 + 5)));
  const b = [[0, 0, 0, 0, 0]];
  const bRows = X0.map(() => b[0]!);
  const Y0 = tanh(add(matmul(X0, Wx), bRows));
  const Y1 = tanh(add(matmul(Y0, Wy), matmul(X1, Wx), bRows));
  // The runtime's x is [batch, steps, inputs]: instance i reads X0[i], then X1[i].
  const x = Float32Array.from(X0.flatMap((row, i) => [...row, ...X1[i]!]));
  const params = { x, wx, wh: wy, b: new Float32Array(5), batch: 4, steps: 2, inputs: 3, units: 5 };

  it('outputs[:, 0] = Y0 and outputs[:, 1] = Y1 = final state', async () => {
    const { outputs, state } = await rnnForward(device!, params);
    const at = (t: number) => X0.flatMap((_, i) => Array.from(outputs.slice((i * 2 + t) * 5, (i * 2 + t) * 5 + 5)));
    expectClose('Y0', at(0), Y0.flat(), [4, 5], 1e-5, 1e-5);
    expectClose('Y1', at(1), Y1.flat(), [4, 5], 1e-5, 1e-5);
    expectClose('state', state, Y1.flat(), [4, 5], 1e-5, 1e-5);
  });

  it('sequence_length [2, 1, 2, 2]: zero output past the length, state at the last valid step', async () => {
    const { outputs, state } = await rnnForward(device!, { ...params, lengths: Int32Array.from([2, 1, 2, 2]) });
    expect(Array.from(outputs.slice(15, 20))).toEqual([0, 0, 0, 0, 0]);
    const want = [Y1[0]!, Y0[1]!, Y1[2]!, Y1[3]!].flat();
    expectClose('state', state, want, [4, 5], 1e-5, 1e-5);
  });
});
