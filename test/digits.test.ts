// --task digits: the arrays, the mean-image baseline by hand, the PNG writer read back through zlib, the flags, and a
// small training run on real MNIST images that must draw closer to the test images than the mean image does.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, grayPng } from '../src/node/png.js';
import { digitArrays, meanImageMse, trainDigits } from '../src/node/task-digits.js';
import { parseTrainArgs, type TrainArgs } from '../src/node/train.js';
import { testDevice } from './helpers.js';

const device = await testDevice();

describe('digits: the data and the PNG', () => {
  it('a class one-hot in, its image rows scaled to [0, 1] out; the mean image baseline by hand', () => {
    const P = 28 * 28;
    const images = Uint8Array.from({ length: 3 * P }, (_, k) => (k < P ? 255 : k < 2 * P ? 0 : 51));
    const { n, x, y } = digitArrays(images, Uint8Array.of(7, 0, 3), 2);
    expect(n).toBe(2);
    expect(Array.from(x.subarray(0, 10))).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
    expect(x[10]).toBe(1);
    expect([y[0], y[P]]).toEqual([1, 0]);
    // Train images all 1 and all 0: mean 0.5; a test image of 0.2 everywhere is 0.3 away at every pixel.
    expect(meanImageMse(y, new Float32Array(P).fill(0.2))).toBeCloseTo(0.09, 6);
  });

  it('grayPng: the PNG signature, chunks with their CRCs, and the rows behind filter byte 0', () => {
    expect(crc32(Buffer.from('IEND'))).toBe(0xae426082);
    const pixels = Uint8Array.from({ length: 3 * 2 }, (_, k) => k * 40);
    const png = grayPng(pixels, 3, 2);
    expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const view = new DataView(png.buffer, png.byteOffset);
    expect(Buffer.from(png.subarray(12, 16)).toString()).toBe('IHDR');
    expect([view.getUint32(16), view.getUint32(20), png[24], png[25]]).toEqual([3, 2, 8, 0]); // 3 x 2, 8-bit gray
    const idatLength = view.getUint32(33);
    expect(Buffer.from(png.subarray(37, 41)).toString()).toBe('IDAT');
    expect(view.getUint32(41 + idatLength)).toBe(crc32(png.subarray(37, 41 + idatLength)));
    expect(Array.from(inflateSync(png.subarray(41, 41 + idatLength)))).toEqual([0, 0, 40, 80, 0, 120, 160, 200]);
    expect(() => grayPng(pixels, 4, 2)).toThrow(/6 pixels for 4 x 2/);
  });

  it('--task digits takes --limit and --sample; --sample is its alone', () => {
    expect(parseTrainArgs(['--task', 'digits', '--limit', '500', '--sample', 'd.png'])).toMatchObject({ task: 'digits', limit: 500, sample: 'd.png' });
    expect(() => parseTrainArgs(['--sample', 'd.png'])).toThrow('--sample is for --task digits');
    expect(() => parseTrainArgs(['--task', 'spam', '--limit', '5'])).toThrow('--limit is for the MNIST task for now');
  });
});

describe.skipIf(!device)('digits: training', () => {
  it('draws closer to the test images than the mean image after a little training, and writes its sample', async () => {
    const sample = join(mkdtempSync(join(tmpdir(), 'digits-')), 'd.png');
    const args = parseTrainArgs(['--task', 'digits', '--limit', '2000', '--units', '32', '--batch', '50', '--epochs', '10', '--lr', '0.005', '--sample', sample]) as TrainArgs;
    const lines: string[] = [];
    const { code, json } = await trainDigits(device!, args, (l) => lines.push(l));
    console.info(lines.at(-2));
    expect(code).toBe(0);
    expect(json.test_mse as number).toBeLessThan(0.97 * (json.mean_image_mse as number));
    expect(Array.from(readFileSync(sample).subarray(1, 4))).toEqual([80, 78, 71]); // 'PNG'
  }, 120_000);
});
