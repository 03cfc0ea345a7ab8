// Batched, register-blocked matmul and the column sum (bias gradient) that goes with it.
//
//   C[batch][M,N] = op(A)[M,K] · op(B)[K,N]  (+ bias[N])  (+ C when ACCUMULATE)
//   op(A) = A[M,K], or A^T with A stored [K,M] when TRANS_A; op(B) = B[K,N], or B^T with B stored [N,K] when TRANS_B.
//
// Each invocation owns TM x 4 elements of C (TM = 4 or 8 rows, 4 columns held in one vec4 accumulator per row) and
// reads A and B straight from global memory: no workgroup memory and no barriers, which the software adapters
// (lavapipe, SwiftShader) run several times faster than shared-memory tiling. The rows are unrolled by hand, not
// kept in arrays: SwiftShader does not promote small private arrays to registers, and ran the array version 10x
// slower. Rows and columns past the edge are clamped on load (always in bounds, computed and then dropped), so the
// inner loop has no branches; only the store is guarded.
//
// Specialised by the preprocessor: M, N, K, TM (4 or 8), TRANS_A, TRANS_B, BIAS, ACCUMULATE, offsets and batch (z)
// strides, the workgroup shape.

const M: u32 = ${M}u;
const N: u32 = ${N}u;
const K: u32 = ${K}u;
const TM: u32 = ${TM}u;  // rows of C per invocation: 4 or 8
const TN: u32 = 4u;      // columns of C per invocation: one vec4
const WG_X: u32 = ${WG_X}u;
const WG_Y: u32 = ${WG_Y}u;
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

// `n`, as a value the compiler cannot see through (no bound buffer is empty): a loop over a constant count is
// unrolled, and the unrolled per-row epilogue (masks, tanh, bounds checks for every row and unit) took LLVM on
// lavapipe 3 to 8 times as long to compile as the rest of the kernel (about 0.5 s a kernel instead of 2 to 6 s).
fn opaque(n: u32) -> u32 {
  return select(n, 0u, arrayLength(&c) == 0u);
}

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

// Writes one row's four columns (those inside C), adding the bias and, when accumulating, what C held.
fn store(baseC: u32, row: u32, col0: u32, v: vec4<f32>) {
  if (row >= M) { return; }
  for (var j = 0u; j < TN; j++) {
    let col = col0 + j * WG_X;
    if (col >= N) { return; }
    var value = v[j];
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

// A workgroup computes a (TM*WG_Y) x (4*WG_X) tile of C. Invocation (lx, ly) owns rows tile + ly + i*WG_Y and
// columns tile + lx + j*WG_X: neighbouring invocations touch neighbouring columns, so loads of B and stores of C are
// contiguous across lanes (coalesced on GPUs, vector loads on the SIMD lanes of software adapters), and loads of A
// are the same across a row of lanes.
@compute @workgroup_size(${WG_X}, ${WG_Y})
fn matmul(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = wid.y * TM * WG_Y + lid.y;
  let col0 = wid.x * TN * WG_X + lid.x;
  let baseA = OFFSET_A + wid.z * STRIDE_A;
  let baseB = OFFSET_B + wid.z * STRIDE_B;
  let baseC = OFFSET_C + wid.z * STRIDE_C;
  let c0 = min(col0, N - 1u);
  let c1 = min(col0 + WG_X, N - 1u);
  let c2 = min(col0 + 2u * WG_X, N - 1u);
  let c3 = min(col0 + 3u * WG_X, N - 1u);
  let r0 = min(row0, M - 1u);
  let r1 = min(row0 + WG_Y, M - 1u);
  let r2 = min(row0 + 2u * WG_Y, M - 1u);
  let r3 = min(row0 + 3u * WG_Y, M - 1u);
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
#if ${TM8}
  let r4 = min(row0 + 4u * WG_Y, M - 1u);
  let r5 = min(row0 + 5u * WG_Y, M - 1u);
  let r6 = min(row0 + 6u * WG_Y, M - 1u);
  let r7 = min(row0 + 7u * WG_Y, M - 1u);
  var acc4 = vec4<f32>(0.0);
  var acc5 = vec4<f32>(0.0);
  var acc6 = vec4<f32>(0.0);
  var acc7 = vec4<f32>(0.0);
#endif
  for (var k = 0u; k < K; k++) {
    let bv = vec4<f32>(loadB(baseB, k, c0), loadB(baseB, k, c1), loadB(baseB, k, c2), loadB(baseB, k, c3));
    acc0 = fma(vec4<f32>(loadA(baseA, r0, k)), bv, acc0);
    acc1 = fma(vec4<f32>(loadA(baseA, r1, k)), bv, acc1);
    acc2 = fma(vec4<f32>(loadA(baseA, r2, k)), bv, acc2);
    acc3 = fma(vec4<f32>(loadA(baseA, r3, k)), bv, acc3);
#if ${TM8}
    acc4 = fma(vec4<f32>(loadA(baseA, r4, k)), bv, acc4);
    acc5 = fma(vec4<f32>(loadA(baseA, r5, k)), bv, acc5);
    acc6 = fma(vec4<f32>(loadA(baseA, r6, k)), bv, acc6);
    acc7 = fma(vec4<f32>(loadA(baseA, r7, k)), bv, acc7);
#endif
  }
  // The rows are written in a loop the compiler cannot unroll (see opaque()).
  var accs = array<vec4<f32>, 8>(acc0, acc1, acc2, acc3, vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
#if ${TM8}
  accs[4] = acc4;
  accs[5] = acc5;
  accs[6] = acc6;
  accs[7] = acc7;
#endif
  for (var i = 0u; i < opaque(TM); i++) {
    store(baseC, row0 + i * WG_Y, col0, accs[i]);
  }
}
