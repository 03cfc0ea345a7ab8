// Losses with their gradients and statistics: shaders/loss.wgsl. Softmax cross-entropy and squared error, over one
// row per sequence ([B, N]) or, masked by lengths, over every step of time-major sequences ([T, B, N]).
//
// Each loss is a forward (+ gradient) over the rows and a one-workgroup reduce that adds
// [sum loss, sum correct (0 for the squared error), count] into a stats buffer [3]; the masked ones start with
// countValid, which writes the number of terms of the mean (from lengths, on the GPU) into a count buffer [1].
// Encode count (masked), forwardBackward, reduce in that order, in one pass.
//
// Bindings, the same rule for every loss (masked-only buffers last):
//   count            (lengths [B] i32, count [1])
//   forwardBackward  (input [ROWS, N], targets, dinput [ROWS, N], rowStats [ROWS, 2]) + masked (lengths, count)
//   reduce           (input, targets, dinput, rowStats, stats [3]) + masked (count); only rowStats is read of the four
// where ROWS = B (per sequence) or T*B (per step, row t*B + b), input is logits or predictions, targets are i32
// classes [ROWS] for cross-entropy and f32 [ROWS, N] for the squared error.
import source from '../../shaders/loss.wgsl?raw';
import { grid1d, program, type BindingKind, type Defines, type Program } from '../gpu/shader.js';

export interface LossPrograms {
  forwardBackward: Program;
  reduce: Program;
}

export interface MaskedLossPrograms extends LossPrograms {
  /** Bind (lengths [B] i32, count [1]); encode before forwardBackward. */
  count: Program;
}

type Entry = 'xent' | 'mse' | 'softmax' | 'count' | 'reduce';

const ENTRY_POINTS: Record<Entry, string> = {
  xent: 'xentForwardBackward', mse: 'mseForwardBackward', softmax: 'softmaxRows', count: 'countValid', reduce: 'lossReduce',
};

/** A buffer each entry point binds, for the shader's opaque(). */
const ANCHORS: Record<Entry, string> = { xent: 'logits', mse: 'pred', softmax: 'logits', count: 'count', reduce: 'stats' };

/** The rows a kernel sees: T steps of B sequences (T = 1 per sequence), N values each, PER terms of the mean per row. */
interface Rows { T: number; B: number; N: number; per: number; masked: boolean; scale: number }

function f32Literal(x: number): string {
  const s = String(Math.fround(x));
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

function entry(device: GPUDevice, label: string, e: Entry, rows: Rows): Promise<Program> {
  const { T, B, N, per, masked, scale } = rows;
  const flags = { xent: e === 'xent', mse: e === 'mse', softmax: e === 'softmax', count: e === 'count', reduce: e === 'reduce' };
  const defines: Defines = {
    T, B, N, PER: per, SCALE: f32Literal(scale), MASKED: masked,
    XENT: flags.xent, MSE: flags.mse, SOFTMAX: flags.softmax, COUNT: flags.count, REDUCE: flags.reduce,
    LOGITS: flags.xent || flags.softmax, LOSS: flags.xent || flags.mse, ANCHOR: ANCHORS[e],
  };
  const maskedKinds: BindingKind[] = masked ? (e === 'reduce' ? ['read'] : ['read', 'read']) : [];
  const kinds: BindingKind[] =
    e === 'count' ? ['read', 'storage'] :
    e === 'reduce' ? ['read', 'read', 'read', 'read', 'storage', ...maskedKinds] :
    e === 'softmax' ? ['read', 'read', 'storage'] :
    ['read', 'read', 'storage', 'storage', ...maskedKinds];
  const workgroups = e === 'count' || e === 'reduce' ? [1, 1, 1] as [number, number, number] :
    grid1d(T * B, 64, device.limits.maxComputeWorkgroupsPerDimension);
  return program(device, label, source, defines, ENTRY_POINTS[e], kinds, workgroups);
}

async function loss(device: GPUDevice, name: string, e: 'xent' | 'mse', rows: Rows): Promise<LossPrograms> {
  const [forwardBackward, reduce] = await Promise.all([
    entry(device, `${name}.forwardBackward`, e, rows),
    entry(device, `${name}.reduce`, 'reduce', rows),
  ]);
  return { forwardBackward, reduce };
}

async function maskedLoss(device: GPUDevice, name: string, e: 'xent' | 'mse', rows: Rows): Promise<MaskedLossPrograms> {
  const [count, programs] = await Promise.all([entry(device, `${name}.count`, 'count', rows), loss(device, name, e, rows)]);
  return { count, ...programs };
}

/** probs = softmax(logits) per row. Bind (logits [B,C], any read-only buffer (unused), probs [B,C]). */
export function softmaxRows(device: GPUDevice, B: number, C: number): Promise<Program> {
  return entry(device, 'softmaxRows', 'softmax', { T: 1, B, N: C, per: 1, masked: false, scale: 1 });
}

/**
 * Softmax cross-entropy of B rows of C logits with a class each (one per sequence, or T*B rows of every step when no
 * step is masked): forwardBackward binds (logits [B,C], labels [B] i32, dlogits [B,C], rowStats [B,2]) and scales
 * dlogits by `scale`; reduce binds (logits, labels, dlogits, rowStats, stats [3]) and adds [sum loss, sum correct, B].
 */
export function softmaxCrossEntropy(device: GPUDevice, B: number, C: number, scale = 1 / B): Promise<LossPrograms> {
  return loss(device, 'xent', 'xent', { T: 1, B, N: C, per: 1, masked: false, scale });
}

/**
 * Softmax cross-entropy at every step, masked by lengths: logits [T,B,C], labels [T,B] i32, lengths [B]; the mean is
 * over the valid (step, sequence) pairs (t < lengths[b]), whose number count computes on the GPU. Masked rows get
 * dlogits exactly 0, and their logits and labels are not read. Stats: [sum loss, sum correct, valid pairs].
 */
export function softmaxCrossEntropyPerStep(device: GPUDevice, T: number, B: number, C: number): Promise<MaskedLossPrograms> {
  return maskedLoss(device, 'xentSteps', 'xent', { T, B, N: C, per: 1, masked: true, scale: 1 });
}

/**
 * Mean squared error over B rows of O outputs (one per sequence): pred [B,O], targets [B,O] f32,
 * dpred = 2 (pred - targets) / (B*O). Stats: [sum of squared errors, 0, B*O].
 */
export function meanSquaredError(device: GPUDevice, B: number, O: number): Promise<LossPrograms> {
  return loss(device, 'mse', 'mse', { T: 1, B, N: O, per: O, masked: false, scale: 1 / (B * O) });
}

/**
 * Mean squared error at every step, masked by lengths: pred [T,B,O], targets [T,B,O] f32, lengths [B]; the mean is
 * over every output of every valid step, count = O * (valid steps). dpred = 2 (pred - targets) / count at valid
 * steps, exactly 0 elsewhere. Stats: [sum of squared errors, 0, count].
 */
export function meanSquaredErrorPerStep(device: GPUDevice, T: number, B: number, O: number): Promise<MaskedLossPrograms> {
  return maskedLoss(device, 'mseSteps', 'mse', { T, B, N: O, per: O, masked: true, scale: 1 });
}
