// output[OFFSET + e] = 0 for e < N: zeroes a region inside a compute pass (clearBuffer is a command encoder's, not a
// pass's, and its offset must be a multiple of 4 bytes of a whole buffer binding). A recurrent layer whose outputs
// at every step go on has no gradient on its final state: its dState region is zeroed this way each training step.

const N: u32 = ${N}u;
const OFFSET: u32 = ${OFFSET}u;

@group(0) @binding(0) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(256)
fn fillZero(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let e = gid.x + gid.y * groups.x * 256u;
  if (e >= N) { return; }
  output[OFFSET + e] = 0.0;
}
