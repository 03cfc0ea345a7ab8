// `npm run train -- --task digits`: the lecture's vector-to-sequence example (an image from a caption, here from a
// digit class): the class as a one-hot vector [10] fed at every one of 28 steps (layers.repeat), an rnn, and a dense
// layer giving each step's row of 28 pixels, MSE against real MNIST images of that class. The test MSE (per pixel, in
// [0, 1] units) is reported beside the MSE of always drawing the mean training image; --sample FILE writes one
// generated digit per class as a PNG.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseIdxImages, parseIdxLabels } from '../data/idx.js';
import { DIGIT_CLASSES, DIGIT_COLS, DIGIT_ROWS, digitArrays, digitModelConfig, meanImageMse } from '../data/digits.js';
import { SequenceDataset } from '../data/sequences.js';
import { MNIST_FILES } from '../data/dataset.js';
import { InputError } from '../errors.js';
import { adapterName } from '../gpu/device.js';
import { Sequential } from '../model/sequential.js';
import { saveTrained, writeFileAtomic } from './files.js';
import { trainEpochs } from './task-epochs.js';
import { mnistDirectory } from './mnist.js';
import { grayPng } from './png.js';
import type { TrainArgs } from './train.js';

const ROWS = DIGIT_ROWS, COLS = DIGIT_COLS, CLASSES = DIGIT_CLASSES;
export { digitArrays, meanImageMse };

function read(dir: string, file: string): Uint8Array {
  const path = join(dir, file);
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new InputError(path, 'a readable MNIST IDX file', (error as NodeJS.ErrnoException).code ?? (error as Error).message);
  }
}

export async function trainDigits(device: GPUDevice, args: TrainArgs, log: (line: string) => void): Promise<{ code: number; json: Record<string, unknown> }> {
  const dir = mnistDirectory(args.data);
  const trainImages = parseIdxImages(read(dir, MNIST_FILES.trainImages), 'train images');
  const trainLabels = parseIdxLabels(read(dir, MNIST_FILES.trainLabels), 'train labels');
  const testImages = parseIdxImages(read(dir, MNIST_FILES.testImages), 'test images');
  const testLabels = parseIdxLabels(read(dir, MNIST_FILES.testLabels), 'test labels');
  const trainSet = digitArrays(trainImages.pixels, trainLabels.labels, args.limit ?? 20000);
  const testSet = digitArrays(testImages.pixels, testLabels.labels, 2000);
  const mean_image_mse = meanImageMse(trainSet.y, testSet.y);
  log(`digits: ${trainSet.n} training and ${testSet.n} test images of ${dir}: a class (one-hot) in, 28 rows of 28 pixels out; ` +
    `the mean training image's test MSE: ${mean_image_mse.toFixed(5)}`);
  const upload = (s: typeof trainSet, name: string) => SequenceDataset.fromArrays(device, { name, x: s.x, y: s.y, vector: true, steps: ROWS, inputs: CLASSES, outputs: COLS });
  const [train, test] = await Promise.all([upload(trainSet, 'digits-train'), upload(testSet, 'digits-test')]);
  const model = new Sequential(device, digitModelConfig({ units: args.units, learningRate: args.lr, seed: args.seed, cell: args.cell, clipNorm: args.clipNorm, stack: args.layers }));
  const batchSize = Math.min(args.batch, train.count);
  log(`model: repeat(28) -> ${args.cell} rnn(${args.units}, every step) -> dense(28), MSE, Adam ${args.lr}, batch ${batchSize}`);
  try {
    let test_mse = NaN;
    const timing = await trainEpochs(model, train, { epochs: args.epochs, batchSize, progressEvery: 20 }, async ({ epoch, last, seconds, seqPerSec }) => {
      test_mse = (await model.evaluate(test)).loss;
      log(`epoch ${epoch}/${args.epochs}: train loss ${(last?.loss ?? NaN).toFixed(5)}, test MSE ${test_mse.toFixed(5)} (mean image ${mean_image_mse.toFixed(5)}) ` +
        `(${seconds.toFixed(1)} s, ${seqPerSec.toFixed(0)} seq/s)`);
    });
    if (args.sample) {
      // One digit per class, side by side: [28, 10 * 28] pixels.
      const out = await model.predict(Float32Array.from({ length: CLASSES * CLASSES }, (_, k) => (k % (CLASSES + 1) === 0 ? 1 : 0)));
      const pixels = new Uint8Array(ROWS * CLASSES * COLS);
      for (let c = 0; c < CLASSES; c++) {
        for (let r = 0; r < ROWS; r++) {
          for (let k = 0; k < COLS; k++) pixels[r * CLASSES * COLS + c * COLS + k] = Math.round(255 * Math.min(1, Math.max(0, out[(c * ROWS + r) * COLS + k]!)));
        }
      }
      writeFileAtomic(args.sample, grayPng(pixels, CLASSES * COLS, ROWS));
      log(`sample: the digits 0 to 9 as the model draws them, in ${args.sample}`);
    }
    const code = args.save ? saveTrained(args.save, model.save(), log) : 0;
    return {
      code,
      json: {
        task: 'digits', epochs: args.epochs, cell: args.cell, units: args.units, layers: args.layers ?? 1, train_images: trainSet.n,
        ...timing,
        test_mse: Number(test_mse.toFixed(6)), mean_image_mse: Number(mean_image_mse.toFixed(6)), adapter: adapterName(device),
      },
    };
  } finally {
    model.destroy();
    train.destroy();
    test.destroy();
  }
}
