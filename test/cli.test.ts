// `npm run train`: flag parsing, a tiny end-to-end run through the built CLI, bad flags, and the checkpoint it saves.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SequenceClassifier } from '../src/node/index.js';
import { saveOrRescue, whyNotWritable } from '../src/node/files.js';
import { parseTrainArgs, writeFileAtomic } from '../src/node/train.js';
import { tuningCachePath } from '../src/node/tuning-cache.js';
import { testDevice } from './helpers.js';

const device = await testDevice();

describe('parseTrainArgs', () => {
  it('defaults are the lecture recipe', () => {
    expect(parseTrainArgs([])).toEqual({ epochs: 1, units: 150, cell: 'tanh', batch: 150, lr: 0.001, seed: 1, json: false, tune: true, retune: false });
  });
  it('reads every flag', () => {
    expect(parseTrainArgs(['--epochs', '3', '--limit', '500', '--units', '32', '--cell', 'lstm', '--batch', '50', '--lr', '3e-3', '--seed', '0', '--save', 'm.safetensors', '--json', '--adapter', 'lavapipe', '--no-tune', '--retune']))
      .toEqual({ epochs: 3, limit: 500, units: 32, cell: 'lstm', batch: 50, lr: 0.003, seed: 0, save: 'm.safetensors', json: true, adapter: 'lavapipe', tune: false, retune: true });
    expect(parseTrainArgs(['--help'])).toBe('help');
  });
  it('rejects bad flags, naming them', () => {
    expect(() => parseTrainArgs(['--epochs', '0'])).toThrow('--epochs expects an integer >= 1, got 0');
    expect(() => parseTrainArgs(['--units', '1.5'])).toThrow('--units expects an integer >= 1, got 1.5');
    expect(() => parseTrainArgs(['--batch'])).toThrow('--batch expects an integer >= 1, got nothing');
    expect(() => parseTrainArgs(['--lr', '-1'])).toThrow('--lr expects a positive number, got -1');
    expect(() => parseTrainArgs(['--lr', 'fast'])).toThrow('--lr expects a positive number, got fast');
    expect(() => parseTrainArgs(['--clip-norm', '0'])).toThrow('--clip-norm expects a positive number, got 0');
    expect(parseTrainArgs(['--clip-norm', '1.5'])).toMatchObject({ clipNorm: 1.5 });
    expect(() => parseTrainArgs(['--save', '--json'])).toThrow('--save expects a file name, got --json');
    expect(() => parseTrainArgs(['--epoch', '1'])).toThrow('unknown option --epoch');
    expect(() => parseTrainArgs(['--cell', 'peephole'])).toThrow('--cell expects tanh, lstm or gru, got peephole');
  });
  it('--seed takes any safe integer, as the model does', () => {
    for (const seed of [2 ** 32, 2 ** 40, Number.MAX_SAFE_INTEGER, -1, Number.MIN_SAFE_INTEGER]) {
      expect((parseTrainArgs(['--seed', String(seed)]) as { seed: number }).seed).toBe(seed);
    }
    expect(() => parseTrainArgs(['--seed', '9007199254740992'])).toThrow('--seed expects an integer from -9007199254740991 to 9007199254740991, got 9007199254740992');
    expect(() => parseTrainArgs(['--seed', '1e300'])).toThrow('--seed expects an integer');
    expect(() => parseTrainArgs(['--seed', '1.5'])).toThrow('--seed expects an integer');
  });
  it('--checkpoint-every takes steps (200) or minutes (5m); --checkpoint only with it; --resume a file', () => {
    expect(parseTrainArgs(['--checkpoint-every', '200'])).toMatchObject({ checkpointEvery: { steps: 200 } });
    expect(parseTrainArgs(['--checkpoint-every', '5m', '--checkpoint', 'c.safetensors'])).toMatchObject({ checkpointEvery: { minutes: 5 }, checkpoint: 'c.safetensors' });
    expect(parseTrainArgs(['--checkpoint-every', '0.5m'])).toMatchObject({ checkpointEvery: { minutes: 0.5 } });
    expect(parseTrainArgs(['--resume', 'c.safetensors'])).toMatchObject({ resume: 'c.safetensors' });
    for (const bad of ['0', '0m', '5s', 'm', '1.5', '-3']) {
      expect(() => parseTrainArgs(['--checkpoint-every', bad])).toThrow(`--checkpoint-every expects a number of steps (200) or of minutes (5m), got ${bad}`);
    }
    expect(() => parseTrainArgs(['--checkpoint', 'c.safetensors'])).toThrow('--checkpoint names where --checkpoint-every writes: give both');
    expect(() => parseTrainArgs(['--resume'])).toThrow('--resume expects a file name, got nothing');
  });
});

describe('writeFileAtomic', () => {
  it('writes through a temporary file and leaves none behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnn-'));
    writeFileAtomic(join(dir, 'a.bin'), new Uint8Array([1, 2, 3]));
    expect(readdirSync(dir)).toEqual(['a.bin']);
    expect(Array.from(readFileSync(join(dir, 'a.bin')))).toEqual([1, 2, 3]);
  });
  it('onto a directory: throws, and leaves no temporary file behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnn-'));
    mkdirSync(join(dir, 'taken'));
    expect(() => writeFileAtomic(join(dir, 'taken'), new Uint8Array([1]))).toThrow();
    expect(readdirSync(dir)).toEqual(['taken']);
  });
});

describe('whyNotWritable and saveOrRescue', () => {
  it('name a missing directory, a directory in the way, and nothing for a writable path (leaving no probe behind)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnn-'));
    mkdirSync(join(dir, 'sub'));
    expect(whyNotWritable(join(dir, 'missing', 'm.safetensors'))).toBe(`the directory ${join(dir, 'missing')} does not exist`);
    expect(whyNotWritable(join(dir, 'sub'))).toBe(`${join(dir, 'sub')} is a directory`);
    writeFileSync(join(dir, 'file'), '');
    expect(whyNotWritable(join(dir, 'file', 'm.safetensors'))).toBe(`${join(dir, 'file')} is not a directory`);
    expect(whyNotWritable(join(dir, 'm.safetensors'))).toBeUndefined();
    expect(readdirSync(dir).sort()).toEqual(['file', 'sub']);
  });
  it('a save that fails keeps the bytes in a rescue file and says why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnn-'));
    const rescueDir = mkdtempSync(join(tmpdir(), 'rnn-rescue-'));
    expect(saveOrRescue(join(dir, 'ok.bin'), new Uint8Array([4]), [rescueDir])).toEqual({ path: join(dir, 'ok.bin') });
    const saved = saveOrRescue(join(dir, 'missing', 'm.bin'), new Uint8Array([1, 2]), [join(dir, 'also-missing'), rescueDir]);
    expect(saved.error?.message).toMatch(/ENOENT/);
    expect(saved.path).toMatch(new RegExp(`^${rescueDir}/webgpu-rnn-rescue-\\d{4}-\\d\\d-\\d\\dT[\\d-]+Z\\.safetensors$`));
    expect(Array.from(readFileSync(saved.path))).toEqual([1, 2]);
    expect(() => saveOrRescue(join(dir, 'missing', 'm.bin'), new Uint8Array([1]), [join(dir, 'also-missing')])).toThrow(/could not write .*m\.bin \(.*ENOENT.*\), nor a rescue copy in /);
  });
});

describe('the tuning cache file', () => {
  it('lives in $WEBGPU_RNN_CACHE, else $XDG_CACHE_HOME/webgpu-rnn, else ~/.cache/webgpu-rnn', () => {
    expect(tuningCachePath({ WEBGPU_RNN_CACHE: '/c', XDG_CACHE_HOME: '/x' })).toBe('/c/tuning.json');
    expect(tuningCachePath({ XDG_CACHE_HOME: '/x' })).toBe('/x/webgpu-rnn/tuning.json');
    expect(tuningCachePath({})).toMatch(/\/\.cache\/webgpu-rnn\/tuning\.json$/);
  });
});

describe.skipIf(!device)('the train command', () => {
  beforeAll(() => {
    execFileSync('npm', ['run', '-s', 'build:lib'], { stdio: 'pipe' });
  });

  it('trains a tiny model, prints progress, the test accuracy and one JSON line, and saves a loadable checkpoint', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnn-'));
    const file = join(dir, 'model.safetensors');
    const run = spawnSync('node', ['dist/train.js', '--epochs', '2', '--limit', '300', '--units', '8', '--batch', '100', '--json', '--no-tune', '--save', file], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/webgpu-rnn: using adapter \S+/);
    expect(run.stderr).toMatch(/epoch 1\/2 \[#+\.*\] \d+\/3 steps .* seq\/s .*loss \d/);
    expect(run.stderr).toMatch(/epoch 2\/2: test accuracy 0\.\d+, test loss \d/);
    expect(run.stderr).not.toMatch(/autotune:/);
    const json = JSON.parse(run.stdout.trim().split('\n').pop()!);
    expect(Object.keys(json)).toEqual(['epochs', 'cell', 'units', 'train_seconds', 'seq_per_s', 'test_accuracy', 'test_loss', 'adapter']);
    expect(json.epochs).toBe(2);
    expect(json.seq_per_s).toBeGreaterThan(0);
    expect(json.test_accuracy).toBeGreaterThanOrEqual(0);
    expect(existsSync(file)).toBe(true);
    const model = SequenceClassifier.load(device!, new Uint8Array(readFileSync(file)));
    expect(model.config.units).toBe(8);
    expect(model.step).toBe(6);
    model.destroy();
  });

  it('keeps the tuner choices for the next run on the adapter; a damaged file means timing again and rewriting it', () => {
    const cache = mkdtempSync(join(tmpdir(), 'rnn-cache-'));
    const file = join(cache, 'tuning.json');
    const train = (...extra: string[]) => spawnSync('node', ['dist/train.js', '--limit', '200', '--units', '8', '--batch', '100', ...extra],
      { encoding: 'utf8', env: { ...process.env, WEBGPU_RNN_CACHE: cache } });
    const first = train();
    expect(first.status, first.stderr).toBe(0);
    // Kernels this small are not timed (under SMALL_WORK multiply-adds); the split reductions over 2800 rows are.
    expect(first.stderr).toMatch(/autotune: timing rnn\.dWh 8x8x2800 transA in \d variants \(kernel shape \d+;/);
    expect(first.stderr).not.toMatch(/autotune: timing rnn\.forwardStep/);
    expect(first.stderr).not.toMatch(/as an earlier run/);
    // The choices print before training starts.
    const choices = first.stderr.search(/autotune: rnn\.dWh 8x8x2800 transA: \d+ slices? [\d.]+ ms \(default /);
    expect(choices).toBeGreaterThan(0);
    expect(choices).toBeLessThan(first.stderr.search(/^epoch 1\/1 \[/m));
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    expect(stored.format).toBe(1);
    const [key] = Object.keys(stored.adapters);
    expect(key).toMatch(/ \| tiles /);
    expect(stored.adapters[key!].map((c: { kernel: string }) => c.kernel)).toContain('rnn.dWh 8x8x2800 transA');

    const second = train();
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toMatch(new RegExp(`autotune: ${stored.adapters[key!].length} kernel shapes as an earlier run on this adapter timed them`));

    writeFileSync(file, '{"format": 1, "adapters": ');
    const damaged = train();
    expect(damaged.status, damaged.stderr).toBe(0);
    expect(damaged.stderr).toMatch(/autotune: ignoring .*tuning\.json \(.*\); timing the kernels and rewriting it/);
    expect(JSON.parse(readFileSync(file, 'utf8')).adapters[key!].length).toBeGreaterThan(0);
  }, 120_000);

  it('--save where it cannot write: exit code 2 and the reason, before any GPU work', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnn-'));
    const tiny = ['dist/train.js', '--limit', '60', '--units', '8', '--batch', '10', '--no-tune'];
    const missing = spawnSync('node', [...tiny, '--save', join(dir, 'missing', 'm.safetensors')], { encoding: 'utf8' });
    expect(missing.status, missing.stderr).toBe(2);
    expect(missing.stderr).toContain(`train: --save cannot write ${join(dir, 'missing', 'm.safetensors')}: the directory ${join(dir, 'missing')} does not exist`);
    expect(missing.stderr).not.toContain('using adapter');
    const directory = spawnSync('node', [...tiny, '--save', dir], { encoding: 'utf8' });
    expect(directory.status, directory.stderr).toBe(2);
    expect(directory.stderr).toContain(`train: --save cannot write ${dir}: ${dir} is a directory`);
    expect(directory.stderr).not.toContain('using adapter');
    const checkpoint = spawnSync('node', [...tiny, '--checkpoint-every', '2', '--checkpoint', join(dir, 'missing', 'c.safetensors')], { encoding: 'utf8' });
    expect(checkpoint.status, checkpoint.stderr).toBe(2);
    expect(checkpoint.stderr).toContain(`train: --checkpoint-every cannot write ${join(dir, 'missing', 'c.safetensors')}: the directory`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('--checkpoint-every and --resume: a run resumed from its step-8 checkpoint (mid epoch 2) ends byte for byte as an uninterrupted one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnn-'));
    const file = (name: string) => join(dir, `${name}.safetensors`);
    // 60 images in batches of 10: 6 steps an epoch, 12 in all.
    const train = (...extra: string[]) => {
      const run = spawnSync('node', ['dist/train.js', '--epochs', '2', '--limit', '60', '--units', '8', '--batch', '10', '--no-tune', ...extra], { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      return run.stderr;
    };
    train('--save', file('whole'));
    const checkpointed = train('--checkpoint-every', '8', '--checkpoint', file('at8'), '--save', file('checkpointed'));
    expect(checkpointed).toContain(`checkpoint: step 8 in ${file('at8')}`);
    const at8 = SequenceClassifier.load(device!, new Uint8Array(readFileSync(file('at8'))));
    expect(at8.step).toBe(8);
    at8.destroy();
    const resumed = train('--resume', file('at8'), '--save', file('resumed'));
    expect(resumed).toContain(`resuming from ${file('at8')}: step 8, epoch 2 from its step 2`);
    expect(resumed).not.toMatch(/epoch 1\/2/);
    const whole = readFileSync(file('whole'));
    expect(readFileSync(file('checkpointed')).equals(whole)).toBe(true);
    expect(readFileSync(file('resumed')).equals(whole)).toBe(true);
    expect(SequenceClassifier.load(device!, new Uint8Array(whole)).step).toBe(12);

    // Another run's flags: refused before any GPU work; so is a file that is no checkpoint.
    const other = spawnSync('node', ['dist/train.js', '--epochs', '2', '--limit', '60', '--units', '8', '--batch', '20', '--no-tune', '--resume', file('at8')], { encoding: 'utf8' });
    expect(other.status).toBe(2);
    expect(other.stderr).toContain(`train: --resume ${file('at8')} was written by a run with --batch 10, this one has --batch 20: give the interrupted run's flags`);
    expect(other.stderr).not.toContain('using adapter');
    writeFileSync(file('junk'), 'not a checkpoint');
    const junk = spawnSync('node', ['dist/train.js', '--resume', file('junk')], { encoding: 'utf8' });
    expect(junk.status).toBe(2);
    expect(junk.stderr).toContain(`train: --resume ${file('junk')}: expected`);
  }, 240_000);

  it('bad flags: usage on stderr and exit code 2, before any GPU work', () => {
    const run = spawnSync('node', ['dist/train.js', '--units', 'many'], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('train: --units expects an integer >= 1, got many');
    expect(run.stderr).toContain('usage: npm run train -- [options]');
    expect(run.stderr).not.toContain('using adapter');
  });
});
