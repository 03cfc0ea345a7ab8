// Bad input is rejected before any GPU work, with an error naming the field, the expected and the actual value.
import { describe, expect, it } from 'vitest';
import { InputError, liveBufferCount, rnnBackward, rnnForward, type RnnParams } from '../src/index.js';
import { testDevice } from './helpers.js';

const device = await testDevice();

const good = (): RnnParams => ({
  batch: 2, steps: 3, inputs: 4, units: 5,
  x: new Float32Array(2 * 3 * 4), wx: new Float32Array(4 * 5), wh: new Float32Array(25), b: new Float32Array(5),
});

async function rejects(p: unknown, pattern: RegExp, field: string) {
  const before = liveBufferCount();
  const error = await rnnForward(device!, p as RnnParams).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(InputError);
  expect((error as InputError).message).toMatch(pattern);
  expect((error as InputError).field).toBe(field);
  expect(liveBufferCount()).toBe(before); // nothing was allocated, so nothing was computed
}

describe.skipIf(!device)('input validation', () => {
  it('a good call works (so the rejections below are about the field)', async () => {
    const { outputs, state } = await rnnForward(device!, good());
    expect(outputs.length).toBe(30);
    expect(state.length).toBe(10);
  });
  it('wrong array lengths name the field and both sizes', async () => {
    await rejects({ ...good(), x: new Float32Array(23) }, /^x: expected length 24 \[batch, steps, inputs\], got length 23$/, 'x');
    await rejects({ ...good(), wx: new Float32Array(21) }, /wx: expected length 20 \[inputs, units\], got length 21/, 'wx');
    await rejects({ ...good(), wh: new Float32Array(5) }, /wh: expected length 25/, 'wh');
    await rejects({ ...good(), b: new Float32Array(4) }, /b: expected length 5/, 'b');
    await rejects({ ...good(), h0: new Float32Array(5) }, /h0: expected length 10 \[batch, units\], got length 5/, 'h0');
    await rejects({ ...good(), lengths: new Int32Array(3) }, /lengths: expected length 2/, 'lengths');
  });
  it('wrong array types', async () => {
    await rejects({ ...good(), x: new Float64Array(24) }, /x: expected a Float32Array of length 24 .*, got Float64Array/, 'x');
    await rejects({ ...good(), x: Array(24).fill(0) }, /got Array/, 'x');
    await rejects({ ...good(), lengths: new Float32Array(2) }, /lengths: expected a Int32Array/, 'lengths');
    await rejects({ ...good(), wx: undefined }, /wx: expected a Float32Array .*got undefined/, 'wx');
  });
  it('lengths outside [0, steps]', async () => {
    await rejects({ ...good(), lengths: Int32Array.from([3, 4]) }, /lengths\[1\]: expected a value in \[0, 3\] \(steps\), got 4/, 'lengths[1]');
    await rejects({ ...good(), lengths: Int32Array.from([-1, 0]) }, /lengths\[0\]: .* got -1/, 'lengths[0]');
  });
  it('non-integer or non-positive sizes', async () => {
    await rejects({ ...good(), batch: 0 }, /batch: expected a positive integer, got 0/, 'batch');
    await rejects({ ...good(), steps: 2.5 }, /steps: expected a positive integer, got 2.5/, 'steps');
    await rejects({ ...good(), units: -5 }, /units: expected a positive integer, got -5/, 'units');
    await rejects({ ...good(), inputs: '4' }, /inputs: expected a positive integer, got string/, 'inputs');
    await rejects({ ...good(), inputs: NaN }, /inputs: expected a positive integer, got NaN/, 'inputs');
  });
  it("sizes beyond the device's limits", async () => {
    const limit = device!.limits.maxStorageBufferBindingSize;
    const units = Math.ceil(Math.sqrt(limit / 4)) + 1; // wh [units, units] passes the binding limit
    await rejects({ ...good(), units }, /^wh: expected at most \d+ bytes \(the device's storage binding limit\) for \[units, units\], got \d+ bytes$/, 'wh');
    const steps = Math.floor(limit / (4 * 2 * 5)) + 1;
    await rejects({ ...good(), steps }, /^hidden states: expected at most \d+ bytes .* for \[steps \+ 1, batch, units\], got \d+ bytes$/, 'hidden states');
  });
  it('bad gradients for rnnBackward', async () => {
    await expect(rnnBackward(device!, good(), { dOutputs: new Float32Array(29) })).rejects.toThrow(/dOutputs: expected length 30 \[batch, steps, units\], got length 29/);
    await expect(rnnBackward(device!, good(), { dState: new Float32Array(11) })).rejects.toThrow(/dState: expected length 10 \[batch, units\], got length 11/);
  });
});
