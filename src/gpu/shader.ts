// Shader specialisation and the pipeline cache.
//
// A shader in shaders/ is WGSL with `${NAME}` placeholders and wgsl-preprocessor's `#if ${FLAG}` blocks. We split
// the file at its placeholders and hand the pieces to the preprocessor's template tag, so each kernel is compiled
// for the sizes and variants it runs with. Pipelines are cached per device on the generated source.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { GpuError } from '../errors.js';

export type Defines = Record<string, number | boolean | string>;

/** Fill a shader template: every `${NAME}` must be defined; booleans drive `#if`, numbers are substituted. */
export function specialise(template: string, defines: Defines, name = 'shader'): string {
  const strings: string[] = [];
  const values: Array<number | boolean | string> = [];
  let last = 0;
  for (const match of template.matchAll(/\$\{(\w+)\}/g)) {
    const key = match[1]!;
    if (!(key in defines)) throw new Error(`${name}: no value for \${${key}}`);
    strings.push(template.slice(last, match.index));
    values.push(defines[key]!);
    last = match.index! + match[0].length;
  }
  strings.push(template.slice(last));
  const raw = Object.assign([...strings], { raw: strings });
  return wgsl(raw as unknown as TemplateStringsArray, ...values);
}

/** A binding as the kernel sees it. 'read' buffers are bound read-only-storage. */
export type BindingKind = 'uniform' | 'uniform-dynamic' | 'read' | 'storage';

export interface Kernel {
  label: string;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  kinds: BindingKind[];
}

const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<Kernel>>>();

/** Compile (or fetch from the cache) the pipeline for one entry point of a specialised shader. */
export function kernel(device: GPUDevice, label: string, code: string, entryPoint: string, kinds: BindingKind[]): Promise<Kernel> {
  let cache = pipelineCache.get(device);
  if (!cache) pipelineCache.set(device, (cache = new Map()));
  const key = `${entryPoint}|${kinds.join(',')}|${code}`;
  let pending = cache.get(key);
  if (!pending) {
    pending = compile(device, label, code, entryPoint, kinds);
    cache.set(key, pending);
    pending.catch(() => cache!.delete(key));
  }
  return pending;
}

async function compile(device: GPUDevice, label: string, code: string, entryPoint: string, kinds: BindingKind[]): Promise<Kernel> {
  const layout = device.createBindGroupLayout({
    label,
    entries: kinds.map((kind, binding) => ({
      binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer:
        kind === 'uniform' ? { type: 'uniform' } :
        kind === 'uniform-dynamic' ? { type: 'uniform', hasDynamicOffset: true } :
        kind === 'read' ? { type: 'read-only-storage' } : { type: 'storage' },
    })),
  });
  // Scope only the synchronous calls: concurrent compiles must not see each other's errors.
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label, code });
  const pipelineLayout = device.createPipelineLayout({ label, bindGroupLayouts: [layout] });
  const scoped = device.popErrorScope();
  let pipeline: GPUComputePipeline;
  try {
    pipeline = await device.createComputePipelineAsync({ label, layout: pipelineLayout, compute: { module, entryPoint } });
  } catch (error) {
    await scoped;
    throw new GpuError(`${label}: pipeline creation failed: ${(error as Error).message}\n${await compileMessages(module, code)}`);
  }
  const validation = await scoped;
  if (validation) throw new GpuError(`${label}: ${validation.message}\n${await compileMessages(module, code)}`);
  return { label, pipeline, layout, kinds };
}

/** The compiler's messages as `line:column: message` with the offending source line. */
async function compileMessages(module: GPUShaderModule, code: string): Promise<string> {
  const info = await module.getCompilationInfo();
  const lines = code.split('\n');
  return info.messages
    .map((m) => `${m.type} at ${m.lineNum}:${m.linePos}: ${m.message}\n  ${lines[m.lineNum - 1] ?? ''}`)
    .join('\n');
}

export function bindGroup(device: GPUDevice, k: Kernel, buffers: Array<GPUBuffer | GPUBufferBinding>): GPUBindGroup {
  if (buffers.length !== k.kinds.length) throw new Error(`${k.label}: ${k.kinds.length} bindings expected, ${buffers.length} given`);
  return device.createBindGroup({
    label: k.label,
    layout: k.layout,
    entries: buffers.map((b, binding) => ({
      binding,
      resource: 'buffer' in b ? b : k.kinds[binding] === 'uniform-dynamic' ? { buffer: b, size: 16 } : { buffer: b },
    })),
  });
}

/** Workgroup counts for `n` invocations along x, folded into y when x would pass the device's per-dimension limit. */
export function grid1d(n: number, workgroupSize: number, maxPerDim = 65535): [number, number, number] {
  const groups = Math.ceil(n / workgroupSize);
  if (groups <= maxPerDim) return [groups, 1, 1];
  return [maxPerDim, Math.ceil(groups / maxPerDim), 1];
}

/** A compiled kernel with its launch size: bind buffers once, then encode as often as needed. */
export class Program {
  constructor(readonly device: GPUDevice, readonly kernel: Kernel, readonly workgroups: [number, number, number]) {}

  bind(...buffers: Array<GPUBuffer | GPUBufferBinding>): GPUBindGroup {
    return bindGroup(this.device, this.kernel, buffers);
  }

  encode(pass: GPUComputePassEncoder, group: GPUBindGroup, dynamicOffsets?: number[]): void {
    const [x, y, z] = this.workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    pass.setPipeline(this.kernel.pipeline);
    if (dynamicOffsets) pass.setBindGroup(0, group, dynamicOffsets);
    else pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, y, z);
  }
}

export async function program(device: GPUDevice, label: string, template: string, defines: Defines, entryPoint: string, kinds: BindingKind[], workgroups: [number, number, number]): Promise<Program> {
  const k = await kernel(device, label, specialise(template, defines, label), entryPoint, kinds);
  return new Program(device, k, workgroups);
}
