// Batched, register-blocked matmul and the column sum (bias gradient) that goes with it.
//
//   C[batch][M,N] = op(A)[M,K] · op(B)[K,N]  (+ bias[N])  (+ C when ACCUMULATE)
//   op(A) = A[M,K], or A^T with A stored [K,M] when TRANS_A; op(B) = B[K,N], or B^T with B stored [N,K] when TRANS_B.
//
// Each invocation owns TM x TN elements of C and reads A and B straight from global memory: no workgroup memory and
// no barriers, which the software adapters (lavapipe, SwiftShader) run several times faster than shared-memory
// tiling. Rows and columns past the edge are clamped on load (always in bounds, computed and then dropped), so the
// inner loop has no branches; only the store is guarded.
//
// Specialised by the preprocessor: M, N, K, TRANS_A, TRANS_B, BIAS, ACCUMULATE, offsets and batch (z) strides.

const M: u32 = ${M}u;
const N: u32 = ${N}u;
const K: u32 = ${K}u;
const TM: u32 = ${TM}u;  // rows of C per invocation
const TN: u32 = ${TN}u;  // columns of C per invocation
const STRIDE_A: u32 = ${STRIDE_A}u;  // elements between batches
const STRIDE_B: u32 = ${STRIDE_B}u;
const STRIDE_C: u32 = ${STRIDE_C}u;
const OFFSET_A: u32 = ${OFFSET_A}u;  // elements before the first batch: lets one product read a slice of a
const OFFSET_B: u32 = ${OFFSET_B}u;  // larger buffer (the final state inside all hidden states) without an
const OFFSET_C: u32 = ${OFFSET_C}u;  // aligned binding offset

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
#if ${BIAS}
@group(0) @binding(3) var<storage, read> bias: array<f32>;  // [N]
#endif

fn loadA(base: u32, row: u32, k: u32) -> f32 {
#if ${TRANS_A}
  return a[base + k * M + row];
#else
  return a[base + row * K + k];
#endif
}

fn loadB(base: u32, k: u32, col: u32) -> f32 {
#if ${TRANS_B}
  return b[base + col * K + k];
#else
  return b[base + k * N + col];
#endif
}

// A workgroup computes a (TM*WG_Y) x (TN*WG_X) tile of C. Invocation (lx, ly) owns rows tile + ly + i*WG_Y and
// columns tile + lx + j*WG_X: neighbouring invocations touch neighbouring columns, so loads of B and stores of C are
// contiguous across lanes (coalesced on GPUs, vector loads on the SIMD lanes of software adapters), and loads of A
// are the same across a row of lanes.
@compute @workgroup_size(${WG_X}, ${WG_Y})
fn matmul(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = wid.y * TM * ${WG_Y}u + lid.y;
  let col0 = wid.x * TN * ${WG_X}u + lid.x;
  let baseA = OFFSET_A + wid.z * STRIDE_A;
  let baseB = OFFSET_B + wid.z * STRIDE_B;
  let baseC = OFFSET_C + wid.z * STRIDE_C;

  var rows: array<u32, TM>;
  var cols: array<u32, TN>;
  for (var i = 0u; i < TM; i++) { rows[i] = min(row0 + i * ${WG_Y}u, M - 1u); }
  for (var j = 0u; j < TN; j++) { cols[j] = min(col0 + j * ${WG_X}u, N - 1u); }

  var acc: array<array<f32, TN>, TM>;
  for (var k = 0u; k < K; k++) {
    var av: array<f32, TM>;
    var bv: array<f32, TN>;
    for (var i = 0u; i < TM; i++) { av[i] = loadA(baseA, rows[i], k); }
    for (var j = 0u; j < TN; j++) { bv[j] = loadB(baseB, k, cols[j]); }
    for (var i = 0u; i < TM; i++) {
      for (var j = 0u; j < TN; j++) { acc[i][j] = fma(av[i], bv[j], acc[i][j]); }
    }
  }

  for (var i = 0u; i < TM; i++) {
    let row = row0 + i * ${WG_Y}u;
    if (row >= M) { break; }
    for (var j = 0u; j < TN; j++) {
      let col = col0 + j * ${WG_X}u;
      if (col >= N) { continue; }
      var value = acc[i][j];
#if ${BIAS}
      value += bias[col];
#endif
      let at = baseC + row * N + col;
#if ${ACCUMULATE}
      value += c[at];
#endif
      c[at] = value;
    }
  }
}
