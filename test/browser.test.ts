// The runtime in a browser: headless Chromium (SwiftShader WebGPU) loads a page served by Vite on 127.0.0.1, which
// imports the runtime's browser entry and runs the lecture's RNN forward and backward; results are checked here
// against the float64 reference.
import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rnnBackwardRef, rnnForwardRef } from '../src/reference/index.js';
import { expectClose } from './helpers.js';

const CHROMIUM = process.env.PUPPETEER_EXECUTABLE_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  if (process.env.CI === 'true' || process.env.REQUIRE_GPU === '1') throw new Error(`no Chromium at ${CHROMIUM}: run .ci/install-system.sh`);
  console.warn(`SKIPPING browser tests: no Chromium at ${CHROMIUM} (set PUPPETEER_EXECUTABLE_PATH)`);
}

/** Flags that give headless Chromium WebGPU here and keep it off the network (see shared/ENVIRONMENT.md). */
export const CHROMIUM_ARGS = ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

describe.skipIf(!haveChromium)('in headless Chromium', () => {
  let server: ViteDevServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await createServer({ root: 'test/browser', server: { host: '127.0.0.1', port: 0, fs: { allow: ['../..'] } }, logLevel: 'error', configFile: false });
    await server.listen();
    browser = await puppeteer.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("runs the lecture's RNN forward and backward through navigator.gpu", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    const url = server.resolvedUrls!.local[0]!;
    await page.goto(url);
    await page.waitForFunction(() => window.smokeResult !== undefined, { timeout: 60_000 });
    const r = (await page.evaluate(() => window.smokeResult)) as { error?: string; adapter: string; outputs: number[]; state: number[]; dwx: number[]; wx: number[]; wh: number[]; x: number[] };
    expect(r.error).toBeUndefined();
    expect(r.adapter).toMatch(/\S+\/\S+/);
    const p = { x: r.x, wx: r.wx, wh: r.wh, b: new Float64Array(5), batch: 4, steps: 2, inputs: 3, units: 5 };
    const want = rnnForwardRef(p);
    expectClose('outputs (browser)', r.outputs, want.outputs, [4, 2, 5], 1e-5, 1e-5);
    expectClose('state (browser)', r.state, want.state, [4, 5], 1e-5, 1e-5);
    expectClose('dwx (browser)', r.dwx, rnnBackwardRef(p, undefined, new Float64Array(20).fill(1)).dwx, [3, 5], 1e-4, 1e-4);
    expect(errors).toEqual([]);
  });
});
