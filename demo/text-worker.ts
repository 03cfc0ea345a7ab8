// The training loop of <rnn-text-demo>: a character-level model of English (the Brown corpus by default), trained
// in a dedicated worker as the MNIST element's is (worker.ts): one message at a time, training in chunks of about
// Pacer.CHUNK_SECONDS (worker-common.ts) aborted through fit's signal whenever a message arrives or a sample is due.
//
// Model: each step reads one character (its id, one-hot on the GPU over the text's vocabulary), an rnn carries the
// state, and a dense layer gives scores for the next character at every step: softmax cross-entropy per step.
// Training sequences are the text cut into windows of `steps` characters, x = chars[i, i + steps), y = the chars one
// further on. Sampling runs the model on the last `steps` characters written so far (predict, the same batch-1 plan
// every time, the context's length as the sequence length) and draws the next one from softmax(logits / temperature).
import { adapterName, layers, liveBufferCount, Sequential, SequenceDataset } from '../src/index.js';
import { CharVocabulary } from '../src/data/brown.js';
import { Random } from '../src/random.js';
import { readAll } from './read-all.js';
import { contextWindow, pickId } from './sample.js';
import type { Sampling, TextConfig, TextReply, TextRequest } from './text-protocol.js';
import { describe, openDevice, Pacer } from './worker-common.js';

/** A periodic sample at most every this many ms, and never more than a quarter of the time spent sampling. */
const SAMPLE_INTERVAL_MS = 2500;

interface Text {
  key: string;
  vocabulary: CharVocabulary;
  chars: number;
  train: SequenceDataset;
}

const scope = self as unknown as {
  postMessage(message: TextReply): void;
  onmessage: ((event: MessageEvent<TextRequest>) => void) | null;
};
const post = (message: TextReply) => scope.postMessage(message);

let config: TextConfig | undefined;
let sampling: Sampling = { prompt: 'The ', temperature: 0.8 };
let device: GPUDevice | undefined;
let text: Text | undefined;
let model: Sequential | undefined;
let broken: string | undefined;
let running = false;
let closing = false;
let training: AbortController | undefined;
let loading: AbortController | undefined;
/** Set by any message: a periodic sample in progress stops early, so that the message is not kept waiting. */
let interrupted = false;
const queue: TextRequest[] = [];
let random = new Random(1);

const pacer = new Pacer();
let lastSampleEnd = 0;
let lastSampleCost = 0;
let sampledStep = -1;

/** Makes this worker <rnn-text-demo>'s: worker-entry.ts calls it when the worker's name says so. */
export function installTextWorker(): void {
  scope.onmessage = (event) => {
    const message = event.data;
    if (message.type === 'destroy') {
      closing = true;
      queue.length = 0;
      loading?.abort();
    }
    interrupted = true;
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
      interrupted = queue.length > 0;
      if (message) await handle(message);
      else if (running && model && text && !closing) {
        try {
          await train(model, text);
        } catch (error) {
          setRunning(false);
          if (!broken) post({ type: 'error', message: `Training stopped: ${describe(error)}`, fatal: false });
        }
      } else break;
    }
  } finally {
    pumping = false;
  }
}

async function handle(message: TextRequest): Promise<void> {
  try {
    switch (message.type) {
      case 'init':
      case 'reset':
        sampling = message.sampling;
        await setUp(message.config);
        return;
      case 'start':
        if (!model) throw new Error(broken ?? 'the model is not ready yet');
        setRunning(true);
        return;
      case 'pause':
        setRunning(false);
        return;
      case 'sampling':
        sampling = message.sampling;
        sampledStep = -1; // due again, whatever the step
        lastSampleEnd = 0;
        if (!running && model && text) await sample(model, text, sampling, need(config).sampleLength);
        return;
      case 'sample': {
        const written = await write(need(model), need(text), message.prompt, message.temperature, message.length, false);
        post({ type: 'sample', id: message.id, step: need(model).step, prompt: message.prompt, text: written, temperature: message.temperature });
        return;
      }
      case 'liveBuffers':
        post({ type: 'liveBuffers', id: message.id, count: liveBufferCount() });
        return;
      case 'destroy':
        await tearDown();
        post({ type: 'disposed', liveBuffers: liveBufferCount() });
        return;
    }
  } catch (error) {
    const text_ = describe(error);
    if ('id' in message) post({ type: 'failed', id: message.id, message: text_ });
    else post({ type: 'error', message: text_, fatal: !model });
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

async function setUp(next: TextConfig): Promise<void> {
  setRunning(false);
  model?.destroy();
  model = undefined;
  broken = undefined;
  config = next;
  try {
    if (!device) {
      const opened = await openDevice(post, () => device, onLost);
      if ('unsupported' in opened) broken = opened.unsupported;
      else device = opened.device;
    }
    if (!device || closing) return;
    const key = JSON.stringify([next.textUrl, next.textLimit, next.steps]);
    if (text?.key !== key) {
      destroyText();
      text = await loadText(device, next, key);
    }
    if (closing) return;
    if (next.batchSize > text.train.count) {
      throw new Error(`batch-size: expected at most ${text.train.count} (the text's ${text.chars.toLocaleString('en')} characters make ` +
        `${text.train.count} sequences of ${next.steps}), got ${next.batchSize}`);
    }
    const V = text.vocabulary.size;
    model = new Sequential(device, {
      inputs: V, loss: 'softmax-cross-entropy', seed: next.seed,
      // Clipped: a tanh RNN over text otherwise meets the odd exploding step.
      optimizer: { learningRate: next.learningRate, clipNorm: 1 },
      layers: [layers.rnn({ units: next.units, returnSequences: true, ...(next.cell !== 'tanh' && { cell: next.cell }) }), layers.dense({ units: V })],
    });
  } catch (error) {
    broken = describe(error);
    throw error;
  }
  random = new Random(next.seed);
  pacer.reset();
  sampledStep = -1;
  lastSampleEnd = 0;
  post({
    type: 'ready', adapter: adapterName(device), chars: text.chars, sequences: text.train.count,
    vocabulary: text.vocabulary.chars, config: next,
  });
  // What the untrained model writes (noise) starts the samples.
  await sample(model, text, sampling, next.sampleLength);
}

/** The device is lost: the buffers went with it, so forget everything and let reset() start from a new device. */
function onLost(message: string): void {
  device = undefined;
  model?.destroy();
  destroyText();
  model = undefined;
  broken = message;
  setRunning(false);
}

/** Fetches the text, builds its vocabulary and puts its windows on the GPU. */
async function loadText(gpu: GPUDevice, c: TextConfig, key: string): Promise<Text> {
  loading = new AbortController();
  try {
    const response = await fetch(c.textUrl, { signal: loading.signal });
    if (!response.ok) throw new Error(`could not load the text ${c.textUrl}: HTTP ${response.status} ${response.statusText}`);
    const total = Number(response.headers.get('content-length')) || 0;
    let received = 0, lastReport = 0;
    const bytes = await readAll(response, (n) => {
      received += n;
      const now = performance.now();
      if (now - lastReport > 100) {
        lastReport = now;
        post({ type: 'loading', message: `Loading the text: ${(received / 1e3).toFixed(0)} kB`, fraction: total ? Math.min(1, received / total) : 0 });
      }
    });
    let all = new TextDecoder().decode(bytes).replace(/\r\n/g, '\n');
    if (c.textLimit) all = all.slice(0, c.textLimit);
    const T = c.steps;
    const n = Math.floor((all.length - 1) / T);
    if (n < 1) throw new Error(`the text ${c.textUrl}: expected more than ${T} characters (steps), got ${all.length}`);
    const vocabulary = CharVocabulary.fromText(all);
    const ids = vocabulary.encode(all);
    // Windows side by side: sequence i reads ids [i T, (i + 1) T) and predicts ids [i T + 1, (i + 1) T + 1).
    const x = ids.slice(0, n * T);
    const y = ids.slice(1, n * T + 1);
    post({ type: 'loading', message: 'Uploading the text to the GPU', fraction: 1 });
    const train = await SequenceDataset.fromArrays(gpu, { name: 'text', x, y, steps: T, inputs: vocabulary.size, classes: vocabulary.size });
    return { key, vocabulary, chars: all.length, train };
  } finally {
    loading = undefined;
  }
}

async function train(m: Sequential, t: Text): Promise<void> {
  const c = config!;
  const controller = new AbortController();
  training = controller;
  pacer.begin(m.step);
  try {
    await m.fit(t.train, {
      epochs: 1_000_000,
      batchSize: c.batchSize,
      progressEvery: pacer.chunkSteps,
      signal: controller.signal,
      onProgress: (p) => {
        const seqPerSec = pacer.report(p.totalSteps, c.batchSize);
        post({ type: 'progress', step: p.totalSteps, epoch: (p.totalSteps * c.batchSize) / t.train.count, loss: p.loss, seqPerSec });
        if (sampleDue(m)) controller.abort();
      },
    });
  } finally {
    training = undefined;
  }
  if (sampleDue(m) && !closing && model === m) await sample(m, t, sampling, c.sampleLength);
}

function sampleDue(m: Sequential): boolean {
  return m.step !== sampledStep && performance.now() - lastSampleEnd >= Math.max(SAMPLE_INTERVAL_MS, 3 * lastSampleCost);
}

/** A periodic sample: posted unless a message interrupted it. */
async function sample(m: Sequential, t: Text, s: Sampling, length: number): Promise<void> {
  const start = performance.now();
  const written = await write(m, t, s.prompt, s.temperature, length, true);
  lastSampleEnd = performance.now();
  lastSampleCost = lastSampleEnd - start;
  sampledStep = m.step;
  if (written !== undefined) post({ type: 'sample', step: m.step, prompt: s.prompt, text: written, temperature: s.temperature });
}

/** `length` characters after `prompt`, one predict per character; undefined if `interruptible` and a message came. */
async function write(m: Sequential, t: Text, prompt: string, temperature: number, length: number, interruptible: true): Promise<string | undefined>;
async function write(m: Sequential, t: Text, prompt: string, temperature: number, length: number, interruptible: false): Promise<string>;
async function write(m: Sequential, t: Text, prompt: string, temperature: number, length: number, interruptible: boolean): Promise<string | undefined> {
  const steps = config!.steps;
  // An empty prompt starts after a space, as a new word would.
  const context = Array.from(t.vocabulary.encode(prompt || ' '));
  const out: number[] = [];
  for (let k = 0; k < length; k++) {
    if (closing || (interruptible && interrupted)) return undefined;
    const { x, length: valid } = contextWindow(context, steps);
    const probs = await m.predict(x, { steps, lengths: Int32Array.of(valid) });
    const V = t.vocabulary.size;
    const id = pickId(probs.subarray((valid - 1) * V, valid * V), temperature, random.next());
    context.push(id);
    out.push(id);
  }
  return t.vocabulary.decode(out);
}

function destroyText(): void {
  text?.train.destroy();
  text = undefined;
}

async function tearDown(): Promise<void> {
  running = false;
  model?.destroy();
  model = undefined;
  destroyText();
  await new Promise((resolve) => setTimeout(resolve, 0));
  const gone = device;
  device = undefined;
  gone?.destroy();
}
