// The training loop, for any model: chunks of steps submitted as command buffers, the loss sums read back once per
// chunk with two chunks in flight (so the queue never waits for the CPU), progress, abort, checkpoints at exact steps,
// and exact step counts for benchmarks. It knows a batch plan (sequential-plan.ts) and the model's state, no layer.
import type { BatchSource } from '../data/source.js';
import { scoped } from '../gpu/buffers.js';
import { lostError } from '../gpu/device.js';
import { Random, range, shuffleSeed } from '../random.js';
import type { BatchPlan } from './sequential-plan.js';
import type { Clipping, ModelState } from './state.js';

export interface TrainingProgress {
  epoch: number;          // from 1
  step: number;           // within the epoch, from 1
  stepsPerEpoch: number;
  totalSteps: number;     // since the model was created (or loaded)
  loss: number;           // mean training loss over the steps since the last report
  accuracy?: number;      // mean training accuracy over the same steps (class targets only)
  seqPerSec: number;      // sequences per second over the same steps, wall clock
  stepsPerSec: number;
  /**
   * With clipping: the global gradient norm before clipping of the last step of the chunk (not a mean: as PyTorch's
   * clip_grad_norm_ returns it for the step it clipped); NaN when a gradient was NaN. Undefined without clipping.
   */
  gradNorm?: number;
}

export interface CheckpointOptions {
  /** A checkpoint after every step whose count since creation (Adam's t, `step`) is a multiple of this. */
  everySteps?: number;
  /** Asked after each progress chunk is submitted: true for a checkpoint there (e.g. when enough time has passed). */
  due?: () => boolean;
  /**
   * Called with the GPU work done and the host copy read back, before training goes on; fit waits for it.
   * `epoch` from 1 and `step` within it (stepsPerEpoch at the end of an epoch) as in the progress reports.
   */
  save: (at: { epoch: number; step: number; stepsPerEpoch: number }) => void | Promise<void>;
}

/** What the loop runs: a model's state, its seed (for shuffled orders) and one batch plan over one data set. */
export interface Run {
  device: GPUDevice;
  state: ModelState;
  seed: number;
  plan: BatchPlan;
  data: BatchSource;
  shuffle: boolean;
  clip?: Clipping;
  /** Whether the loss has an accuracy to report (class targets). */
  classes: boolean;
}

/** A pass's order over `count` sequences from training step `step`: shuffled from the seed and that step, or as stored. */
export function passOrder(seed: number, count: number, shuffle: boolean, step: number): Uint32Array {
  return shuffle ? new Random(shuffleSeed(seed, step)).permutation(count) : range(count);
}

export interface FitLoop {
  epochs: number;
  every: number;        // steps per progress chunk
  skip: number;         // steps of the first epoch already taken (a resumed run)
  checkpoint?: CheckpointOptions;
  checkpointEvery: number; // Infinity for none
  signal?: AbortSignal;
  onProgress?: (p: TrainingProgress) => void;
  /** Called before each chunk: throws when the data set went away meanwhile (onProgress may destroy it). */
  check: () => void;
  /** Called at the start of each epoch, before its first step is submitted (a stateful model's reset). */
  startEpoch?: () => void;
}

/**
 * `epochs` passes over run.data. Each pass's order is drawn from the seed and the step count it starts at, so a run
 * stopped and resumed (`skip`) takes the batches an uninterrupted one takes. Whatever happens, the whole GPU state is
 * read back at the end; if that fails too (a lost device) the host keeps its previous state whole.
 */
export async function fit(run: Run, o: FitLoop): Promise<void> {
  const { device, state, plan, data } = run;
  const perEpoch = plan.perPass, B = plan.B;
  const inFlight: Array<Promise<void>> = [];
  let chunk = 0;
  let taken = state.stepsRun; // steps submitted (the host's count follows as their chunks are read back)
  let last = performance.now();
  let failure: { error: unknown } | undefined;
  try {
    for (let epoch = 1; epoch <= o.epochs && !o.signal?.aborted; epoch++) {
      const first = epoch === 1 ? o.skip : 0;
      device.queue.writeBuffer(plan.order, 0, passOrder(run.seed, data.count, run.shuffle, taken - first));
      o.startEpoch?.();
      for (let s = first; s < perEpoch && !o.signal?.aborted;) {
        // Chunks end at the checkpoint steps, so that a checkpoint lands exactly there.
        const n = Math.min(o.every, perEpoch - s, o.checkpointEvery - (taken % o.checkpointEvery));
        // Two chunks in flight: wait for the one that used this staging buffer.
        if (inFlight.length >= 2) await inFlight.shift();
        o.check();
        const target = plan.staging[chunk++ % 2]!;
        const { errors } = scoped(device, `training steps ${taken + 1}..${taken + n}`, () => {
          const encoder = device.createCommandEncoder({ label: 'train' });
          const pass = encoder.beginComputePass({ label: 'train steps' });
          for (let k = 0; k < n; k++) plan.encodeTrainStep(pass, s + k, run.clip?.encode);
          pass.end();
          encoder.copyBufferToBuffer(plan.stats, 0, target, 0, 12);
          if (run.clip) encoder.copyBufferToBuffer(run.clip.state, 0, target, 12, 4); // the last step's norm
          encoder.clearBuffer(plan.stats);
          device.queue.submit([encoder.finish()]);
        });
        const at = { epoch, step: s + n };
        // An invalid submit runs nothing and its read-back gives zeros: the scopes' verdict comes first.
        const done = Promise.allSettled([errors, target.mapAsync(GPUMapMode.READ)]).then(([checked, mapped]) => {
          if (checked.status === 'rejected') {
            if (mapped.status === 'fulfilled') target.unmap();
            throw checked.reason;
          }
          if (mapped.status === 'rejected') throw mapped.reason;
          const [loss, correct, rows, gradNorm] = new Float32Array(target.getMappedRange(0, 16).slice(0));
          target.unmap();
          const now = performance.now();
          const seconds = Math.max(1e-9, (now - last) / 1000);
          last = now;
          state.stepsRun += n;
          o.onProgress?.({
            epoch: at.epoch, step: at.step, stepsPerEpoch: perEpoch, totalSteps: state.stepsRun, loss: loss! / rows!,
            ...(run.classes && { accuracy: correct! / rows! }), seqPerSec: (n * B) / seconds, stepsPerSec: n / seconds,
            ...(run.clip && { gradNorm }),
          });
        });
        done.catch(() => undefined); // awaited below; a failure before then must not count as unhandled
        inFlight.push(done);
        taken += n;
        s += n;
        if (o.checkpoint && (taken % o.checkpointEvery === 0 || o.checkpoint.due?.())) {
          while (inFlight.length > 0) await inFlight.shift();
          await state.download();
          await o.checkpoint.save({ epoch, step: s, stepsPerEpoch: perEpoch });
        }
      }
    }
    while (inFlight.length > 0) await inFlight.shift();
  } catch (error) {
    failure = { error };
  }
  await Promise.allSettled(inFlight);
  try {
    await state.download();
  } catch (error) {
    failure ??= { error };
  }
  if (failure) throw failure.error;
}

/** Where successive trainSteps calls are in their pass over one plan's order. */
export interface Cursor {
  plan: BatchPlan;
  next: number; // the next slot; perPass when a new order is due
}

/**
 * Exactly `steps` training steps, one command buffer per pass over the order, submitted and awaited with
 * onSubmittedWorkDone: when this resolves the GPU has finished them. Successive calls on one cursor walk through one
 * order, drawn anew (from the seed and the step count) when it runs out. Nothing is read back unless `readBack`.
 */
export async function trainSteps(run: Run, cursor: Cursor, steps: number, readBack: boolean): Promise<void> {
  const { device, state, plan, data } = run;
  const perPass = plan.perPass;
  const checks: Array<Promise<void>> = [];
  for (let done = 0; done < steps;) {
    if (cursor.next >= perPass) {
      // A write lands before the command buffers submitted after it: each pass over the order gets its own.
      device.queue.writeBuffer(plan.order, 0, passOrder(run.seed, data.count, run.shuffle, state.stepsRun + done));
      cursor.next = 0;
    }
    const n = Math.min(steps - done, perPass - cursor.next);
    const first = cursor.next;
    checks.push(scoped(device, `training steps ${state.stepsRun + done + 1}..${state.stepsRun + done + n}`, () => {
      const encoder = device.createCommandEncoder({ label: 'trainSteps' });
      const pass = encoder.beginComputePass({ label: 'train steps' });
      for (let k = 0; k < n; k++) plan.encodeTrainStep(pass, first + k, run.clip?.encode);
      pass.end();
      encoder.clearBuffer(plan.stats); // the steps' loss sums are not wanted here
      device.queue.submit([encoder.finish()]);
    }).errors);
    cursor.next += n;
    done += n;
  }
  await Promise.all([device.queue.onSubmittedWorkDone(), ...checks]);
  // Dawn resolves onSubmittedWorkDone on a lost device too: the steps did not run.
  const lost = lostError(device);
  if (lost) throw lost;
  state.stepsRun += steps;
  if (readBack) await state.download();
}
