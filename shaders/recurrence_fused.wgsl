// The masked recurrence of a cell with every time step in one dispatch (the idea of Baidu's Persistent RNNs): a workgroup
// owns RB sequences for all T steps and keeps their hidden state (forward) or its gradient (backward) in workgroup
// memory, so no step waits for a dispatch boundary. Same layouts and results as recurrence.wgsl (one step per
// dispatch); which is faster depends on the shape and the adapter, and the tuner measures both. The cell's epilogue
// (shaders/cells/<name>.wgsl: cellForward4, cellBackward4 on four sequences at once) is spliced in at the CELL
// placeholder below; for now the cell has one gate block and one state (src/cells/cell.ts).
//
//   xw [T, B, H]   hs [T+1, B, H]   outputs [T, B, H]   dz [T, B, H]   dh [2, B, H]: dState in dh[(T-1) % 2] on
//   entry; dh0 left in dh[1] on exit, as the per-step kernels leave them.
//
// Invocation lid owns units lid + k*WG (k < UPT) of each of the workgroup's 4 sequences, the sequences held in the
// lanes of a vec4 (no private arrays indexed by row: SwiftShader keeps those in memory).

const T: u32 = ${T}u;
const B: u32 = ${B}u;
const H: u32 = ${H}u;
const RB: u32 = 4u;       // sequences per workgroup: one vec4 lane each
const WG: u32 = ${WG}u;   // invocations per workgroup
const UPT: u32 = ${UPT}u; // units per invocation: ceil(H / WG)

@group(0) @binding(1) var<storage, read> lengths: array<i32>;  // [B]

var<workgroup> state: array<f32, ${RB_H}>;  // [RB, H]: h_{t-1} forward, dL/dh_t backward
#if ${BACKWARD}
var<workgroup> dzShared: array<f32, ${RB_H}>;  // [RB, H]: dz_t
#endif

${CELL}

// The four sequences' values of unit u in a [RB, H] workgroup tile.
fn column(tile: ptr<workgroup, array<f32, ${RB_H}>>, u: u32) -> vec4<f32> {
  return vec4<f32>((*tile)[u], (*tile)[H + u], (*tile)[2u * H + u], (*tile)[3u * H + u]);
}

#if ${FORWARD}
@group(0) @binding(0) var<storage, read> wh: array<f32>;             // [H, H]
@group(0) @binding(2) var<storage, read> xw: array<f32>;             // [T, B, H]
@group(0) @binding(3) var<storage, read_write> hs: array<f32>;       // [T+1, B, H]
@group(0) @binding(4) var<storage, read_write> outputs: array<f32>;  // [T, B, H]

@compute @workgroup_size(${WG})
fn forwardFused(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let b0 = wid.x * RB;
  let rows = min(vec4<u32>(b0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(B - 1u));  // clamped sequence indices
  let valid = vec4<u32>(b0) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(B);
  let len = vec4<i32>(lengths[rows.x], lengths[rows.y], lengths[rows.z], lengths[rows.w]);
  for (var k = 0u; k < UPT; k++) {
    let u = lid.x + k * WG;
    if (u < H) {
      for (var r = 0u; r < RB; r++) { state[r * H + u] = hs[rows[r] * H + u]; }
    }
  }
  workgroupBarrier();
  for (var t = 0u; t < T; t++) {
    let live = vec4<i32>(i32(t)) < len;
    var next: array<vec4<f32>, UPT>;
    for (var k = 0u; k < UPT; k++) {
      let u = min(lid.x + k * WG, H - 1u);
      var acc = vec4<f32>(0.0);
      for (var j = 0u; j < H; j++) { acc = fma(column(&state, j), vec4<f32>(wh[j * H + u]), acc); }
      let row = (vec4<u32>(t * B) + rows) * H + u;
      let xwv = vec4<f32>(xw[row.x], xw[row.y], xw[row.z], xw[row.w]);
      next[k] = select(column(&state, u), cellForward4(xwv + acc), live);
    }
    workgroupBarrier();  // everyone has read h_{t-1}
    for (var k = 0u; k < UPT; k++) {
      let u = lid.x + k * WG;
      if (u >= H) { break; }
      for (var r = 0u; r < RB; r++) {
        state[r * H + u] = next[k][r];
        if (valid[r]) {
          let b = rows[r];
          hs[((t + 1u) * B + b) * H + u] = next[k][r];
          outputs[(t * B + b) * H + u] = select(0.0, next[k][r], live[r]);
        }
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
@group(0) @binding(3) var<storage, read> dOut: array<f32>;        // [T, B, H]
#endif
@group(0) @binding(4) var<storage, read_write> dh: array<f32>;    // [2, B, H]
@group(0) @binding(5) var<storage, read_write> dz: array<f32>;    // [T, B, H]

@compute @workgroup_size(${WG})
fn backwardFused(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let b0 = wid.x * RB;
  let rows = min(vec4<u32>(b0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(B - 1u));
  let valid = vec4<u32>(b0) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(B);
  let len = vec4<i32>(lengths[rows.x], lengths[rows.y], lengths[rows.z], lengths[rows.w]);
  let dStateAt = ((T - 1u) % 2u) * B * H;
  for (var k = 0u; k < UPT; k++) {
    let u = lid.x + k * WG;
    if (u < H) {
      for (var r = 0u; r < RB; r++) { state[r * H + u] = dh[dStateAt + rows[r] * H + u]; }
    }
  }
  workgroupBarrier();
  for (var step = 0u; step < T; step++) {
    let t = T - 1u - step;
    let live = vec4<i32>(i32(t)) < len;
    // dz_t = live ? cellBackward(h_t, dh_t + dOut_t) : 0
    for (var k = 0u; k < UPT; k++) {
      let u = lid.x + k * WG;
      if (u >= H) { break; }
      let at = (vec4<u32>((t + 1u) * B) + rows) * H + u;
      let h = vec4<f32>(hs[at.x], hs[at.y], hs[at.z], hs[at.w]);
#if ${D_OUT}
      let o = (vec4<u32>(t * B) + rows) * H + u;
      let g = column(&state, u) + vec4<f32>(dOut[o.x], dOut[o.y], dOut[o.z], dOut[o.w]);
#else
      let g = column(&state, u);
#endif
      let d = select(vec4<f32>(0.0), cellBackward4(h, g), live);
      for (var r = 0u; r < RB; r++) {
        dzShared[r * H + u] = d[r];
        if (valid[r]) { dz[(t * B + rows[r]) * H + u] = d[r]; }
      }
    }
    workgroupBarrier();
    // dh_{t-1} = live ? dz_t · Wh^T : dh_t
    var next: array<vec4<f32>, UPT>;
    for (var k = 0u; k < UPT; k++) {
      let u = min(lid.x + k * WG, H - 1u);
      var acc = vec4<f32>(0.0);
      for (var j = 0u; j < H; j++) { acc = fma(column(&dzShared, j), vec4<f32>(whT[j * H + u]), acc); }
      next[k] = select(column(&state, u), acc, live);
    }
    workgroupBarrier();  // everyone has read dz_t and dh_t
    for (var k = 0u; k < UPT; k++) {
      let u = lid.x + k * WG;
      if (u >= H) { break; }
      for (var r = 0u; r < RB; r++) { state[r * H + u] = next[k][r]; }
    }
    workgroupBarrier();
  }
  for (var k = 0u; k < UPT; k++) {
    let u = lid.x + k * WG;
    if (u >= H) { break; }
    for (var r = 0u; r < RB; r++) {
      if (valid[r]) { dh[B * H + rows[r] * H + u] = state[r * H + u]; }
    }
  }
}
#endif
