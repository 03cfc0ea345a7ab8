// Adam over one flat parameter buffer: shaders/adam.wgsl.
import source from '../../shaders/adam.wgsl?raw';
import { grid1d, program, type Program } from '../gpu/shader.js';

export interface AdamConfig {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** TensorFlow 1's tf.train.AdamOptimizer defaults, as in the reference recipe. */
export const ADAM_DEFAULTS: AdamConfig = { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/** The uniform block of shaders/adam.wgsl (Config): 1 - beta in float64 before rounding, see the shader. */
export function adamConfigBytes(c: AdamConfig): Float32Array {
  return new Float32Array([c.learningRate, c.beta1, c.beta2, c.epsilon, 1 - c.beta1, 1 - c.beta2, 0, 0]);
}

/** Bytes of the uniform buffer (Config) and of the schedule buffer (t, lr_t, 1 - beta1^t, 1 - beta2^t). */
export const ADAM_CONFIG_BYTES = 32;
export const ADAM_SCHEDULE_BYTES = 16;

/**
 * begin: bind (config uniform, schedule); advances t and computes lr_t.
 * update: bind (config, schedule, grads [P], params [P], m [P], v [P]).
 */
export async function adam(device: GPUDevice, P: number): Promise<{ begin: Program; update: Program }> {
  const [begin, update] = await Promise.all([
    program(device, 'adam.begin', source, { P, UPDATE: false }, 'adamBegin', ['uniform', 'storage'], [1, 1, 1]),
    program(device, 'adam.update', source, { P, UPDATE: true }, 'adamUpdate',
      ['uniform', 'storage', 'read', 'storage', 'storage', 'storage'], grid1d(P, 256, device.limits.maxComputeWorkgroupsPerDimension)),
  ]);
  return { begin, update };
}
