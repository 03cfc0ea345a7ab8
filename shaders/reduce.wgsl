// Column sum over rows: out[N] = sum_r in[r, N] (+ out when ACCUMULATE). The bias gradients: db = sum over all
// T*B rows of dZ, dbd = sum over the batch of dlogits. One invocation per column, rows summed in order, so the
// result is deterministic.

const ROWS: u32 = ${ROWS}u;
const N: u32 = ${N}u;

@group(0) @binding(0) var<storage, read> input: array<f32>;       // [ROWS, N]
@group(0) @binding(1) var<storage, read_write> output: array<f32>; // [N]

@compute @workgroup_size(64)
fn colsum(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col = gid.x;
  if (col >= N) { return; }
  var sum = 0.0;
  for (var r = 0u; r < ROWS; r++) { sum += input[r * N + col]; }
#if ${ACCUMULATE}
  sum += output[col];
#endif
  output[col] = sum;
}
