import { defineConfig } from 'vitest/config';

// Library build (`vite build --mode lib`): two ESM entries, shaders inlined through `?raw` imports. The demo pages
// (issue 4) will be the default mode.
export default defineConfig(({ mode }) => ({
  build: mode === 'lib' ? {
    outDir: 'dist',
    emptyOutDir: false,
    sourcemap: true,
    minify: false,
    lib: {
      entry: { index: 'src/index.ts', node: 'src/node/index.ts', train: 'src/node/train-cli.ts' },
      formats: ['es'],
    },
    rolldownOptions: {
      external: [/^node:/, 'webgpu', /^wgsl-preprocessor/],
    },
  } : {},
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
}));
