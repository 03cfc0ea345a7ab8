// The float64 references of the LSTM and GRU cells (src/cells/lstm.ts, gru.ts) and of the recurrence through them
// (src/reference/index.ts), with no GPU: each cell's step against values worked out by hand; whole sequences against
// naive implementations written here from the equations (gate by gate, PyTorch's algebra), with lengths 0, 1, T and
// between; central differences of the recurrence (h0 and length 0 included) and of whole unrolled stacks through the
// gradcheck harness (LSTM, both GRU forms, stacked, masked and not, returnSequences on and off, both losses);
// pre-activations near ±300; the configs, their errors and the initialisers. (The same cells on the GPU:
// test/cells-gpu.test.ts.)
import { describe, expect, it } from 'vitest';
import { sigmoid, type Cell } from '../src/cells/cell.js';
import { cellOf, cells, gru, gruResetBefore, lstm } from '../src/cells/index.js';
import { InputError } from '../src/errors.js';
import { layers, planSequential, type SequentialConfig } from '../src/model/config.js';
import { initialWeights } from '../src/model/init.js';
import { Random } from '../src/random.js';
import { describeEntry, gradcheck } from '../src/reference/gradcheck.js';
import { matmulRef, rnnBackwardRef, rnnForwardRef, type RnnRefParams } from '../src/reference/index.js';
import { backwardRef, forwardRef } from '../src/reference/sequential.js';
import { randomBatch } from './sequential-batches.js';

const xent = 'softmax-cross-entropy' as const;
const rnn = layers.rnn, dense = layers.dense;

function floats(r: Random, n: number, lo = -1, hi = 1): Float64Array {
  return Float64Array.from({ length: n }, () => lo + (hi - lo) * r.next());
}

/** max |a - b| / max(|b|, 1): the worst relative error, absolute below 1. */
function worst(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), 1));
  return Number.isNaN(w) ? Infinity : w;
}

function caught(work: () => unknown): InputError {
  try { work(); } catch (e) { expect(e).toBeInstanceOf(InputError); return e as InputError; }
  throw new Error('no InputError');
}

// ---- one step, by hand ----

describe('one step worked out by hand (H = 1, I = 1, Wx = Wh = 0: only the biases and the states count)', () => {
  const atanhHalf = Math.atanh(0.5); // tanh(atanhHalf) = 0.5, tanh(2·atanhHalf) = 0.8
  const step = (cell: Cell, p: Partial<RnnRefParams> & { b: number[] }, steps: number, h0 = 0) =>
    rnnForwardRef({ x: new Float64Array(steps), wx: new Float64Array(cell.gates), wh: new Float64Array(cell.gates), batch: 1, steps, inputs: 1, units: 1, h0: [h0], ...p }, cell);

  it('lstm: i = 1/2, f = 3/4, g = 1/2, o = 1/4: c = 1/4 then 3/4·1/4 + 1/4, h = o·tanh(c)', () => {
    const r = step(lstm, { b: [0, Math.log(3), atanhHalf, -Math.log(3)] }, 2);
    expect(r.cellStates[1]![1]![0]).toBeCloseTo(0.25, 15);
    expect(r.cellStates[2]![1]![0]).toBeCloseTo(0.4375, 15);
    expect(r.outputs[0]).toBeCloseTo(0.25 * Math.tanh(0.25), 15);
    expect(r.outputs[1]).toBeCloseTo(0.25 * Math.tanh(0.4375), 15);
  });

  it('gru (resetAfter): r = z = 1/2 and bh_n = 2·atanh(1/2): n = tanh(atanh(1/2) + r·bh_n) = 0.8, h = (1 - z)·n + z·h0', () => {
    const r = step(gru, { b: [0, 0, atanhHalf], bh: [0, 0, 2 * atanhHalf] }, 1, 0.3);
    expect(r.state[0]).toBeCloseTo(0.5 * 0.8 + 0.5 * 0.3, 15);
  });

  it('gru-reset-before: u = r·h0 = 1/2 (h0 = 1), Un = 2·atanh(1/2): n = tanh(atanh(1/2) + u·Un) = 0.8; z = 3/4 keeps 3/4 of h0', () => {
    const r = rnnForwardRef({ x: [0], wx: [0, 0, 0], wh: [0, 0, 2 * atanhHalf], b: [0, Math.log(3), atanhHalf], h0: [1], batch: 1, steps: 1, inputs: 1, units: 1 }, gruResetBefore);
    expect(r.state[0]).toBeCloseTo(0.25 * 0.8 + 0.75 * 1, 15);
  });

  it('sigmoid is finite and exact at the ends: 0 and 1 past |z| = 40, no NaN at ±1e4', () => {
    for (const z of [-1e4, -800, -300, -40]) {
      expect(sigmoid(z)).toBeGreaterThanOrEqual(0);
      expect(sigmoid(z)).toBeLessThan(1e-17);
      expect(sigmoid(-z)).toBe(1);
    }
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(-700) / Math.exp(-700)).toBeCloseTo(1, 12); // full relative precision far out on the left
  });
});

// ---- whole sequences against naive implementations ----

interface Naive { outputs: Float64Array; h: Float64Array; c: Float64Array }

/** Column j of block k of a [rows, G·H] matrix times the row vector v: Σ_i v[i]·m[i, k·H + j]. */
function dot(v: ArrayLike<number>, m: ArrayLike<number>, rows: number, N: number, col: number): number {
  let s = 0;
  for (let i = 0; i < rows; i++) s += v[i]! * m[i * N + col]!;
  return s;
}

/** LSTM or GRU over each sequence on its own, to its length, gate by gate; outputs zero past it. */
function naive(kind: 'lstm' | 'gru' | 'gru-reset-before', p: RnnRefParams): Naive {
  const { batch: B, steps: T, inputs: I, units: H } = p;
  const G = kind === 'lstm' ? 4 : 3, N = G * H;
  const outputs = new Float64Array(B * T * H), hAll = new Float64Array(B * H), cAll = new Float64Array(B * H);
  for (let s = 0; s < B; s++) {
    let h = Array.from({ length: H }, (_, j) => (p.h0 ? p.h0[s * H + j]! : 0)), c = new Array<number>(H).fill(0);
    const L = p.lengths ? p.lengths[s]! : T;
    for (let t = 0; t < L; t++) {
      const x = Array.from({ length: I }, (_, k) => p.x[(s * T + t) * I + k]!);
      const xin = (k: number, j: number) => p.b[k * H + j]! + dot(x, p.wx, I, N, k * H + j);
      const hid = (v: number[], k: number, j: number) => (p.bh ? p.bh[k * H + j]! : 0) + dot(v, p.wh, H, N, k * H + j);
      if (kind === 'lstm') {
        const gate = (k: number, j: number) => xin(k, j) + hid(h, k, j);
        const i = h.map((_, j) => sigmoid(gate(0, j))), f = h.map((_, j) => sigmoid(gate(1, j)));
        const g = h.map((_, j) => Math.tanh(gate(2, j))), o = h.map((_, j) => sigmoid(gate(3, j)));
        c = c.map((cj, j) => f[j]! * cj + i[j]! * g[j]!);
        h = c.map((cj, j) => o[j]! * Math.tanh(cj));
      } else {
        const r = h.map((_, j) => sigmoid(xin(0, j) + hid(h, 0, j))), z = h.map((_, j) => sigmoid(xin(1, j) + hid(h, 1, j)));
        const rh = h.map((hj, j) => r[j]! * hj);
        const n = h.map((_, j) => Math.tanh(xin(2, j) + (kind === 'gru' ? r[j]! * hid(h, 2, j) : hid(rh, 2, j))));
        h = h.map((hj, j) => n[j]! + z[j]! * (hj - n[j]!)); // PyTorch's algebra for (1 - z)·n + z·h
      }
      outputs.set(h, (s * T + t) * H);
    }
    hAll.set(h, s * H);
    cAll.set(c, s * H);
  }
  return { outputs, h: hAll, c: cAll };
}

const CELLS = [['lstm', lstm], ['gru', gru], ['gru-reset-before', gruResetBefore]] as const;

/** Random parameters for `cell`, biases included (bh when the cell has it), weights of about `scale`. */
function randomParams(cell: Cell, o: { B: number; T: number; I: number; H: number; seed: number; scale?: number; lengths?: number[]; h0?: boolean }): RnnRefParams {
  const r = new Random(o.seed), s = o.scale ?? 1, N = cell.gates * o.H;
  return {
    batch: o.B, steps: o.T, inputs: o.I, units: o.H,
    x: floats(r, o.B * o.T * o.I), wx: floats(r, o.I * N, -s, s), wh: floats(r, o.H * N, -s, s), b: floats(r, N, -s, s),
    ...('bh' in cell.params(o.I, o.H) ? { bh: floats(r, N, -s, s) } : {}),
    ...(o.h0 ? { h0: floats(r, o.B * o.H) } : {}),
    ...(o.lengths ? { lengths: Int32Array.from(o.lengths) } : {}),
  };
}

describe('rnnForwardRef through each cell matches a naive implementation of its equations', () => {
  // 5 sequences: lengths 0 (nothing runs: outputs zero, state h0), 1, T, and between.
  const [B, T, I, H] = [5, 6, 3, 4];
  for (const [kind, cell] of CELLS) {
    for (const lengths of [undefined, [0, 1, T, 3, 5]]) {
      it(`${kind}, ${lengths ? `lengths ${lengths.join(', ')}` : 'full length'}`, () => {
        const p = randomParams(cell, { B, T, I, H, seed: 3, lengths, h0: true });
        const want = naive(kind, p), got = rnnForwardRef(p, cell);
        expect(worst(got.outputs, want.outputs)).toBeLessThan(1e-14);
        expect(worst(got.state, want.h)).toBeLessThan(1e-14);
        if (kind === 'lstm') expect(worst(got.cellStates[T]![1]!, want.c)).toBeLessThan(1e-14);
        if (lengths) expect(Array.from(got.state.subarray(0, H))).toEqual(Array.from(p.h0!).slice(0, H)); // length 0
      });
    }
  }

  it('the two GRU forms differ (r applies before or after the product with Un) and agree when Un is diagonal', () => {
    const p = randomParams(gruResetBefore, { B: 2, T: 3, I: 2, H: 3, seed: 4 });
    const withBh = { ...p, bh: new Float64Array(9) };
    expect(worst(rnnForwardRef(withBh, gru).outputs, rnnForwardRef(p, gruResetBefore).outputs)).toBeGreaterThan(1e-3);
    const wh = Float64Array.from(p.wh);
    for (let k = 0; k < 3; k++) for (let j = 0; j < 3; j++) if (k !== j) wh[k * 9 + 6 + j] = 0; // Un diagonal: r⊙(h·Un) = (r⊙h)·Un
    expect(worst(rnnForwardRef({ ...withBh, wh }, gru).outputs, rnnForwardRef({ ...p, wh }, gruResetBefore).outputs)).toBeLessThan(1e-15);
  });
});

// ---- gradients: the recurrence alone (h0, length 0), then whole stacks ----

/** Central differences of L = Σ dOut·outputs + Σ dState·state with respect to one array of p, element by element. */
function numeric(cell: Cell, p: RnnRefParams, key: 'x' | 'wx' | 'wh' | 'b' | 'bh' | 'h0', dOut: Float64Array, dState: Float64Array, eps = 1e-6): Float64Array {
  const v = Float64Array.from(p[key]!);
  const loss = () => {
    const r = rnnForwardRef({ ...p, [key]: v }, cell);
    let s = 0;
    for (let i = 0; i < dOut.length; i++) s += dOut[i]! * r.outputs[i]!;
    for (let i = 0; i < dState.length; i++) s += dState[i]! * r.state[i]!;
    return s;
  };
  return Float64Array.from(v, (keep, i) => {
    v[i] = keep + eps; const up = loss();
    v[i] = keep - eps; const down = loss();
    v[i] = keep;
    return (up - down) / (2 * eps);
  });
}

describe('rnnBackwardRef through each cell matches central differences, h0 and length 0 included', () => {
  const [B, T, I, H] = [4, 4, 2, 3];
  for (const [kind, cell] of CELLS) {
    for (const lengths of [undefined, [0, 1, T, 2]]) {
      it(`${kind}, ${lengths ? `lengths ${lengths.join(', ')}` : 'full length'}: dx, dWx, dWh, db${cell === gru ? ', dbh' : ''}, dh0`, () => {
        const p = randomParams(cell, { B, T, I, H, seed: 5, lengths, h0: true });
        const r = new Random(6), dOut = floats(r, B * T * H), dState = floats(r, B * H);
        const g = rnnBackwardRef(p, dOut, dState, cell);
        const keys: Array<['x' | 'wx' | 'wh' | 'b' | 'bh' | 'h0', Float64Array]> = [['x', g.dx], ['wx', g.dwx], ['wh', g.dwh], ['b', g.db], ['h0', g.dh0]];
        if (p.bh) keys.push(['bh', g.dbh!]);
        expect(g.dbh === undefined).toBe(p.bh === undefined);
        // measured worst 2e-9 (eps 1e-6)
        for (const [key, analytic] of keys) expect(worst(analytic, numeric(cell, p, key, dOut, dState)), key).toBeLessThan(1e-8);
        if (lengths) {
          // Length 0: x never reaches the output, and h0 goes straight to the state.
          expect(g.dx.subarray(0, T * I).every((v) => v === 0)).toBe(true);
          expect(Array.from(g.dh0.subarray(0, H))).toEqual(Array.from(dState.subarray(0, H)));
        }
      });
    }
  }
});

const T = 5;
const MIXED = [1, T, 3, 2]; // 1, steps and between (a batch's lengths are at least 1)
// Tolerance 1e-6 (relative, absolute below 1e-4) as test/gradcheck-harness.test.ts. Measured worst on these stacks:
// 3e-7, always at gradients below that floor (absolute differences up to 3e-11: central-difference noise at eps 1e-5).
// A wrong term fails by orders of magnitude (a GRU dzh_n without r, an LSTM dc without its path from h: 0.3 and up).
const STACKS: Array<[string, SequentialConfig]> = [
  ['lstm, class per sequence', { inputs: 3, layers: [rnn({ cell: 'lstm', units: 4 }), dense({ units: 3 })], loss: xent, seed: 1 }],
  ['lstm with returnSequences, mse per step, pytorch initialiser, no forget bias', { inputs: 2, layers: [rnn({ cell: 'lstm', units: 3, returnSequences: true, initialiser: 'pytorch', forgetBias: false })], loss: 'mse', seed: 2 }],
  ['gru, class per step, pytorch initialiser (bh not zero)', { inputs: 3, layers: [rnn({ cell: 'gru', units: 4, returnSequences: true, initialiser: 'pytorch' }), dense({ units: 3 })], loss: xent, seed: 3 }],
  ['gru, mse on the last state', { inputs: 2, layers: [rnn({ cell: 'gru', units: 3 }), dense({ units: 2 })], loss: 'mse', seed: 4 }],
  ['gru-reset-before, class per sequence', { inputs: 3, layers: [rnn({ cell: 'gru', units: 4, resetAfter: false, initialiser: 'pytorch' }), dense({ units: 3 })], loss: xent, seed: 5 }],
  ['gru-reset-before with returnSequences, mse per step', { inputs: 2, layers: [rnn({ cell: 'gru', units: 3, resetAfter: false, returnSequences: true, initialiser: 'glorot' }), dense({ units: 2 })], loss: 'mse', seed: 6 }],
  ['lstm + gru + dense, class per sequence', { inputs: 3, layers: [rnn({ cell: 'lstm', units: 4, returnSequences: true, initialiser: 'pytorch' }), rnn({ cell: 'gru', units: 3, initialiser: 'pytorch' }), dense({ units: 3 })], loss: xent, seed: 7 }],
  ['lstm + gru + dense, mse per step', { inputs: 2, layers: [rnn({ cell: 'lstm', units: 3, returnSequences: true }), rnn({ cell: 'gru', units: 4, returnSequences: true, initialiser: 'pytorch' }), dense({ units: 2 })], loss: 'mse', seed: 8 }],
  ['one unit each: lstm + gru + gru-reset-before, mse per step', { inputs: 1, layers: [rnn({ cell: 'lstm', units: 1, returnSequences: true, initialiser: 'pytorch' }), rnn({ cell: 'gru', units: 1, returnSequences: true, initialiser: 'pytorch' }), rnn({ cell: 'gru', resetAfter: false, units: 1, returnSequences: true, initialiser: 'pytorch' })], loss: 'mse', seed: 10 }],
  ['gru-reset-before + lstm + tanh + dense, class per step', { inputs: 2, layers: [rnn({ cell: 'gru', resetAfter: false, units: 3, returnSequences: true, initialiser: 'pytorch' }), rnn({ cell: 'lstm', units: 3, returnSequences: true, initialiser: 'pytorch' }), rnn({ units: 3, returnSequences: true }), dense({ units: 3 })], loss: xent, seed: 9 }],
];

describe('whole unrolled stacks of LSTM and GRU layers: backwardRef matches central differences (the gradcheck harness)', () => {
  for (const [name, config] of STACKS) {
    for (const lengths of [undefined, MIXED]) {
      it(`${name}, ${lengths ? `lengths ${lengths.join(', ')}` : 'full length'}`, () => {
        const batch = randomBatch(config, { n: 4, steps: T, lengths, seed: 100 + config.seed! });
        const r = gradcheck(config, initialWeights(config), batch, { input: true });
        expect(r.worst.error, describeEntry(r.worst)).toBeLessThan(1e-6);
        expect(Object.keys(r.perTensor)).toEqual([...Object.keys(initialWeights(config)), 'x']);
      });
    }
  }

  it('the harness catches a wrong GRU recurrent-bias gradient, and names it', () => {
    const config = STACKS[2]![1];
    const w = initialWeights(config), batch = randomBatch(config, { n: 4, steps: T, lengths: MIXED, seed: 103 });
    const g = Object.fromEntries(Object.entries(backwardRef(config, w, batch).grads).map(([k, t]) => [k, Float64Array.from(t.data)]));
    g['layers.0.bh']![9] *= 1.01; // the n block: where dzh and dzx differ
    const r = gradcheck(config, w, batch, { analytic: g });
    expect([r.worst.parameter, r.worst.index]).toEqual(['layers.0.bh', 9]);
    expect(r.worst.error).toBeGreaterThan(1e-3);
  });
});

// ---- saturation ----

describe('pre-activations near ±300 stay finite', () => {
  for (const [kind, cell] of CELLS) {
    it(`${kind}: forward and every gradient finite, states within their bounds`, () => {
      // x in [-1, 1), Wx, Wh and b within ±200 over 3 inputs and 5 units: |z| past 250.
      const [B, T, I, H] = [3, 4, 3, 5];
      const p = randomParams(cell, { B, T, I, H, seed: 11, scale: 200, lengths: [1, 4, 2], h0: true });
      const r = new Random(12);
      const f = rnnForwardRef(p, cell);
      let largest = 0;
      const zx = matmulRef(p.x, p.wx, B * T, cell.gates * H, I, false, false, p.b);
      for (const v of zx) largest = Math.max(largest, Math.abs(v));
      expect(largest).toBeGreaterThan(250);
      expect(f.outputs.every(Number.isFinite) && f.state.every(Number.isFinite)).toBe(true);
      expect(f.outputs.every((v) => Math.abs(v) <= 1)).toBe(true);
      if (kind === 'lstm') expect(f.cellStates[T]![1]!.every((v) => Math.abs(v) <= T)).toBe(true); // |c_t| <= |c_{t-1}| + 1
      const g = rnnBackwardRef(p, floats(r, B * T * H), floats(r, B * H), cell);
      for (const [k, v] of Object.entries(g)) expect(v.every(Number.isFinite), k).toBe(true);
    });
  }
});

// ---- configs, parameters, initialisers ----

describe('layers.rnn with cell lstm and gru: options, defaults and errors', () => {
  const base = (layer: object): SequentialConfig => ({ inputs: 3, layers: [layer as never, dense({ units: 2 })], loss: xent });

  it('the registry names tanh, lstm and gru; resetAfter: false selects gru-reset-before', () => {
    expect(Object.keys(cells)).toEqual(['tanh', 'lstm', 'gru']);
    expect([cellOf('lstm'), cellOf('gru'), cellOf('gru', 'cell', { resetAfter: true }), cellOf('gru', 'cell', { resetAfter: false })]).toEqual([lstm, gru, gru, gruResetBefore]);
    expect([lstm.gates, lstm.states, gru.gates, gru.states, gruResetBefore.gatedFrom]).toEqual([4, 2, 3, 1, 2]);
  });

  it('parameter names and shapes: lstm wx [I, 4H], wh [H, 4H], b [4H]; gru the same with 3H, and bh [3H] with resetAfter', () => {
    const shapes = (layer: object) => Object.fromEntries(planSequential(base(layer)).params.map((p) => [p.name, p.shape]));
    expect(shapes(rnn({ cell: 'lstm', units: 5 }))).toEqual({ 'layers.0.wx': [3, 20], 'layers.0.wh': [5, 20], 'layers.0.b': [20], 'layers.1.w': [5, 2], 'layers.1.b': [2] });
    expect(shapes(rnn({ cell: 'gru', units: 5 }))).toEqual({ 'layers.0.wx': [3, 15], 'layers.0.wh': [5, 15], 'layers.0.b': [15], 'layers.0.bh': [15], 'layers.1.w': [5, 2], 'layers.1.b': [2] });
    expect(shapes(rnn({ cell: 'gru', units: 5, resetAfter: false }))).toEqual({ 'layers.0.wx': [3, 15], 'layers.0.wh': [5, 15], 'layers.0.b': [15], 'layers.1.w': [5, 2], 'layers.1.b': [2] });
  });

  it('defaults: lstm forgetBias true, gru resetAfter true, both orthogonal (Keras); tanh unchanged', () => {
    const layer = (l: object) => planSequential(base(l)).layers[0]!.layer;
    expect(layer(rnn({ cell: 'lstm', units: 2 }))).toEqual({ type: 'rnn', units: 2, cell: 'lstm', returnSequences: false, initialiser: 'orthogonal', forgetBias: true });
    expect(layer(rnn({ cell: 'gru', units: 2 }))).toEqual({ type: 'rnn', units: 2, cell: 'gru', returnSequences: false, initialiser: 'orthogonal', resetAfter: true });
    expect(layer(rnn({ cell: 'gru', units: 2, resetAfter: false, initialiser: 'pytorch' }))).toEqual({ type: 'rnn', units: 2, cell: 'gru', returnSequences: false, initialiser: 'pytorch', resetAfter: false });
    expect(layer(rnn({ units: 2 }))).toEqual({ type: 'rnn', units: 2, cell: 'tanh', returnSequences: false, initialiser: 'glorot' });
  });

  it('forgetBias only for lstm, resetAfter only for gru, both booleans: InputErrors naming the field', () => {
    let e = caught(() => planSequential(base(rnn({ cell: 'gru', units: 2, forgetBias: true }))));
    expect([e.field, e.actual]).toEqual(['layers.0.forgetBias', 'boolean true']);
    expect(e.expected).toMatch(/no forgetBias for cell 'gru' \(an option of cell 'lstm' only\)/);
    expect(caught(() => planSequential(base(rnn({ units: 2, forgetBias: false })))).field).toBe('layers.0.forgetBias');
    e = caught(() => planSequential(base(rnn({ cell: 'lstm', units: 2, resetAfter: true }))));
    expect([e.field, e.expected]).toEqual(['layers.0.resetAfter', "no resetAfter for cell 'lstm' (an option of cell 'gru' only)"]);
    expect(caught(() => planSequential(base(rnn({ units: 2, resetAfter: false })))).field).toBe('layers.0.resetAfter');
    e = caught(() => planSequential(base(rnn({ cell: 'lstm', units: 2, forgetBias: 1 as never }))));
    expect([e.field, e.expected]).toEqual(['layers.0.forgetBias', 'true or false']);
    expect(caught(() => planSequential(base(rnn({ cell: 'gru', units: 2, resetAfter: 'yes' as never })))).field).toBe('layers.0.resetAfter');
    expect(caught(() => planSequential(base(rnn({ cell: 'GRU' as never, units: 2 })))).expected).toBe("one of 'tanh', 'lstm', 'gru'");
    expect(caught(() => planSequential(base(rnn({ cell: 'gru', units: 2, reset_after: true } as never)))).field).toBe('layers.0.reset_after');
  });
});

describe('initialisers of the multi-gate cells', () => {
  const [I, H] = [4, 5];
  const weights = (layer: object, seed = 1) => initialWeights({ inputs: I, layers: [layer as never], loss: 'mse', seed });
  const within = (d: Float32Array, bound: number) => d.every((v) => Math.abs(v) <= bound) && d.some((v) => Math.abs(v) > bound / 2);

  for (const cell of ['lstm', 'gru'] as const) {
    const G = cell === 'lstm' ? 4 : 3, N = G * H;
    const zeroBias = cell === 'lstm' ? { forgetBias: false } : {};

    it(`${cell}, orthogonal (the default): Keras's glorot_uniform Wx over [I, ${G}H], Orthogonal Wh [H, ${G}H] with Wh·Wh^T = I, zero biases`, () => {
      const w = weights(rnn({ cell, units: H, ...zeroBias }));
      expect(within(w['layers.0.wx']!.data, Math.sqrt(6 / (I + N)))).toBe(true);
      const wh = w['layers.0.wh']!.data;
      matmulRef(wh, wh, H, H, N, false, true).forEach((v, i) => expect(Math.abs(v - (i % (H + 1) === 0 ? 1 : 0))).toBeLessThan(1e-6));
      // Orthonormal rows of the whole [H, G·H], not an orthogonal matrix per gate block: a block's columns are not unit.
      let block0 = 0;
      for (let k = 0; k < H; k++) block0 += wh[k * N]! ** 2;
      expect(Math.abs(block0 - 1)).toBeGreaterThan(1e-3);
      expect(w['layers.0.b']!.data.every((v) => v === 0)).toBe(true);
      if (cell === 'gru') expect(w['layers.0.bh']!.data.every((v) => v === 0)).toBe(true);
      expect(weights(rnn({ cell, units: H }), 2)['layers.0.wh']!.data).not.toEqual(wh);
      expect(weights(rnn({ cell, units: H, ...zeroBias }))).toEqual(w);
    });

    it(`${cell}, glorot: one limit sqrt(6 / (I + H + ${G}H)) over [Wx; Wh], drawn Wx then Wh from the seed`, () => {
      const w = weights(rnn({ cell, units: H, initialiser: 'glorot', ...zeroBias }));
      const random = new Random(1), limit = Math.sqrt(6 / (I + H + N));
      expect(w['layers.0.wx']!.data).toEqual(random.uniform(I * N, limit));
      expect(w['layers.0.wh']!.data).toEqual(random.uniform(H * N, limit));
      expect(w['layers.0.b']!.data.every((v) => v === 0)).toBe(true);
    });

    it(`${cell}, pytorch: every weight and bias uniform within ±1/sqrt(H), drawn wx, wh, b${cell === 'gru' ? ', bh' : ''}`, () => {
      const w = weights(rnn({ cell, units: H, initialiser: 'pytorch', ...zeroBias }));
      const random = new Random(1), bound = 1 / Math.sqrt(H);
      for (const p of ['wx', 'wh', 'b', ...(cell === 'gru' ? ['bh'] : [])]) {
        expect(w[`layers.0.${p}`]!.data).toEqual(random.uniform(w[`layers.0.${p}`]!.data.length, bound));
      }
    });
  }

  it('lstm forgetBias (the default) adds 1 to the f block of b, whichever initialiser', () => {
    for (const initialiser of ['orthogonal', 'glorot', 'pytorch'] as const) {
      const on = weights(rnn({ cell: 'lstm', units: H, initialiser })), off = weights(rnn({ cell: 'lstm', units: H, initialiser, forgetBias: false }));
      const b = on['layers.0.b']!.data, b0 = off['layers.0.b']!.data;
      b.forEach((v, j) => expect(v, `${initialiser} b[${j}]`).toBe(j >= H && j < 2 * H ? Math.fround(b0[j]! + 1) : b0[j]!));
      expect(on['layers.0.wh']).toEqual(off['layers.0.wh']);
    }
  });

  it('gru resetAfter true and false draw the same wx and wh (bh comes after them in the stream)', () => {
    const a = weights(rnn({ cell: 'gru', units: H, initialiser: 'pytorch' })), b = weights(rnn({ cell: 'gru', units: H, initialiser: 'pytorch', resetAfter: false }));
    expect([a['layers.0.wx'], a['layers.0.wh'], a['layers.0.b']]).toEqual([b['layers.0.wx'], b['layers.0.wh'], b['layers.0.b']]);
    expect(b['layers.0.bh']).toBeUndefined();
  });
});

describe('the reference of a stack runs the cell its config names', () => {
  it('forwardRef of [gru(resetAfter false), dense] is the gru-reset-before recurrence, not the reset-after one', () => {
    const config: SequentialConfig = { inputs: 2, layers: [rnn({ cell: 'gru', units: 3, resetAfter: false, initialiser: 'pytorch' })], loss: 'mse', seed: 3 };
    const w = initialWeights(config), batch = randomBatch(config, { n: 2, steps: 4, lengths: [4, 2], seed: 4 });
    const p: RnnRefParams = { x: batch.x, wx: w['layers.0.wx']!.data, wh: w['layers.0.wh']!.data, b: w['layers.0.b']!.data, lengths: batch.lengths, batch: 2, steps: 4, inputs: 2, units: 3 };
    expect(forwardRef(config, w, batch).outputs).toEqual(rnnForwardRef(p, gruResetBefore).state);
    expect(forwardRef(config, w, batch).outputs).not.toEqual(rnnForwardRef({ ...p, bh: new Float64Array(9) }, gru).state);
  });
});
