// Softmax cross-entropy, the dense layer (matmul + column sum), Adam and the layout swap against float64
// references, with finite-difference checks of the loss and dense-layer gradients.
import { describe, expect, it } from 'vitest';
import { adam, ADAM_CONFIG_BYTES, ADAM_SCHEDULE_BYTES, adamConfigBytes, BufferSet, colsum, matmul, readFloats, softmaxCrossEntropy, swap01 } from '../src/index.js';
import { adamRef, matmulRef, softmaxXentRef, swap01Ref } from '../src/reference/index.js';
import { expectClose, finiteDifference, rng, run, testDevice, upload } from './helpers.js';

const device = await testDevice();

async function xent(logits: Float32Array, labels: Int32Array, B: number, C: number) {
  const d = device!;
  const set = new BufferSet(d, 'test');
  try {
    const L = upload(set, logits), Y = upload(set, labels);
    const dL = set.create('dlogits', B * C * 4), rows = set.create('rows', B * 8), stats = set.create('stats', 12);
    const k = await softmaxCrossEntropy(d, B, C);
    run(d, [k.forwardBackward, k.forwardBackward.bind(L, Y, dL, rows)], [k.reduce, k.reduce.bind(L, Y, dL, rows, stats)]);
    const [dlogits, rowStats, sums] = await Promise.all([readFloats(d, dL, 0, B * C), readFloats(d, rows, 0, B * 2), readFloats(d, stats, 0, 3)]);
    return { dlogits, loss: rowStats.filter((_, i) => i % 2 === 0), correct: rowStats.filter((_, i) => i % 2 === 1), sums };
  } finally {
    set.destroy();
  }
}

describe.skipIf(!device)('softmax cross-entropy', () => {
  for (const [B, C] of [[1, 1], [3, 10], [150, 10], [65, 9]] as const) {
    it(`batch ${B}, classes ${C}`, async () => {
      const r = rng(B * C);
      const logits = r.floats(B * C, -20, 20), labels = r.ints(B, 0, C - 1);
      const got = await xent(logits, labels, B, C);
      const want = softmaxXentRef(logits, labels, B, C, 1 / B);
      expectClose('loss', got.loss, want.loss, [B], 1e-5, 1e-5);
      expectClose('dlogits', got.dlogits, want.dlogits, [B, C], 1e-6, 1e-4);
      expectClose('correct', got.correct, want.correct, [B], 0, 0);
      const sum = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0);
      expectClose('stats', got.sums, [sum(want.loss), sum(want.correct), B], [3], 1e-3, 1e-5);
    });
  }
  it('large logits stay finite; ties count as a hit (in_top_k); a NaN logit is a miss', async () => {
    const logits = Float32Array.from([1e30, -1e30, 0, /* tie */ 2, 2, 1, /* NaN label */ NaN, 0, 0]);
    const got = await xent(logits, Int32Array.from([0, 1, 0]), 3, 3);
    expect(Array.from(got.correct)).toEqual([1, 1, 0]);
    expect(Number.isFinite(got.loss[0]) && Number.isFinite(got.loss[1])).toBe(true);
    expectClose('loss', got.loss.slice(0, 2), softmaxXentRef(logits, [0, 1, 0], 3, 3, 1 / 3).loss.slice(0, 2), [2], 1e-5, 1e-5);
  });
  it('dlogits match central differences of the float64 mean loss', async () => {
    const B = 4, C = 5;
    const r = rng(9);
    const logits = r.floats(B * C, -3, 3), labels = r.ints(B, 0, C - 1);
    const got = await xent(logits, labels, B, C);
    const meanLoss = (l: Float64Array) => softmaxXentRef(l, labels, B, C, 1).loss.reduce((s, v) => s + v, 0) / B;
    const fd = finiteDifference(Float64Array.from(logits), meanLoss);
    expectClose('dlogits vs finite differences', got.dlogits, fd, [B, C], 1e-5, 1e-3);
  });
});

describe.skipIf(!device)('dense layer (matmul + bias; backward: two matmuls and a column sum)', () => {
  it('forward and backward match the reference and central differences of mean cross-entropy', async () => {
    const d = device!;
    const B = 9, H = 65, C = 10;
    const r = rng(17);
    const state = r.floats(B * H), wd = r.floats(H * C, -0.3, 0.3), bd = r.floats(C, -0.1, 0.1), labels = r.ints(B, 0, C - 1);
    const set = new BufferSet(d, 'test');
    try {
      const S = upload(set, state), W = upload(set, wd), Bd = upload(set, bd), Y = upload(set, labels);
      const logits = set.create('logits', B * C * 4), dlogits = set.create('dlogits', B * C * 4), rows = set.create('rows', B * 8);
      const dW = set.create('dW', H * C * 4), dB = set.create('dB', C * 4), dS = set.create('dS', B * H * 4);
      const [fwd, k, gW, gB, gS] = await Promise.all([
        matmul(d, { M: B, N: C, K: H, bias: true }),
        softmaxCrossEntropy(d, B, C),
        matmul(d, { M: H, N: C, K: B, transA: true }),
        colsum(d, B, C),
        matmul(d, { M: B, N: H, K: C, transB: true }),
      ]);
      run(d, [fwd, fwd.bind(S, W, logits, Bd)], [k.forwardBackward, k.forwardBackward.bind(logits, Y, dlogits, rows)],
        [gW, gW.bind(S, dlogits, dW)], [gB, gB.bind(dlogits, dB)], [gS, gS.bind(dlogits, W, dS)]);
      const [lg, dw, db, ds] = await Promise.all([readFloats(d, logits, 0, B * C), readFloats(d, dW, 0, H * C), readFloats(d, dB, 0, C), readFloats(d, dS, 0, B * H)]);
      expectClose('logits', lg, matmulRef(state, wd, B, C, H, false, false, bd), [B, C], 1e-5, 1e-4);
      const loss = (s: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>) =>
        softmaxXentRef(matmulRef(s, w, B, C, H, false, false, b), labels, B, C, 1).loss.reduce((a, v) => a + v, 0) / B;
      expectClose('dWd', dw, finiteDifference(Float64Array.from(wd), (w) => loss(state, w, bd)), [H, C], 1e-5, 1e-3);
      expectClose('dbd', db, finiteDifference(Float64Array.from(bd), (b) => loss(state, wd, b)), [C], 1e-5, 1e-3);
      expectClose('dstate', ds, finiteDifference(Float64Array.from(state), (s) => loss(s, wd, bd)), [B, H], 1e-5, 1e-3);
    } finally {
      set.destroy();
    }
  });
});

describe.skipIf(!device)('Adam', () => {
  it('10 steps match the float64 reference (params, m, v)', async () => {
    const d = device!;
    const P = 1000;
    const cfg = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
    const r = rng(23);
    const p0 = r.floats(P);
    const set = new BufferSet(d, 'test');
    try {
      const config = set.create('config', ADAM_CONFIG_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
      d.queue.writeBuffer(config, 0, adamConfigBytes(cfg));
      const schedule = set.create('schedule', ADAM_SCHEDULE_BYTES), params = upload(set, p0), m = set.create('m', P * 4), v = set.create('v', P * 4), grads = set.create('grads', P * 4);
      const k = await adam(d, P);
      const begin = k.begin.bind(config, schedule), update = k.update.bind(config, schedule, grads, params, m, v);
      const ref = { p: Float64Array.from(p0), m: new Float64Array(P), v: new Float64Array(P) };
      for (let t = 1; t <= 10; t++) {
        // Gradients of mixed scale, including zeros and tiny ones, where eps matters.
        const g = r.floats(P).map((x, i) => (i % 7 === 0 ? 0 : i % 5 === 0 ? x * 1e-6 : x * 10));
        d.queue.writeBuffer(grads, 0, g);
        run(d, [k.begin, begin], [k.update, update]);
        adamRef(ref.p, ref.m, ref.v, g, t, cfg);
      }
      const [gp, gm, gv, gs] = await Promise.all([readFloats(d, params, 0, P), readFloats(d, m, 0, P), readFloats(d, v, 0, P), readFloats(d, schedule, 0, 2)]);
      expect(gs[0]).toBe(10);
      expectClose('params', gp, ref.p, [P], 1e-6, 1e-5);
      expectClose('m', gm, ref.m, [P], 1e-7, 1e-5);
      expectClose('v', gv, ref.v, [P], 1e-9, 1e-5);
    } finally {
      set.destroy();
    }
  });
});

describe.skipIf(!device)('swap01 (batch-major <-> time-major)', () => {
  for (const [A, B, C] of [[1, 1, 1], [3, 9, 65], [150, 28, 28]] as const) {
    it(`[${A}, ${B}, ${C}]`, async () => {
      const d = device!;
      const input = rng(A + B + C).floats(A * B * C);
      const set = new BufferSet(d, 'test');
      try {
        const inp = upload(set, input), out = set.create('out', input.byteLength);
        const p = await swap01(d, A, B, C);
        run(d, [p, p.bind(inp, out)]);
        expectClose('swap01', await readFloats(d, out, 0, A * B * C), swap01Ref(input, A, B, C), [B, A, C], 0, 0);
      } finally {
        set.destroy();
      }
    });
  }
});

