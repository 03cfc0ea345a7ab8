// Swap the two outer axes: output[j, i, :] = input[i, j, :], input [A, B, C] -> output [B, A, C].
// Converts between the API's batch-major [batch, steps, features] and the time-major [steps, batch, features]
// that the kernels use, so that all steps' rows are contiguous for the big matmuls.

const A: u32 = ${A}u;
const B: u32 = ${B}u;
const C: u32 = ${C}u;

@group(0) @binding(0) var<storage, read> input: array<f32>;        // [A, B, C]
@group(0) @binding(1) var<storage, read_write> output: array<f32>; // [B, A, C]

@compute @workgroup_size(256)
fn swap01(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let e = gid.x + gid.y * groups.x * 256u;
  if (e >= A * B * C) { return; }
  let c = e % C;
  let j = (e / C) % B;
  let i = e / (B * C);
  output[(j * A + i) * C + c] = input[e];
}
