// The reports of `npm run bench`: the text table, the BENCHMARKS.md section, the ratios webgpu-rnn / TF.js per model
// and size, a sweep's CSV and SVG, and reading back the JSON lines of an earlier run.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { CLASSES, INPUTS, type BenchModel, type BenchRecord } from './bench-core.js';

/** The machine in one line, for the records and the markdown heading. */
export function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}`;
}

const label = (r: BenchRecord) => `${r.system} ${r.runtime}/${r.backend}`;
const fmt = (x: number | null | undefined, digits = 1) => (x === undefined || x === null || !Number.isFinite(x) ? '-' : x >= 100 ? x.toFixed(0) : x.toFixed(digits));
const pct = (x: number | null | undefined) => (x === undefined || x === null ? '-' : `${(x * 100).toFixed(x < 0.01 ? 2 : 1)}%`);
const sameSize = (a: BenchRecord, b: BenchRecord) => a.batch === b.batch && a.steps === b.steps && a.units === b.units && (a.cell ?? 'tanh') === (b.cell ?? 'tanh');
/** A record's model: 'classifier' for records written before there were others. */
/** The model's name, with its cell when not tanh ('classifier lstm'). */
export const modelOf = (r: BenchRecord) => `${r.model ?? 'classifier'}${r.cell && r.cell !== 'tanh' ? ` ${r.cell}` : ''}`;
const sameModel = (a: BenchRecord, b: BenchRecord) => modelOf(a) === modelOf(b) && sameSize(a, b);

/**
 * webgpu-rnn / tfjs for the same model at the same size: in Chromium against TF.js on the same adapter and against its wasm backend; in
 * Node against TF.js wasm (the fastest way to train without a GPU that it has to beat). Training and inference ratios.
 */
export function ratios(records: BenchRecord[]) {
  const out: Array<{ runtime: 'chromium' | 'node'; model: string; size: string; adapter: string; vs: string; train: number; infer?: number }> = [];
  for (const ours of records.filter((r) => r.system === 'webgpu-rnn' && r.mode === 'model')) {
    for (const theirs of records.filter((r) => r.system === 'tfjs' && r.mode === 'model' && sameModel(r, ours))) {
      if (theirs.backend === 'webgpu' && (theirs.adapter !== ours.adapter || ours.runtime !== 'chromium')) continue;
      out.push({
        runtime: ours.runtime, model: modelOf(ours), size: `${ours.batch}x${ours.steps}x${ours.units}`, adapter: ours.adapter, vs: `tfjs ${theirs.backend}`,
        train: ours.train_seq_per_s! / theirs.train_seq_per_s!,
        ...(ours.infer_seq_per_s && theirs.infer_seq_per_s ? { infer: ours.infer_seq_per_s / theirs.infer_seq_per_s } : {}),
      });
    }
  }
  return out;
}

function rows(header: string[], body: string[][]): string[][] {
  return [header, ...body];
}

/** Columns of text (left-aligned) before the numbers: the model table has three, the others two. */
const left = (table: string[][]) => (table[0]![0] === 'model' ? 3 : 2);

function textTable(table: string[][]): string {
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  return table.map((r, i) => {
    const line = r.map((cell, c) => (c < left(table) ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
    return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
  }).join('\n');
}

function markdownTable(table: string[][]): string {
  return table.map((r, i) => `| ${r.join(' | ')} |${i === 0 ? `\n|${r.map((_, c) => (c < left(table) ? '---' : '---:')).join('|')}|` : ''}`).join('\n');
}

function modelTable(records: BenchRecord[]): string[][] {
  return rows(
    ['model', 'system', 'adapter', 'train seq/s', 'step p50 ms', 'step p95 ms', 'infer seq/s', 'infer images', 'train GFLOP/s', 'of matmul'],
    records.filter((r) => r.mode === 'model').map((r) => [modelOf(r), label(r), r.adapter, fmt(r.train_seq_per_s), fmt(r.step_ms_p50), fmt(r.step_ms_p95),
      fmt(r.infer_seq_per_s), r.infer_images === undefined ? '-' : String(r.infer_images), fmt(r.train_gflops, 3), pct(r.train_of_matmul)]),
  );
}

function matmulTable(records: BenchRecord[]): string[][] {
  return rows(['matmul', 'adapter', 'M = N = K', 'GFLOP/s', 'runs ms'],
    records.filter((r) => r.mode === 'matmul').map((r) => [label(r), r.adapter, String(r.size), fmt(r.gflops, 2), (r.run_ms ?? []).map((m) => m.toFixed(0)).join(', ')]));
}

function sweepTable(records: BenchRecord[]): string[][] {
  const sweep = records.filter((r) => r.mode === 'sweep');
  const systems = [...new Set(sweep.map(label))];
  const sizes = [...new Map(sweep.map((r) => [`${r.batch}x${r.steps}x${r.units}`, r])).values()];
  return rows(['batch x steps x units', 'varied', ...systems.map((s) => `${s} ms/step`)],
    sizes.map((s) => [`${s.batch} x ${s.steps} x ${s.units}`, s.vary ?? '', ...systems.map((sys) => fmt(sweep.find((r) => label(r) === sys && sameSize(r, s))?.step_ms_p50))]));
}

function ratioLines(records: BenchRecord[]): string[] {
  return ratios(records).map((q) => (q.runtime === 'chromium'
    ? `webgpu-rnn / ${q.vs} (chromium, ${q.model} ${q.size}, ${q.vs.endsWith('wasm') ? `${q.adapter} against the CPU` : q.adapter}): `
    : `webgpu-rnn in node / ${q.vs} in chromium (${q.model} ${q.size}, ${q.adapter} against the CPU): `) +
    `training x${q.train.toFixed(2)}${q.infer !== undefined ? `, inference x${q.infer.toFixed(2)}` : ''}`);
}

export function formatText(records: BenchRecord[]): string {
  const parts: string[] = [];
  if (records.some((r) => r.mode === 'model')) parts.push(textTable(modelTable(records)));
  if (records.some((r) => r.mode === 'matmul')) parts.push(textTable(matmulTable(records)));
  if (records.some((r) => r.mode === 'sweep')) parts.push(textTable(sweepTable(records)));
  const q = ratioLines(records);
  if (q.length) parts.push(q.join('\n'));
  return parts.join('\n\n') + '\n';
}

/** What each model is, for the markdown (BENCH_MODELS in bench-core.ts). */
const MODEL_TEXT: Array<[BenchModel, string]> = [
  ['classifier', `rnn(H) -> dense(${CLASSES}) on the last state (SequenceClassifier; TF.js simpleRNN + dense)`],
  ['stacked', `rnn(H, returnSequences) -> rnn(H) -> dense(${CLASSES}) (Sequential; TF.js the same layers)`],
  ['per-step', `rnn(H, returnSequences) -> dense(${CLASSES}) at every step, the label the target at every step, ` +
    'the loss the mean over batch and steps (Sequential; TF.js timeDistributed(dense))'],
];

/** The BENCHMARKS.md section for these records: generated, never edited by hand. */
export function formatMarkdown(records: BenchRecord[], extras: { command: string; svg?: string; csv?: string; data?: string }): string {
  const first = records[0];
  const versions = [...new Set(records.map((r) => `${r.runtime}: ${r.version}`))];
  const adapters = [...new Set(records.map((r) => `${r.runtime}/${r.backend}: \`${r.adapter}\`${r.adapter_description ? ` (${r.adapter_description})` : ''}`))];
  const model = records.find((r) => r.mode === 'model' || r.mode === 'sweep');
  const matmulSize = records.find((r) => r.mode === 'matmul')?.size ?? 1024;
  const lines = [
    `### ${first?.date ?? new Date().toISOString()}: ${first?.machine ?? machine()}`,
    '',
    `\`${extras.command}\`. ${versions.join('; ')}.`,
    '',
    `Adapters: ${adapters.join('; ')}.${first?.load_avg !== undefined ? ` Load average (1 min) when the run started: ${first.load_avg}.` : ''}`,
    '',
  ];
  const steps = (n = 0) => `${n} ${n === 1 ? 'step' : 'steps'}`;
  if (model?.mode === 'sweep') {
    lines.push(`Model: rows of ${model.inputs ?? INPUTS} pixels, tanh RNN, dense ${model.classes ?? CLASSES}, Adam 0.001, real MNIST batches, at the sizes ` +
      `in the table; each point ${steps(model.warmup)} of warm-up, then ${steps(model.timed)} timed, each awaited until done.`, '');
  } else if (model) {
    const kinds = new Set(records.filter((r) => r.mode === 'model').map(modelOf));
    const described = MODEL_TEXT.filter(([k]) => kinds.has(k)).map(([k, text]) => `${k}: ${text}`);
    lines.push(`Models (${model.steps} steps of ${model.inputs ?? INPUTS} inputs, tanh units, softmax cross-entropy, Adam 0.001, real MNIST batches): ` +
      `${described.join('; ')}. ${steps(model.warmup)} of warm-up, then ${steps(model.timed)} timed, each awaited until done. ` +
      'Training GFLOP/s counts 6 · (T·(I·H + H·H) + H·C) FLOPs per sequence (the stacked model adds T·2·H·H for its second layer, ' +
      'the per-step one has T·H·C in place of H·C); "of matmul" is its share of the GFLOP/s of ' +
      `the ${matmulSize}³ matmul through this runtime's kernel on the same runtime and adapter (the adapter's practical ceiling).`, '');
  }
  if (records.some((r) => r.mode === 'model')) lines.push(markdownTable(modelTable(records)), '');
  if (records.some((r) => r.mode === 'matmul')) lines.push(markdownTable(matmulTable(records)), '');
  const q = ratioLines(records);
  if (q.length) lines.push(...q.map((l) => `- ${l}`), '');
  if (records.some((r) => r.mode === 'sweep')) {
    lines.push('Median time per training step (ms) against each size, the others held:', '', markdownTable(sweepTable(records)), '');
    if (extras.svg) lines.push(`![time per step against batch, steps and units](${extras.svg})`, '');
    if (extras.csv) lines.push(`Sweep data: [${extras.csv}](${extras.csv}).`, '');
  }
  if (extras.data) lines.push(`The JSON lines this section was generated from: [${extras.data}](${extras.data}).`, '');
  return lines.join('\n');
}

/** Appends `section` to `file` under the heading '## npm run bench' (added once, at the end, if missing). */
export function appendMarkdown(file: string, section: string): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const heading = '## npm run bench';
  const gap = text === '' || text.endsWith('\n\n') ? '' : text.endsWith('\n') ? '\n' : '\n\n';
  const intro = text.split('\n').some((l) => l.trim() === heading) ? '' : `${heading}\n\n` +
    'Generated by `npm run bench -- --markdown BENCHMARKS.md` (or from saved `--json` output with `--from FILE`); the newest run is last.\n\n';
  appendFileSync(file, `${gap}${intro}${section.trimEnd()}\n`);
}

/** CSV of a sweep: one row per system and size. */
export function sweepCsv(records: BenchRecord[]): string {
  const cols = ['system', 'runtime', 'backend', 'adapter', 'vary', 'batch', 'steps', 'units', 'step_ms_p50', 'step_ms_mean', 'step_ms_p95', 'train_seq_per_s', 'train_gflops', 'timed'] as const;
  const cell = (v: unknown) => (v === undefined || v === null ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  return [cols.join(','), ...records.filter((r) => r.mode === 'sweep').map((r) => cols.map((c) => cell(r[c as keyof BenchRecord])).join(','))].join('\n') + '\n';
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

/** A hand-written SVG: one panel per varied size (log x), median ms per step (log y), one line per system. */
export function sweepSvg(records: BenchRecord[]): string {
  const sweep = records.filter((r) => r.mode === 'sweep' && Number.isFinite(r.step_ms_p50) && r.step_ms_p50! > 0);
  const systems = [...new Set(sweep.map(label))];
  const W = 300, H = 240, M = { l: 56, r: 12, t: 28, b: 40 };
  const panels = (['batch', 'steps', 'units'] as const).filter((k) => sweep.some((r) => (r.vary ?? '').split(',').includes(k)));
  const ys = sweep.map((r) => r.step_ms_p50!);
  const y0 = Math.floor(Math.log10(Math.min(...ys))), y1 = Math.max(y0 + 1, Math.ceil(Math.log10(Math.max(...ys))));
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts: string[] = [];
  const width = panels.length * W, height = H + 24 + systems.length * 16;
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  panels.forEach((key, p) => {
    const ox = p * W;
    const points = sweep.filter((r) => (r.vary ?? '').split(',').includes(key));
    const xs = [...new Set(points.map((r) => r[key]!))].sort((a, b) => a - b);
    const lx0 = Math.log10(xs[0]!), lx1 = Math.log10(xs.at(-1)!);
    const px = (x: number) => ox + M.l + (lx1 === lx0 ? 0.5 : (Math.log10(x) - lx0) / (lx1 - lx0)) * (W - M.l - M.r);
    const py = (y: number) => M.t + (1 - (Math.log10(y) - y0) / (y1 - y0)) * (H - M.t - M.b);
    parts.push(`<text x="${ox + W / 2}" y="16" text-anchor="middle" font-size="13">ms per step vs ${key} (median, log-log)</text>`);
    parts.push(`<rect x="${ox + M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" fill="none" stroke="#999"/>`);
    for (let e = y0; e <= y1; e++) {
      const y = py(10 ** e);
      parts.push(`<line x1="${ox + M.l}" x2="${ox + W - M.r}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
      parts.push(`<text x="${ox + M.l - 4}" y="${y + 4}" text-anchor="end">${10 ** e >= 1 ? 10 ** e : (10 ** e).toFixed(-e)}</text>`);
    }
    for (const x of xs) {
      parts.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${H - M.b}" y2="${H - M.b + 4}" stroke="#999"/>`);
      parts.push(`<text x="${px(x)}" y="${H - M.b + 16}" text-anchor="middle">${x}</text>`);
    }
    parts.push(`<text x="${ox + (M.l + W - M.r) / 2}" y="${H - 6}" text-anchor="middle">${key} (log scale)</text>`);
    systems.forEach((sys, s) => {
      const line = points.filter((r) => label(r) === sys).sort((a, b) => a[key]! - b[key]!);
      if (line.length === 0) return;
      const color = COLORS[s % COLORS.length];
      parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${line.map((r) => `${px(r[key]!).toFixed(1)},${py(r.step_ms_p50!).toFixed(1)}`).join(' ')}"/>`);
      for (const r of line) parts.push(`<circle cx="${px(r[key]!).toFixed(1)}" cy="${py(r.step_ms_p50!).toFixed(1)}" r="3" fill="${color}"><title>${esc(sys)}: ${r.batch} x ${r.steps} x ${r.units}: ${r.step_ms_p50} ms</title></circle>`);
    });
  });
  systems.forEach((sys, s) => {
    const y = H + 12 + s * 16;
    parts.push(`<line x1="${M.l}" x2="${M.l + 24}" y1="${y}" y2="${y}" stroke="${COLORS[s % COLORS.length]}" stroke-width="2"/>`);
    parts.push(`<text x="${M.l + 30}" y="${y + 4}">${esc(sys)} (${esc(sweep.find((r) => label(r) === sys)!.adapter)})</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** Reads the JSON lines of an earlier --json run (other lines are ignored). */
export function readRecords(file: string): BenchRecord[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim().startsWith('{')).map((l) => JSON.parse(l) as BenchRecord).filter((r) => typeof r.system === 'string' && typeof r.mode === 'string');
}
