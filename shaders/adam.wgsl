// Adam over one flat parameter buffer, as tf.train.AdamOptimizer (and Keras) computes it:
//   t += 1;  lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
//   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2;  p -= lr_t * m / (sqrt(v) + eps)
// The step count lives on the GPU (schedule), so a recorded training step can be replayed without the CPU:
// adamBegin (one invocation) advances it, adamUpdate (one invocation per parameter) applies it.
//
// 1 - beta^t is kept as its own running value, c_t = (1 - beta) + beta * c_{t-1}, with 1 - beta computed in float64
// on the host: pow(beta2, t) in f32 is close to 1 and 1 - pow(...) would lose half its digits.

struct Config { lr: f32, beta1: f32, beta2: f32, eps: f32, oneMinusBeta1: f32, oneMinusBeta2: f32 }

const P: u32 = ${P}u;  // number of parameters

@group(0) @binding(0) var<uniform> config: Config;
@group(0) @binding(1) var<storage, read_write> schedule: array<f32>;  // [4]: t, lr_t, 1 - beta1^t, 1 - beta2^t

#if ${UPDATE}
@group(0) @binding(2) var<storage, read> grads: array<f32>;        // [P]
@group(0) @binding(3) var<storage, read_write> params: array<f32>; // [P]
@group(0) @binding(4) var<storage, read_write> m: array<f32>;      // [P]
@group(0) @binding(5) var<storage, read_write> v: array<f32>;      // [P]

@compute @workgroup_size(256)
fn adamUpdate(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= P) { return; }
  let g = grads[i];
  let mi = config.beta1 * m[i] + config.oneMinusBeta1 * g;
  let vi = config.beta2 * v[i] + config.oneMinusBeta2 * g * g;
  m[i] = mi;
  v[i] = vi;
  params[i] -= schedule[1] * mi / (sqrt(vi) + config.eps);
}
#else
@compute @workgroup_size(1)
fn adamBegin() {
  let c1 = config.oneMinusBeta1 + config.beta1 * schedule[2];
  let c2 = config.oneMinusBeta2 + config.beta2 * schedule[3];
  schedule[0] += 1.0;
  schedule[1] = config.lr * sqrt(c2) / c1;
  schedule[2] = c1;
  schedule[3] = c2;
}
#endif
