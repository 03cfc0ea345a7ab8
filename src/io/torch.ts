// PyTorch interoperability: a Sequential's weights as the state_dict of one documented PyTorch module, and back.
//
// The module (README, "Moving to PyTorch and back"), for k rnn layers of one cell and an optional dense layer:
//   class Model(nn.Module):
//       rnn = nn.RNN(I, H, num_layers=k, batch_first=True)    (nonlinearity 'tanh'; or nn.LSTM / nn.GRU)
//       fc  = nn.Linear(H, O)                                  (on the last layer's final h, or at every step)
// Its state_dict, row-major, float32 going out (F32 or F64 coming in):
//   rnn.weight_ih_l{k} [G·H, I_k] = layers.k.wx [I_k, G·H] transposed       (I_0 = I, I_k = H above)
//   rnn.weight_hh_l{k} [G·H, H]   = layers.k.wh [H, G·H] transposed
//   rnn.bias_ih_l{k}   [G·H]      = layers.k.b
//   rnn.bias_hh_l{k}   [G·H]      = layers.k.bh (GRU); zeros for tanh and LSTM, which keep one bias
//   fc.weight          [O, H]     = layers.K.w [H, O] transposed
//   fc.bias            [O]        = layers.K.b
// Gate blocks are in PyTorch's order already (LSTM i, f, g, o; GRU r, z, n), so no columns move. Coming in, a cell
// with one bias takes bias_ih + bias_hh (summed in float64). PyTorch's GRU is our reset-after GRU; resetAfter: false
// has no PyTorch module and is refused, as are repeat layers, mixed cells or widths, and a dense layer not last.
import { InputError } from '../errors.js';
import type { Weights } from '../model/batch.js';
import { planSequential, type ResolvedRnnLayer, type SequentialConfig, type SequentialPlan } from '../model/config.js';
import { decodeSafetensors, encodeSafetensors, type Tensor } from './safetensors.js';

/** The PyTorch module a config maps to. */
export interface TorchModule {
  cell: 'tanh' | 'lstm' | 'gru';
  module: 'nn.RNN' | 'nn.LSTM' | 'nn.GRU';
  inputs: number;       // I, input_size
  units: number;        // H, hidden_size
  numLayers: number;    // num_layers: the rnn layers
  outputs?: number;     // fc's out_features; absent without a dense layer
  perStep: boolean;     // fc at every step of the last layer's outputs (returnSequences), else on its final h
}

const MODULES = { tanh: 'nn.RNN', lstm: 'nn.LSTM', gru: 'nn.GRU' } as const;
const SHAPE = 'rnn layers of one cell and one width, then at most one dense layer (PyTorch: nn.RNN / nn.LSTM / nn.GRU as rnn, nn.Linear as fc)';

/** The module a config maps to; an InputError naming the layer field for a config PyTorch's modules cannot hold. */
export function torchModule(config: SequentialConfig | SequentialPlan): TorchModule {
  const plan = 'params' in config ? config : planSequential(config);
  const rnns = plan.layers.filter((p) => p.layer.type === 'rnn');
  plan.layers.forEach((p, k) => {
    const l = p.layer;
    if (l.type === 'repeat') throw new InputError(`layers.${k}`, `${SHAPE}: nn.RNN has no repeat (feed the vector at every step yourself)`, 'a repeat layer');
    if (l.type === 'dense' && k !== plan.layers.length - 1) throw new InputError(`layers.${k}`, `${SHAPE}: a dense layer only last`, `a dense layer followed by layers.${k + 1} (${plan.layers[k + 1]!.layer.type})`);
  });
  if (rnns.length === 0) throw new InputError('layers', `${SHAPE}: at least one rnn layer`, 'no rnn layer');
  const first = rnns[0]!.layer as ResolvedRnnLayer;
  for (const p of rnns) {
    const l = p.layer as ResolvedRnnLayer, f = `layers.${p.index}`;
    if (l.cell !== first.cell) throw new InputError(`${f}.cell`, `'${first.cell}' as layers.0 (one ${MODULES[first.cell as 'tanh']} holds every rnn layer)`, `'${l.cell}'`);
    if (l.units !== first.units) throw new InputError(`${f}.units`, `${first.units} as layers.0 (one hidden_size for every layer of the PyTorch module)`, String(l.units));
    if (l.resetAfter === false) {
      throw new InputError(`${f}.resetAfter`, "true: PyTorch's nn.GRU is the reset-after form; resetAfter: false (TensorFlow 1's and TF.js's GRU) has no PyTorch equivalent", 'false');
    }
  }
  const cell = first.cell as TorchModule['cell'];
  const last = plan.layers.at(-1)!;
  const lastRnn = rnns.at(-1)!.layer as ResolvedRnnLayer;
  return {
    cell, module: MODULES[cell], inputs: plan.inputs, units: first.units, numLayers: rnns.length,
    ...(last.layer.type === 'dense' ? { outputs: last.layer.units } : {}), perStep: lastRnn.returnSequences,
  };
}

/** Every tensor of the module's state_dict in PyTorch's order, with its shape and where it comes from in ours. */
export function torchTensorShapes(m: TorchModule): { name: string; shape: number[]; ours: string; transpose: boolean; bias?: 'ih' | 'hh' }[] {
  const G = { tanh: 1, lstm: 4, gru: 3 }[m.cell], N = G * m.units, out: ReturnType<typeof torchTensorShapes> = [];
  for (let k = 0; k < m.numLayers; k++) {
    out.push({ name: `rnn.weight_ih_l${k}`, shape: [N, k === 0 ? m.inputs : m.units], ours: `layers.${k}.wx`, transpose: true });
    out.push({ name: `rnn.weight_hh_l${k}`, shape: [N, m.units], ours: `layers.${k}.wh`, transpose: true });
    out.push({ name: `rnn.bias_ih_l${k}`, shape: [N], ours: `layers.${k}.b`, transpose: false, bias: 'ih' });
    out.push({ name: `rnn.bias_hh_l${k}`, shape: [N], ours: m.cell === 'gru' ? `layers.${k}.bh` : `layers.${k}.b`, transpose: false, bias: 'hh' });
  }
  if (m.outputs !== undefined) {
    out.push({ name: 'fc.weight', shape: [m.outputs, m.units], ours: `layers.${m.numLayers}.w`, transpose: true });
    out.push({ name: 'fc.bias', shape: [m.outputs], ours: `layers.${m.numLayers}.b`, transpose: false });
  }
  return out;
}

/** [R, C] row-major -> [C, R], in the array type given. */
function transpose<T extends Float32Array | Float64Array>(a: ArrayLike<number>, R: number, C: number, make: new (n: number) => T): T {
  const out = new make(R * C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) out[c * R + r] = a[r * C + c]!;
  return out;
}

/**
 * Our weights (model.weights(): 'layers.0.wx', ...) as the module's state_dict, float32, in PyTorch's layout. A cell
 * with one bias puts it in bias_ih and zeros in bias_hh.
 */
export function toTorchStateDict(config: SequentialConfig, weights: Weights): Record<string, Tensor> {
  const m = torchModule(config);
  const out: Record<string, Tensor> = {};
  for (const t of torchTensorShapes(m)) {
    const src = weights[t.ours];
    if (!src) throw new InputError(`weights['${t.ours}']`, `a tensor (for ${t.name})`, 'nothing (missing)');
    const [rows, cols] = t.shape as [number, number];
    const data = t.transpose ? transpose(src.data, cols, rows, Float32Array)
      : t.bias === 'hh' && m.cell !== 'gru' ? new Float32Array(rows) : Float32Array.from(src.data);
    out[t.name] = { dtype: 'F32', shape: [...t.shape], data };
  }
  return out;
}

/**
 * The module's state_dict (F32 or F64 tensors by PyTorch's names) as our weights: weights transposed, and bias_ih +
 * bias_hh for a cell with one bias. A missing, extra, misshapen or non-float tensor, or a value that is not finite,
 * is an InputError naming the tensor (`${name}['rnn.weight_ih_l0']`), the expected and the actual.
 */
export function fromTorchStateDict(config: SequentialConfig, tensors: Record<string, Tensor>, name = 'state_dict'): Weights<Float32Array> {
  const m = torchModule(config);
  const expected = torchTensorShapes(m);
  const what = `${m.module}(${m.inputs}, ${m.units}, num_layers=${m.numLayers}, batch_first=True) as rnn${m.outputs === undefined ? '' : `, nn.Linear(${m.units}, ${m.outputs}) as fc`}`;
  const data: Record<string, Float64Array> = {};
  for (const t of expected) {
    const f = `${name}['${t.name}']`, got = Object.hasOwn(tensors, t.name) ? tensors[t.name] : undefined;
    if (!got) throw new InputError(f, `a tensor of shape [${t.shape.join(', ')}] (the state_dict of ${what})`, 'nothing (missing)');
    if (got.shape.length !== t.shape.length || got.shape.some((d, i) => d !== t.shape[i])) {
      throw new InputError(`${f}.shape`, `[${t.shape.join(', ')}] (the state_dict of ${what})`, `[${got.shape.join(', ')}]`);
    }
    if (got.dtype !== 'F32' && got.dtype !== 'F64') throw new InputError(`${f}.dtype`, 'F32 or F64', got.dtype);
    const bad = Array.prototype.findIndex.call(got.data, (v: number) => !Number.isFinite(v));
    if (bad >= 0) throw new InputError(`${f}[${bad}]`, 'a finite number', String(got.data[bad]));
    data[t.name] = Float64Array.from(got.data);
  }
  const known = new Set(expected.map((t) => t.name));
  for (const key of Object.keys(tensors)) {
    if (!known.has(key)) {
      throw new InputError(`${name}['${key}']`, `only the tensors of ${what}: ${expected.map((t) => t.name).join(', ')}`, `an extra tensor of shape [${tensors[key]!.shape.join(', ')}]`);
    }
  }
  const out: Weights<Float32Array> = {};
  for (const t of expected) {
    const [rows, cols] = t.shape as [number, number];
    if (t.transpose) out[t.ours] = { shape: [cols, rows], data: transpose(data[t.name]!, rows, cols, Float32Array) };
    else if (t.bias === 'ih' && m.cell !== 'gru') {
      const hh = data[t.name.replace('bias_ih', 'bias_hh')]!;
      out[t.ours] = { shape: [rows], data: Float32Array.from(data[t.name]!, (v, i) => v + hh[i]!) };
    } else if (!(t.bias === 'hh' && m.cell !== 'gru')) out[t.ours] = { shape: [rows], data: Float32Array.from(data[t.name]!) };
  }
  // In the plan's parameter order, as model.weights() gives them.
  return Object.fromEntries(planSequential(config).params.map(({ name: p }) => [p, out[p]!]));
}

/** A safetensors file of the module's state_dict (what `safetensors.torch.load_file` reads), the module in its metadata. */
export function encodeTorchCheckpoint(config: SequentialConfig, weights: Weights): Uint8Array {
  const m = torchModule(config);
  return encodeSafetensors(toTorchStateDict(config, weights), {
    format: 'pytorch', module: JSON.stringify(m), config: JSON.stringify(config),
  });
}

/** Our weights from a safetensors file of the module's state_dict (written by PyTorch or by encodeTorchCheckpoint). */
export function decodeTorchCheckpoint(config: SequentialConfig, bytes: Uint8Array, name = 'torch checkpoint'): Weights<Float32Array> {
  torchModule(config); // the config's own faults first
  return fromTorchStateDict(config, decodeSafetensors(bytes, name).tensors, name);
}
