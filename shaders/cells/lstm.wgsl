// The LSTM cell's step math for one unit (src/cells/lstm.ts; the float64 reference there is what this is checked
// against, test/cells.test.ts), spliced into the multi-gate recurrence kernels (shaders/recurrence_gates.wgsl, and
// recurrence_gates_fused.wgsl: all steps in one dispatch) at their CELL placeholder, which call cellStep /
// cellStepBackward at the end of this file. For one unit of one sequence, z holds its four pre-activations zx + zh,
// blocks i, f, g, o:
//   forward:   i = σ(z.x), f = σ(z.y), g = tanh(z.z), o = σ(z.w);  c' = f·c + i·g;  h' = o·tanh(c')   -> (h', c')
//   backward:  from c (before), c' (after), dh', dc' (from step t+1):  dc = dc' + dh'·o·(1 - tanh(c')^2)
//              dz = (dc·g·i(1 - i), dc·c·f(1 - f), dc·i(1 - g^2), dh'·tanh(c')·o(1 - o)),  dc_prev = dc·f
// cellSigmoid and cellTanh come from activations.wgsl, spliced before this file.

// (h', c') from the unit's pre-activations (i, f, g, o) and its cell state c.
fn cellForward(z: vec4<f32>, c: f32) -> vec2<f32> {
  let i = cellSigmoid(z.x);
  let f = cellSigmoid(z.y);
  let g = cellTanh(z.z);
  let o = cellSigmoid(z.w);
  let c1 = f * c + i * g;
  return vec2<f32>(o * cellTanh(c1), c1);
}

struct CellGrad {
  dz: vec4<f32>, // dL/d(i, f, g, o pre-activations): dzx = dzh = dz
  dc: f32,       // dL/dc before the step (h before reaches h' only through zh)
}

fn cellBackward(z: vec4<f32>, c: f32, c1: f32, dh1: f32, dc1: f32) -> CellGrad {
  let i = cellSigmoid(z.x);
  let f = cellSigmoid(z.y);
  let g = cellTanh(z.z);
  let o = cellSigmoid(z.w);
  let tc = cellTanh(c1);
  let dc = dc1 + dh1 * o * (1.0 - tc * tc);
  let dz = vec4<f32>(dc * g * i * (1.0 - i), dc * c * f * (1.0 - f), dc * i * (1.0 - g * g), dh1 * tc * o * (1.0 - o));
  return CellGrad(dz, dc * f);
}

// The multi-gate recurrence kernels' interface (shaders/recurrence_gates.wgsl): gate blocks i, f, g, o in the lanes of
// zx and zh, states (h, c) in the lanes of s. The LSTM adds the two parts: z = zx + zh, dzx = dzh = dz.
struct CellStepGrad {
  dzx: vec4<f32>,
  dzh: vec4<f32>,
  dBefore: vec2<f32>, // dL/d(h, c) before the step, directly: (0, dc·f)
}

fn cellStep(zx: vec4<f32>, zh: vec4<f32>, s: vec2<f32>) -> vec2<f32> {
  return cellForward(zx + zh, s.y);
}

// From the states before (s) and after (s1) the step and dL/d(h', c') (d1, dOut added to h').
fn cellStepBackward(zx: vec4<f32>, zh: vec4<f32>, s: vec2<f32>, s1: vec2<f32>, d1: vec2<f32>) -> CellStepGrad {
  let g = cellBackward(zx + zh, s.y, s1.y, d1.x, d1.y);
  return CellStepGrad(g.dz, g.dz, vec2<f32>(0.0, g.dc));
}
