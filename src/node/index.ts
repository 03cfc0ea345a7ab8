// The Node entry: everything the runtime exports, with getDevice backed by Dawn instead of navigator.gpu.
// device.js comes first: it installs Dawn's GPU* globals (GPUBufferUsage, ...) before the runtime is evaluated.
export { getDevice, type NodeDeviceOptions } from './device.js';
export * from '../index.js';
