// A recurrent cell as data, cuDNN's way (a mode fixes the gate matrices; one descriptor drives every kernel): the
// scheduler (scheduler.ts), the recurrence kernels (kernels/recurrence.ts) and the float64 reference
// (reference/index.ts) take a Cell and know no cell by name. Adding one is a TS file here (cells/<name>.ts: its
// numbers, its reference step, its WGSL), its WGSL file (shaders/cells/<name>.wgsl) and its tests.
//
// One step for batch row b, with G gate blocks of H columns and S state vectors of H:
//   z [G·H] = x_t·Wx + b + h_{t-1}·Wh     (one product for all gates: the kernels compute it for every cell)
//   states_t [S][H] = cell.forward(z, states_{t-1})     states[0] is h, the step's output and what Wh multiplies
// and backward, from dL/d(states_t) (dOut already added to dh):
//   dz [G·H], dStates_{t-1} [S][H] = cell.backward(...);   dh_{t-1} = dz·Wh^T + dStates_{t-1}[0]

/** A cell's float64 step for one batch row, in plain loops: what its WGSL epilogue is checked against. */
export interface CellReference {
  /** The states after the step, S vectors of [H], from z [G·H] and the S states before it (`before[s]` [H]). */
  forward(z: Float64Array, before: readonly Float64Array[]): Float64Array[];
  /**
   * From dAfter (dL/d(states after), S vectors of [H]): dz [G·H] and dBefore (S vectors of [H]), the gradient that
   * reaches the states before the step directly, not through Wh (all zero for tanh; LSTM's c and GRU's h have one).
   */
  backward(z: Float64Array, before: readonly Float64Array[], after: readonly Float64Array[], dAfter: readonly Float64Array[]):
    { dz: Float64Array; dBefore: Float64Array[] };
}

/** A parameter's suffix within its layer (`layers.0.wx`), as the model names them. */
export type CellParam = 'wx' | 'wh' | 'b';

export interface Cell {
  /** What a config names it by (`cell: 'tanh'`) and what labels and tuning keys say. */
  readonly name: string;
  /** G: blocks of H columns in the recurrent product z (tanh 1, GRU 3, LSTM 4). */
  readonly gates: number;
  /** S: state vectors of H carried from step to step (tanh and GRU 1: h; LSTM 2: h and c). */
  readonly states: number;
  /**
   * The step epilogue in WGSL (shaders/cells/<name>.wgsl), spliced into the recurrence kernels at `${CELL}`. For a
   * one-gate, one-state cell: `cellForward(z: f32) -> f32` (h from z), `cellForward4` on a vec4, and
   * `cellBackward(h: f32, dh: f32) -> f32` (dz from the output h and dL/dh), `cellBackward4` on vec4s.
   */
  readonly wgsl: string;
  /** Parameter shapes by suffix: wx [I, G·H], wh [H, G·H], b [G·H]. */
  params(inputs: number, units: number): Record<CellParam, number[]>;
  /** The initialiser a layer of this cell gets when its config names none (model/config.ts's RnnInitialiser). */
  readonly initialiser: 'glorot' | 'orthogonal' | 'pytorch';
  readonly reference: CellReference;
}

/** The parameter shapes of a cell with `gates` blocks: wx [I, G·H], wh [H, G·H], b [G·H]. */
export function gateParams(gates: number): Cell['params'] {
  return (inputs, units) => ({ wx: [inputs, gates * units], wh: [units, gates * units], b: [gates * units] });
}
