// The masked tanh recurrence with every time step in one dispatch (the idea of Baidu's Persistent RNNs): a workgroup
// owns RB sequences for all T steps and keeps their hidden state (forward) or its gradient (backward) in workgroup
// memory, so no step waits for a dispatch boundary. Same layouts and results as recurrence.wgsl (one step per
// dispatch); which is faster depends on the shape and the adapter, and the tuner measures both.
//
//   xw [T, B, H]   hs [T+1, B, H]   outputs [B, T, H]   dz [T, B, H]   dh [2, B, H]: dState in dh[(T-1) % 2] on
//   entry; dh0 left in dh[1] on exit, as the per-step kernels leave them.
//
// Invocation lid owns units lid + k*WG (k < UPT) of each of the workgroup's RB sequences.

const T: u32 = ${T}u;
const B: u32 = ${B}u;
const H: u32 = ${H}u;
const RB: u32 = ${RB}u;   // sequences per workgroup
const WG: u32 = ${WG}u;   // invocations per workgroup
const UPT: u32 = ${UPT}u; // units per invocation: ceil(H / WG)

@group(0) @binding(1) var<storage, read> lengths: array<i32>;  // [B]

var<workgroup> state: array<f32, ${RB_H}>;  // [RB, H]: h_{t-1} forward, dL/dh_t backward
#if ${BACKWARD}
var<workgroup> dzShared: array<f32, ${RB_H}>;  // [RB, H]: dz_t
#endif

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
@group(0) @binding(0) var<storage, read> wh: array<f32>;             // [H, H]
@group(0) @binding(2) var<storage, read> xw: array<f32>;             // [T, B, H]
@group(0) @binding(3) var<storage, read_write> hs: array<f32>;       // [T+1, B, H]
@group(0) @binding(4) var<storage, read_write> outputs: array<f32>;  // [B, T, H]

@compute @workgroup_size(${WG})
fn forwardFused(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let b0 = wid.x * RB;
  for (var r = 0u; r < RB; r++) {
    for (var k = 0u; k < UPT; k++) {
      let u = lid.x + k * WG;
      if (u < H) { state[r * H + u] = select(0.0, hs[min(b0 + r, B - 1u) * H + u], b0 + r < B); }
    }
  }
  workgroupBarrier();
  for (var t = 0u; t < T; t++) {
    var next: array<array<f32, UPT>, RB>;
    for (var k = 0u; k < UPT; k++) {
      let u = min(lid.x + k * WG, H - 1u);
      var acc: array<f32, RB>;
      for (var r = 0u; r < RB; r++) { acc[r] = 0.0; }  // explicitly: some compilers hoist the declaration out of the loop
      for (var j = 0u; j < H; j++) {
        let w = wh[j * H + u];
        for (var r = 0u; r < RB; r++) { acc[r] = fma(state[r * H + j], w, acc[r]); }
      }
      for (var r = 0u; r < RB; r++) {
        let b = min(b0 + r, B - 1u);
        let live = i32(t) < lengths[b];
        next[r][k] = select(state[r * H + u], safeTanh(xw[(t * B + b) * H + u] + acc[r]), live);
      }
    }
    workgroupBarrier();  // everyone has read h_{t-1}
    for (var r = 0u; r < RB; r++) {
      let b = b0 + r;
      if (b >= B) { break; }
      let live = i32(t) < lengths[b];
      for (var k = 0u; k < UPT; k++) {
        let u = lid.x + k * WG;
        if (u >= H) { break; }
        state[r * H + u] = next[r][k];
        hs[((t + 1u) * B + b) * H + u] = next[r][k];
        outputs[(b * T + t) * H + u] = select(0.0, next[r][k], live);
      }
    }
    workgroupBarrier();  // h_t complete before step t+1 reads it
  }
}
#endif

#if ${BACKWARD}
@group(0) @binding(0) var<storage, read> whT: array<f32>;         // [H, H], Wh transposed
@group(0) @binding(2) var<storage, read> hs: array<f32>;          // [T+1, B, H]
#if ${D_OUT}
@group(0) @binding(3) var<storage, read> dOut: array<f32>;        // [B, T, H]
#endif
@group(0) @binding(4) var<storage, read_write> dh: array<f32>;    // [2, B, H]
@group(0) @binding(5) var<storage, read_write> dz: array<f32>;    // [T, B, H]

@compute @workgroup_size(${WG})
fn backwardFused(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let b0 = wid.x * RB;
  let dStateAt = ((T - 1u) % 2u) * B * H;
  for (var r = 0u; r < RB; r++) {
    for (var k = 0u; k < UPT; k++) {
      let u = lid.x + k * WG;
      if (u < H) { state[r * H + u] = select(0.0, dh[dStateAt + min(b0 + r, B - 1u) * H + u], b0 + r < B); }
    }
  }
  workgroupBarrier();
  for (var step = 0u; step < T; step++) {
    let t = T - 1u - step;
    // dz_t = live ? (dh_t + dOut_t) * (1 - h_t^2) : 0
    for (var r = 0u; r < RB; r++) {
      let b = min(b0 + r, B - 1u);
      let live = i32(t) < lengths[b];
      for (var k = 0u; k < UPT; k++) {
        let u = lid.x + k * WG;
        if (u >= H) { break; }
        let h = hs[((t + 1u) * B + b) * H + u];
#if ${D_OUT}
        let g = state[r * H + u] + dOut[(b * T + t) * H + u];
#else
        let g = state[r * H + u];
#endif
        let d = select(0.0, g * (1.0 - h * h), live);
        dzShared[r * H + u] = d;
        if (b0 + r < B) { dz[(t * B + b) * H + u] = d; }
      }
    }
    workgroupBarrier();
    // dh_{t-1} = live ? dz_t · Wh^T : dh_t
    var next: array<array<f32, UPT>, RB>;
    for (var k = 0u; k < UPT; k++) {
      let u = min(lid.x + k * WG, H - 1u);
      var acc: array<f32, RB>;
      for (var r = 0u; r < RB; r++) { acc[r] = 0.0; }  // explicitly: some compilers hoist the declaration out of the loop
      for (var j = 0u; j < H; j++) {
        let w = whT[j * H + u];
        for (var r = 0u; r < RB; r++) { acc[r] = fma(dzShared[r * H + j], w, acc[r]); }
      }
      for (var r = 0u; r < RB; r++) {
        let live = i32(t) < lengths[min(b0 + r, B - 1u)];
        next[r][k] = select(state[r * H + u], acc[r], live);
      }
    }
    workgroupBarrier();  // everyone has read dz_t and dh_t
    for (var r = 0u; r < RB; r++) {
      for (var k = 0u; k < UPT; k++) {
        let u = lid.x + k * WG;
        if (u < H) { state[r * H + u] = next[r][k]; }
      }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < RB; r++) {
    let b = b0 + r;
    if (b >= B) { break; }
    for (var k = 0u; k < UPT; k++) {
      let u = lid.x + k * WG;
      if (u < H) { dh[B * H + b * H + u] = state[r * H + u]; }
    }
  }
}
#endif
