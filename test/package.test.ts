// Packaging: the runtime has no Node-only imports, and after `npm run build` plain Node can import both entries.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { testDevice } from './helpers.js';

const device = await testDevice();
device?.destroy(); // only to learn whether an adapter exists; the child process opens its own

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
}

describe('packaging', () => {
  it('nothing in src/ outside src/node imports a Node module (the runtime ships to browsers)', () => {
    const offenders = files('src')
      .filter((f) => !f.startsWith(join('src', 'node')) && f.endsWith('.ts'))
      .filter((f) => /from\s+['"](node:|fs['"]|path['"]|url['"]|child_process|webgpu['"])/.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });

  describe('built', () => {
  beforeAll(() => {
    execFileSync('npm', ['run', 'build'], { stdio: 'pipe' });
  });

  it('emits JS and .d.ts for both entries', () => {
    for (const f of ['dist/index.js', 'dist/node.js', 'dist/types/index.d.ts', 'dist/types/node/index.d.ts']) expect(statSync(f).size).toBeGreaterThan(0);
    expect(readFileSync('dist/types/index.d.ts', 'utf8')).toMatch(/rnnForward/);
  });

  it('with no adapter at all, getDevice says what it tried and what to install', () => {
    const script = `const { getDevice } = await import('webgpu-rnn/node');
      try { await getDevice({ log: () => {} }); console.log('FOUND'); } catch (e) { console.log(e.name + ': ' + e.message); }`;
    const out = execFileSync('node', ['--input-type=module', '-e', script], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VK_ICD_FILENAMES: '/nonexistent/icd.json', WEBGPU_RNN_ADAPTER: '' },
    });
    expect(out).toMatch(/GpuError: no WebGPU adapter found\. Tried: Dawn's default adapters \(VK_ICD_FILENAMES=\/nonexistent\/icd\.json\)\. Install a GPU driver/);
  });

  it.skipIf(!device)('plain Node imports webgpu-rnn and webgpu-rnn/node and runs rnnForward', () => {
    const script = `
      const core = await import('webgpu-rnn');
      const node = await import('webgpu-rnn/node');
      if (typeof core.rnnForward !== 'function' || typeof core.getDevice !== 'function') throw new Error('core exports');
      const device = await node.getDevice({ log: () => {} });
      const r = await node.rnnForward(device, { x: new Float32Array([1, 2]), wx: new Float32Array([0.5]), wh: new Float32Array([0.25]),
        b: new Float32Array([0]), batch: 1, steps: 2, inputs: 1, units: 1 });
      console.log(JSON.stringify(Array.from(r.outputs)));
      device.destroy();`;
    const out = execFileSync('node', ['--input-type=module', '-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const outputs = JSON.parse(out.trim().split('\n').pop()!) as number[];
    const y0 = Math.tanh(0.5), y1 = Math.tanh(2 * 0.5 + y0 * 0.25);
    expect(outputs[0]).toBeCloseTo(y0, 6);
    expect(outputs[1]).toBeCloseTo(y1, 6);
  });
  });
});
