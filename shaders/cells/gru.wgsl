// The GRU cell's step math for one unit, reset-after form (src/cells/gru.ts `gru`; checked against its float64
// reference in test/cells.test.ts), spliced into the multi-gate recurrence kernels (shaders/recurrence_gates.wgsl, and
// recurrence_gates_fused.wgsl: all steps in one dispatch) at their CELL placeholder, which call cellStep /
// cellStepBackward at the end of this file. For one unit of one sequence, blocks r, z, n in .x, .y, .z:
//   zx = x·Wx + b, zh = h·Wh + bh (3 values each);  r = σ(zx.x + zh.x), z = σ(zx.y + zh.y), n = tanh(zx.z + r·zh.z)
//   h' = (1 - z)·n + z·h
//   backward from dh':  da = dh'·(1 - z)·(1 - n^2);  dzx = (dr, dz, da), dzh = (dr, dz, da·r)  with
//   dr = da·zh.z·r(1 - r), dz = dh'·(h - n)·z(1 - z);  dh (directly, not through Wh) = dh'·z
// cellSigmoid and cellTanh come from activations.wgsl, spliced before this file.

fn cellForward(zx: vec3<f32>, zh: vec3<f32>, h: f32) -> f32 {
  let r = cellSigmoid(zx.x + zh.x);
  let z = cellSigmoid(zx.y + zh.y);
  let n = cellTanh(zx.z + r * zh.z);
  return (1.0 - z) * n + z * h;
}

struct CellGrad {
  dzx: vec3<f32>, // dL/dzx (r, z, n)
  dzh: vec3<f32>, // dL/dzh: as dzx but n's, times r
  dh: f32,        // dL/dh before the step, directly (not through Wh)
}

fn cellBackward(zx: vec3<f32>, zh: vec3<f32>, h: f32, dh1: f32) -> CellGrad {
  let r = cellSigmoid(zx.x + zh.x);
  let z = cellSigmoid(zx.y + zh.y);
  let n = cellTanh(zx.z + r * zh.z);
  let da = dh1 * (1.0 - z) * (1.0 - n * n);
  let dr = da * zh.z * r * (1.0 - r);
  let dz = dh1 * (h - n) * z * (1.0 - z);
  return CellGrad(vec3<f32>(dr, dz, da), vec3<f32>(dr, dz, da * r), dh1 * z);
}

// The multi-gate recurrence kernels' interface (shaders/recurrence_gates.wgsl): gate blocks r, z, n in the lanes .xyz
// of zx and zh (.w unused), the state h in s.x (s.y unused).
struct CellStepGrad {
  dzx: vec4<f32>,
  dzh: vec4<f32>,
  dBefore: vec2<f32>, // dL/dh before the step, directly: (dh'·z, 0)
}

fn cellStep(zx: vec4<f32>, zh: vec4<f32>, s: vec2<f32>) -> vec2<f32> {
  return vec2<f32>(cellForward(zx.xyz, zh.xyz, s.x), 0.0);
}

fn cellStepBackward(zx: vec4<f32>, zh: vec4<f32>, s: vec2<f32>, s1: vec2<f32>, d1: vec2<f32>) -> CellStepGrad {
  let g = cellBackward(zx.xyz, zh.xyz, s.x, d1.x);
  return CellStepGrad(vec4<f32>(g.dzx, 0.0), vec4<f32>(g.dzh, 0.0), vec2<f32>(g.dh, 0.0));
}
