// The masked recurrence of a cell, one time step per dispatch, forward and backward side by side. The cell's step
// epilogue (shaders/cells/<name>.wgsl: cellForward, cellBackward) is spliced in at the CELL placeholder below, so this
// file knows no cell. For now the cell has one gate block and one state (src/cells/cell.ts): z is [T, B, H] wide and
// the carried state is h alone.
//
// Time-major layouts (T = steps, B = batch, H = units):
//   xw      [T, B, H]    x_t·Wx + b for every step, computed beforehand by one matmul
//   hs      [T+1, B, H]  hs[0] = h0, hs[t+1] = h after step t (carried unchanged where t >= length)
//   outputs [T, B, H]    h_t where t < length, else 0 (time-major like everything inside; the API edge converts)
//   dz      [T, B, H]    gradient of the pre-activation, 0 where masked
//   dh      [2, B, H]    ping-pong: dh[t % 2] = dL/dh_t on entry to step t, dh[(t+1) % 2] = dL/dh_{t-1} on exit
//
// forward:   m = t < len[b];  h_t = m ? cellForward(xw_t + h_{t-1}·Wh) : h_{t-1};  out_t = m ? h_t : 0
// backward:  g = dh_t + dOut_t;  dz_t = m ? cellBackward(h_t, g) : 0;  dh_{t-1} = m ? dz_t·Wh^T : dh_t
//            (backwardSeed computes dz_{T-1}; each backward step t then reads dz_t and writes dh_{t-1} and dz_{t-1})
//
// Each invocation owns TB batch rows (4 or 8, unrolled by hand) x 4 units (a vec4), strided across lanes like
// matmul.wgsl and for the same reasons.

const T: u32 = ${T}u;
const B: u32 = ${B}u;
const H: u32 = ${H}u;
const TB: u32 = ${TB}u;
const TU: u32 = 4u;
const WG_X: u32 = ${WG_X}u;
const WG_Y: u32 = ${WG_Y}u;

struct Step { t: u32 }

@group(0) @binding(0) var<uniform> step: Step;  // bound with a dynamic offset, one slot per t
#if ${FORWARD}
@group(0) @binding(1) var<storage, read> wh: array<f32>;       // [H, H]
#else
@group(0) @binding(1) var<storage, read> whT: array<f32>;      // [H, H], Wh transposed: contiguous along k
#endif
@group(0) @binding(2) var<storage, read> lengths: array<i32>;  // [B]

// `n`, as a value the compiler cannot see through (no bound buffer is empty): a loop over a constant count is
// unrolled, and the unrolled per-row epilogue (masks, the cell, bounds checks for every row and unit) took LLVM on
// lavapipe 3 to 8 times as long to compile as the rest of the kernel (about 0.5 s a kernel instead of 2 to 6 s).
fn opaque(n: u32) -> u32 {
  return select(n, 0u, arrayLength(&lengths) == 0u);
}

${CELL}

#if ${FORWARD}
@group(0) @binding(3) var<storage, read> xw: array<f32>;            // [T, B, H]
@group(0) @binding(4) var<storage, read_write> hs: array<f32>;      // [T+1, B, H]
@group(0) @binding(5) var<storage, read_write> outputs: array<f32>; // [T, B, H]

// h_t for one sequence's four units, from z - xw_t = acc.
fn emitForward(t: u32, b: u32, u0: u32, acc: vec4<f32>) {
  if (b >= B) { return; }
  let live = i32(t) < lengths[b];
  let prev = t * B * H;
  for (var j = 0u; j < TU; j++) {
    let u = u0 + j * WG_X;
    if (u >= H) { return; }
    let h = select(hs[prev + b * H + u], cellForward(xw[(t * B + b) * H + u] + acc[j]), live);
    hs[prev + B * H + b * H + u] = h;
    outputs[(t * B + b) * H + u] = select(0.0, h, live);
  }
}

@compute @workgroup_size(${WG_X}, ${WG_Y})
fn forwardStep(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = step.t;
  let b0 = wid.y * TB * WG_Y + lid.y;  // rows b0 + i*WG_Y, units u0 + j*WG_X: see matmul.wgsl
  let u0 = wid.x * TU * WG_X + lid.x;
  let prev = t * B * H;  // hs[t] = h_{t-1}
  let c0 = min(u0, H - 1u);
  let c1 = min(u0 + WG_X, H - 1u);
  let c2 = min(u0 + 2u * WG_X, H - 1u);
  let c3 = min(u0 + 3u * WG_X, H - 1u);
  let r0 = prev + min(b0, B - 1u) * H;
  let r1 = prev + min(b0 + WG_Y, B - 1u) * H;
  let r2 = prev + min(b0 + 2u * WG_Y, B - 1u) * H;
  let r3 = prev + min(b0 + 3u * WG_Y, B - 1u) * H;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
#if ${TB8}
  let r4 = prev + min(b0 + 4u * WG_Y, B - 1u) * H;
  let r5 = prev + min(b0 + 5u * WG_Y, B - 1u) * H;
  let r6 = prev + min(b0 + 6u * WG_Y, B - 1u) * H;
  let r7 = prev + min(b0 + 7u * WG_Y, B - 1u) * H;
  var acc4 = vec4<f32>(0.0);
  var acc5 = vec4<f32>(0.0);
  var acc6 = vec4<f32>(0.0);
  var acc7 = vec4<f32>(0.0);
#endif
  for (var k = 0u; k < H; k++) {
    let w = vec4<f32>(wh[k * H + c0], wh[k * H + c1], wh[k * H + c2], wh[k * H + c3]);
    acc0 = fma(vec4<f32>(hs[r0 + k]), w, acc0);
    acc1 = fma(vec4<f32>(hs[r1 + k]), w, acc1);
    acc2 = fma(vec4<f32>(hs[r2 + k]), w, acc2);
    acc3 = fma(vec4<f32>(hs[r3 + k]), w, acc3);
#if ${TB8}
    acc4 = fma(vec4<f32>(hs[r4 + k]), w, acc4);
    acc5 = fma(vec4<f32>(hs[r5 + k]), w, acc5);
    acc6 = fma(vec4<f32>(hs[r6 + k]), w, acc6);
    acc7 = fma(vec4<f32>(hs[r7 + k]), w, acc7);
#endif
  }
  // The rows are written in a loop the compiler cannot unroll (see opaque()).
  var accs = array<vec4<f32>, 8>(acc0, acc1, acc2, acc3, vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
#if ${TB8}
  accs[4] = acc4;
  accs[5] = acc5;
  accs[6] = acc6;
  accs[7] = acc7;
#endif
  for (var i = 0u; i < opaque(TB); i++) {
    emitForward(t, b0 + i * WG_Y, u0, accs[i]);
  }
}
#endif

#if ${BACKWARD}
@group(0) @binding(3) var<storage, read> hs: array<f32>;        // [T+1, B, H]
#if ${D_OUT}
@group(0) @binding(4) var<storage, read> dOut: array<f32>;      // [T, B, H]
#endif
@group(0) @binding(5) var<storage, read_write> dh: array<f32>;  // [2, B, H]
@group(0) @binding(6) var<storage, read_write> dz: array<f32>;  // [T, B, H]

fn isLive(t: u32, b: u32) -> bool {
  return i32(t) < lengths[min(b, B - 1u)];
}

// dz_t[b, u] = live ? cellBackward(h_t, dh_t + dOut_t) : 0 at [b, u], from dh_t already known.
fn dzFrom(t: u32, b: u32, u: u32, dhT: f32) -> f32 {
  let h = hs[((t + 1u) * B + b) * H + u];
#if ${D_OUT}
  let g = dhT + dOut[(t * B + b) * H + u];
#else
  let g = dhT;  // only the final state has a gradient (a classifier on top)
#endif
  return select(0.0, cellBackward(h, g), isLive(t, b));
}

// Before the first backward step: dz_{T-1} from dState = dh[(T-1) % 2]. One invocation per (b, u), folded into y
// past the per-dimension workgroup limit (grid1d).
@compute @workgroup_size(64)
fn backwardSeed(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * 64u;
  if (i >= B * H) { return; }
  let t = T - 1u;
  dz[t * B * H + i] = dzFrom(t, i / H, i % H, dh[(t % 2u) * B * H + i]);
}

// dh_{t-1} = live_t ? acc : dh_t for one sequence's four units k0 + kk*WG_X (acc = dz_t · Wh^T), and from it
// dz_{t-1}, so that the next step (t-1) reads its dz ready-made: one load per multiply-add in the inner loop.
fn emitBackward(t: u32, b: u32, k0: u32, acc: vec4<f32>) {
  if (b >= B) { return; }
  let live = isLive(t, b);
  let dhIn = (t % 2u) * B * H;
  let dhOut = ((t + 1u) % 2u) * B * H;
  for (var kk = 0u; kk < TU; kk++) {
    let k = k0 + kk * WG_X;
    if (k >= H) { return; }
    let prev = select(dh[dhIn + b * H + k], acc[kk], live);
    dh[dhOut + b * H + k] = prev;
    if (t > 0u) { dz[((t - 1u) * B + b) * H + k] = dzFrom(t - 1u, b, k, prev); }
  }
}

@compute @workgroup_size(${WG_X}, ${WG_Y})
fn backwardStep(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = step.t;
  let b0 = wid.y * TB * WG_Y + lid.y;
  let k0 = wid.x * TU * WG_X + lid.x;  // this invocation's units of dh_{t-1}: k0 + kk*WG_X
  let c0 = min(k0, H - 1u);
  let c1 = min(k0 + WG_X, H - 1u);
  let c2 = min(k0 + 2u * WG_X, H - 1u);
  let c3 = min(k0 + 3u * WG_X, H - 1u);
  let at = t * B * H;  // dz_t
  let r0 = at + min(b0, B - 1u) * H;
  let r1 = at + min(b0 + WG_Y, B - 1u) * H;
  let r2 = at + min(b0 + 2u * WG_Y, B - 1u) * H;
  let r3 = at + min(b0 + 3u * WG_Y, B - 1u) * H;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
#if ${TB8}
  let r4 = at + min(b0 + 4u * WG_Y, B - 1u) * H;
  let r5 = at + min(b0 + 5u * WG_Y, B - 1u) * H;
  let r6 = at + min(b0 + 6u * WG_Y, B - 1u) * H;
  let r7 = at + min(b0 + 7u * WG_Y, B - 1u) * H;
  var acc4 = vec4<f32>(0.0);
  var acc5 = vec4<f32>(0.0);
  var acc6 = vec4<f32>(0.0);
  var acc7 = vec4<f32>(0.0);
#endif
  // dh_{t-1}[b, k] = sum_j dz_t[b, j] * Wh[k, j]
  for (var j = 0u; j < H; j++) {
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
  // The rows are written in a loop the compiler cannot unroll (see opaque()).
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
#endif
