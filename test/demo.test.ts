// The embeddable demo (issue 4). First the digit preparation (pure functions, in Node). Then the built bundle in
// headless Chromium (SwiftShader WebGPU): the demo build served on 127.0.0.1, and a page that
// embeds the element exactly as the README's snippet does. A small model trains until its test accuracy is far
// above chance, a digit drawn with the mouse gets a prediction, removing the element frees every GPU buffer, and a
// browser without WebGPU gets the explanatory message.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inkFromRgba, toMnist } from '../demo/draw.js';
import { stateColour } from '../demo/heatmap.js';
import { contextWindow, pickId } from '../demo/sample.js';

const CHROMIUM = process.env.PUPPETEER_EXECUTABLE_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  if (process.env.CI === 'true' || process.env.REQUIRE_GPU === '1') throw new Error(`no Chromium at ${CHROMIUM}: run .ci/install-system.sh`);
  console.warn(`SKIPPING demo browser tests: no Chromium at ${CHROMIUM} (set PUPPETEER_EXECUTABLE_PATH)`);
}

/** As in test/browser.test.ts (not imported from there: that would run its tests here too). */
const BASE_ARGS = ['--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const WEBGPU_ARGS = [...BASE_ARGS, '--enable-unsafe-webgpu'];

/** Small enough for SwiftShader: about 400 sequences/s here, test accuracy past 0.5 in about 15 s. */
const SMALL_MODEL = 'units="32" batch-size="50" learning-rate="0.002" train-limit="5000" test-limit="1000" eval-size="500" ' +
  'digit-units="32" digit-steps="150" digit-images="2000" autostart';
const ACCURACY_BAR = 0.5; // chance is 0.1
/** The text element, as small: 32 tanh units over windows of 16 characters of the first 30,000 of brown.txt. */
const SMALL_TEXT_MODEL = 'units="32" steps="16" batch-size="32" learning-rate="0.01" text-limit="30000" sample-length="40" autostart';
const TRAIN_TIMEOUT_MS = 90_000;

describe('digit preparation (the MNIST way)', () => {
  /** A w x h ink image with a filled rectangle. */
  const rectangle = (w: number, h: number, x0: number, y0: number, x1: number, y1: number) => {
    const ink = new Float32Array(w * h);
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) ink[y * w + x] = 1;
    return ink;
  };
  const box = (img: Uint8Array) => {
    let x0 = 28, y0 = 28, x1 = -1, y1 = -1, mass = 0, mx = 0, my = 0;
    img.forEach((v, i) => {
      if (!v) return;
      const x = i % 28, y = Math.floor(i / 28);
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      mass += v; mx += v * (x + 0.5); my += v * (y + 0.5);
    });
    return { w: x1 - x0 + 1, h: y1 - y0 + 1, cx: mx / mass, cy: my / mass, max: Math.max(...img) };
  };

  it('fits the inked box into 20x20 keeping the aspect ratio and centres its mass', () => {
    // A tall stroke in a corner of a 280x280 pad.
    const b = box(toMnist(rectangle(280, 280, 10, 5, 50, 205), 280, 280));
    expect(b.h).toBe(20);
    expect(b.w).toBe(4);
    expect(Math.abs(b.cx - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(b.cy - 14)).toBeLessThanOrEqual(0.5);
    expect(b.max).toBe(255);
  });

  it('enlarges a small digit, and leaves an empty picture empty', () => {
    const b = box(toMnist(rectangle(28, 28, 2, 2, 7, 12), 28, 28));
    expect([b.w, b.h]).toEqual([10, 20]);
    expect(toMnist(new Float32Array(280 * 280), 280, 280).every((v) => v === 0)).toBe(true);
  });

  it('reads ink from dark-on-light, light-on-dark and transparent pictures', () => {
    const rgba = (bg: number[], fg: number[]) => {
      const px = new Uint8ClampedArray(4 * 4 * 4);
      for (let i = 0; i < 16; i++) px.set(i === 5 ? fg : bg, i * 4);
      return px;
    };
    for (const [bg, fg] of [[[255, 255, 255, 255], [0, 0, 0, 255]], [[0, 0, 0, 255], [255, 255, 255, 255]], [[0, 0, 0, 0], [10, 20, 30, 255]]]) {
      const ink = inkFromRgba(rgba(bg!, fg!), 4, 4);
      expect(ink[5]).toBeCloseTo(1, 5);
      expect(ink[0]).toBeCloseTo(0, 5);
    }
  });

  it('text sampling: temperature 0 is the likeliest id, low temperatures sharpen, the context is the last `steps` ids', () => {
    const p = [0.1, 0.6, 0.3];
    expect(pickId(p, 0, 0.99)).toBe(1);
    // u walks the cumulative weights: at temperature 1 the probabilities themselves.
    expect([0.05, 0.2, 0.69, 0.71].map((u) => pickId(p, 1, u))).toEqual([0, 1, 1, 2]);
    // At 0.1, p^10 normalised: id 1 holds all but about 2e-4 of the mass.
    expect(pickId(p, 0.1, 0.001)).toBe(1);
    expect(pickId(p, 0.1, 0.999)).toBe(1);
    // At a high temperature the weights flatten towards uniform.
    expect(pickId(p, 100, 0.2)).toBe(0);
    expect(contextWindow([5, 6, 7], 4)).toEqual({ x: Int32Array.of(5, 6, 7, 0), length: 3 });
    expect(contextWindow([1, 2, 3, 4, 5, 6], 4)).toEqual({ x: Int32Array.of(3, 4, 5, 6), length: 4 });
  });

  it('colours tanh states from blue (-1) through white (0) to red (+1)', () => {
    const [r1, , b1] = stateColour(-1);
    const [r2, g2, b2] = stateColour(0);
    const [r3, , b3] = stateColour(1);
    expect(b1).toBeGreaterThan(r1);
    expect(Math.min(r2, g2, b2)).toBeGreaterThan(230);
    expect(r3).toBeGreaterThan(b3);
  });
});

interface Collected {
  errors: string[];
}

/** Console errors, uncaught exceptions, and the element's `error` events, from the moment the page opens. */
function collectErrors(page: Page): Collected {
  const c: Collected = { errors: [] };
  page.on('console', (m) => { if (m.type() === 'error') c.errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => c.errors.push(`pageerror: ${String(e)}`));
  return c;
}

/** Polls `condition` in the page every 100 ms until it is truthy; an exception in it fails at once. */
async function until<A extends unknown[]>(page: Page, what: string, timeoutMs: number, condition: (...args: A) => unknown, ...args: A): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await page.evaluate(condition as (...a: unknown[]) => unknown, ...args)) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

/** Serves dist-demo/ and extra in-memory pages on 127.0.0.1. */
async function serve(root: string, pages: Record<string, string>): Promise<{ server: Server; url: string }> {
  const types: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'application/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json' };
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const page = pages[path];
    if (page !== undefined) {
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end(page);
      return;
    }
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(root)) {
      res.statusCode = 403;
      res.end();
      return;
    }
    try {
      const body = await readFile(file);
      res.setHeader('Content-Type', types[extname(file)] ?? 'application/octet-stream');
      res.end(body);
    } catch {
      res.statusCode = 404;
      res.end('not found');
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe.skipIf(!haveChromium)('the demo in headless Chromium', () => {
  let dist: string;
  let server: Server;
  let base: string;
  let browser: Browser;
  let page: Page;
  let collected: Collected;

  beforeAll(async () => {
    const started = Date.now();
    // npm run build:demo's two builds, into a folder of the test's own: `npm run bench` rebuilds dist-demo/ and must
    // not pull files from under a running test (nor this test from under it).
    dist = mkdtempSync(join(tmpdir(), 'webgpu-rnn-demo-'));
    const vite = (...args: string[]) => execFileSync(process.execPath, [resolve('node_modules/vite/bin/vite.js'), 'build', ...args, '--logLevel', 'warn'], { stdio: 'pipe', timeout: 110_000 });
    vite('--mode', 'element', '--outDir', dist, '--emptyOutDir');
    vite('--outDir', dist);
    expect(readdirSync(join(dist, 'mnist')).sort()).toEqual(['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte', 'train-images-idx3-ubyte', 'train-labels-idx1-ubyte']);
    expect(readdirSync(dist)).toContain('brown.txt');
    console.info(`demo build: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // The README's embedding snippet, in a folder of its own: the script and the data are found relative to the page.
    const embed = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>embedding test</title></head>
<body style="margin: 0; padding: 12px; background: #f4f6f8">
<script type="module" src="../webgpu-rnn-demo.js"></script>
<rnn-mnist-demo ${SMALL_MODEL} data-url="../mnist/"></rnn-mnist-demo>
</body></html>`;
    const missing = embed.replace('data-url="../mnist/"', 'data-url="../no-such-folder/"');
    // The text element from the same script.
    const text = embed.replace(/<rnn-mnist-demo .*<\/rnn-mnist-demo>/, `<rnn-text-demo ${SMALL_TEXT_MODEL} text-url="../brown.txt" prompt="The "></rnn-text-demo>`);
    const textBad = text.replace('units="32"', 'units="-3"').replace(' autostart', '');
    ({ server, url: base } = await serve(dist, { '/embed/index.html': embed, '/embed/': embed, '/embed/missing.html': missing, '/embed/text.html': text, '/embed/text-bad.html': textBad }));
    browser = await puppeteer.launch({ executablePath: CHROMIUM, args: WEBGPU_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
    if (dist) rmSync(dist, { recursive: true, force: true });
  });

  it('trains until test accuracy is far above chance, and predicts a digit drawn with the mouse', async () => {
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 760 });
    // The frame-gap check below needs animation frames, which a page in the background would not get.
    await page.bringToFront();
    collected = collectErrors(page);
    // Listen before the page's scripts run, so that no event is missed.
    await page.evaluateOnNewDocument(() => {
      const w = window as unknown as { demo: { progress: Array<Record<string, number>>; errors: string[]; adapter?: string; readyAt?: number } };
      w.demo = { progress: [], errors: [] };
      document.addEventListener('DOMContentLoaded', () => {
        const el = document.querySelector('rnn-mnist-demo')!;
        el.addEventListener('progress', (e) => w.demo.progress.push({ ...(e as unknown as CustomEvent).detail, at: performance.now() }));
        el.addEventListener('error', (e) => w.demo.errors.push((e as unknown as CustomEvent).detail.message));
        el.addEventListener('ready', (e) => { w.demo.adapter = (e as unknown as CustomEvent).detail.adapter; w.demo.readyAt = performance.now(); });
      });
    });
    const opened = Date.now();
    await page.goto(`${base}/embed/`);
    await until(page, 'the element to be ready', 60_000, () => (window as any).demo.adapter !== undefined || (window as any).demo.errors.length > 0);
    expect(await page.evaluate(() => (window as any).demo.errors)).toEqual([]);
    const adapter = await page.evaluate(() => (window as any).demo.adapter as string);
    expect(adapter).toMatch(/\S/);

    // Training runs by itself (autostart) and the test accuracy climbs.
    await until(page, `test accuracy above ${ACCURACY_BAR}`, TRAIN_TIMEOUT_MS,
      (bar: number) => (window as any).demo.progress.some((p: { accuracy: number }) => p.accuracy > bar) || (window as any).demo.errors.length > 0, ACCURACY_BAR);
    expect(await page.evaluate(() => (window as any).demo.errors)).toEqual([]);
    const progress = await page.evaluate(() => (window as any).demo.progress as Array<{ step: number; loss: number; accuracy: number; seqPerSec: number; at: number }>);
    const readyAt = await page.evaluate(() => (window as any).demo.readyAt as number);
    const reached = progress.find((p) => p.accuracy > ACCURACY_BAR)!;
    const first = progress.find((p) => p.step > 0)!;
    expect(first.loss).toBeGreaterThan(0);
    expect(reached.step).toBeGreaterThan(first.step);
    const speeds = progress.filter((p) => p.seqPerSec > 0).map((p) => p.seqPerSec);
    console.info(`demo on ${adapter}: page to ready ${((readyAt) / 1000).toFixed(1)} s, test accuracy ${reached.accuracy} > ${ACCURACY_BAR} at step ` +
      `${reached.step}, ${((reached.at - readyAt) / 1000).toFixed(1)} s after ready (${((Date.now() - opened) / 1000).toFixed(1)} s after opening); ` +
      `median ${Math.round(speeds.sort((a, b) => a - b)[speeds.length >> 1]!)} sequences/s`);
    // The stats in the element follow.
    const shown = await page.evaluate(() => document.querySelector('rnn-mnist-demo')!.shadowRoot!.querySelector('[part=accuracy]')!.textContent);
    expect(shown).toMatch(/^\d+(\.\d)?%$/);

    // The main thread stays free while the worker trains: animation frames keep coming.
    const worstFrameGap = await page.evaluate(() => new Promise<number>((done) => {
      let last = performance.now(), worst = 0;
      const end = last + 3000;
      const frame = (now: number) => {
        worst = Math.max(worst, now - last);
        last = now;
        if (now < end) requestAnimationFrame(frame);
        else done(worst);
      };
      requestAnimationFrame(frame);
    }));
    console.info(`worst animation frame gap during training: ${worstFrameGap.toFixed(0)} ms`);
    expect(worstFrameGap).toBeLessThan(1000);

    // Draw a 7 on the pad with synthetic mouse events.
    const pad = await page.evaluateHandle(() => document.querySelector('rnn-mnist-demo')!.shadowRoot!.querySelector('canvas.pad')!);
    const r = (await pad.asElement()!.boundingBox())!;
    const at = (fx: number, fy: number) => [r.x + fx * r.width, r.y + fy * r.height] as const;
    await page.mouse.move(...at(0.25, 0.2));
    await page.mouse.down();
    await page.mouse.move(...at(0.75, 0.2), { steps: 12 });
    await page.mouse.move(...at(0.45, 0.85), { steps: 16 });
    await page.mouse.up();
    await until(page, 'a prediction for the drawing', 30_000, () => document.querySelector('rnn-mnist-demo')!.prediction?.source === 'drawing');
    const prediction = (await page.evaluate(() => document.querySelector('rnn-mnist-demo')!.prediction))!;
    expect(prediction.probs).toHaveLength(10);
    expect(prediction.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
    expect(prediction.digit).toBe(prediction.probs.indexOf(Math.max(...prediction.probs)));
    const digitShown = await page.evaluate(() => document.querySelector('rnn-mnist-demo')!.shadowRoot!.querySelector('.digit')!.textContent);
    expect(digitShown).toBe(String(prediction.digit));
    console.info(`drawn 7 predicted as ${prediction.digit} (p = ${prediction.probs[prediction.digit]!.toFixed(2)})`);

    // The host API: predict() takes ImageData (prepared the MNIST way) or 784 ready values.
    const viaApi = await page.evaluate(async () => {
      const el = document.querySelector('rnn-mnist-demo')!;
      const canvas = document.createElement('canvas');
      canvas.width = canvas.height = 100;
      const ctx = canvas.getContext('2d')!;
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, 100, 100);
      ctx.fillStyle = '#000';
      ctx.fillRect(45, 15, 10, 70); // a 1, dark on light
      const fromImageData = await el.predict(ctx.getImageData(0, 0, 100, 100));
      const fromBytes = await el.predict(new Uint8Array(784));
      let rejected = '';
      await el.predict(new Uint8Array(5)).catch((e: Error) => (rejected = e.message));
      return { fromImageData: Array.from(fromImageData), fromBytes: Array.from(fromBytes), rejected };
    });
    for (const probs of [viaApi.fromImageData, viaApi.fromBytes]) {
      expect(probs).toHaveLength(10);
      expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
    }
    expect(viaApi.rejected).toMatch(/784/);

    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/demo.png' });
    expect(await page.evaluate(() => (window as any).demo.errors)).toEqual([]);
    expect(collected.errors).toEqual([]);
  }, 150_000);

  it('pauses, resumes and resets, with the buttons enabled to match', async () => {
    expect(page, 'needs the page of the previous test').toBeDefined();
    const look = () => page.evaluate(() => {
      const el = document.querySelector('rnn-mnist-demo')!;
      const button = (name: string) => (el.shadowRoot!.querySelector(`button.${name}`) as HTMLButtonElement).disabled;
      const progress = (window as any).demo.progress as Array<{ step: number }>;
      return { status: el.status, start: button('start'), pause: button('pause'), reset: button('reset'), step: progress.at(-1)!.step, events: progress.length };
    });
    expect(await look()).toMatchObject({ status: 'running', start: true, pause: false, reset: false });

    await page.evaluate(() => document.querySelector('rnn-mnist-demo')!.pause());
    await until(page, 'the pause', 20_000, () => document.querySelector('rnn-mnist-demo')!.status === 'ready');
    const paused = await look();
    expect(paused).toMatchObject({ start: false, pause: true, reset: false });
    await new Promise((ok) => setTimeout(ok, 1500));
    expect((await look()).step, 'no training while paused').toBe(paused.step);

    // Clicking Start in the shadow DOM resumes from where it was.
    await page.evaluate(() => (document.querySelector('rnn-mnist-demo')!.shadowRoot!.querySelector('button.start') as HTMLButtonElement).click());
    await until(page, 'training to resume', 30_000, (step: number) => ((window as any).demo.progress as Array<{ step: number }>).at(-1)!.step > step, paused.step);
    expect((await look()).status).toBe('running');

    // Reset: a new untrained model, paused; its first evaluation reports step 0 at about chance.
    const before = (await look()).events;
    await page.evaluate(() => document.querySelector('rnn-mnist-demo')!.reset());
    await until(page, 'the reset model to report step 0', 30_000, (n: number) => ((window as any).demo.progress as Array<{ step: number }>).slice(n).some((p) => p.step === 0), before);
    const fresh = await page.evaluate((n: number) => ((window as any).demo.progress as Array<{ step: number; accuracy: number }>).slice(n).find((p) => p.step === 0)!, before);
    expect(fresh.accuracy).toBeLessThan(0.3);
    expect(await look()).toMatchObject({ status: 'ready', start: false, pause: true });
    expect(collected.errors).toEqual([]);
  }, 60_000);

  it('draws a digit for me: the vector-to-sequence model trains, then its 28 rows appear one step at a time', async () => {
    expect(page, 'needs the page of the previous test').toBeDefined();
    const started = Date.now();
    const r = await page.evaluate(async () => {
      const el = document.querySelector('rnn-mnist-demo')!;
      const canvas = el.shadowRoot!.querySelector('canvas.drawn') as HTMLCanvasElement;
      /** The brightest pixel of the drawn image's canvas from row `from` (of 28) down. */
      const inkBelow = (from: number) => {
        const { data } = canvas.getContext('2d')!.getImageData(0, Math.ceil((from * canvas.height) / 28), canvas.width, canvas.height);
        let max = 0;
        for (let i = 0; i < data.length; i += 4) max = Math.max(max, data[i]!);
        return max;
      };
      const rows: Array<{ digit: number; row: number; at: number }> = [];
      const training: Array<{ step: number; steps: number; loss: number }> = [];
      let midway = -1;
      el.addEventListener('digit-row', (e) => {
        const d = (e as CustomEvent).detail;
        rows.push({ ...d, at: performance.now() });
        // Part way through, the rows not drawn yet are still black.
        if (d.digit === 0 && d.row === 10) midway = inkBelow(12);
      });
      el.addEventListener('digit-training', (e) => training.push((e as CustomEvent).detail));
      const errors: string[] = [];
      await el.drawDigit(12).catch((e: Error) => errors.push(e.message));
      const zero = Array.from(await el.drawDigit(0));
      const final = inkBelow(0);
      const trainedSteps = training.length;
      // The second digit is drawn by the model as trained: no more training.
      const one = Array.from(await el.drawDigit(1));
      return { rows, training, trainedSteps, zero, one, midway, final, errors, caption: el.shadowRoot!.querySelector('.drawn-caption')!.textContent };
    });
    console.info(`draw a digit: ${r.training.at(-1)?.step} steps of the drawing model (MSE ${r.training[0]?.loss.toFixed(4)} -> ${r.training.at(-1)?.loss.toFixed(4)}), ` +
      `28 rows of a 0 over ${(r.rows[27]!.at - r.rows[0]!.at).toFixed(0)} ms; ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
    expect(r.errors[0]).toMatch(/digit: expected an integer 0\.\.9, got 12/);
    // Trained first, the loss falling, up to digit-steps.
    expect(r.training.length).toBeGreaterThan(2);
    expect(r.training.at(-1)!.step).toBeGreaterThanOrEqual(150);
    expect(r.training.at(-1)!.loss).toBeLessThan(r.training[0]!.loss);
    expect(r.training.length).toBe(r.trainedSteps);
    // 28 rows per digit, in order, one at a time (not all in one frame).
    for (const digit of [0, 1]) {
      const rows = r.rows.filter((x) => x.digit === digit);
      expect(rows.map((x) => x.row)).toEqual(Array.from({ length: 28 }, (_, i) => i));
      expect(rows[27]!.at - rows[0]!.at).toBeGreaterThan(27 * 10);
    }
    expect(r.midway, 'rows below the one being drawn are black').toBe(0);
    expect(r.final, 'the finished drawing has ink').toBeGreaterThan(100);
    // Not blank, and the class matters: a 0 and a 1 differ.
    for (const image of [r.zero, r.one]) {
      expect(image).toHaveLength(784);
      expect(Math.max(...image)).toBeGreaterThan(0.3);
      expect(image.every(Number.isFinite)).toBe(true);
    }
    const diff = r.zero.reduce((sum, v, i) => sum + Math.abs(v - r.one[i]!), 0) / 784;
    expect(diff).toBeGreaterThan(0.03);
    expect(r.caption).toMatch(/a 1, drawn one row per step/);
    await page.screenshot({ path: 'test-artifacts/demo-draw-digit.png', fullPage: true });
    expect(collected.errors).toEqual([]);
  }, 60_000);

  it('frees every GPU buffer when the element is removed', async () => {
    expect(page, 'needs the page of the previous test').toBeDefined();
    const before = await page.evaluate(() => document.querySelector('rnn-mnist-demo')!.liveBuffers());
    expect(before).toBeGreaterThan(0);
    const after = await page.evaluate(() => new Promise<number>((done) => {
      const el = document.querySelector('rnn-mnist-demo')!;
      el.addEventListener('disposed', (e) => done((e as unknown as CustomEvent).detail.liveBuffers), { once: true });
      el.remove();
    }));
    console.info(`live GPU buffers: ${before} before removal, ${after} after`);
    expect(after).toBe(0);
    // The worker is gone too.
    for (let i = 0; i < 20 && page.workers().length > 0; i++) await new Promise((ok) => setTimeout(ok, 100));
    expect(page.workers()).toHaveLength(0);
    expect(collected.errors).toEqual([]);
    await page.close();
  }, 30_000);

  it('<rnn-text-demo> trains on the Brown corpus: loss falls, samples appear and change, prompt and temperature steer them', async () => {
    const p = await browser.newPage();
    await p.setViewport({ width: 1280, height: 760 });
    await p.bringToFront();
    const c = collectErrors(p);
    await p.evaluateOnNewDocument(() => {
      const w = window as unknown as { text: { progress: Array<{ step: number; loss: number }>; samples: Array<{ step: number; prompt: string; text: string; temperature: number }>; errors: string[]; ready?: { adapter: string; vocabulary: string } } };
      w.text = { progress: [], samples: [], errors: [] };
      document.addEventListener('DOMContentLoaded', () => {
        const el = document.querySelector('rnn-text-demo')!;
        el.addEventListener('progress', (e) => w.text.progress.push((e as unknown as CustomEvent).detail));
        el.addEventListener('sample', (e) => w.text.samples.push((e as unknown as CustomEvent).detail));
        el.addEventListener('error', (e) => w.text.errors.push((e as unknown as CustomEvent).detail.message));
        el.addEventListener('ready', (e) => (w.text.ready = (e as unknown as CustomEvent).detail));
      });
    });
    const opened = Date.now();
    await p.goto(`${base}/embed/text.html`);
    await until(p, 'the text element to be ready', 60_000, () => (window as any).text.ready !== undefined || (window as any).text.errors.length > 0);
    expect(await p.evaluate(() => (window as any).text.errors)).toEqual([]);
    const vocabulary = await p.evaluate(() => (window as any).text.ready.vocabulary as string);
    // Most frequent first (space, then e, as in English), every lowercase letter and the line breaks between sentences.
    expect(vocabulary.slice(0, 2)).toBe(' e');
    for (const c of 'abcdefghijklmnopqrstuvwxyz\n.,"') expect(vocabulary).toContain(c);
    // The loss falls well below chance (ln of the vocabulary's size; 1.5 nats under it is past what the characters'
    // frequencies alone give, about 2.9 nats for English), and two different samples have appeared.
    const chance = Math.log(vocabulary.length + 1);
    await until(p, 'the loss to fall and two different samples', 90_000, (bar: number) => {
      const t = (window as any).text as { progress: Array<{ loss: number }>; samples: Array<{ text: string }>; errors: string[] };
      return t.errors.length > 0 || (t.progress.some((q) => q.loss < bar) && new Set(t.samples.map((s) => s.text)).size >= 2);
    }, chance - 1.5);
    const t = await p.evaluate(() => (window as any).text as { progress: Array<{ step: number; loss: number }>; samples: Array<{ step: number; prompt: string; text: string; temperature: number }>; errors: string[] });
    expect(t.errors).toEqual([]);
    const first = t.progress[0]!, low = t.progress.find((q) => q.loss < chance - 1.5)!;
    console.info(`text demo: vocabulary of ${vocabulary.length + 1}, loss ${first.loss.toFixed(3)} at step ${first.step} -> ${low.loss.toFixed(3)} at step ${low.step} ` +
      `(chance ${chance.toFixed(2)}), ${((Date.now() - opened) / 1000).toFixed(1)} s after opening; samples: ${t.samples.map((s) => `${s.step}: ${JSON.stringify(s.text)}`).join(' | ')}`);
    expect(low.step).toBeGreaterThan(first.step);
    for (const s of t.samples) {
      expect(s.prompt).toBe('The ');
      expect(s.text).toHaveLength(40);
    }
    const shown = await p.evaluate(() => (document.querySelector('rnn-text-demo')!.shadowRoot!.querySelector('[part=sample]') as HTMLElement).innerText);
    expect(shown).toBe(`The ${t.samples.at(-1)!.text}`);

    // The prompt box and the slider, as a user would change them: the next sample follows.
    await p.evaluate(() => {
      const root = document.querySelector('rnn-text-demo')!.shadowRoot!;
      const prompt = root.querySelector('input.prompt') as HTMLInputElement;
      prompt.value = 'The jury said ';
      prompt.dispatchEvent(new Event('input'));
      const slider = root.querySelector('input.temperature') as HTMLInputElement;
      slider.value = '0.2';
      slider.dispatchEvent(new Event('input'));
    });
    await until(p, 'a sample of the new prompt at the new temperature', 30_000,
      () => ((window as any).text.samples as Array<{ prompt: string; temperature: number }>).some((s) => s.prompt === 'The jury said ' && s.temperature === 0.2));
    // The host API, and its errors naming the field.
    const api = await p.evaluate(async () => {
      const el = document.querySelector('rnn-text-demo')!;
      const written = await el.sample('In the ', { temperature: 0.5, length: 12 });
      const errors: string[] = [];
      await el.sample('x', { temperature: 0 }).catch((e: Error) => errors.push(e.message));
      await el.sample('x', { length: 0 }).catch((e: Error) => errors.push(e.message));
      try { el.temperature = 7; } catch (e) { errors.push((e as Error).message); }
      return { written, errors, temperature: el.temperature, prompt: el.prompt };
    });
    expect(api.written).toHaveLength(12);
    expect(api.errors).toEqual([
      'sample: temperature: expected a number in (0, 2], got 0',
      'sample: length: expected an integer 1..10000, got 0',
      'temperature: expected a number in (0, 2], got 7',
    ]);
    expect(api).toMatchObject({ temperature: 0.2, prompt: 'The jury said ' });
    mkdirSync('test-artifacts', { recursive: true });
    await p.screenshot({ path: 'test-artifacts/demo-text.png', fullPage: true });

    // Removal frees every GPU buffer and ends the worker.
    const before = await p.evaluate(() => document.querySelector('rnn-text-demo')!.liveBuffers());
    expect(before).toBeGreaterThan(0);
    const after = await p.evaluate(() => new Promise<number>((done) => {
      const el = document.querySelector('rnn-text-demo')!;
      el.addEventListener('disposed', (e) => done((e as unknown as CustomEvent).detail.liveBuffers), { once: true });
      el.remove();
    }));
    console.info(`text demo: live GPU buffers ${before} before removal, ${after} after`);
    expect(after).toBe(0);
    for (let i = 0; i < 20 && p.workers().length > 0; i++) await new Promise((ok) => setTimeout(ok, 100));
    expect(p.workers()).toHaveLength(0);
    expect(await p.evaluate(() => (window as any).text.errors)).toEqual([]);
    expect(c.errors).toEqual([]);
    await p.close();
  }, 150_000);

  it('<rnn-text-demo> names a bad attribute, what it expected and what it got', async () => {
    const p = await browser.newPage();
    await p.goto(`${base}/embed/text-bad.html`);
    // Reported as the element connects (before a listener added at DOMContentLoaded could hear the event): shown in it.
    await until(p, 'the error in the element', 20_000, () => !(document.querySelector('rnn-text-demo')?.shadowRoot?.querySelector('[part=error]') as HTMLElement | null)?.hidden);
    const shown = await p.evaluate(() => (document.querySelector('rnn-text-demo')!.shadowRoot!.querySelector('.error-text') as HTMLElement).textContent);
    expect(shown).toBe('rnn-text-demo: ignored attribute units="-3" (expected an integer of at least 1; using 128)');
    await p.close();
  }, 30_000);

  it('shows a data set that cannot be loaded in the element, and fires error', async () => {
    const p = await browser.newPage();
    await p.evaluateOnNewDocument(() => {
      document.addEventListener('DOMContentLoaded', () => {
        document.querySelector('rnn-mnist-demo')!.addEventListener('error', (e) => ((window as any).demoError = (e as unknown as CustomEvent).detail.message));
      });
    });
    await p.goto(`${base}/embed/missing.html`);
    await until(p, 'the element to report the missing data', 30_000, () => document.querySelector('rnn-mnist-demo')?.status === 'broken');
    const shown = await p.evaluate(() => (document.querySelector('rnn-mnist-demo')!.shadowRoot!.querySelector('[part=error]') as HTMLElement).innerText);
    expect(shown).toMatch(/could not load the MNIST file .*no-such-folder.*404/);
    expect(await p.evaluate(() => (window as any).demoError)).toMatch(/404/);
    await p.close();
  }, 40_000);

  it('a lost GPU device (the GPU process crashed) is shown in the element with Reset, and Reset trains on a new device', async () => {
    // A browser of its own: crashing the GPU process takes every page's device with it.
    const b = await puppeteer.launch({ executablePath: CHROMIUM, args: WEBGPU_ARGS });
    try {
      const p = await b.newPage();
      await p.goto(`${base}/embed/`);
      await until(p, 'training to start', 60_000, () => document.querySelector('rnn-mnist-demo')?.status === 'running');
      // What a driver reset or a GPU process crash does to a tab: the device is lost with reason 'unknown'.
      await (await b.target().createCDPSession()).send('Browser.crashGpuProcess');
      await until(p, 'the element to report the lost device', 30_000, () => document.querySelector('rnn-mnist-demo')!.status === 'broken');
      const shown = await p.evaluate(() => {
        const root = document.querySelector('rnn-mnist-demo')!.shadowRoot!;
        return { text: (root.querySelector('[part=error]') as HTMLElement).innerText, reset: (root.querySelector('button.reset') as HTMLButtonElement).disabled };
      });
      expect(shown.text).toMatch(/The GPU device was lost .*Press Reset to start again/);
      expect(shown.reset, 'Reset is offered').toBe(false);
      // Reset opens a new device (the GPU process comes back) and trains again.
      await p.evaluate(() => {
        const el = document.querySelector('rnn-mnist-demo')!;
        (window as any).steps = [] as number[];
        el.addEventListener('progress', (e) => (window as any).steps.push((e as unknown as CustomEvent).detail.step));
        el.addEventListener('ready', () => el.start(), { once: true });
        el.reset();
      });
      await until(p, 'the new model to train', 90_000, () => ((window as any).steps as number[]).some((step) => step > 0));
      expect(await p.evaluate(() => document.querySelector('rnn-mnist-demo')!.status)).toBe('running');
    } finally {
      await b.close();
    }
  }, 180_000);

  it('explains what to do when the browser has no WebGPU', async () => {
    // Without --enable-unsafe-webgpu this Chromium keeps navigator.gpu but finds no adapter; a browser without
    // WebGPU at all has no navigator.gpu. Both must get the message, on the built demo page itself.
    const plain = await puppeteer.launch({ executablePath: CHROMIUM, args: BASE_ARGS });
    try {
      for (const variant of ['no adapter', 'no navigator.gpu'] as const) {
        const p = await plain.newPage();
        const c = collectErrors(p);
        if (variant === 'no navigator.gpu') await p.evaluateOnNewDocument(() => { delete (Navigator.prototype as { gpu?: unknown }).gpu; });
        await p.goto(`${base}/index.html`);
        await until(p, `the no-WebGPU message (${variant})`, 30_000, () => {
          const box = document.querySelector('rnn-mnist-demo')?.shadowRoot?.querySelector('[part=unsupported]') as HTMLElement | null;
          return !!box && !box.hidden;
        });
        const text = await p.evaluate(() => (document.querySelector('rnn-mnist-demo')!.shadowRoot!.querySelector('[part=unsupported]') as HTMLElement).innerText);
        expect(text, variant).toContain('WebGPU is not available in this browser');
        expect(text, variant).toMatch(/Chrome or Edge 113/);
        expect(text, variant).toContain('--enable-unsafe-webgpu');
        expect(await p.evaluate(() => document.querySelector('rnn-mnist-demo')!.status), variant).toBe('unsupported');
        // The text element on the same page says so too.
        expect(await p.evaluate(() => document.querySelector('rnn-text-demo')!.status), variant).toBe('unsupported');
        const textMessage = await p.evaluate(() => (document.querySelector('rnn-text-demo')!.shadowRoot!.querySelector('[part=unsupported]') as HTMLElement).innerText);
        expect(textMessage, variant).toContain('WebGPU is not available in this browser');
        expect(c.errors.filter((e) => e.startsWith('pageerror')), variant).toEqual([]);
        await p.close();
      }
    } finally {
      await plain.close();
    }
  }, 60_000);
});
