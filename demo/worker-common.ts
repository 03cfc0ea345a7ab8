// What both demo workers (worker.ts for <rnn-mnist-demo>, text-worker.ts for <rnn-text-demo>) do alike: open the
// GPU device and watch it, and pace training in chunks from the measured speed.
import { getDevice, GpuError } from '../src/index.js';

/** The replies both workers' protocols share (protocol.ts, text-protocol.ts). */
export type CommonReply = { type: 'unsupported'; message: string } | { type: 'error'; message: string; fatal: boolean };

/**
 * The device, or where there is no WebGPU why not (also posted as `unsupported`). When the device is lost
 * for any reason but being destroyed, and it is still the worker's (`current`), `lost` is called with the message
 * that tells the user what happened, and that message is posted as a fatal error. WebGPU errors nobody caught are
 * posted as non-fatal ones.
 */
export async function openDevice(post: (reply: CommonReply) => void, current: () => GPUDevice | undefined,
  lost: (message: string) => void): Promise<{ device: GPUDevice } | { unsupported: string }> {
  let opened: GPUDevice;
  try {
    opened = await getDevice({ log: () => {} });
  } catch (error) {
    if (error instanceof GpuError) {
      post({ type: 'unsupported', message: error.message });
      return { unsupported: error.message };
    }
    throw error;
  }
  opened.lost.then((info) => {
    if (opened !== current() || info.reason === 'destroyed') return;
    const message = `The GPU device was lost (${info.reason || 'unknown reason'}): ${info.message}. Press Reset to start again.`;
    lost(message);
    post({ type: 'error', message, fatal: true });
  });
  opened.addEventListener('uncapturederror', (event) => {
    post({ type: 'error', message: `WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message}`, fatal: false });
  });
  return { device: opened };
}

/**
 * Training speed over the last WINDOW_MS of training time, and from it the steps of a chunk that takes about
 * CHUNK_SECONDS (1 to MAX_CHUNK_STEPS). fit's own per-report rate is unusable for display: with two chunks in flight,
 * reports arrive in bursts, so the time between two can be almost nothing.
 */
export class Pacer {
  static readonly CHUNK_SECONDS = 0.15;
  static readonly MAX_CHUNK_STEPS = 64;
  static readonly WINDOW_MS = 3000;
  /** Steps of the next chunk: fit's progressEvery. */
  chunkSteps = 1;
  private window: Array<{ sequences: number; ms: number }> = [];
  private lastTime = 0;
  private lastStep = 0;

  /** Starts over (a new model): one step a chunk until there is a speed to go by. */
  reset(): void {
    this.chunkSteps = 1;
    this.window = [];
  }

  /** A training run begins at `step` (its first report counts from now). */
  begin(step: number): void {
    this.lastTime = performance.now();
    this.lastStep = step;
  }

  /** A progress report at `totalSteps` of `batchSize` sequences: the speed in sequences a second, and the next chunk set. */
  report(totalSteps: number, batchSize: number): number {
    const now = performance.now();
    this.window.push({ sequences: (totalSteps - this.lastStep) * batchSize, ms: now - this.lastTime });
    this.lastTime = now;
    this.lastStep = totalSteps;
    let ms = this.window.reduce((sum, e) => sum + e.ms, 0);
    while (this.window.length > 1 && ms - this.window[0]!.ms >= Pacer.WINDOW_MS) ms -= this.window.shift()!.ms;
    const seqPerSec = (1000 * this.window.reduce((sum, e) => sum + e.sequences, 0)) / Math.max(ms, 1);
    this.chunkSteps = Math.max(1, Math.min(Pacer.MAX_CHUNK_STEPS, Math.round((seqPerSec / batchSize) * Pacer.CHUNK_SECONDS)));
    return seqPerSec;
  }
}

/** An error's message, or the thrown value as text. */
export function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
