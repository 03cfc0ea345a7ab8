// The cell seam (src/cells/): each cell's WGSL epilogue against its float64 reference step, value by value (|z| near
// 0, 20 and 300 included); the recurrence through RnnSchedule with the cell passed explicitly, per-step and fused,
// against rnnForwardRef / rnnBackwardRef through the same cell; a second one-gate cell (softsign, defined here) to
// show that the scheduler, the kernels and the reference run whatever cell they are given; the LSTM and GRU step math
// in WGSL, one unit per invocation, against their reference steps (the recurrence with them: test/cells-gpu.test.ts);
// the registry; and the refusal of cells no kernel runs.
import { describe, expect, it } from 'vitest';
import recurrenceSource from '../shaders/recurrence.wgsl?raw';
import fusedSource from '../shaders/recurrence_fused.wgsl?raw';
import gatesSource from '../shaders/recurrence_gates.wgsl?raw';
import { gateParams, type Cell } from '../src/cells/cell.js';
import { cellOf, cells, gru, gruResetBefore, lstm, tanh } from '../src/cells/index.js';
import { BufferSet, InputError, liveBufferCount, readFloats, RnnSchedule, setAutotune, type RnnBindings } from '../src/index.js';
import { program } from '../src/gpu/shader.js';
import { rnnBackwardRef, rnnForwardRef } from '../src/reference/index.js';
import { scheduled, type Params } from './gates-harness.js';
import { expectClose, rng, run, testDevice, upload } from './helpers.js';

const device = await testDevice();

/** softsign: h = z / (1 + |z|), dh/dz = (1 - |h|)^2. One gate, one state, like tanh: the kernels run it as they are. */
const softsign: Cell = {
  name: 'softsign',
  gates: 1,
  states: 1,
  wgsl: `
fn cellForward(z: f32) -> f32 { return z / (1.0 + abs(z)); }
fn cellForward4(z: vec4<f32>) -> vec4<f32> { return z / (1.0 + abs(z)); }
fn cellBackward(h: f32, dh: f32) -> f32 { let a = 1.0 - abs(h); return dh * a * a; }
fn cellBackward4(h: vec4<f32>, dh: vec4<f32>) -> vec4<f32> { let a = 1.0 - abs(h); return dh * a * a; }
`,
  params: gateParams(1),
  initialiser: 'glorot',
  reference: {
    forward: (zx, zh) => [Float64Array.from(zx, (v, j) => (v + zh[j]!) / (1 + Math.abs(v + zh[j]!)))],
    backward: (_zx, _zh, before, after, dAfter) => {
      const dz = Float64Array.from(dAfter[0]!, (g, j) => g * (1 - Math.abs(after[0]![j]!)) ** 2);
      return { dzx: dz, dzh: dz.slice(), dBefore: [new Float64Array(before[0]!.length)] };
    },
  },
};

describe('the cell registry', () => {
  it('names the tanh cell: one gate block, one state, parameters [I, H], [H, H], [H]', () => {
    expect(cellOf('tanh')).toBe(tanh);
    expect(Object.keys(cells)).toEqual(['tanh', 'lstm', 'gru']); // lstm and gru: test/cells-reference.test.ts
    expect(tanh.params(3, 5)).toEqual({ wx: [3, 5], wh: [5, 5], b: [5] });
    expect(gateParams(4)(3, 5)).toEqual({ wx: [3, 20], wh: [5, 20], b: [20] });
  });

  it('refuses an unknown cell with an InputError naming the field', () => {
    for (const [name, field] of [['nope', 'cell'], [undefined, 'layers.1.cell'], ['toString', 'cell']] as const) {
      let error: unknown;
      try { cellOf(name, field); } catch (e) { error = e; }
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).field).toBe(field);
      expect((error as InputError).message).toMatch(/'tanh'/);
    }
  });

  it('the recurrence shaders know no cell: its epilogue comes in through the CELL define', () => {
    for (const source of [recurrenceSource, fusedSource, gatesSource]) {
      expect(source).not.toMatch(/tanh/i);
      expect(source).toContain('${CELL}');
    }
  });
});

// ---- the WGSL epilogue alone, value by value ----

const EPILOGUE = `
\${CELL}
@group(0) @binding(0) var<storage, read> z: array<vec4<f32>>;        // [N / 4]
@group(0) @binding(1) var<storage, read> hd: array<vec4<f32>>;       // [2, N / 4]: h, then dh
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>; // [4, N / 4]: forward, forward4, backward, backward4

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= \${N4}u) { return; }
  let zv = z[i];
  let h = hd[i];
  let dh = hd[\${N4}u + i];
  out[i] = vec4<f32>(cellForward(zv.x), cellForward(zv.y), cellForward(zv.z), cellForward(zv.w));
  out[\${N4}u + i] = cellForward4(zv);
  out[2u * \${N4}u + i] = vec4<f32>(cellBackward(h.x, dh.x), cellBackward(h.y, dh.y), cellBackward(h.z, dh.z), cellBackward(h.w, dh.w));
  out[3u * \${N4}u + i] = cellBackward4(h, dh);
}
`;

/** The cell's four WGSL functions on z, and on (h, dh): forward (scalar, vec4) and dz (scalar, vec4). */
async function epilogue(cell: Cell, z: Float32Array, h: Float32Array, dh: Float32Array) {
  const d = device!;
  const n = z.length, n4 = n / 4;
  const set = new BufferSet(d, 'cell test');
  try {
    const p = await program(d, `cell ${cell.name}`, EPILOGUE, { CELL: cell.wgsl, N4: n4 }, 'main', ['read', 'read', 'storage'], [Math.ceil(n4 / 64), 1, 1]);
    const hdData = new Float32Array(2 * n);
    hdData.set(h);
    hdData.set(dh, n);
    const out = set.create('out', 4 * n * 4);
    run(d, [p, p.bind(upload(set, z, 'z'), upload(set, hdData, 'hd'), out)]);
    const all = await readFloats(d, out, 0, 4 * n);
    return { forward: all.subarray(0, n), forward4: all.subarray(n, 2 * n), backward: all.subarray(2 * n, 3 * n), backward4: all.subarray(3 * n) };
  } finally {
    set.destroy();
  }
}

// Near 0 (both sides of the series' 0.125 edge), in the sensitive range, near 20 (float32 tanh is 1 from about 9) and
// near 300 (exp(2·300) overflows: the built-in tanh may give NaN there).
const Z_EDGES = [0, 1e-8, 1e-4, 0.01, 0.1, 0.124, 0.125, 0.126, 0.3, 0.5, 0.9, 1, 2, 5, 9, 19.5, 20, 20.5, 88, 89, 299, 300, 301, 1e4];

describe.skipIf(!device)('the tanh cell\'s WGSL epilogue matches its float64 reference', () => {
  it(`forward and backward at |z| from 0 to 1e4 (${2 * Z_EDGES.length} values, both signs, plus random ones)`, async () => {
    const r = rng(17);
    const values = [...Z_EDGES, ...Z_EDGES.map((v) => -v), ...Array.from(r.floats(32, -4, 4))];
    while (values.length % 4) values.push(0.25);
    const z = Float32Array.from(values);
    const h = Float32Array.from(z, Math.tanh); // the output the kernels keep (float32)
    const dh = r.floats(z.length, -2, 2);
    const got = await epilogue(tanh, z, h, dh);
    const n = z.length;
    // The reference step on all n values at once: one "row" of n units.
    const z64 = Float64Array.from(z), zh = new Float64Array(n), before = [new Float64Array(n)]; // z = zx + 0
    const wantForward = tanh.reference.forward(z64, zh, before)[0]!;
    const wantBackward = tanh.reference.backward(z64, zh, before, [Float64Array.from(h)], [Float64Array.from(dh)]).dzx;
    expectClose('cellForward', got.forward, wantForward, [n], 1e-7, 2e-6);
    expectClose('cellForward4', got.forward4, wantForward, [n], 1e-7, 2e-6);
    expectClose('cellBackward', got.backward, wantBackward, [n], 1e-7, 2e-6);
    expectClose('cellBackward4', got.backward4, wantBackward, [n], 1e-7, 2e-6);
    for (let i = 0; i < n; i++) {
      const az = Math.abs(z[i]!);
      // Near 0 the series keeps full relative precision (1 - exp(-2|z|) would cancel); far out tanh is exactly ±1.
      if (az > 0 && az < 0.125) {
        for (const v of [got.forward[i]!, got.forward4[i]!]) expect(Math.abs(v / wantForward[i]! - 1), `tanh(${z[i]}) relative error`).toBeLessThan(1e-6);
      }
      if (az >= 20) {
        expect([got.forward[i], got.forward4[i]], `tanh(${z[i]})`).toEqual([Math.sign(z[i]!), Math.sign(z[i]!)]);
        expect([Math.abs(got.backward[i]!), Math.abs(got.backward4[i]!)], `dz at h = ±1`).toEqual([0, 0]);
      }
    }
  });
});

// ---- the LSTM and GRU step math in WGSL (shaders/cells/lstm.wgsl, gru.wgsl, gru_reset_before.wgsl), one unit per
// invocation, against the float64 reference step: the math the multi-gate kernels (recurrence_gates.wgsl) splice in
// through cellStep / cellStepBackward (test/cells-gpu.test.ts runs them). ----

/** Per unit: IN floats read, OUT floats written, by BODY (a, o: the unit's offsets into inp and out). */
const UNIT_STEP = `
\${CELL}
@group(0) @binding(0) var<storage, read> inp: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let u = gid.x;
  if (u >= \${N}u) { return; }
  let a = u * \${IN}u;
  let o = u * \${OUT}u;
  \${BODY}
}
`;

const UNIT_BODIES = {
  // in: z (i, f, g, o), c, c', dh', dc'   out: h', c', dz (4), dc
  lstm: [8, 7, `
  let z = vec4<f32>(inp[a], inp[a + 1u], inp[a + 2u], inp[a + 3u]);
  let f = cellForward(z, inp[a + 4u]);
  let g = cellBackward(z, inp[a + 4u], inp[a + 5u], inp[a + 6u], inp[a + 7u]);
  out[o] = f.x; out[o + 1u] = f.y;
  out[o + 2u] = g.dz.x; out[o + 3u] = g.dz.y; out[o + 4u] = g.dz.z; out[o + 5u] = g.dz.w; out[o + 6u] = g.dc;`],
  // in: zx (3), zh (3), h, dh', du   out: h', dzx (3), dzh (3), dh (the gated cell: u first, and du's part added)
  gru: [9, 8, `
  let zx = vec3<f32>(inp[a], inp[a + 1u], inp[a + 2u]);
  let zh = vec3<f32>(inp[a + 3u], inp[a + 4u], inp[a + 5u]);
  let g = cellBackward(zx, zh, inp[a + 6u], inp[a + 7u]);
  out[o] = cellForward(zx, zh, inp[a + 6u]);
  out[o + 1u] = g.dzx.x; out[o + 2u] = g.dzx.y; out[o + 3u] = g.dzx.z;
  out[o + 4u] = g.dzh.x; out[o + 5u] = g.dzh.y; out[o + 6u] = g.dzh.z; out[o + 7u] = g.dh;`],
  'gru-reset-before': [9, 9, `
  let zx = vec3<f32>(inp[a], inp[a + 1u], inp[a + 2u]);
  let zh = vec3<f32>(inp[a + 3u], inp[a + 4u], inp[a + 5u]);
  let g = cellBackward(zx, zh, inp[a + 6u], inp[a + 7u]);
  let gu = cellGatedInputBackward(zx, zh, inp[a + 6u], inp[a + 8u]);
  out[o] = cellForward(zx, zh, inp[a + 6u]);
  out[o + 1u] = g.dzx.x + gu.x; out[o + 2u] = g.dzx.y; out[o + 3u] = g.dzx.z;
  out[o + 4u] = g.dzh.x + gu.x; out[o + 5u] = g.dzh.y; out[o + 6u] = g.dzh.z; out[o + 7u] = g.dh + gu.y;
  out[o + 8u] = cellGatedInput(zx, zh, inp[a + 6u]);`],
} as const;

async function unitStep(cell: Cell, n: number, inp: Float32Array): Promise<Float32Array> {
  const d = device!;
  const [IN, OUT, BODY] = UNIT_BODIES[cell.name as keyof typeof UNIT_BODIES];
  const set = new BufferSet(d, 'unit step test');
  try {
    const p = await program(d, `unit step ${cell.name}`, UNIT_STEP, { CELL: cell.wgsl, N: n, IN, OUT, BODY }, 'main', ['read', 'storage'], [Math.ceil(n / 64), 1, 1]);
    const out = set.create('out', n * OUT * 4);
    run(d, [p, p.bind(upload(set, inp, 'inp'), out)]);
    return await readFloats(d, out, 0, n * OUT);
  } finally {
    set.destroy();
  }
}

/** Pre-activations for n units: the edges (both signs, up to 1e4) on the first units, then random in [-4, 4]. */
function preActivations(n: number, seed: number): Float32Array {
  const r = rng(seed), edges = [...Z_EDGES, ...Z_EDGES.map((v) => -v)];
  return Float32Array.from({ length: n }, (_, i) => (i < edges.length ? edges[i]! : -4 + 8 * r.next()));
}

/** Column g of rows [n, k] as a block: the reference's layout of gate blocks, from the kernels' unit-major records. */
const block = (rows: ArrayLike<number>, k: number, g: number, n: number) => Float64Array.from({ length: n }, (_, u) => rows[u * k + g]!);

describe.skipIf(!device)('the LSTM and GRU step math in WGSL matches the float64 reference step, |z| from 0 to 1e4', () => {
  const n = 150; // not a multiple of 64
  it('lstm: (h\', c\') and dz, dc for 150 units', async () => {
    const r = rng(23);
    const gates = [0, 1, 2, 3].map((g) => preActivations(n, 30 + g)); // each gate its own permutation of edges and randoms
    for (let g = 1; g < 4; g++) gates[g]!.reverse();
    const c = r.floats(n, -2, 2), dh1 = r.floats(n, -2, 2), dc1 = r.floats(n, -2, 2);
    const zx = new Float64Array(4 * n);
    gates.forEach((v, g) => zx.set(v, g * n));
    const zh = new Float64Array(4 * n), before = [new Float64Array(n), Float64Array.from(c)];
    const [h1, c1] = lstm.reference.forward(zx, zh, before);
    const c1f = Float32Array.from(c1!); // what a kernel keeps
    const want = lstm.reference.backward(zx, zh, before, [h1!, Float64Array.from(c1f)], [Float64Array.from(dh1), Float64Array.from(dc1)]);
    const inp = new Float32Array(8 * n);
    for (let u = 0; u < n; u++) inp.set([gates[0]![u]!, gates[1]![u]!, gates[2]![u]!, gates[3]![u]!, c[u]!, c1f[u]!, dh1[u]!, dc1[u]!], 8 * u);
    const got = await unitStep(lstm, n, inp);
    expect(got.every(Number.isFinite)).toBe(true);
    expectClose('h\'', block(got, 7, 0, n), h1!, [n], 1e-6, 1e-5);
    expectClose('c\'', block(got, 7, 1, n), c1!, [n], 1e-6, 1e-5);
    for (let g = 0; g < 4; g++) expectClose(`dz, block ${'ifgo'[g]}`, block(got, 7, 2 + g, n), want.dzx.subarray(g * n, (g + 1) * n), [n], 1e-6, 1e-5);
    expectClose('dc', block(got, 7, 6, n), want.dBefore[1]!, [n], 1e-6, 1e-5);
  });

  for (const cell of [gru, gruResetBefore]) {
    it(`${cell.name}: h', dzx, dzh, dh for 150 units`, async () => {
      const r = rng(29);
      const zxs = [0, 1, 2].map((g) => preActivations(n, 40 + g)), zhs = [0, 1, 2].map(() => r.floats(n, -3, 3));
      zxs[1]!.reverse();
      const h = r.floats(n, -1, 1), dh1 = r.floats(n, -2, 2), du = r.floats(n, -2, 2);
      const zx = new Float64Array(3 * n), zh = new Float64Array(3 * n);
      for (let g = 0; g < 3; g++) { zx.set(zxs[g]!, g * n); zh.set(zhs[g]!, g * n); }
      const before = [Float64Array.from(h)];
      const h1 = cell.reference.forward(zx, zh, before)[0]!;
      const want = cell.reference.backward(zx, zh, before, [h1], [Float64Array.from(dh1)]);
      if (cell === gruResetBefore) cell.reference.gatedInputBackward!(zx, zh, before, Float64Array.from(du), want);
      const inp = new Float32Array(9 * n);
      for (let u = 0; u < n; u++) inp.set([zxs[0]![u]!, zxs[1]![u]!, zxs[2]![u]!, zhs[0]![u]!, zhs[1]![u]!, zhs[2]![u]!, h[u]!, dh1[u]!, du[u]!], 9 * u);
      const got = await unitStep(cell, n, inp);
      const k = UNIT_BODIES[cell.name as keyof typeof UNIT_BODIES][1];
      expect(got.every(Number.isFinite)).toBe(true);
      expectClose('h\'', block(got, k, 0, n), h1, [n], 1e-6, 1e-5);
      for (let g = 0; g < 3; g++) {
        expectClose(`dzx, block ${'rzn'[g]}`, block(got, k, 1 + g, n), want.dzx.subarray(g * n, (g + 1) * n), [n], 1e-6, 1e-5);
        expectClose(`dzh, block ${'rzn'[g]}`, block(got, k, 4 + g, n), want.dzh.subarray(g * n, (g + 1) * n), [n], 1e-6, 1e-5);
      }
      expectClose('dh', block(got, k, 7, n), want.dBefore[0]!, [n], 1e-6, 1e-5);
      if (cell === gruResetBefore) expectClose('u', block(got, k, 8, n), cell.reference.gatedInput!(zx, zh, before), [n], 1e-6, 1e-5);
    });
  }

  it('σ and tanh far out: σ exactly 1 from z = 17, σ(-z) as exact as WGSL\'s exp allows (3 + 2|z| ulp) while float32 is normal, then 0; tanh exactly ±1 from |z| = 9', async () => {
    // The lstm step with i = 1/2, g = 0, c = 1 and f's pre-activation v gives c' = σ(v) exactly.
    const values = [17, 20, 40, 80, 87, 88, 100, 104, 300, 1e4].flatMap((v) => [v, -v]);
    const m = values.length, inp = new Float32Array(8 * m);
    values.forEach((v, u) => inp.set([0, v, 0, 0, 1, 0, 0, 0], 8 * u));
    const got = await unitStep(lstm, m, inp);
    values.forEach((v, u) => {
      const s = got[7 * u + 1]!, exact = v > 0 ? 1 : Math.exp(v) / (1 + Math.exp(v));
      if (v > 0) expect(s, `σ(${v})`).toBe(1);
      else if (v >= -87) expect(Math.abs(s / exact - 1), `σ(${v}) = ${s}, exact ${exact}`).toBeLessThan((4 + 2 * -v) * 2 ** -23);
      else expect(Math.abs(s), `σ(${v}) (float32 subnormal or 0)`).toBeLessThan(1e-37);
      expect(Number.isFinite(got[7 * u]!), `h' at z = ${v}`).toBe(true);
    });
    // i = σ(1e4) = 1, f = σ(-1e4) = 0, g's pre-activation v: c' = tanh(v), exactly ±1 from |v| = 9.
    const far = [9, 10, 20, 88, 89, 300, 1e4].flatMap((v) => [v, -v]);
    const tanhIn = new Float32Array(8 * far.length);
    far.forEach((v, u) => tanhIn.set([1e4, -1e4, v, 0, 0.5, 0, 0, 0], 8 * u));
    const t = await unitStep(lstm, far.length, tanhIn);
    expect(far.map((_, u) => t[7 * u + 1])).toEqual(far.map(Math.sign));
  });
});

// ---- the whole recurrence through RnnSchedule, per-step and fused ----

// 17 units, not 9: lavapipe's LLVM unrolls a 9-step product loop whole, and the step kernels then take 3 s to compile
// instead of 0.5 s.
const [B, T, I, H] = [5, 4, 3, 17];
const LENGTHS = Int32Array.from([0, 1, 4, 2, 4]);

function params(seed: number, scale: number): Params {
  const r = rng(seed);
  const w = scale * Math.sqrt(3 / (I + H));
  return {
    batch: B, steps: T, inputs: I, units: H, lengths: LENGTHS,
    x: r.floats(B * T * I, 0, 1), wx: r.floats(I * H, -w, w), wh: r.floats(H * H, -w, w), b: r.floats(H, -0.1 * scale, 0.1 * scale),
    h0: r.floats(B * H, -0.5, 0.5),
  };
}

async function checkRecurrence(cell: Cell, recurrence: 'per-step' | 'fused', scale: number) {
  const p = params(7 + scale, scale);
  const r = rng(11);
  const dOut = r.floats(B * T * H), dState = r.floats(B * H);
  setAutotune(device!, { recurrence });
  try {
    const got = await scheduled(device!, cell, p, { dOut, dState, dx: true }); // the gate cells' harness runs any cell
    expect(got.recurrence).toBe(recurrence);
    const want = rnnForwardRef(p, cell);
    const wantG = rnnBackwardRef(p, dOut, dState, cell);
    expectClose('outputs', got.outputs, want.outputs, [B, T, H], 2e-5, 1e-4);
    expectClose('state', got.state, want.state, [B, H], 2e-5, 1e-4);
    expectClose('dx', got.dx!, wantG.dx, [B, T, I], 1e-4, 1e-3);
    expectClose('dwx', got.dwx, wantG.dwx, [I, H], 1e-4, 1e-3);
    expectClose('dwh', got.dwh, wantG.dwh, [H, H], 1e-4, 1e-3);
    expectClose('db', got.db, wantG.db, [H], 1e-4, 1e-3);
    expectClose('dh0', got.dh0, wantG.dh0, [B, H], 1e-4, 1e-3);
  } finally {
    setAutotune(device!, 'off');
  }
}

describe.skipIf(!device)('RnnSchedule runs the cell it is given, against the reference through the same cell', () => {
  // batch 5, 4 steps, 3 inputs, 17 units, lengths 0, 1, 4, 2, 4; scale 400 drives |z| past 100.
  it('tanh, per-step', () => checkRecurrence(tanh, 'per-step', 1));
  it('tanh, fused', () => checkRecurrence(tanh, 'fused', 1));
  it('tanh, per-step and fused, saturated (|z| past 100)', async () => {
    const p = params(7 + 400, 400);
    let largest = 0; // the first step's x_0·Wx + b
    for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) {
      let z = p.b[j]!;
      for (let k = 0; k < I; k++) z += p.x[(b * T) * I + k]! * p.wx[k * H + j]!;
      largest = Math.max(largest, Math.abs(z));
    }
    expect(largest).toBeGreaterThan(100);
    await checkRecurrence(tanh, 'per-step', 400);
    await checkRecurrence(tanh, 'fused', 400);
  });
  it('a second one-gate cell (softsign, defined in this test), per-step: nothing in the schedule is tanh', () => checkRecurrence(softsign, 'per-step', 1));
  it('the default cell is tanh', async () => {
    const set = new BufferSet(device!, 'default cell');
    const bind = (n: number) => ({ buffer: set.create('b', n * 4) });
    try {
      const s = await RnnSchedule.create(device!, { batch: B, steps: T, inputs: I, units: H },
        { x: bind(T * B * I), wx: bind(I * H), wh: bind(H * H), b: bind(H), lengths: bind(B) });
      expect(s.cell).toBe(tanh);
      s.destroy();
    } finally {
      set.destroy();
    }
  });
});

describe('RnnSchedule refuses a cell its kernels cannot run', () => {
  // The refusal comes before any GPU work, so no device is needed: the device and bindings are never touched. One
  // gate and one state run recurrence.wgsl, up to 4 gates and 2 states recurrence_gates.wgsl (test/cells-gpu.test.ts).
  const never = new Proxy({}, { get: () => { throw new Error('touched'); } });
  for (const cell of [{ ...tanh, name: 'five-gates', gates: 5 }, { ...tanh, name: 'three-states', states: 3 }, { ...tanh, name: 'wide', gates: 8, states: 2 }]) {
    it(`${cell.name}: gates ${cell.gates}, states ${cell.states}`, async () => {
      const before = liveBufferCount();
      await expect(RnnSchedule.create(never as GPUDevice, { batch: 1, steps: 1, inputs: 1, units: 1 }, never as RnnBindings, cell))
        .rejects.toThrow(new RegExp(`cell '${cell.name}' has ${cell.gates} gate blocks and ${cell.states} state vectors`));
      expect(liveBufferCount()).toBe(before);
    });
  }
});
