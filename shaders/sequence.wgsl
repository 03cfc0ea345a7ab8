// Small layer kernels over time-major sequences [T, B, F] with lengths [B] (each in [1, T]). Every sequence a layer
// gives is zero past its length (src/reference/layers.ts), so the layer above reads zeros there and sends back no
// gradient from them:
//
//   repeatForward   y[t, b, f]  = t < lengths[b] ? x[b, f] : 0             one invocation per element of y
//   repeatBackward  dx[b, f]    = sum over t < lengths[b] of dy[t, b, f]   one invocation per element of dx
//   maskSteps       y[t, b, f]  = 0 where t >= lengths[b], in place         one invocation per element of y
//
// maskSteps is the time-distributed dense layer's last forward step (its bias landed on every row of the product)
// and, on the gradient, its first backward step: the same kernel both ways, one pipeline per (T, B, F). A MASK_ROWS
// epilogue in matmul.wgsl was measured instead (lavapipe, MESA_SHADER_CACHE_DISABLE=true, creation + first dispatch,
// median of 16): plain matmul 470 ms, with MASK_ROWS 490 ms, this kernel 76 ms. The fusion saves no pipeline, since the
// gradient must still be masked before the three products that read it, and it would add a variant to tune and test.
//
// Each pipeline compiles one entry point (the flags), and the only loop (repeatBackward's steps) runs to a length
// read from a buffer, so nothing is unrolled (see opaque() in matmul.wgsl for what unrolling costs on lavapipe).

const T: u32 = ${T}u;  // steps
const B: u32 = ${B}u;  // batch
const F: u32 = ${F}u;  // features per step
const N: u32 = T * B * F;

@group(0) @binding(0) var<storage, read> lengths: array<i32>;  // [B]

// The flat index of invocation `gid` in a grid1d launch of 256-wide workgroups.
fn flat(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

// Whether step t of sequence b is past its length.
fn past(t: u32, b: u32) -> bool {
  return i32(t) >= lengths[b];
}

#if ${REPEAT_FORWARD}
@group(0) @binding(1) var<storage, read> x: array<f32>;          // [B, F]
@group(0) @binding(2) var<storage, read_write> y: array<f32>;    // [T, B, F]

@compute @workgroup_size(256)
fn repeatForward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let e = flat(gid, groups);
  if (e >= N) { return; }
  let bf = e % (B * F);
  y[e] = select(x[bf], 0.0, past(e / (B * F), bf / F));
}
#endif

#if ${REPEAT_BACKWARD}
@group(0) @binding(1) var<storage, read> dy: array<f32>;         // [T, B, F]
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;   // [B, F]

@compute @workgroup_size(256)
fn repeatBackward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let e = flat(gid, groups);
  if (e >= B * F) { return; }
  let steps = u32(clamp(lengths[e / F], 0, i32(T)));
  var sum = 0.0;
  for (var t = 0u; t < steps; t++) {
    sum += dy[t * B * F + e];
  }
  dx[e] = sum;
}
#endif

#if ${MASK}
@group(0) @binding(1) var<storage, read_write> y: array<f32>;    // [T, B, F], in place

@compute @workgroup_size(256)
fn maskSteps(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let e = flat(gid, groups);
  if (e >= N) { return; }
  if (past(e / (B * F), (e / F) % B)) { y[e] = 0.0; }
}
#endif
