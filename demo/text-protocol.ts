// The messages between the <rnn-text-demo> element (main thread) and its training worker (text-worker.ts). As for
// the MNIST element (protocol.ts): requests that expect an answer carry an `id`, and the answer the same id.

/** What the element reads from its attributes; sent on init and again on reset. */
export interface TextConfig {
  /** Absolute URL of a UTF-8 text file (the worker has no page to resolve against). */
  textUrl: string;
  /** Characters of the text to use (the first N); 0 = all. */
  textLimit: number;
  units: number;
  cell: 'tanh' | 'lstm' | 'gru';
  /** Characters per training sequence: the model reads `steps` characters and predicts the next one at each. */
  steps: number;
  batchSize: number;
  learningRate: number;
  /** Characters each periodic sample adds to the prompt. */
  sampleLength: number;
  seed: number;
}

/** What periodic samples start from and how boldly they pick. */
export interface Sampling {
  prompt: string;
  temperature: number;
}

/** Main thread -> worker. */
export type TextRequest =
  | { type: 'init'; config: TextConfig; sampling: Sampling }
  | { type: 'start' }
  | { type: 'pause' }
  | { type: 'reset'; config: TextConfig; sampling: Sampling }
  /** The prompt or temperature changed: the next periodic sample uses them, and comes soon. */
  | { type: 'sampling'; sampling: Sampling }
  /** A sample now, of `length` characters after the prompt. */
  | ({ type: 'sample'; id: number; length: number } & Sampling)
  | { type: 'liveBuffers'; id: number }
  | { type: 'destroy' };

export interface TextSample {
  step: number;        // the model's training steps when it wrote this
  prompt: string;
  text: string;        // what it wrote after the prompt
  temperature: number;
}

/** Worker -> main thread. */
export type TextReply =
  | { type: 'loading'; message: string; fraction: number }
  | { type: 'ready'; adapter: string; chars: number; sequences: number; vocabulary: string; config: TextConfig }
  | { type: 'running'; running: boolean }
  | { type: 'progress'; step: number; epoch: number; loss: number; seqPerSec: number }
  /** A periodic sample (no id), or the answer to `sample`. */
  | ({ type: 'sample'; id?: number } & TextSample)
  | { type: 'liveBuffers'; id: number; count: number }
  | { type: 'failed'; id: number; message: string }
  | { type: 'unsupported'; message: string }
  | { type: 'error'; message: string; fatal: boolean }
  | { type: 'disposed'; liveBuffers: number };
