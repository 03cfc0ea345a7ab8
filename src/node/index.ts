// The Node entry: everything the runtime exports, with getDevice backed by Dawn instead of navigator.gpu and
// loadMnist reading the files from disk instead of fetching them.
// device.js comes first: it installs Dawn's GPU* globals (GPUBufferUsage, ...) before the runtime is evaluated.
export { getDevice, type NodeDeviceOptions } from './device.js';
export { loadMnist, mnistDirectory } from './mnist.js';
export * from '../index.js';
