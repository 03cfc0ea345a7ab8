// The masked tanh recurrence, one time step per dispatch, forward and backward side by side.
//
// Time-major layouts (T = steps, B = batch, H = units):
//   xw      [T, B, H]    x_t·Wx + b for every step, computed beforehand by one matmul
//   hs      [T+1, B, H]  hs[0] = h0, hs[t+1] = h after step t (carried unchanged where t >= length)
//   outputs [B, T, H]    batch-major, as the API returns it: h_t where t < length, else 0
//   dz      [T, B, H]    gradient of the pre-activation, 0 where masked
//   dh      [2, B, H]    ping-pong: dh[t % 2] = dL/dh_t on entry to step t, dh[(t+1) % 2] = dL/dh_{t-1} on exit
//
// forward:   m = t < len[b];  h_t = m ? tanh(xw_t + h_{t-1}·Wh) : h_{t-1};  out_t = m ? h_t : 0
// backward:  g = dh_t + dOut_t;  dz_t = m ? g * (1 - h_t^2) : 0;  dh_{t-1} = m ? dz_t·Wh^T : dh_t
//
// Each invocation owns TB batch rows x TU units, register-blocked and strided across lanes like matmul.wgsl.

const T: u32 = ${T}u;
const B: u32 = ${B}u;
const H: u32 = ${H}u;
const TB: u32 = ${TB}u;
const TU: u32 = ${TU}u;
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

// Overflow-safe tanh: WGSL's built-in may return NaN for large |x|. A short Taylor series near 0 avoids the
// cancellation in 1 - exp(-2|x|).
fn safeTanh(x: f32) -> f32 {
  let ax = abs(x);
  if (ax < 0.125) {
    let x2 = x * x;
    return x * (1.0 + x2 * (-1.0 / 3.0 + x2 * (2.0 / 15.0 + x2 * (-17.0 / 315.0))));
  }
  let e = exp(-2.0 * ax);
  return sign(x) * (1.0 - e) / (1.0 + e);
}

#if ${FORWARD}
@group(0) @binding(3) var<storage, read> xw: array<f32>;            // [T, B, H]
@group(0) @binding(4) var<storage, read_write> hs: array<f32>;      // [T+1, B, H]
@group(0) @binding(5) var<storage, read_write> outputs: array<f32>; // [B, T, H]

@compute @workgroup_size(${WG_X}, ${WG_Y})
fn forwardStep(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = step.t;
  let b0 = wid.y * TB * WG_Y + lid.y;  // rows b0 + i*WG_Y, units u0 + j*WG_X: see matmul.wgsl
  let u0 = wid.x * TU * WG_X + lid.x;
  var rows: array<u32, TB>;
  var cols: array<u32, TU>;
  for (var i = 0u; i < TB; i++) { rows[i] = min(b0 + i * WG_Y, B - 1u); }
  for (var j = 0u; j < TU; j++) { cols[j] = min(u0 + j * WG_X, H - 1u); }

  let prev = t * B * H;  // hs[t] = h_{t-1}
  var acc: array<array<f32, TU>, TB>;
  for (var k = 0u; k < H; k++) {
    var hv: array<f32, TB>;
    var wv: array<f32, TU>;
    for (var i = 0u; i < TB; i++) { hv[i] = hs[prev + rows[i] * H + k]; }
    for (var j = 0u; j < TU; j++) { wv[j] = wh[k * H + cols[j]]; }
    for (var i = 0u; i < TB; i++) {
      for (var j = 0u; j < TU; j++) { acc[i][j] = fma(hv[i], wv[j], acc[i][j]); }
    }
  }

  for (var i = 0u; i < TB; i++) {
    let bi = b0 + i * WG_Y;
    if (bi >= B) { break; }
    let live = i32(t) < lengths[bi];
    for (var j = 0u; j < TU; j++) {
      let u = u0 + j * WG_X;
      if (u >= H) { break; }
      let h = select(hs[prev + bi * H + u], safeTanh(xw[(t * B + bi) * H + u] + acc[i][j]), live);
      hs[prev + B * H + bi * H + u] = h;
      outputs[(bi * T + t) * H + u] = select(0.0, h, live);
    }
  }
}
#endif

#if ${BACKWARD}
@group(0) @binding(3) var<storage, read> hs: array<f32>;        // [T+1, B, H]
#if ${D_OUT}
@group(0) @binding(4) var<storage, read> dOut: array<f32>;      // [B, T, H]
#endif
@group(0) @binding(5) var<storage, read_write> dh: array<f32>;  // [2, B, H]
@group(0) @binding(6) var<storage, read_write> dz: array<f32>;  // [T, B, H]

// dz_t[b, j], recomputed by every invocation that needs it: cheaper than a second dispatch per step.
fn dzAt(t: u32, b: u32, j: u32, dhIn: u32, live: bool) -> f32 {
  let h = hs[((t + 1u) * B + b) * H + j];
#if ${D_OUT}
  let g = dh[dhIn + b * H + j] + dOut[(b * T + t) * H + j];
#else
  let g = dh[dhIn + b * H + j];  // only the final state has a gradient (a classifier on top)
#endif
  return select(0.0, g * (1.0 - h * h), live);
}

@compute @workgroup_size(${WG_X}, ${WG_Y})
fn backwardStep(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = step.t;
  let b0 = wid.y * TB * WG_Y + lid.y;
  let k0 = wid.x * TU * WG_X + lid.x;  // this invocation's units of dh_{t-1}, and of dz_t: k0 + kk*WG_X
  let dhIn = (t % 2u) * B * H;
  let dhOut = ((t + 1u) % 2u) * B * H;
  var rows: array<u32, TB>;
  var live: array<bool, TB>;
  var cols: array<u32, TU>;
  for (var i = 0u; i < TB; i++) {
    rows[i] = min(b0 + i * WG_Y, B - 1u);
    live[i] = i32(t) < lengths[rows[i]];
  }
  for (var j = 0u; j < TU; j++) { cols[j] = min(k0 + j * WG_X, H - 1u); }

  // dh_{t-1}[b, k] = sum_j dz_t[b, j] * Wh[k, j]
  var acc: array<array<f32, TU>, TB>;
  for (var j = 0u; j < H; j++) {
    var dv: array<f32, TB>;
    var wv: array<f32, TU>;
    for (var i = 0u; i < TB; i++) { dv[i] = dzAt(t, rows[i], j, dhIn, live[i]); }
    for (var kk = 0u; kk < TU; kk++) { wv[kk] = whT[j * H + cols[kk]]; }
    for (var i = 0u; i < TB; i++) {
      for (var kk = 0u; kk < TU; kk++) { acc[i][kk] = fma(dv[i], wv[kk], acc[i][kk]); }
    }
  }

  for (var i = 0u; i < TB; i++) {
    let bi = b0 + i * WG_Y;
    if (bi >= B) { break; }
    for (var kk = 0u; kk < TU; kk++) {
      let k = k0 + kk * WG_X;
      if (k >= H) { break; }
      dz[(t * B + bi) * H + k] = dzAt(t, bi, k, dhIn, live[i]);
      dh[dhOut + bi * H + k] = select(dh[dhIn + bi * H + k], acc[i][kk], live[i]);
    }
  }
}
#endif
