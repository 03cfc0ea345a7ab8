// `npm run train`: flag parsing, a tiny end-to-end run through the built CLI, bad flags, and the checkpoint it saves.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SequenceClassifier } from '../src/node/index.js';
import { parseTrainArgs, writeFileAtomic } from '../src/node/train.js';
import { tuningCachePath } from '../src/node/tuning-cache.js';
import { testDevice } from './helpers.js';

const device = await testDevice();

describe('parseTrainArgs', () => {
  it('defaults are the lecture recipe', () => {
    expect(parseTrainArgs([])).toEqual({ epochs: 1, units: 150, batch: 150, lr: 0.001, seed: 1, json: false, tune: true, retune: false });
  });
  it('reads every flag', () => {
    expect(parseTrainArgs(['--epochs', '3', '--limit', '500', '--units', '32', '--batch', '50', '--lr', '3e-3', '--seed', '0', '--save', 'm.safetensors', '--json', '--adapter', 'lavapipe', '--no-tune', '--retune']))
      .toEqual({ epochs: 3, limit: 500, units: 32, batch: 50, lr: 0.003, seed: 0, save: 'm.safetensors', json: true, adapter: 'lavapipe', tune: false, retune: true });
    expect(parseTrainArgs(['--help'])).toBe('help');
  });
  it('rejects bad flags, naming them', () => {
    expect(() => parseTrainArgs(['--epochs', '0'])).toThrow('--epochs expects an integer >= 1, got 0');
    expect(() => parseTrainArgs(['--units', '1.5'])).toThrow('--units expects an integer >= 1, got 1.5');
    expect(() => parseTrainArgs(['--batch'])).toThrow('--batch expects an integer >= 1, got nothing');
    expect(() => parseTrainArgs(['--lr', '-1'])).toThrow('--lr expects a positive number, got -1');
    expect(() => parseTrainArgs(['--lr', 'fast'])).toThrow('--lr expects a positive number, got fast');
    expect(() => parseTrainArgs(['--save', '--json'])).toThrow('--save expects a file name, got --json');
    expect(() => parseTrainArgs(['--epoch', '1'])).toThrow('unknown option --epoch');
  });
  it('--seed takes any safe integer, as the model does', () => {
    for (const seed of [2 ** 32, 2 ** 40, Number.MAX_SAFE_INTEGER, -1, Number.MIN_SAFE_INTEGER]) {
      expect((parseTrainArgs(['--seed', String(seed)]) as { seed: number }).seed).toBe(seed);
    }
    expect(() => parseTrainArgs(['--seed', '9007199254740992'])).toThrow('--seed expects an integer from -9007199254740991 to 9007199254740991, got 9007199254740992');
    expect(() => parseTrainArgs(['--seed', '1e300'])).toThrow('--seed expects an integer');
    expect(() => parseTrainArgs(['--seed', '1.5'])).toThrow('--seed expects an integer');
  });
});

describe('writeFileAtomic', () => {
  it('writes through a temporary file and leaves none behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnn-'));
    writeFileAtomic(join(dir, 'a.bin'), new Uint8Array([1, 2, 3]));
    expect(readdirSync(dir)).toEqual(['a.bin']);
    expect(Array.from(readFileSync(join(dir, 'a.bin')))).toEqual([1, 2, 3]);
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
    expect(Object.keys(json)).toEqual(['epochs', 'train_seconds', 'seq_per_s', 'test_accuracy', 'test_loss', 'adapter']);
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
    expect(first.stderr).toMatch(/autotune: rnn\.forwardStep 100x8: /);
    expect(first.stderr).not.toMatch(/as an earlier run/);
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    expect(stored.format).toBe(1);
    const [key] = Object.keys(stored.adapters);
    expect(key).toMatch(/ \| tiles /);
    expect(stored.adapters[key!].map((c: { kernel: string }) => c.kernel)).toContain('rnn.forwardStep 100x8');

    const second = train();
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toMatch(new RegExp(`autotune: ${stored.adapters[key!].length} kernel shapes as an earlier run on this adapter timed them`));

    writeFileSync(file, '{"format": 1, "adapters": ');
    const damaged = train();
    expect(damaged.status, damaged.stderr).toBe(0);
    expect(damaged.stderr).toMatch(/autotune: ignoring .*tuning\.json \(.*\); timing the kernels and rewriting it/);
    expect(JSON.parse(readFileSync(file, 'utf8')).adapters[key!].length).toBeGreaterThan(0);
  }, 120_000);

  it('bad flags: usage on stderr and exit code 2, before any GPU work', () => {
    const run = spawnSync('node', ['dist/train.js', '--units', 'many'], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('train: --units expects an integer >= 1, got many');
    expect(run.stderr).toContain('usage: npm run train -- [options]');
    expect(run.stderr).not.toContain('using adapter');
  });
});
