// Device acquisition in the browser, and the set-up every device gets (limits raised to the adapter's, lost and
// uncaptured errors made visible). The Node entry (src/node/device.ts) finds an adapter through Dawn, then calls
// openDevice like this file does.
import { GpuError } from '../errors.js';

export interface DeviceOptions {
  powerPreference?: GPUPowerPreference;
  /** Called with one line naming the adapter; defaults to console.info. Pass () => {} for silence. */
  log?: (line: string) => void;
}

const adapters = new WeakMap<GPUDevice, string>();

/** "vendor/architecture (description)" of the adapter a device came from, as it was reported when opened. */
export function adapterName(device: GPUDevice): string {
  return adapters.get(device) ?? 'unknown adapter';
}

export function describeAdapter(adapter: GPUAdapter): string {
  const info = adapter.info;
  const id = [info.vendor, info.architecture].filter(Boolean).join('/') || 'unknown';
  return info.description ? `${id} (${info.description})` : id;
}

/** A WebGPU device from the browser's navigator.gpu. */
export async function getDevice(options: DeviceOptions = {}): Promise<GPUDevice> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) {
    throw new GpuError('WebGPU is not available here (navigator.gpu is missing). Use a browser with WebGPU: ' +
      'Chrome or Edge 113+, Safari 26+, Firefox 141+ (Windows), or Chromium with --enable-unsafe-webgpu; ' +
      "in Node, import getDevice from 'webgpu-rnn/node'.");
  }
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) {
    throw new GpuError('navigator.gpu.requestAdapter() found no adapter: WebGPU is present but no GPU can be used. ' +
      'Check that hardware acceleration is on (chrome://gpu) or start Chrome with --enable-unsafe-webgpu.');
  }
  return openDevice(adapter, options);
}

/** Opens a device with the adapter's storage limits (the data set and large batches need more than the defaults). */
export async function openDevice(adapter: GPUAdapter, options: DeviceOptions = {}): Promise<GPUDevice> {
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    label: 'webgpu-rnn',
    requiredLimits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxStorageBuffersPerShaderStage: Math.min(l.maxStorageBuffersPerShaderStage, 10),
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    },
  });
  const name = describeAdapter(adapter);
  adapters.set(device, name);
  device.lost.then((info) => {
    if (info.reason !== 'destroyed') console.error(`webgpu-rnn: the GPU device was lost (${info.reason}): ${info.message}. Reload or create a new device.`);
  });
  device.addEventListener('uncapturederror', (event) => {
    console.error(`webgpu-rnn: uncaptured WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message}`);
  });
  (options.log ?? console.info)(`webgpu-rnn: using adapter ${name}`);
  return device;
}
