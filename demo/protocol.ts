// The messages between the <rnn-mnist-demo> element (main thread) and its training worker. The worker owns the GPU
// device, the data and the model, so the page's main thread never waits on the GPU: drawing stays smooth while the
// model trains.
//
// Requests that expect an answer carry an `id`; the answer carries the same id (or a `failed` message with it).

/** What the element reads from its attributes; sent on init and again on reset (attributes may have changed). */
export interface DemoConfig {
  units: number;
  batchSize: number;
  learningRate: number;
  /** Absolute URL of the folder holding the four MNIST IDX files (the worker has no page to resolve against). */
  dataUrl: string;
  /** Training images to use (the first N); 0 = all 60,000. */
  trainLimit: number;
  /** Test images to load (the first N); 0 = all 10,000. */
  testLimit: number;
  /** How many of the loaded test images each periodic evaluation uses. */
  evalSize: number;
  seed: number;
  /** "Draw a digit for me": the vector-to-sequence model's units, training steps (batch 32) and training images. */
  digitUnits: number;
  digitSteps: number;
  digitImages: number;
}

/** Main thread -> worker. */
export type Request =
  | { type: 'init'; config: DemoConfig }
  | { type: 'start' }
  | { type: 'pause' }
  | { type: 'reset'; config: DemoConfig }
  /** One 28x28 image, MNIST layout (784 values, 0 = background; bytes 0..255 or floats 0..1). */
  | { type: 'predict'; id: number; image: Uint8Array | Float32Array }
  | { type: 'inspect'; id: number; image: Uint8Array | Float32Array }
  /** A random test image (or the one at `index`) with its inspection. */
  | { type: 'testImage'; id: number; index?: number }
  | { type: 'liveBuffers'; id: number }
  /** Trains the drawing model first if it has not been trained yet (reporting `digitTraining`), then draws `digit`. */
  | { type: 'drawDigit'; id: number; digit: number }
  /** Free everything on the GPU, answer `disposed`, then expect to be terminated. */
  | { type: 'destroy' };

export interface ProgressInfo {
  step: number;          // training steps since the model was created
  epoch: number;         // passes over the training set so far, fractional
  loss: number;          // mean training loss over the last chunk
  trainAccuracy: number; // mean training accuracy over the last chunk
  seqPerSec: number;     // training sequences per second (smoothed)
}

export interface Inspection {
  probs: Float32Array;   // [10]
  states: Float32Array;  // [28, units]: the hidden state after each row
  units: number;
}

/** A digit as the vector-to-sequence model draws it: row t is the dense layer's output at step t. */
export interface DrawnDigit {
  digit: number;
  rows: Float32Array;    // [28, 28], about 0..1 (not clamped)
  states: Float32Array;  // [28, units]: the hidden state while drawing each row
  units: number;
  step: number;          // the drawing model's training steps
  loss: number;          // its mean training loss (MSE per pixel) over the last report
}

/** Worker -> main thread. */
export type Reply =
  | { type: 'loading'; message: string; fraction: number }
  | { type: 'ready'; adapter: string; trainCount: number; testCount: number; evalCount: number; config: DemoConfig }
  | { type: 'running'; running: boolean }
  | ({ type: 'progress' } & ProgressInfo)
  | { type: 'evaluation'; step: number; loss: number; accuracy: number; images: number }
  | { type: 'prediction'; id: number; probs: Float32Array }
  | ({ type: 'inspection'; id: number } & Inspection)
  | ({ type: 'testImage'; id: number; image: Uint8Array; label: number; index: number } & Inspection)
  | { type: 'liveBuffers'; id: number; count: number }
  | { type: 'digitTraining'; step: number; steps: number; loss: number; images: number }
  | ({ type: 'digit'; id: number } & DrawnDigit)
  | { type: 'failed'; id: number; message: string }
  /** No usable WebGPU in the worker: no navigator.gpu, or no adapter. */
  | { type: 'unsupported'; message: string }
  /** `fatal`: the model is gone (init failed, device lost); reset() tries again from scratch. */
  | { type: 'error'; message: string; fatal: boolean }
  | { type: 'disposed'; liveBuffers: number };
