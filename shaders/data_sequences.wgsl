// Batch gather from a GPU-resident SequenceDataset (src/data/sequences.ts): one launch copies one batch's inputs,
// targets and lengths from the sample-major data set into the time-major layout the layers read.
//
//   x[t, b, i]     = xs[order[start + b], t, i]       t < XT   (XT = 1: one vector per sequence)
//                  = (ids[order[start + b], t] == i)   with ONE_HOT: the data set holds token ids [count, XT]
//   y[t, b, o]     = ys[order[start + b], t, o]       t < YT   (YT = 1: one target per sequence), o < O (O = 1: a class)
//   lengths[b]     = lens[order[start + b]]
//
// Targets are moved as 32-bit words, not read as numbers: the same pipeline copies i32 classes and f32 values, and
// the kernels that read `y` bind it as the type they need. One invocation per element and no loop, so there is
// nothing for the compiler to unroll (see opaque() in matmul.wgsl for what that costs on lavapipe).

const XT: u32 = ${XT}u;   // input steps: the data set's steps, or 1 for vectors
const YT: u32 = ${YT}u;   // target steps: the data set's steps, or 1 for one target per sequence
const B: u32 = ${B}u;     // batch
const I: u32 = ${I}u;     // inputs per step
const O: u32 = ${O}u;     // target values per step: outputs, or 1 for a class
const NX: u32 = XT * B * I;
const NY: u32 = YT * B * O;

struct Batch { start: u32 }

@group(0) @binding(0) var<uniform> batch: Batch;                      // dynamic offset: one slot per batch
@group(0) @binding(1) var<storage, read> order: array<u32>;            // [count] sample indices, e.g. a shuffled epoch
#if ${ONE_HOT}
@group(0) @binding(2) var<storage, read> ids: array<i32>;              // [count, XT] token ids in [0, I)
#else
@group(0) @binding(2) var<storage, read> xs: array<f32>;               // [count, XT, I]
#endif
@group(0) @binding(3) var<storage, read> ys: array<u32>;               // [count, YT, O] i32 or f32, as words
@group(0) @binding(4) var<storage, read> lens: array<i32>;             // [count]
@group(0) @binding(5) var<storage, read_write> x: array<f32>;          // [XT, B, I]
@group(0) @binding(6) var<storage, read_write> y: array<u32>;          // [YT, B, O]
@group(0) @binding(7) var<storage, read_write> lengths: array<i32>;    // [B]

@compute @workgroup_size(256)
fn gatherSequences(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let e = gid.x + gid.y * groups.x * 256u;
  if (e < NX) {
    let i = e % I;
    let b = (e / I) % B;
    let t = e / (B * I);
#if ${ONE_HOT}
    x[e] = select(0.0, 1.0, ids[order[batch.start + b] * XT + t] == i32(i));
#else
    x[e] = xs[(order[batch.start + b] * XT + t) * I + i];
#endif
  } else if (e < NX + NY) {
    let k = e - NX;
    let o = k % O;
    let b = (k / O) % B;
    let t = k / (B * O);
    y[k] = ys[(order[batch.start + b] * YT + t) * O + o];
  } else if (e < NX + NY + B) {
    let b = e - NX - NY;
    lengths[b] = lens[order[batch.start + b]];
  }
}
