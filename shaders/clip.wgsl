// Gradient clipping by global norm over the flat gradient buffer, as PyTorch's clip_grad_norm_ (and Keras'
// global clipnorm) computes it, before Adam:
//   total = sqrt(sum_i g_i^2);  coef = clipNorm / (total + 1e-6);  g *= min(coef, 1)
// Three dispatches, in one compute pass with the rest of the training step:
//   normPartial  one workgroup per CHUNK = 256 * ITEMS gradients: partials[G] = sum of their squares
//   normFinish   one workgroup: clip = [total, factor] from the G partials
//   clipScale    one invocation per parameter: grads *= factor (nothing written when factor is 1)
//
// Accuracy: squares are all >= 0, so the relative error of an f32 sum is at most (additions on the longest path) * 2^-24.
// Each invocation adds ITEMS squares in sequence, then a tree of log2(256) = 8 levels per stage, and the finish adds
// ceil(G / 256) partials per invocation: for P = 2^20, 16 + 8 + 1 + 8 = 33 levels, a bound of about 2e-6 (a plain loop
// over P would be P * 2^-24 = 6%). The bound and the measured error are in test/clip.test.ts.
//
// Non-finite gradients: a NaN anywhere makes total NaN, coef NaN and, since NaN >= 1 is false, factor NaN: every
// gradient becomes NaN, as in PyTorch with error_if_nonfinite=False (clamp(NaN, max=1) is NaN there too). An infinite
// gradient (or squares past f32's 3.4e38, i.e. |g| around 1.8e19) makes total +inf and factor 0: finite gradients
// become 0 and infinite ones NaN, as in PyTorch for float32 gradients.

const P: u32 = ${P}u;          // number of gradients
const ITEMS: u32 = ${ITEMS}u;  // gradients per invocation in normPartial
const G: u32 = ${G}u;          // workgroups of normPartial: ceil(P / (256 * ITEMS))

var<workgroup> sums: array<f32, 256>;

// Tree sum of sums[0..256) into sums[0]; every invocation of the workgroup calls it (uniform control flow).
fn workgroupSum(lid: u32, value: f32) -> f32 {
  sums[lid] = value;
  workgroupBarrier();
  for (var half = 128u; half > 0u; half >>= 1u) {
    if (lid < half) { sums[lid] += sums[lid + half]; }
    workgroupBarrier();
  }
  return sums[0];
}

#if ${PARTIAL}
@group(0) @binding(0) var<storage, read> grads: array<f32>;           // [P]
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;  // [G]

@compute @workgroup_size(256)
fn normPartial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
               @builtin(num_workgroups) groups: vec3<u32>) {
  let group = wid.x + wid.y * groups.x;  // folded into y past the per-dimension limit (grid1d)
  // Neighbouring invocations read neighbouring gradients.
  let first = group * 256u * ITEMS + lid;
  var sum = 0.0;
  for (var k = 0u; k < ITEMS; k++) {
    let i = first + k * 256u;
    if (i < P) {
      let g = grads[i];
      sum += g * g;
    }
  }
  let total = workgroupSum(lid, sum);
  if (lid == 0u && group < G) { partials[group] = total; }
}
#endif

#if ${FINISH}
struct Config { clipNorm: f32 }

@group(0) @binding(0) var<uniform> config: Config;
@group(0) @binding(1) var<storage, read> partials: array<f32>;  // [G]
@group(0) @binding(2) var<storage, read_write> clip: array<f32>; // [2]: total (the norm before clipping), factor

@compute @workgroup_size(256)
fn normFinish(@builtin(local_invocation_index) lid: u32) {
  var sum = 0.0;
  for (var i = lid; i < G; i += 256u) { sum += partials[i]; }
  let total = sqrt(workgroupSum(lid, sum));
  if (lid == 0u) {
    let coef = config.clipNorm / (total + 1e-6);
    clip[0] = total;
    clip[1] = select(coef, 1.0, coef >= 1.0);  // not min(): NaN must stay NaN (see the top)
  }
}
#endif

#if ${SCALE}
@group(0) @binding(0) var<storage, read> clip: array<f32>;          // [2]: total, factor
@group(0) @binding(1) var<storage, read_write> grads: array<f32>;  // [P]

@compute @workgroup_size(256)
fn clipScale(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * 256u;
  let factor = clip[1];
  if (i >= P || factor == 1.0) { return; }
  grads[i] *= factor;
}
#endif
