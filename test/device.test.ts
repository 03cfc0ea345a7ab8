// Device acquisition and GPU error reporting.
import { describe, expect, it } from 'vitest';
import { getDevice as browserGetDevice, GpuError, adapterName } from '../src/index.js';
import { kernel } from '../src/gpu/shader.js';
import { getDevice } from '../src/node/index.js';
import { testDevice } from './helpers.js';

const device = await testDevice();

describe('getDevice', () => {
  it('the browser entry without navigator.gpu says what to use instead', async () => {
    await expect(browserGetDevice()).rejects.toThrow(/WebGPU is not available here \(navigator\.gpu is missing\).*webgpu-rnn\/node/);
  });
  it('an adapter that does not exist: says what was tried and what to install', async () => {
    const error = await getDevice({ adapter: 'no-such-adapter-xyz', log: () => {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpuError);
    expect((error as Error).message).toMatch(/no WebGPU adapter found\. Tried: Dawn adapter named 'no-such-adapter-xyz'\. Install .*mesa-vulkan-drivers.*WEBGPU_RNN_ADAPTER/);
  });
  it.skipIf(!device)('prints one line naming the adapter', async () => {
    const lines: string[] = [];
    const d = await getDevice({ log: (l) => lines.push(l) });
    try {
      expect(lines).toEqual([`webgpu-rnn: using adapter ${adapterName(d)}`]);
      expect(adapterName(d)).toMatch(/\S+\/\S+/);
    } finally {
      d.destroy();
    }
  });
});

describe.skipIf(!device)('shader compile errors', () => {
  it('are thrown with line:column and the offending source line', async () => {
    const code = 'const a: f32 = 1.0;\n@compute @workgroup_size(1) fn main() {\n  let b = undefinedThing;\n}\n';
    const error = await kernel(device!, 'broken', code, 'main', []).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpuError);
    expect((error as Error).message).toMatch(/^broken: .*\n[\s\S]*error at 3:\d+: .*undefinedThing[\s\S]*\n {2} {2}let b = undefinedThing;/);
  });
});
