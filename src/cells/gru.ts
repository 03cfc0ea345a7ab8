// The GRU cell (Cho et al. 2014), both forms in use: three gate blocks r, z, n side by side (width 3H), one state h,
// and PyTorch's and Keras's convention for the update: h_t = (1 - z)⊙n + z⊙h_{t-1} (z near 1 keeps the old state).
//
// `gru` (config: resetAfter true, the default; PyTorch nn.GRU, cuDNN, Keras reset_after=True): the reset gate applies
// after the recurrent product, so that product is one [H, 3H] matmul like every cell's, with its own bias bh [3H]:
//   zx = x_t·Wx + b   zh = h_{t-1}·Wh + bh                            [3H] each, blocks r, z, n
//   r = σ(zx_r + zh_r)   z = σ(zx_z + zh_z)   n = tanh(zx_n + r⊙zh_n)
// Backward from dh_t (a = zx_n + r⊙zh_n):
//   da = dh_t⊙(1 - z)⊙(1 - n^2)   dzx_n = da   dzh_n = da⊙r   (the one place dzx and dzh differ)
//   dz_r = da⊙zh_n⊙r(1 - r)   dz_z = dh_t⊙(h_{t-1} - n)⊙z(1 - z)   (dzx = dzh on r and z)   dBefore[0] = dh_t⊙z
//
// `gruResetBefore` (config: resetAfter false; the original GRU, TensorFlow 1's GRUCell, Keras reset_after=False,
// TF.js): the reset gate applies to h before its product with the n block Un = Wh[:, 2H:3H], one bias b:
//   r = σ(zx_r + zh_r)   z = σ(zx_z + zh_z)   with zh_r,z = h_{t-1}·Wh[:, 0:2H]
//   n = tanh(zx_n + (r⊙h_{t-1})·Un)
// (r⊙h)·Un is not part of h·Wh, so this cell is gated (cells/cell.ts): gatedFrom = 2 and u = gatedInput = r⊙h_{t-1};
// the recurrence computes zh_n = u·Un after the r block is known, and carries du = dzh_n·Un^T back here
// (gatedInputBackward): dz_r += du⊙h_{t-1}⊙r(1 - r), dh_{t-1} += du⊙r. A kernel does the same in two products per
// step: h·Wh[:, 0:2H] then u·Un (and backward, du = dzh_n·Un^T before the r, z blocks' dzh·Wh^T).
//
// shaders/cells/gru.wgsl and gru_reset_before.wgsl hold each form's step for one unit in float32 (test/cells.test.ts
// checks them against `reference`). The multi-gate recurrence kernels (shaders/recurrence_gates.wgsl) run `gru`
// through gru.wgsl's cellStep / cellStepBackward, and `gruResetBefore` through their gated kernels (two dispatches a
// step each way) and gru_reset_before.wgsl's (test/cells-gpu.test.ts).
import source from '../../shaders/cells/gru.wgsl?raw';
import resetBeforeSource from '../../shaders/cells/gru_reset_before.wgsl?raw';
import { cellSource, gateParams, sigmoid, type Cell } from './cell.js';

export const gru: Cell = {
  name: 'gru',
  gates: 3,
  states: 1,
  dzxApart: true, // dzx_n = da, dzh_n = da⊙r
  wgsl: cellSource(source),
  params: gateParams(3, true),
  initialiser: 'orthogonal', // Keras GRU: glorot_uniform kernel, orthogonal recurrent_kernel
  reference: {
    forward(zx, zh, before) {
      const h0 = before[0]!, H = h0.length, h = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        const r = sigmoid(zx[j]! + zh[j]!), z = sigmoid(zx[H + j]! + zh[H + j]!);
        const n = Math.tanh(zx[2 * H + j]! + r * zh[2 * H + j]!);
        h[j] = (1 - z) * n + z * h0[j]!;
      }
      return [h];
    },
    backward(zx, zh, before, _after, dAfter) {
      const h0 = before[0]!, dh = dAfter[0]!, H = h0.length;
      const dzx = new Float64Array(3 * H), dzh = new Float64Array(3 * H), dh0 = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        const r = sigmoid(zx[j]! + zh[j]!), z = sigmoid(zx[H + j]! + zh[H + j]!);
        const hn = zh[2 * H + j]!, n = Math.tanh(zx[2 * H + j]! + r * hn);
        const da = dh[j]! * (1 - z) * (1 - n * n);
        const dr = da * hn * r * (1 - r), dz = dh[j]! * (h0[j]! - n) * z * (1 - z);
        dzx[j] = dr; dzh[j] = dr;
        dzx[H + j] = dz; dzh[H + j] = dz;
        dzx[2 * H + j] = da; dzh[2 * H + j] = da * r;
        dh0[j] = dh[j]! * z;
      }
      return { dzx, dzh, dBefore: [dh0] };
    },
  },
};

export const gruResetBefore: Cell = {
  name: 'gru-reset-before',
  gates: 3,
  states: 1,
  gatedFrom: 2, // n's recurrent product multiplies u = r⊙h, not h
  wgsl: cellSource(resetBeforeSource),
  params: gateParams(3),
  initialiser: 'orthogonal',
  reference: {
    gatedInput(zx, zh, before) {
      const h0 = before[0]!, H = h0.length, u = new Float64Array(H);
      for (let j = 0; j < H; j++) u[j] = sigmoid(zx[j]! + zh[j]!) * h0[j]!;
      return u;
    },
    forward(zx, zh, before) {
      const h0 = before[0]!, H = h0.length, h = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        const z = sigmoid(zx[H + j]! + zh[H + j]!), n = Math.tanh(zx[2 * H + j]! + zh[2 * H + j]!); // zh_n = (r⊙h)·Un
        h[j] = (1 - z) * n + z * h0[j]!;
      }
      return [h];
    },
    backward(zx, zh, before, _after, dAfter) {
      const h0 = before[0]!, dh = dAfter[0]!, H = h0.length;
      const dzx = new Float64Array(3 * H), dzh = new Float64Array(3 * H), dh0 = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        const z = sigmoid(zx[H + j]! + zh[H + j]!), n = Math.tanh(zx[2 * H + j]! + zh[2 * H + j]!);
        const da = dh[j]! * (1 - z) * (1 - n * n), dz = dh[j]! * (h0[j]! - n) * z * (1 - z);
        dzx[H + j] = dz; dzh[H + j] = dz;
        dzx[2 * H + j] = da; dzh[2 * H + j] = da;
        dh0[j] = dh[j]! * z; // r's block: only through u, in gatedInputBackward
      }
      return { dzx, dzh, dBefore: [dh0] };
    },
    gatedInputBackward(zx, zh, before, du, g) {
      const h0 = before[0]!, H = h0.length, dh0 = g.dBefore[0]!;
      for (let j = 0; j < H; j++) {
        const r = sigmoid(zx[j]! + zh[j]!), dr = du[j]! * h0[j]! * r * (1 - r);
        g.dzx[j] += dr;
        g.dzh[j] += dr;
        dh0[j] += du[j]! * r;
      }
    },
  },
};
