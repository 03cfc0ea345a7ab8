// A stateful recurrent layer (Keras's `stateful`): before each forward pass, every state's initial value takes the
// final value of the last pass, hs[s][0] = hs[s][T] for each of the S states (h, then LSTM's c), so that row b of a
// batch goes on from where row b of the batch before it ended. Inside the compute pass, no round trip through the CPU;
// the backward pass treats h0 as a constant (truncated BPTT: no gradient crosses the window boundary).
//
//   hs [S, T+1, B, H] (scheduler.ts's layout)

const S: u32 = ${S}u;
const T: u32 = ${T}u;
const B: u32 = ${B}u;
const H: u32 = ${H}u;

@group(0) @binding(0) var<storage, read_write> hs: array<f32>;

@compute @workgroup_size(256)
fn carryState(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let e = gid.x + gid.y * groups.x * 256u;
  if (e >= S * B * H) { return; }
  let base = (e / (B * H)) * (T + 1u) * B * H;
  let i = e % (B * H);
  hs[base + i] = hs[base + T * B * H + i];
}
