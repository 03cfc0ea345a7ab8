// A model's trainable state on the GPU and its host copy: every parameter, its gradient and Adam's two moments in four
// flat buffers carved by one table (parameters.ts), Adam's config and schedule, and clipping's buffers once a call
// asks for clipping. The host copy (what weights(), parameter() and save() give) is replaced only as a whole: by an
// upload, or by a read-back of the whole GPU state, so a failed read leaves it consistent.
import { BufferSet, withErrorScopes } from '../gpu/buffers.js';
import type { Program } from '../gpu/shader.js';
import { ADAM_CONFIG_BYTES, ADAM_SCHEDULE_BYTES, adamConfigBytes, type AdamConfig } from '../kernels/adam.js';
import { CLIP_CONFIG_BYTES, CLIP_STATE_BYTES, clipByGlobalNorm, clipConfigBytes } from '../kernels/clip.js';
import type { Weights } from './batch.js';
import { downloadState, flatTable, uploadState, type HostState, type TableEntry } from './parameters.js';

/** The model's flat buffers. */
export type ModelBuffers = Record<'params' | 'grads' | 'm' | 'v' | 'adamConfig' | 'adamSchedule', GPUBuffer>;

/** Clipping by global norm over the flat gradient buffer (shaders/clip.wgsl), bound to one model's buffers. */
export interface Clipping {
  state: GPUBuffer; // [2]: the norm before clipping of the last step, and its factor
  /** The three dispatches, between a step's backward pass and Adam. */
  encode: (pass: GPUComputePassEncoder) => void;
}

export class ModelState {
  readonly entries: TableEntry[];
  readonly total: number;
  readonly buffers: ModelBuffers;
  /** The host copy: replaced only as a whole (upload or a read-back of everything). */
  host: HostState;
  /** Steps the GPU has taken as far as this host knows: ahead of host.schedule[0] until the next read-back. */
  stepsRun: number;
  private readonly owned: BufferSet;
  private readonly byName: Map<string, TableEntry>;
  private clipping?: Promise<Clipping & { config: GPUBuffer }>;

  constructor(readonly device: GPUDevice, label: string, specs: Array<{ name: string; shape: number[] }>, host: (table: ModelState) => HostState) {
    ({ entries: this.entries, total: this.total } = flatTable(specs));
    this.byName = new Map(this.entries.map((e) => [e.name, e]));
    this.host = host(this); // the table is set: host may flatten
    this.stepsRun = this.host.schedule[0]!;
    this.owned = new BufferSet(device, label);
    const bytes = this.total * 4;
    this.buffers = {
      params: this.owned.create('params', bytes), grads: this.owned.create('grads', bytes),
      m: this.owned.create('m', bytes), v: this.owned.create('v', bytes),
      adamConfig: this.owned.create('adamConfig', ADAM_CONFIG_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
      adamSchedule: this.owned.create('adamSchedule', ADAM_SCHEDULE_BYTES),
    };
    this.upload(this.host);
  }

  /** One named tensor's slice of the parameters or of the gradients. */
  slice(which: 'params' | 'grads', name: string): GPUBufferBinding {
    const e = this.byName.get(name);
    if (!e) throw new Error(`no parameter '${name}' (have ${[...this.byName.keys()].join(', ')})`);
    return { buffer: this.buffers[which], offset: e.offset * 4, size: e.size * 4 };
  }

  /** Replaces the host copy and the GPU state with `host`. */
  upload(host: HostState): void {
    this.host = host;
    this.stepsRun = host.schedule[0]!;
    uploadState(this.device, this.buffers, host);
  }

  /** Replaces only the parameters (Adam's state is kept). */
  uploadParams(params: Float32Array): void {
    this.host = { ...this.host, params };
    this.device.queue.writeBuffer(this.buffers.params, 0, params);
  }

  /** Reads the whole GPU state back; a failed read leaves the previous host copy. */
  async download(): Promise<void> {
    this.host = await downloadState(this.device, this.buffers, this.total);
    this.stepsRun = this.host.schedule[0]!;
  }

  /** Adam's hyper-parameters for the steps encoded next. */
  setAdam(config: AdamConfig): void {
    this.device.queue.writeBuffer(this.buffers.adamConfig, 0, adamConfigBytes(config));
  }

  /** Named tensors -> the flat [total] layout. */
  flatten(weights: Record<string, ArrayLike<number>>): Float32Array {
    const flat = new Float32Array(this.total);
    for (const { name, offset } of this.entries) flat.set(weights[name]!, offset);
    return flat;
  }

  /** The flat [total] values as named tensors (copies). */
  unflatten(flat: Float32Array): Weights<Float32Array> {
    return Object.fromEntries(this.entries.map(({ name, shape, offset, size }) => [name, { shape: [...shape], data: flat.slice(offset, offset + size) }]));
  }

  /** Clipping of this model's gradients to global norm `clipNorm` for the steps encoded next; made on first use. */
  async clipper(clipNorm: number): Promise<Clipping> {
    if (!this.clipping) {
      const device = this.device;
      this.clipping = (async () => {
        const k = await clipByGlobalNorm(device, this.total);
        const b = await withErrorScopes(device, 'clipping buffers', () => ({
          config: this.owned.create('clipConfig', CLIP_CONFIG_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
          partials: this.owned.create('clipPartials', k.partials * 4),
          state: this.owned.create('clipState', CLIP_STATE_BYTES),
        }));
        const grads = this.buffers.grads;
        const work: Array<[Program, GPUBindGroup]> = [
          [k.partial, k.partial.bind(grads, b.partials)],
          [k.finish, k.finish.bind(b.config, b.partials, b.state)],
          [k.scale, k.scale.bind(b.state, grads)],
        ];
        return { config: b.config, state: b.state, encode: (pass: GPUComputePassEncoder) => { for (const [p, g] of work) p.encode(pass, g); } };
      })();
      this.clipping.catch(() => (this.clipping = undefined));
    }
    const clipping = await this.clipping;
    this.device.queue.writeBuffer(clipping.config, 0, clipConfigBytes(clipNorm));
    return clipping;
  }

  destroy(): void {
    this.owned.destroy();
  }
}
