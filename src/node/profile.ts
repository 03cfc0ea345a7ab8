// `npm run bench -- --profile`: where the time of the RNN's forward and backward pass goes, phase by phase, on the
// Node adapter. The schedule is the one training uses (RnnSchedule, variants chosen by the autotuner); each phase
// (scheduler.ts, RnnSchedule.phases) is timed alone with the tuner's timer: the fastest of a few runs after a warm-up.
import { cellOf } from '../cells/index.js';
import { adapterName } from '../gpu/device.js';
import { BufferSet } from '../gpu/buffers.js';
import { Random } from '../random.js';
import { RnnSchedule } from '../scheduler.js';
import { setAutotune, timeKernel, tuningReport, variantName } from '../tune.js';
import { benchMatmul, round, type ModelSize } from './bench-core.js';
import { getDevice } from './device.js';

export interface PhaseRecord {
  mode: 'profile';
  /** The rnn's cell (tanh, lstm, gru). */
  cell: string;
  phase: string;
  ms: number;
  /** This phase's share of the sum of all phases. */
  share: number;
  /** Its arithmetic rate; null for phases that only move data. */
  gflops: number | null;
  batch: number;
  steps: number;
  units: number;
  inputs: number;
  adapter: string;
  date: string;
}

/** Times each phase of a forward + backward pass of a `size` RNN (28 inputs a step; its cell, tanh if none) on `device`. */
export async function profileRnn(device: GPUDevice, size: ModelSize, inputs = 28): Promise<{ records: PhaseRecord[]; tuning: string[] }> {
  const { batch: B, steps: T, units: H } = size;
  const I = inputs;
  const cell = cellOf(size.cell ?? 'tanh');
  const p = cell.params(I, H), count = (shape: readonly number[]) => shape.reduce((a, n) => a * n, 1);
  const set = new BufferSet(device, 'profile');
  try {
    const random = new Random(1);
    const filled = (name: string, n: number, limit: number) => {
      const buffer = set.create(name, n * 4);
      device.queue.writeBuffer(buffer, 0, random.uniform(n, limit));
      return { buffer };
    };
    const lengths = set.create('lengths', B * 4);
    device.queue.writeBuffer(lengths, 0, new Int32Array(B).fill(T));
    const schedule = await RnnSchedule.create(device, { batch: B, steps: T, inputs: I, units: H }, {
      x: filled('x', T * B * I, 1), wx: filled('wx', count(p.wx), 0.15), wh: filled('wh', count(p.wh), 0.15), b: filled('b', count(p.b), 0.1),
      ...(p.bh ? { bh: filled('bh', count(p.bh), 0.1) } : {}),
      lengths: { buffer: lengths },
      grads: {
        dwx: { buffer: set.create('dwx', count(p.wx) * 4) }, dwh: { buffer: set.create('dwh', count(p.wh) * 4) }, db: { buffer: set.create('db', count(p.b) * 4) },
        ...(p.bh ? { dbh: { buffer: set.create('dbh', count(p.bh) * 4) } } : {}),
      },
    }, cell);
    try {
      const times: Array<{ name: string; flops: number; ms: number }> = [];
      for (const p of schedule.phases()) times.push({ name: p.name, flops: p.flops, ms: await timeKernel(device, p.encode, 3) });
      const total = times.reduce((a, t) => a + t.ms, 0);
      const flops = times.reduce((a, t) => a + t.flops, 0);
      const date = new Date().toISOString();
      const base = { mode: 'profile' as const, cell: cell.name, batch: B, steps: T, units: H, inputs: I, adapter: adapterName(device), date };
      const records: PhaseRecord[] = times.map((t) => ({
        ...base, phase: t.name, ms: round(t.ms), share: round(t.ms / total, 3), gflops: t.flops > 0 ? round(t.flops / t.ms / 1e6, 3) : null,
      }));
      records.push({ ...base, phase: 'sum', ms: round(total), share: 1, gflops: round(flops / total / 1e6, 3) });
      const tuning = tuningReport(device).map((c) => `${c.kernel}: ${variantName(c.variant)}`);
      return { records, tuning };
    } finally {
      schedule.destroy();
    }
  } finally {
    set.destroy();
  }
}

/** The profile as a text table, with the ceiling's line when there is one. */
export function formatProfile(records: PhaseRecord[], ceiling?: Ceiling): string {
  const first = records[0];
  if (!first) return '';
  const head = `RNN forward + backward, batch ${first.batch}, ${first.steps} steps, ${first.inputs} inputs, ${first.units} ${first.cell} units, on ${first.adapter}`;
  const rows = [['phase', 'ms', 'share', 'GFLOP/s'], ...records.map((r) => [r.phase, r.ms.toFixed(r.ms < 10 ? 2 : 1), `${(r.share * 100).toFixed(1)}%`, r.gflops === null ? '-' : r.gflops.toFixed(2)])];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  const sum = records.at(-1)!;
  const tail = ceiling && sum.gflops !== null
    ? [`matmul ${ceiling.size}^3 on the same adapter: ${ceiling.gflops.toFixed(2)} GFLOP/s; the phases together reach ${(sum.gflops / ceiling.gflops * 100).toFixed(1)}% of it`]
    : [];
  return [head, line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line), ...tail].join('\n') + '\n';
}

/** The adapter's ceiling beside the profile: the 1024^3 matmul of `npm run bench`. */
export interface Ceiling {
  size: number;
  gflops: number;
}

/**
 * `npm run bench -- --profile`: tunes as training does, times each phase, and (unless `matmulSize` is 0) the square
 * matmul as the adapter's ceiling. Needs no data set: the one benchmark to run first on a newly lent GPU.
 */
export async function runProfile(size: ModelSize, adapter: string | undefined, matmulSize: number, log: (line: string) => void): Promise<{ records: PhaseRecord[]; tuning: string[]; ceiling?: Ceiling }> {
  const device = await getDevice({ adapter, log: (l) => log(`node: ${l}`) });
  try {
    setAutotune(device, 'measure', { log: (l) => log(`node: ${l}`) }); // as `npm run train` does
    log(`node: profiling batch ${size.batch}, ${size.steps} steps, ${size.units} ${size.cell ?? 'tanh'} units (tuning first)`);
    const profile = await profileRnn(device, size);
    if (matmulSize === 0) return profile;
    const m = await benchMatmul(device, matmulSize, 3, (l) => log(`node: ${l}`));
    return { ...profile, ceiling: { size: m.size, gflops: m.gflops } };
  } finally {
    device.destroy();
  }
}
