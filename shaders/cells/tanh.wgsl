// The tanh cell's step epilogue (src/cells/tanh.ts), spliced into recurrence.wgsl and recurrence_fused.wgsl at
// the CELL placeholder: one gate block, one state vector.
//   forward:   h = tanh(z)
//   backward:  dz = dh * (1 - h^2)   (in terms of the output: the kernels keep h, not z)
// Scalar for the per-step kernels, vec4 (four sequences in the lanes) for the fused ones.

// h from z: the overflow-safe tanh of activations.wgsl, spliced before this file.
fn cellForward(z: f32) -> f32 {
  return cellTanh(z);
}

// cellForward on four values at once (both branches evaluated, then selected).
fn cellForward4(z: vec4<f32>) -> vec4<f32> {
  let az = abs(z);
  let z2 = z * z;
  let series = z * (1.0 + z2 * (-1.0 / 3.0 + z2 * (2.0 / 15.0 + z2 * (-17.0 / 315.0))));
  let e = exp(-2.0 * az);
  return select(sign(z) * (1.0 - e) / (1.0 + e), series, az < vec4<f32>(0.125));
}

fn cellBackward(h: f32, dh: f32) -> f32 {
  return dh * (1.0 - h * h);
}

fn cellBackward4(h: vec4<f32>, dh: vec4<f32>) -> vec4<f32> {
  return dh * (1.0 - h * h);
}
