// Issue 14's acceptance, both ways, on MNIST: (1) the lecture's classifier trained here, exported with exportTorch(),
// gives the same test accuracy in PyTorch; (2) the same recipe trained by PyTorch on the CPU, imported with
// SequenceClassifier.importTorch, gives the same test accuracy here. benchmarks/torch-mnist.py is the PyTorch half.
// Run after `npm run build:lib`:
//   node benchmarks/torch-mnist.mjs [--limit 6000] [--epochs 1] [--seed 1] [--out DIR]
// Prints one JSON line per direction, with both accuracies and their difference; the files stay in DIR.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adapterName, getDevice, loadMnist, SequenceClassifier } from '../dist/node.js';

const args = Object.fromEntries(process.argv.slice(2).filter((a) => a !== '--').reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
const limit = Number(args.limit ?? 6000), epochs = Number(args.epochs ?? 1), seed = Number(args.seed ?? 1);
const out = args.out ?? mkdtempSync(join(tmpdir(), 'torch-mnist-'));
const python = process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const script = new URL('./torch-mnist.py', import.meta.url).pathname;

function torchSide(...argv) {
  const r = spawnSync(python, [script, ...argv], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`torch-mnist.py ${argv.join(' ')} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

const device = await getDevice({ log: (l) => console.error(l) });
const { train, test } = await loadMnist(device, { limit });
const config = { steps: 28, inputs: 28, units: 150, classes: 10, seed };

// 1. Trained here, evaluated here and in PyTorch.
const ours = new SequenceClassifier(device, config);
const started = performance.now();
await ours.fit(train, { epochs, batchSize: 150, learningRate: 0.001 });
const trainSeconds = (performance.now() - started) / 1000;
const here = await ours.evaluate(test);
const exported = join(out, 'webgpu-rnn-export.safetensors');
writeFileSync(exported, ours.exportTorch());
const there = torchSide('eval', exported);
console.log(JSON.stringify({
  direction: 'webgpu-rnn -> PyTorch', limit, epochs, seed, train_seconds: Number(trainSeconds.toFixed(1)), adapter: adapterName(device),
  test_accuracy_here: here.accuracy, test_accuracy_pytorch_f32: there.float32.test_accuracy, test_accuracy_pytorch_f64: there.float64.test_accuracy,
  difference: Math.abs(here.accuracy - there.float32.test_accuracy), test_loss_here: here.loss, test_loss_pytorch_f32: there.float32.test_loss, file: exported,
}));
ours.destroy();

// 2. Trained by PyTorch, evaluated there and here.
const theirsFile = join(out, 'pytorch-trained.safetensors');
const trained = torchSide('train', theirsFile, String(limit), String(epochs), String(seed));
const theirs = SequenceClassifier.importTorch(device, new Uint8Array(readFileSync(theirsFile)), config, theirsFile);
const back = await theirs.evaluate(test);
console.log(JSON.stringify({
  direction: 'PyTorch -> webgpu-rnn', limit, epochs, seed, pytorch_train_seconds: trained.train_seconds, adapter: adapterName(device),
  test_accuracy_pytorch_f32: trained.float32.test_accuracy, test_accuracy_here: back.accuracy,
  difference: Math.abs(back.accuracy - trained.float32.test_accuracy), test_loss_pytorch_f32: trained.float32.test_loss, test_loss_here: back.loss, file: theirsFile,
}));
theirs.destroy();
train.destroy();
test.destroy();
device.destroy();
