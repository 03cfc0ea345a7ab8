// Seconds from starting `node dist/train.js` to its first progress line (the first training steps done), with empty
// caches (a fresh Mesa shader cache, tuning cache and XDG cache: a new user's machine) and then again with the caches
// that run left (warm). Run after `npm run build:lib`:  node benchmarks/cold-start.mjs [-- train flags]
// Prints one JSON line per run: {"run":"cold"|"warm","prepared_s":…,"first_progress_s":…,"flags":[…]}.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const flags = process.argv.slice(2).filter((a) => a !== '--');
const caches = mkdtempSync(join(tmpdir(), 'rnn-cold-'));
const env = { ...process.env, MESA_SHADER_CACHE_DIR: join(caches, 'mesa'), WEBGPU_RNN_CACHE: join(caches, 'tuning'), XDG_CACHE_HOME: join(caches, 'xdg') };

function run(name) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('node', ['dist/train.js', ...flags], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const seen = { run: name, prepared_s: null, first_progress_s: null, flags };
    let buffer = '';
    child.stderr.on('data', (chunk) => {
      buffer += chunk;
      const lines = buffer.split(/[\n\r]/);
      buffer = lines.pop();
      for (const line of lines) {
        const at = Number(((performance.now() - started) / 1000).toFixed(2));
        if (line.startsWith('prepared in')) seen.prepared_s = at;
        if (/^epoch \d+\/\d+ \[/.test(line) && seen.first_progress_s === null) {
          seen.first_progress_s = at;
          child.kill();
        }
      }
    });
    child.on('exit', () => (seen.first_progress_s === null ? reject(new Error(`${name}: no progress line`)) : resolve(seen)));
  });
}

try {
  for (const name of ['cold', 'warm']) console.log(JSON.stringify(await run(name)));
} finally {
  rmSync(caches, { recursive: true, force: true });
}
