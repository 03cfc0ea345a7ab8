// Batch gather from the GPU-resident data set. Images stay as bytes (60000 x 784 floats would pass WebGPU's 128 MiB
// binding limit; bytes take a quarter) packed four to a u32, little-endian; they are scaled to [0, 1] here.
//
//   x[t, b, i] = pixels[order[start + b], t, i] / 255     (time-major, as the recurrence reads it)
//   y[b]       = labels[order[start + b]]

const T: u32 = ${T}u;      // rows of an image = time steps
const B: u32 = ${B}u;      // batch
const I: u32 = ${I}u;      // pixels in a row = inputs per step

struct Batch { start: u32 }

@group(0) @binding(0) var<uniform> batch: Batch;               // dynamic offset: one slot per batch
@group(0) @binding(1) var<storage, read> order: array<u32>;     // sample indices, e.g. a shuffled epoch
@group(0) @binding(2) var<storage, read> pixels: array<u32>;    // [count, T, I] bytes, packed
@group(0) @binding(3) var<storage, read> labels: array<i32>;    // [count]
@group(0) @binding(4) var<storage, read_write> x: array<f32>;   // [T, B, I]
@group(0) @binding(5) var<storage, read_write> y: array<i32>;   // [B]

@compute @workgroup_size(256)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let e = gid.x + gid.y * groups.x * 256u;
  if (e >= T * B * I) { return; }
  let i = e % I;
  let b = (e / I) % B;
  let t = e / (B * I);
  let sample = order[batch.start + b];
  let byte = sample * (T * I) + t * I + i;
  let word = pixels[byte / 4u];
  x[e] = f32((word >> (8u * (byte % 4u))) & 255u) / 255.0;
  if (e < B) {
    y[e] = labels[order[batch.start + e]];
  }
}
