// The GRU cell's step math for one unit, reset-before form (src/cells/gru.ts `gruResetBefore`, resetAfter: false;
// checked against its float64 reference in test/cells.test.ts), spliced into the gated kernels of
// shaders/recurrence_gates.wgsl, which call the cellStep* functions at the end of this file. The n block's recurrent
// product takes u = r·h, not h: the kernels compute zh.x, zh.y = h·Wh[:, r, z] first, then u (cellGatedInput), then
// zh.z = u·Un in a second dispatch; backward, du = dzh.z·Un^T comes back through cellGatedInputBackward.
//   r = σ(zx.x + zh.x), z = σ(zx.y + zh.y), n = tanh(zx.z + zh.z);  h' = (1 - z)·n + z·h
//   backward from dh':  da = dh'·(1 - z)·(1 - n^2), dz = dh'·(h - n)·z(1 - z):  dzx = dzh = (0, dz, da), dh = dh'·z;
//   then from du:  dzx.x = dzh.x = du·h·r(1 - r), dh += du·r
// cellSigmoid and cellTanh come from activations.wgsl, spliced before this file.

// u = r·h, from the r block's pre-activations.
fn cellGatedInput(zx: vec3<f32>, zh: vec3<f32>, h: f32) -> f32 {
  return cellSigmoid(zx.x + zh.x) * h;
}

// h' from zx, zh (zh.z = u·Un) and h.
fn cellForward(zx: vec3<f32>, zh: vec3<f32>, h: f32) -> f32 {
  let z = cellSigmoid(zx.y + zh.y);
  let n = cellTanh(zx.z + zh.z);
  return (1.0 - z) * n + z * h;
}

struct CellGrad {
  dzx: vec3<f32>, // dL/dzx (r, z, n); r's is 0 here: it comes from du
  dzh: vec3<f32>, // the same (zx and zh are only added in this form)
  dh: f32,        // dL/dh before the step, directly (not through Wh or u)
}

fn cellBackward(zx: vec3<f32>, zh: vec3<f32>, h: f32, dh1: f32) -> CellGrad {
  let z = cellSigmoid(zx.y + zh.y);
  let n = cellTanh(zx.z + zh.z);
  let da = dh1 * (1.0 - z) * (1.0 - n * n);
  let dz = dh1 * (h - n) * z * (1.0 - z);
  let d = vec3<f32>(0.0, dz, da);
  return CellGrad(d, d, dh1 * z);
}

// From du = dL/du: (dz_r, the addition to dzx.x and dzh.x; dh, the addition to dL/dh).
fn cellGatedInputBackward(zx: vec3<f32>, zh: vec3<f32>, h: f32, du: f32) -> vec2<f32> {
  let r = cellSigmoid(zx.x + zh.x);
  return vec2<f32>(du * h * r * (1.0 - r), du * r);
}

// The multi-gate recurrence kernels' interface (shaders/recurrence_gates.wgsl, its gated kernels): blocks r, z, n in
// the lanes .xyz of zx and zh (zh.z = u·Un), the state h in s.x.
struct CellStepGrad {
  dzx: vec4<f32>,
  dzh: vec4<f32>,
  dBefore: vec2<f32>, // dL/dh before the step, directly, without the path through u: (dh'·z, 0)
}

fn cellStepGatedInput(zx: vec4<f32>, zh: vec4<f32>, s: vec2<f32>) -> f32 {
  return cellGatedInput(zx.xyz, zh.xyz, s.x);
}

fn cellStep(zx: vec4<f32>, zh: vec4<f32>, s: vec2<f32>) -> vec2<f32> {
  return vec2<f32>(cellForward(zx.xyz, zh.xyz, s.x), 0.0);
}

fn cellStepBackward(zx: vec4<f32>, zh: vec4<f32>, s: vec2<f32>, s1: vec2<f32>, d1: vec2<f32>) -> CellStepGrad {
  let g = cellBackward(zx.xyz, zh.xyz, s.x, d1.x);
  return CellStepGrad(vec4<f32>(g.dzx, 0.0), vec4<f32>(g.dzh, 0.0), vec2<f32>(g.dh, 0.0));
}

// From du: (the r block's dz, the addition to dL/dh before the step).
fn cellStepGatedInputBackward(zx: vec4<f32>, zh: vec4<f32>, s: vec2<f32>, du: f32) -> vec2<f32> {
  return cellGatedInputBackward(zx.xyz, zh.xyz, s.x, du);
}
