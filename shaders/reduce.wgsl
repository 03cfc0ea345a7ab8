// Column sum over rows: out[N] = sum_r in[r, N] (+ out when ACCUMULATE). The bias gradients: db = sum over all
// T*B rows of dZ, dbd = sum over the batch of dlogits; and the second half of a split-K product (summing its
// partial products). One invocation per column, rows summed in order, so the result is deterministic.
//
// With SLICES > 1 the rows are cut into SLICES equal slices, one per workgroup row (y), each summed into its own
// row of the output [SLICES, N]; a second colsum over those SLICES rows finishes the job. Long columns then become
// many short ones: workgroups for a GPU to run side by side, rows that stay in cache on a CPU.
//
// Columns past 65535 workgroups (4,194,240 columns: the sum of a 2048 x 2048 weight gradient's slices) continue
// along z, so that x stays within every device's maxComputeWorkgroupsPerDimension.

const ROWS: u32 = ${ROWS}u;    // rows per slice
const N: u32 = ${N}u;

@group(0) @binding(0) var<storage, read> input: array<f32>;       // [SLICES * ROWS, N]
@group(0) @binding(1) var<storage, read_write> output: array<f32>; // [SLICES, N]

@compute @workgroup_size(64)
fn colsum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let col = gid.x + gid.z * groups.x * 64u;
  if (col >= N) { return; }
  let first = gid.y * ROWS * N;
  var sum = 0.0;
  for (var r = 0u; r < ROWS; r++) { sum += input[first + r * N + col]; }
  let at = gid.y * N + col;
#if ${ACCUMULATE}
  sum += output[at];
#endif
  output[at] = sum;
}
