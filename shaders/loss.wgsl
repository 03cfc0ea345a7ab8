// Sparse softmax cross-entropy with its gradient and top-1 accuracy, fused: one invocation per row.
//
//   loss[b]    = logsumexp(logits[b]) - logits[b, label[b]]
//   dlogits[b] = (softmax(logits[b]) - onehot(label[b])) * SCALE     (SCALE = 1/B for the batch mean)
//   correct[b] = 1 when no class scores strictly higher than the label (TensorFlow's in_top_k with k = 1, where
//                ties count as a hit) and the label's logit is finite, else 0
// Then xentReduce adds the batch's sums into stats = [sum loss, sum correct, rows], so that several batches can
// be accumulated on the GPU and read back once.

const B: u32 = ${B}u;
const C: u32 = ${C}u;
const SCALE: f32 = ${SCALE};

@group(0) @binding(0) var<storage, read> logits: array<f32>;        // [B, C]
@group(0) @binding(1) var<storage, read> labels: array<i32>;        // [B], each in [0, C)
@group(0) @binding(2) var<storage, read_write> dlogits: array<f32>; // [B, C]
@group(0) @binding(3) var<storage, read_write> rowStats: array<f32>; // [B, 2]: loss, correct

@compute @workgroup_size(64)
fn xentForwardBackward(@builtin(global_invocation_id) gid: vec3<u32>) {
  let b = gid.x;
  if (b >= B) { return; }
  let base = b * C;
  let label = u32(labels[b]);
  var mx = logits[base];
  for (var c = 1u; c < C; c++) { mx = max(mx, logits[base + c]); }
  var sum = 0.0;
  for (var c = 0u; c < C; c++) { sum += exp(logits[base + c] - mx); }
  let labelLogit = logits[base + label];
  var above = 0u;
  for (var c = 0u; c < C; c++) {
    let l = logits[base + c];
    let p = exp(l - mx) / sum;
    dlogits[base + c] = (p - select(0.0, 1.0, c == label)) * SCALE;
    if (l > labelLogit) { above++; }
  }
  let finite = labelLogit == labelLogit && abs(labelLogit) <= 3.4e38;
  rowStats[2u * b] = mx + log(sum) - labelLogit;
  rowStats[2u * b + 1u] = select(0.0, 1.0, above == 0u && finite);
}

@group(0) @binding(4) var<storage, read_write> stats: array<f32>;  // [3]: sum loss, sum correct, rows

var<workgroup> partial: array<vec2<f32>, 64>;

@compute @workgroup_size(64)
fn xentReduce(@builtin(local_invocation_id) lid: vec3<u32>) {
  var s = vec2<f32>(0.0);
  for (var b = lid.x; b < B; b += 64u) { s += vec2<f32>(rowStats[2u * b], rowStats[2u * b + 1u]); }
  partial[lid.x] = s;
  workgroupBarrier();
  for (var width = 32u; width > 0u; width /= 2u) {
    if (lid.x < width) { partial[lid.x] += partial[lid.x + width]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    stats[0] += partial[0].x;
    stats[1] += partial[0].y;
    stats[2] += f32(B);
  }
}

// Class probabilities alone, for prediction: probs[b] = softmax(logits[b]), written where dlogits go.
// Bind (logits, labels (unused), probs).
@compute @workgroup_size(64)
fn softmaxRows(@builtin(global_invocation_id) gid: vec3<u32>) {
  let b = gid.x;
  if (b >= B) { return; }
  let base = b * C;
  var mx = logits[base];
  for (var c = 1u; c < C; c++) { mx = max(mx, logits[base + c]); }
  var sum = 0.0;
  for (var c = 0u; c < C; c++) { sum += exp(logits[base + c] - mx); }
  for (var c = 0u; c < C; c++) { dlogits[base + c] = exp(logits[base + c] - mx) / sum; }
}
