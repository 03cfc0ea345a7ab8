// --task spam: the corpus reader on missing and malformed files, the text encoding, and a tiny training run on a
// synthetic corpus in the same layout, where the model must beat the majority class by far.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BASIC_CHARS, emailBody, Vocabulary } from '../src/data/text.js';
import { encodeEmails, readEmails, spamAssassinDirectory, trainSpam } from '../src/node/task-spam.js';
import { parseTrainArgs, type TrainArgs } from '../src/node/train.js';
import { Random } from '../src/random.js';
import { testDevice, thrownInput } from './helpers.js';

const device = await testDevice();

/** A corpus folder: group -> messages, each a JSON file { group, text } with a header block. */
function corpus(groups: Record<string, string[]>): string {
  const dir = mkdtempSync(join(tmpdir(), 'spam-'));
  for (const [group, bodies] of Object.entries(groups)) {
    mkdirSync(join(dir, group));
    bodies.forEach((body, i) => writeFileSync(join(dir, group, `${String(i).padStart(5, '0')}.json`), JSON.stringify({ group, text: `From: x@y\nSubject: s\n\n${body}` })));
  }
  return dir;
}

describe('spam: the data', () => {
  it('reads the installed corpus: 6046 e-mails, 1896 spam', () => {
    const all = readEmails(spamAssassinDirectory());
    expect(all.length).toBe(6046);
    expect(all.filter((e) => e.spam).length).toBe(1896);
  });

  it('names the folder or file and the fault', () => {
    expect(thrownInput(() => readEmails('/nonexistent/spam')).message).toMatch(/^\/nonexistent\/spam: expected a folder of the SpamAssassin corpus .*, got ENOENT$/);
    const dir = corpus({ 'spam-1': ['win'] });
    writeFileSync(join(dir, 'spam-1', '00009.json'), '{ not json');
    expect(thrownInput(() => readEmails(dir)).field).toBe(join(dir, 'spam-1', '00009.json'));
    const dir2 = corpus({ 'easy-ham-1': [] });
    writeFileSync(join(dir2, 'easy-ham-1', '00001.json'), JSON.stringify({ group: 'easy-ham-1', text: 3 }));
    expect(thrownInput(() => readEmails(dir2)).message).toBe(`${join(dir2, 'easy-ham-1', '00001.json')} text: expected a string (the raw e-mail), got number`);
    expect(thrownInput(() => readEmails(corpus({}))).message).toMatch(/expected folders of JSON e-mails/);
  });

  it('bodies without headers; characters lower-cased to ids, 0 for the rest; cut at the window, length at least 1', () => {
    expect(emailBody('From: a\r\nTo: b\r\n\r\nHello\n\nthere')).toBe('Hello\n\nthere');
    const v = new Vocabulary(BASIC_CHARS);
    const ids = new Int32Array(6);
    expect(v.encode('Hi! ©x', 6, ids)).toBe(6);
    expect(Array.from(ids)).toEqual([BASIC_CHARS.indexOf('h') + 1, BASIC_CHARS.indexOf('i') + 1, BASIC_CHARS.indexOf('!') + 1, 1, 0, BASIC_CHARS.indexOf('x') + 1]);
    expect(v.decode(ids)).toBe('hi! \u00b7x');
    const e = encodeEmails([{ file: 'a', spam: true, body: 'abcdef' }, { file: 'b', spam: false, body: '' }], v, 4);
    expect(Array.from(e.lengths)).toEqual([4, 1]);
    expect(Array.from(e.y)).toEqual([1, 0]);
  });
});

describe.skipIf(!device)('spam: training', () => {
  it('learns a synthetic corpus: test accuracy far above the majority class', async () => {
    const r = new Random(3);
    const words = ['meeting', 'tomorrow', 'the', 'patch', 'list', 'thanks', 'code', 'review'];
    const pick = (w: string[], n: number) => Array.from({ length: n }, () => w[Math.floor(r.next() * w.length)]).join(' ');
    const dir = corpus({
      'easy-ham-1': Array.from({ length: 140 }, () => pick(words, 4)),
      'spam-1': Array.from({ length: 60 }, () => `$$$ ${pick(words, 3)}`),
    });
    const args = parseTrainArgs(['--task', 'spam', '--data', dir, '--window', '12', '--units', '16', '--batch', '32', '--epochs', '12', '--lr', '0.01']) as TrainArgs;
    const lines: string[] = [];
    const { code, json } = await trainSpam(device!, args, (l) => lines.push(l));
    console.info(lines.at(-1));
    expect(code).toBe(0);
    expect(json.majority_accuracy as number).toBeGreaterThan(0.5);
    expect(json.test_accuracy as number).toBeGreaterThan(0.95);
  }, 120_000);
});

describe.skipIf(!device)('default batch sizes fit the device', () => {
  it("evaluate and predict halve their default batch until it fits (a GRU over 200 steps at 1000 passes lavapipe's binding limit)", async () => {
    const { Sequential, SequenceDataset, layers } = await import('../src/node/index.js');
    const d = device!;
    const T = 200, n = 1000, V = 8;
    const model = new Sequential(d, { inputs: V, layers: [layers.rnn({ units: 64, cell: 'gru' }), layers.dense({ units: 2 })], loss: 'softmax-cross-entropy' });
    const limit = Math.min(d.limits.maxStorageBufferBindingSize, d.limits.maxBufferSize);
    if (T * n * 3 * 64 * 4 <= limit) return; // a device whose binding limit holds it all: nothing to halve
    const x = Int32Array.from({ length: n * T }, (_, k) => k % V);
    const data = await SequenceDataset.fromArrays(d, { x, y: Int32Array.from({ length: n }, (_, i) => i % 2), steps: T, inputs: V, classes: 2 });
    try {
      const r = await model.evaluate(data);
      expect(Number.isFinite(r.loss)).toBe(true);
      await expect(model.evaluate(data, { batchSize: 1000 })).rejects.toThrow(/^batchSize: expected a size whose buffers and dispatches fit this device/);
    } finally {
      model.destroy();
      data.destroy();
    }
  }, 120_000);
});
