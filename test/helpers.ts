// Shared test helpers: one device per test file, seeded random data, and closeness checks that say where they fail.
import { afterAll, expect } from 'vitest';
import { Random } from '../src/random.js';
import { getDevice, ImageDataset, InputError, liveBufferCount, type BufferSet, type Program } from '../src/node/index.js';

/**
 * The software (or hardware) adapter, or null with a printed reason. Under CI (CI=true) or with REQUIRE_GPU=1 a
 * missing adapter is an error, so a machine without one cannot pass by skipping.
 */
export async function testDevice(): Promise<GPUDevice | null> {
  try {
    const device = await getDevice({ log: () => {} });
    afterAll(() => device.destroy());
    return device;
  } catch (error) {
    if (process.env.REQUIRE_GPU === '1' || process.env.CI === 'true') throw error;
    console.warn(`SKIPPING GPU tests: ${(error as Error).message}`);
    return null;
  }
}

/** Deterministic uniform numbers in [lo, hi), from the runtime's seeded Random. */
export function rng(seed: number) {
  const random = new Random(seed);
  const next = () => random.next();
  return {
    next,
    floats: (n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => lo + (hi - lo) * next()),
    ints: (n: number, lo: number, hi: number) => Int32Array.from({ length: n }, () => lo + Math.floor((hi - lo + 1) * next())),
  };
}

/**
 * Asserts |actual - expected| <= atol + rtol * |expected| everywhere; on failure names the array, its shape, the
 * worst index and the first mismatches.
 */
export function expectClose(name: string, actual: ArrayLike<number>, expected: ArrayLike<number>, shape: number[], atol = 1e-5, rtol = 1e-4): void {
  expect(actual.length, `${name}: length`).toBe(expected.length);
  let worst = -1, worstExcess = 0;
  const bad: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    const err = Math.abs(a - e);
    const excess = err - (atol + rtol * Math.abs(e));
    if (!(excess <= 0)) {
      if (bad.length < 5) bad.push(`[${unravel(i, shape)}] got ${a}, want ${e}`);
      if (!(excess <= worstExcess) || Number.isNaN(a)) { worst = i; worstExcess = Number.isNaN(a) ? Infinity : excess; }
    }
  }
  if (worst >= 0) {
    throw new Error(`${name} [${shape.join(', ')}]: ${bad.length}+ mismatches (atol ${atol}, rtol ${rtol}); worst at [${unravel(worst, shape)}]: ` +
      `got ${actual[worst]}, want ${expected[worst]}\n  ${bad.join('\n  ')}`);
  }
}

function unravel(i: number, shape: number[]): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) { idx.unshift(i % shape[d]!); i = Math.floor(i / shape[d]!); }
  return idx.join(', ');
}

/** Encodes each (program, bind group) in order in one compute pass and submits it. */
export function run(device: GPUDevice, ...work: Array<[Program, GPUBindGroup]>): void {
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  for (const [p, g] of work) p.encode(pass, g);
  pass.end();
  device.queue.submit([encoder.finish()]);
}

/** A storage buffer holding `data`, owned by `set`. */
export function upload(set: BufferSet, data: Float32Array | Int32Array, name = 'data'): GPUBuffer {
  const buffer = set.create(name, data.byteLength);
  set.device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

/** The InputError `work` fails with (failing the test if it does not), having checked that it allocated no buffer. */
/** The InputError `work` throws (synchronously); fails the test when it throws nothing or something else. */
export function thrownInput(work: () => unknown): InputError {
  let error: unknown;
  try {
    work();
  } catch (e) {
    error = e;
  }
  expect(error, 'an InputError').toBeInstanceOf(InputError);
  return error as InputError;
}

export async function rejectedInput(work: () => Promise<unknown> | unknown): Promise<InputError> {
  const before = liveBufferCount();
  let error: unknown;
  try {
    await work();
  } catch (e) {
    error = e;
  }
  expect(error, 'an InputError').toBeInstanceOf(InputError);
  expect(liveBufferCount(), 'nothing was allocated').toBe(before);
  return error as InputError;
}

/**
 * A data set of `count` random images of rows x cols bytes with random labels below `classes`, from `seed`, with the
 * host copies of its pixels and labels (for the references).
 */
export async function randomImages(device: GPUDevice, shape: { count: number; rows: number; cols: number; classes: number }, seed: number) {
  const { count, rows, cols, classes } = shape;
  const r = rng(seed);
  const pixels = Uint8Array.from({ length: count * rows * cols }, () => Math.floor(r.next() * 256));
  const labels = Uint8Array.from({ length: count }, () => Math.floor(r.next() * classes));
  const data = await ImageDataset.create(device, 'synthetic', { count, rows, cols, pixels }, { count, labels }, classes);
  return { data, pixels, labels };
}

/** Central differences of f at x (float64), one coordinate at a time. */
export function finiteDifference(x: Float64Array, f: (x: Float64Array) => number, eps = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i]!;
    x[i] = keep + eps; const up = f(x);
    x[i] = keep - eps; const down = f(x);
    x[i] = keep;
    g[i] = (up - down) / (2 * eps);
  }
  return g;
}
