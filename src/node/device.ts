// Device acquisition in Node through Dawn (the `webgpu` npm package). Prefers a hardware adapter; without one, uses a
// software Vulkan driver: Mesa's lavapipe (Mesa 24 or later: Dawn refuses older ones) or Chromium's SwiftShader.
import { existsSync } from 'node:fs';
import { create, globals } from 'webgpu';
import { GpuError } from '../errors.js';
import { openDevice, type DeviceOptions } from '../gpu/device.js';

Object.assign(globalThis, globals); // GPUBufferUsage, GPUMapMode, GPUShaderStage ...

export interface NodeDeviceOptions extends DeviceOptions {
  /**
   * Which adapter: 'lavapipe', 'swiftshader', or a name as Dawn lists it (e.g. 'NVIDIA H100'). Defaults to the
   * WEBGPU_RNN_ADAPTER environment variable, else the best one found.
   */
  adapter?: string;
}

const ICDS = {
  lavapipe: ['/usr/share/vulkan/icd.d/lvp_icd.json', '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json', '/usr/share/vulkan/icd.d/lvp_icd.aarch64.json'],
  swiftshader: ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/lib/chromium-browser/vk_swiftshader_icd.json'],
};

// Dawn's GPU object must stay referenced while its devices are in use.
const instances: GPU[] = [];

async function tryAdapter(flags: string[], powerPreference: GPUPowerPreference): Promise<GPUAdapter | null> {
  try {
    const gpu = create(flags) as GPU;
    const adapter = await gpu.requestAdapter({ powerPreference });
    if (adapter) instances.push(gpu);
    return adapter;
  } catch {
    return null;
  }
}

/** Points the Vulkan loader at one driver for the Dawn instances created after this call. */
function useIcd(kind: keyof typeof ICDS): string | undefined {
  const file = ICDS[kind].find((f) => existsSync(f));
  if (file) process.env.VK_ICD_FILENAMES = file;
  return file;
}

/** A WebGPU device in Node, through Dawn. Throws a GpuError saying what was tried and what to install. */
export async function getDevice(options: NodeDeviceOptions = {}): Promise<GPUDevice> {
  const wanted = options.adapter ?? (process.env.WEBGPU_RNN_ADAPTER || undefined);
  const power = options.powerPreference ?? 'high-performance';
  const tried: string[] = [];
  let adapter: GPUAdapter | null = null;

  if (wanted === 'lavapipe' || wanted === 'swiftshader') {
    const icd = useIcd(wanted);
    if (!icd) throw new GpuError(`adapter '${wanted}' requested, but its Vulkan driver is not installed (looked for ${ICDS[wanted].join(', ')}). ${INSTALL_HINT}`);
    adapter = await tryAdapter([], power);
    tried.push(`${wanted} (${icd})`);
  } else if (wanted) {
    adapter = await tryAdapter([`adapter=${wanted}`], power);
    tried.push(`Dawn adapter named '${wanted}'`);
  } else {
    // Dawn ranks discrete over integrated over CPU adapters, so a hardware GPU wins when there is one.
    adapter = await tryAdapter([], power);
    tried.push(`Dawn's default adapters${process.env.VK_ICD_FILENAMES ? ` (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES})` : ''}`);
    if (!adapter && !process.env.VK_ICD_FILENAMES) {
      for (const kind of ['lavapipe', 'swiftshader'] as const) {
        const icd = useIcd(kind);
        if (!icd) { tried.push(`${kind} (not installed)`); continue; }
        adapter = await tryAdapter([], power);
        tried.push(`${kind} (${icd})`);
        if (adapter) break;
      }
    }
  }
  if (!adapter) {
    throw new GpuError(`no WebGPU adapter found. Tried: ${tried.join('; ')}. ${INSTALL_HINT}`);
  }
  return openDevice(adapter, options);
}

const INSTALL_HINT =
  'Install a GPU driver with Vulkan support, or a software one: on Debian 12, Mesa 24+ from bookworm-backports ' +
  '(apt-get install -t bookworm-backports mesa-vulkan-drivers), or Chromium for its SwiftShader (apt-get install chromium). ' +
  'Pick one with WEBGPU_RNN_ADAPTER=lavapipe|swiftshader|<adapter name>.';
