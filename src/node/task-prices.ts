// `npm run train -- --task prices`: the lecture's sequence-to-sequence example on real data. The S&P 500's daily
// closes 2000-2020 (vega-datasets, data/sp500-2000.csv, BSD-3-Clause), as daily log returns normalised by the training
// part (data/prices.ts); a Sequential rnn(units, returnSequences) -> dense(1) at every step, MSE; trained on the first
// 80 % of the days, tested on the rest: the RMSE of the next day's close in index points, beside "tomorrow = today".
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { forecastRmse, parsePriceCsv, priceTask } from '../data/prices.js';
import { SequenceDataset } from '../data/sequences.js';
import { InputError } from '../errors.js';
import { adapterName } from '../gpu/device.js';
import { layers, Sequential } from '../model/sequential.js';
import { saveTrained } from './files.js';
import { trainEpochs } from './task-epochs.js';
import type { TrainArgs } from './train.js';

/** The S&P 500 file of the installed vega-datasets package. */
export function sp500File(): string {
  try {
    // The package exports only its index (build/index.js): its data/ folder is beside build/.
    return join(dirname(dirname(createRequire(import.meta.url).resolve('vega-datasets'))), 'data', 'sp500-2000.csv');
  } catch {
    throw new InputError('vega-datasets', 'the npm package vega-datasets (npm install vega-datasets) or --data FILE', 'neither');
  }
}

export function readPrices(file: string) {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError(file, 'a readable CSV file of daily closes', (error as NodeJS.ErrnoException).code ?? (error as Error).message);
  }
  return parsePriceCsv(text, file);
}

/** Trains and tests the forecaster; returns the exit code and the JSON line's fields. */
export async function trainPrices(device: GPUDevice, args: TrainArgs, log: (line: string) => void): Promise<{ code: number; json: Record<string, unknown> }> {
  const file = args.data ?? sp500File();
  const series = readPrices(file);
  const task = priceTask(series, args.window ?? 50);
  const W = task.window;
  log(`prices: ${series.close.length} days of ${file} (${series.dates[0]} to ${series.dates.at(-1)}); training on the ` +
    `${task.split} days to ${series.dates[task.split - 1]} (${task.train.n} windows of ${W} days), testing on the next ` +
    `${task.test.n}; daily log returns normalised by the training part (mean ${task.mean.toExponential(2)}, sd ${task.std.toExponential(2)})`);
  const model = new Sequential(device, {
    inputs: 1, loss: 'mse', seed: args.seed, optimizer: { learningRate: args.lr, ...(args.clipNorm !== undefined && { clipNorm: args.clipNorm }) },
    layers: [
      ...Array.from({ length: args.layers ?? 1 }, () => layers.rnn({ units: args.units, returnSequences: true, ...(args.cell !== 'tanh' && { cell: args.cell }) })),
      layers.dense({ units: 1 }),
    ],
  });
  const arrays = (w: typeof task.train, name: string) => ({ name, x: w.x, y: w.y, steps: W, inputs: 1, outputs: 1 });
  const [train, test] = await Promise.all([SequenceDataset.fromArrays(device, arrays(task.train, 'prices-train')), SequenceDataset.fromArrays(device, arrays(task.test, 'prices-test'))]);
  log(`model: ${args.cell} rnn(${args.units}, every step) -> dense(1), MSE, Adam ${args.lr}, batch ${Math.min(args.batch, train.count)}`);
  try {
    let result = { test_loss: NaN, test_rmse: NaN, naive_rmse: NaN };
    const batchSize = Math.min(args.batch, train.count);
    const timing = await trainEpochs(model, train, { epochs: args.epochs, batchSize, progressEvery: 10 }, async ({ epoch, last, seconds, seqPerSec }) => {
      const { loss } = await model.evaluate(test);
      const out = await model.predict(task.test.x, { steps: W });
      const lastSteps = Float32Array.from({ length: task.test.n }, (_, i) => out[i * W + W - 1]!);
      result = { test_loss: loss, ...forecastRmse(task, series, lastSteps) };
      log(`epoch ${epoch}/${args.epochs}: train loss ${(last?.loss ?? NaN).toFixed(4)}, test loss ${loss.toFixed(4)} (normalised returns); ` +
        `test RMSE ${result.test_rmse.toFixed(2)} points, naive ${result.naive_rmse.toFixed(2)} (x${(result.test_rmse / result.naive_rmse).toFixed(4)}) ` +
        `(${seconds.toFixed(1)} s, ${seqPerSec.toFixed(0)} seq/s)`);
    });
    const code = args.save ? saveTrained(args.save, model.save(), log) : 0;
    return {
      code,
      json: {
        task: 'prices', epochs: args.epochs, cell: args.cell, units: args.units, layers: args.layers ?? 1, window: W,
        ...timing,
        test_loss: Number(result.test_loss.toFixed(6)), test_rmse: Number(result.test_rmse.toFixed(4)), naive_rmse: Number(result.naive_rmse.toFixed(4)),
        adapter: adapterName(device),
      },
    };
  } finally {
    model.destroy();
    train.destroy();
    test.destroy();
  }
}
