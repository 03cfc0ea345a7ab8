// Gradient clipping by global norm over one flat gradient buffer: shaders/clip.wgsl.
import source from '../../shaders/clip.wgsl?raw';
import { grid1d, program, type Program } from '../gpu/shader.js';

/** Gradients each invocation of normPartial squares and adds, before the workgroup's tree: see the shader's accuracy note. */
export const CLIP_ITEMS = 16;

/** Bytes of the uniform buffer (Config: clipNorm, padded to 16) and of the clip state (total, factor). */
export const CLIP_CONFIG_BYTES = 16;
export const CLIP_STATE_BYTES = 8;

/** The uniform block of shaders/clip.wgsl (Config). */
export function clipConfigBytes(clipNorm: number): Float32Array {
  return new Float32Array([clipNorm, 0, 0, 0]);
}

/** Workgroups of normPartial for P gradients: the length of the partials buffer. */
export function clipPartials(P: number): number {
  return Math.ceil(P / (256 * CLIP_ITEMS));
}

export interface ClipPrograms {
  /** bind (grads [P] read, partials [G]) */
  partial: Program;
  /** bind (config uniform, partials [G] read, clip [2]: total before clipping, factor) */
  finish: Program;
  /** bind (clip [2] read, grads [P]) */
  scale: Program;
  /** G: floats in the partials buffer. */
  partials: number;
}

/** The three dispatches of clipping P gradients by their global norm, encoded in this order before Adam. */
export async function clipByGlobalNorm(device: GPUDevice, P: number): Promise<ClipPrograms> {
  const G = clipPartials(P);
  const max = device.limits.maxComputeWorkgroupsPerDimension;
  const defines = { P, G, ITEMS: CLIP_ITEMS, PARTIAL: false, FINISH: false, SCALE: false };
  const [partial, finish, scale] = await Promise.all([
    program(device, 'clip.normPartial', source, { ...defines, PARTIAL: true }, 'normPartial', ['read', 'storage'], grid1d(G, 1, max)),
    program(device, 'clip.normFinish', source, { ...defines, FINISH: true }, 'normFinish', ['uniform', 'read', 'storage'], [1, 1, 1]),
    program(device, 'clip.scale', source, { ...defines, SCALE: true }, 'clipScale', ['read', 'storage'], grid1d(P, 256, max)),
  ]);
  return { partial, finish, scale, partials: G };
}
