// The masked tanh recurrence, one dispatch per time step: shaders/recurrence.wgsl.
import source from '../../shaders/recurrence.wgsl?raw';
import { program, type Program } from '../gpu/shader.js';

export interface RecurrenceShape {
  steps: number;
  batch: number;
  units: number;
}

const TB = 4, TU = 4, WG_X = 8, WG_Y = 8;

function defines(s: RecurrenceShape, forward: boolean, dOut = false) {
  return { T: s.steps, B: s.batch, H: s.units, TB, TU, WG_X, WG_Y, FORWARD: forward, BACKWARD: !forward, D_OUT: dOut };
}

function workgroups(s: RecurrenceShape): [number, number, number] {
  return [Math.ceil(s.units / (TU * WG_X)), Math.ceil(s.batch / (TB * WG_Y)), 1];
}

/** Bind (step uniform, wh, lengths, xw, hs, outputs); encode with the dynamic offset of step t. */
export function forwardStep(device: GPUDevice, s: RecurrenceShape): Promise<Program> {
  return program(device, 'rnn.forwardStep', source, defines(s, true), 'forwardStep',
    ['uniform-dynamic', 'read', 'read', 'read', 'storage', 'storage'], workgroups(s));
}

/**
 * Bind (step uniform, Wh transposed, lengths, hs, dOut, dh, dz); encode with the dynamic offset of step t. Without `dOut`
 * (only the final state has a gradient) the shader does not read binding 4: bind any read-only buffer there.
 */
export function backwardStep(device: GPUDevice, s: RecurrenceShape, dOut: boolean): Promise<Program> {
  return program(device, 'rnn.backwardStep', source, defines(s, false, dOut), 'backwardStep',
    ['uniform-dynamic', 'read', 'read', 'read', 'read', 'storage', 'storage'], workgroups(s));
}
