// Losses over rows with their gradients and statistics: one invocation per row, then one workgroup that sums the
// rows' statistics. A row is one sequence's output (losses on the last step: T = 1, ROWS = B) or one (step,
// sequence) pair of a time-major [T, B, N] tensor (losses at every step: row r = t * B + b).
//
//   xentForwardBackward: softmax cross-entropy, N = C classes, a class per row (labels [ROWS] i32):
//     loss[r]    = logsumexp(logits[r]) - logits[r, label[r]]
//     dlogits[r] = (softmax(logits[r]) - onehot(label[r])) * scale
//     correct[r] = 1 when no class scores strictly higher than the label (TensorFlow's in_top_k with k = 1, where
//                  ties count as a hit) and the label's logit is finite, else 0
//   mseForwardBackward: squared error, N = O outputs, float targets [ROWS, O]:
//     loss[r]    = sum_o (pred[r, o] - target[r, o])^2
//     dpred[r]   = 2 (pred[r] - target[r]) * scale
//
// scale is 1 / (the number of terms in the mean). Unmasked it is the constant SCALE (1/B for cross-entropy over B
// sequences, 1/(B*O) for the squared error). MASKED (losses at every step, lengths [B]): row (t, b) counts only when
// t < lengths[b]; the others get a gradient of exactly 0 and row stats 0, and neither their inputs nor their targets
// are read (padding may hold anything). Then scale = 1 / count, the number of valid rows times PER (1, or O for the
// squared error), which countValid computes from lengths on the GPU before the forward: nothing is read back inside
// a step.
//
// lossReduce adds [sum loss, sum correct (0 for the squared error), count] into stats, so that several batches can be
// accumulated on the GPU and read back once. Each entry point is compiled on its own (one flag set): their bindings
// differ.

const T: u32 = ${T}u;        // steps (1 for per-sequence losses)
const B: u32 = ${B}u;        // sequences
const N: u32 = ${N}u;        // values per row: classes C or outputs O
const ROWS: u32 = T * B;
const PER: u32 = ${PER}u;    // terms of the mean per valid row: 1 (cross-entropy) or O (squared error)
const SCALE: f32 = ${SCALE}; // 1 / count when not MASKED

// `n`, as a value the compiler cannot see through (ANCHOR is a buffer the entry point binds, and no bound buffer is
// empty), so that loops over constant counts stay loops: unrolled, they took LLVM on lavapipe 2 to 4 times as long
// to compile (as in matmul.wgsl's opaque()).
fn opaque(n: u32) -> u32 {
  return select(n, 0u, arrayLength(&${ANCHOR}) == 0u);
}

// Rows past 65535 workgroups continue along y (grid1d).
fn rowIndex(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return gid.x + gid.y * groups.x * 64u;
}

#if ${LOGITS}
@group(0) @binding(0) var<storage, read> logits: array<f32>;      // [ROWS, C]

fn rowMax(base: u32) -> f32 {
  var mx = logits[base];
  for (var c = 1u; c < opaque(N); c++) { mx = max(mx, logits[base + c]); }
  return mx;
}

fn rowSumExp(base: u32, mx: f32) -> f32 {
  var sum = 0.0;
  for (var c = 0u; c < opaque(N); c++) { sum += exp(logits[base + c] - mx); }
  return sum;
}
#endif

#if ${LOSS}
// Bound (logits | pred, labels | targets, dlogits | dpred, rowStats) and, MASKED, (lengths, count).
@group(0) @binding(2) var<storage, read_write> dinput: array<f32>;   // [ROWS, N]: dlogits or dpred
@group(0) @binding(3) var<storage, read_write> rowStats: array<f32>; // [ROWS, 2]: loss, correct

#if ${MASKED}
@group(0) @binding(4) var<storage, read> lengths: array<i32>;        // [B]
@group(0) @binding(5) var<storage, read> count: array<f32>;          // [1], from countValid

fn valid(r: u32) -> bool { return i32(r / B) < lengths[r % B]; }
fn gradScale() -> f32 { return 1.0 / count[0]; }
#else
fn valid(r: u32) -> bool { return true; }
fn gradScale() -> f32 { return SCALE; }
#endif

fn maskRow(r: u32) {
  for (var i = 0u; i < opaque(N); i++) { dinput[r * N + i] = 0.0; }
  rowStats[2u * r] = 0.0;
  rowStats[2u * r + 1u] = 0.0;
}
#endif

#if ${XENT}
@group(0) @binding(1) var<storage, read> labels: array<i32>;         // [ROWS], each in [0, C)

@compute @workgroup_size(64)
fn xentForwardBackward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let r = rowIndex(gid, groups);
  if (r >= ROWS) { return; }
  if (!valid(r)) { maskRow(r); return; }
  let base = r * N;
  let label = u32(labels[r]);
  let scale = gradScale();
  let mx = rowMax(base);
  let sum = rowSumExp(base, mx);
  let labelLogit = logits[base + label];
  var above = 0u;
  for (var c = 0u; c < opaque(N); c++) {
    let l = logits[base + c];
    let p = exp(l - mx) / sum;
    dinput[base + c] = (p - select(0.0, 1.0, c == label)) * scale;
    if (l > labelLogit) { above++; }
  }
  let finite = labelLogit == labelLogit && abs(labelLogit) <= 3.4e38;
  rowStats[2u * r] = mx + log(sum) - labelLogit;
  rowStats[2u * r + 1u] = select(0.0, 1.0, above == 0u && finite);
}
#endif

#if ${MSE}
@group(0) @binding(0) var<storage, read> pred: array<f32>;           // [ROWS, O]
@group(0) @binding(1) var<storage, read> targets: array<f32>;        // [ROWS, O]

@compute @workgroup_size(64)
fn mseForwardBackward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let r = rowIndex(gid, groups);
  if (r >= ROWS) { return; }
  if (!valid(r)) { maskRow(r); return; }
  let base = r * N;
  let scale = 2.0 * gradScale();
  var sse = 0.0;
  for (var o = 0u; o < opaque(N); o++) {
    let e = pred[base + o] - targets[base + o];
    dinput[base + o] = e * scale;
    sse += e * e;
  }
  rowStats[2u * r] = sse;
  rowStats[2u * r + 1u] = 0.0;
}
#endif

#if ${COUNT}
@group(0) @binding(0) var<storage, read> lengths: array<i32>;        // [B]
@group(0) @binding(1) var<storage, read_write> count: array<f32>;    // [1]: valid rows * PER

var<workgroup> counts: array<u32, 64>;

// Counts what valid() sees: min(lengths[b], T) valid steps for sequence b (none for a length <= 0). Exact in u32;
// the f32 is exact below 2^24 terms.
@compute @workgroup_size(64)
fn countValid(@builtin(local_invocation_id) lid: vec3<u32>) {
  var n = 0u;
  for (var b = lid.x; b < B; b += 64u) { n += u32(clamp(lengths[b], 0, i32(T))); }
  counts[lid.x] = n;
  workgroupBarrier();
  for (var width = opaque(32u); width > 0u; width /= 2u) {
    if (lid.x < width) { counts[lid.x] += counts[lid.x + width]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { count[0] = f32(counts[0] * PER); }
}
#endif

#if ${REDUCE}
// Bound (the forward's four buffers, stats) and, MASKED, (count): bindings 0 to 2 are not read.
@group(0) @binding(3) var<storage, read> rowStats: array<f32>;       // [ROWS, 2]
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;    // [3]: sum loss, sum correct, count
#if ${MASKED}
@group(0) @binding(5) var<storage, read> count: array<f32>;          // [1]
fn counted() -> f32 { return count[0]; }
#else
fn counted() -> f32 { return f32(ROWS * PER); }
#endif

var<workgroup> partial: array<vec2<f32>, 64>;

@compute @workgroup_size(64)
fn lossReduce(@builtin(local_invocation_id) lid: vec3<u32>) {
  var s = vec2<f32>(0.0);
  for (var r = lid.x; r < ROWS; r += 64u) { s += vec2<f32>(rowStats[2u * r], rowStats[2u * r + 1u]); }
  partial[lid.x] = s;
  workgroupBarrier();
  for (var width = opaque(32u); width > 0u; width /= 2u) {
    if (lid.x < width) { partial[lid.x] += partial[lid.x + width]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    stats[0] += partial[0].x;
    stats[1] += partial[0].y;
    stats[2] += counted();
  }
}
#endif

#if ${SOFTMAX}
// Class probabilities alone, for prediction: probs[r] = softmax(logits[r]). Bound (logits, any buffer (not read),
// probs).
@group(0) @binding(2) var<storage, read_write> probs: array<f32>;    // [ROWS, C]

@compute @workgroup_size(64)
fn softmaxRows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let r = rowIndex(gid, groups);
  if (r >= ROWS) { return; }
  let base = r * N;
  let mx = rowMax(base);
  let sum = rowSumExp(base, mx);
  for (var c = 0u; c < opaque(N); c++) { probs[base + c] = exp(logits[base + c] - mx) / sum; }
}
#endif
