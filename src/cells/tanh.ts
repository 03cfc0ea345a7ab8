// The tanh cell (TensorFlow's BasicRNNCell, PyTorch's nn.RNN with nonlinearity 'tanh'): one gate block, one state.
//   h_t = tanh(z),  z = zx + zh = (x_t·Wx + b) + h_{t-1}·Wh        dzx = dzh = dh_t * (1 - h_t^2)
// Its WGSL epilogue is shaders/cells/tanh.wgsl; test/cells.test.ts checks it against `reference` below.
import source from '../../shaders/cells/tanh.wgsl?raw';
import { cellSource, gateParams, type Cell } from './cell.js';

export const tanh: Cell = {
  name: 'tanh',
  gates: 1,
  states: 1,
  wgsl: cellSource(source),
  params: gateParams(1),
  initialiser: 'glorot',
  reference: {
    forward(zx, zh) {
      const h = new Float64Array(zx.length);
      for (let j = 0; j < zx.length; j++) h[j] = Math.tanh(zx[j]! + zh[j]!);
      return [h];
    },
    backward(zx, _zh, _before, after, dAfter) {
      const h = after[0]!, dh = dAfter[0]!, dz = new Float64Array(zx.length);
      for (let j = 0; j < zx.length; j++) dz[j] = dh[j]! * (1 - h[j]! * h[j]!);
      return { dzx: dz, dzh: dz.slice(), dBefore: [new Float64Array(h.length)] }; // h_{t-1} reaches h_t only through zh
    },
  },
};
