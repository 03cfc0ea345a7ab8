// The masked recurrence of a multi-gate cell (LSTM, GRU), one time step per dispatch (two for a gated cell), forward
// and backward side by side (recurrence_gates_fused.wgsl: all steps in one dispatch, same layouts and results, for the
// cells that are not gated). recurrence.wgsl does the same for one-gate cells; this file knows no cell either: the
// cell's step (shaders/cells/<name>.wgsl: cellStep, cellStepBackward) is spliced in at the CELL placeholder, with G gate
// blocks in the lanes of a vec4 (x, y, z, w; unused lanes 0) and S states in the lanes of a vec2 (h, c; c = 0 when S = 1).
//
// Time-major layouts (T = steps, B = batch, H = units, G gate blocks, N = G·H):
//   xw      [T, B, N]       zx = x_t·Wx + b for every step, computed beforehand by one matmul; when training it is
//                           followed by zh [T, B, N] = h_{t-1}·Wh + bh, saved by the forward steps for backward
//   hs      [S, T+1, B, H]  hs[0] = h: hs[0][0] = h0, hs[0][t+1] = h after step t; then c likewise
//                           (c0 = hs[1][0]: zeros, unless a stateful layer carried its last c there, carry.wgsl)
//   outputs [T, B, H]       h_t where t < length, else 0
//   dz      [T, B, N]       dL/dzh (what Wh and bh see), 0 where masked
//   dzx     [T, B, N]       dL/dzx (what Wx and b see) where the cell uses zx and zh apart (GRU's n block); else dz is both
//   dh      [2S+1, B, H]    dh[t % 2] = dL/dh_t on entry to step t, dh[(t+1) % 2] = dL/dh_{t-1} on exit (as
//                           recurrence.wgsl); for S = 2, dh[2 + t % 2] = dL/dc_t likewise; dh[2S] = the part of dL/dh_t
//                           that reaches h_t directly, not through Wh (GRU's dh'·z; 0 for LSTM)
//
// forward:   zh = h_{t-1}·Wh[:, all G blocks] + bh;  m = t < len[b];
//            states_t = m ? cellStep(zx_t, zh, states_{t-1}) : states_{t-1};  out_t = m ? h_t : 0
// backward:  at step t, dh_{t-1} = m ? dz_t·Wh^T + direct_t : dh_t   (Wh^T [N, H]: the product is N long), and from
//            it the cell's backward of step t-1: dz_{t-1}, dzx_{t-1}, direct_{t-1}, dc_{t-2} (the ready-made-dz scheme of
//            recurrence.wgsl; backwardGatesSeed does step T-1's from dState before the first backward step)
// gated (GATED: GRU with resetAfter false, G = 3, gatedFrom 2): step t forward in two dispatches, forwardEarly
//            (zh_r,z = h_{t-1}·Wh[:, 0:2H], u = r⊙h_{t-1} into us [T, B, H]) then forwardLate (zh_n = u·Wh[:, 2H:3H], the
//            step); xw always keeps zh. Backward: backwardDu (du = dz_n,t·Wh[:, 2H:3H]^T, on into dz_r,t and direct_t)
//            then backwardGates over the columns [0, 2H) only (J_END). dWh[:, 2H:3H] is u^T·dz (scheduler.ts).
//
// Each invocation owns 4 batch rows x 4 units (a vec4), strided across lanes like matmul.wgsl, and in the forward
// step all G gate columns of those units (G vec4 accumulators per row): the epilogue needs every gate of a unit.
// 4 rows only, not 8: with 4 gates that is already 16 accumulators and 4 multiply-adds per loaded weight and h, more
// reuse per load than recurrence.wgsl's 8 rows of one gate.

const T: u32 = ${T}u;
const B: u32 = ${B}u;
const H: u32 = ${H}u;
const G: u32 = ${G}u;
const N: u32 = ${G}u * ${H}u;
const TU: u32 = 4u;
const TB: u32 = ${TB}u;  // backwardGates' rows per invocation: 4 or 8 (the forward kernels own 4)
const WG_X: u32 = ${WG_X}u;
const WG_Y: u32 = ${WG_Y}u;
const CS: u32 = (${T}u + 1u) * ${B}u * ${H}u;  // where c starts in hs (S = 2)

struct Step { t: u32 }

@group(0) @binding(0) var<uniform> step: Step;  // bound with a dynamic offset, one slot per t
#if ${FORWARD}
@group(0) @binding(1) var<storage, read> wh: array<f32>;       // [H, N]
#else
@group(0) @binding(1) var<storage, read> whT: array<f32>;      // [N, H], Wh transposed: contiguous along k
#endif
@group(0) @binding(2) var<storage, read> lengths: array<i32>;  // [B]

// `n`, as a value the compiler cannot see through (see recurrence.wgsl): keeps the epilogue's loops over rows and
// over units loops. Unrolled over the 4 units, the cell's step (LSTM: 5 exps forward, more backward) took LLVM on
// lavapipe 1.7 s (forward) and 2.4 s (backward) to compile instead of 0.35 to 0.6 s; the steps ran as fast either way
// within the noise of a shared machine (LSTM and GRU at batch 150, 150 units, 28 steps, min of 10 interleaved rounds).
fn opaque(n: u32) -> u32 {
  return select(n, 0u, arrayLength(&lengths) == 0u);
}

${CELL}

// The G values of a [.., N] row at unit u, gate blocks in the lanes.
fn gatesAt(v: vec4<f32>) -> vec4<f32> {
#if ${G4}
  return v;
#else
  return vec4<f32>(v.xyz, 0.0);
#endif
}

#if ${FORWARD}
#if ${BH}
@group(0) @binding(3) var<storage, read> bh: array<f32>;            // [N]
#endif
@group(0) @binding(4) var<storage, read_write> xw: array<f32>;      // [T, B, N] (+ zh [T, B, N] when SAVE)
@group(0) @binding(5) var<storage, read_write> hs: array<f32>;      // [S, T+1, B, H]
@group(0) @binding(6) var<storage, read_write> outputs: array<f32>; // [T, B, H]

// The step's states for one sequence's four units u0 + j*WG_X, from zh - bh = (a0, a1, a2, a3)[j] (gate blocks).
fn emitForward(t: u32, b: u32, u0: u32, a0: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>, a3: vec4<f32>) {
  if (b >= B) { return; }
  let live = i32(t) < lengths[b];
  let at = (t * B + b) * N;
  let prev = t * B * H + b * H;
  for (var j = 0u; j < opaque(TU); j++) {
    let u = u0 + j * WG_X;
    if (u >= H) { return; }
#if ${BH}
    let zh = gatesAt(vec4<f32>(a0[j], a1[j], a2[j], a3[j]) + vec4<f32>(bh[u], bh[H + u], bh[2u * H + u], bh[(G - 1u) * H + u]));
#else
    let zh = gatesAt(vec4<f32>(a0[j], a1[j], a2[j], a3[j]));
#endif
    let zx = gatesAt(vec4<f32>(xw[at + u], xw[at + H + u], xw[at + 2u * H + u], xw[at + (G - 1u) * H + u]));
#if ${S2}
    let before = vec2<f32>(hs[prev + u], hs[CS + prev + u]);
#else
    let before = vec2<f32>(hs[prev + u], 0.0);
#endif
    let after = select(before, cellStep(zx, zh, before), live);
    hs[prev + B * H + u] = after.x;
#if ${S2}
    hs[CS + prev + B * H + u] = after.y;
#endif
    outputs[(t * B + b) * H + u] = select(0.0, after.x, live);
#if ${SAVE}
    let saved = T * B * N + at + u;
    xw[saved] = zh.x;
    xw[saved + H] = zh.y;
    xw[saved + 2u * H] = zh.z;
#if ${G4}
    xw[saved + 3u * H] = zh.w;
#endif
#endif
  }
}

#if ${GATED}
@group(0) @binding(7) var<storage, read_write> us: array<f32>;      // [T, B, H]: u = r⊙h_{t-1}, what Un multiplies

// A gated cell's first half of step t (blocks 0, 1 of zh, from h_{t-1}): saves them, and writes u for the second.
fn emitEarly(t: u32, b: u32, u0: u32, a0: vec4<f32>, a1: vec4<f32>) {
  if (b >= B) { return; }
  let at = (t * B + b) * N;
  let prev = t * B * H + b * H;
  for (var j = 0u; j < opaque(TU); j++) {
    let u = u0 + j * WG_X;
    if (u >= H) { return; }
    let zh = vec4<f32>(a0[j], a1[j], 0.0, 0.0);
    let zx = gatesAt(vec4<f32>(xw[at + u], xw[at + H + u], xw[at + 2u * H + u], xw[at + (G - 1u) * H + u]));
    let saved = T * B * N + at + u;
    xw[saved] = zh.x;
    xw[saved + H] = zh.y;
    us[(t * B + b) * H + u] = cellStepGatedInput(zx, zh, vec2<f32>(hs[prev + u], 0.0));
  }
}

// The second half: block 2 of zh = u·Un (a2), then the cell's step.
fn emitLate(t: u32, b: u32, u0: u32, a2: vec4<f32>) {
  if (b >= B) { return; }
  let live = i32(t) < lengths[b];
  let at = (t * B + b) * N;
  let prev = t * B * H + b * H;
  for (var j = 0u; j < opaque(TU); j++) {
    let u = u0 + j * WG_X;
    if (u >= H) { return; }
    let saved = T * B * N + at + u;
    let zh = vec4<f32>(xw[saved], xw[saved + H], a2[j], 0.0);
    xw[saved + 2u * H] = zh.z;
    let zx = gatesAt(vec4<f32>(xw[at + u], xw[at + H + u], xw[at + 2u * H + u], xw[at + (G - 1u) * H + u]));
    let before = vec2<f32>(hs[prev + u], 0.0);
    let after = select(before, cellStep(zx, zh, before), live);
    hs[prev + B * H + u] = after.x;
    outputs[(t * B + b) * H + u] = select(0.0, after.x, live);
  }
}

// A gated cell (GRU with resetAfter false: G = 3, gatedFrom = 2), step t in two dispatches: forwardEarly (zh of
// blocks r, z = h_{t-1}·Wh[:, 0:2H], then u), forwardLate (zh_n = u·Wh[:, 2H:3H], then the step).
@compute @workgroup_size(${WG_X}, ${WG_Y})
fn forwardEarly(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = step.t;
  let b0 = wid.y * 4u * WG_Y + lid.y;
  let u0 = wid.x * TU * WG_X + lid.x;
  let prev = t * B * H;
  let c0 = min(u0, H - 1u);
  let c1 = min(u0 + WG_X, H - 1u);
  let c2 = min(u0 + 2u * WG_X, H - 1u);
  let c3 = min(u0 + 3u * WG_X, H - 1u);
  let r0 = prev + min(b0, B - 1u) * H;
  let r1 = prev + min(b0 + WG_Y, B - 1u) * H;
  let r2 = prev + min(b0 + 2u * WG_Y, B - 1u) * H;
  let r3 = prev + min(b0 + 3u * WG_Y, B - 1u) * H;
  var acc00 = vec4<f32>(0.0); var acc01 = vec4<f32>(0.0);
  var acc10 = vec4<f32>(0.0); var acc11 = vec4<f32>(0.0);
  var acc20 = vec4<f32>(0.0); var acc21 = vec4<f32>(0.0);
  var acc30 = vec4<f32>(0.0); var acc31 = vec4<f32>(0.0);
  for (var k = 0u; k < H; k++) {
    let w = k * N;
    let w0 = vec4<f32>(wh[w + c0], wh[w + c1], wh[w + c2], wh[w + c3]);
    let w1 = vec4<f32>(wh[w + H + c0], wh[w + H + c1], wh[w + H + c2], wh[w + H + c3]);
    let h0 = vec4<f32>(hs[r0 + k]);
    let h1 = vec4<f32>(hs[r1 + k]);
    let h2 = vec4<f32>(hs[r2 + k]);
    let h3 = vec4<f32>(hs[r3 + k]);
    acc00 = fma(h0, w0, acc00); acc01 = fma(h0, w1, acc01);
    acc10 = fma(h1, w0, acc10); acc11 = fma(h1, w1, acc11);
    acc20 = fma(h2, w0, acc20); acc21 = fma(h2, w1, acc21);
    acc30 = fma(h3, w0, acc30); acc31 = fma(h3, w1, acc31);
  }
  var g0 = array<vec4<f32>, 4>(acc00, acc10, acc20, acc30);
  var g1 = array<vec4<f32>, 4>(acc01, acc11, acc21, acc31);
  for (var i = 0u; i < opaque(4u); i++) {
    emitEarly(t, b0 + i * WG_Y, u0, g0[i], g1[i]);
  }
}

@compute @workgroup_size(${WG_X}, ${WG_Y})
fn forwardLate(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = step.t;
  let b0 = wid.y * 4u * WG_Y + lid.y;
  let u0 = wid.x * TU * WG_X + lid.x;
  let at = t * B * H;  // us[t]
  let c0 = 2u * H + min(u0, H - 1u);
  let c1 = 2u * H + min(u0 + WG_X, H - 1u);
  let c2 = 2u * H + min(u0 + 2u * WG_X, H - 1u);
  let c3 = 2u * H + min(u0 + 3u * WG_X, H - 1u);
  let r0 = at + min(b0, B - 1u) * H;
  let r1 = at + min(b0 + WG_Y, B - 1u) * H;
  let r2 = at + min(b0 + 2u * WG_Y, B - 1u) * H;
  let r3 = at + min(b0 + 3u * WG_Y, B - 1u) * H;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k = 0u; k < H; k++) {
    let w = k * N;
    let wv = vec4<f32>(wh[w + c0], wh[w + c1], wh[w + c2], wh[w + c3]);
    acc0 = fma(vec4<f32>(us[r0 + k]), wv, acc0);
    acc1 = fma(vec4<f32>(us[r1 + k]), wv, acc1);
    acc2 = fma(vec4<f32>(us[r2 + k]), wv, acc2);
    acc3 = fma(vec4<f32>(us[r3 + k]), wv, acc3);
  }
  var accs = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0u; i < opaque(4u); i++) {
    emitLate(t, b0 + i * WG_Y, u0, accs[i]);
  }
}
#endif

@compute @workgroup_size(${WG_X}, ${WG_Y})
fn forwardGates(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = step.t;
  let b0 = wid.y * 4u * WG_Y + lid.y;  // rows b0 + i*WG_Y, units u0 + j*WG_X: see matmul.wgsl
  let u0 = wid.x * TU * WG_X + lid.x;
  let prev = t * B * H;  // hs[0][t] = h_{t-1}
  let c0 = min(u0, H - 1u);
  let c1 = min(u0 + WG_X, H - 1u);
  let c2 = min(u0 + 2u * WG_X, H - 1u);
  let c3 = min(u0 + 3u * WG_X, H - 1u);
  let r0 = prev + min(b0, B - 1u) * H;
  let r1 = prev + min(b0 + WG_Y, B - 1u) * H;
  let r2 = prev + min(b0 + 2u * WG_Y, B - 1u) * H;
  let r3 = prev + min(b0 + 3u * WG_Y, B - 1u) * H;
  // acc<row><gate>
  var acc00 = vec4<f32>(0.0); var acc01 = vec4<f32>(0.0); var acc02 = vec4<f32>(0.0); var acc03 = vec4<f32>(0.0);
  var acc10 = vec4<f32>(0.0); var acc11 = vec4<f32>(0.0); var acc12 = vec4<f32>(0.0); var acc13 = vec4<f32>(0.0);
  var acc20 = vec4<f32>(0.0); var acc21 = vec4<f32>(0.0); var acc22 = vec4<f32>(0.0); var acc23 = vec4<f32>(0.0);
  var acc30 = vec4<f32>(0.0); var acc31 = vec4<f32>(0.0); var acc32 = vec4<f32>(0.0); var acc33 = vec4<f32>(0.0);
  for (var k = 0u; k < H; k++) {
    let w = k * N;
    let w0 = vec4<f32>(wh[w + c0], wh[w + c1], wh[w + c2], wh[w + c3]);
    let w1 = vec4<f32>(wh[w + H + c0], wh[w + H + c1], wh[w + H + c2], wh[w + H + c3]);
    let w2 = vec4<f32>(wh[w + 2u * H + c0], wh[w + 2u * H + c1], wh[w + 2u * H + c2], wh[w + 2u * H + c3]);
    let h0 = vec4<f32>(hs[r0 + k]);
    let h1 = vec4<f32>(hs[r1 + k]);
    let h2 = vec4<f32>(hs[r2 + k]);
    let h3 = vec4<f32>(hs[r3 + k]);
    acc00 = fma(h0, w0, acc00); acc01 = fma(h0, w1, acc01); acc02 = fma(h0, w2, acc02);
    acc10 = fma(h1, w0, acc10); acc11 = fma(h1, w1, acc11); acc12 = fma(h1, w2, acc12);
    acc20 = fma(h2, w0, acc20); acc21 = fma(h2, w1, acc21); acc22 = fma(h2, w2, acc22);
    acc30 = fma(h3, w0, acc30); acc31 = fma(h3, w1, acc31); acc32 = fma(h3, w2, acc32);
#if ${G4}
    let w3 = vec4<f32>(wh[w + 3u * H + c0], wh[w + 3u * H + c1], wh[w + 3u * H + c2], wh[w + 3u * H + c3]);
    acc03 = fma(h0, w3, acc03);
    acc13 = fma(h1, w3, acc13);
    acc23 = fma(h2, w3, acc23);
    acc33 = fma(h3, w3, acc33);
#endif
  }
  // The rows are written in a loop the compiler cannot unroll (see opaque()).
  var g0 = array<vec4<f32>, 4>(acc00, acc10, acc20, acc30);
  var g1 = array<vec4<f32>, 4>(acc01, acc11, acc21, acc31);
  var g2 = array<vec4<f32>, 4>(acc02, acc12, acc22, acc32);
  var g3 = array<vec4<f32>, 4>(acc03, acc13, acc23, acc33);
  for (var i = 0u; i < opaque(4u); i++) {
    emitForward(t, b0 + i * WG_Y, u0, g0[i], g1[i], g2[i], g3[i]);
  }
}
#endif

#if ${BACKWARD}
@group(0) @binding(3) var<storage, read> hs: array<f32>;        // [S, T+1, B, H]
#if ${D_OUT}
@group(0) @binding(4) var<storage, read> dOut: array<f32>;      // [T, B, H]
#endif
@group(0) @binding(5) var<storage, read> xw: array<f32>;        // [2, T, B, N]: zx, then zh
@group(0) @binding(6) var<storage, read_write> dh: array<f32>;  // [2S+1, B, H]
@group(0) @binding(7) var<storage, read_write> dz: array<f32>;  // [T, B, N]
#if ${DZX}
@group(0) @binding(8) var<storage, read_write> dzx: array<f32>; // [T, B, N]
#endif

const DIRECT: u32 = 2u * ${S}u * B * H;  // dh[2S]
const J_END: u32 = ${J_END}u;  // N, or a gated cell's gatedFrom·H

fn isLive(t: u32, b: u32) -> bool {
  return i32(t) < lengths[min(b, B - 1u)];
}

fn load4(at: u32) -> vec4<f32> {
  return gatesAt(vec4<f32>(xw[at], xw[at + H], xw[at + 2u * H], xw[at + (G - 1u) * H]));
}

fn storeDz(at: u32, g: vec4<f32>) {
  dz[at] = g.x;
  dz[at + H] = g.y;
  dz[at + 2u * H] = g.z;
#if ${G4}
  dz[at + 3u * H] = g.w;
#endif
}

#if ${DZX}
fn storeDzx(at: u32, g: vec4<f32>) {
  dzx[at] = g.x;
  dzx[at + H] = g.y;
  dzx[at + 2u * H] = g.z;
#if ${G4}
  dzx[at + 3u * H] = g.w;
#endif
}
#endif

// The cell's backward of step t at [b, u], from dL/dh_t (without dOut) and dL/dc_t: writes dz_t (and dzx_t) at
// [b, u] of every gate block, the direct part of dL/dh_{t-1} into dh[2S] and (S = 2) dL/dc_{t-1} into dh[2 + (t+1) % 2].
fn cellGrad(t: u32, b: u32, u: u32, dhT: f32, dcT: f32) {
#if ${D_OUT}
  let g = dhT + dOut[(t * B + b) * H + u];
#else
  let g = dhT;  // only the final state has a gradient (a layer on the last state)
#endif
  let at = (t * B + b) * N + u;
  let s = t * B * H + b * H + u;  // states before step t in hs[.][t], after it in hs[.][t+1]
  var d = CellStepGrad(vec4<f32>(0.0), vec4<f32>(0.0), vec2<f32>(0.0, dcT));  // masked: nothing flows, c is carried
  if (isLive(t, b)) {
#if ${S2}
    let before = vec2<f32>(hs[s], hs[CS + s]);
    let after = vec2<f32>(hs[s + B * H], hs[CS + s + B * H]);
#else
    let before = vec2<f32>(hs[s], 0.0);
    let after = vec2<f32>(hs[s + B * H], 0.0);
#endif
    d = cellStepBackward(load4(at), load4(T * B * N + at), before, after, vec2<f32>(g, dcT));
  }
  storeDz(at, d.dzh);
#if ${DZX}
  storeDzx(at, d.dzx);
#endif
  dh[DIRECT + b * H + u] = d.dBefore.x;
#if ${S2}
  dh[(2u + (t + 1u) % 2u) * B * H + b * H + u] = d.dBefore.y;
#endif
}

// Before the first backward step: step T-1's cell backward from dState = dh[(T-1) % 2] (dL/dc_{T-1} = 0). One
// invocation per (b, u), folded into y past the per-dimension workgroup limit (grid1d).
@compute @workgroup_size(64)
fn backwardGatesSeed(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * 64u;
  if (i >= B * H) { return; }
  let t = T - 1u;
  cellGrad(t, i / H, i % H, dh[(t % 2u) * B * H + i], 0.0);
}

// dh_{t-1} = live_t ? acc + direct_t : dh_t for one sequence's four units k0 + kk*WG_X (acc = dz_t·Wh^T), and from
// it step t-1's cell backward, so that the next step reads its dz ready-made.
fn emitBackward(t: u32, b: u32, k0: u32, acc: vec4<f32>) {
  if (b >= B) { return; }
  let live = isLive(t, b);
  let dhIn = (t % 2u) * B * H;
  let dhOut = ((t + 1u) % 2u) * B * H;
  for (var kk = 0u; kk < opaque(TU); kk++) {
    let k = k0 + kk * WG_X;
    if (k >= H) { return; }
    let prev = select(dh[dhIn + b * H + k], acc[kk] + dh[DIRECT + b * H + k], live);
    dh[dhOut + b * H + k] = prev;
#if ${S2}
    if (t > 0u) { cellGrad(t - 1u, b, k, prev, dh[(2u + (t + 1u) % 2u) * B * H + b * H + k]); }
#else
    if (t > 0u) { cellGrad(t - 1u, b, k, prev, 0.0); }
#endif
  }
}

@compute @workgroup_size(${WG_X}, ${WG_Y})
fn backwardGates(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = step.t;
  let b0 = wid.y * TB * WG_Y + lid.y;  // TB rows: 4 or 8 (one accumulator a row here, not G as forward)
  let k0 = wid.x * TU * WG_X + lid.x;  // this invocation's units of dh_{t-1}: k0 + kk*WG_X
  let c0 = min(k0, H - 1u);
  let c1 = min(k0 + WG_X, H - 1u);
  let c2 = min(k0 + 2u * WG_X, H - 1u);
  let c3 = min(k0 + 3u * WG_X, H - 1u);
  let at = t * B * N;  // dz_t
  let r0 = at + min(b0, B - 1u) * N;
  let r1 = at + min(b0 + WG_Y, B - 1u) * N;
  let r2 = at + min(b0 + 2u * WG_Y, B - 1u) * N;
  let r3 = at + min(b0 + 3u * WG_Y, B - 1u) * N;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
#if ${TB8}
  let r4 = at + min(b0 + 4u * WG_Y, B - 1u) * N;
  let r5 = at + min(b0 + 5u * WG_Y, B - 1u) * N;
  let r6 = at + min(b0 + 6u * WG_Y, B - 1u) * N;
  let r7 = at + min(b0 + 7u * WG_Y, B - 1u) * N;
  var acc4 = vec4<f32>(0.0);
  var acc5 = vec4<f32>(0.0);
  var acc6 = vec4<f32>(0.0);
  var acc7 = vec4<f32>(0.0);
#endif
  // dh_{t-1}[b, k] = sum over the columns j of dz_t[b, j] * Wh[k, j]: all N, or a gated cell's blocks before
  // gatedFrom (the late ones reach h_{t-1} through u: backwardDu)
  for (var j = 0u; j < J_END; j++) {
    let w = vec4<f32>(whT[j * H + c0], whT[j * H + c1], whT[j * H + c2], whT[j * H + c3]);
    acc0 = fma(vec4<f32>(dz[r0 + j]), w, acc0);
    acc1 = fma(vec4<f32>(dz[r1 + j]), w, acc1);
    acc2 = fma(vec4<f32>(dz[r2 + j]), w, acc2);
    acc3 = fma(vec4<f32>(dz[r3 + j]), w, acc3);
#if ${TB8}
    acc4 = fma(vec4<f32>(dz[r4 + j]), w, acc4);
    acc5 = fma(vec4<f32>(dz[r5 + j]), w, acc5);
    acc6 = fma(vec4<f32>(dz[r6 + j]), w, acc6);
    acc7 = fma(vec4<f32>(dz[r7 + j]), w, acc7);
#endif
  }
  var accs = array<vec4<f32>, 8>(acc0, acc1, acc2, acc3, vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
#if ${TB8}
  accs[4] = acc4;
  accs[5] = acc5;
  accs[6] = acc6;
  accs[7] = acc7;
#endif
  for (var i = 0u; i < opaque(TB); i++) {
    emitBackward(t, b0 + i * WG_Y, k0, accs[i]);
  }
}

#if ${GATED}
// A gated cell's du_t = dz_n,t·Un^T (acc) at [b, k0 + kk*WG_X], taken on through u = r⊙h_{t-1}: into dz_t's r block and
// the direct part of dL/dh_{t-1}. Runs before backwardGates of the same step, which reads both.
fn emitDu(t: u32, b: u32, k0: u32, acc: vec4<f32>) {
  if (b >= B) { return; }
  if (!isLive(t, b)) { return; }  // dz_t = 0: du = 0
  for (var kk = 0u; kk < opaque(TU); kk++) {
    let k = k0 + kk * WG_X;
    if (k >= H) { return; }
    let at = (t * B + b) * N + k;
    let g = cellStepGatedInputBackward(load4(at), load4(T * B * N + at), vec2<f32>(hs[t * B * H + b * H + k], 0.0), acc[kk]);
    dz[at] += g.x;
    dh[DIRECT + b * H + k] += g.y;
  }
}

@compute @workgroup_size(${WG_X}, ${WG_Y})
fn backwardDu(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = step.t;
  let b0 = wid.y * 4u * WG_Y + lid.y;
  let k0 = wid.x * TU * WG_X + lid.x;
  let c0 = min(k0, H - 1u);
  let c1 = min(k0 + WG_X, H - 1u);
  let c2 = min(k0 + 2u * WG_X, H - 1u);
  let c3 = min(k0 + 3u * WG_X, H - 1u);
  let at = t * B * N;
  let r0 = at + min(b0, B - 1u) * N;
  let r1 = at + min(b0 + WG_Y, B - 1u) * N;
  let r2 = at + min(b0 + 2u * WG_Y, B - 1u) * N;
  let r3 = at + min(b0 + 3u * WG_Y, B - 1u) * N;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var j = J_END; j < N; j++) {
    let w = vec4<f32>(whT[j * H + c0], whT[j * H + c1], whT[j * H + c2], whT[j * H + c3]);
    acc0 = fma(vec4<f32>(dz[r0 + j]), w, acc0);
    acc1 = fma(vec4<f32>(dz[r1 + j]), w, acc1);
    acc2 = fma(vec4<f32>(dz[r2 + j]), w, acc2);
    acc3 = fma(vec4<f32>(dz[r3 + j]), w, acc3);
  }
  var accs = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0u; i < opaque(4u); i++) {
    emitDu(t, b0 + i * WG_Y, k0, accs[i]);
  }
}
#endif
#endif
