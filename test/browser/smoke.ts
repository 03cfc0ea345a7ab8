// Runs in headless Chromium: the runtime's browser entry gets a device from navigator.gpu and runs the lecture's
// two-step RNN forward and backward. The result goes to window.smokeResult for the test to read.
import { adapterName, getDevice, rnnBackward, rnnForward } from '../../src/index.js';

declare global {
  interface Window { smokeResult?: unknown }
}

async function main() {
  const device = await getDevice({ log: () => {} });
  const X0 = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 0, 1]];
  const X1 = [[9, 8, 7], [0, 0, 0], [6, 5, 4], [3, 2, 1]];
  const wx = Float32Array.from({ length: 15 }, (_, i) => Math.sin(i) * 0.5);
  const wh = Float32Array.from({ length: 25 }, (_, i) => Math.cos(i) * 0.5);
  const p = { x: Float32Array.from(X0.flatMap((row, i) => [...row, ...X1[i]!])), wx, wh, b: new Float32Array(5), batch: 4, steps: 2, inputs: 3, units: 5 };
  const { outputs, state } = await rnnForward(device, p);
  const { dwx } = await rnnBackward(device, p, { dState: new Float32Array(20).fill(1) });
  window.smokeResult = { adapter: adapterName(device), outputs: Array.from(outputs), state: Array.from(state), dwx: Array.from(dwx), wx: Array.from(wx), wh: Array.from(wh), x: Array.from(p.x) };
  device.destroy();
}

main().catch((error: Error) => {
  window.smokeResult = { error: error.message };
});
