// webgpu-rnn: train recurrent neural networks on the GPU through WebGPU compute shaders.
// This is the public surface; nothing here imports a Node module, so it ships to browsers as is.
//
// Reading order for newcomers: rnn.ts (the functional API) -> scheduler.ts (the unrolled RNN in command buffers,
// for a cell from cells/) -> kernels/*.ts (one per shader family in shaders/) -> gpu/ (devices, pipelines, buffers).
export { getDevice, openDevice, adapterName, adapterClass, describeAdapter, type AdapterClass, type DeviceOptions } from './gpu/device.js';
export { rnnForward, rnnBackward, releaseRnnCache, type RnnParams, type RnnForwardResult, type RnnGradients, type RnnBackwardResult } from './rnn.js';
export { RnnSchedule, type RnnShape, type RnnBindings } from './scheduler.js';
export { cells, cellOf, gru, gruResetBefore, lstm, tanh, type Cell, type CellOptions, type CellParam, type CellParams, type CellReference } from './cells/index.js';
export { liveBufferCount, BufferSet, readFloats } from './gpu/buffers.js';
export { InputError, GpuError } from './errors.js';
export { Sequential, layers, type SequentialConfig, type SequentialFitOptions, type SequentialProgress } from './model/sequential.js';
export { SequenceClassifier, type ClassifierConfig, type FitOptions, type Progress, type CheckpointOptions } from './model/classifier.js';
export type { BatchSource } from './data/source.js';
export { ImageDataset, loadMnist, mnistFromFiles, MNIST_FILES, type Mnist, type MnistOptions } from './data/dataset.js';
export { SequenceDataset, type SequenceArrays } from './data/sequences.js';
export { type SequenceBatchShape } from './kernels/data.js';
export { parseIdxImages, parseIdxLabels } from './data/idx.js';
export { encodeSafetensors, decodeSafetensors, type Tensor } from './io/safetensors.js';
export { torchModule, torchTensorShapes, toTorchStateDict, fromTorchStateDict, encodeTorchCheckpoint, decodeTorchCheckpoint, type TorchModule } from './io/torch.js';
export { matmul, colsum, matmulSplitK, colsumSplitK, splitCandidates, type MatmulShape, type SplitReduction } from './kernels/matmul.js';
export { softmaxCrossEntropy, softmaxCrossEntropyPerStep, meanSquaredError, meanSquaredErrorPerStep, softmaxRows, type LossPrograms, type MaskedLossPrograms } from './kernels/loss.js';
export { adam, adamConfigBytes, ADAM_CONFIG_BYTES, ADAM_SCHEDULE_BYTES, ADAM_DEFAULTS, type AdamConfig } from './kernels/adam.js';
export { clipByGlobalNorm, clipConfigBytes, clipPartials, CLIP_CONFIG_BYTES, CLIP_STATE_BYTES, type ClipPrograms } from './kernels/clip.js';
export { swap01 } from './kernels/layout.js';
export { Program } from './gpu/shader.js';
export { setAutotune, tuningReport, restoreTuning, variantName, candidateTiles, TILES, CPU_TILES, type Tile, type TuningMode, type TuningChoice, type Variant } from './tune.js';
export { repeatForward, repeatBackward, maskSteps, type SequenceShape } from './kernels/sequence.js';
