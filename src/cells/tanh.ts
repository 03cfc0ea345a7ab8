// The tanh cell (TensorFlow's BasicRNNCell, PyTorch's nn.RNN with nonlinearity 'tanh'): one gate block, one state.
//   h_t = tanh(z),  z = x_t·Wx + b + h_{t-1}·Wh        dz = dh_t * (1 - h_t^2)
// Its WGSL epilogue is shaders/cells/tanh.wgsl; test/cells.test.ts checks it against `reference` below.
import source from '../../shaders/cells/tanh.wgsl?raw';
import { gateParams, type Cell } from './cell.js';

export const tanh: Cell = {
  name: 'tanh',
  gates: 1,
  states: 1,
  wgsl: source,
  params: gateParams(1),
  initialiser: 'glorot',
  reference: {
    forward(z) {
      const h = new Float64Array(z.length);
      for (let j = 0; j < z.length; j++) h[j] = Math.tanh(z[j]!);
      return [h];
    },
    backward(z, _before, after, dAfter) {
      const h = after[0]!, dh = dAfter[0]!, dz = new Float64Array(z.length);
      for (let j = 0; j < z.length; j++) dz[j] = dh[j]! * (1 - h[j]! * h[j]!);
      return { dz, dBefore: [new Float64Array(h.length)] }; // h_{t-1} reaches h_t only through z
    },
  },
};
