// `npm run train`: the lecture's MNIST sequence classifier, trained end to end on the GPU from the command line.
import { adapterName } from '../gpu/device.js';
import { SequenceClassifier, type Progress } from '../model.js';
import { setAutotune, tuningReport, variantName } from '../tune.js';
import { getDevice } from './device.js';
import { commandLine, integerFlag, textFlag, UsageError } from './cli.js';
import { writeFileAtomic } from './files.js';
import { loadTuningCache, saveTuningCache, tuningCachePath } from './tuning-cache.js';
import { loadMnist } from './mnist.js';

export interface TrainArgs {
  epochs: number;
  limit?: number;
  units: number;
  batch: number;
  lr: number;
  seed: number;
  save?: string;
  json: boolean;
  adapter?: string;
  tune: boolean;
  /** Time the kernel variants again even where an earlier run stored its choices. */
  retune: boolean;
}

export const USAGE = `usage: npm run train -- [options]
  --epochs N     passes over the training set (default 1)
  --limit N      train on the first N training images only (default: all 60000)
  --units N      RNN units (default 150)
  --batch N      batch size (default 150)
  --lr X         Adam learning rate (default 0.001; beta1 0.9, beta2 0.999, epsilon 1e-8)
  --seed N       initialisation and shuffling seed, any integer up to 2^53 in size (default 1)
  --save FILE    write a safetensors checkpoint when done
  --json         end with one JSON line of results
  --adapter NAME lavapipe, swiftshader or an adapter name (default: the best found; env WEBGPU_RNN_ADAPTER)
  --no-tune      skip timing the kernel variants on this adapter first (default: tune, a few seconds, then
                 keep the choices in $WEBGPU_RNN_CACHE or ~/.cache/webgpu-rnn/tuning.json for the next run)
  --retune       time the kernel variants again even where an earlier run stored its choices
  --help         this text`;

/** Parses the command line; throws UsageError naming the bad flag. */
export function parseTrainArgs(argv: string[]): TrainArgs | 'help' {
  const args: TrainArgs = { epochs: 1, units: 150, batch: 150, lr: 0.001, seed: 1, json: false, tune: true, retune: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => argv[++i];
    switch (flag) {
      case '--epochs': args.epochs = integerFlag(flag, value(), 1); break;
      case '--limit': args.limit = integerFlag(flag, value(), 1); break;
      case '--units': args.units = integerFlag(flag, value(), 1); break;
      case '--batch': args.batch = integerFlag(flag, value(), 1); break;
      case '--seed': args.seed = integerFlag(flag, value(), Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER); break; // as the model takes it
      case '--lr': {
        const v = value();
        const x = Number(v);
        if (v === undefined || v.trim() === '' || !(x > 0) || !Number.isFinite(x)) throw new UsageError(`--lr expects a positive number, got ${v ?? 'nothing'}`);
        args.lr = x;
        break;
      }
      case '--save': args.save = textFlag(flag, value(), 'a file name'); break;
      case '--adapter': args.adapter = textFlag(flag, value(), 'a name'); break;
      case '--json': args.json = true; break;
      case '--no-tune': args.tune = false; break;
      case '--retune': args.retune = true; break;
      case '--help': case '-h': return 'help';
      default: throw new UsageError(`unknown option ${flag}`);
    }
  }
  return args;
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
  const log = (line: string) => console.error(line);
  const device = await getDevice({ adapter: args.adapter, log });
  const cacheFile = tuningCachePath();
  if (args.tune) {
    setAutotune(device, 'measure');
    if (!args.retune) {
      const { taken, problem } = loadTuningCache(device, cacheFile);
      if (problem) log(`autotune: ignoring ${cacheFile} (${problem}); timing the kernels and rewriting it`);
      if (taken > 0) log(`autotune: ${taken} kernel shapes as an earlier run on this adapter timed them (${cacheFile}; --retune to time them again)`);
    }
  }
  try {
    const { train, test } = await loadMnist(device, { limit: args.limit });
    log(`MNIST: ${train.count} training and ${test.count} test images of 28 x 28 on the GPU`);
    const model = new SequenceClassifier(device, { steps: 28, inputs: 28, units: args.units, classes: 10, seed: args.seed });
    const bar = new ProgressBar(process.stderr, args.epochs);
    let trainSeconds = 0, sequences = 0;
    let result = { loss: NaN, accuracy: NaN };
    for (let epoch = 1; epoch <= args.epochs; epoch++) {
      const started = performance.now();
      await model.fit(train, {
        epochs: 1, batchSize: args.batch, learningRate: args.lr,
        progressEvery: Math.max(1, Math.min(20, Math.floor(train.count / args.batch / 10))),
        onProgress: (p) => bar.update({ ...p, epoch }, started),
      });
      const seconds = (performance.now() - started) / 1000;
      bar.end();
      if (epoch === 1 && args.tune) {
        for (const line of describeTuning(device)) log(line);
        try {
          saveTuningCache(device, cacheFile);
        } catch (error) {
          log(`autotune: could not store the choices in ${cacheFile} (${(error as Error).message}); the next run times them again`);
        }
      }
      trainSeconds += seconds;
      sequences += Math.floor(train.count / args.batch) * args.batch;
      result = await model.evaluate(test);
      log(`epoch ${epoch}/${args.epochs}: test accuracy ${result.accuracy.toFixed(4)}, test loss ${result.loss.toFixed(4)} ` +
        `(trained in ${seconds.toFixed(1)} s, ${(Math.floor(train.count / args.batch) * args.batch / seconds).toFixed(0)} seq/s, adapter ${adapterName(device)})`);
    }
    if (args.save) {
      writeFileAtomic(args.save, model.save());
      log(`saved checkpoint to ${args.save}`);
    }
    if (args.json) {
      console.log(JSON.stringify({
        epochs: args.epochs, train_seconds: Number(trainSeconds.toFixed(3)), seq_per_s: Number((sequences / trainSeconds).toFixed(1)),
        test_accuracy: result.accuracy, test_loss: Number(result.loss.toFixed(6)), adapter: adapterName(device),
      }));
    }
    model.destroy();
    train.destroy();
    test.destroy();
    return 0;
  } finally {
    device.destroy();
  }
}

export { writeFileAtomic };
