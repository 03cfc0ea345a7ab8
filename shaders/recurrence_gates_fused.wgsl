// The masked recurrence of a multi-gate cell (LSTM, GRU reset-after) with every time step in one dispatch, forward and
// backward side by side: recurrence_fused.wgsl's scheme (a workgroup owns RB = 4 sequences for all T steps, one per
// lane of a vec4) for the cells of recurrence_gates.wgsl, whose step functions (cellStep, cellStepBackward from
// shaders/cells/<name>.wgsl) are spliced in at the CELL placeholder with the same interface: G gate blocks in the
// lanes of a vec4 (unused lanes 0), S states in the lanes of a vec2 (h, c; c = 0 when S = 1). Same layouts and results
// as the per-step gate kernels, so the weight-gradient reductions and dx after it are unchanged:
//
//   xw      [T, B, N]       zx; when training followed by zh [T, B, N] (h_{t-1}·Wh + bh), which forward saves (SAVE)
//   hs      [S, T+1, B, H]  hs[.][0] = h0 (and c0) on entry; hs[.][t+1] the states after step t (hs[1][0]: zeros unless a stateful layer carried c there)
//   outputs [T, B, H]       h_t where t < length, else 0
//   dz, dzx [T, B, N]       as recurrence_gates.wgsl (dzx only for a cell with dzxApart)
//   dh      [2S+1, B, H]    dState in dh[(T-1) % 2] on entry; on exit dh0 in dh[1], (S = 2) dc0 in dh[3] and the direct
//                           part of step 0's dL/dh_{-1} in dh[2S]: where the per-step kernels leave them
//
// What crosses units lives in workgroup memory: forward h_{t-1} [RB, H] (every unit's zh reads all of it), backward
// dz_t [RB, N] (dL/dh_{t-1} = dz_t·Wh^T reads all N columns). What stays with a unit lives in registers, since each
// invocation owns its units for all T steps: c (LSTM), backward dL/dh_t, dL/dc_t and the direct part of dL/dh_{t-1}.
// Wh is read from global memory every step (it is shared by every workgroup; [H, N] does not fit beside the state).
// Not for a gated cell (GRU reset-before): its u = r⊙h_{t-1} would need a third workgroup tile and a barrier more a
// step each way; it runs per step only.
//
// Invocation lid owns units lid + k*WG (k < UPT) of each of the 4 sequences. The cell's step runs in a loop over the
// 4 lanes that the compiler cannot unroll (opaque(), as recurrence_gates.wgsl: unrolled, LLVM on lavapipe takes
// seconds to compile LSTM's epilogue).

const T: u32 = ${T}u;
const B: u32 = ${B}u;
const H: u32 = ${H}u;
const G: u32 = ${G}u;
const N: u32 = ${G}u * ${H}u;
const RB: u32 = 4u;        // sequences per workgroup: one vec4 lane each
const WG: u32 = ${WG}u;    // invocations per workgroup
const UPT: u32 = ${UPT}u;  // units per invocation: ceil(H / WG)
const CS: u32 = (${T}u + 1u) * ${B}u * ${H}u;  // where c starts in hs (S = 2)

@group(0) @binding(1) var<storage, read> lengths: array<i32>;  // [B]

// `n`, as a value the compiler cannot see through (see recurrence_gates.wgsl).
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
@group(0) @binding(0) var<storage, read> wh: array<f32>;             // [H, N]
#if ${BH}
@group(0) @binding(2) var<storage, read> bh: array<f32>;             // [N]
#endif
@group(0) @binding(3) var<storage, read_write> xw: array<f32>;       // [T, B, N] (+ zh [T, B, N] when SAVE)
@group(0) @binding(4) var<storage, read_write> hs: array<f32>;       // [S, T+1, B, H]
@group(0) @binding(5) var<storage, read_write> outputs: array<f32>;  // [T, B, H]

var<workgroup> state: array<f32, ${RB_H}>;  // [RB, H]: h_{t-1}

// The four sequences' h_{t-1} at unit u.
fn column(u: u32) -> vec4<f32> {
  return vec4<f32>(state[u], state[H + u], state[2u * H + u], state[3u * H + u]);
}

@compute @workgroup_size(${WG})
fn forwardGatesFused(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
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
  var c: array<vec4<f32>, UPT>;  // c_{t-1} of unit k's four sequences (S = 1: stays 0)
#if ${S2}
  for (var k = 0u; k < UPT; k++) {
    let u = min(lid.x + k * WG, H - 1u);
    for (var r = 0u; r < RB; r++) { c[k][r] = hs[CS + rows[r] * H + u]; }  // c0 = hs[1][0]: zeros unless carried
  }
#endif
  workgroupBarrier();
  for (var t = 0u; t < T; t++) {
    var next: array<vec4<f32>, UPT>;
    for (var k = 0u; k < UPT; k++) {
      let owned = lid.x + k * WG < H;
      let u = min(lid.x + k * WG, H - 1u);
      // zh - bh of the four sequences, one accumulator per gate block
      var a0 = vec4<f32>(0.0);
      var a1 = vec4<f32>(0.0);
      var a2 = vec4<f32>(0.0);
      var a3 = vec4<f32>(0.0);
      for (var j = 0u; j < H; j++) {
        let h = column(j);
        let w = j * N + u;
        a0 = fma(h, vec4<f32>(wh[w]), a0);
        a1 = fma(h, vec4<f32>(wh[w + H]), a1);
        a2 = fma(h, vec4<f32>(wh[w + 2u * H]), a2);
#if ${G4}
        a3 = fma(h, vec4<f32>(wh[w + 3u * H]), a3);
#endif
      }
      for (var r = 0u; r < opaque(RB); r++) {
        let b = rows[r];
        let live = i32(t) < len[r];
        let at = (t * B + b) * N + u;
        let prev = t * B * H + b * H + u;
#if ${BH}
        let zh = gatesAt(vec4<f32>(a0[r], a1[r], a2[r], a3[r]) + vec4<f32>(bh[u], bh[H + u], bh[2u * H + u], bh[(G - 1u) * H + u]));
#else
        let zh = gatesAt(vec4<f32>(a0[r], a1[r], a2[r], a3[r]));
#endif
        let zx = gatesAt(vec4<f32>(xw[at], xw[at + H], xw[at + 2u * H], xw[at + (G - 1u) * H]));
        let before = vec2<f32>(state[r * H + u], c[k][r]);
        let after = select(before, cellStep(zx, zh, before), live);
        next[k][r] = after.x;
        c[k][r] = after.y;
        if (owned && valid[r]) {
          hs[prev + B * H] = after.x;
#if ${S2}
          hs[CS + prev + B * H] = after.y;
#endif
          outputs[(t * B + b) * H + u] = select(0.0, after.x, live);
#if ${SAVE}
          let saved = T * B * N + at;
          xw[saved] = zh.x;
          xw[saved + H] = zh.y;
          xw[saved + 2u * H] = zh.z;
#if ${G4}
          xw[saved + 3u * H] = zh.w;
#endif
#endif
        }
      }
    }
    workgroupBarrier();  // everyone has read h_{t-1}
    for (var k = 0u; k < UPT; k++) {
      let u = lid.x + k * WG;
      if (u >= H) { break; }
      for (var r = 0u; r < RB; r++) { state[r * H + u] = next[k][r]; }
    }
    workgroupBarrier();  // h_t complete before step t+1 reads it
  }
}
#endif

#if ${BACKWARD}
@group(0) @binding(0) var<storage, read> whT: array<f32>;        // [N, H], Wh transposed
@group(0) @binding(2) var<storage, read> hs: array<f32>;         // [S, T+1, B, H]
#if ${D_OUT}
@group(0) @binding(3) var<storage, read> dOut: array<f32>;       // [T, B, H]
#endif
@group(0) @binding(4) var<storage, read> xw: array<f32>;         // [2, T, B, N]: zx, then zh
@group(0) @binding(5) var<storage, read_write> dh: array<f32>;   // [2S+1, B, H]
@group(0) @binding(6) var<storage, read_write> dz: array<f32>;   // [T, B, N]
#if ${DZX}
@group(0) @binding(7) var<storage, read_write> dzx: array<f32>;  // [T, B, N]
#endif

const DIRECT: u32 = 2u * ${S}u * B * H;  // dh[2S]

var<workgroup> dzShared: array<f32, ${RB_N}>;  // [RB, N]: dz_t of the workgroup's four sequences

// The four sequences' dz_t at column j.
fn dzColumn(j: u32) -> vec4<f32> {
  return vec4<f32>(dzShared[j], dzShared[N + j], dzShared[2u * N + j], dzShared[3u * N + j]);
}

fn load4(at: u32) -> vec4<f32> {
  return gatesAt(vec4<f32>(xw[at], xw[at + H], xw[at + 2u * H], xw[at + (G - 1u) * H]));
}

@compute @workgroup_size(${WG})
fn backwardGatesFused(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let b0 = wid.x * RB;
  let rows = min(vec4<u32>(b0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(B - 1u));
  let valid = vec4<u32>(b0) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(B);
  let len = vec4<i32>(lengths[rows.x], lengths[rows.y], lengths[rows.z], lengths[rows.w]);
  // Per unit k, the four sequences in the lanes: dL/dh_t (without dOut), dL/dc_t, and the direct part of dL/dh_{t-1}.
  var dhT: array<vec4<f32>, UPT>;
  var dcT: array<vec4<f32>, UPT>;  // dL/dc_{T-1} = 0
  var direct: array<vec4<f32>, UPT>;
  let dStateAt = ((T - 1u) % 2u) * B * H;
  for (var k = 0u; k < UPT; k++) {
    let u = min(lid.x + k * WG, H - 1u);
    for (var r = 0u; r < RB; r++) { dhT[k][r] = dh[dStateAt + rows[r] * H + u]; }
  }
  for (var step = 0u; step < T; step++) {
    let t = T - 1u - step;
    let live = vec4<i32>(i32(t)) < len;
    // The cell's backward of step t: dz_t (and dzx_t) into memory and the tile, dL/dc_{t-1} and the direct part kept.
    for (var k = 0u; k < UPT; k++) {
      let owned = lid.x + k * WG < H;
      let u = min(lid.x + k * WG, H - 1u);
      for (var r = 0u; r < opaque(RB); r++) {
        let b = rows[r];
#if ${D_OUT}
        let g = dhT[k][r] + dOut[(t * B + b) * H + u];
#else
        let g = dhT[k][r];  // only the final state has a gradient (a layer on the last state)
#endif
        let at = (t * B + b) * N + u;
        let s = t * B * H + b * H + u;  // states before step t in hs[.][t], after it in hs[.][t+1]
        var d = CellStepGrad(vec4<f32>(0.0), vec4<f32>(0.0), vec2<f32>(0.0, dcT[k][r]));  // masked: c is carried
        if (live[r]) {
#if ${S2}
          let before = vec2<f32>(hs[s], hs[CS + s]);
          let after = vec2<f32>(hs[s + B * H], hs[CS + s + B * H]);
#else
          let before = vec2<f32>(hs[s], 0.0);
          let after = vec2<f32>(hs[s + B * H], 0.0);
#endif
          d = cellStepBackward(load4(at), load4(T * B * N + at), before, after, vec2<f32>(g, dcT[k][r]));
        }
        direct[k][r] = d.dBefore.x;
        dcT[k][r] = d.dBefore.y;
        if (owned) {
          let tile = r * N + u;
          dzShared[tile] = d.dzh.x;
          dzShared[tile + H] = d.dzh.y;
          dzShared[tile + 2u * H] = d.dzh.z;
#if ${G4}
          dzShared[tile + 3u * H] = d.dzh.w;
#endif
          if (valid[r]) {
            dz[at] = d.dzh.x;
            dz[at + H] = d.dzh.y;
            dz[at + 2u * H] = d.dzh.z;
#if ${G4}
            dz[at + 3u * H] = d.dzh.w;
#endif
#if ${DZX}
            dzx[at] = d.dzx.x;
            dzx[at + H] = d.dzx.y;
            dzx[at + 2u * H] = d.dzx.z;
#if ${G4}
            dzx[at + 3u * H] = d.dzx.w;
#endif
#endif
          }
        }
      }
    }
    workgroupBarrier();  // dz_t complete
    // dL/dh_{t-1} = live ? dz_t·Wh^T + direct : dL/dh_t
    for (var k = 0u; k < UPT; k++) {
      let u = min(lid.x + k * WG, H - 1u);
      var acc = vec4<f32>(0.0);
      for (var j = 0u; j < N; j++) { acc = fma(dzColumn(j), vec4<f32>(whT[j * H + u]), acc); }
      dhT[k] = select(dhT[k], acc + direct[k], live);
    }
    workgroupBarrier();  // everyone has read dz_t before step t-1 writes its own
  }
  for (var k = 0u; k < UPT; k++) {
    let u = lid.x + k * WG;
    if (u >= H) { break; }
    for (var r = 0u; r < RB; r++) {
      if (valid[r]) {
        let at = rows[r] * H + u;
        dh[B * H + at] = dhT[k][r];
        dh[DIRECT + at] = direct[k][r];
#if ${S2}
        dh[3u * B * H + at] = dcT[k][r];
#endif
      }
    }
  }
}
#endif
