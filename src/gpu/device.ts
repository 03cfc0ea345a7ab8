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
const classes = new WeakMap<GPUDevice, AdapterClass>();

/**
 * 'cpu' for the software adapters (Mesa's lavapipe, SwiftShader: the GPU is a CPU, pipelines compile through LLVM at
 * about half a second each), 'gpu' otherwise. The tuner tries fewer variants on a CPU (tune.ts).
 */
export type AdapterClass = 'cpu' | 'gpu';

export function adapterClass(device: GPUDevice): AdapterClass {
  return classes.get(device) ?? 'gpu';
}

export function classify(info: GPUAdapterInfo, isFallback = false): AdapterClass {
  const text = `${info.vendor} ${info.architecture} ${info.description}`.toLowerCase();
  return isFallback || info.isFallbackAdapter || /software|swiftshader|llvmpipe|lavapipe/.test(text) ? 'cpu' : 'gpu';
}

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
  classes.set(device, classify(adapter.info, (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false));
  watchDevice(device);
  device.lost.then((info) => {
    if (info.reason !== 'destroyed') console.error(`webgpu-rnn: ${lostMessage(info)}`);
  });
  device.addEventListener('uncapturederror', (event) => {
    console.error(`webgpu-rnn: uncaptured WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message}`);
  });
  (options.log ?? console.info)(`webgpu-rnn: using adapter ${name}`);
  return device;
}

// ---- device loss ----

const watched = new WeakSet<GPUDevice>();
const lostDevices = new WeakMap<GPUDevice, GPUDeviceLostInfo>();

/** Records `device`'s loss when it happens (openDevice does this; the model does it for devices from elsewhere). */
export function watchDevice(device: GPUDevice): void {
  if (watched.has(device)) return;
  watched.add(device);
  device.lost.then((info) => lostDevices.set(device, info));
}

/** How `device` was lost, or undefined while it is not (as far as its `lost` promise has said). */
export function deviceLost(device: GPUDevice): GPUDeviceLostInfo | undefined {
  return lostDevices.get(device);
}

function lostMessage(info: GPUDeviceLostInfo): string {
  const reason = info.reason || 'unknown reason';
  return `the GPU device was lost (${reason}${info.message ? `: ${info.message}` : ''}). Its buffers, and the training ` +
    'since the last read-back, are gone: resume from the last checkpoint (npm run train -- --resume FILE) or create a ' +
    'new device and model.';
}

/** The GpuError saying that `device` was lost and what to do, or undefined while it is not lost. */
export function lostError(device: GPUDevice): GpuError | undefined {
  const info = lostDevices.get(device);
  return info && new GpuError(lostMessage(info));
}

/**
 * `error` from GPU work on `device` as the caller should see it. Work on a lost device fails with a DOMException
 * (mapAsync: AbortError, with an empty message in Dawn; OperationError elsewhere): that becomes a GpuError saying
 * the device was lost. The `lost` promise may settle just after the failure it caused: it is given a turn of the
 * event loop.
 */
export async function asGpuError(device: GPUDevice, error: unknown): Promise<unknown> {
  if (error instanceof GpuError) return error;
  const name = (error as { name?: unknown } | null)?.name;
  if (name !== 'AbortError' && name !== 'OperationError' && !lostDevices.has(device)) return error;
  if (!lostDevices.has(device)) await Promise.race([device.lost, new Promise((resolve) => setTimeout(resolve, 0))]);
  const lost = lostError(device);
  if (lost) return lost;
  const message = (error as Error).message;
  return new GpuError(`the GPU work was aborted (${String(name)}${message ? `: ${message}` : ''}); the GPU device may be lost. ` +
    'Create a new device and model, or resume from the last checkpoint (npm run train -- --resume FILE).');
}
