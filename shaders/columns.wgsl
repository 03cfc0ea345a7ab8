// output[r, c] = input[r, c] for the columns c in [C0, N) of two [R, N] matrices: a gated cell's weight gradient
// dWh takes its late blocks' columns from a second product (u^T·dz instead of h^T·dz, scheduler.ts).

const R: u32 = ${R}u;
const N: u32 = ${N}u;
const C0: u32 = ${C0}u;

@group(0) @binding(0) var<storage, read> input: array<f32>;        // [R, N]
@group(0) @binding(1) var<storage, read_write> output: array<f32>; // [R, N]

@compute @workgroup_size(256)
fn copyColumns(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let e = gid.x + gid.y * groups.x * 256u;
  if (e >= R * (N - C0)) { return; }
  let at = (e / (N - C0)) * N + C0 + e % (N - C0);
  output[at] = input[at];
}
