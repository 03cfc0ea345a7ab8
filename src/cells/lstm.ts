// The LSTM cell (with a forget gate: PyTorch's nn.LSTM, Keras LSTM, cuDNN's CUDNN_LSTM, TensorFlow's LSTMCell without
// peepholes or projection): four gate blocks i, f, g, o side by side in one product of width 4H, two states h and c.
//   z = zx + zh = (x_t·Wx + b) + h_{t-1}·Wh                          [4H], blocks i, f, g, o
//   i = σ(z_i)   f = σ(z_f)   g = tanh(z_g)   o = σ(z_o)
//   c_t = f⊙c_{t-1} + i⊙g          h_t = o⊙tanh(c_t)                 states [h, c]
// Backward from dh_t, dc_t (dc_t: from step t+1, through its f):
//   dc = dc_t + dh_t⊙o⊙(1 - tanh(c_t)^2)
//   dz_i = dc⊙g⊙i(1 - i)   dz_f = dc⊙c_{t-1}⊙f(1 - f)   dz_g = dc⊙i⊙(1 - g^2)   dz_o = dh_t⊙tanh(c_t)⊙o(1 - o)
//   dzx = dzh = dz;  dc_{t-1} = dc⊙f (dBefore[1]);  h_{t-1} reaches h_t only through zh (dBefore[0] = 0)
// Keras's unit_forget_bias (the layer option forgetBias, on by default) is an initialisation: 1 added to b's f block
// (model/init.ts), nothing here. shaders/cells/lstm.wgsl holds the same step for one unit in float32 (test/cells.test.ts
// checks it against `reference`), which the multi-gate recurrence kernels (shaders/recurrence_gates.wgsl) run through
// its cellStep / cellStepBackward (test/cells-gpu.test.ts).
import source from '../../shaders/cells/lstm.wgsl?raw';
import { cellSource, gateParams, sigmoid, type Cell } from './cell.js';

export const lstm: Cell = {
  name: 'lstm',
  gates: 4,
  states: 2,
  wgsl: cellSource(source),
  params: gateParams(4),
  initialiser: 'orthogonal', // Keras LSTM: glorot_uniform kernel, orthogonal recurrent_kernel
  reference: {
    forward(zx, zh, before) {
      const c0 = before[1]!, H = c0.length;
      const h = new Float64Array(H), c = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        const i = sigmoid(zx[j]! + zh[j]!), f = sigmoid(zx[H + j]! + zh[H + j]!);
        const g = Math.tanh(zx[2 * H + j]! + zh[2 * H + j]!), o = sigmoid(zx[3 * H + j]! + zh[3 * H + j]!);
        c[j] = f * c0[j]! + i * g;
        h[j] = o * Math.tanh(c[j]!);
      }
      return [h, c];
    },
    backward(zx, zh, before, after, dAfter) {
      const c0 = before[1]!, c1 = after[1]!, dh = dAfter[0]!, dc1 = dAfter[1]!, H = c0.length;
      const dz = new Float64Array(4 * H), dc0 = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        const i = sigmoid(zx[j]! + zh[j]!), f = sigmoid(zx[H + j]! + zh[H + j]!);
        const g = Math.tanh(zx[2 * H + j]! + zh[2 * H + j]!), o = sigmoid(zx[3 * H + j]! + zh[3 * H + j]!);
        const tc = Math.tanh(c1[j]!);
        const dc = dc1[j]! + dh[j]! * o * (1 - tc * tc);
        dz[j] = dc * g * i * (1 - i);
        dz[H + j] = dc * c0[j]! * f * (1 - f);
        dz[2 * H + j] = dc * i * (1 - g * g);
        dz[3 * H + j] = dh[j]! * tc * o * (1 - o);
        dc0[j] = dc * f;
      }
      return { dzx: dz, dzh: dz.slice(), dBefore: [new Float64Array(H), dc0] };
    },
  },
};
