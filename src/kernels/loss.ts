// Softmax cross-entropy, its gradient and top-1 accuracy: shaders/loss.wgsl.
import source from '../../shaders/loss.wgsl?raw';
import { program, type Program } from '../gpu/shader.js';

function f32Literal(x: number): string {
  const s = String(Math.fround(x));
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/**
 * forwardBackward: bind (logits [B,C], labels [B] i32, dlogits [B,C], rowStats [B,2]); dlogits are scaled by `scale`.
 * reduce: bind (logits, labels, dlogits, rowStats, stats [3]); adds [sum loss, sum correct, B] into stats.
 */
/** probs = softmax(logits) per row. Bind (logits [B,C], any read-only buffer (unused), probs [B,C]). */
export function softmaxRows(device: GPUDevice, B: number, C: number): Promise<Program> {
  return program(device, 'softmaxRows', source, { B, C, SCALE: '1.0' }, 'softmaxRows', ['read', 'read', 'storage'], [Math.ceil(B / 64), 1, 1]);
}

export async function softmaxCrossEntropy(device: GPUDevice, B: number, C: number, scale = 1 / B): Promise<{ forwardBackward: Program; reduce: Program }> {
  const defines = { B, C, SCALE: f32Literal(scale) };
  const [forwardBackward, reduce] = await Promise.all([
    program(device, 'xent.forwardBackward', source, defines, 'xentForwardBackward', ['read', 'read', 'storage', 'storage'], [Math.ceil(B / 64), 1, 1]),
    program(device, 'xent.reduce', source, defines, 'xentReduce', ['read', 'read', 'storage', 'storage', 'storage'], [1, 1, 1]),
  ]);
  return { forwardBackward, reduce };
}
