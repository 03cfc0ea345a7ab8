// The epochs of a task's training (task-*.ts): one fit a pass over the training set, timed, then the task's own
// evaluation and line; the totals its JSON line reports.
import type { BatchSource } from '../data/source.js';
import type { TrainingProgress } from '../model/loop.js';
import type { Sequential } from '../model/sequential.js';

export interface Epoch {
  epoch: number;
  last: TrainingProgress | undefined; // the epoch's last progress report: its loss (and accuracy) of the last chunk
  seconds: number;
  seqPerSec: number;
}

/** `epochs` passes of `model` over `train` in batches of `batchSize`, `after` each; the JSON line's time and rate. */
export async function trainEpochs(model: Sequential, train: BatchSource, o: { epochs: number; batchSize: number; progressEvery: number; onProgress?: (p: TrainingProgress) => void },
  after: (e: Epoch) => Promise<void>): Promise<{ train_seconds: number; seq_per_s: number }> {
  const seen = Math.floor(train.count / o.batchSize) * o.batchSize; // the last partial batch is dropped
  let trainSeconds = 0;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const started = performance.now();
    let last: TrainingProgress | undefined;
    await model.fit(train, { epochs: 1, batchSize: o.batchSize, progressEvery: o.progressEvery, onProgress: (p) => { last = p; o.onProgress?.(p); } });
    const seconds = (performance.now() - started) / 1000;
    trainSeconds += seconds;
    await after({ epoch, last, seconds, seqPerSec: seen / seconds });
  }
  return { train_seconds: Number(trainSeconds.toFixed(3)), seq_per_s: Number(((seen * o.epochs) / trainSeconds).toFixed(1)) };
}
