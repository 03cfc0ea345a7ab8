// The activations every cell's step uses, spliced before the cell's own WGSL (src/cells/cell.ts `cellSource`).
// Finite for every z (exp only of -|z|): σ is exactly 1 from z = 17 and σ(-z) as precise as WGSL's exp (3 + 2|z| ulp)
// while float32 is normal; tanh is exactly ±1 from |z| = 9. WGSL's built-in tanh may return NaN for large |z|.

// σ(z) from exp(-|z|) only: 1 / (1 + e) for z >= 0, e / (1 + e) below.
fn cellSigmoid(z: f32) -> f32 {
  let e = exp(-abs(z));
  let s = 1.0 / (1.0 + e);
  return select(e * s, s, z >= 0.0);
}

// tanh with a short Taylor series near 0, which avoids the cancellation in 1 - exp(-2|z|).
fn cellTanh(z: f32) -> f32 {
  let az = abs(z);
  if (az < 0.125) {
    let z2 = z * z;
    return z * (1.0 + z2 * (-1.0 / 3.0 + z2 * (2.0 / 15.0 + z2 * (-17.0 / 315.0))));
  }
  let e = exp(-2.0 * az);
  return sign(z) * (1.0 - e) / (1.0 + e);
}
