// The losses over sequences (shaders/loss.wgsl, src/kernels/loss.ts) against their float64 references
// (src/reference/loss-kernels.ts): softmax cross-entropy and squared error at every step of time-major [T, B, ·] tensors
// masked by lengths, and the squared error per sequence. Padding past a sequence's length holds NaN, ±1e30 and
// out-of-range labels, which must not reach the gradients or the stats.
import { describe, expect, it } from 'vitest';
import { BufferSet, meanSquaredError, meanSquaredErrorPerStep, readFloats, softmaxCrossEntropyPerStep, softmaxRows, type LossPrograms, type MaskedLossPrograms } from '../src/index.js';
import { softmaxXentRef } from '../src/reference/index.js';
import { msePerStepRef, mseRef, softmaxXentPerStepRef, validRows, type LossRef } from '../src/reference/loss-kernels.js';
import { expectClose, finiteDifference, rng, run, testDevice, upload } from './helpers.js';

const device = await testDevice();

/** Runs count (masked), forwardBackward and reduce `repeat` times in one pass; reads dinput, row stats and stats. */
async function runLoss(k: LossPrograms | MaskedLossPrograms, input: Float32Array, targets: Float32Array | Int32Array,
  lengths: Int32Array | undefined, rows: number, N: number, repeat = 1) {
  const d = device!;
  const set = new BufferSet(d, 'test');
  try {
    const X = upload(set, input, 'input'), Y = upload(set, targets, 'targets');
    const dX = set.create('dinput', rows * N * 4), rowStats = set.create('rowStats', rows * 8), stats = set.create('stats', 12);
    const work: Parameters<typeof run>[1][] = [];
    if ('count' in k) {
      const L = upload(set, lengths!, 'lengths'), count = set.create('count', 4);
      work.push([k.count, k.count.bind(L, count)], [k.forwardBackward, k.forwardBackward.bind(X, Y, dX, rowStats, L, count)],
        [k.reduce, k.reduce.bind(X, Y, dX, rowStats, stats, count)]);
    } else {
      work.push([k.forwardBackward, k.forwardBackward.bind(X, Y, dX, rowStats)], [k.reduce, k.reduce.bind(X, Y, dX, rowStats, stats)]);
    }
    run(d, ...Array.from({ length: repeat }, () => work).flat());
    const [grad, rs, sums] = await Promise.all([readFloats(d, dX, 0, rows * N), readFloats(d, rowStats, 0, rows * 2), readFloats(d, stats, 0, 3)]);
    return { grad, rowLoss: rs.filter((_, i) => i % 2 === 0), correct: rs.filter((_, i) => i % 2 === 1), stats: sums };
  } finally {
    set.destroy();
  }
}

/** Lengths in [1, T] with 1 and T both present (B >= 2). */
function mixedLengths(r: ReturnType<typeof rng>, T: number, B: number): Int32Array {
  const lengths = r.ints(B, 1, T);
  lengths[0] = 1;
  lengths[B - 1] = T;
  return lengths;
}

/** Puts NaN, ±1e30 and `badTarget` into every masked row of input [T*B, N] and targets [T*B, W]. */
function poisonPadding(input: Float32Array, targets: Float32Array | Int32Array, lengths: Int32Array, T: number, B: number, N: number, badTarget: number) {
  const W = targets.length / (T * B);
  validRows(lengths, T, B).forEach((ok, r) => {
    if (ok) return;
    for (let i = 0; i < N; i++) input[r * N + i] = [NaN, 1e30, -1e30][(r + i) % 3]!;
    for (let i = 0; i < W; i++) targets[r * W + i] = badTarget;
  });
}

/** GPU results against the reference: gradient, per-row loss and correct, stats (times `repeat`), masked gradients 0. */
function expectLoss(got: Awaited<ReturnType<typeof runLoss>>, want: LossRef, lengths: ArrayLike<number>, T: number, B: number, N: number, repeat = 1) {
  expectClose('gradient', got.grad, want.grad, [T, B, N], 1e-7, 1e-4);
  expectClose('row loss', got.rowLoss, want.rowLoss, [T, B], 1e-5, 1e-5);
  expectClose('row correct', got.correct, want.correct, [T, B], 0, 0);
  expectClose('stats [sum loss, sum correct, count]', got.stats, want.stats.map((s) => s * repeat), [3], 1e-4, 1e-5);
  expect(got.stats[2], 'count is exact').toBe(want.stats[2] * repeat);
  const masked: number[] = [];
  validRows(lengths, T, B).forEach((ok, r) => {
    for (let i = 0; i < N; i++) if (!ok && got.grad[r * N + i] !== 0) masked.push(r * N + i);
  });
  expect(masked, 'gradient elements of masked steps that are not exactly 0').toEqual([]);
}


function xentData(seed: number, T: number, B: number, C: number, given?: Int32Array) {
  const r = rng(seed);
  const logits = r.floats(T * B * C, -8, 8), labels = r.ints(T * B, 0, C - 1), lengths = given ?? mixedLengths(r, T, B);
  poisonPadding(logits, labels, lengths, T, B, C, -1);
  return { logits, labels, lengths };
}

function mseData(seed: number, T: number, B: number, O: number) {
  const r = rng(seed);
  const pred = r.floats(T * B * O, -3, 3), targets = r.floats(T * B * O, -3, 3), lengths = mixedLengths(r, T, B);
  poisonPadding(pred, targets, lengths, T, B, O, NaN);
  return { pred, targets, lengths };
}

// Shapes that are not workgroup multiples; the second has more than 64 sequences (countValid's loop) and rows
// (several forward workgroups, the reduce's loop).
const SHAPES = [[7, 5, 10], [3, 70, 3]] as const;

describe('float64 references: central differences of the loss match the gradient', () => {
  it('softmax cross-entropy per step (mixed lengths, NaN padding)', () => {
    const [T, B, C] = [7, 5, 10];
    const { logits, labels, lengths } = xentData(1, T, B, C);
    const want = softmaxXentPerStepRef(logits, labels, lengths, T, B, C);
    const fd = finiteDifference(Float64Array.from(logits), (l) => softmaxXentPerStepRef(l, labels, lengths, T, B, C).loss);
    expectClose('dlogits vs central differences', want.grad, fd, [T, B, C], 1e-8, 1e-5);
  });
  it('mean squared error per step and per sequence', () => {
    const [T, B, O] = [7, 5, 3];
    const { pred, targets, lengths } = mseData(2, T, B, O);
    const want = msePerStepRef(pred, targets, lengths, T, B, O);
    const fd = finiteDifference(Float64Array.from(pred), (p) => msePerStepRef(p, targets, lengths, T, B, O).loss);
    expectClose('dpred vs central differences (per step)', want.grad, fd, [T, B, O], 1e-8, 1e-5);
    const r = rng(3);
    const p1 = r.floats(B * O), t1 = r.floats(B * O);
    const fd1 = finiteDifference(Float64Array.from(p1), (p) => mseRef(p, t1, B, O).loss);
    expectClose('dpred vs central differences (per sequence)', mseRef(p1, t1, B, O).grad, fd1, [B, O], 1e-8, 1e-5);
  });
});

describe.skipIf(!device)('softmax cross-entropy at every step, masked by lengths', () => {
  for (const [T, B, C] of SHAPES) {
    it(`steps ${T}, batch ${B}, classes ${C}: gradient, row stats, stats against float64; masked steps exactly 0`, async () => {
      const { logits, labels, lengths } = xentData(T * B * C, T, B, C);
      const k = await softmaxCrossEntropyPerStep(device!, T, B, C);
      const got = await runLoss(k, logits, labels, lengths, T * B, C, 2);
      expectLoss(got, softmaxXentPerStepRef(logits, labels, lengths, T, B, C), lengths, T, B, C, 2);
    });
  }
  it('a sequence of length 0 counts nothing, and a batch of them leaves no NaN', async () => {
    const [T, B, C] = SHAPES[0];
    const k = await softmaxCrossEntropyPerStep(device!, T, B, C);
    for (const given of [Int32Array.from([0, T, 2, 0, 1]), new Int32Array(B)]) {
      const { logits, labels, lengths } = xentData(4, T, B, C, given);
      const got = await runLoss(k, logits, labels, lengths, T * B, C);
      expectLoss(got, softmaxXentPerStepRef(logits, labels, lengths, T, B, C), lengths, T, B, C);
    }
  });
  it('large logits stay finite; ties count as a hit (in_top_k); a NaN label logit is a miss', async () => {
    const [T, B, C] = SHAPES[0];
    const { logits, labels, lengths } = xentData(5, T, B, C, new Int32Array(B).fill(T));
    const rows: Array<[number[], number]> = [[[1e30, -1e30], 0], [[1e30, -1e30], 1], [[2, 2, 1], 1], [[NaN, 0], 0]];
    rows.forEach(([head, label], r) => {
      logits.fill(0, r * C, (r + 1) * C);
      logits.set(head, r * C);
      labels[r] = label;
    });
    const k = await softmaxCrossEntropyPerStep(device!, T, B, C);
    const got = await runLoss(k, logits, labels, lengths, T * B, C);
    const want = softmaxXentPerStepRef(logits, labels, lengths, T, B, C);
    expect(Array.from(got.correct.slice(0, 4))).toEqual([1, 0, 1, 0]);
    expectClose('loss of the finite rows', got.rowLoss.slice(0, 3), want.rowLoss.slice(0, 3), [3], 1e-5, 1e-5);
    expectClose('dlogits of the finite rows', got.grad.slice(0, 3 * C), want.grad.slice(0, 3 * C), [3, C], 1e-7, 1e-4);
    expectClose('the other rows', got.grad.slice(4 * C), want.grad.slice(4 * C), [T * B - 4, C], 1e-7, 1e-4);
  });
});

describe.skipIf(!device)('softmaxRows (predictions) over the rows of every step', () => {
  it('steps 7, batch 5, classes 10: probabilities against float64, large logits finite', async () => {
    const [T, B, C] = SHAPES[0];
    const logits = rng(7).floats(T * B * C, -8, 8);
    logits.set([1e30, -1e30], 0);
    const d = device!;
    const set = new BufferSet(d, 'test');
    try {
      const L = upload(set, logits), probs = set.create('probs', T * B * C * 4);
      const k = await softmaxRows(d, T * B, C);
      run(d, [k, k.bind(L, L, probs)]);
      // softmax - onehot(0) at scale 1, plus the onehot back.
      const want = softmaxXentRef(logits, new Int32Array(T * B), T * B, C, 1).dlogits.map((g, i) => (i % C === 0 ? g + 1 : g));
      expectClose('probs', await readFloats(d, probs, 0, T * B * C), want, [T, B, C], 1e-7, 1e-5);
    } finally {
      set.destroy();
    }
  });
});

describe.skipIf(!device)('mean squared error', () => {
  for (const [T, B, O] of SHAPES) {
    it(`at every step: steps ${T}, batch ${B}, outputs ${O}: gradient, stats against float64; masked steps exactly 0`, async () => {
      const { pred, targets, lengths } = mseData(T * B * O, T, B, O);
      const k = await meanSquaredErrorPerStep(device!, T, B, O);
      const got = await runLoss(k, pred, targets, lengths, T * B, O, 2);
      expectLoss(got, msePerStepRef(pred, targets, lengths, T, B, O), lengths, T, B, O, 2);
    });
  }
  it('per sequence: batch 70, outputs 3', async () => {
    const [B, O] = [70, 3];
    const r = rng(6);
    const pred = r.floats(B * O, -3, 3), targets = r.floats(B * O, -3, 3);
    const got = await runLoss(await meanSquaredError(device!, B, O), pred, targets, undefined, B, O);
    const want = mseRef(pred, targets, B, O);
    expectLoss(got, want, new Array<number>(B).fill(1), 1, B, O);
    expect(got.stats[0] / got.stats[2]).toBeCloseTo(want.loss, 5);
  });
});
