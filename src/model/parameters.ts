// The classifier's parameters: one table carves the flat buffers (params, grads, Adam's m and v) into named tensors,
// and the host keeps a copy of the whole state (what save() writes and parameter() reads).

export interface ClassifierConfig {
  steps: number;   // T: rows of an image
  inputs: number;  // I: pixels per row
  units: number;   // H: RNN units
  classes: number; // C
  seed?: number;   // initialisation and shuffling: any safe integer, distinct seeds give distinct streams
}

/** Parameter table: name, shape. Offsets are aligned to 64 floats (256 bytes) so each slice binds on its own. */
export function parameterTable(c: ClassifierConfig) {
  const { inputs: I, units: H, classes: C } = c;
  const shapes: Array<[ParamName, number[]]> = [['rnn.wx', [I, H]], ['rnn.wh', [H, H]], ['rnn.b', [H]], ['dense.w', [H, C]], ['dense.b', [C]]];
  let offset = 0;
  const table = {} as Record<ParamName, { shape: number[]; offset: number; size: number }>;
  for (const [name, shape] of shapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    table[name] = { shape, offset, size };
    offset += Math.ceil(size / 64) * 64;
  }
  return { table, total: offset };
}
export type ParamName = 'rnn.wx' | 'rnn.wh' | 'rnn.b' | 'dense.w' | 'dense.b';

/** The state the host keeps: replaced only as a whole, by a read-back of the GPU state (or a load). */
export interface HostState {
  params: Float32Array;   // [P] flat, as on the GPU
  m: Float32Array;
  v: Float32Array;
  schedule: Float32Array; // [4] Adam: t, lr_t, 1 - beta1^t, 1 - beta2^t
}
