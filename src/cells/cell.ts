// A recurrent cell as data, cuDNN's way (a mode fixes the gate matrices; one descriptor drives every kernel): the
// scheduler (scheduler.ts), the recurrence kernels (kernels/recurrence.ts) and the float64 reference
// (reference/index.ts) take a Cell and know no cell by name. Adding one is a TS file here (cells/<name>.ts: its
// numbers, its reference step, its WGSL), its WGSL file (shaders/cells/<name>.wgsl) and its tests.
//
// One step for batch row b, with G gate blocks of H columns and S state vectors of H. The pre-activation comes in two
// parts, kept apart because GRU's reset-after n gate multiplies only the recurrent one by r:
//   zx [G·H] = x_t·Wx + b                     (the input part: for all steps at once, before the loop)
//   zh [G·H] = h_{t-1}·Wh (+ bh)              (the recurrent part: one product for all gates, every step)
//   states_t [S][H] = cell.forward(zx, zh, states_{t-1})     states[0] is h, the step's output and what Wh multiplies
// (a one-gate cell, or LSTM, just adds them: z = zx + zh). Backward, from dL/d(states_t) (dOut already added to dh):
//   dzx, dzh [G·H], dStates_{t-1} [S][H] = cell.backward(...)   (dzx = dzh except where a cell uses them apart)
//   dWx += x_t^T·dzx, db += dzx, dWh += h_{t-1}^T·dzh, dbh += dzh, dh_{t-1} = dzh·Wh^T + dStates_{t-1}[0]
//
// A gated cell (`gatedFrom`, GRU with resetAfter false) multiplies another vector than h_{t-1} by the columns of Wh
// from block `gatedFrom` on: u [H] = reference.gatedInput(zx, zh, states_{t-1}) from the blocks before (GRU: r⊙h),
// then zh[late] = u·Wh[:, late]. Its step is two products: h·Wh[:, early], then u·Wh[:, late]; backward,
// dWh[:, late] += u^T·dzh[late], du = dzh[late]·Wh[:, late]^T, and reference.gatedInputBackward takes du on to dzx,
// dzh (early blocks) and dStates_{t-1}. The reference recurrence does exactly that; a kernel does the same in two
// passes per step.

/** A cell's float64 step for one batch row, in plain loops: what its WGSL epilogue is checked against. */
import activations from '../../shaders/cells/activations.wgsl?raw';

export interface CellReference {
  /**
   * The states after the step, S vectors of [H], from zx [G·H] (x_t·Wx + b), zh [G·H] (h_{t-1}·Wh + bh, or u·Wh for
   * gated blocks) and the S states before it (`before[s]` [H]).
   */
  forward(zx: Float64Array, zh: Float64Array, before: readonly Float64Array[]): Float64Array[];
  /**
   * From dAfter (dL/d(states after), S vectors of [H]): dzx and dzh (dL/dzx, dL/dzh, [G·H] each, two arrays: equal
   * except where the cell uses zx and zh apart, GRU's n block) and dBefore (S vectors of [H]), the gradient that reaches
   * the states before the step directly, not through Wh (all zero for tanh; LSTM's c and GRU's h have one). For a
   * gated cell, without the path through u (gatedInputBackward adds it).
   */
  backward(zx: Float64Array, zh: Float64Array, before: readonly Float64Array[], after: readonly Float64Array[],
    dAfter: readonly Float64Array[]): { dzx: Float64Array; dzh: Float64Array; dBefore: Float64Array[] };
  /** Gated cells only: u [H] from zx, the blocks of zh before gatedFrom (the rest are not computed yet) and the states before. */
  gatedInput?(zx: Float64Array, zh: Float64Array, before: readonly Float64Array[]): Float64Array;
  /**
   * Gated cells only: adds the gradient through u into g (backward's result), in place, from du [H] =
   * dzh[late]·Wh[:, late]^T: into dzx and dzh of the blocks before gatedFrom, and into dBefore.
   */
  gatedInputBackward?(zx: Float64Array, zh: Float64Array, before: readonly Float64Array[], du: Float64Array,
    g: { dzx: Float64Array; dzh: Float64Array; dBefore: Float64Array[] }): void;
}

/** A parameter's suffix within its layer (`layers.0.wx`), as the model names them. */
export type CellParam = 'wx' | 'wh' | 'b' | 'bh';

/** Parameter shapes by suffix: wx [I, G·H], wh [H, G·H], b [G·H], and bh [G·H] for a cell with a recurrent bias. */
export type CellParams = Record<'wx' | 'wh' | 'b', number[]> & { bh?: number[] };

export interface Cell {
  /** What labels and tuning keys say; what a config names it by (`cell: 'tanh'`), with its options (gru's resetAfter). */
  readonly name: string;
  /** G: blocks of H columns in the recurrent product (tanh 1, GRU 3, LSTM 4). */
  readonly gates: number;
  /** S: state vectors of H carried from step to step (tanh and GRU 1: h; LSTM 2: h and c). */
  readonly states: number;
  /**
   * The first gate block whose recurrent product multiplies the gated input u (reference.gatedInput) instead of
   * h_{t-1}; absent when every block multiplies h_{t-1}. GRU with resetAfter false: 2 (n), u = r⊙h_{t-1}.
   */
  readonly gatedFrom?: number;
  /**
   * Whether dzx and dzh differ (the cell uses zx and zh apart: GRU's n block). The kernels then keep both, dzx for Wx
   * and b, dzh for Wh and bh; otherwise one dz serves all four.
   */
  readonly dzxApart?: boolean;
  /**
   * The step epilogue in WGSL (shaders/cells/<name>.wgsl), spliced into the recurrence kernels at `${CELL}`. For a
   * one-gate, one-state cell: `cellForward(z: f32) -> f32` (h from z), `cellForward4` on a vec4, and
   * `cellBackward(h: f32, dh: f32) -> f32` (dz from the output h and dL/dh), `cellBackward4` on vec4s (the kernels of
   * shaders/recurrence.wgsl and recurrence_fused.wgsl). A multi-gate cell (up to 4 gate blocks, 2 states: LSTM, GRU)
   * for shaders/recurrence_gates.wgsl and recurrence_gates_fused.wgsl:
   * `cellStep(zx, zh: vec4<f32>, s: vec2<f32>) -> vec2<f32>` (the states after the step from the gate blocks in the
   * lanes, unused lanes 0, and the states (h, c) before it) and
   * `cellStepBackward(zx, zh, s, s1: vec2<f32>, d1: vec2<f32>) -> CellStepGrad` (dzx, dzh: vec4, dBefore: vec2; d1 is
   * dL/d(states after), dOut included), with `struct CellStepGrad` defined by the cell. The LSTM and GRU files build
   * these on their one-unit step math (cellForward / cellBackward, and the gated cell's cellGatedInput /
   * cellGatedInputBackward), which test/cells.test.ts checks against the reference. A gated cell shaped as GRU
   * with resetAfter false (3 blocks, gatedFrom 2) also gives `cellStepGatedInput(zx, zh, s) -> f32` (u) and
   * `cellStepGatedInputBackward(zx, zh, s, du) -> vec2<f32>` (the r block's dz, the addition to dL/dh).
   */
  readonly wgsl: string;
  /** Parameter shapes by suffix, in the order of the flat parameter buffer: wx [I, G·H], wh [H, G·H], b [G·H] (, bh [G·H]). */
  params(inputs: number, units: number): CellParams;
  /** The initialiser a layer of this cell gets when its config names none (model/config.ts's RnnInitialiser). */
  readonly initialiser: 'glorot' | 'orthogonal' | 'pytorch';
  readonly reference: CellReference;
}

/** The parameter shapes of a cell with `gates` blocks: wx [I, G·H], wh [H, G·H], b [G·H] (and bh [G·H] with `recurrentBias`). */
export function gateParams(gates: number, recurrentBias = false): Cell['params'] {
  return (inputs, units) => ({
    wx: [inputs, gates * units], wh: [units, gates * units], b: [gates * units], ...(recurrentBias ? { bh: [gates * units] } : {}),
  });
}

/** The logistic sigmoid for every z: exp only of -|z|, so no intermediate overflows (exp(-z) is Infinity below z = -709). */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** A cell's WGSL as the kernels splice it: the shared activations (shaders/cells/activations.wgsl), then its own. */
export function cellSource(own: string): string {
  return `${activations}\n${own}`;
}
