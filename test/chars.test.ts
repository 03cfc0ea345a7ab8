// --task chars: the Brown corpus reader on the installed package and on missing and malformed files, the stream
// layout of stateful training, the unigram baseline by hand, and a tiny run on the corpus's first characters that
// must learn (its loss far below its start, test bits per character below the unigram distribution's), then sampling
// from its checkpoint: characters of the vocabulary, the same for the same seed.
import { digitModelConfig } from '../src/data/digits.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CharVocabulary, UNKNOWN_CHAR } from '../src/data/brown.js';
import { brownDirectory, loadChars, readBrown, streamWindows, trainChars, unigramBits } from '../src/node/task-chars.js';
import { parseTrainArgs, type TrainArgs } from '../src/node/train.js';
import { testDevice, thrownInput } from './helpers.js';

const device = await testDevice();

describe('chars: the data', () => {
  it('reads the installed corpus: 500 files, the tags stripped', () => {
    const { text, files } = readBrown(brownDirectory());
    expect(files).toBe(500);
    expect(text.startsWith('The Fulton County Grand Jury said Friday an investigation of Atlanta\'s recent primary election produced "no evidence" that any irregularities took place.\n')).toBe(true);
    expect(text.length).toBeGreaterThan(5_500_000);
    expect(text).not.toMatch(/\/(at|nn|vbd|np-tl)\b/);
    expect(readBrown(brownDirectory(), 1000)).toEqual({ text: text.slice(0, 1000), files: 1 });
  });

  it('names the folder or file, the line and the fault', () => {
    expect(thrownInput(() => readBrown('/nonexistent/brown')).message).toBe('/nonexistent/brown: expected a folder of the Brown corpus (files ca01 .. cr09), got ENOENT');
    const dir = mkdtempSync(join(tmpdir(), 'brown-'));
    expect(thrownInput(() => readBrown(dir)).actual).toBe('no such files');
    writeFileSync(join(dir, 'ca01'), '\tThe/at jury/nn ./.\n\n\tIt/pps said/vbd\n');
    writeFileSync(join(dir, 'ca02'), '\tThe/at jury/nn\n\n\n\tsaid/vbd it/pps was untagged/jj\n');
    expect(thrownInput(() => readBrown(dir)).message).toBe(`${join(dir, 'ca02')} line 4: expected tokens word/tag (the tagged Brown corpus), got "was"`);
    writeFileSync(join(dir, 'ca02'), '\n\n');
    expect(thrownInput(() => readBrown(dir)).message).toBe(`${join(dir, 'ca02')}: expected tagged sentences of the Brown corpus, got no text`);
    expect(readBrown(dir, 10)).toEqual({ text: 'The jury.\n', files: 1 });
  });

  it('lays the text out as streams: row b of window w + 1 goes on from row b of window w', () => {
    const ids = Int32Array.from({ length: 23 }, (_, i) => i);
    // S = 2 streams of L = 11: [0, 11) and [11, 22); W = floor(10 / 3) = 3 windows of T = 3.
    const s = streamWindows(ids, 2, 3);
    expect(s.windows).toBe(3);
    expect([...s.x]).toEqual([0, 1, 2, 11, 12, 13, 3, 4, 5, 14, 15, 16, 6, 7, 8, 17, 18, 19]);
    expect([...s.y]).toEqual([1, 2, 3, 12, 13, 14, 4, 5, 6, 15, 16, 17, 7, 8, 9, 18, 19, 20]);
    expect(thrownInput(() => streamWindows(ids, 4, 6)).message).toBe('text: expected at least 29 characters for 4 streams of windows of 6 (--batch, --window), got 23');
  });

  it('scores the unigram baseline in bits, add-one smoothed', () => {
    // counts + 1: [3, 2, 1] of 6; targets 0 and 2: -(log2(3/6) + log2(1/6)) / 2.
    expect(unigramBits(Int32Array.of(0, 0, 1), Int32Array.of(0, 2), 3)).toBeCloseTo((1 + Math.log2(6)) / 2, 12);
  });

  it('takes its flags, and refuses them for other tasks', () => {
    expect(parseTrainArgs(['--task', 'chars', '--layers', '2', '--window', '64', '--temperature', '0.5', '--prompt', 'It was', '--sample-chars', '50', '--limit', '1000', '--load', 'c.safetensors']))
      .toMatchObject({ task: 'chars', layers: 2, window: 64, temperature: 0.5, prompt: 'It was', sampleChars: 50, limit: 1000, load: 'c.safetensors' });
    expect(() => parseTrainArgs(['--task', 'spam', '--temperature', '1'])).toThrow('--temperature is for --task chars');
    expect(parseTrainArgs(['--task', 'prices', '--layers', '3'])).toMatchObject({ task: 'prices', layers: 3 }); // any task
    expect(() => parseTrainArgs(['--layers', '2'])).toThrow('--layers is for --task NAME');
    expect(digitModelConfig({ units: 8, learningRate: 0.01, seed: 1, stack: 2 }).layers.map((l) => l.type)).toEqual(['repeat', 'rnn', 'rnn', 'dense']);
    expect(() => parseTrainArgs(['--sample-chars', '5'])).toThrow('--sample-chars is for --task chars');
    expect(() => parseTrainArgs(['--task', 'chars', '--temperature', '0'])).toThrow('--temperature expects a positive number, got 0');
  });
});

describe.skipIf(!device)('chars: training', () => {
  const d = device!;
  it('learns the first 24,000 characters: loss far below its start, test bits per character below the unigram', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chars-'));
    const save = join(dir, 'chars.safetensors');
    const lines: string[] = [];
    const args: TrainArgs = {
      ...(parseTrainArgs(['--task', 'chars', '--limit', '24000', '--epochs', '2', '--units', '32', '--window', '16', '--batch', '8', '--lr', '0.01', '--sample-chars', '20', '--seed', '3']) as TrainArgs),
      save,
    };
    const { code, json } = await trainChars(d, args, (l) => lines.push(l));
    expect(code).toBe(0);
    const bits = json.test_bits_per_char as number, unigram = json.unigram_bits_per_char as number;
    expect(json.steps).toBe(2 * 168); // 21600 training characters: 8 streams of 2699, 168 windows of 16
    // The first chunk's mean (its first 20 steps) already fell from log2(71) = 6.15 bits at the start.
    const [, last, first] = /train ([\d.]+) bits\/char \(first chunk ([\d.]+)\)/.exec(lines.find((l) => l.startsWith('epoch 2/2'))!)!.map(Number);
    expect(last!, lines.join('\n')).toBeLessThan(Math.min(first! - 1.2, Math.log2(json.vocabulary as number) - 2.5));
    expect(bits, lines.join('\n')).toBeLessThan(unigram - 0.6);
    expect(unigram).toBeGreaterThan(4);

    // Sampling from the checkpoint: the vocabulary's characters, the same for the same seed, another for another.
    const { model, vocabulary } = loadChars(d, readFileSync(save), save);
    model.destroy();
    const sample = async (seed: number) => (await trainChars(d, { ...args, save: undefined, load: save, seed, prompt: 'It ' }, () => {})).json.samples as string[];
    const a = await sample(5);
    expect(a).toHaveLength(3);
    for (const s of a) {
      expect(s.startsWith('It ')).toBe(true);
      expect([...s.slice(3)].length).toBe(20);
      for (const c of s.slice(3)) expect(vocabulary.chars.includes(c) || c === UNKNOWN_CHAR, c).toBe(true);
    }
    expect(await sample(5)).toEqual(a);
    expect(await sample(6)).not.toEqual(a);
  }, 120_000);

  it('refuses a checkpoint without a vocabulary', async () => {
    const { Sequential, layers } = await import('../src/node/index.js');
    const m = new Sequential(d, { inputs: 3, loss: 'softmax-cross-entropy', layers: [layers.rnn({ units: 2, returnSequences: true }), layers.dense({ units: 3 })] });
    const bytes = m.save();
    m.destroy();
    expect(thrownInput(() => loadChars(d, bytes, 'plain.safetensors')).message).toBe('plain.safetensors metadata.vocabulary: expected the JSON of a character vocabulary (a checkpoint of --task chars), got none');
    const other = new Sequential(d, { inputs: 3, loss: 'softmax-cross-entropy', layers: [layers.rnn({ units: 2, returnSequences: true }), layers.dense({ units: 3 })] });
    const wrong = other.save({ vocabulary: JSON.stringify(new CharVocabulary('abcd')) });
    other.destroy();
    expect(thrownInput(() => loadChars(d, wrong, 'w')).message).toBe('w: expected a model of 5 inputs (its vocabulary\'s size), got 3');
  });
});
