// Reader for the MNIST IDX files (http://yann.lecun.com/exdb/mnist/). Works on bytes already in memory, so it runs
// in browsers and in Node alike; reading the file (fetch, fs) is the caller's job.
//
// Layout, all integers big-endian u32:
//   images (magic 0x00000803): [magic, count, rows, cols] then count*rows*cols u8 pixels, row-major [count, rows, cols]
//   labels (magic 0x00000801): [magic, count]             then count u8 labels
// The files are distributed gzipped (*.gz); they must be decompressed before they reach this module.
import { InputError } from '../errors.js';

export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

const IMAGE_HEADER_BYTES = 16;
const LABEL_HEADER_BYTES = 8;

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** count*rows*cols bytes, row-major [count, rows, cols]; a view into the bytes given to parseIdxImages. */
  pixels: Uint8Array;
}

export interface IdxLabels {
  count: number;
  /** count bytes, one class index per image; a view into the bytes given to parseIdxLabels. */
  labels: Uint8Array;
}

/** Parses an IDX image file (train-images-idx3-ubyte, t10k-images-idx3-ubyte). `name` labels every error. */
export function parseIdxImages(bytes: Uint8Array, name: string): IdxImages {
  const what = `an IDX image file (magic ${hex(IDX_IMAGES_MAGIC)})`;
  const view = readHeader(bytes, name, what, IDX_IMAGES_MAGIC, IMAGE_HEADER_BYTES);
  const count = view.getUint32(4, false);
  const rows = view.getUint32(8, false);
  const cols = view.getUint32(12, false);
  if (rows === 0 || cols === 0) {
    throw new InputError(name, `${what} with images of at least 1x1 pixels`, `${rows}x${cols} (rows x cols) in the header`);
  }
  const pixelCount = count * rows * cols;
  checkLength(bytes, name, IMAGE_HEADER_BYTES, pixelCount, `${count} images of ${rows}x${cols} pixels`);
  return { count, rows, cols, pixels: bytes.subarray(IMAGE_HEADER_BYTES, IMAGE_HEADER_BYTES + pixelCount) };
}

/**
 * Parses an IDX label file (train-labels-idx1-ubyte, t10k-labels-idx1-ubyte). Every label must be below `classes`
 * (10 for MNIST), so a bad file fails here rather than as an out-of-range index on the GPU later.
 */
export function parseIdxLabels(bytes: Uint8Array, name: string, classes = 10): IdxLabels {
  if (!Number.isInteger(classes) || classes < 1 || classes > 256) {
    throw new InputError('classes', 'an integer from 1 to 256 (labels are single bytes)', String(classes));
  }
  const what = `an IDX label file (magic ${hex(IDX_LABELS_MAGIC)})`;
  const view = readHeader(bytes, name, what, IDX_LABELS_MAGIC, LABEL_HEADER_BYTES);
  const count = view.getUint32(4, false);
  checkLength(bytes, name, LABEL_HEADER_BYTES, count, `${count} labels`);
  const labels = bytes.subarray(LABEL_HEADER_BYTES, LABEL_HEADER_BYTES + count);
  for (let i = 0; i < count; i++) {
    if (labels[i]! >= classes) {
      throw new InputError(name, `labels from 0 to ${classes - 1} (${classes} classes)`, `label ${labels[i]} at index ${i}`);
    }
  }
  return { count, labels };
}

/** Throws unless an image file and a label file describe the same number of examples. */
export function checkPair(images: { count: number }, labels: { count: number }, name: string): void {
  if (images.count !== labels.count) {
    throw new InputError(name, `as many labels as images (${images.count})`, `${labels.count} labels`);
  }
}

/** Checks the header is all there and starts with `magic`; returns a DataView over the header for the caller. */
function readHeader(bytes: Uint8Array, name: string, what: string, magic: number, headerBytes: number): DataView {
  if (!(bytes instanceof Uint8Array)) {
    throw new InputError(name, `${what} as a Uint8Array`, describe(bytes));
  }
  // A gzipped file is the common mistake (the MNIST downloads are *.gz): say so before anything else.
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new InputError(name, what, 'gzip data: decompress it first');
  }
  if (bytes.length < headerBytes) {
    throw new InputError(name, `${what} of at least ${headerBytes} bytes (its header)`, `${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, headerBytes);
  const found = view.getUint32(0, false);
  if (found !== magic) {
    const hint = found === IDX_IMAGES_MAGIC ? ' (an IDX image file)' : found === IDX_LABELS_MAGIC ? ' (an IDX label file)' : '';
    throw new InputError(name, what, `magic ${hex(found)}${hint}`);
  }
  return view;
}

/** The file must be exactly header + payload bytes: shorter is a truncated download, longer is not this format. */
function checkLength(bytes: Uint8Array, name: string, headerBytes: number, payloadBytes: number, contents: string): void {
  const expected = headerBytes + payloadBytes;
  if (bytes.length !== expected) {
    const problem = bytes.length < expected ? `${expected - bytes.length} bytes missing: truncated` : `${bytes.length - expected} trailing bytes`;
    throw new InputError(name, `${expected} bytes (${headerBytes}-byte header + ${contents})`, `${bytes.length} bytes (${problem})`);
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  return (value as object).constructor?.name ?? typeof value;
}
